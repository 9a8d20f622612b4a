"""The parsed Request attributes over real sockets (tests/apps/attrs.py echoes them as JSON):
query, query_all, text, json, mime_type, encoding, form, form_all, files, cookies, hostname,
port. request_helpers itself is unit-tested in tests/test_request_helpers.py."""

import hashlib
import os
from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire import build_request, chunked

pytestmark = pytest.mark.timeout(60)


def ask(server, method="GET", target="/", headers=(), body=None, host="127.0.0.1"):
    with server.conn() as c:
        c.send(build_request(method, target, headers=headers, body=body, host=host))
        r = c.response()
    assert r.status == 200, r.raw
    return r.json()


def test_no_query_no_body(attrs_app):
    got = ask(attrs_app)
    assert got["query"] == {} and got["query_all"] == []
    assert got["text"] is None and got["json"] is None
    assert got["mime_type"] is None and got["encoding"] is None
    assert got["form"] == {} and got["form_all"] == [] and got["files"] == {}
    assert got["cookies"] == {}
    assert (got["hostname"], got["port"]) == ("127.0.0.1", None)


def test_query(attrs_app):
    got = ask(attrs_app, target="/p?a=1&b=x+y%20z&a=2&flag&e=%C3%A9&bad=%FF")
    assert got["query_all"] == [
        ["a", "1"],
        ["b", "x y z"],
        ["a", "2"],
        ["flag", ""],
        ["e", "é"],
        ["bad", "\ufffd"],
    ]
    assert got["query"] == {"a": "2", "b": "x y z", "flag": "", "e": "é", "bad": "\ufffd"}
    assert ask(attrs_app, target="/?")["query"] == {}


SAFE = st.text(alphabet="azAZ09-_.~ é&=+%?/#;", max_size=6)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(SAFE, SAFE), max_size=5))
def test_query_all_matches_parse_qsl(attrs_app, pairs):
    qs = "&".join(quote(k, safe="") + "=" + quote(v, safe="") for k, v in pairs)
    got = ask(attrs_app, target="/?" + qs)
    assert [tuple(p) for p in got["query_all"]] == parse_qsl(qs, keep_blank_values=True)


# Names up to and beyond the 32 bytes the server keeps made, sharing length, first and last
# byte (so that they meet in its small cache of names), escaped or not.
NAMES = st.sampled_from(
    ["a", "ab", "acb", "adb", "fields", "x" * 32, "x" * 33, "é", "a b", "a+b", "k%", "%41b"]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(NAMES, SAFE), max_size=6), raw=st.booleans())
def test_query_dict_matches_parse_qsl(attrs_app, pairs, raw):
    # query is dict(query_all): the first place and the last value of a repeated name.
    quote_name = (lambda k: k.replace(" ", "+")) if raw else (lambda k: quote(k, safe=""))
    qs = "&".join(
        quote_name(k) + "=" + quote(v, safe="") for k, v in pairs if k.isascii() or not raw
    )
    got = ask(attrs_app, target="/?" + qs)
    want = dict(parse_qsl(qs, keep_blank_values=True))
    assert list(got["query"].items()) == list(want.items())
    assert [tuple(p) for p in got["query_all"]] == parse_qsl(qs, keep_blank_values=True)


def test_query_names_on_one_connection(attrs_app):
    # Many names, more than the server's cache holds, some colliding in it, pipelined on one
    # connection: each request sees exactly its own names and values.
    targets = [f"/?name{i}=v{i}&acb={i}&adb=x{i}&name{i}=w" for i in range(40)]
    targets += ["/?fields=a,b", "/?fields=a%2Cb&fields=c", "/?f%69elds=1", "/?fields", "/?=x&y="]
    with attrs_app.conn() as c:
        c.send(b"".join(build_request("GET", t) for t in targets))
        got = c.responses(len(targets))
    for t, r in zip(targets, got):
        assert r.status == 200, r
        qs = t.split("?", 1)[1]
        want = dict(parse_qsl(qs, keep_blank_values=True))
        assert list(r.json()["query"].items()) == list(want.items()), t


def test_text_json_and_content_type(attrs_app):
    got = ask(
        attrs_app,
        "POST",
        headers=[("Content-Type", "Application/JSON; Charset=UTF-8")],
        body='{"k": ["é", 1]}'.encode(),
    )
    assert got["mime_type"] == "application/json" and got["encoding"] == "utf-8"
    assert got["text"] == '{"k": ["é", 1]}'
    assert got["json"] == {"k": ["é", 1]}
    got = ask(
        attrs_app,
        "POST",
        headers=[("Content-Type", "text/plain; charset=latin-1")],
        body="été".encode("latin-1"),
    )
    assert got["text"] == "été" and got["encoding"] == "latin-1"
    # Content-Length: 0 is reported by the engine as no body (request.body is None).
    got = ask(attrs_app, "POST", body=b"")
    assert got["text"] is None and got["json"] is None


