"""Leaks: after bursts of every kind of request the live native objects (connections' protocols
and read buffers, requests, responses; japronto._core._live_counts) are back at their
baseline, and objects handed to or kept by handlers have no reference left behind.

The leaks app (tests/apps/leaks.py) reports the counts from inside the server after a
gc.collect(); the measuring connection itself is part of the baseline, so it stays open.
"""

from __future__ import annotations

import socket
import time

import pytest
from wire import Conn, build_request, chunked, wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def leaks(start_server):
    return start_server("leaks")


def live(probe: Conn) -> dict:
    probe.send(build_request("GET", "/live"))
    r = probe.response()
    assert r.status == 200, r
    return r.json()


def baseline(probe: Conn) -> dict:
    live(probe)  # the first request on the probe makes its recycled spare request
    return live(probe)


def assert_back_to(probe: Conn, base: dict, what: str) -> dict:
    """Polls until the counts equal the baseline (connections close asynchronously)."""
    last = {}

    def same():
        last.update(live(probe))
        return last["counts"] == base["counts"]

    try:
        wait_for(same, timeout=5, interval=0.05, what=f"live counts after {what}")
    except AssertionError:
        pytest.fail(f"after {what}: live {last['counts']} != baseline {base['counts']}")
    return last


def one(port: int, raw: bytes, n: int = 1) -> None:
    """Sends ``raw`` on a new connection and reads ``n`` responses, then closes."""
    with Conn(port) as c:
        c.send(raw)
        c.responses(n)


def burst_normal(port):
    for i in range(50):
        one(port, build_request("GET", "/sync" if i % 2 else "/async"))
        one(port, build_request("POST", "/echo", body=b"x" * (i * 100)))
        one(port, build_request("GET", "/body"))


def burst_pipelined(port):
    reqs = []
    for i in range(60):
        kind = i % 4
        if kind == 0:
            reqs.append(build_request("GET", "/sync"))
        elif kind == 1:
            reqs.append(build_request("GET", "/async"))
        elif kind == 2:
            reqs.append(build_request("POST", "/echo", body=b"y" * 3000))
        else:
            reqs.append(
                build_request(
                    "POST", "/echo", [("Transfer-Encoding", "chunked")], body=chunked(b"a", b"bc")
                )
            )
    for _ in range(5):
        one(port, b"".join(reqs), len(reqs))


def burst_errors(port):
    bad = [
        b"GET / HTTP/1.1\nHost: a\n\n",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    ]
    for _ in range(10):
        for raw in bad:
            # Good requests pipelined before the bad one are answered first.
            one(port, build_request("GET", "/async") + build_request("GET", "/sync") + raw, 3)
        for target in ("/raise", "/araise", "/junk", "/no/such/route"):
            one(port, build_request("GET", target) + build_request("GET", "/async"), 2)


JSON_BODIES = [
    (b'{"id": 1, "tags": ["a", "b"], "score": 97.5, "big": 123456789012345678901234}', b"ok dict"),
    ('["é", "\\u00e9\\ud83d\\ude00", NaN, null]'.encode(), b"ok list"),
    (b"[" * 300 + b"]" * 300, b"ok list"),  # past the C decoder's depth: json.loads
    (b'"\\ud800"', b"ok str"),  # a lone surrogate: json.loads
    (b'{"id": 1, "tags": ["a", "b"], "bad": tru}', b"bad"),  # C gives up, json.loads raises
    (b'{"a": [1, 2, "\xff"]}', b"bad"),  # not UTF-8
    (b"[" * 100000, b"bad"),  # RecursionError in json.loads
]


def burst_json(port):
    # request.json decoded in C, and given up on at every kind of place (json.loads then
    # gives the value or the error), pipelined and one a connection.
    reqs = [build_request("POST", "/json", body=body) for body, _ in JSON_BODIES]
    for _ in range(10):
        with Conn(port) as c:
            c.send(b"".join(reqs))
            got = [r.body for r in c.responses(len(reqs))]
        assert got == [want for _, want in JSON_BODIES]
    for body, want in JSON_BODIES * 3:
        with Conn(port) as c:
            c.send(build_request("POST", "/json", body=body))
            assert c.response().body == want


def burst_dropped(port, probe):
    started = live_count(probe)["started"]
    for i in range(20):
        c = Conn(port)
        c.send(b"".join(build_request("GET", "/hang") for _ in range(3)))
        want = started + 3 * (i + 1)
        wait_for(lambda want=want: live_count(probe)["started"] >= want, what="/hang")
        c.abort() if i % 2 else c.close()
    for i in range(20):
        # The handler finishes after the client went away.
        c = Conn(port)
        c.send(build_request("GET", "/sleep/20") + build_request("POST", "/echo", body=b"z" * 500))
        c.abort() if i % 2 else c.close()
    for i in range(20):
        # Cut inside a head and inside a body.
        c = Conn(port)
        c.send(
            b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Le"
            if i % 2
            else b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nxx"
        )
        time.sleep(0.005)
        c.abort() if i % 2 else c.close()
    wait_for(lambda: live_count(probe)["cancelled"] >= 60, what="every /hang to be cancelled")
    time.sleep(0.1)  # let the /sleep/20 handlers finish


