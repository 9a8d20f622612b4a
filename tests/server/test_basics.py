"""Basics over real sockets: the seed's hello world, the headers every response carries,
HEAD, 404 and 405, routing, what a handler sees in the request, the loop the server runs
on, and a clean exit on SIGTERM and SIGINT. Every test runs on uvloop and on asyncio."""

import datetime
import email.utils
import signal

import pytest
from wire import build_request, chunked, wait_for

pytestmark = pytest.mark.timeout(30)


def get_json(conn, target):
    conn.send(build_request("GET", target))
    r = conn.response()
    assert r.status == 200, r
    return r.json()


def test_hello_world_raw_socket(hello):
    with hello.conn() as c:
        c.send(build_request("GET", "/"))
        r = c.response()
    assert r.status == 200
    assert r.body == b"Hello world!"
    assert r.header("Content-Length") == "12"
    content_type = r.header("Content-Type", "")
    assert content_type.lower().startswith("text/plain")
    assert "charset=utf-8" in content_type.lower()


def test_every_response_has_date_and_server(hello):
    with hello.conn() as c:
        c.send(build_request("GET", "/") + build_request("GET", "/missing"))
        ok, missing = c.responses(2)
    now = datetime.datetime.now(datetime.timezone.utc)
    for r in (ok, missing):
        date = r.header("Date")
        assert date and date.endswith(" GMT"), r
        when = email.utils.parsedate_to_datetime(date)
        assert abs((when - now).total_seconds()) < 10, date
        assert r.header("Server"), r
        assert len(r.header_all("Date")) == 1 and len(r.header_all("Server")) == 1
    assert "japronto" in ok.header("Server").lower()


def test_head_has_content_length_but_no_body(hello):
    # HEAD and GET pipelined in one write: if the HEAD response carried a body, the GET
    # response would not parse where it must start.
    with hello.conn() as c:
        c.send(build_request("HEAD", "/") + build_request("GET", "/"))
        head, get = c.responses(2, heads=[True, False])
        assert head.status == 200 and head.body == b""
        assert head.header("Content-Length") == "12"
        assert get.status == 200 and get.body == b"Hello world!"
        assert c.nothing_within(0.2) == b""


def test_unknown_path_is_404_and_connection_stays_usable(hello):
    with hello.conn() as c:
        c.send(build_request("GET", "/no/such/path"))
        r = c.response()
        assert r.status == 404
        assert "close" not in r.connection_tokens()
        assert int(r.header("Content-Length")) == len(r.body)
        c.send(build_request("GET", "/"))
        assert c.response().body == b"Hello world!"


def test_wrong_method_is_405_with_allow(routes):
    with routes.conn() as c:
        c.send(build_request("DELETE", "/only-get"))
        r = c.response()
        assert r.status == 405, r
        allow = {m.strip() for v in r.header_all("Allow") for m in v.split(",")}
        assert "GET" in allow and "DELETE" not in allow, r.headers

        c.send(build_request("PUT", "/multi", body=b"x"))
        r = c.response()
        assert r.status == 405, r
        allow = {m.strip() for v in r.header_all("Allow") for m in v.split(",")}
        assert {"GET", "POST"} <= allow and "PUT" not in allow, r.headers
        assert "close" not in r.connection_tokens()

        # A 405 is not a protocol error: the connection goes on.
        c.send(build_request("GET", "/only-get"))
        assert c.response().body == b"only-get"


def test_methods_are_upper_cased_and_matched(routes):
    with routes.conn() as c:
        c.send(build_request("GET", "/multi") + build_request("POST", "/multi", body=b"b"))
        get, post = c.responses(2)
    assert (get.status, get.body) == (200, b"multi GET")
    assert (post.status, post.body) == (200, b"multi POST")


def test_route_decorators_register_their_functions(routes):
    with routes.conn() as c:
        c.send(
            build_request("GET", "/deco")
            + build_request("POST", "/deco", body=b"x")
            + build_request("PUT", "/deco/7", body=b"x")
            + build_request("GET", "/twice-a")
            + build_request("GET", "/twice-b")
            + build_request("GET", "/deco-direct")
        )
        got = [(r.status, r.text) for r in c.responses(6)]
        assert got == [
            (200, "deco GET"),
            (200, "deco POST"),
            (200, "adeco 7"),
            (200, "twice /twice-a"),
            (200, "twice /twice-b"),
            (200, "direct deco GET adeco"),
        ]
        # The methods given to the decorators restrict them as add_route's do.
        c.send(build_request("DELETE", "/deco") + build_request("GET", "/deco/7"))
        bad, wrong = c.responses(2)
    assert bad.status == 405 and wrong.status == 405
    assert {m.strip() for m in bad.header("Allow").split(",")} >= {"GET", "POST"}
    assert "PUT" in wrong.header("Allow")


