"""Pipelining: responses leave strictly in request order whatever order handlers finish in;
in-flight requests per connection are bounded by max_pipeline_depth; a client that
pipelines without reading cannot make the server's memory grow without bound."""

import os
import socket
import struct
import time

import pytest
from wire import SANITIZED, Conn, build_request, chunked, wait_for

pytestmark = pytest.mark.timeout(30)


def get_json(conn, target):
    conn.send(build_request("GET", target))
    r = conn.response()
    assert r.status == 200, r
    return r.json()


@pytest.mark.timeout(60)
def test_1000_pipelined_requests_in_one_write_answered_in_order(echo):
    n = 1000
    blob = b"".join(build_request("GET", f"/p/{i}?i={i}") for i in range(n))
    with echo.conn() as c:
        c.send(blob)
        responses = c.responses(n)
        assert c.nothing_within(0.1) == b""
    for i, r in enumerate(responses):
        assert r.status == 200, (i, r)
        got = r.json()
        assert (got["path"], got["query_string"]) == (f"/p/{i}", f"i={i}"), (i, got)


def test_pipelined_bodies_keep_their_framing(echo):
    # GETs, Content-Length bodies and chunked bodies interleaved in one write; some bodies
    # look like requests, and must stay bodies.
    reqs, expected = [], []
    for i in range(120):
        kind = i % 3
        if kind == 0:
            reqs.append(build_request("GET", f"/g/{i}"))
            expected.append((f"/g/{i}", None))
        elif kind == 1:
            body = f"body {i}\r\n\r\nGET /evil HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            reqs.append(build_request("POST", f"/l/{i}", body=body))
            expected.append((f"/l/{i}", body.decode()))
        else:
            parts = [f"chunk{i}-".encode(), b"0\r\n\r\n", b"x" * (i % 7 + 1)]
            reqs.append(
                build_request(
                    "PUT",
                    f"/c/{i}",
                    [("Transfer-Encoding", "chunked")],
                    body=chunked(*parts, trailers=[("X-Trailer", str(i))]),
                )
            )
            expected.append((f"/c/{i}", b"".join(parts).decode()))
    with echo.conn() as c:
        c.send(b"".join(reqs))
        responses = c.responses(len(reqs))
    for i, (r, exp) in enumerate(zip(responses, expected)):
        got = r.json()
        assert (got["path"], got["body"]) == exp, i


def test_async_handlers_finishing_in_reverse_order_are_answered_in_order(slow):
    delays = [400, 300, 200, 100, 0]
    with slow.conn() as c:
        t0 = time.monotonic()
        c.send(b"".join(build_request("GET", f"/sleep/{ms}") for ms in delays))
        responses = c.responses(len(delays))
        elapsed = time.monotonic() - t0
    assert [r.body for r in responses] == [str(ms).encode() for ms in delays]
    # Pipelined handlers run concurrently: about the longest sleep, not the sum (1 s).
    assert elapsed < 0.8, elapsed


def test_async_handler_reads_its_own_headers_after_later_requests_are_parsed(slow):
    # The engine lends a request the parser's header array while its handler is dispatched and
    # copies it only when the request outlives that (an async handler): each handler below
    # reads its headers after the ones pipelined behind it were parsed into that array.
    sizes = [3, 12, 1, 9, 20, 0]
    reqs, expected = [], []
    for i, n in enumerate(sizes):
        hdrs = [(f"X-R{i}-H{j}", f"v{i}.{j}" * (j + 1)) for j in range(n)]
        # A query of its own length per request shifts every offset in the head, so offsets
        # read from another request's entries would not land on this request's fields.
        target = f"/aheaders/{(len(sizes) - i) * 15}?{'q' * (7 * i)}"
        reqs.append(build_request("GET", target, headers=hdrs))
        expected.append([["Host", "127.0.0.1"], *[list(h) for h in hdrs]])
    with slow.conn() as c:
        c.send(b"".join(reqs))
        for want in expected:
            r = c.response()
            assert r.status == 200, r.raw
            assert r.json() == want


