"""Responses as they arrive on the wire: status lines, bodies and their framing, headers,
cookies, and the Response constructor's rules."""

import pytest
from wire import build_request

pytestmark = pytest.mark.timeout(30)

STANDARD_REASONS = {
    200: "OK",
    201: "Created",
    308: "Permanent Redirect",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def test_status_codes_and_reasons(responses_app):
    codes = [200, 201, 202, 299, 301, 308, 400, 404, 418, 422, 429, 451, 500, 503, 599]
    with responses_app.conn() as c:
        c.send(b"".join(build_request("GET", f"/code/{n}") for n in codes))
        rs = c.responses(len(codes))
    for n, r in zip(codes, rs):
        assert (r.status, r.body) == (n, f"code {n}".encode()), r
        if n in (200, 201, 308, 404, 429, 500, 503):
            assert r.reason == STANDARD_REASONS[n], r
        if n == 422:  # RFC 9110 renamed it; either name is standard
            assert r.reason in ("Unprocessable Content", "Unprocessable Entity"), r
        assert "close" not in r.connection_tokens()


def test_every_status_code_from_100_to_599(responses_app):
    """Every code is accepted and sent as given; 1xx, 204 and 304 carry no body (the reader
    frames them so: a body would break the responses after them), every other one its text.
    1xx are interim responses, so each is followed here by a final one."""
    codes = list(range(100, 600))
    with responses_app.conn() as c:
        for start in range(0, len(codes), 100):
            batch = codes[start : start + 100]
            c.send(b"".join(build_request("GET", f"/code/{n}") for n in batch))
            for n, r in zip(batch, c.responses(len(batch))):
                assert r.status == n, r
                if n < 200 or n in (204, 304):
                    assert r.body == b"" and not r.has_header("Content-Length"), r
                else:
                    assert r.body == f"code {n}".encode(), r
        c.send(build_request("GET", "/code/200"))
        assert c.response().body == b"code 200"


def test_response_arguments_by_position(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/positional"))
        r = c.response()
    assert (r.status, r.body) == (201, b"<b>p</b>")
    assert r.header("Content-Type") == "text/html; charset=utf-8"


def test_a_huge_response_header_is_sent_whole(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/huge-header") + build_request("GET", "/code/200"))
        huge, after = c.responses(2)
    assert huge.header("X-Huge") == "h" * (1 << 20) and huge.body == b"huge"
    assert after.body == b"code 200"


def test_204_and_304_have_no_body(responses_app):
    with responses_app.conn() as c:
        c.send(
            build_request("GET", "/code/204")
            + build_request("GET", "/code/304")
            + build_request("GET", "/code/200")
        )
        no_content, not_modified, ok = c.responses(3)
    assert no_content.status == 204 and no_content.body == b""
    assert not no_content.has_header("Content-Length")  # RFC 9110 8.6: never in a 204
    assert not_modified.status == 304 and not_modified.body == b""
    assert (ok.status, ok.body) == (200, b"code 200")


def test_custom_headers_are_sent(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/headers"))
        r = c.response()
    assert r.header("X-One") == "1" and r.header("X-Two") == "two words"
    assert r.header("Content-Length") == "1" and r.body == b"h"


def test_headers_as_a_list_of_pairs_keep_repeats_and_order(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/header-list"))
        r = c.response()
    assert r.header_all("X-Rep") == ["a", "b"] and r.header("X-Last") == "z"
    names = [k.lower() for k, _ in r.headers]
    assert names.index("x-rep") < names.index("x-last")


def test_json_body(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/json"))
        r = c.response()
    assert r.header("Content-Type", "").startswith("application/json")
    assert r.json() == {"a": [1, 2], "b": "é"}


def test_bytes_body(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/bytes"))
        r = c.response()
    assert r.body == b"\x00\x01\xfe\xff"
    assert r.header("Content-Type", "").startswith("application/octet-stream")


def test_text_encoding_and_mime_type(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/latin1") + build_request("GET", "/mime"))
        latin, html = c.responses(2)
    assert latin.body == "café".encode("latin-1")
    ct = latin.header("Content-Type", "").lower()
    assert ct.startswith("text/plain") and ("latin-1" in ct or "iso-8859-1" in ct), ct
    ct = html.header("Content-Type", "").lower()
    assert ct.startswith("text/html") and "charset=utf-8" in ct, ct


def test_cookies_become_set_cookie_headers(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/cookies"))
        r = c.response()
    cookies = sorted(r.header_all("Set-Cookie"))
    assert len(cookies) == 2, r.headers
    assert cookies[0].startswith("session=abc123") and "Path=/" in cookies[0]
    assert cookies[1].startswith("theme=dark")


def test_response_with_connection_close_closes(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/close") + build_request("GET", "/code/200"))
        r = c.response()
        assert r.body == b"closing" and "close" in r.connection_tokens()
        c.expect_eof()


def test_response_constructor_rules(responses_app):
    with responses_app.conn() as c:
        c.send(b"".join(build_request("GET", p) for p in ("/twice", "/both", "/crlf")))
        twice, both, crlf = c.responses(3)
    assert twice.body == b"distinct"
    assert both.body == b"TypeError"
    assert crlf.body == b"ValueError"
    assert not crlf.has_header("X-Evil")


def test_request_response_every_way_it_is_reached(responses_app):
    with responses_app.conn() as c:
        c.send(build_request("GET", "/ways"))
        assert c.response().body == b"same"


def test_big_body_and_head_of_it(responses_app):
    big = b"0123456789abcdef" * 65536
    with responses_app.conn() as c:
        c.send(
            build_request("GET", "/big")
            + build_request("HEAD", "/big")
            + build_request("GET", "/big")
        )
        a, h, b = c.responses(3, heads=[False, True, False], timeout=10)
    assert a.body == big and b.body == big
    assert h.body == b"" and h.header("Content-Length") == str(len(big))


@pytest.mark.parametrize("app", ["responses", "routes"])
def test_request_response_called_every_way(start_server, app):
    # request.Response is a method descriptor of the server's own: the usual call, a bound
    # method kept in a variable and the unbound method all make Responses, on the exact
    # Request type (responses app) and on an app's subclass of it (routes extends requests).
    server = start_server(app)
    with server.conn() as c:
        c.send(build_request("GET", "/forms"))
        r = c.response()
    assert r.status == 200, r
    got = r.json()
    assert got["made"] == ["method", "bound", "own type", "base type", "positional"]
    assert got["errors"] == ["TypeError"] * 3
    assert got["exact_type"] is (app == "responses")
