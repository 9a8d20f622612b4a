"""The request-smuggling table: framing cases, each with the one answer the server must give.

Every case is raw bytes sent on a new connection to the echo app (tests/apps/echo.py), and
the answer is the exact list of responses, in order, plus whether the connection then closes:

- ``ok(path, body)``: a 200 from the echo handler for ``path`` with ``body`` (None: no body);
- ``err(status)``: a server-made error answer with ``Connection: close``.

Most cases end with ``NEXT``, a well-formed ``GET /next`` pipelined behind the case: a case the
server accepts must answer it too (the framing ended exactly where it should), a case it
refuses must never answer it (nothing after an error is parsed). Used by test_smuggling.py
and as seeds by the network fuzzer (tests/fuzz_net).
"""

from __future__ import annotations

H = b"Host: a\r\n"
NEXT = b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
OK_NEXT = ("ok", "/next", None)
CLOSE, KEEP = True, False


def ok(path: str = "/", body: str | None = None):
    return ("ok", path, body)


def err(status: int):
    return ("err", status)


def post(headers: bytes, body: bytes, version: bytes = b"1.1", host: bytes = H) -> bytes:
    return b"POST / HTTP/" + version + b"\r\n" + host + headers + b"\r\n" + body + NEXT


def te(value: bytes, body: bytes = b"3\r\nabc\r\n0\r\n\r\n") -> bytes:
    return post(b"Transfer-Encoding: " + value + b"\r\n", body)


def cl(*values: bytes, body: bytes = b"abc") -> bytes:
    return post(b"".join(b"Content-Length: " + v + b"\r\n" for v in values), body)


def chunked_body(body: bytes) -> bytes:
    return post(b"Transfer-Encoding: chunked\r\n", body)


def get(head: bytes) -> bytes:
    return head + NEXT


ABC_THEN_NEXT = [ok("/", "abc"), OK_NEXT]

