"""A request split anywhere parses the same as one that arrived whole.

Each request is sent whole once, then again split at every byte boundary: part 1, a 2 ms
pause (TCP_NODELAY is on, so the parts leave as separate segments and usually arrive in
separate reads), part 2. Every answer must equal the whole request's answer; the echo app
reports exactly what the handler saw, so any misparse shows.
"""

import pytest
from wire import build_request, chunked

pytestmark = pytest.mark.timeout(60)

GET = build_request(
    "GET",
    "/split/get?x=1&y=%20z",
    [
        ("User-Agent", "split-test/1.0"),
        ("Accept", "*/*"),
        ("X-Long", "v" * 40),
        ("Cookie", "a=1; b=2"),
    ],
)
POST = build_request(
    "POST",
    "/split/post",
    [("Content-Type", "application/octet-stream")],
    body=b"0123456789" * 5 + b"\r\n\r\nGET / HTTP/1.1\r\n\r\n",  # request-like bytes in a body
)
CHUNKED = build_request(
    "POST",
    "/split/chunked",
    [("Transfer-Encoding", "chunked")],
    body=chunked(b"hello ", b"chunked", b" world", ext=";e=1", trailers=[("X-T", "1")]),
)
CASES = {"get": GET, "post": POST, "chunked": CHUNKED}
EXPECTED = {
    "get": ("GET", "/split/get", None),
    "post": ("POST", "/split/post", "0123456789" * 5 + "\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
    "chunked": ("POST", "/split/chunked", "hello chunked world"),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_request_split_at_every_byte_boundary(echo, kind):
    req = CASES[kind]
    with echo.conn() as c:
        c.send(req)
        whole = c.response()
        assert whole.status == 200, whole
        got = whole.json()
        assert (got["method"], got["path"], got["body"]) == EXPECTED[kind]
        for cut in range(1, len(req)):
            c.send_split([req[:cut], req[cut:]], pause=0.002)
            r = c.response()
            assert (r.status, r.body) == (whole.status, whole.body), (
                f"split at byte {cut} ({req[:cut][-20:]!r} | {req[cut:][:20]!r}): {r}"
            )


def test_request_sent_one_byte_at_a_time(echo):
    with echo.conn() as c:
        c.send(CHUNKED)
        whole = c.response()
        c.send_split([CHUNKED[i : i + 1] for i in range(len(CHUNKED))], pause=0.001)
        r = c.response()
    assert (r.status, r.body) == (whole.status, whole.body)


def test_pipelined_pair_split_at_every_byte_boundary(echo):
    # The cut falls inside the first request, between the two, or inside the second: the
    # bytes left over after the first request must start the second one.
    a = build_request("GET", "/pair/a?n=1")
    b = build_request("POST", "/pair/b", body=b"second body")
    pair = a + b
    with echo.conn() as c:
        c.send(pair)
        wa, wb = c.responses(2)
        assert wa.json()["path"] == "/pair/a" and wb.json()["body"] == "second body"
        for cut in range(1, len(pair)):
            c.send_split([pair[:cut], pair[cut:]], pause=0.002)
            ra, rb = c.responses(2)
            assert (ra.body, rb.body) == (wa.body, wb.body), f"split at byte {cut}"