def test_mixed_sync_and_async_handlers_in_one_pipeline(slow):
    targets = [
        "/sleep/150",
        "/sync",
        "/sleep/50",
        "/id/3",
        "/aid/4",
        "/sleep/0",
        "/sync",
        "/aid/7",
        "/sleep/20",
        "/id/9",
    ]
    expected = [b"150", b"sync", b"50", b"3", b"a4", b"0", b"sync", b"a7", b"20", b"9"]
    with slow.conn() as c:
        c.send(b"".join(build_request("GET", t) for t in targets))
        assert [r.body for r in c.responses(len(targets))] == expected
        # And again, in pieces, on the same connection.
        for t, exp in zip(targets, expected):
            c.send(build_request("GET", t))
            assert c.response().body == exp


def test_pipeline_depth_bounds_concurrent_handlers(limits):
    # limits app: max_pipeline_depth=4. 12 pipelined 100 ms sleeps: at most 4 run at once,
    # so they take at least three rounds.
    n = 12
    with limits.conn() as c:
        t0 = time.monotonic()
        c.send(b"".join(build_request("GET", "/sleep/100") for _ in range(n)))
        responses = c.responses(n)
        elapsed = time.monotonic() - t0
        stats = get_json(c, "/count")
    assert [r.body for r in responses] == [b"100"] * n
    assert 2 <= stats["max_active"] <= 4, stats
    assert elapsed >= 0.28, elapsed


def test_full_pipeline_starts_no_more_handlers_than_its_depth(limits):
    # 10 handlers that never finish, pipelined: with max_pipeline_depth=4 no more than 4 may
    # start; the rest wait unread.
    with limits.conn() as probe:
        flood = Conn(limits.port)
        try:
            flood.send(b"".join(build_request("GET", "/hang") for _ in range(10)))
            wait_for(lambda: get_json(probe, "/count")["started"] >= 2, what="handlers to start")
            time.sleep(0.3)
            started = get_json(probe, "/count")["started"]
            assert 2 <= started <= 4, started
            assert flood.nothing_within(0.1) == b""
        finally:
            flood.abort()
        probe.send(build_request("GET", "/"))
        assert probe.response().body == b"ok"


def test_client_gone_while_its_pipeline_is_full_cancels_the_started_handlers(limits):
    # The same full pipeline, then the client resets the connection. The server must notice
    # even though it has stopped taking requests from this connection: a server that
    # stops watching the socket entirely (pause_reading as soon as the pipeline is full)
    # keeps those handlers forever. Pausing only once unparsed bytes pile up avoids that.
    with limits.conn() as probe:
        flood = Conn(limits.port)
        try:
            flood.send(b"".join(build_request("GET", "/hang") for _ in range(10)))
            wait_for(lambda: get_json(probe, "/count")["started"] >= 2, what="handlers to start")
            time.sleep(0.3)
        finally:
            flood.abort()

        def all_cancelled():
            counts = get_json(probe, "/count")
            return counts if counts["cancelled"] == counts["started"] else None

        counts = wait_for(all_cancelled, what="the started handlers to be cancelled")
        assert counts["finished"] == 0, counts


def test_default_pipeline_depth_runs_handlers_concurrently_up_to_64(slow):
    n = 100
    with slow.conn() as c:
        t0 = time.monotonic()
        c.send(b"".join(build_request("GET", "/sleep/50") for _ in range(n)))
        responses = c.responses(n)
        elapsed = time.monotonic() - t0
        stats = get_json(c, "/count")
    assert all(r.body == b"50" for r in responses)
    assert stats["max_active"] <= 64, stats
    assert elapsed < 2.5, elapsed  # one at a time would take 5 s


MB = 1024 * 1024


def _sysctl_max(name):
    with open(f"/proc/sys/net/ipv4/{name}") as f:
        return int(f.read().split()[2])


