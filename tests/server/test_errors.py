"""Errors: failing handlers (500, error handlers, debug tracebacks), malformed requests
(their 4xx/5xx with Connection: close, then EOF, after the good requests before them),
limits, and clients that go away while a handler runs."""

import random

import pytest
from wire import Conn, build_request, chunked, wait_for

pytestmark = pytest.mark.timeout(30)

MARKER = "secret-marker-1f3a"  # tests/apps/errors.py
DEBUG_MARKER = "debug-marker-77c2"  # tests/apps/debug.py


def get_json(conn, target):
    conn.send(build_request("GET", target))
    r = conn.response()
    assert r.status == 200, r
    return r.json()


def check_error_response(r, status, what=""):
    """A server-made error: the status, a short plain reason, and Connection: close."""
    problems = []
    statuses = status if isinstance(status, (set, tuple)) else {status}
    if r.status not in statuses:
        problems.append(f"status {r.status}, expected {sorted(statuses)}")
    if "close" not in r.connection_tokens():
        problems.append(f"no Connection: close (headers {r.headers})")
    if not r.body or len(r.body) > 512:
        problems.append(f"body is not a short reason: {r.body[:100]!r}")
    if r.header("Content-Length") != str(len(r.body)):
        problems.append(f"Content-Length {r.header('Content-Length')} for {len(r.body)} bytes")
    return [f"{what}: {p}" for p in problems]


# --- failing handlers ---------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/raise", "/araise", "/junk", "/ajunk"])
def test_failing_handler_is_500_and_the_connection_stays_usable(errors, target):
    with errors.conn() as c:
        c.send(build_request("GET", target))
        r = c.response()
        assert r.status == 500, r
        assert "close" not in r.connection_tokens()
        assert "Traceback" not in r.text and MARKER not in r.text, r.text
        c.send(build_request("GET", target) + build_request("GET", "/sync"))
        again, ok = c.responses(2)
        assert again.status == 500 and (ok.status, ok.body) == (200, b"sync")


@pytest.mark.parametrize("target", ["/cancel", "/acancel", "/aselfcancel"])
def test_handler_raising_cancelled_error_is_a_logged_500(errors, target):
    """CancelledError is a BaseException, and for an async handler it ends its task as
    cancelled; either way it is the handler's failure (the client is still there): a 500,
    logged, and the connection and the server go on."""
    with errors.conn() as c:
        c.send(build_request("GET", target) + build_request("GET", "/sync"))
        r, ok = c.responses(2)
        assert r.status == 500, r
        assert "close" not in r.connection_tokens()
        assert (ok.status, ok.body) == (200, b"sync")
        c.send(build_request("GET", target))
        assert c.response().status == 500
    wait_for(
        lambda: (
            f"unhandled exception in handler for GET {target}\n" in errors.stderr()
            and "CancelledError" in errors.stderr()
        ),
        timeout=3,
        what="the cancellation in the log",
    )
    assert errors.alive()


def test_error_handler_that_raises_gives_500_and_logs_both(errors):
    with errors.conn() as c:
        c.send(build_request("GET", "/failing-eh") + build_request("GET", "/sync"))
        r, ok = c.responses(2)
    assert r.status == 500 and r.text == "Internal Server Error\n", r
    assert "eh-marker-5d1e" not in r.text and "original-marker" not in r.text
    assert ok.body == b"sync"

    def both_logged():
        log = errors.stderr()
        return "failed while handling Broken('original-marker-9b0c')" in log and (
            "RuntimeError: eh-marker-5d1e" in log and "Broken: original-marker-9b0c" in log
        )

    wait_for(both_logged, timeout=3, what="both exceptions in the log")


@pytest.mark.parametrize(
    "target, message",
    [
        ("/junk-eh", "returned str, not a Response"),
        ("/async-eh", "is a coroutine function; error handlers must return a Response"),
        ("/cancel-eh", "failed while handling Gone('gone-marker-31aa')"),
    ],
)
def test_error_handler_without_a_response_is_a_logged_500(errors, target, message):
    with errors.conn() as c:
        c.send(build_request("GET", target) + build_request("GET", "/sync"))
        r, ok = c.responses(2)
    assert r.status == 500 and ok.body == b"sync"
    wait_for(lambda: message in errors.stderr(), timeout=3, what=f"{message!r} in the log")
    assert "was never awaited" not in errors.stderr()


