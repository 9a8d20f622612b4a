"""The connection's header array starts small and grows on demand.

A connection's parser starts with room for PROTOCOL_HEADERS_INITIAL (32) field lines and
doubles its array, up to max_headers (100 by default), when a head has more (protocol.c,
protocol_grow_headers); the array then stays grown for the connection's life. Here, heads with
field counts around every boundary (31, 32, 33, 64, 99, 100 and 101 lines) are sent whole,
byte by byte, split where the growth happens, and pipelined among normal requests, and the
handler (tests/apps/headers.py) answers every field line it saw: every name and value must be
there, in order, so that a request reading a stale or half-copied array shows. 101 lines must
still be the same 431 as before. Every test runs on both loops and on both parser paths
(JAPRONTO_SIMD=scalar, and the CPU's best); in the Makefile's second run on the loops' own
transports (JAPRONTO_IO=transport), which is about the other I/O path feeding the same parser,
on the CPU's best alone.
"""

import os

import pytest
from wire import build_request

pytestmark = pytest.mark.timeout(120)

INITIAL = 32  # PROTOCOL_HEADERS_INITIAL in protocol.c
MAX = 100  # the default max_headers
COUNTS = [INITIAL - 1, INITIAL, INITIAL + 1, 2 * INITIAL, MAX - 1, MAX, MAX + 1]


LEVELS = ["default"] if os.environ.get("JAPRONTO_IO") == "transport" else ["default", "scalar"]


@pytest.fixture(params=LEVELS)
def hdr(request, start_server):
    env = {"JAPRONTO_SIMD": "scalar"} if request.param == "scalar" else {}
    return start_server("headers", env=env)


def head(n: int, tag: str, target: str = "/h") -> tuple[bytes, list[list[str]]]:
    """A GET of exactly n field lines (Host first), and the [name, value] pairs the handler
    must see. Names and values carry tag, so that one request's fields cannot pass for
    another's; some values have spaces or OWS, some names repeat, and lengths vary."""
    fields = [["Host", "127.0.0.1"]]
    for i in range(1, n):
        if i % 10 == 0:
            fields.append(["X-Repeat", f"{tag}-r{i}"])
        else:
            fields.append([f"X-{tag}-{i:03d}", f"{tag} value {i} " + "v" * (i % 13 + 1)])
    lines = [f"GET {target} HTTP/1.1"]
    for k, (name, value) in enumerate(fields):
        # Optional whitespace around some values: not part of the value.
        lines.append(f"{name}:  {value}\t" if k % 7 == 3 else f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), fields


def growth_point(req: bytes, lines: int = INITIAL) -> int:
    """The offset of the first byte of field line lines + 1: where the array is full."""
    pos = req.index(b"\r\n") + 2  # past the request line
    for _ in range(lines):
        pos = req.index(b"\r\n", pos) + 2
    return pos


def check(resp, n: int, fields) -> None:
    if n <= MAX:
        assert resp.status == 200, (n, resp)
        got = resp.json()
        assert len(got) == n, f"{n} lines sent, {len(got)} seen"
        for i, (g, w) in enumerate(zip(got, fields)):
            # (the mapping gives names in title case)
            assert [g[0].lower(), g[1]] == [w[0].lower(), w[1]], (
                f"line {i} of {n}: saw {g}, sent {w}"
            )
    else:
        check_431(resp)


def check_431(resp) -> None:
    # The same answer as before the array could grow: the parser's status and reason,
    # and the connection closes after it.
    assert resp.status == 431, resp
    assert resp.body == b"too many header fields\n", resp
    assert resp.header("Connection") == "close", resp


@pytest.mark.parametrize("n", COUNTS)
def test_head_whole(hdr, n):
    req, fields = head(n, "w")
    with hdr.conn() as c:
        c.send(req)
        check(c.response(), n, fields)
        if n > MAX:
            c.expect_eof()


# MAX itself is left to the whole, split and pipelined tests: MAX + 1 trickles the same
# hundred lines through both growths, then gets its 431.
@pytest.mark.parametrize("n", [INITIAL + 1, 2 * INITIAL + 1, MAX + 1])
def test_head_byte_by_byte(hdr, n):
    req, fields = head(n, "b")
    if n > MAX:
        # The answer comes at the first byte of line 101; the server reads nothing after.
        req = req[: growth_point(req, MAX) + 1]
    with hdr.conn() as c:
        c.send_split([req[i : i + 1] for i in range(len(req))], pause=0.0005)
        check(c.response(), n, fields)
        if n > MAX:
            c.expect_eof()


