"""Request bodies: Content-Length, chunked uploads decoded in request.body, and
Expect: 100-continue."""

import hashlib
import os

import pytest
from wire import build_request, chunked

pytestmark = pytest.mark.timeout(30)

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def test_binary_body_is_passed_unchanged(echo):
    body = bytes(range(256)) * 4
    with echo.conn() as c:
        c.send(build_request("POST", "/bin", body=body))
        got = c.response().json()
    assert got["body"].encode("latin-1") == body
    assert got["body_len"] == len(body)


@pytest.mark.timeout(60)
def test_large_content_length_body(echo):
    body = os.urandom(4 * 1024 * 1024)
    with echo.conn() as c:
        c.send(build_request("PUT", "/big", body=body))
        got = c.response(timeout=15).json()
    assert got["body_len"] == len(body)
    assert got["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_chunked_upload_is_decoded(echo):
    body = (
        b"5\r\nhello\r\n"
        b"1;ext\r\n \r\n"  # an extension without a value
        b'A;name=value;q="quoted ;\\" string"\r\n0123456789\r\n'  # upper-case hex, quoted
        b"b ; spaced = ext\r\nabcdefghijk\r\n"  # BWS around the extension
        b"0\r\n"
        b"X-Trailer-One: 1\r\n"
        b"X-Trailer-Two: two\r\n"
        b"\r\n"
    )
    req = build_request("POST", "/chunked", [("Transfer-Encoding", "chunked")], body=body)
    with echo.conn() as c:
        # A request pipelined right behind it checks the body ended where it should.
        c.send(req + build_request("GET", "/after"))
        first, after = c.responses(2)
    got = first.json()
    assert got["body"] == "hello 0123456789abcdefghijk"
    assert got["body_type"] == "bytes"
    assert after.json()["path"] == "/after"


def test_chunked_upload_with_many_chunks_across_writes(echo):
    pieces = [os.urandom(n) for n in (1, 2, 100, 4096, 7, 65536, 3)]
    body = chunked(*pieces, trailers=[("X-Checksum", "none")])
    req = build_request("POST", "/many", [("Transfer-Encoding", "chunked")], body=body)
    with echo.conn() as c:
        c.send_split([req[i : i + 1000] for i in range(0, len(req), 1000)], pause=0.001)
        got = c.response().json()
    expected = b"".join(pieces)
    assert got["body_len"] == len(expected)
    assert got["body_sha256"] == hashlib.sha256(expected).hexdigest()


def test_transfer_encoding_is_case_insensitive(echo):
    req = build_request("POST", "/te", [("transfer-encoding", "Chunked")], body=chunked(b"abc"))
    with echo.conn() as c:
        c.send(req)
        assert c.response().json()["body"] == "abc"


def test_expect_100_continue_before_the_body_is_sent(echo):
    body = b"the body after the 100"
    head = build_request(
        "POST", "/expect", [("Expect", "100-continue"), ("Content-Length", str(len(body)))]
    )
    with echo.conn() as c:
        c.send(head)
        # The body is not sent until the server asks for it.
        assert c.read_exact(len(CONTINUE)) == CONTINUE
        c.send(body)
        r = c.response()
        assert r.status == 200
        assert r.json()["body"] == body.decode()
        # The connection goes on, and a request without Expect gets no 100.
        c.send(build_request("POST", "/again", body=b"x"))
        r = c.response()
        assert (r.status, r.json()["body"]) == (200, "x")


def test_expect_100_continue_with_a_chunked_body(echo):
    head = build_request(
        "PUT", "/expect", [("Expect", "100-continue"), ("Transfer-Encoding", "chunked")]
    )
    with echo.conn() as c:
        c.send(head)
        assert c.read_exact(len(CONTINUE)) == CONTINUE
        c.send(chunked(b"first ", b"second"))
        r = c.response()
        assert r.json()["body"] == "first second"


def test_expect_100_continue_over_the_body_limit_gets_413_without_100(limits):
    # limits app: max_body_size=1024. The server refuses from the head alone.
    head = build_request("POST", "/echo", [("Expect", "100-continue"), ("Content-Length", "5000")])
    with limits.conn() as c:
        c.send(head)
        r = c.response()
        assert r.status == 413, r
        assert "close" in r.connection_tokens()
        c.expect_eof()


def test_body_at_the_limit_is_accepted(limits):
    with limits.conn() as c:
        c.send(build_request("POST", "/echo", body=b"b" * 1024))
        r = c.response()
        assert (r.status, r.body) == (200, b"len=1024")
        c.send(
            build_request(
                "POST",
                "/echo",
                [("Transfer-Encoding", "chunked")],
                body=chunked(b"c" * 500, b"d" * 524),
            )
        )
        r = c.response()
        assert (r.status, r.body) == (200, b"len=1024")


@pytest.mark.timeout(60)
def test_tiny_chunks_do_not_hold_the_raw_framing_in_memory(echo):
    # 8 MiB of body in 1-byte chunks is 48 MiB on the wire. The server keeps the decoded
    # body (8 MiB, then one bytes copy for request.body) but must drop framing as it decodes.
    data = os.urandom(8 * 1024 * 1024)
    body = b"".join(b"1\r\n%c\r\n" % b for b in data) + b"0\r\n\r\n"
    head = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    before = echo.rss_kb()
    with echo.conn(timeout=30) as c:
        c.send(head + body)
        r = c.response()
    assert r.status == 200, r.text[:200]
    seen = r.json()
    assert seen["body_len"] == len(data)
    assert seen["body_sha256"] == hashlib.sha256(data).hexdigest()
    # The peak (VmHWM), not the RSS after the fact: the buffers are freed once answered.
    grown_mb = (_peak_rss_kb(echo.pid) - before) / 1024
    assert grown_mb < 40, f"server RSS peaked {grown_mb:.0f} MiB higher for an 8 MiB body"


def _peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmHWM for pid {pid}")