def test_bad_bodies_raise_value_errors(attrs_app):
    got = ask(attrs_app, "POST", headers=[("Content-Type", "application/json")], body=b"{bad")
    assert got["text"] == "{bad"
    assert got["json"]["error"] == "JSONBodyError" and got["json"]["is_value_error"]
    assert "not valid JSON" in got["json"]["message"]
    got = ask(attrs_app, "POST", body=b"\xff\xfe")
    for name in ("text", "json"):
        assert got[name]["error"] == "BodyDecodeError" and got[name]["is_value_error"]
    got = ask(attrs_app, "POST", headers=[("Content-Type", "text/plain; charset=nope")], body=b"a")
    assert "unknown charset" in got["text"]["message"]


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "unicode_escape"])
def test_a_codec_that_is_no_charset_is_an_unknown_charset(attrs_app, charset):
    # Python decodes with these, but they are no body charset: they raise other errors than
    # BodyDecodeError (idna, punycode, undefined) or warn on the server's stderr (the escape
    # codec). text and json refuse them as unknown; a form is read as UTF-8.
    for ctype, body in (("text/plain", b"a\\N{x}\xff"), ("application/json", b'"\\N{x}"')):
        got = ask(
            attrs_app, "POST", headers=[("Content-Type", f"{ctype}; charset={charset}")], body=body
        )
        for name in ("text", "json"):
            assert got[name]["error"] == "BodyDecodeError", got[name]
            assert f"unknown charset '{charset}'" in got[name]["message"]
    got = ask(
        attrs_app,
        "POST",
        headers=[("Content-Type", f"application/x-www-form-urlencoded; charset={charset}")],
        body=b"a=%C3%A9&b=%ff",
    )
    assert got["form"] == {"a": "é", "b": "\ufffd"}


def test_urlencoded_form_chunked(attrs_app):
    got = ask(
        attrs_app,
        "POST",
        headers=[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Transfer-Encoding", "chunked"),
        ],
        body=chunked(b"a=1&b=%C3%A9", b"+x&a=2"),
    )
    assert got["form"] == {"a": "2", "b": "é x"}
    assert got["form_all"] == [["a", "1"], ["b", "é x"], ["a", "2"]]
    assert got["files"] == {}


BOUNDARY = "----jpTestBoundaryQ1w2E3"


def multipart_body(fields, files):
    out = b""
    for name, value in fields:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, filename, ctype, content in files:
        out += (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()
        out += content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_multipart_files_and_fields(attrs_app):
    small = b"hello\r\nworld"
    big = os.urandom(300_000) + b"\r\n--" + BOUNDARY.encode()[:-1]
    body = multipart_body(
        [("title", "été"), ("tag", "x"), ("tag", "y")],
        [("doc", "a.txt", "text/plain", small), ("img", "pic ü.png", "image/png", big)],
    )
    got = ask(
        attrs_app,
        "POST",
        headers=[("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")],
        body=body,
    )
    assert got["form"] == {"title": "été", "tag": "y"}
    assert got["form_all"] == [["title", "été"], ["tag", "x"], ["tag", "y"]]
    assert got["files"] == {
        "doc": {
            "name": "a.txt",
            "type": "text/plain",
            "len": len(small),
            "sha256": hashlib.sha256(small).hexdigest(),
        },
        "img": {
            "name": "pic ü.png",
            "type": "image/png",
            "len": len(big),
            "sha256": hashlib.sha256(big).hexdigest(),
        },
    }


@pytest.mark.parametrize(
    "ctype, body",
    [
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data; name=a"),
        ("multipart/form-data; boundary=b", b"--b\r\nbad header\r\n\r\nv\r\n--b--"),
        ("multipart/form-data; boundary=b", b"--b\r\nX: y\r\n\r\nv\r\n--b--"),
    ],
)
def test_malformed_multipart_is_a_catchable_error(attrs_app, ctype, body):
    got = ask(attrs_app, "POST", headers=[("Content-Type", ctype)], body=body)
    for name in ("form", "form_all", "files"):
        assert got[name]["error"] == "MultipartError" and got[name]["is_value_error"], got
    # The connection and the server stay fine.
    assert ask(attrs_app)["query"] == {}


def test_cookies(attrs_app):
    got = ask(
        attrs_app,
        headers=[("Cookie", 'a=1; b="two"; junk; =x'), ("Cookie", "c=3; a=ignored")],
    )
    assert got["cookies"] == {"a": "1", "b": "two", "c": "3"}
    got = ask(attrs_app, headers=[("Cookie", ";;=;  ;a b=1")])
    assert got["cookies"] == {}


@pytest.mark.parametrize(
    "host, expected",
    [
        ("example.com", ["example.com", None]),
        ("Example.com:8080", ["example.com", 8080]),
        ("[::1]:8080", ["::1", 8080]),
        ("[::1]", ["::1", None]),
        ("example.com:", ["example.com", None]),
    ],
)
def test_host_forms(attrs_app, host, expected):
    got = ask(attrs_app, host=host)
    assert [got["hostname"], got["port"]] == expected


def test_no_host_on_http10(attrs_app):
    with attrs_app.conn() as c:
        c.send(build_request("GET", "/", version="1.0", host=None))
        got = c.response().json()
    assert got["hostname"] is None and got["port"] is None


def test_attributes_do_not_leak_into_the_next_request(attrs_app):
    """The connection recycles its Request object: nothing cached may survive."""
    first = build_request(
        "POST",
        "/?a=1",
        headers=[("Content-Type", "application/json"), ("Cookie", "s=1")],
        body=b'{"x": 1}',
        host="one.example:1",
    )
    second = build_request("GET", "/", host="two.example")
    with attrs_app.conn() as c:
        c.send(first + second)
        a, b = c.response().json(), c.response().json()
    assert a["query"] == {"a": "1"} and a["json"] == {"x": 1} and a["cookies"] == {"s": "1"}
    assert a["hostname"] == "one.example" and a["port"] == 1
    assert b["query"] == {} and b["json"] is None and b["cookies"] == {}
    assert b["hostname"] == "two.example" and b["port"] is None
    assert b["mime_type"] is None