def burst_reset_at_once(port, probe):
    # Requests, then a reset before the server has read them: the server finds the bytes and
    # the reset together. On uvloop that readiness is the reader's last call (UVPoll drops a
    # reader on EPOLLERR after running it once), and its recv returns the bytes, not the
    # error: the connection must still end, its /hang cancelled, not wait forever.
    before = live_count(probe)
    for _ in range(30):
        c = Conn(port)
        c.send(build_request("GET", "/hang") + build_request("GET", "/sleep/10"))
        c.abort()
    for i in range(30):
        c = Conn(port)  # a head, a body, cut short, then the reset
        c.send(
            b"GET /sync HTTP/1.1\r\nHost: a\r\nX-"
            if i % 2
            else b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nxx"
        )
        c.abort()

    def all_cancelled():
        now = live_count(probe)
        started = now["started"] - before["started"]
        return started > 0 and now["cancelled"] - before["cancelled"] == started

    wait_for(all_cancelled, what="every /hang of a reset connection to be cancelled")


def burst_lost(port):
    # The connection is lost under its handler: nothing is written on it any more (the
    # aborted transport drops what the batch had made), and the request it was using is
    # dropped once the batch is over.
    for i in range(20):
        with Conn(port) as c:
            c.send(
                build_request("GET", "/sync") * (i % 2)
                + build_request("GET", "/lost", [("X-A", "1")] * (i % 3))
                + build_request("GET", "/sync") * (i % 3)
            )
            c.expect_eof()


def live_count(probe):
    probe.send(build_request("GET", "/count"))
    return probe.response().json()


@pytest.mark.parametrize("kind", ["normal", "pipelined", "errors", "json", "dropped", "reset"])
def test_live_objects_return_to_baseline(leaks, kind):
    with leaks.conn() as probe:
        base = baseline(probe)
        assert base["counts"]["protocols"] >= 1 and base["counts"]["requests"] >= 1, base
        if kind == "dropped":
            burst_dropped(leaks.port, probe)
        elif kind == "reset":
            burst_reset_at_once(leaks.port, probe)
        else:
            bursts = {
                "normal": burst_normal,
                "pipelined": burst_pipelined,
                "errors": burst_errors,
                "json": burst_json,
            }
            bursts[kind](leaks.port)
        after = assert_back_to(probe, base, kind)
        assert after["body"] == base["body"], "the Response body bytes gained references"


def test_a_connection_lost_under_its_handler_frees_its_request(start_server):
    # The dispatch keeps using the request after the handler returns, so the connection
    # lets it go only then; Python's debug allocator poisons freed memory, so that a use of
    # a request freed too early fails loudly instead of reading stale bytes.
    leaks = start_server("leaks", env={"PYTHONMALLOC": "debug"})
    with leaks.conn() as probe:
        base = baseline(probe)
        burst_lost(leaks.port)
        assert_back_to(probe, base, "connections lost under their handlers")
        # What the handlers read after the loss was their request's, not a freed block's.
        probe.send(build_request("GET", "/lost-seen"))
        seen = {tuple(pair) for pair in probe.response().json()}
        assert seen == {("/lost", None), ("/lost", "1"), ("/lost", "1, 1")}
    assert leaks.alive()


def test_the_counters_see_open_connections(leaks):
    # The counters are not stuck at a constant: 10 more open connections are 10 more
    # protocols and read buffers, and closing them gives them back.
    with leaks.conn() as probe:
        base = baseline(probe)["counts"]
        conns = [leaks.conn() for _ in range(10)]
        try:
            for c in conns:
                c.send(build_request("GET", "/sync"))
                c.response()
            now = live(probe)["counts"]
            assert now["protocols"] == base["protocols"] + 10, (base, now)
            assert now["read_buffers"] == base["read_buffers"] + 10, (base, now)
        finally:
            for c in conns:
                c.close()
        assert_back_to(probe, {"counts": base}, "closing 10 connections")


def test_objects_kept_by_a_handler_hold_no_extra_reference(leaks):
    with leaks.conn() as probe:
        base = baseline(probe)
        with leaks.conn() as c:
            c.send(build_request("GET", "/keep", [("X-A", "1")], body=b"kept body"))
            assert c.response().body == b"kept"
            got = live(probe)
            # The response is done: only the KEPT list holds the request and the response.
            assert (got["kept_request"], got["kept_response"]) == (1, 1), got
        # The kept request keeps its connection's protocol alive (request.transport works
        # after the connection is gone), but nothing else holds either object.
        time.sleep(0.2)
        got = live(probe)
        assert (got["kept_request"], got["kept_response"]) == (1, 1), got
        probe.send(build_request("GET", "/unkeep"))
        assert probe.response().body == b"dropped"
        assert_back_to(probe, base, "dropping the kept request and response")


def test_a_kept_request_stays_usable(leaks):
    with leaks.conn() as c:
        c.send(build_request("POST", "/keep", [("X-A", "1")], body=b"abc"))
        assert c.response().body == b"kept"
        for _ in range(5):
            c.send(build_request("GET", "/sync"))
            assert c.response().body == b"sync"
    assert leaks.alive()


def test_body_refcount_is_stable_over_many_responses(leaks):
    with leaks.conn() as probe:
        before = baseline(probe)["body"]
        with leaks.conn() as c:
            c.send(b"".join(build_request("GET", "/body") for _ in range(200)))
            assert all(r.body.startswith(b"leak-check-body") for r in c.responses(200))
        assert_back_to(probe, baseline(probe), "200 /body")
        assert live(probe)["body"] == before


def test_unused_socket_is_fine(leaks):
    s = socket.create_connection(("127.0.0.1", leaks.port))
    s.close()
    with leaks.conn() as probe:
        assert live(probe)["counts"]["responses"] >= 0
