"""Connection persistence: keep-alive reuse, HTTP/1.0 with and without keep-alive, and
Connection: close with more requests pipelined behind it."""

import http.client
import time

import pytest
from wire import build_request

pytestmark = pytest.mark.timeout(30)


def get_json(conn, target):
    conn.send(build_request("GET", target))
    r = conn.response()
    assert r.status == 200, r
    return r.json()


@pytest.mark.timeout(90)
def test_10000_requests_on_one_keep_alive_connection(slow):
    conn = http.client.HTTPConnection("127.0.0.1", slow.port, timeout=5)
    try:
        conn.connect()
        local = conn.sock.getsockname()
        for i in range(10_000):
            target = f"/id/{i}" if i % 2 else f"/aid/{i}"
            conn.request("GET", target)
            r = conn.getresponse()
            body = r.read()
            expected = str(i).encode() if i % 2 else b"a%d" % i
            if r.status != 200 or body != expected or r.will_close:
                pytest.fail(f"request {i}: {r.status} {body!r} will_close={r.will_close}")
            # http.client silently reconnects when a connection closes: make sure it did not.
            if conn.sock is None or conn.sock.getsockname() != local:
                pytest.fail(f"the connection was not reused for request {i}")
    finally:
        conn.close()


def test_http10_without_keep_alive_is_closed_after_the_response(slow):
    with slow.conn() as c:
        c.send(build_request("GET", "/id/1", version="1.0", host=None))
        r = c.response()
        assert (r.status, r.body) == (200, b"1")
        assert "keep-alive" not in r.connection_tokens()
        c.expect_eof()


def test_http10_with_keep_alive_stays_open(slow):
    keep = [("Connection", "keep-alive")]
    with slow.conn() as c:
        for i in range(3):
            c.send(build_request("GET", f"/id/{i}", keep, version="1.0", host=None))
            r = c.response()
            assert (r.status, r.body) == (200, str(i).encode())
            # An HTTP/1.0 client only knows the connection persists if told so.
            assert "keep-alive" in r.connection_tokens(), r.headers
        assert c.nothing_within(0.3) == b""
        # Pipelined, too; the last one without keep-alive closes the connection.
        c.send(
            build_request("GET", "/aid/5", keep, version="1.0")
            + build_request("GET", "/id/6", version="1.0")
        )
        a, b = c.responses(2)
        assert (a.body, b.body) == (b"a5", b"6")
        c.expect_eof()


def test_handler_sees_keep_alive_and_version(echo):
    cases = [
        ("1.1", [], True),
        ("1.1", [("Connection", "close")], False),
        ("1.0", [], False),
        ("1.0", [("Connection", "keep-alive")], True),
        ("1.1", [("Connection", "Keep-Alive")], True),
    ]
    for version, headers, keep_alive in cases:
        with echo.conn() as c:
            c.send(build_request("GET", "/ka", headers, version=version))
            got = c.response().json()
            assert (got["version"], got["keep_alive"]) == (version, keep_alive), (
                version,
                headers,
            )


def test_connection_close_answers_only_the_first_of_a_pipeline(slow):
    # Three requests in one write, the first saying Connection: close: exactly one answer,
    # then EOF, and the handlers behind it are never run.
    with slow.conn() as c:
        c.send(
            build_request("GET", "/id/1", [("Connection", "close")])
            + build_request("GET", "/hang")
            + build_request("GET", "/id/2")
        )
        r = c.response()
        assert (r.status, r.body) == (200, b"1")
        assert "close" in r.connection_tokens()
        c.expect_eof()
    time.sleep(0.1)
    with slow.conn() as probe:
        assert get_json(probe, "/count")["started"] == 0


def test_connection_close_after_keep_alive_requests(slow):
    with slow.conn() as c:
        c.send(build_request("GET", "/id/1") + build_request("GET", "/sleep/50"))
        assert [r.body for r in c.responses(2)] == [b"1", b"50"]
        c.send(build_request("GET", "/sleep/30", [("Connection", "close")]))
        r = c.response()
        assert r.body == b"30" and "close" in r.connection_tokens()
        c.expect_eof()


def test_many_connections_at_once(slow):
    conns = [slow.conn() for _ in range(50)]
    try:
        for i, c in enumerate(conns):
            c.send(build_request("GET", f"/sleep/{i % 5 * 10}") + build_request("GET", f"/id/{i}"))
        for i, c in enumerate(conns):
            a, b = c.responses(2)
            assert (a.body, b.body) == (str(i % 5 * 10).encode(), str(i).encode())
    finally:
        for c in conns:
            c.close()
