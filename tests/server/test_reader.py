"""Unit tests of the test helpers in wire.py, on canned bytes and a local socket peer.

These need no server: they make sure the response reader the black-box tests rely on
splits, frames and rejects responses correctly, and that Conn never waits unbounded.
"""

import socket
import threading
import time

import pytest
from wire import (
    Conn,
    ConnectionClosed,
    ProtocolError,
    ResponseReader,
    build_request,
    chunked,
    parse_responses,
)

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
)
NO_CONTENT = b"HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n"
HEAD_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def test_single_response_with_content_length():
    (r,) = parse_responses(OK)
    assert (r.version, r.status, r.reason, r.body) == ("1.1", 200, "OK", b"hello")
    assert r.framing == "length"
    assert r.raw == OK


def test_header_lookup_is_case_insensitive_and_keeps_repeats():
    data = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n"
    (r,) = parse_responses(data)
    assert r.header("SET-COOKIE") == "a=1"
    assert r.header_all("Set-Cookie") == ["a=1", "b=2"]
    assert r.header("missing") is None and not r.has_header("missing")


def test_connection_tokens():
    data = b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Upgrade\r\nContent-Length: 0\r\n\r\n"
    assert parse_responses(data)[0].connection_tokens() == {"keep-alive", "upgrade"}


def test_chunked_body_with_extensions_and_trailers():
    (r,) = parse_responses(CHUNKED)
    assert r.body == b"hello 0123456789"
    assert r.trailers == [("X-Trailer", "t")]
    assert r.framing == "chunked"


def test_no_body_for_head_204_304_and_1xx():
    data = CONTINUE + HEAD_OK + NO_CONTENT + OK
    rs = parse_responses(data, heads=[False, True, False, False])
    assert [r.status for r in rs] == [100, 200, 204, 200]
    assert [r.body for r in rs] == [b"", b"", b"", b"hello"]
    assert rs[1].header("Content-Length") == "12"
    not_modified = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"
    assert parse_responses(not_modified + OK)[0].body == b""


def test_a_head_response_read_as_get_swallows_the_next_response():
    # Why the tests must say which requests were HEAD: framing depends on it.
    with pytest.raises(ProtocolError):
        parse_responses(HEAD_OK + OK)


def test_close_delimited_body_needs_eof():
    data = b"HTTP/1.0 200 OK\r\n\r\nuntil the end"
    reader = ResponseReader()
    reader.feed(data)
    assert reader.next() is None
    reader.feed_eof()
    r = reader.next()
    assert r.body == b"until the end" and r.framing == "eof"


def test_pipelined_responses_fed_one_byte_at_a_time():
    stream = OK + CHUNKED + NO_CONTENT + OK
    reader = ResponseReader()
    got = []
    for i in range(len(stream)):
        reader.feed(stream[i : i + 1])
        r = reader.next()
        if r is not None:
            got.append(r)
            assert reader.next() is None  # a response is returned exactly once
    assert [r.status for r in got] == [200, 200, 204, 200]
    assert [r.body for r in got] == [b"hello", b"hello 0123456789", b"", b"hello"]
    assert reader.pending == b""


def test_pipelined_responses_split_at_every_point():
    stream = OK + CHUNKED + OK
    for cut in range(1, len(stream)):
        reader = ResponseReader()
        got = []
        for part in (stream[:cut], stream[cut:]):
            reader.feed(part)
            while (r := reader.next()) is not None:
                got.append(r.body)
        assert got == [b"hello", b"hello 0123456789", b"hello"], cut


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",  # bare LF
        b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",  # space before colon
        b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 0\r\n\r\n",  # obs-fold
        b"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        b"garbage that is no response\r\n\r\n",
    ],
)
def test_invalid_responses_are_rejected(data):
    with pytest.raises(ProtocolError):
        parse_responses(data)


def test_garbage_is_rejected_before_a_full_head_arrives():
    reader = ResponseReader()
    reader.feed(b"<html>")
    with pytest.raises(ProtocolError):
        reader.next()


@pytest.mark.parametrize(
    "data",
    [
        OK[:-1],  # body cut short
        OK[:20],  # head cut short
        CHUNKED[:-2],  # trailer section not finished
    ],
)
def test_truncated_responses_are_rejected_at_eof(data):
    with pytest.raises(ProtocolError):
        parse_responses(data)


def test_leftover_bytes_are_reported():
    with pytest.raises(ProtocolError):
        parse_responses(OK + b"HTTP/1.1 2")


def test_take_reads_raw_bytes_then_responses_continue():
    reader = ResponseReader()
    reader.feed(CONTINUE + OK)
    assert reader.take(len(CONTINUE)) == CONTINUE
    assert reader.next().body == b"hello"
    assert reader.take(1) is None


def test_build_request_and_chunked():
    req = build_request("POST", "/x?a=1", [("X-A", "b")], body=b"abc")
    assert req == (
        b"POST /x?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: b\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert build_request(version="1.0", host=None) == b"GET / HTTP/1.0\r\n\r\n"
    assert chunked(b"hello", b"", b"0123456789a", ext=";x=1", trailers=[("T", "v")]) == (
        b"5;x=1\r\nhello\r\nb;x=1\r\n0123456789a\r\n0\r\nT: v\r\n\r\n"
    )


class Peer:
    """A one-connection local TCP peer that runs ``script(sock)`` in a thread."""

    def __init__(self, script):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script):
        s, _ = self.listener.accept()
        with s:
            s.settimeout(5)
            script(s)

    def join(self):
        self.thread.join(5)
        self.listener.close()


def test_conn_reads_a_response_sent_in_pieces_then_eof():
    def script(s):
        s.recv(100)
        for i in range(0, len(OK), 7):
            s.sendall(OK[i : i + 7])
            time.sleep(0.001)

    peer = Peer(script)
    with Conn(peer.port) as c:
        c.send(b"GET / HTTP/1.1\r\n\r\n")
        assert c.response().body == b"hello"
        c.expect_eof(timeout=2)
    peer.join()


def test_conn_times_out_instead_of_hanging():
    release = threading.Event()
    peer = Peer(lambda s: release.wait(5))
    with Conn(peer.port) as c:
        t0 = time.monotonic()
        with pytest.raises(AssertionError, match="timed out"):
            c.response(timeout=0.3)
        assert time.monotonic() - t0 < 2
        with pytest.raises(AssertionError, match="still open"):
            c.expect_eof(timeout=0.2)
    release.set()
    peer.join()


def test_conn_reports_close_before_response_and_extra_bytes_before_eof():
    peer = Peer(lambda s: s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"))
    with Conn(peer.port) as c:
        with pytest.raises(ProtocolError):
            c.response()
    peer.join()

    peer = Peer(lambda s: s.sendall(OK + b"extra"))
    with Conn(peer.port) as c:
        c.response()
        with pytest.raises(AssertionError, match="extra|unread"):
            c.expect_eof(timeout=2)
    peer.join()

    peer = Peer(lambda s: None)
    with Conn(peer.port) as c:
        with pytest.raises(ConnectionClosed):
            c.response()
    peer.join()