# (name, raw bytes, expected responses, closes)
CASES = [
    # --- Content-Length ----------------------------------------------------------------------
    ("CL plain", cl(b"3"), ABC_THEN_NEXT, KEEP),
    ("CL twice, equal", cl(b"3", b"3"), ABC_THEN_NEXT, KEEP),
    ("CL twice, different", cl(b"3", b"4", body=b"abcd"), [err(400)], CLOSE),
    ("CL 0 then 3", cl(b"0", b"3"), [err(400)], CLOSE),
    (
        "CL twice, different name case",
        post(b"content-length: 3\r\nContent-Length: 4\r\n", b"abcd"),
        [err(400)],
        CLOSE,
    ),
    ("CL upper-case name", post(b"CONTENT-LENGTH: 3\r\n", b"abc"), ABC_THEN_NEXT, KEEP),
    ("CL as a list", cl(b"3, 3"), [err(400)], CLOSE),
    ("CL equal, then as a list", cl(b"3", b"3, 3"), [err(400)], CLOSE),
    ("CL with sign", cl(b"+3"), [err(400)], CLOSE),
    ("CL negative", cl(b"-1"), [err(400)], CLOSE),
    ("CL hex", cl(b"0x3"), [err(400)], CLOSE),
    ("CL decimal point", cl(b"3.0"), [err(400)], CLOSE),
    ("CL two numbers", cl(b"3 3"), [err(400)], CLOSE),
    ("CL empty", cl(b""), [err(400)], CLOSE),
    ("CL trailing OWS", cl(b"3 "), ABC_THEN_NEXT, KEEP),
    ("CL obs-text after digits", cl(b"3\xa0"), [err(400)], CLOSE),
    ("CL leading zeros", cl(b"000000000000000000000000003"), ABC_THEN_NEXT, KEEP),
    ("CL 2^64", cl(b"18446744073709551616"), [err(413)], CLOSE),
    ("CL 99999999999 (no body read)", cl(b"99999999999"), [err(413)], CLOSE),
    ("CL space before colon", post(b"Content-Length : 3\r\n", b"abc"), [err(400)], CLOSE),
    (
        "CL on GET",
        get(b"GET / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabc"),
        ABC_THEN_NEXT,
        KEEP,
    ),
    (
        "CL body swallows the next request's start",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nab" + NEXT,
        [ok("/", "abGET"), err(400)],
        CLOSE,
    ),
    (
        "CL in HTTP/1.0 (no keep-alive)",
        post(b"Content-Length: 3\r\n", b"abc", b"1.0", b""),
        [ok("/", "abc")],
        CLOSE,
    ),
    # --- Content-Length with Transfer-Encoding ----------------------------------------------
    (
        "TE then CL",
        post(b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "CL then TE",
        post(b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "CL 0 with TE",
        post(b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "CL with TE identity",
        post(b"Content-Length: 3\r\nTransfer-Encoding: identity\r\n", b"abc"),
        [err(400)],
        CLOSE,
    ),
    # --- Transfer-Encoding forms -------------------------------------------------------------
    ("TE chunked", te(b"chunked"), ABC_THEN_NEXT, KEEP),
    ("TE chunked with trailing space", te(b"chunked "), ABC_THEN_NEXT, KEEP),
    ("TE upper case", te(b"CHUNKED"), ABC_THEN_NEXT, KEEP),
    ("TE mixed case", te(b"ChUnKeD"), ABC_THEN_NEXT, KEEP),
    (
        "TE tab before value",
        post(b"Transfer-Encoding:\tchunked\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
        ABC_THEN_NEXT,
        KEEP,
    ),
    ("TE empty list element", te(b", chunked"), ABC_THEN_NEXT, KEEP),
    ("TE xchunked", te(b"xchunked"), [err(400)], CLOSE),
    ("TE chunkedx", te(b"chunkedx"), [err(400)], CLOSE),
    ("TE chunked, identity", te(b"chunked, identity"), [err(400)], CLOSE),
    ("TE identity, chunked", te(b"identity, chunked"), [err(501)], CLOSE),
    ("TE gzip, chunked", te(b"gzip, chunked"), [err(501)], CLOSE),
    ("TE chunked, chunked", te(b"chunked, chunked"), [err(400)], CLOSE),
    (
        "TE chunked on two lines",
        post(
            b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
        ),
        [err(400)],
        CLOSE,
    ),
    (
        "TE gzip then chunked on two lines",
        post(
            b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n"
        ),
        [err(501)],
        CLOSE,
    ),
    (
        "TE chunked then gzip on two lines",
        post(
            b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", b"3\r\nabc\r\n0\r\n\r\n"
        ),
        [err(400)],
        CLOSE,
    ),
    ("TE identity alone", te(b"identity", b""), [err(400)], CLOSE),
    ("TE empty", te(b"", b""), [err(400)], CLOSE),
    ("TE with a parameter", te(b"chunked;q=1"), [err(400)], CLOSE),
    ("TE quoted", te(b'"chunked"'), [err(400)], CLOSE),
    ("TE vertical tab", te(b"\x0bchunked"), [err(400)], CLOSE),
    (
        "TE line-folded value",
        post(b"Transfer-Encoding:\r\n chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "TE line folded onto another field",
        post(b"X-A: 1\r\n Transfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "TE tab-prefixed field line",
        post(b"\tTransfer-Encoding: chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "TE space before colon",
        post(b"Transfer-Encoding : chunked\r\n", b"3\r\nabc\r\n0\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "TE in HTTP/1.0",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive"
        b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + NEXT,
        [err(400)],
        CLOSE,
    ),
    # --- chunk sizes -----------------------------------------------------------------------------
    ("chunk size 0x3", chunked_body(b"0x3\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("chunk size -1", chunked_body(b"-1\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("chunk size +3", chunked_body(b"+3\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("chunk size with leading space", chunked_body(b" 3\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("chunk size with trailing space", chunked_body(b"3 \r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("chunk size 0_3", chunked_body(b"0_3\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("chunk size empty", chunked_body(b"\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    (
        "chunk size leading zeros",
        chunked_body(b"0000000000000000000003\r\nabc\r\n0\r\n\r\n"),
        ABC_THEN_NEXT,
        KEEP,
    ),
    (
        "chunk size upper-case hex",
        chunked_body(b"A\r\nabcdefghij\r\n0\r\n\r\n"),
        [ok("/", "abcdefghij"), OK_NEXT],
        KEEP,
    ),
    (
        "chunk size 2^64 - 1",
        chunked_body(b"ffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
        [err(413)],
        CLOSE,
    ),
    (
        "chunk size over 64 bits",
        chunked_body(b"10000000000000003\r\nabc\r\n0\r\n\r\n"),
        [err(413)],
        CLOSE,
    ),
    ("chunk size larger than its data", chunked_body(b"5\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("chunk size smaller than its data", chunked_body(b"2\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    # --- chunk extensions ----------------------------------------------------------------------
    ("chunk ext name=token", chunked_body(b"3;foo=bar\r\nabc\r\n0;x\r\n\r\n"), ABC_THEN_NEXT, KEEP),
    (
        "chunk ext quoted value",
        chunked_body(b'3;foo="b;r\\"x"\r\nabc\r\n0\r\n\r\n'),
        ABC_THEN_NEXT,
        KEEP,
    ),
    ("chunk ext with BWS", chunked_body(b"3 ; a = b\r\nabc\r\n0\r\n\r\n"), ABC_THEN_NEXT, KEEP),
    ("chunk ext space in value", chunked_body(b"3;foo=b r\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("chunk ext empty name", chunked_body(b"3;=b\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    (
        "chunk ext unterminated quote",
        chunked_body(b'3;a="b\r\nabc\r\n0\r\n\r\n'),
        [err(400)],
        CLOSE,
    ),
    ("chunk ext without size", chunked_body(b";a\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("chunk ext with NUL", chunked_body(b"3;f\x00o\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    (
        "chunk ext over max_chunk_line",
        chunked_body(b"3;a=" + b"b" * 5000 + b"\r\nabc\r\n0\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    # --- bare LF / CR, NUL ----------------------------------------------------------------------
    ("bare LF after request line", get(b"GET / HTTP/1.1\n" + H + b"\r\n"), [err(400)], CLOSE),
    ("bare LF ending the head", get(b"GET / HTTP/1.1\r\n" + H + b"\n"), [err(400)], CLOSE),
    (
        "bare LF in a field",
        get(b"GET / HTTP/1.1\r\n" + H + b"X: a\nY: b\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    ("CR LF LF", get(b"GET / HTTP/1.1\r\n\n" + H + b"\r\n"), [err(400)], CLOSE),
    ("bare CR after request line", get(b"GET / HTTP/1.1\r" + H + b"\r\n"), [err(400)], CLOSE),
    (
        "bare CR inside a value",
        get(b"GET / HTTP/1.1\r\nX: a\rb\r\n" + H + b"\r\n"),
        [err(400)],
        CLOSE,
    ),
    ("bare LF ending a chunk size", chunked_body(b"3\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("bare LF after chunk data", chunked_body(b"3\r\nabc\n0\r\n\r\n"), [err(400)], CLOSE),
    ("bare CR after chunk data", chunked_body(b"3\r\nabc\r0\r\n\r\n"), [err(400)], CLOSE),
    ("bare LF after last chunk", chunked_body(b"3\r\nabc\r\n0\n\r\n"), [err(400)], CLOSE),
    ("bare LF ending the chunked body", chunked_body(b"3\r\nabc\r\n0\r\n\n"), [err(400)], CLOSE),
    ("bare CR in a chunk ext", chunked_body(b"3;f\roo\r\nabc\r\n0\r\n\r\n"), [err(400)], CLOSE),
    ("bare LF in a trailer", chunked_body(b"3\r\nabc\r\n0\r\nX-T: 1\n\r\n"), [err(400)], CLOSE),
    (
        "leading empty lines (CRLF)",
        b"\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n" + NEXT,
        [ok("/"), OK_NEXT],
        KEEP,
    ),
    ("leading bare LF", b"\nGET / HTTP/1.1\r\n" + H + b"\r\n" + NEXT, [err(400)], CLOSE),
    ("NUL before the request", get(b"\x00GET / HTTP/1.1\r\n" + H + b"\r\n"), [err(400)], CLOSE),
    ("NUL in the method", get(b"G\x00T / HTTP/1.1\r\n" + H + b"\r\n"), [err(400)], CLOSE),
    ("NUL in the target", get(b"GET /a\x00b HTTP/1.1\r\n" + H + b"\r\n"), [err(400)], CLOSE),
    (
        "NUL in a field name",
        get(b"GET / HTTP/1.1\r\n" + H + b"X\x00: a\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "NUL in a field value",
        get(b"GET / HTTP/1.1\r\n" + H + b"X: a\x00b\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "DEL in a field value",
        get(b"GET / HTTP/1.1\r\n" + H + b"X: a\x7fb\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "whitespace before colon (tab)",
        get(b"GET / HTTP/1.1\r\n" + H + b"X-A\t: 1\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    ("tab in the request line", get(b"GET\t/ HTTP/1.1\r\n" + H + b"\r\n"), [err(400)], CLOSE),
    ("space after the version", get(b"GET / HTTP/1.1 \r\n" + H + b"\r\n"), [err(400)], CLOSE),
    ("HTTP/0.9 request line", get(b"GET /\r\n"), [err(400)], CLOSE),
    # --- trailers --------------------------------------------------------------------------------
    ("trailer field", chunked_body(b"3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"), ABC_THEN_NEXT, KEEP),
    (
        "Content-Length in a trailer is dropped",
        chunked_body(b"3\r\nabc\r\n0\r\nContent-Length: 50\r\n\r\n"),
        ABC_THEN_NEXT,
        KEEP,
    ),
    (
        "obs-fold in a trailer",
        chunked_body(b"3\r\nabc\r\n0\r\nX-T: 1\r\n 2\r\n\r\n"),
        [err(400)],
        CLOSE,
    ),
    (
        "missing final CRLF: next request read as trailer",
        chunked_body(b"3\r\nabc\r\n0\r\n"),
        [err(400)],
        CLOSE,
    ),
    # --- pipelining after close and after errors ---------------------------------------------
    (
        "after Connection: close",
        get(b"GET /a HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n"),
        [ok("/a")],
        CLOSE,
    ),
    (
        "after Connection: CLOSE",
        get(b"GET /a HTTP/1.1\r\n" + H + b"Connection: CLOSE\r\n\r\n"),
        [ok("/a")],
        CLOSE,
    ),
    (
        "after Connection: keep-alive, close",
        get(b"GET /a HTTP/1.1\r\n" + H + b"Connection: keep-alive, close\r\n\r\n"),
        [ok("/a")],
        CLOSE,
    ),
    (
        "after close on a second Connection line",
        get(b"GET /a HTTP/1.1\r\n" + H + b"Connection: keep-alive\r\nConnection: close\r\n\r\n"),
        [ok("/a")],
        CLOSE,
    ),
    (
        "Connection: closex is not close",
        get(b"GET /a HTTP/1.1\r\n" + H + b"Connection: closex\r\n\r\n"),
        [ok("/a"), OK_NEXT],
        KEEP,
    ),
    ("after HTTP/1.0 without keep-alive", get(b"GET /a HTTP/1.0\r\n\r\n"), [ok("/a")], CLOSE),
    (
        "after a missing Host",
        get(b"GET /a HTTP/1.1\r\n" + H + b"\r\nGET /b HTTP/1.1\r\n\r\n"),
        [ok("/a"), err(400)],
        CLOSE,
    ),
    ("after a 413", cl(b"99999999999", body=b""), [err(413)], CLOSE),
    (
        "after a 417",
        post(b"Expect: 100-continueX\r\nContent-Length: 3\r\n", b"abc"),
        [err(417)],
        CLOSE,
    ),
    ("after a 505", get(b"GET / HTTP/2.0\r\n" + H + b"\r\n"), [err(505)], CLOSE),
    ("two Host fields", get(b"GET / HTTP/1.1\r\n" + H + H + b"\r\n"), [err(400)], CLOSE),
    # --- request-target forms (RFC 9112 section 3.2) -----------------------------------------
    # CONNECT opens no tunnel here, and what follows it would be the tunnel's bytes: refused
    # whatever its target, and nothing after it is read.
    ("CONNECT authority-form", get(b"CONNECT a:443 HTTP/1.1\r\n" + H + b"\r\n"), [err(501)], CLOSE),
    ("CONNECT with a path", get(b"CONNECT / HTTP/1.1\r\n" + H + b"\r\n"), [err(501)], CLOSE),
    (
        "authority-form without CONNECT",
        get(b"GET a:80 HTTP/1.1\r\n" + H + b"\r\n"),
        [err(400)],
        CLOSE,
    ),
    ("asterisk-form without OPTIONS", get(b"GET * HTTP/1.1\r\n" + H + b"\r\n"), [err(400)], CLOSE),
    ("a target of no form", get(b"GET abc HTTP/1.1\r\n" + H + b"\r\n"), [err(400)], CLOSE),
    (
        "OPTIONS * is routed as /",
        get(b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n"),
        [ok("/"), OK_NEXT],
        KEEP,
    ),
    (
        "absolute-form without a path is /",
        get(b"GET http://a HTTP/1.1\r\n" + H + b"\r\n"),
        [ok("/"), OK_NEXT],
        KEEP,
    ),
    (
        "absolute-form with a path",
        get(b"GET http://a/x/y?q=1 HTTP/1.1\r\n" + H + b"\r\n"),
        [ok("/x/y"), OK_NEXT],
        KEEP,
    ),
]

assert len({c[0] for c in CASES}) == len(CASES), "case names must be unique"
