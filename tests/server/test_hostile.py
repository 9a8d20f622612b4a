"""Hostile clients and misbehaving handlers (no timeouts needed; slow clients and the
connection limit belong to the timeouts work).

- Oversized request line, head and body are refused with 414/431/413 as soon as they pass
  their limit, and the server does not read the rest: a client that goes on sending 100 MB
  of header bytes, or a body of 1 GB, is cut off after at most what the kernel buffers hold,
  and the server's resident memory stays small.
- Handlers that raise (even BaseException, SystemExit, an exception whose str() fails),
  return junk, block the loop for a second or never finish hurt only their own requests.
"""

from __future__ import annotations

import errno
import os
import socket
import time

import pytest
from wire import SANITIZED, ResponseReader, build_request, wait_for

pytestmark = pytest.mark.timeout(60)

MB = 1024 * 1024


def _sysctl_max(name):
    with open(f"/proc/sys/net/ipv4/{name}") as f:
        return int(f.read().split()[2])


# Once the server stops reading, a client can only fill the kernel's buffers.
KERNEL_BOUND = _sysctl_max("tcp_rmem") + _sysctl_max("tcp_wmem")


@pytest.fixture
def hostile(start_server):
    env = None
    if SANITIZED:
        # ASan keeps freed memory in a quarantine (256 MB by default): keep it small.
        env = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"}
    return start_server("hostile", env=env)


def rss_limit_mb(base: int) -> int:
    return base * 2 if SANITIZED else base


def flood(port: int, head: bytes, block: bytes, total: int, server) -> dict:
    """Sends ``head`` then ``block`` repeatedly up to ``total`` bytes without reading, until
    the server stops taking bytes (a stall of 2 s) or closes; returns what was sent, the
    responses received and the server's peak RSS growth in MiB."""
    base_rss = server.rss_kb()
    peak = base_rss
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.connect(("127.0.0.1", port))
    s.settimeout(0.5)
    reader = ResponseReader()
    sent = 0
    closed = False
    stalled_since = None
    give_up = time.monotonic() + 30
    try:
        s.sendall(head)
        sent = len(head)
        view = memoryview(block)
        while sent < total and time.monotonic() < give_up:
            try:
                sent += s.send(view[(sent - len(head)) % len(block) :])
                stalled_since = None
            except socket.timeout:
                now = time.monotonic()
                stalled_since = stalled_since or now
                if now - stalled_since > 2.0:
                    break
            except OSError as e:
                assert e.errno in (errno.EPIPE, errno.ECONNRESET), e
                closed = True
                break
            peak = max(peak, server.rss_kb())
        # Whatever the server answered, then EOF (or a reset, since we left bytes unread).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            if not data:
                break
            reader.feed(data)
        reader.feed_eof()
        peak = max(peak, server.rss_kb())
    finally:
        s.close()
    responses = []
    while (r := reader.next()) is not None:
        responses.append(r)
    print(f"sent {sent / MB:.2f} MiB, server RSS peak +{(peak - base_rss) / 1024:.1f} MiB")
    return {
        "sent": sent,
        "closed": closed,
        "responses": responses,
        "growth_mb": (peak - base_rss) / 1024,
    }


def warm_up(server):
    with server.conn() as c:
        for _ in range(3):
            c.send(build_request("POST", "/echo", body=b"w" * 200_000) * 5)
            c.responses(5)


