"""japronto.request_helpers: the Python side of the parsed Request attributes, unit-tested on
raw values and on a stand-in request (the C Request calls the same get_<name> functions; the
black-box tests in tests/server/test_request_attrs.py cover that path)."""

import encodings
import encodings.aliases
import hashlib
import itertools
import pkgutil
import random
import sys
import warnings
from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from japronto import Headers
from japronto import request_helpers as rh


class FakeRequest:
    """query_string, body and headers as given; every other attribute through
    request_helpers.get_<name>, cached like the C Request caches it."""

    def __init__(self, query_string=None, body=None, headers=()):
        self.query_string = query_string
        self.body = body
        self.headers = Headers(headers)

    def __getattr__(self, name):
        value = getattr(rh, "get" + name if name.startswith("_") else "get_" + name)(self)
        setattr(self, name, value)
        return value


def req(**kw):
    return FakeRequest(**kw)


def ctype(value, body):
    return FakeRequest(body=body, headers=[("Content-Type", value)])


# ---- query ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "qs, pairs",
    [
        (None, []),
        ("", []),
        ("a=1", [("a", "1")]),
        ("a=1&b=2&a=3", [("a", "1"), ("b", "2"), ("a", "3")]),
        ("a", [("a", "")]),
        ("a=", [("a", "")]),
        ("=v", [("", "v")]),
        ("&&a=1&&", [("a", "1")]),
        ("a=1;b=2", [("a", "1;b=2")]),  # ';' is not a separator
        ("a=x+y%20z", [("a", "x y z")]),
        ("a%2Bb=c%26d", [("a+b", "c&d")]),
        ("k=%C3%A9t%C3%A9", [("k", "été")]),
        ("k=%FF", [("k", "\ufffd")]),  # not UTF-8: replaced
        ("k=%zz%4", [("k", "%zz%4")]),  # bad escapes kept as is
        ("a=b=c", [("a", "b=c")]),
    ],
)
def test_query_pairs(qs, pairs):
    r = req(query_string=qs)
    assert r.query_all == pairs
    assert r.query == dict(pairs)
    if qs is not None:
        assert pairs == parse_qsl(qs, keep_blank_values=True)


def test_query_repeated_name_last_wins_all_kept():
    r = req(query_string="x=1&x=2&y=0&x=3")
    assert r.query == {"x": "3", "y": "0"}
    assert [v for k, v in r.query_all if k == "x"] == ["1", "2", "3"]


SAFE = st.text(alphabet="abcXYZ019-_.~ é/&=+%?#", max_size=8)


@given(st.lists(st.tuples(SAFE, SAFE), max_size=6))
def test_query_round_trips_like_parse_qsl(pairs):
    qs = "&".join(quote(k, safe="") + "=" + quote(v, safe="") for k, v in pairs)
    got = rh.parse_urlencoded(qs)
    assert got == parse_qsl(qs, keep_blank_values=True)
    assert got == [(k, v) for k, v in pairs if qs]


def test_urlencoded_field_limit():
    assert len(rh.parse_urlencoded("a&" * 5, max_fields=5)) == 5
    with pytest.raises(rh.FormError, match="more than 5"):
        rh.parse_urlencoded("a&" * 6, max_fields=5)


# ---- Content-Type, text, json ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value, mime, params",
    [
        (None, None, {}),
        ("", None, {}),
        ("text/plain", "text/plain", {}),
        ("Text/HTML; Charset=UTF-8", "text/html", {"charset": "UTF-8"}),
        ('multipart/form-data; boundary="a b;c"', "multipart/form-data", {"boundary": "a b;c"}),
        ('a/b; x="q\\"uote"; y = 2 ', "a/b", {"x": 'q"uote', "y": "2"}),
        ("a/b; junk; c=1", "a/b", {"c": "1"}),  # a piece without '=' is skipped
        (";charset=utf-8", None, {"charset": "utf-8"}),
    ],
)
def test_parse_content_type(value, mime, params):
    assert rh.parse_content_type(value) == (mime, params)


def test_mime_type_and_encoding():
    r = ctype("Application/JSON; charset=UTF-8", b"{}")
    assert (r.mime_type, r.encoding) == ("application/json", "utf-8")
    r = req(body=b"x")
    assert (r.mime_type, r.encoding) == (None, None)
    r = ctype("text/plain", b"x")
    assert (r.mime_type, r.encoding) == ("text/plain", None)