@pytest.mark.parametrize("target, kind", [("/junk", "int"), ("/ajunk", "NoneType")])
def test_handler_returning_a_non_response_is_logged_clearly(errors, target, kind):
    with errors.conn() as c:
        c.send(build_request("GET", target))
        assert c.response().status == 500
    wait_for(
        lambda: (
            f"a handler must return a Response (request.Response(...)), not {kind}"
            in errors.stderr()
        ),
        timeout=3,
        what="the message in the log",
    )
    assert f"unhandled exception in handler for GET {target}" in errors.stderr()


def test_handler_exception_is_logged(errors):
    with errors.conn() as c:
        c.send(build_request("GET", "/raise"))
        assert c.response().status == 500
    wait_for(lambda: MARKER in errors.stderr(), timeout=3, what="the exception in the log")


def test_registered_error_handler_answers(errors):
    with errors.conn() as c:
        c.send(build_request("GET", "/teapot") + build_request("GET", "/sync"))
        r, ok = c.responses(2)
    assert (r.status, r.body) == (418, b"handled: short and stout")
    assert ok.body == b"sync"


def test_route_not_found_goes_to_its_error_handler(errors):
    with errors.conn() as c:
        c.send(build_request("GET", "/no/such"))
        r = c.response()
    assert (r.status, r.body) == (404, b"custom 404: /no/such")


def test_error_handlers_match_in_registration_order_and_none_catches_all(start_server):
    server = start_server("handlers")
    cases = [
        ("/key", 409, "lookup: KeyError"),  # LookupError was registered before KeyError
        ("/index", 409, "lookup: IndexError"),
        ("/value", 503, "catch-all: ValueError"),
        ("/acancel", 503, "catch-all: CancelledError"),
        ("/junk", 503, "catch-all: TypeError"),
        ("/no/such/path", 503, "catch-all: RouteNotFoundException"),
        ("/ok", 200, "ok"),
    ]
    with server.conn() as c:
        c.send(b"".join(build_request("GET", target) for target, _, _ in cases))
        got = [(r.status, r.text) for r in c.responses(len(cases))]
    assert got == [(status, text) for _, status, text in cases]
    # log_request=True logs each request without debug, with the status that was sent.
    wait_for(lambda: "GET /ok 200" in server.stderr(), what="the request log")
    log = server.stderr()
    for line in ["GET /key 409", "GET /value 503", "GET /junk 503", "GET /no/such/path 503"]:
        assert line in log, line
    assert "GET /acancel cancelled" in log
    assert "Traceback" not in server.stderr()  # every failure was handled


def test_debug_500_carries_the_traceback(start_server):
    server = start_server("debug")
    with server.conn() as c:
        c.send(build_request("GET", "/raise"))
        r = c.response()
        assert r.status == 500
        assert "Traceback" in r.text and DEBUG_MARKER in r.text and "deep_failure" in r.text, r.text
        c.send(build_request("GET", "/sync"))
        assert c.response().body == b"sync"


def test_debug_logs_each_request(start_server):
    server = start_server("debug")
    with server.conn() as c:
        c.send(build_request("GET", "/sync?x=1"))
        assert c.response().body == b"sync"
    wait_for(lambda: "GET /sync 200" in server.stderr(), what="the request to be logged")


def test_debug_logs_failed_requests_with_the_status_sent(start_server):
    server = start_server("debug")
    with server.conn() as c:
        c.send(build_request("GET", "/raise") + build_request("GET", "/missing"))
        assert [r.status for r in c.responses(2)] == [500, 404]
    wait_for(
        lambda: "GET /raise 500" in server.stderr() and "GET /missing 404" in server.stderr(),
        what="both requests to be logged",
    )


def test_requests_are_not_logged_without_debug(errors):
    with errors.conn() as c:
        c.send(build_request("GET", "/sync"))
        assert c.response().status == 200
    assert "GET /sync" not in errors.stderr()


