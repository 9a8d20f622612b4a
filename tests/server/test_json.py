"""Response(json=...) over a real socket: the bodies the C encoder writes (json.c) are the
standard library's compact json.dumps output, byte for byte, for strings needing every escape
at every position and length, non-ASCII, non-str keys, subclasses, big ints, floats and
nesting on both sides of the encoder's depth limit (tests/apps/jsonenc.py serves them); and
the Date line of the 200 fast path follows the clock on a kept-alive connection.

One server per loop serves the module (as in test_properties.py); each test opens its own
connections.
"""

import email.utils
import json
import sys
import time
from pathlib import Path

import pytest
from conftest import LOOPS, launch
from hypothesis import given, settings
from hypothesis import strategies as st
from wire import Conn, build_request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "apps"))
from _json_cases import CASES, FAILING, MAX_LEN, expected, strings_of_length  # noqa: E402

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module", params=LOOPS)
def server(request, tmp_path_factory):
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    srv = launch("jsonenc", request.param, tmp_path_factory.mktemp(f"json-{request.param}"))
    yield srv
    problems = srv.stop()
    assert problems == [], f"{problems}\nstderr:\n{srv.stderr_tail()}"


def fetch_all(server, targets, batch=100):
    """GET every target on one kept-alive connection, pipelined `batch` at a time."""
    out = []
    with Conn(server.port) as c:
        for i in range(0, len(targets), batch):
            part = targets[i : i + batch]
            c.send(b"".join(build_request("GET", t) for t in part))
            out.extend(c.responses(len(part)))
    return out


def check_json(r, value, what):
    assert r.status == 200, (what, r)
    assert r.header("Content-Type") == "application/json", (what, r)
    assert r.body == expected(value), what
    assert r.header("Content-Length") == str(len(r.body)), what


def test_strings_of_every_length_in_lists_and_as_keys(server):
    targets = [f"/strings/{n}" for n in range(MAX_LEN + 1)]
    targets += [f"/keys/{n}" for n in range(MAX_LEN + 1)]
    responses = fetch_all(server, targets)
    for n in range(MAX_LEN + 1):
        strings = strings_of_length(n)
        check_json(responses[n], strings, f"strings of length {n}")
        keys = {s: i for i, s in enumerate(strings)}
        check_json(responses[MAX_LEN + 1 + n], keys, f"keys of length {n}")


def test_strings_as_the_whole_body(server):
    # Short strings take the encoder's sub-word paths; every one, alone as the body.
    targets, values = [], []
    for n in range(17):
        for i, s in enumerate(strings_of_length(n)):
            targets.append(f"/top/{n}/{i}")
            values.append(s)
    for r, v in zip(fetch_all(server, targets, batch=200), values):
        check_json(r, v, repr(v))


def test_the_values_the_stdlib_handles_or_the_c_encoder_hands_over(server):
    names = list(CASES)
    for name, r in zip(names, fetch_all(server, [f"/case/{n}" for n in names])):
        check_json(r, CASES[name], name)


def test_what_cannot_be_encoded_is_a_500(server):
    # NaN and infinities are refused (RFC 8259 has none), lone surrogates have no UTF-8.
    names = list(FAILING)
    # Each on its own connection: an error answer may close it.
    for name in names:
        with Conn(server.port) as c:
            c.send(build_request("GET", f"/case/{name}"))
            assert c.response().status == 500, name


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**100), max_value=2**100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",)))
    | st.text(alphabet=st.characters(max_codepoint=0x5F)),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=10), inner, max_size=5
        )
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(value=JSON)
def test_echoed_json_is_what_the_stdlib_writes(server, value):
    body = json.dumps(value).encode()  # ASCII on the way in, any JSON text would do
    with Conn(server.port) as c:
        c.send(build_request("POST", "/echo", [("Content-Type", "application/json")], body=body))
        r = c.response()
    if value is None:  # json=None means no body
        assert r.status == 200 and r.body == b""
        return
    check_json(r, json.loads(body), value)


def test_date_follows_the_clock_on_a_kept_alive_connection(server):
    # The 200 fast path copies the cached Date line, refreshed once a second per batch: a
    # request sent in a later second must carry a later Date on the same connection.
    def date_of(r):
        return email.utils.parsedate_to_datetime(r.header("Date")).timestamp()

    with Conn(server.port) as c:
        c.send(build_request("GET", "/case/top-true"))
        first = c.response()
        check_json(first, True, "first")
        t0 = date_of(first)
        # Past the next second boundary of the server's clock (the same clock as ours).
        time.sleep(max(0.0, t0 + 1.05 - time.time()))
        c.send(build_request("GET", "/case/top-true"))
        second = c.response()
        check_json(second, True, "second")
        assert date_of(second) >= t0 + 1, (first.header("Date"), second.header("Date"))
        assert len(second.header_all("Date")) == 1
