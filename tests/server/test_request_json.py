"""request.json over real sockets (tests/apps/jsondec.py): the C decoder gives what the Python
path gives (request_helpers.get_json, which reads request.text and calls json.loads) for
every body, value or error, and it is the C decoder that answers for UTF-8 JSON: the Python
path runs (json.loads is called) only for another charset or a body the decoder leaves to it.
The unit tests of the decoder itself are tests/test_jsondecode.py.

One server per loop serves the module (as in test_json.py); each test opens its own
connections.
"""

import json
import sys

import pytest
from conftest import LOOPS, launch
from hypothesis import given, settings
from hypothesis import strategies as st
from wire import Conn, build_request, chunked

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module", params=LOOPS)
def server(request, tmp_path_factory):
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    srv = launch("jsondec", request.param, tmp_path_factory.mktemp(f"jsondec-{request.param}"))
    yield srv
    problems = srv.stop()
    assert problems == [], f"{problems}\nstderr:\n{srv.stderr_tail()}"


def probe_all(server, bodies, content_type="application/json", extra=()):
    """POSTs each body to /probe, pipelined on one connection; returns the reports."""
    headers = [("Content-Type", content_type)] if content_type else []
    headers += list(extra)
    with Conn(server.port) as c:
        c.send(b"".join(build_request("POST", "/probe", headers, body=b) for b in bodies))
        responses = c.responses(len(bodies))
    out = []
    for b, r in zip(bodies, responses):
        assert r.status == 200, (b, r)
        report = r.json()
        assert report["again_same"], (b, report)  # cached, or the same error again
        out.append(report)
    return out


def probe(server, body, content_type="application/json"):
    return probe_all(server, [body], content_type)[0]


VALUES = [
    {"id": 4242, "name": "benchmark", "tags": ["alpha", "beta"], "active": True, "score": 97.5},
    [None, True, False, 0, -0, -0.0, 1.5, 1e400, -1e400, 10**30, -(2**63), "", "x"],
    {"a": 1, "b": {"c": [1, 2, {"d": None}]}, "": [], "e": {}},
    "é€😀 and \u2028",
    {"ké": "vé", "ключ": "значение", "鍵": "値", "emoji😀": "😀"},
    ['"\\/\b\f\n\r\t\x00\x1f\x7f', "\ud7ff\ue000\uffff\U00010000\U0010ffff"],
    [[[[[[[[[[["deep"]]]]]]]]]]],
    12345678901234567890123456789012345678901234567890,
    0.1,
]


def encodings(value):
    yield json.dumps(value).encode()  # ASCII, escapes for the rest
    yield json.dumps(value, ensure_ascii=False).encode()  # raw UTF-8
    yield json.dumps(value, indent=4, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON; Charset=UTF-8",
        "application/json; charset=utf8",
        'application/json; charset="utf-8"',
        "text/plain",
    ],
)
def test_utf8_bodies_are_decoded_in_c_as_json_loads_would(server, content_type):
    bodies = [b for v in VALUES for b in encodings(v)]
    bodies += [b"NaN", b"[Infinity, -Infinity]", b' {"a" : 1 , "a" : 2 } ', b'"\\ud83d\\ude00"']
    for body, report in zip(bodies, probe_all(server, bodies, content_type)):
        assert report["json"] == report["today"], body
        assert report["json"][0] == "ok", (body, report)
        assert report["json"][1] == repr(json.loads(body.decode())), body
        assert not report["fallback"], (body, content_type)


def test_no_body_and_an_empty_one(server):
    with Conn(server.port) as c:
        # Content-Length: 0 is no body (None); a chunked upload of no bytes is b"" (None too).
        c.send(build_request("POST", "/probe", body=b""))
        c.send(
            build_request("POST", "/probe", [("Transfer-Encoding", "chunked")], body=b"0\r\n\r\n")
        )
        for r in c.responses(2):
            report = r.json()
            assert report["json"] == report["today"] == ["ok", "None"]
            assert not report["fallback"]