# --- malformed requests --------------------------------------------------------------------


def test_malformed_request_after_good_ones_in_the_same_packet(slow):
    bad = b"GET /bad HTTP/1.1\nHost: a\n\n"  # bare LF
    with slow.conn() as c:
        c.send(
            build_request("GET", "/sleep/100")
            + build_request("GET", "/id/2")
            + build_request("GET", "/aid/3")
            + bad
            + build_request("GET", "/id/4")  # after the bad one: never answered
        )
        a, b, d, err = c.responses(4)
        assert [r.status for r in (a, b, d)] == [200, 200, 200]
        assert [r.body for r in (a, b, d)] == [b"100", b"2", b"a3"]
        assert check_error_response(err, 400) == []
        c.expect_eof()


H = b"Host: a\r\n"
PARSER_ERRORS = [
    ("bare LF line ends", b"GET / HTTP/1.1\nHost: a\n\n", 400),
    ("bare LF in a field", b"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400),
    ("bare CR", b"GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    ("HTTP/3.0", b"GET / HTTP/3.0\r\n" + H + b"\r\n", 505),
    ("version without minor", b"GET / HTTP/1\r\n" + H + b"\r\n", 400),
    ("lower-case protocol", b"GET / http/1.1\r\n" + H + b"\r\n", 400),
    ("two spaces in request line", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("method not a token", b"G(T / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("control byte in target", b"GET /a\x01b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("fragment in target", b"GET /a#b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("no Host in HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\n" + H + H + b"\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\n" + H + b"X-A : 1\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X-A: 1\r\n folded\r\n\r\n", 400),
    ("empty field name", b"GET / HTTP/1.1\r\n" + H + b": v\r\n\r\n", 400),
    ("field name not a token", b"GET / HTTP/1.1\r\n" + H + b"X@Y: v\r\n\r\n", 400),
    ("NUL in field value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    (
        "TE xchunked",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n",
        {400, 501},
    ),
    (
        "TE chunked not last",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, gzip\r\n\r\n",
        400,
    ),
    (
        "TE chunked twice",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n",
        400,
    ),
    (
        "TE unknown coding before chunked",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n",
        501,
    ),
    ("TE in HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (
        "CL and TE",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    ("CL not a number", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 12a\r\n\r\n", 400),
    ("CL negative", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    ("CL as a list", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1, 1\r\n\r\nx", 400),
    (
        "CL twice, different",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
        400,
    ),
    (
        "CL above 64 bits",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\n",
        {400, 413},
    ),
    (
        "chunk size not hex",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        400,
    ),
    (
        "chunk size with 0x",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk data without CRLF",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunk size line with bare LF",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
        400,
    ),
]


def test_parser_errors_are_answered_with_their_status_then_closed(echo):
    """Each malformed request on a new connection: its status, Connection: close, a short
    reason, then EOF. All cases run; the failure lists every case that went wrong."""
    problems = []
    for name, raw, status in PARSER_ERRORS:
        with echo.conn() as c:
            try:
                c.send(raw)
                r = c.response()
                problems += check_error_response(r, status, name)
                c.expect_eof()
            except AssertionError as e:
                problems.append(f"{name}: {e}")
    assert echo.alive()
    assert problems == [], "\n".join(problems)


def _limit_cases():
    ok = None  # answered normally
    line = "GET /?q={} HTTP/1.1\r\nHost: a\r\n\r\n"
    pad = [(f"X-Pad-{i}", "p" * 450) for i in range(5)]
    return [
        ("request line of 200 bytes", line.format("a" * 175).encode(), ok),
        ("request line of 300 bytes", line.format("a" * 275).encode(), 414),
        ("head of about 1000 bytes", build_request("GET", "/", pad[:2]), ok),
        ("head of about 2300 bytes", build_request("GET", "/", pad), 431),
        ("10 header fields", build_request("GET", "/", [(f"X-{i}", "1") for i in range(9)]), ok),
        ("11 header fields", build_request("GET", "/", [(f"X-{i}", "1") for i in range(10)]), 431),
        ("body of 1024 bytes", build_request("POST", "/echo", body=b"b" * 1024), ok),
        ("body of 1025 bytes", build_request("POST", "/echo", body=b"b" * 1025), 413),
        (
            "chunked body of 1100 bytes",
            build_request(
                "POST",
                "/echo",
                [("Transfer-Encoding", "chunked")],
                body=chunked(b"c" * 600, b"d" * 500),
            ),
            413,
        ),
    ]


def test_limits_are_enforced_with_their_status(limits):
    """limits app: max_request_line=256, max_head_size=2048, max_headers=10,
    max_body_size=1024. Requests clearly within each limit pass; over it, the status."""
    problems = []
    for name, raw, expected in _limit_cases():
        with limits.conn() as c:
            try:
                c.send(raw)
                r = c.response()
                if expected is None:
                    if r.status != 200:
                        problems.append(f"{name}: status {r.status}, expected 200")
                else:
                    problems += check_error_response(r, expected, name)
                    c.expect_eof()
            except AssertionError as e:
                problems.append(f"{name}: {e}")
    assert problems == [], "\n".join(problems)


def test_default_limits(echo):
    """The defaults (japronto._core.DEFAULT_*): request line 8192, 100 header fields,
    body 16 MiB. Over them: 414, 431, 413; a big declared body is refused from the head."""
    cases = [
        ("request line over 8192", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        (
            "101 header fields",
            build_request("GET", "/", [(f"X-{i}", "1") for i in range(100)]),
            431,
        ),
        (
            "Content-Length of 16 MiB + 1",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 16777217\r\n\r\n",
            413,
        ),
    ]
    problems = []
    for name, raw, status in cases:
        with echo.conn() as c:
            try:
                c.send(raw)
                problems += check_error_response(c.response(), status, name)
                c.expect_eof()
            except AssertionError as e:
                problems.append(f"{name}: {e}")
    with echo.conn() as c:
        c.send(build_request("GET", "/", [(f"X-{i}", "1") for i in range(99)]))
        if c.response().status != 200:
            problems.append("100 header fields were refused")
    assert problems == [], "\n".join(problems)


@pytest.mark.timeout(60)
def test_random_garbage_never_crashes_the_server(echo):
    rng = random.Random(20240601)
    alphabet = b"GET POST HTTP/1.1\r\n\r\nHost: a\r\nContent-Length: 3\r\n:; \x00\x7f\xff0123abc"
    for i in range(60):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 300)))
        with Conn(echo.port, timeout=2) as c:
            c.send(data)
            # Whatever the bytes, the server answers or waits for more; it never dies.
            c.nothing_within(0.01)
        if i % 10 == 0:
            assert echo.alive(), f"died on {data!r}"
    with echo.conn() as c:
        c.send(build_request("GET", "/still/alive"))
        assert c.response().status == 200


# --- clients that go away ------------------------------------------------------------------


def _wait_counts(probe, pred, what):
    def check():
        counts = get_json(probe, "/count")
        return counts if pred(counts) else None

    return wait_for(check, what=what)


@pytest.mark.parametrize("how", ["reset", "close"])
def test_client_gone_mid_handler_cancels_it(slow, how):
    with slow.conn() as probe:
        c = slow.conn()
        c.send(build_request("GET", "/hang"))
        _wait_counts(probe, lambda s: s["started"] == 1, "/hang to start")
        if how == "reset":
            c.abort()
        else:
            c.close()
        counts = _wait_counts(probe, lambda s: s["cancelled"] == 1, "/hang to be cancelled")
        assert counts["finished"] == 0
        probe.send(build_request("GET", "/sync"))
        assert probe.response().body == b"sync"


def test_client_gone_cancels_every_pipelined_handler(slow):
    with slow.conn() as probe:
        c = slow.conn()
        c.send(b"".join(build_request("GET", "/hang") for _ in range(5)))
        _wait_counts(probe, lambda s: s["started"] == 5, "5 pipelined /hang to start")
        c.abort()
        _wait_counts(probe, lambda s: s["cancelled"] == 5, "all 5 to be cancelled")
        for i in range(3):  # and the server goes on
            probe.send(build_request("GET", f"/sleep/{i}"))
            assert probe.response().body == str(i).encode()