@pytest.mark.parametrize("n", [INITIAL + 1, 2 * INITIAL, MAX, MAX + 1])
@pytest.mark.parametrize("shift", [-2, -1, 0, 1, 2])
def test_head_split_where_it_grows(hdr, n, shift):
    # Cut just before, at, and just after the first byte of the line that finds the array
    # full (and, past 64 lines, where it is full again): the pause happens in the first
    # read, in the second, or between a line's first byte and the rest.
    req, fields = head(n, "s")
    cuts = [growth_point(req) + shift]
    if n > 2 * INITIAL:
        cuts.append(growth_point(req, 2 * INITIAL) + shift)
    with hdr.conn() as c:
        for cut in cuts:
            c.send_split([req[:cut], req[cut:]], pause=0.005)
            check(c.response(), n, fields)
            if n > MAX:
                c.expect_eof()
                break


def test_pipelined_around_normal_requests(hdr):
    # Normal requests ahead of and behind heads that grow the array, in one send, then
    # many normal and large requests on the same connection: the array stays grown, and
    # each request sees its own fields.
    batch = []
    expected = []
    for k, n in enumerate([3, INITIAL + 1, 5, 2 * INITIAL, 1, MAX, 7, MAX - 1, INITIAL]):
        req, fields = head(n, f"p{k}")
        batch.append(req)
        expected.append((n, fields))
    with hdr.conn() as c:
        c.send(b"".join(batch))
        for (n, fields), resp in zip(expected, c.responses(len(expected))):
            check(resp, n, fields)
        for round_ in range(50):
            n = [2, 10, INITIAL + 1, MAX][round_ % 4]
            req, fields = head(n, f"after{round_}")
            c.send(req)
            check(c.response(), n, fields)


def test_pipelined_431_after_growth(hdr):
    # A grown connection still refuses a head over max_headers, after the answers to the
    # requests before it, and reads nothing after it.
    reqs = [head(5, "x"), head(2 * INITIAL + 3, "y"), head(MAX + 1, "z"), head(3, "never")]
    with hdr.conn() as c:
        c.send(b"".join(r for r, _ in reqs))
        a, b, z = c.responses(3)
        check(a, 5, reqs[0][1])
        check(b, 2 * INITIAL + 3, reqs[1][1])
        check_431(z)
        c.expect_eof()


def test_async_handler_reads_headers_after_later_heads_grow_the_array(hdr):
    # The async handlers read their fields after awaiting, while the later requests (one of
    # them growing the array, then growing it again) are parsed on the same connection. A
    # request kept past its dispatch has its own copy of its fields; this checks that copy
    # and that nothing still points into the connection's (moved) array.
    plan = [
        ("/late/150", 5),  # small, its copy inline in the request
        ("/h", 3),
        ("/late/100", INITIAL + 1),  # grows the array, then is kept while it grows again
        ("/h", 2 * INITIAL + 1),  # grows it again (64 -> 100)
        ("/late/20", 12),
        ("/h", MAX),
        ("/h", 2),
    ]
    reqs = [head(n, f"a{k}", target) for k, (target, n) in enumerate(plan)]
    with hdr.conn() as c:
        c.send(b"".join(r for r, _ in reqs))
        for (_target, n), (_, fields), resp in zip(plan, reqs, c.responses(len(plan))):
            check(resp, n, fields)


def test_sent_twice_with_other_headers(hdr):
    # The same connection, a large head, then heads of the same size with other values: a
    # field left from the earlier request would show.
    with hdr.conn() as c:
        for tag in ("first", "second", "third"):
            req, fields = head(MAX, tag)
            c.send(req)
            check(c.response(), MAX, fields)


def test_out_of_memory_while_growing_is_a_503(hdr):
    # The allocation that grows the array fails (the request before arms _testcapi to fail
    # the process's next one, and both arrive in one read): the head is answered 503 with a
    # reason, the connection closes, and the server goes on serving.
    pytest.importorskip("_testcapi")
    req, _ = head(INITIAL + 1, "m")
    with hdr.conn() as c:
        c.send(build_request("GET", "/nomem-next") + req)
        armed = c.response()
        assert (armed.status, armed.body) == (200, b"armed")
        resp = c.response()
        assert resp.status == 503, resp
        assert resp.body == b"out of memory for the request's header fields\n", resp
        assert resp.header("Connection") == "close"
        c.expect_eof()
    with hdr.conn() as c:
        c.send(build_request("GET", "/unhook"))
        assert c.response().status == 200
        req, fields = head(MAX, "after-oom")
        c.send(req)
        check(c.response(), MAX, fields)