def test_text_charsets():
    assert req(body=None).text is None
    assert req(body=b"").text == ""
    assert req(body="été".encode()).text == "été"  # default utf-8
    assert ctype("text/plain; charset=latin-1", "été".encode("latin-1")).text == "été"
    assert ctype("text/plain; charset=utf-16", "hé".encode("utf-16")).text == "hé"
    assert ctype('text/plain; charset="cp1252"', b"\x80").text == "€"


def test_text_errors_are_value_errors():
    with pytest.raises(rh.BodyDecodeError, match="not valid utf-8.*byte 1") as e:
        _ = req(body=b"a\xff").text
    assert isinstance(e.value, ValueError)
    with pytest.raises(rh.BodyDecodeError, match="unknown charset 'no-such'"):
        _ = ctype("text/plain; charset=no-such", b"a").text


def test_json():
    assert req(body=None).json is None
    assert req(body=b"").json is None
    assert req(body=b"null").json is None
    assert req(body=b' {"a": [1, 2.5, "\\u00e9"]} ').json == {"a": [1, 2.5, "é"]}
    assert ctype("application/json; charset=utf-16", '{"k": "é"}'.encode("utf-16")).json == {
        "k": "é"
    }


@pytest.mark.parametrize("body", [b"{bad", b"[1,", b"{} {}", b"nul", b'"a', b"[" * 100000])
def test_bad_json_raises_json_body_error(body):
    with pytest.raises(rh.JSONBodyError, match="not valid JSON") as e:
        _ = req(body=body).json
    assert isinstance(e.value, ValueError) and isinstance(e.value, rh.BodyDecodeError)


def test_an_integer_past_the_digit_limit_is_a_json_body_error():
    # json.loads raises a bare ValueError for an integer of more digits than
    # sys.get_int_max_str_digits(): request.json gives the documented JSONBodyError.
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()
    if not limit:  # a CPython without the limit (before 3.9.14, 3.10.7, 3.11)
        assert req(body=b"1" * 5000).json == int("1" * 5000)
        return
    assert req(body=b"7" * limit).json == int("7" * limit)
    for body in (b"7" * (limit + 1), b'{"a": [-' + b"7" * (limit + 1) + b"]}"):
        with pytest.raises(rh.JSONBodyError, match=rf"cannot be read as JSON.*\({limit}"):
            _ = req(body=body).json


def test_json_on_undecodable_body():
    with pytest.raises(rh.BodyDecodeError):
        _ = req(body=b'"\xff"').json


# ---- form and multipart ----------------------------------------------------------------------


def test_urlencoded_form():
    r = ctype("application/x-www-form-urlencoded", b"a=1&b=%C3%A9+x&a=2&c")
    assert r.form == {"a": "2", "b": "é x", "c": ""}
    assert r.form_all == [("a", "1"), ("b", "é x"), ("a", "2"), ("c", "")]
    assert r.files == {}


def test_urlencoded_form_charset_and_raw_bytes():
    r = ctype("application/x-www-form-urlencoded; charset=latin-1", b"a=%E9")
    assert r.form == {"a": "é"}
    r = ctype("application/x-www-form-urlencoded", "a=é".encode())  # raw UTF-8, not escaped
    assert r.form == {"a": "é"}
    r = ctype("application/x-www-form-urlencoded; charset=bogus", b"a=%C3%A9")
    assert r.form == {"a": "é"}  # an unknown charset falls back to utf-8


def test_urlencoded_form_too_many_fields():
    r = ctype("application/x-www-form-urlencoded", b"a=1&" * (rh.MAX_FORM_FIELDS + 1))
    with pytest.raises(rh.FormError):
        _ = r.form


@pytest.mark.parametrize(
    "content_type, body",
    [
        (None, b"a=1"),
        ("text/plain", b"a=1"),
        ("application/json", b'{"a": 1}'),
        ("application/x-www-form-urlencoded", None),
        ("multipart/form-data; boundary=x", b""),
    ],
)
def test_form_and_files_empty_for_other_bodies(content_type, body):
    headers = [("Content-Type", content_type)] if content_type else []
    r = req(body=body, headers=headers)
    assert r.form == {} and r.form_all == [] and r.files == {}