HOSTILE_HEADS = [
    # name, head, filler, status
    ("100 MB request line", b"GET /", b"a" * 65536, 414),
    ("100 MB header value", b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: ", b"b" * 65536, 431),
    ("100 MB of header lines", b"GET / HTTP/1.1\r\nHost: a\r\n", b"X-H: v\r\n" * 8192, 431),
    (
        "100 MB chunk extension",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=",
        b"x" * 65536,
        400,
    ),
    (
        "100 MB trailer",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ",
        b"t" * 65536,
        431,
    ),
]


@pytest.mark.parametrize(
    "name,head,filler,status", HOSTILE_HEADS, ids=[c[0] for c in HOSTILE_HEADS]
)
def test_oversized_head_is_refused_without_reading_it(hostile, name, head, filler, status):
    warm_up(hostile)
    got = flood(hostile.port, head, filler, 100 * MB, hostile)
    statuses = [r.status for r in got["responses"]]
    assert statuses == [status], (statuses, got)
    assert "close" in got["responses"][0].connection_tokens()
    assert got["sent"] < KERNEL_BOUND + 8 * MB, (
        f"the server kept reading: {got['sent'] / MB:.1f} MB taken "
        f"(kernel buffers hold {KERNEL_BOUND / MB:.1f} MB)"
    )
    assert got["growth_mb"] < rss_limit_mb(24), f"RSS grew {got['growth_mb']:.1f} MiB"
    with hostile.conn() as c:
        c.send(build_request("GET", "/sync"))
        assert c.response().body == b"sync"


def test_1gb_content_length_is_refused_before_the_body(hostile):
    with hostile.conn() as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1073741824\r\n\r\n")
        r = c.response()
        assert r.status == 413 and "close" in r.connection_tokens(), r
        c.expect_eof()


def test_1gb_content_length_body_sent_anyway_is_not_read(hostile):
    warm_up(hostile)
    got = flood(
        hostile.port,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1073741824\r\n\r\n",
        b"z" * 65536,
        1024 * MB,
        hostile,
    )
    assert [r.status for r in got["responses"]] == [413], got
    assert got["sent"] < KERNEL_BOUND + 8 * MB, f"{got['sent'] / MB:.1f} MB taken"
    assert got["growth_mb"] < rss_limit_mb(24), f"RSS grew {got['growth_mb']:.1f} MiB"


def test_1gb_chunked_body_is_cut_off_at_the_body_limit(hostile):
    # Chunked: the size is not known up front, so the server reads and keeps up to
    # max_body_size (16 MiB by default), then answers 413 and stops reading.
    warm_up(hostile)
    chunk = b"10000\r\n" + b"c" * 0x10000 + b"\r\n"
    got = flood(
        hostile.port,
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        chunk * 4,
        1024 * MB,
        hostile,
    )
    assert [r.status for r in got["responses"]] == [413], got
    assert got["sent"] < 16 * MB + KERNEL_BOUND + 8 * MB, f"{got['sent'] / MB:.1f} MB taken"
    assert got["growth_mb"] < rss_limit_mb(64), f"RSS grew {got['growth_mb']:.1f} MiB"


# --- handlers that misbehave -----------------------------------------------------------------

BAD_TARGETS = [
    "/raise",
    "/raise-base",
    "/raise-exit",
    "/raise-bad-str",
    "/ajunk",
    *(f"/junk/{k}" for k in ("none", "str", "bytes", "dict", "int", "type", "coroutine")),
]


def test_failing_handlers_hurt_only_their_own_requests(hostile):
    # Each bad handler pipelined between good requests: its own answer is a 500 that keeps
    # the connection, and the good requests around it are answered as usual.
    reqs, expected = [], []
    for target in BAD_TARGETS:
        reqs += [build_request("GET", target), build_request("POST", "/echo", body=b"abc")]
        expected += [(500, None), (200, b"len=3")]
    with hostile.conn() as c, hostile.conn() as other:
        c.send(b"".join(reqs))
        other.send(build_request("GET", "/sync"))
        got = c.responses(len(reqs))
        assert other.response().body == b"sync"
        for target, r, (status, body) in zip(
            [t for t in BAD_TARGETS for _ in (0, 1)], got, expected
        ):
            assert r.status == status, (target, r)
            assert body is None or r.body == body, (target, r)
            assert "close" not in r.connection_tokens(), (target, r)
        c.send(build_request("GET", "/sync"))
        assert c.response().body == b"sync"
    assert hostile.alive()


def test_a_handler_blocking_the_loop_delays_but_does_not_break_others(hostile):
    with hostile.conn() as blocker, hostile.conn() as other:
        blocker.send(build_request("GET", "/block"))
        time.sleep(0.1)
        other.send(build_request("GET", "/sync") + build_request("POST", "/echo", body=b"xy"))
        a, b = other.responses(2, timeout=5)
        assert (a.body, b.body) == (b"sync", b"len=2")
        assert blocker.response(timeout=5).body == b"blocked"
        blocker.send(build_request("GET", "/sync"))
        assert blocker.response().body == b"sync"


def test_a_handler_that_never_finishes_holds_only_its_own_connection(hostile):
    with hostile.conn() as stuck, hostile.conn() as probe:
        stuck.send(build_request("GET", "/hang") + build_request("GET", "/sync"))
        wait_for(lambda: _count(probe)["started"] == 1, what="/hang to start")
        for i in range(20):
            with hostile.conn() as c:
                c.send(build_request("POST", "/echo", body=b"q" * i))
                assert c.response().body == b"len=%d" % i
        # Responses leave in order: the /sync behind /hang waits with it.
        assert stuck.nothing_within(0.2) == b""
        stuck.abort()
        wait_for(lambda: _count(probe)["cancelled"] == 1, what="/hang to be cancelled")
        probe.send(build_request("GET", "/sync"))
        assert probe.response().body == b"sync"


def _count(probe):
    probe.send(build_request("GET", "/count"))
    return probe.response().json()