def test_placeholders_fill_match_dict(routes):
    with routes.conn() as c:
        assert get_json(c, "/user/42/post/a%20b") == {"id": "42", "pid": "a b"}
        c.send(build_request("GET", "/user/42/post/"))  # a placeholder is never empty
        assert c.response().status == 404


def test_match_dict_values_plain_escaped_and_not_utf8(routes):
    # Plain ASCII values are copied, others decoded (UTF-8, surrogateescape): the same str
    # either way, on one connection, pipelined, with routes sharing placeholder names.
    cases = [
        ("/user/1/post/x", {"id": "1", "pid": "x"}),
        ("/user/12345678901234567/post/hello-world-and-more", None),
        ("/user/%31%32/post/a%2Fb", {"id": "12", "pid": "a/b"}),
        ("/user/%C3%A9t%C3%A9/post/caf%C3%A9-long-value", {"id": "été", "pid": "café-long-value"}),
        ("/user/%FF/post/ok%FE", {"id": "\udcff", "pid": "ok\udcfe"}),
        ("/user/a+b/post/100%25/", None),  # a trailing slash: another path, 404
        ("/user/a+b/post/100%", {"id": "a+b", "pid": "100%"}),  # '+' is no space in a path
        ("/user/9/post/9", {"id": "9", "pid": "9"}),
    ]
    with routes.conn() as c:
        c.send(b"".join(build_request("GET", target) for target, _ in cases))
        got = c.responses(len(cases))
    for (target, want), r in zip(cases, got):
        if target.endswith("/"):
            assert r.status == 404, target
            continue
        assert r.status == 200, (target, r)
        if want is None:
            parts = target.split("/")
            want = {"id": parts[2], "pid": parts[4]}
        assert r.json() == want, target


def test_literal_braces_and_more_than_ten_placeholders(routes):
    with routes.conn() as c:
        assert get_json(c, "/brace/%7Bx%7D/val") == {"v": "val"}
        c.send(build_request("GET", "/brace/x/val"))  # "{{x}}" is the text "{x}", not a name
        assert c.response().status == 404
        values = [f"v{i}" for i in range(12)]
        assert get_json(c, "/many/" + "/".join(values)) == {
            f"a{i}": v for i, v in enumerate(values)
        }


def test_async_callables_and_partials_are_handlers(routes):
    with routes.conn() as c:
        c.send(build_request("GET", "/acallable") + build_request("GET", "/partial"))
        acall, part = c.responses(2)
    assert (acall.status, acall.body) == (200, b"acallable")
    assert (part.status, part.body) == (200, b"partial p1")


def test_done_callbacks_of_a_plain_handler(routes):
    with routes.conn() as c:
        c.send(build_request("GET", "/done-sync") + build_request("GET", "/done-count"))
        done, ran = c.responses(2)
    assert done.text == "done-sync"
    assert ran.json() == [["sync", "/done-sync"]]  # ran before the next request was handled


def test_bound_methods_and_callables_are_handlers(routes):
    with routes.conn() as c:
        c.send(build_request("GET", "/bound") + build_request("GET", "/callable"))
        bound, call = c.responses(2)
    assert (bound.status, bound.body) == (200, b"bound x1")
    assert (call.status, call.body) == (200, b"callable")


def test_request_app_route_extra_transport(routes):
    with routes.conn() as c:
        got = get_json(c, "/introspect")
    assert got == {
        "app_is_app": True,
        "route_handler_is_introspect": True,
        "route_pattern": "/introspect",
        "extra_is_dict": True,
        "extra_kept": True,
        "transport_peer_host": "127.0.0.1",
    }


QUERY = "x=%20y&lookup=x-custom&lookup=X-CUSTOM&lookup=Host&lookup=x-absent"


