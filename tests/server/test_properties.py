"""Property-based tests over a real socket: hypothesis makes requests (methods, percent-encoded
paths, raw query strings, header fields with repeats, bodies with Content-Length or chunked in
random chunks), sends them raw, pipelined and cut into random pieces, to the echo app
(tests/apps/echo.py), and checks that the handler saw exactly what was sent.

One echo server per loop serves the whole module (a module-scoped fixture): each example opens
its own connection, so examples cannot disturb each other, and a server that crashed fails
every later example and the fixture's teardown.
"""

import re
from urllib.parse import quote

import pytest
from conftest import LOOPS, launch
from hypothesis import given, settings
from hypothesis import strategies as st
from wire import Conn, build_request, chunked

pytestmark = pytest.mark.timeout(120)

TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Fields that change how the request is framed or answered; the test sets Host and the framing
# itself, and the others would turn a request into something else (417, a closed connection).
RESERVED = {"host", "content-length", "transfer-encoding", "connection", "expect", "upgrade"}
# Field-value bytes (RFC 9110 field-vchar, obs-text included), sent as latin-1.
VCHAR = "".join(chr(c) for c in range(0x21, 0x7F)) + "".join(chr(c) for c in range(0x80, 0x100))
# Characters a path segment may carry unencoded besides the unreserved ones (RFC 3986 pchar).
PCHAR_EXTRA = "!$&'()*+,;=:@"
# What a query may hold besides percent-escapes: pchar, '/' and '?'.
QCHAR = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + PCHAR_EXTRA + "/?"


@pytest.fixture(scope="module", params=LOOPS)
def echo_server(request, tmp_path_factory):
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    server = launch("echo", request.param, tmp_path_factory.mktemp(f"echo-{request.param}"))
    yield server
    problems = server.stop()
    assert problems == [], f"{problems}\nstderr:\n{server.stderr_tail()}"


methods = st.text(TCHAR, min_size=1, max_size=12).filter(lambda m: m not in ("HEAD", "CONNECT"))


@st.composite
def paths(draw):
    """(raw target path, the segments it encodes). The echo app routes up to five
    placeholders; a placeholder never matches an empty segment, so none is empty."""
    segments = draw(
        st.lists(
            st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
            max_size=5,
        )
    )
    safe = draw(st.text(PCHAR_EXTRA, max_size=len(PCHAR_EXTRA)))
    lower_hex = draw(st.booleans())
    encoded = []
    for seg in segments:
        e = quote(seg, safe=safe)
        if lower_hex:
            e = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), e)
        encoded.append(e)
    return "/" + "/".join(encoded), segments


queries = st.none() | st.lists(
    st.sampled_from(QCHAR) | st.integers(0, 255).map(lambda b: f"%{b:02X}"), max_size=30
).map("".join)


@st.composite
def header_fields(draw):
    names = draw(
        st.lists(
            st.text(TCHAR, min_size=1, max_size=12).filter(lambda n: n.lower() not in RESERVED),
            min_size=1,
            max_size=4,
        )
    )
    value = st.text(VCHAR + " \t", max_size=24).map(lambda v: v.strip(" \t"))
    # Few names, many fields: names repeat, in any order.
    return draw(st.lists(st.tuples(st.sampled_from(names), value), max_size=12))


@st.composite
def bodies(draw):
    """(framing headers, body bytes on the wire, the body the handler must see)."""
    body = draw(st.none() | st.binary(max_size=2000))
    framing = draw(st.sampled_from(["length", "chunked"]))
    if body is None:
        return [], b"", None
    if framing == "length":
        return [("Content-Length", str(len(body)))], body, body or None
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=6)))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)])]
    # A chunked upload of no bytes is still a body: b"" (Content-Length: 0 is none: None).
    return [("Transfer-Encoding", "chunked")], chunked(*pieces), body


def title(name):
    """Title-Case as the request gives header names: a letter first or after '-' upper."""
    return re.sub(r"(^|-)([a-z])", lambda m: m.group(1) + m.group(2).upper(), name.lower())


@st.composite
def requests(draw):
    method = draw(methods)
    path, segments = draw(paths())
    query = draw(queries)
    fields = draw(header_fields())
    framing, wire_body, body = draw(bodies())
    target = path if query is None else f"{path}?{query}"
    raw = build_request(method, target, fields + framing) + wire_body
    expected = {
        "method": method,
        "path": "/" + "/".join(segments),
        "match_dict": {f"s{i}": s for i, s in enumerate(segments)},
        "query_string": query,
        "raw_headers": [["Host", "127.0.0.1"]] + [[title(k), v] for k, v in fields + framing],
        "body": body,
    }
    return raw, expected


def seen(got):
    return {
        "method": got["method"],
        "path": got["path"],
        "match_dict": got["match_dict"],
        "query_string": got["query_string"],
        "raw_headers": got["raw_headers"],
        "body": None if got["body_is_none"] else got["body"].encode("latin-1"),
    }


@settings(max_examples=150, deadline=None)
@given(batch=st.lists(requests(), min_size=1, max_size=3), data=st.data())
def test_the_handler_sees_exactly_what_was_sent(echo_server, batch, data):
    raw = b"".join(r for r, _ in batch)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=3), label="cuts"))
    parts = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
    with Conn(echo_server.port) as c:
        c.send_split(parts, pause=0.001)
        responses = c.responses(len(batch))
    for (_, expected), r in zip(batch, responses):
        assert r.status == 200, r
        got = r.json()
        assert seen(got) == expected
        assert got["keep_alive"] is True and got["version"] == "1.1"