B = "----jpBoundary7MA4YWxk"


def multipart(*parts, boundary=B, preamble=b"", epilogue=b""):
    """parts: (headers list, content bytes)."""
    out = preamble
    for headers, content in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        out += b"".join(f"{k}: {v}\r\n".encode() for k, v in headers)
        out += b"\r\n" + content + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n" + epilogue


def field(name, value, **extra):
    return ([("Content-Disposition", f'form-data; name="{name}"')] + list(extra.items()), value)


def file(name, filename, content, ctype="application/octet-stream"):
    return (
        [
            ("Content-Disposition", f'form-data; name="{name}"; filename="{filename}"'),
            ("Content-Type", ctype),
        ],
        content,
    )


PNG = bytes(range(256)) * 3 + b"\r\n--" + B.encode()[:-1] + b"\r\n"  # a near-boundary inside


def test_multipart_two_files_and_fields():
    body = multipart(
        field("title", "été".encode()),
        file("doc", "a.txt", b"hello\r\nworld\r\n", "text/plain"),
        field("tag", b"x"),
        file("image", "pic ü.png", PNG, "image/png"),
        field("tag", b"y"),
        field("empty", b""),
        preamble=b"ignored preamble\r\n",
        epilogue=b"ignored epilogue",
    )
    r = ctype(f"multipart/form-data; boundary={B}", body)
    assert r.form == {"title": "été", "tag": "y", "empty": ""}
    assert r.form_all == [("title", "été"), ("tag", "x"), ("tag", "y"), ("empty", "")]
    assert set(r.files) == {"doc", "image"}
    doc, img = r.files["doc"], r.files["image"]
    assert (doc.name, doc.type, doc.body) == ("a.txt", "text/plain", b"hello\r\nworld\r\n")
    assert (img.name, img.type) == ("pic ü.png", "image/png")
    assert hashlib.sha256(img.body).digest() == hashlib.sha256(PNG).digest()
    assert r._form_data is r._form_data  # parsed once


def test_multipart_details():
    body = multipart(
        ([("content-disposition", "Form-Data; name=plain; filename*=UTF-8''%E2%82%AC.txt")], b"1"),
        ([("Content-Disposition", 'form-data; name="n"; filename=""')], b""),
        (
            [
                ("Content-Disposition", 'form-data; name="l1"'),
                ("Content-Type", "text/plain; charset=latin-1"),
            ],
            b"\xe9",
        ),
        ([("Content-Disposition", 'form-data; name="q\\"x"')], b"v"),
    )
    fields, files = rh.parse_multipart(body, B)
    assert fields == [("l1", "é"), ('q"x', "v")]
    assert [(n, f.name, f.type) for n, f in files] == [
        ("plain", "€.txt", "application/octet-stream"),
        ("n", "", "application/octet-stream"),
    ]
    # A part with no headers at all has no Content-Disposition.
    with pytest.raises(rh.MultipartError, match="no Content-Disposition"):
        rh.parse_multipart(b"--b\r\n\r\nx\r\n--b--", "b")
    # Transport padding after a delimiter is allowed; no final CRLF is needed.
    fields, _ = rh.parse_multipart(
        b"--b  \r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--", "b"
    )
    assert fields == [("a", "1")]


@pytest.mark.parametrize(
    "content_type, body, message",
    [
        ("multipart/form-data", b"--b\r\n", "without a boundary"),
        ("multipart/form-data; boundary=", b"--b\r\n", "without a boundary"),
        ("multipart/form-data; boundary=" + "x" * 71, b"--x", "longer than 70"),
        ("multipart/form-data; boundary=b", b"no delimiter here", "no boundary delimiter"),
        ("multipart/form-data; boundary=b", b"--b", "ends after a boundary"),
        ("multipart/form-data; boundary=b", b"--bjunk\r\n", "unexpected bytes"),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nnever closed",
            "unterminated",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nnot final\r\n--b\r\n",
            "unterminated",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; name=a\r\n--b--",
            "headers are not terminated",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nno colon here\r\n\r\nx\r\n--b--",
            "malformed part header",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\nx\r\n--b--",
            "malformed part header",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
            "no Content-Disposition",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--b--",
            "not form-data",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nContent-Disposition: form-data; filename=a\r\n\r\nx\r\n--b--",
            "no name parameter",
        ),
        (
            "multipart/form-data; boundary=b",
            b"--b\r\nX: " + b"y" * 20000 + b"\r\n\r\nx\r\n--b--",
            "exceed",
        ),
    ],
)
def test_malformed_multipart(content_type, body, message):
    r = ctype(content_type, body)
    for attr in ("form", "form_all", "files"):
        with pytest.raises(rh.MultipartError, match=message) as e:
            getattr(r, attr)
        assert isinstance(e.value, ValueError) and isinstance(e.value, rh.FormError)