def test_extend_request_adds_methods_and_properties(routes):
    with routes.conn() as c:
        c.send(build_request("GET", "/extended", [("User-Agent", "tester/1")]))
        r = c.response()
    assert r.status == 200
    assert r.text == "hello you at /extended | tester/1 | tester/1"


def test_done_callbacks_run_once_after_the_response(routes):
    with routes.conn() as c:
        c.send(build_request("GET", "/done") + build_request("GET", "/done"))
        assert [x.text for x in c.responses(2)] == ["done", "done"]
        c.send(build_request("GET", "/done-count"))
        ran = c.response().json()
    assert ran == [["first", "/done"], ["second", "/done"]] * 2


def test_a_request_kept_by_the_handler_stays_intact(routes):
    # The server reuses its read buffer once a handler returns; a request object the handler
    # kept must have been given its own copy of its bytes.
    sent = []
    for i in range(3):
        with routes.conn() as c:
            body = (b"body-%d-" % i) * 50
            c.send(
                build_request("POST", f"/keep?n={i}", [("X-Marker", f"m{i}")], body=body)
                + b"".join(build_request("GET", f"/filler/{j}?{'z' * 300}") for j in range(20))
            )
            assert c.response().text == "kept"
            c.responses(20)
        sent.append(
            {
                "path": "/keep",
                "query_string": f"n={i}",
                "x_marker": f"m{i}",
                "body": body.decode(),
                "method": "POST",
                "route": "/keep",
            }
        )
    with routes.conn() as c:
        c.send(build_request("GET", "/kept"))
        assert c.response().json() == sent


def test_kept_requests_of_every_body_kind_stay_intact(routes):
    # Pipelined on one connection, so that the later ones reuse the route the first one found
    # and the connection's recycled request: each kept request owns its head, its headers,
    # its bytes and its route, whatever the connection parses after it.
    te = [("Transfer-Encoding", "chunked")]
    cases = [
        ("GET", "/keep?k=0", [("X-Marker", "a")], None, None),
        ("POST", "/keep?k=1", [("X-Marker", "b")], b"length-body", "length-body"),
        ("POST", "/keep?k=2", [("X-Marker", "c")] + te, chunked(b"chunk", b"ed"), "chunked"),
        ("POST", "/keep?k=3", te, chunked(), ""),
        ("PUT", "/keep?k=4", [("X-Marker", "e")], b"", None),
    ]
    with routes.conn() as c:
        c.send(
            b"".join(build_request(m, t, h, body=b) for m, t, h, b, _ in cases)
            + b"".join(build_request("GET", f"/filler/{j}?{'y' * 200}") for j in range(10))
        )
        assert [r.text for r in c.responses(len(cases))] == ["kept"] * len(cases)
        c.responses(10)
        c.send(build_request("GET", "/kept"))
        got = c.response().json()[-len(cases) :]
    assert got == [
        {
            "path": "/keep",
            "query_string": t.split("?")[1],
            "x_marker": dict(h).get("X-Marker"),
            "body": body,
            "method": m,
            "route": "/keep",
        }
        for m, t, h, _, body in cases
    ]