def test_chunked_uploads(server):
    value = {"items": [{"sku": f"SKU-{i:05}", "qty": i, "price": i * 1.25} for i in range(50)]}
    body = json.dumps(value, ensure_ascii=False).encode()
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
    with Conn(server.port) as c:
        c.send(
            build_request(
                "POST",
                "/probe",
                [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
                body=chunked(*pieces),
            )
        )
        report = c.response().json()
    assert report["json"] == report["today"] == ["ok", repr(value)]
    assert not report["fallback"]
    # A multi-byte character split across chunks.
    raw = '["é€😀"]'.encode()
    with Conn(server.port) as c:
        c.send(
            build_request(
                "POST",
                "/probe",
                [("Transfer-Encoding", "chunked")],
                body=chunked(*[raw[i : i + 1] for i in range(len(raw))]),
            )
        )
        report = c.response().json()
    assert report["json"] == report["today"] == ["ok", repr(["é€😀"])]
    assert not report["fallback"]


def test_other_charsets_keep_the_python_path(server):
    utf8 = '{"k": "é"}'.encode()
    report = probe(server, utf8, "application/json; charset=latin-1")
    # Read as latin-1, as request.text reads it: the two UTF-8 bytes are two characters.
    assert report["json"] == report["today"] == ["ok", repr({"k": "Ã©"})]
    assert report["fallback"]
    report = probe(server, '{"k": "é"}'.encode("utf-16"), "application/json; charset=utf-16")
    assert report["json"] == report["today"] == ["ok", repr({"k": "é"})]
    assert report["fallback"]
    report = probe(server, b"[1]", "application/json; charset=no-such")
    assert report["json"] == report["today"]
    assert report["json"][:2] == ["error", "BodyDecodeError"], report
    assert "unknown charset" in report["json"][2]


INVALID = [
    b"{bad",
    b"[1,",
    b"[1,]",
    b'{"a":1,}',
    b"{} {}",
    b"nul",
    b'"a',
    b"01",
    b"1.",
    b"-",
    b"  ",
    b'"a\tb"',
    b'"\\x"',
    b'"\\u12"',
    b"\xef\xbb\xbf[1]",  # BOM
    b'"\xff"',  # not UTF-8
    b"\xff\xfe",
    b'"\xed\xa0\x80"',  # an encoded surrogate
    b"[" * 100000,  # json.loads: RecursionError, reported as JSONBodyError
    b"1" * 5000,  # past int-max-str-digits: a ValueError from int()
]

# Valid JSON nested 5,000 deep, past the decoder's own limit. What json.loads does with it
# depends on the interpreter: a RecursionError up to CPython 3.12, the value from 3.13 on
# (its C recursion limit is higher). request.json must do the same as json.loads here.
DEEP = b"[" * 5000 + b"]" * 5000


def test_invalid_bodies_give_todays_errors(server):
    for body, report in zip(INVALID, probe_all(server, INVALID)):
        assert report["json"] == report["today"], (body[:40], report)
        assert report["json"][0] == "error", (body[:40], report)
        try:
            body.decode()
        except UnicodeDecodeError:
            continue  # request.text raises before json.loads is called: nothing to count
        assert report["fallback"], body[:40]


def test_a_deep_body_gives_what_json_loads_gives(server):
    report = probe(server, DEEP)
    assert report["json"] == report["today"], report
    if report["json"][0] == "error":
        assert report["json"][1] == "JSONBodyError", report
        assert "nested too deeply" in report["json"][2], report
    else:
        assert report["json"] == ["ok", repr(json.loads(DEEP))]
    assert report["fallback"]


def test_an_integer_past_the_digit_limit(server):
    # The decoder gives up on it (PyLong_FromString's ValueError); json.loads raises a bare
    # ValueError; request.json says JSONBodyError, as for any body it cannot read.
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if not limit:
        pytest.skip("this CPython has no int_max_str_digits limit")
    ok, big = probe_all(server, [b"[" + b"9" * limit + b"]", b"[" + b"9" * (limit + 1) + b"]"])
    assert ok["json"] == ["ok", repr([int("9" * limit)])], ok["json"][:2]
    assert big["json"][:2] == ["error", "JSONBodyError"], big["json"]
    # (Python's own words vary: "the limit (4300 digits)" on 3.11, "(4300)" on 3.9)
    assert "cannot be read as JSON" in big["json"][2] and f"({limit}" in big["json"][2]
    assert big["fallback"]


def test_valid_bodies_left_to_the_python_path(server):
    # Valid JSON the decoder does not take: lone surrogates, nesting past its limit.
    bodies = [b'"\\ud800"', b'["x", {"k": "\\udfff"}]', b"[" * 250 + b"]" * 250]
    for body, report in zip(bodies, probe_all(server, bodies)):
        assert report["json"] == report["today"], body[:40]
        assert report["json"] == ["ok", repr(json.loads(body))], body[:40]
        assert report["fallback"], body[:40]


def test_echo_answers_as_today(server):
    # Response(json=request.json) and Response(json=get_json(request)): the same response,
    # for a value and for every kind of error (the app's own error response).
    bodies = [json.dumps(v).encode() for v in VALUES] + INVALID + [DEEP]
    answers = {}
    for target in ("/echo", "/today"):
        answers[target] = []
        for body in bodies:
            with Conn(server.port) as c:
                c.send(build_request("POST", target, body=body))
                r = c.response()
                answers[target].append((r.status, r.header("Content-Type"), r.body))
    assert answers["/echo"] == answers["/today"]
    # Every invalid body is an error (so is the list with infinities, which Response(json=)
    # refuses to write). DEEP, last, is answered as json.loads and json.dumps answer it.
    assert all(status == 500 for status, _, _ in answers["/echo"][-len(INVALID) - 1 : -1])
    deep_ok = answers["/echo"][-1][0] == 200
    assert sum(status == 200 for status, _, _ in answers["/echo"]) == len(VALUES) - 1 + deep_ok


def test_keys_over_many_requests(server):
    # Object keys are cached across requests by the decoder: many keys, some colliding,
    # pipelined, each request seeing exactly its own.
    bodies = []
    for i in range(120):
        doc = {f"name{i}": i, "acb": i, "adb": -i, f"{'x' * (i % 40)}": [i], "sku": f"S{i}"}
        bodies.append(json.dumps(doc).encode())
    for body, report in zip(bodies, probe_all(server, bodies)):
        assert report["json"] == ["ok", repr(json.loads(body))]
        assert not report["fallback"]


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
)
DOCS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",)), max_size=6), inner)
    ),
    max_leaves=25,
)


@settings(max_examples=60, deadline=None)
@given(value=DOCS, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 1]))
def test_generated_bodies(server, value, ensure_ascii, indent):
    body = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent).encode()
    report = probe(server, body)
    assert report["json"] == report["today"] == ["ok", repr(json.loads(body))]
    assert not report["fallback"]