def test_multipart_non_ascii_boundary():
    with pytest.raises(rh.MultipartError, match="not ASCII"):
        rh.parse_multipart(b"--\xe9", "é")


def test_multipart_part_limit():
    body = multipart(*[field(f"f{i}", b"v") for i in range(11)])
    assert len(rh.parse_multipart(body, B, max_parts=11)[0]) == 11
    with pytest.raises(rh.MultipartError, match="more than 10 parts"):
        rh.parse_multipart(body, B, max_parts=10)
    body = multipart(*[field("f", b"") for i in range(rh.MAX_FORM_FIELDS + 1)])
    with pytest.raises(rh.MultipartError, match="more than 1000 parts"):
        _ = ctype(f"multipart/form-data; boundary={B}", body).form


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c d"]), st.binary(max_size=40)), max_size=5))
def test_multipart_round_trip(parts):
    body = multipart(*[file(n, "f", c) for n, c in parts])
    fields, files = rh.parse_multipart(body, B)
    assert fields == [] and [(n, f.body) for n, f in files] == parts


# ---- charsets a client names ------------------------------------------------------------------

# Codecs Python has that decode bytes but are no charset a body can be in, and bytes-to-bytes
# codecs: a client naming one in Content-Type reaches none of them.
NOT_CHARSETS = [
    "idna",
    "IDNA",
    "punycode",
    "undefined",
    "unicode_escape",
    "raw-unicode-escape",
    "base64",
    "rot13",
    "zlib",
    "hex",
    "no-such",
    "utf-8\x00",
    "",
]
# Every codec module and alias of the standard library's encodings package.
ALL_CODECS = sorted(
    {m.name for m in pkgutil.iter_modules(encodings.__path__)}
    | set(encodings.aliases.aliases)
    | set(encodings.aliases.aliases.values())
)
NASTY = b"a=%ff%FE\xff&b=\x00\\N{x}\\u12&xn--a-&\xc3\xa9+%2B\r\n"


@pytest.fixture
def warnings_are_errors():
    # The escape codecs warn on bad escapes; none of that may reach a server's stderr.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("charset", [c for c in NOT_CHARSETS if c])
def test_text_refuses_a_codec_that_is_no_charset(charset, warnings_are_errors):
    r = ctype(f"text/plain; charset={charset}", NASTY)
    with pytest.raises(rh.BodyDecodeError, match="unknown charset"):
        _ = r.text
    with pytest.raises(rh.BodyDecodeError, match="unknown charset"):
        _ = ctype(f"application/json; charset={charset}", b'"a"').json


@pytest.mark.parametrize("charset", NOT_CHARSETS)
def test_forms_read_a_codec_that_is_no_charset_as_utf8(charset, warnings_are_errors):
    r = ctype(f"application/x-www-form-urlencoded; charset={charset}", b"a=%C3%A9&b=%ff")
    assert r.form == {"a": "é", "b": "\ufffd"}
    # A part's own charset falls back to the form's; filename* to the plain filename.
    body = multipart(
        field("a", b"\xe9", **{"Content-Type": f"text/plain; charset={charset}"}),
        (
            [
                (
                    "Content-Disposition",
                    f"form-data; name=f; filename=plain.txt; filename*={charset}''%ff%C3%A9",
                )
            ],
            b"x",
        ),
    )
    r = ctype(f"multipart/form-data; boundary={B}; charset=latin-1", body)
    assert r.form == {"a": "é"}
    # (filename*'s charset left empty is read as UTF-8, as before)
    assert r.files["f"].name == ("plain.txt" if charset else "\ufffdé")