@pytest.mark.timeout(90)
def test_unread_huge_pipeline_keeps_server_memory_bounded(start_server):
    """A client pipelines 50 MB of GETs (more if the kernel's socket buffers are larger) and
    never reads a byte. The server must stop reading it (its responses cannot be delivered):
    the client ends up blocked, and the server's RSS stays within 64 MB of the baseline;
    another connection is served meanwhile; closing the flood leaves the server serving."""
    rss_limit_mb = 64
    env = None
    if SANITIZED:
        # ASan keeps freed memory in a quarantine (256 MB by default): keep it small, and
        # allow for the allocator's own overhead.
        env = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"}
        rss_limit_mb = 128
    hello = start_server("hello", env=env)
    req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    with hello.conn() as warm:
        for _ in range(5):
            warm.send(req * 200)
            warm.responses(200)
    baseline = hello.rss_kb()
    peak = baseline

    block = req * (262144 // len(req))  # whole requests only, so offsets stay aligned
    # Once the server stops reading, the client can only fill the kernel's buffers: the
    # server socket's receive buffer and the client socket's send buffer, each at most its
    # tcp_rmem/tcp_wmem maximum. Send well past that, so a server that keeps reading shows.
    kernel_bound = _sysctl_max("tcp_rmem") + _sysctl_max("tcp_wmem")
    target = max(50 * MB, kernel_bound + 24 * MB)
    flood = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    flood.connect(("127.0.0.1", hello.port))
    flood.settimeout(0.5)
    sent = 0
    stalled_since = None
    give_up = time.monotonic() + 40
    try:
        while sent < target and time.monotonic() < give_up:
            off = sent % len(block)
            try:
                sent += flood.send(memoryview(block)[off:])
                stalled_since = None
            except socket.timeout:
                now = time.monotonic()
                if stalled_since is None:
                    stalled_since = now
                elif now - stalled_since > 2.0:
                    break
            peak = max(peak, hello.rss_kb())
        for _ in range(20):  # let the server work through what it already read
            time.sleep(0.1)
            peak = max(peak, hello.rss_kb())

        growth_mb = (peak - baseline) / 1024
        assert growth_mb < rss_limit_mb, (
            f"server RSS grew by {growth_mb:.1f} MB (baseline {baseline} kB) after the client "
            f"sent {sent / MB:.1f} MB of requests without reading"
        )
        assert sent < kernel_bound + 8 * MB, (
            f"the server kept reading: the client sent {sent / MB:.1f} MB without reading a "
            f"response (kernel buffers hold at most {kernel_bound / MB:.1f} MB)"
        )

        with hello.conn() as other:
            other.send(req)
            assert other.response().body == b"Hello world!"
    finally:
        # A reset, as a client that gives up does; its unread responses are dropped.
        flood.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        flood.close()

    with hello.conn() as after:
        after.send(req * 3)
        assert [r.body for r in after.responses(3)] == [b"Hello world!"] * 3
    assert hello.alive()


def test_each_pipelined_response_follows_its_own_request_line(hello):
    # Version, HEAD, keep-alive and an unknown expectation change the answer from one request
    # to the next on one connection, however many requests before it looked alike.
    ka = [("Connection", "keep-alive")]
    reqs = [
        (build_request("GET", "/"), False, "1.1", set()),
        (build_request("GET", "/"), False, "1.1", set()),
        (build_request("HEAD", "/"), True, "1.1", set()),
        (build_request("GET", "/", ka, version="1.0"), False, "1.0", {"keep-alive"}),
        (build_request("GET", "/"), False, "1.1", set()),
        (build_request("HEAD", "/", ka, version="1.0"), True, "1.0", {"keep-alive"}),
        (build_request("GET", "/", ka, version="1.0"), False, "1.0", {"keep-alive"}),
        (build_request("GET", "/?q"), False, "1.1", set()),
    ]
    with hello.conn() as c:
        c.send(
            b"".join(raw for raw, _, _, _ in reqs) + build_request("GET", "/", [("Expect", "x")])
        )
        got = c.responses(len(reqs) + 1, heads=[h for _, h, _, _ in reqs] + [False])
        for (raw, head, _, tokens), r in zip(reqs, got):
            assert r.status == 200, (raw, r)
            assert r.body == (b"" if head else b"Hello world!"), (raw, r)
            assert r.header("Content-Length") == "12", (raw, r)
            assert r.connection_tokens() == tokens, (raw, r)
        assert got[-1].status == 417 and "close" in got[-1].connection_tokens()
        c.expect_eof()
    with hello.conn() as c:
        close = build_request("GET", "/", [("Connection", "close")])
        c.send(build_request("GET", "/") * 3 + close + build_request("GET", "/"))
        got = c.responses(4)
        assert [r.connection_tokens() for r in got] == [set()] * 3 + [{"close"}]
        c.expect_eof()
    with hello.conn() as c:
        c.send(build_request("GET", "/") * 2 + build_request("GET", "/", version="1.0"))
        got = c.responses(3)
        assert [r.connection_tokens() for r in got] == [set(), set(), {"close"}]
        c.expect_eof()