def test_repeated_routes_keep_every_decision(routes):
    # The connection remembers the last literal route it found (for a known method and a
    # short path) and matches a repeat with one compare: every near miss must still get its
    # own answer, on one connection, pipelined.
    long = "/a-literal-route-longer-than-the-route-memo-keeps"
    cases = [
        ("GET", "/only-get", 200, "only-get"),
        ("GET", "/only-get", 200, "only-get"),
        ("GET", "/only-gex", 404, None),  # same length, another path
        ("GET", "/only-get/", 404, None),
        ("DELETE", "/only-get", 405, None),  # same path, another method
        ("HEAD", "/only-get", 200, ""),
        ("GET", "/only-%67et", 200, "only-get"),  # escaped: the same route
        ("GET", "/only-%67et", 200, "only-get"),
        ("GET", "/only-get", 200, "only-get"),
        ("GET", "/only-get?q=1", 200, "only-get"),
        ("GET", "http://127.0.0.1/only-get", 200, "only-get"),  # absolute-form
        ("POST", "/multi", 200, "multi POST"),
        ("GET", "/multi", 200, "multi GET"),
        ("PUT", "/multi", 405, None),
        ("GET", "/multi", 200, "multi GET"),
        ("PURGE", "/purge", 200, "purge PURGE"),  # a method without a parser id
        ("FOO", "/purge", 405, None),
        ("PURGE", "/purge", 200, "purge PURGE"),
        ("GET", long, 200, "long"),
        ("GET", long, 200, "long"),
        ("GET", long[:-1] + "t", 404, None),
        ("GET", "/bound", 200, "bound x1"),
        ("GET", "/callable", 200, "callable"),
        ("GET", "/bound", 200, "bound x1"),
        ("OPTIONS", "*", 404, None),
        ("GET", "/callable", 200, "callable"),
    ]
    with routes.conn() as c:
        c.send(
            b"".join(
                build_request(m, t, body=b"" if m in ("POST", "PUT") else None)
                for m, t, _, _ in cases
            )
        )
        got = c.responses(len(cases), heads=[m == "HEAD" for m, _, _, _ in cases])
        for (m, t, status, text), r in zip(cases, got):
            assert r.status == status, (m, t, r)
            if text is not None:
                assert r.text == text, (m, t, r)
        # The route a handler sees is the one that matched, also when remembered.
        for _ in range(2):
            assert get_json(c, "/introspect")["route_handler_is_introspect"] is True


def test_handler_sees_the_request_as_sent(echo):
    req = build_request(
        "PATCH",
        "/a%20b/c%2Fd?" + QUERY,
        [
            ("x-custom", "  value with spaces  "),
            ("x-my-header", "v1"),
            ("X-Rep", "first"),
            ("X-Rep", "second"),
        ],
        body=b"payload",
    )
    with echo.conn() as c:
        c.send(req)
        r = c.response()
    assert r.status == 200, r
    got = r.json()
    assert got["method"] == "PATCH"
    # Percent-decoded path; an encoded slash is not a separator but is decoded in the path.
    assert got["path"] == "/a b/c/d"
    assert got["match_dict"] == {"s0": "a b", "s1": "c/d"}
    assert got["query_string"] == QUERY  # raw: not decoded
    assert got["version"] == "1.1"
    assert got["body"] == "payload" and got["body_type"] == "bytes"
    assert got["keep_alive"] is True
    assert "127.0.0.1" in got["remote_addr"]
    # Case-insensitive lookup, surrounding whitespace not part of the value.
    assert got["lookups"] == {
        "x-custom": "value with spaces",
        "X-CUSTOM": "value with spaces",
        "Host": "127.0.0.1",
        "x-absent": None,
    }
    headers = got["headers"]
    # Names come Title-Cased, as Japronto gave them.
    assert ["X-My-Header", "v1"] in headers, headers
    # Repeated headers are not lost (as two pairs or one joined value).
    rep = " ".join(v for k, v in headers if k.lower() == "x-rep")
    assert "first" in rep and "second" in rep, headers


def test_query_string_is_none_without_question_mark_and_empty_with_it(echo):
    with echo.conn() as c:
        c.send(build_request("GET", "/p") + build_request("GET", "/p?"))
        without, empty = c.responses(2)
    assert without.json()["query_string"] is None
    assert empty.json()["query_string"] == ""
    assert without.json()["body_is_none"] is True  # no body: None, not b""


def test_server_runs_on_the_loop_it_was_asked_for(slow, loop_name):
    with slow.conn() as c:
        got = get_json(c, "/loop")
    if loop_name == "uvloop":
        assert got["loop"].startswith("uvloop"), got
    else:
        assert got["loop"].startswith("asyncio."), got
    assert got["app_loop_is_running_loop"] is True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_server_with_exit_code_0(start_server, sig):
    server = start_server("slow")
    idle = server.conn()
    busy = server.conn()
    probe = server.conn()
    try:
        idle.send(build_request("GET", "/sync"))
        assert idle.response().body == b"sync"
        busy.send(build_request("GET", "/hang"))
        wait_for(lambda: get_json(probe, "/count")["started"] == 1, what="/hang to start")
        problems = server.stop(sig)
        assert problems == [], problems
        assert server.returncode == 0, server.stderr_tail()
        assert "Traceback" not in server.stderr(), server.stderr_tail()
        idle.expect_eof(timeout=2)
    finally:
        for c in (idle, busy, probe):
            c.close()