def test_every_codec_name_gives_a_value_or_the_documented_error():
    # Whatever codec a client names as the charset, text and json give a value or a
    # BodyDecodeError, and form, form_all and files a value or a FormError: nothing else, and
    # no warning. Every name the standard library knows, on a few bodies.
    rnd = random.Random(7)
    bodies = [NASTY, bytes(range(256))] + [rnd.randbytes(40) for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for charset, body in itertools.product(ALL_CODECS, bodies):
            for ct in (f"text/plain; charset={charset}", f"application/json; charset={charset}"):
                for attr in ("text", "json"):
                    try:
                        getattr(ctype(ct, body), attr)
                    except rh.BodyDecodeError:
                        pass
            part = [("Content-Disposition", f"form-data; name=f; filename*={charset}''%ff")]
            forms = [
                (f"application/x-www-form-urlencoded; charset={charset}", body),
                (
                    f"multipart/form-data; boundary={B}; charset={charset}",
                    multipart(
                        field("a", body, **{"Content-Type": f"text/plain; charset={charset}"}),
                        (part, b""),
                    ),
                ),
            ]
            for ct, b in forms:
                for attr in ("form", "form_all", "files"):
                    try:
                        getattr(ctype(ct, b), attr)
                    except rh.FormError:
                        pass


def test_uploaded_file():
    f = rh.UploadedFile("a.txt", "text/plain", b"x")
    assert f == rh.UploadedFile("a.txt", "text/plain", b"x") and f != 1
    assert "a.txt" in repr(f) and "1 bytes" in repr(f)


# ---- cookies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, cookies",
    [
        ([], {}),
        (["a=1"], {"a": "1"}),
        (["a=1; b=2", "c=3"], {"a": "1", "b": "2", "c": "3"}),
        (['a="quoted value"; b=""'], {"a": "quoted value", "b": ""}),
        (["a=1; a=2"], {"a": "1"}),  # first wins
        (["junk; =nameless; a=1; b c=2; d=x=y;;"], {"a": "1", "d": "x=y"}),
        (["path=/; expires=never"], {"path": "/", "expires": "never"}),  # just names here
        (['a="\\101"; b=%20'], {"a": "\\101", "b": "%20"}),  # as sent, no unescaping
        (["é=1; ok=é".encode().decode("latin-1")], {"ok": "é"}),
        (["\x00\x01;;;====;"], {}),
    ],
)
def test_cookies(headers, cookies):
    assert rh.parse_cookies(headers) == cookies
    r = req(headers=[("Cookie", h) for h in headers])
    assert r.cookies == cookies


# ---- Host ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host, expected",
    [
        (None, (None, None)),
        ("", (None, None)),
        ("example.com", ("example.com", None)),
        ("Example.COM:8080", ("example.com", 8080)),
        ("example.com:", ("example.com", None)),
        ("example.com:0", ("example.com", 0)),
        ("example.com:65535", ("example.com", 65535)),
        ("example.com:65536", ("example.com", None)),
        ("example.com:0000000080", ("example.com", None)),
        ("127.0.0.1:80", ("127.0.0.1", 80)),
        ("[::1]", ("::1", None)),
        ("[::1]:8080", ("::1", 8080)),
        ("[2001:DB8::1]:443", ("2001:db8::1", 443)),
        ("[fe80::1%25eth0]:1", ("fe80::1%25eth0", 1)),
        ("::1", (None, None)),
        ("[::1", (None, None)),
        ("example.com:abc", (None, None)),
        ("a:1:2", (None, None)),
        (":8080", (None, None)),
    ],
)
def test_host(host, expected):
    assert rh.parse_host(host) == expected
    r = req(headers=[("Host", host)] if host is not None else [])
    assert (r.hostname, r.port) == expected


def test_errors_and_uploaded_file_are_exported_by_the_package():
    import japronto

    for name in ("BodyDecodeError", "JSONBodyError", "FormError", "MultipartError", "UploadedFile"):
        assert getattr(japronto, name) is getattr(rh, name)
        assert name in japronto.__all__
