"""Response: construction, validation and the bytes the serialiser writes.

Everything goes through _core.Response and the private hooks _core._serialize and
_core._serialize_simple, which run the same C serialiser the server uses, with a Date line
for the current second. Expectations are bytes-exact, with the Date value normalised.
"""

import email.utils
import gc
import http
import http.cookies
import inspect
import json
import re
import sys
import time
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from japronto import _core

Response = _core.Response

DATE_LINE = re.compile(
    rb"Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\r\n"
)
DATE = b"Date: <date>\r\n"


def norm(raw):
    """The response with its one Date line replaced by a placeholder."""
    assert len(DATE_LINE.findall(raw)) == 1, raw
    return DATE_LINE.sub(DATE.replace(b"\\", b"\\\\"), raw)


def ser(response, **kw):
    return norm(_core._serialize(response, **kw))


def split(raw):
    """(status line, [header lines], body) of a serialised response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    return lines[0], lines[1:], body


def header_values(raw, name):
    _, lines, _ = split(raw)
    prefix = name.lower() + b":"
    return [ln.split(b":", 1)[1].strip() for ln in lines if ln.lower().startswith(prefix)]


# --- the main shapes, bytes-exact -------------------------------------------------------------


def test_hello_world_exact():
    assert ser(Response(text="Hello world!")) == (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 12\r\n" + DATE + b"Server: japronto\r\n"
        b"\r\n"
        b"Hello world!"
    )


def test_json_exact():
    assert ser(Response(json={"a": [1, 2, "é"]}, code=201)) == (
        b"HTTP/1.1 201 Created\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: 16\r\n" + DATE + b"Server: japronto\r\n"
        b"\r\n" + '{"a":[1,2,"é"]}'.encode()
    )


def test_body_exact():
    assert ser(Response(body=b"\x00\x01\xff")) == (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Length: 3\r\n" + DATE + b"Server: japronto\r\n"
        b"\r\n\x00\x01\xff"
    )


def test_no_body_exact():
    assert ser(Response()) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + DATE + b"Server: japronto\r\n\r\n"
    )


def test_headers_and_cookies_exact():
    cookies = http.cookies.SimpleCookie()
    cookies["sid"] = "abc"
    cookies["sid"]["path"] = "/"
    cookies["sid"]["httponly"] = True
    r = Response(
        text="<p>hi</p>",
        code=404,
        mime_type="text/html",
        headers=[("X-One", "1"), ("X-One", 2), (b"X-Raw", b"raw")],
        cookies=cookies,
    )
    assert ser(r, keep_alive=False) == (
        b"HTTP/1.1 404 Not Found\r\n"
        b"Content-Length: 9\r\n" + DATE + b"Server: japronto\r\n"
        b"Connection: close\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n"
        b"X-One: 1\r\n"
        b"X-One: 2\r\n"
        b"X-Raw: raw\r\n"
        b"Set-Cookie: sid=abc; HttpOnly; Path=/\r\n"
        b"\r\n"
        b"<p>hi</p>"
    )


def test_date_line_is_now():
    raw = _core._serialize(Response(text="x"))
    value = DATE_LINE.search(raw).group(0)[6:-2].decode()
    assert abs(email.utils.parsedate_to_datetime(value).timestamp() - time.time()) < 5


def test_content_length_digits():
    for n in (0, 1, 9, 10, 99, 100, 12345, 1 << 20):
        raw = _core._serialize(Response(body=b"a" * n))
        assert header_values(raw, b"Content-Length") == [str(n).encode()]
        assert split(raw)[2] == b"a" * n


def fast_200(content_type, body):
    """The bytes of a 200 on HTTP/1.1 keep-alive with no header of the user's: what the fast
    path writes, spelled out."""
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: "
        + content_type
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n"
        + DATE
        + b"Server: japronto\r\n\r\n"
        + body
    )


def ser_after(response, before):
    """What the serialiser appends to a buffer that already holds `before` (and the room its
    growth gave it: 1,024 bytes at first, doubling): the fast path writes in place when the
    room is there, else it grows the buffer first."""
    raw = _core._serialize(response, before=before)
    assert raw.startswith(before)
    return norm(raw[len(before) :])


def test_text_fast_path_bytes_at_every_small_length():
    # The 200-text fast path copies small bodies with fixed-size overlapping moves and writes
    # the Content-Length digits in place: every size class and digit count, byte for byte,
    # into an empty buffer (grown first) and after 7 bytes of a 1,024-byte one (in place).
    lengths = [*range(0, 70), 99, 100, 101, 999, 1000, 1001, 4096, 9999, 10000, 65537, 100000]
    for n in lengths:
        for text in ("".join(chr(ord("a") + i % 26) for i in range(n)), "é" * (n // 2)):
            expected = fast_200(b"text/plain; charset=utf-8", text.encode())
            assert ser(Response(text=text)) == expected, n
            assert ser_after(Response(text=text), b"x" * 7) == expected, n


def test_fast_path_room_check():
    # After `filled` bytes of a 1,024-byte buffer the fast path has room in place or not; on
    # either side of that edge, and with bodies up to the longest it copies inline (64) and
    # past it, the bytes are the same and nothing is written past the buffer (ASan build).
    for n in (0, 13, 63, 64, 65, 200):
        response = Response(text="t" * n)
        expected = fast_200(b"text/plain; charset=utf-8", b"t" * n)
        for filled in range(1024 - 300, 1025):
            assert ser_after(response, b"-" * filled) == expected, (n, filled)


def test_json_fast_path_bytes_and_the_general_path():
    # A 200 JSON answer on HTTP/1.1 keep-alive takes the same fast path with its own
    # Content-Type; anything else about it (a header of the user's, HTTP/1.0, HEAD, a status)
    # takes the general path, which must write what it always wrote.
    for n in (0, 1, 7, 8, 15, 16, 31, 32, 33, 56, 57, 58, 200):
        value = {"k": "v" * n}
        expected = fast_200(b"application/json", json.dumps(value, separators=(",", ":")).encode())
        assert ser(Response(json=value)) == expected, n
        assert ser_after(Response(json=value), b"x" * 3) == expected, n
    r = Response(json=[1])
    assert ser(r, version_minor=0, keep_alive=True) == (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
        + DATE
        + b"Server: japronto\r\nConnection: keep-alive\r\n\r\n[1]"
    )
    assert ser(r, head=True).endswith(b"Server: japronto\r\n\r\n")
    assert ser(Response(json=[1], code=201)).startswith(
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
    )


# --- construction: arguments -------------------------------------------------------------------


def test_defaults_and_attributes():
    r = Response(text="héllo")
    assert r.code == 200
    assert r.text == "héllo"
    assert r.body == "héllo".encode()
    assert r.mime_type == "text/plain"
    assert r.encoding == "utf-8"
    assert r.headers is None
    assert r.cookies is None

    r = Response()
    assert (r.text, r.body, r.mime_type, r.encoding) == (None, None, None, "utf-8")

    b = b"bytes body"
    r = Response(body=b)
    assert r.body is b
    assert r.mime_type == "application/octet-stream"
    assert r.text == "bytes body"

    r = Response(json=[1, "é"])
    assert json.loads(r.body) == [1, "é"]
    assert json.loads(r.text) == [1, "é"]
    assert r.mime_type == "application/json"


def test_positional_order():
    headers = {"X-A": "1"}
    r = Response("hi", 201, None, None, "text/html", "latin-1", headers, None)
    assert (r.text, r.code, r.mime_type, r.encoding, r.headers) == (
        "hi",
        201,
        "text/html",
        "latin-1",
        headers,
    )
    assert Response(None, 202, b"x").body == b"x"
    assert json.loads(Response(None, None, None, {"k": 1}).body) == {"k": 1}


def test_argument_errors():
    with pytest.raises(TypeError, match="unexpected keyword"):
        Response(txt="x")
    with pytest.raises(TypeError, match="multiple values"):
        Response("x", text="y")
    with pytest.raises(TypeError, match="at most 8"):
        Response(*([None] * 9))


def test_generic_call_paths_agree():
    # The type call takes vectorcall; __new__ and a call with ** go the generic way.
    for make in (
        lambda: Response(text="x", code=201, headers={"X-A": "1"}),
        lambda: Response(*("x", 201), **{"headers": {"X-A": "1"}}),
        lambda: Response.__new__(Response, "x", 201, headers={"X-A": "1"}),
    ):
        assert ser(make()) == ser(Response(text="x", code=201, headers={"X-A": "1"}))
    with pytest.raises(TypeError):
        Response.__new__(Response, txt="x")


def test_each_call_gives_a_new_object():
    assert Response(text="x") is not Response(text="x")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"text": "a", "body": b"b"},
        {"text": "a", "json": 1},
        {"json": 1, "body": b"b"},
        {"text": "a", "json": 1, "body": b"b"},
    ],
)
def test_two_bodies_is_type_error(kwargs):
    with pytest.raises(TypeError, match="at most one"):
        Response(**kwargs)


def test_none_means_absent():
    r = Response(text=None, code=None, body=b"x", json=None, mime_type=None, encoding=None)
    assert r.body == b"x" and r.code == 200


def test_body_types():
    with pytest.raises(TypeError, match="text must be a str"):
        Response(text=b"bytes")
    with pytest.raises(TypeError, match="body must be bytes-like"):
        Response(body="str")
    with pytest.raises(TypeError, match="body must be bytes-like"):
        Response(body=123)
    ba = bytearray(b"abc")
    r = Response(body=ba)
    ba.extend(b"def")  # copied at construction: the declared length cannot go stale
    assert r.body == b"abc"
    assert split(_core._serialize(r))[2] == b"abc"
    assert Response(body=memoryview(b"xyz")).body == b"xyz"
    assert Response(body=memoryview(b"0123456789")[::2]).body == b"02468"


def test_code_range():
    for code in range(100, 600):
        r = Response(code=code)
        assert r.code == code
        assert _core._serialize(r).startswith(b"HTTP/1.1 %d " % code)
    for bad in (99, 600, 0, -200, 1000, 2**70, -(2**70)):
        with pytest.raises(ValueError, match="between 100 and 599"):
            Response(code=bad)
    for bad in ("200", 200.0, True, False):
        with pytest.raises(TypeError, match="code must be an int"):
            Response(code=bad)
    assert Response(code=http.HTTPStatus.NOT_FOUND).code == 404


REASONS = {
    100: "Continue",
    101: "Switching Protocols",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    206: "Partial Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    417: "Expectation Failed",
    418: "I'm a teapot",
    421: "Misdirected Request",
    422: "Unprocessable Content",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Required",
}


def test_reason_phrases():
    for code, reason in REASONS.items():
        status = split(_core._serialize(Response(code=code)))[0]
        assert status == f"HTTP/1.1 {code} {reason}".encode()


def test_unknown_codes_have_an_empty_reason():
    for code in (199, 299, 309, 419, 499, 509, 599):
        raw = _core._serialize(Response(code=code))
        assert raw.startswith(b"HTTP/1.1 %d \r\n" % code)


def test_every_registered_phrase_matches_http_module_or_rfc9110():
    # Python's own table uses older wording for a few codes; RFC 9110 renamed them.
    renamed = {413, 414, 416, 422}
    for status in http.HTTPStatus:
        if status.value in renamed or status.value == 509:
            continue
        line = split(_core._serialize(Response(code=status.value)))[0]
        if status.value in (418, 425):
            continue  # "I'm a Teapot" / "Too Early" spellings differ across Python versions
        assert line == f"HTTP/1.1 {status.value} {status.phrase}".encode(), status


# --- content type and charset ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, ctype",
    [
        ({"text": "x"}, b"text/plain; charset=utf-8"),
        ({"text": "x", "encoding": "utf-8"}, b"text/plain; charset=utf-8"),
        ({"text": "x", "encoding": "UTF-8"}, b"text/plain; charset=UTF-8"),
        ({"text": "x", "encoding": "latin-1"}, b"text/plain; charset=latin-1"),
        ({"text": "x", "mime_type": "text/html"}, b"text/html; charset=utf-8"),
        ({"text": "x", "mime_type": "text/csv", "encoding": "ascii"}, b"text/csv; charset=ascii"),
        ({"text": "x", "mime_type": "text/html; charset=koi8-r"}, b"text/html; charset=koi8-r"),
        ({"text": "x", "mime_type": "text/html; CHARSET=x"}, b"text/html; CHARSET=x"),
        ({"json": 1}, b"application/json"),
        ({"json": 1, "encoding": "utf-8"}, b"application/json"),
        ({"json": 1, "mime_type": "application/problem+json"}, b"application/problem+json"),
        ({"body": b"x"}, b"application/octet-stream"),
        ({"body": b"x", "mime_type": "image/png"}, b"image/png"),
        ({"body": b"x", "mime_type": "text/html"}, b"text/html"),
        (
            {"body": b"x", "mime_type": "text/html", "encoding": "latin-1"},
            b"text/html; charset=latin-1",
        ),
        ({"body": b"x", "encoding": "utf-8"}, b"application/octet-stream; charset=utf-8"),
        ({"mime_type": "text/html"}, b"text/html"),
    ],
)
def test_content_type(kwargs, ctype):
    assert header_values(_core._serialize(Response(**kwargs)), b"Content-Type") == [ctype]


def test_no_content_type_without_body():
    assert header_values(_core._serialize(Response()), b"Content-Type") == []
    assert header_values(_core._serialize(Response(encoding="latin-1")), b"Content-Type") == []


def test_text_encoding():
    r = Response(text="é€", encoding="utf-8")
    assert r.body == "é€".encode()
    r = Response(text="é", encoding="latin-1")
    assert r.body == b"\xe9"
    assert r.text == "é"
    assert split(_core._serialize(r))[2] == b"\xe9"
    r = Response(text="é", encoding="utf_8")
    assert r.body == b"\xc3\xa9"
    with pytest.raises(UnicodeEncodeError):
        Response(text="€", encoding="latin-1")
    with pytest.raises(UnicodeEncodeError):
        Response(text="\ud800")  # a lone surrogate has no UTF-8 form
    with pytest.raises(LookupError):
        Response(text="x", encoding="no-such-codec")
    r = Response(body="é".encode("latin-1"), encoding="latin-1")
    assert r.text == "é"


def test_encoding_and_mime_type_validation():
    for bad in ("", "utf 8", "utf-8\r\nX: y", "é"):
        with pytest.raises(ValueError, match="charset"):
            Response(text="x", encoding=bad)
    with pytest.raises(TypeError):
        Response(text="x", encoding=b"utf-8")
    with pytest.raises(TypeError):
        Response(text="x", mime_type=b"text/html")
    with pytest.raises(ValueError):
        Response(text="x", mime_type="")
    for bad in ("text/html\r\nX-Evil: 1", "text/html\n", "text/\x00html"):
        # The message names the argument and its value.
        with pytest.raises(ValueError, match=r"^mime_type '.*' contains CR, LF or NUL"):
            Response(text="x", mime_type=bad)
    with pytest.raises(ValueError, match=r"^mime_type 'text/\\x07' contains the control byte 0x07"):
        Response(text="x", mime_type="text/\x07")
    with pytest.raises(ValueError, match="UTF-8"):
        Response(json={}, encoding="latin-1")


# --- JSON --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "obj",
    [
        {"a": 1, "b": [True, False, None], "c": {"d": "é€😀"}},
        [],
        {},
        'a string with "quotes" and \\ and \n',
        12345678901234567890,
        1.5,
        False,
        [{"nested": [[[]]]}] * 3,
    ],
)
def test_json_matches_json_dumps(obj):
    r = Response(json=obj)
    assert json.loads(r.body) == json.loads(json.dumps(obj))
    assert r.text == r.body.decode("utf-8")


def test_json_none_means_absent():
    # As for every keyword, None means "not given"; JSON null is body=b"null".
    assert Response(json=None).body is None


def test_json_compact_and_not_ascii_escaped():
    obj = {"k": ["é", 1]}
    assert (
        Response(json=obj).body
        == json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    )


def test_json_errors_propagate():
    with pytest.raises(TypeError):
        Response(json=object())
    with pytest.raises((TypeError, ValueError)):
        Response(json={"x": {1, 2}})


# --- headers -----------------------------------------------------------------------------------


def test_header_containers():
    expect = [b"X-A: 1", b"X-B: 2"]

    def lines(h):
        _, got, _ = split(_core._serialize(Response(headers=h)))
        return [ln for ln in got if ln.startswith(b"X-")]

    assert lines({"X-A": "1", "X-B": "2"}) == expect
    assert lines([("X-A", "1"), ("X-B", "2")]) == expect
    assert lines((("X-A", "1"), ["X-B", "2"])) == expect
    assert lines(iter([("X-A", "1"), ("X-B", "2")])) == expect
    assert lines(p for p in [("X-A", "1"), ("X-B", "2")]) == expect
    assert lines(types.MappingProxyType({"X-A": "1", "X-B": "2"})) == expect
    assert lines({}) == []
    assert lines([]) == []


def test_repeated_header_names_kept_in_order():
    h = [("Link", "<a>"), ("X-Other", "x"), ("Link", "<b>"), ("link", "<c>")]
    raw = _core._serialize(Response(headers=h))
    assert header_values(raw, b"Link") == [b"<a>", b"<b>", b"<c>"]


def test_header_value_types():
    raw = _core._serialize(
        Response(headers=[("A", "str"), ("B", b"bytes"), ("C", 42), ("D", -7), ("E", 2**80)])
    )
    assert header_values(raw, b"A") == [b"str"]
    assert header_values(raw, b"B") == [b"bytes"]
    assert header_values(raw, b"C") == [b"42"]
    assert header_values(raw, b"D") == [b"-7"]
    assert header_values(raw, b"E") == [str(2**80).encode()]
    assert header_values(_core._serialize(Response(headers={"A": http.HTTPStatus.OK})), b"A") == [
        b"200"
    ]
    assert header_values(_core._serialize(Response(headers={"A": "é"})), b"A") == [b"\xe9"]
    assert header_values(_core._serialize(Response(headers={"A": "a\tb c"})), b"A") == [b"a\tb c"]
    assert header_values(_core._serialize(Response(headers={"A": ""})), b"A") == [b""]
    for bad in (1.5, None, True, ["x"], object()):
        with pytest.raises(TypeError, match="header value must be"):
            Response(headers={"A": bad})
    with pytest.raises(UnicodeEncodeError):
        Response(headers={"A": "€"})


def test_header_structure_errors():
    with pytest.raises(TypeError):
        Response(headers="X-A: 1")
    with pytest.raises(TypeError):
        Response(headers=b"X-A: 1")
    with pytest.raises(TypeError):
        Response(headers=42)
    with pytest.raises(TypeError, match="pair"):
        Response(headers=[("X-A", "1", "extra")])
    with pytest.raises(TypeError, match="pair"):
        Response(headers=["ab"])
    with pytest.raises(TypeError, match="header name must be"):
        Response(headers=[(1, "x")])


@pytest.mark.parametrize("bad", ["\r", "\n", "\0", "\r\n"])
def test_crlf_nul_rejected(bad):
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Response(headers={"X-A": "a" + bad + "Set-Cookie: evil=1"})
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Response(headers={"X-A": ("a" + bad).encode()})
    with pytest.raises(ValueError, match="not a token"):
        Response(headers={"X-A" + bad: "v"})
    with pytest.raises(ValueError, match="not a token"):
        Response(headers={("X-A" + bad).encode(): "v"})


def test_other_bad_header_bytes_rejected():
    for bad in ("\x01", "\x1f", "\x7f"):
        with pytest.raises(ValueError, match="control byte"):
            Response(headers={"X-A": "a" + bad})
    for name in ("", "X A", "X:A", "X-A:", "(x)", "é", b"\xff"):
        with pytest.raises(ValueError):
            Response(headers={name: "v"})


@pytest.mark.parametrize(
    "name", ["Content-Length", "content-length", "Transfer-Encoding", "TRANSFER-encoding"]
)
def test_framing_headers_rejected(name):
    with pytest.raises(ValueError, match="set by the server"):
        Response(text="x", headers={name: "5"})


def test_user_content_type_replaces_ours():
    for kwargs in ({"text": "x"}, {"text": "x", "mime_type": "text/html"}, {"json": 1}, {}):
        raw = _core._serialize(Response(headers={"content-type": "image/svg+xml"}, **kwargs))
        assert header_values(raw, b"Content-Type") == [b"image/svg+xml"]


def test_user_date_and_server_replace_ours():
    raw = _core._serialize(
        Response(text="x", headers={"Date": "Sun, 06 Nov 1994 08:49:37 GMT", "SERVER": "mine"})
    )
    _, lines, _ = split(raw)
    assert [ln for ln in lines if ln.lower().startswith((b"date:", b"server:"))] == [
        b"Date: Sun, 06 Nov 1994 08:49:37 GMT",
        b"SERVER: mine",
    ]


def test_huge_headers():
    big = "v" * (1 << 20)
    raw = _core._serialize(Response(text="x", headers={"X-Big": big}))
    assert header_values(raw, b"X-Big") == [big.encode()]
    many = [(f"X-{i}", str(i)) for i in range(20000)]
    raw = _core._serialize(Response(headers=many))
    assert len(split(raw)[1]) >= 20000
    assert header_values(raw, b"X-19999") == [b"19999"]


# --- cookies -----------------------------------------------------------------------------------


def test_cookies_one_set_cookie_each():
    c = http.cookies.SimpleCookie()
    c["a"] = "1"
    c["b"] = "two words"
    c["b"]["max-age"] = 60
    c["c"] = "3"
    c["c"]["samesite"] = "Strict"
    c["c"]["secure"] = True
    raw = _core._serialize(Response(text="x", cookies=c))
    assert header_values(raw, b"Set-Cookie") == [m.OutputString().encode() for m in c.values()]
    assert len(header_values(raw, b"Set-Cookie")) == 3
    # The client reads back what was set.
    back = http.cookies.SimpleCookie()
    for v in header_values(raw, b"Set-Cookie"):
        back.load(v.decode())
    assert {k: m.value for k, m in back.items()} == {"a": "1", "b": "two words", "c": "3"}


def test_cookies_mapping_of_morsels():
    m = http.cookies.Morsel()
    m.set("k", "v", "v")
    raw = _core._serialize(Response(cookies={"k": m}))
    assert header_values(raw, b"Set-Cookie") == [b"k=v"]
    assert header_values(_core._serialize(Response(cookies={})), b"Set-Cookie") == []


def test_cookies_with_user_set_cookie_header():
    c = http.cookies.SimpleCookie()
    c["a"] = "1"
    raw = _core._serialize(Response(cookies=c, headers={"Set-Cookie": "b=2"}))
    assert header_values(raw, b"Set-Cookie") == [b"b=2", b"a=1"]


def test_cookie_errors():
    with pytest.raises(TypeError, match="cookies must be"):
        Response(cookies="a=1")
    with pytest.raises(TypeError, match="cookies must be"):
        Response(cookies=[("a", "1")])
    with pytest.raises(TypeError, match="Morsel"):
        Response(cookies={"a": "1"})

    class Evil:
        def OutputString(self):  # noqa: N802 - the Morsel method name
            return "a=1\r\nX-Injected: 1"

    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Response(cookies={"a": Evil()})

    class NotStr:
        def OutputString(self):  # noqa: N802
            return b"a=1"

    with pytest.raises(TypeError, match="not str"):
        Response(cookies={"a": NotStr()})


def test_cookie_value_with_newline_never_splits_the_response():
    # SimpleCookie quotes control characters ("\015\012") on most CPythons; patched ones
    # (Debian 12's 3.11.2, say) refuse them with CookieError. Either way nothing splits.
    c = http.cookies.SimpleCookie()
    try:
        c["a"] = "x\r\ny"
    except http.cookies.CookieError:
        pass
    else:
        raw = _core._serialize(Response(cookies=c))
        assert b"\r\n" not in header_values(raw, b"Set-Cookie")[0]
    # A morsel whose coded value holds CR LF all the same is refused by the header check.
    forced = http.cookies.SimpleCookie()
    forced["a"] = "x"
    forced["a"]._coded_value = "x\r\nInjected: 1"
    with pytest.raises(ValueError, match="response splitting"):
        _core._serialize(Response(cookies=forced))


# --- body rules: HEAD, 1xx, 204, 304 -----------------------------------------------------------


def test_head_keeps_length_and_type_but_no_body():
    assert ser(Response(text="Hello world!"), head=True) == (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 12\r\n" + DATE + b"Server: japronto\r\n"
        b"\r\n"
    )


@pytest.mark.parametrize("code", [100, 101, 102, 103, 150, 199, 204, 304])
@pytest.mark.parametrize("head", [False, True])
def test_bodiless_codes(code, head):
    raw = _core._serialize(Response(text="dropped", code=code, mime_type="text/x"), head=head)
    _, lines, body = split(raw)
    assert body == b""
    assert raw.endswith(b"\r\n\r\n")
    names = [ln.split(b":")[0].lower() for ln in lines]
    assert b"content-length" not in names
    assert b"content-type" not in names


def test_bodiless_code_keeps_user_headers():
    raw = _core._serialize(Response(code=304, headers={"ETag": '"x"', "Content-Type": "a/b"}))
    assert header_values(raw, b"ETag") == [b'"x"']
    assert header_values(raw, b"Content-Type") == [b"a/b"]  # the user's own choice


@pytest.mark.parametrize("code", [200, 205, 206, 301, 400, 404, 500, 599])
def test_codes_with_body(code):
    raw = _core._serialize(Response(text="abc", code=code))
    assert split(raw)[2] == b"abc"
    assert header_values(raw, b"Content-Length") == [b"3"]


def test_every_code_serialises_by_its_class():
    for code in range(100, 600):
        raw = _core._serialize(Response(body=b"xy", code=code))
        bodiless = code < 200 or code in (204, 304)
        assert (split(raw)[2] == b"") == bodiless, code
        assert (header_values(raw, b"Content-Length") == []) == bodiless, code


# --- Connection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "minor, keep_alive, expect",
    [
        (1, True, []),
        (1, False, [b"close"]),
        (0, True, [b"keep-alive"]),
        (0, False, [b"close"]),
    ],
)
def test_connection_rules(minor, keep_alive, expect):
    raw, closes = _core._serialize(
        Response(text="x"), version_minor=minor, keep_alive=keep_alive, return_closes=True
    )
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")  # HTTP/1.1 also to 1.0 clients
    assert header_values(raw, b"Connection") == expect
    assert closes is False


@pytest.mark.parametrize("minor", [0, 1])
@pytest.mark.parametrize("keep_alive", [False, True])
@pytest.mark.parametrize("value", ["close", "Close", "keep-alive, close", " CLOSE ,x"])
def test_user_connection_close(minor, keep_alive, value):
    raw, closes = _core._serialize(
        Response(text="x", headers={"Connection": value}),
        version_minor=minor,
        keep_alive=keep_alive,
        return_closes=True,
    )
    assert closes is True
    assert header_values(raw, b"Connection") == [value.strip().encode()]


def test_user_connection_without_close():
    raw, closes = _core._serialize(
        Response(code=101, headers={"Connection": "Upgrade", "Upgrade": "websocket"}),
        return_closes=True,
    )
    assert closes is False
    assert header_values(raw, b"Connection") == [b"Upgrade"]
    raw = _core._serialize(Response(headers={"Connection": "closed"}), keep_alive=False)
    assert header_values(raw, b"Connection") == [b"close", b"closed"]


def test_serialize_hook_errors():
    with pytest.raises(TypeError, match="expected a Response"):
        _core._serialize("not a response")
    with pytest.raises(ValueError):
        _core._serialize(Response(), version_minor=2)


# --- simple responses and 100 Continue ---------------------------------------------------------


def test_serialize_simple_exact():
    assert norm(_core._serialize_simple(404, b"Not Found")) == (
        b"HTTP/1.1 404 Not Found\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 9\r\n" + DATE + b"Server: japronto\r\n"
        b"\r\n"
        b"Not Found"
    )
    assert norm(
        _core._serialize_simple(
            405, b"no", b"Allow: GET, HEAD\r\n", version_minor=0, keep_alive=False
        )
    ) == (
        b"HTTP/1.1 405 Method Not Allowed\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 2\r\n" + DATE + b"Server: japronto\r\n"
        b"Connection: close\r\n"
        b"Allow: GET, HEAD\r\n"
        b"\r\n"
        b"no"
    )
    raw = _core._serialize_simple(500, b"oops", head=True)
    assert split(raw)[2] == b"" and header_values(raw, b"Content-Length") == [b"4"]
    raw = _core._serialize_simple(400, b"bad", version_minor=0, keep_alive=True)
    assert header_values(raw, b"Connection") == [b"keep-alive"]
    for bad in (99, 600):
        with pytest.raises(ValueError):
            _core._serialize_simple(bad, b"")


# --- the object ---------------------------------------------------------------------------------


def test_read_only_and_final():
    r = Response(text="x")
    for name in ("code", "text", "body", "json", "headers", "cookies", "mime_type", "encoding"):
        with pytest.raises(AttributeError):
            setattr(r, name, 1)
    with pytest.raises(TypeError):

        class Sub(Response):
            pass


def test_repr():
    assert repr(Response(text="abc", code=404)) == "<Response 404 Not Found, 3 bytes>"
    assert repr(Response(code=299)) == "<Response 299, no body>"


def test_gc_tracking_only_when_it_can_hold_cycles():
    assert not gc.is_tracked(Response(text="x"))
    assert not gc.is_tracked(Response(body=b"x", code=201, mime_type="a/b"))
    assert gc.is_tracked(Response(headers={"A": "1"}))
    assert gc.is_tracked(Response(cookies=http.cookies.SimpleCookie()))


def test_cycle_through_headers_is_collected():
    collected = []

    class Marker:
        def __del__(self):
            collected.append(True)

    headers = {"A": "1"}
    r = Response(headers=headers)
    headers["self"] = r  # after construction: not validated again, only referenced
    headers["marker"] = Marker()
    del r, headers
    gc.collect()
    assert collected == [True]


def test_no_reference_leaks():
    text = "".join(["leak-check ", str(time.time())])
    utext = "".join(["é", str(time.time())])
    body = b"".join([b"bytes ", str(time.time()).encode()])
    headers = {"X-A": "".join(["v", str(time.time())]), "X-B": 5}
    hlist = [("X-A", "1"), ("X-A", "2")]
    cookies = http.cookies.SimpleCookie()
    cookies["a"] = "1"
    obj = {"k": [1, 2, text]}
    objs = (text, utext, body, headers, hlist, cookies, obj, headers["X-A"])

    def run():
        for _ in range(2000):
            for r in (
                Response(text=text, headers=headers, cookies=cookies),
                Response(text=utext, encoding="latin-1", headers=hlist),
                Response(utext),
                Response(body=body, code=404),
                Response(json=obj, headers=hlist),
            ):
                _core._serialize(r)
                _core._serialize(r, version_minor=0, keep_alive=False, head=True)
                attrs = (r.body, r.text, r.headers, r.cookies, r.mime_type, r.encoding, r.code)
                assert attrs[6] in (200, 404)
            for bad in (
                lambda: Response(text=text, body=body),
                lambda: Response(text=text, headers={"X\r": "1"}),
                lambda: Response(text=text, headers=hlist + [("Content-Length", "1")]),
                lambda: Response(body=body, cookies={"a": text}),
                lambda: Response(text=text, code=700, headers=headers),
                lambda: Response(json=obj, mime_type="a\nb"),
            ):
                with pytest.raises((TypeError, ValueError)):
                    bad()

    run()  # warm caches (UTF-8 forms, interned names)
    gc.collect()
    before = [sys.getrefcount(o) for o in objs]
    run()
    gc.collect()
    after = [sys.getrefcount(o) for o in objs]
    assert after == before


def test_request_response_method_descriptor():
    # Request.Response is response.c's own method descriptor (its call skips CPython's
    # generic one); what introspection and a wrong call see is what a method's would be.
    import inspect

    m = _core.Request.Response
    assert inspect.ismethoddescriptor(m)
    assert (m.__name__, m.__qualname__, m.__objclass__) == (
        "Response",
        "Request.Response",
        _core.Request,
    )
    assert repr(m) == "<method 'Response' of 'japronto._core.Request' objects>"
    assert str(inspect.signature(m)).startswith("(self, /, text=None, code=None, body=None")
    assert "Response" in m.__doc__
    for bad in ((), (object(),), ("str",)):
        with pytest.raises(TypeError, match="needs a japronto Request"):
            m(*bad, text="x")
    with pytest.raises(TypeError):
        type(m)()

    class Sub(_core.Request):  # what an application's request extensions make (app.py)
        __slots__ = ()

    assert Sub.Response is m


def test_json_keyword_from_any_call_site():
    # As for text= below: json= from other call sites, json=None, and a value json.c leaves
    # to the general encoder, once the first json= call's keyword tuple is known.
    sites = [eval(compile("lambda R, v: R(json=v)", f"<json site {i}>", "eval")) for i in range(3)]

    class D(dict):
        pass

    for _ in range(3):
        for site in sites:
            for value in ({"a": [1, "é"]}, D(b=2), [None] * 40, "s"):
                r = site(Response, value)
                assert r.body == _stdlib_json(value) and r.code == 200
                assert ser(r) == fast_200(b"application/json", _stdlib_json(value))
            r = site(Response, None)
            assert (r.body, r.mime_type) == (None, None)
            with pytest.raises(ValueError, match="JSON has no"):
                site(Response, float("nan"))
    with pytest.raises(TypeError, match="multiple values for argument 'json'"):
        Response(None, None, None, 1, json=2)


def test_text_keyword_from_any_call_site():
    # text= is recognised by the identity of the first text= call's keyword tuple (a code
    # object's constant); calls from other modules (other tuples), and calls that pass text
    # twice, must still be what they always were.
    sites = [eval(compile(f"lambda R: R(text='t{i}')", f"<site {i}>", "eval")) for i in range(3)]
    for _ in range(3):
        for i, site in enumerate(sites):
            r = site(Response)
            assert (r.text, r.code, r.mime_type) == (f"t{i}", 200, "text/plain")
            assert ser(r) == fast_200(b"text/plain; charset=utf-8", f"t{i}".encode())
    for call in (lambda: Response("a", text="b"), lambda: Response(None, text="b")):
        with pytest.raises(TypeError, match="multiple values for argument 'text'"):
            call()
    assert Response(text=None).text is None  # text=None means absent
    assert Response(text="x", code=201).code == 201


# --- the free list of dead Responses ------------------------------------------------------


def _kinds():
    """A maker for each shape of Response the constructors build."""
    cookies = http.cookies.SimpleCookie()
    cookies["a"] = "1"
    big = {"k": "v" * 400}  # JSON past the inline body: a bytes payload

    class Opaque(dict):  # json.c leaves a dict subclass to the general encoder
        pass

    return {
        "text": lambda: Response(text="Hello, World!"),
        "positional": lambda: Response("Hello, World!"),
        "text not ascii": lambda: Response(text="h\u00e9llo \u4e2d"),
        "text latin-1": lambda: Response(text="h\u00e9llo", encoding="latin-1"),
        "text 404": lambda: Response(text="nope", code=404),
        "json": lambda: Response(json={"message": "Hello, World!"}),
        "json big": lambda: Response(json=big),
        "json general": lambda: Response(json=Opaque(a=1)),
        "body": lambda: Response(body=b"\x00\x01"),
        "body bytearray": lambda: Response(body=bytearray(b"ba")),
        "mime": lambda: Response(text="<p>", mime_type="text/html"),
        "headers": lambda: Response(text="h", headers={"X-A": "1", "Connection": "close"}),
        "cookies": lambda: Response(cookies=cookies),
        "no body": lambda: Response(),
        "204": lambda: Response(code=204),
    }


def _shape(r):
    """Everything a Response shows: its bytes in every connection context and its attributes."""
    contexts = [{}, {"head": True}, {"version_minor": 0}, {"keep_alive": False}]
    attrs = ("code", "body", "text", "mime_type", "encoding", "headers", "cookies")
    return (
        [ser(r, **kw) for kw in contexts],
        [getattr(r, a) for a in attrs],
        gc.is_tracked(r),
        repr(r),
    )


def test_free_list_reuse_after_every_kind():
    # A dead Response is kept and the next one takes it back (last in, first out): every kind
    # of response made from the memory every kind left must be what a fresh one is.
    hold = [Response(text="x") for _ in range(80)]  # empties the free list
    kinds = _kinds()
    fresh = {name: _shape(make()) for name, make in kinds.items()}
    for dead_name, make_dead in kinds.items():
        for name, make in kinds.items():
            dead = make_dead()
            address = id(dead)
            del dead
            r = make()
            assert id(r) == address, (dead_name, name)  # the entry was taken back
            assert _shape(r) == fresh[name], (dead_name, name)
            del r
    del hold


def test_live_count_leaves_out_the_responses_kept_for_reuse():
    # _live_counts() counts live Responses; dead ones kept for reuse (up to the list's size,
    # the rest freed) are not alive, whatever kind they were.
    kinds = list(_kinds().values())
    base = _core._live_counts()["responses"]
    for n in (1, 10, 64, 65, 200):
        made = [kinds[i % len(kinds)]() for i in range(n)]
        assert _core._live_counts()["responses"] == base + n
        del made
        assert _core._live_counts()["responses"] == base


def test_free_list_entries_keep_their_type_for_the_collector():
    # Each kept Response holds a reference to its type, which the module reports to the
    # collector (module_traverse): one more referent per entry.
    hold = [Response(text="x") for _ in range(80)]  # empties the free list
    base = gc.get_referents(_core).count(Response)
    dead = [Response(text="x") for _ in range(5)]
    del dead
    assert gc.get_referents(_core).count(Response) == base + 5
    taken = Response(text="y")
    assert gc.get_referents(_core).count(Response) == base + 4
    del taken, hold


def test_tracemalloc_sees_where_each_response_was_made():
    # A response allocated while tracemalloc traces is never kept for reuse, so no response
    # can carry the traceback of an earlier one; one taken from the free list was allocated
    # untraced and has no trace (as CPython's own free lists behave).
    import tracemalloc

    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc already tracing")

    def make_a():
        return [Response(text="a") for _ in range(100)]

    def make_b():
        return [Response(text="b") for _ in range(100)]

    def where(r):
        tb = tracemalloc.get_object_traceback(r)
        return None if tb is None else tb[0].lineno

    line_a = make_a.__code__.co_firstlineno + 1
    line_b = make_b.__code__.co_firstlineno + 1
    tracemalloc.start()
    try:
        a = make_a()  # more than the free list holds: some are new, traced allocations
        assert {where(r) for r in a} <= {None, line_a}
        assert line_a in {where(r) for r in a}
        del a
        b = make_b()
        assert {where(r) for r in b} <= {None, line_b}
        assert line_b in {where(r) for r in b}
        del b
    finally:
        tracemalloc.stop()
    c = make_a()
    assert {where(r) for r in c} == {None}
    assert all(ser(r) == fast_200(b"text/plain; charset=utf-8", b"a") for r in c)


def test_text_only_fast_path_builds_what_the_general_path_builds():
    class Str(str):
        pass

    for text in ["Hello world!", "", "z\u00e9\u4e2d\U0001f600", "x" * 100_000]:
        fast = [_core.Response(text=text), _core.Response(text)]
        general = [
            _core.Response(text=text, code=200),
            _core.Response(text=text, encoding="utf-8"),
            _core.Response(text=Str(text)),
            _core.Response(text=text, headers=None, cookies=None),
        ]
        for a in fast:
            for b in general:
                assert ser(a) == ser(b)
                for attr in ("code", "body", "text", "mime_type", "headers", "cookies"):
                    assert getattr(a, attr) == getattr(b, attr), attr
            assert a.text is text  # the str itself, not a copy
    with pytest.raises(TypeError):
        _core.Response(text=b"bytes are body=")


# --- json= encoded in C (json.c) ----------------------------------------------------------


def _stdlib_json(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.text(alphabet=st.characters(max_codepoint=0x3F)),  # controls, quotes, backslashes
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.lists(inner, max_size=6).map(tuple),
        st.dictionaries(st.text(max_size=8), inner, max_size=6),
    ),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(JSON_VALUES.filter(lambda v: v is not None))  # json=None means no JSON body
def test_json_body_is_what_the_stdlib_writes(value):
    assert Response(json=value).body == _stdlib_json(value)


def test_json_values_the_c_encoder_hands_to_the_general_one():
    class D(dict):
        pass

    class L(list):
        pass

    deep = []
    cur = deep
    for _ in range(200):  # deeper than the C encoder goes
        nxt = []
        cur.append(nxt)
        cur = nxt
    for value in (
        {1: "int key", None: "none key", 2.5: "float key", False: "bool key"},
        D(a=1),
        L([1, 2]),
        {"nested": [D(b=[1])]},
        deep,
    ):
        assert Response(json=value).body == _stdlib_json(value)


def test_json_errors_are_clear():
    for bad in (float("nan"), float("inf"), [1, float("-inf")], {"x": float("nan")}):
        with pytest.raises(ValueError, match="JSON has no"):
            Response(json=bad)
    with pytest.raises(UnicodeEncodeError):
        Response(json="lone \ud800 surrogate")
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="Circular reference"):
        Response(json=cyclic)
    with pytest.raises(TypeError):
        Response(json={"when": object()})


def test_json_only_fast_path_builds_what_the_general_path_builds():
    for value in ({"message": "Hello, World!"}, [1, 2.5, None, True, "é\n"], "s", 0, {}):
        fast = Response(json=value)
        for general in (Response(json=value, code=200), Response(None, None, None, value)):
            assert ser(fast) == ser(general)
            for attr in ("code", "body", "text", "mime_type", "headers", "cookies"):
                assert getattr(fast, attr) == getattr(general, attr), attr


def _json_cases():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent / "apps" / "_json_cases.py"
    spec = importlib.util.spec_from_file_location("_json_cases", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _json_levels():
    """The string scanners of json.c this CPU can run ("scalar" always)."""
    levels = ["scalar"]
    try:
        _core._json_encode("", "avx2")
        levels.append("avx2")
    except ValueError:
        pass
    return levels


JSON_LEVELS = _json_levels()


def test_json_strings_with_escapes_at_every_position_and_length():
    # json.c copies strings in blocks (16 bytes with SSE2 or 8 with word tricks, the last
    # overlapping; shorter ones as halves, quarters or single bytes): every escape and some
    # neighbours at every place, lengths 0-70, alone, in a list (after "[" or ","), as keys
    # (after "{" or ",", before ":"); through Response and through each scanner.
    cases = _json_cases()
    for n in range(cases.MAX_LEN + 1):
        strings = cases.strings_of_length(n)
        keys = {s: 0 for s in strings}
        for s in strings:
            expected = _stdlib_json(s)
            assert Response(json=s).body == expected, repr(s)
            for level in JSON_LEVELS:
                assert _core._json_encode(s, level) == expected, (level, s)
        for value in (strings, keys, [keys, strings]):
            expected = _stdlib_json(value)
            assert Response(json=value).body == expected, n
            for level in JSON_LEVELS:
                assert _core._json_encode(value, level) == expected, (level, n)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_json_every_scanner_writes_what_the_stdlib_writes(value):
    for level in JSON_LEVELS:
        assert _core._json_encode(value, level) == _stdlib_json(value), level


def test_json_cases_shared_with_the_server_tests():
    cases = _json_cases()
    for name, value in cases.CASES.items():
        assert Response(json=value).body == cases.expected(value), name
    for value in cases.FAILING.values():
        with pytest.raises((ValueError, UnicodeEncodeError)):
            Response(json=value)


def test_json_bodies_around_the_inline_size():
    # JSON from json.c of up to 256 bytes is kept inside the Response, longer in a bytes
    # object: both sides of the boundary, through the fast and the general constructor.
    for size in (*range(1, 70), 254, 255, 256, 257, 258, 1000, 70000):
        value = "x" * (size - 2) if size >= 2 else 7
        expected = _stdlib_json(value)
        assert len(expected) == size
        for r in (Response(json=value), Response(json=value, code=201)):
            assert r.body == expected and r.text == expected.decode(), size
            assert repr(r).endswith(f", {size} bytes>")
            raw = _core._serialize(r)
            assert raw.endswith(b"\r\n\r\n" + expected)
            assert header_values(raw, b"Content-Length") == [str(size).encode()]


def test_request_response_looks_like_a_method():
    # Request.Response is the server's own method descriptor (cheaper to call than a
    # PyMethodDef's); it still presents itself as a method.
    m = _core.Request.Response
    assert m.__name__ == "Response" and m.__qualname__ == "Request.Response"
    assert m.__doc__ == "Makes a new Response for this request."
    assert repr(m) == "<method 'Response' of 'japronto._core.Request' objects>"
    assert m.__get__(None, _core.Request) is m
    params = list(inspect.signature(m).parameters)
    assert params == ["self", "text", "code", "body", "json", "mime_type", "encoding"] + [
        "headers",
        "cookies",
    ]
    with pytest.raises(TypeError):
        m()
    with pytest.raises(TypeError):
        m(42, text="x")
    with pytest.raises(TypeError):
        type(m)()
