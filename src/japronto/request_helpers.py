"""The Request attributes that are parsed in Python: query, text, json, form, files, ...

The C Request (``japronto._core.Request``) calls ``get_<attribute>(request)`` on the first
access to ``request.<attribute>`` and caches the result for the life of the request (an
exception is not cached: the next access raises again). The ``parse_*`` functions do the work
on raw values and are usable on their own. docs/request.md lists each attribute, its type and
its edge cases.

This module imports only the standard library: the C engine imports it while ``japronto`` is
still initialising.

Errors: parsing a body the client got wrong raises a subclass of ``ValueError`` with a message
saying what is wrong, so that ``except ValueError`` in a handler catches all of them:
``BodyDecodeError`` (text), ``JSONBodyError`` (json), ``FormError`` / ``MultipartError``
(form, files). Headers never raise: a malformed Content-Type, Cookie or Host header gives the
"absent" value for what cannot be read.
"""

import codecs
import json as _json
import re
from functools import lru_cache
from urllib.parse import unquote, unquote_to_bytes

__all__ = [
    "BodyDecodeError",
    "FormError",
    "JSONBodyError",
    "MultipartError",
    "UploadedFile",
    "parse_content_type",
    "parse_cookies",
    "parse_host",
    "parse_multipart",
    "parse_urlencoded",
]

MAX_FORM_FIELDS = 1000  # urlencoded fields, or multipart parts, in one body
MAX_PART_HEAD = 16384  # bytes of header lines in one multipart part


class BodyDecodeError(ValueError):
    """The body cannot be decoded as text with the request's charset (or the charset is
    unknown)."""


class JSONBodyError(BodyDecodeError):
    """The body is not valid JSON."""


class FormError(ValueError):
    """The body is not a valid form (too many fields, or see MultipartError)."""


class MultipartError(FormError):
    """A multipart/form-data body is malformed: missing boundary, bad part headers,
    unterminated, too many parts."""


class UploadedFile:
    """One file of a multipart/form-data body: ``name`` (the filename the client gave, may
    be ``''``), ``type`` (the part's Content-Type, ``'application/octet-stream'`` when it gave
    none) and ``body`` (the bytes)."""

    __slots__ = ("name", "type", "body")

    def __init__(self, name: str, type: str, body: bytes):
        self.name = name
        self.type = type
        self.body = body

    def __repr__(self) -> str:
        return f"UploadedFile(name={self.name!r}, type={self.type!r}, {len(self.body)} bytes)"

    def __eq__(self, other):
        if not isinstance(other, UploadedFile):
            return NotImplemented
        return (self.name, self.type, self.body) == (other.name, other.type, other.body)

    __hash__ = None


# ---- raw values ----------------------------------------------------------------------------

_PARAM_RE = re.compile(
    r';\s*([^\s;=]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', re.DOTALL
)  # ; name = value   or   ; name = "quoted \" value"


def _params(rest: str) -> dict:
    """Parameters after a media type or disposition: ``; a=1; b="x y"``. Names lower-cased;
    the first of a repeated name wins; pieces that do not parse are skipped."""
    out = {}
    for m in _PARAM_RE.finditer(rest):
        name, value = m.group(1).lower(), m.group(2)
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
        else:
            value = value.strip()
        out.setdefault(name, value)
    return out


# Codecs Python has that are no charset a body can be in, though they decode bytes to str: a
# client naming one must not reach them. "idna" and "punycode" raise on errors="replace" (and
# on ordinary bytes with UnicodeError rather than UnicodeDecodeError), "undefined" always
# raises, and the two escape codecs read Python's backslash escapes and warn (a
# DeprecationWarning on the server's stderr, or an error under -W error) on bad ones.
_NOT_CHARSETS = frozenset(["idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"])


@lru_cache(maxsize=64)
def _codec(charset: str):
    """The canonical name of the codec ``charset`` names when it is a text encoding a body can
    be in (utf-8, latin-1, cp1252, shift_jis, ...), else None: unknown, a bytes-to-bytes
    codec such as base64, or one of _NOT_CHARSETS. Decoding with it raises nothing but
    UnicodeDecodeError, and nothing at all with errors="replace"."""
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):  # ValueError: a name holding a NUL
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def parse_content_type(value):
    """``'Text/HTML; charset="UTF-8"'`` -> ``('text/html', {'charset': 'UTF-8'})``. None or an
    empty value gives ``(None, {})``. Never raises."""
    if not value:
        return None, {}
    head, sep, rest = value.partition(";")
    mime = head.strip().lower() or None
    return mime, (_params(sep + rest) if sep else {})


def parse_urlencoded(data, encoding: str = "utf-8", max_fields=None) -> list:
    """``a=1&b=x+y&a=%C3%A9`` (str or bytes) -> ``[('a', '1'), ('b', 'x y'), ('a', 'é')]``:
    every pair in order, as urllib.parse.parse_qsl(keep_blank_values=True) gives them: '&'
    separates (';' does not), empty pieces are skipped, a piece without '=' is a name with
    value '', '+' is a space, percent-escapes are decoded as ``encoding`` with errors replaced
    (U+FFFD). More than ``max_fields`` pairs raises FormError."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    pieces = [p for p in data.split(b"&") if p]
    if max_fields is not None and len(pieces) > max_fields:
        raise FormError(f"more than {max_fields} form fields")
    out = []
    for piece in pieces:
        name, _, value = piece.partition(b"=")
        out.append(
            (
                unquote_to_bytes(name.replace(b"+", b" ")).decode(encoding, "replace"),
                unquote_to_bytes(value.replace(b"+", b" ")).decode(encoding, "replace"),
            )
        )
    return out


_COOKIE_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 9110 token


def parse_cookies(values) -> dict:
    """Cookie header values (an iterable of str) -> ``{name: value}``. ``a=1; b="x"`` gives
    ``{'a': '1', 'b': 'x'}``. A pair without '=' or whose name is not a token is skipped; a
    value is returned as sent, less one pair of surrounding double quotes (no unescaping).
    When a name repeats, the first wins: browsers send the most specific cookie (longest
    path) first (RFC 6265 section 5.4). Header values arrive latin-1-decoded; they are read
    again as UTF-8 (errors replaced), which is what browsers send. Never raises."""
    out = {}
    for value in values:
        try:
            value = value.encode("latin-1").decode("utf-8", "replace")
        except UnicodeEncodeError:
            pass  # already a str of code points beyond latin-1: use it as is
        for pair in value.split(";"):
            name, eq, val = pair.partition("=")
            name = name.strip()
            if not eq or not _COOKIE_NAME_RE.fullmatch(name):
                continue
            val = val.strip()
            if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
                val = val[1:-1]
            out.setdefault(name, val)
    return out


_HOST_RE = re.compile(r"(\[[0-9A-Fa-f:.]+(?:%[^\]]*)?\]|[^\[\]:]*)(?::([0-9]*))?")


def parse_host(value):
    """A Host header value -> ``(hostname, port)``. ``'Example.com:8080'`` ->
    ``('example.com', 8080)``; ``'[::1]:8080'`` -> ``('::1', 8080)`` (no brackets); no port,
    an empty port or one outside 0-65535 -> port None. None, empty or malformed -> ``(None,
    None)``. Hostnames are lower-cased (they are case-insensitive). Never raises."""
    if not value:
        return None, None
    m = _HOST_RE.fullmatch(value.strip())
    if m is None:
        return None, None
    host, port = m.group(1), m.group(2)
    if host.startswith("["):
        host = host[1:-1]
    if not host:
        return None, None
    port = int(port) if port and len(port) <= 5 and int(port) <= 65535 else None
    return host.lower(), port


# ---- multipart/form-data (RFC 7578, framing from RFC 2046 section 5.1.1) --------------------


def _part_headers(raw: bytes) -> dict:
    headers = {}
    for line in raw.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            raise MultipartError(f"malformed part header line {line[:80]!r}")
        # Browsers send file names as raw UTF-8 in these lines.
        headers[name.decode("latin-1").lower()] = value.strip().decode("utf-8", "replace")
    return headers


def _disposition(headers: dict):
    value = headers.get("content-disposition")
    if value is None:
        raise MultipartError("a part has no Content-Disposition header")
    kind, _, rest = value.partition(";")
    if kind.strip().lower() != "form-data":
        raise MultipartError(f"a part's Content-Disposition is {kind.strip()!r}, not form-data")
    params = _params(";" + rest)
    name = params.get("name")
    if name is None:
        raise MultipartError("a part's Content-Disposition has no name parameter")
    filename = params.get("filename")
    ext = params.get("filename*")  # RFC 5987: charset'lang'percent-encoded
    if ext is not None and ext.count("'") >= 2:
        charset, _, encoded = ext.split("'", 2)
        codec = _codec(charset or "utf-8")
        if codec is not None:  # else an unknown charset: keep the plain filename, if any
            filename = unquote(encoded, encoding=codec, errors="replace")
    return name, filename


def parse_multipart(body: bytes, boundary, encoding: str = "utf-8", max_parts=MAX_FORM_FIELDS):
    """A multipart/form-data body -> ``(fields, files)``: ``fields`` a list of (name, str
    value) pairs in order, ``files`` a list of (name, UploadedFile). A part is a file when its
    Content-Disposition has a filename (even an empty one). A field's value is decoded with
    the charset of its own Content-Type, else ``encoding``, errors replaced. The preamble
    and epilogue are ignored. Raises MultipartError: no boundary, no delimiter, a part
    without a header block or Content-Disposition: form-data; name=..., a malformed header
    line, no closing delimiter, more than ``max_parts`` parts."""
    if not boundary:
        raise MultipartError("multipart/form-data without a boundary parameter")
    if len(boundary) > 70:
        raise MultipartError("multipart boundary longer than 70 characters")
    try:
        delim = b"--" + boundary.encode("ascii")
    except UnicodeEncodeError:
        raise MultipartError("multipart boundary is not ASCII") from None
    if body.startswith(delim):
        pos = len(delim)
    else:
        i = body.find(b"\r\n" + delim)
        if i < 0:
            raise MultipartError("multipart body has no boundary delimiter")
        pos = i + 2 + len(delim)
    sep = b"\r\n" + delim
    fields, files = [], []
    count = 0
    while True:
        if body.startswith(b"--", pos):
            return fields, files  # the close delimiter; the epilogue is ignored
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise MultipartError("multipart body ends after a boundary delimiter")
        if body[pos:eol].strip(b" \t"):
            raise MultipartError("unexpected bytes after a multipart boundary delimiter")
        start = eol + 2
        end = body.find(sep, start)
        if end < 0:
            raise MultipartError("unterminated multipart body: no closing boundary")
        count += 1
        if count > max_parts:
            raise MultipartError(f"more than {max_parts} parts in a multipart body")
        if body.startswith(b"\r\n", start):
            head, content = b"", body[start + 2 : end]
        else:
            split = body.find(b"\r\n\r\n", start, end)
            if split < 0:
                raise MultipartError("a multipart part's headers are not terminated")
            head, content = body[start:split], body[split + 4 : end]
        if len(head) > MAX_PART_HEAD:
            raise MultipartError(f"a multipart part's headers exceed {MAX_PART_HEAD} bytes")
        headers = _part_headers(head) if head else {}
        name, filename = _disposition(headers)
        ctype = headers.get("content-type")
        if filename is not None:
            files.append(
                (name, UploadedFile(filename, ctype or "application/octet-stream", content))
            )
        else:
            charset = parse_content_type(ctype)[1].get("charset")
            value = content.decode((charset and _codec(charset)) or encoding, "replace")
            fields.append((name, value))
        pos = end + len(sep)


# ---- the Request getters ---------------------------------------------------------------------


def _content_type(request):
    return parse_content_type(request.headers.get("Content-Type"))


def get_query_all(request) -> list:
    qs = request.query_string
    return parse_urlencoded(qs) if qs else []


def get_query(request) -> dict:
    return dict(request.query_all)  # a repeated name: the last value wins


def get_mime_type(request):
    return _content_type(request)[0]


def get_encoding(request):
    charset = _content_type(request)[1].get("charset")
    return charset.lower() if charset else None


def get_text(request):
    body = request.body
    if body is None:
        return None
    charset = request.encoding or "utf-8"
    codec = _codec(charset)
    if codec is None:
        raise BodyDecodeError(f"unknown charset {charset!r} in Content-Type")
    try:
        return body.decode(codec)
    except UnicodeDecodeError as e:
        raise BodyDecodeError(
            f"request body is not valid {charset}: {e.reason} at byte {e.start}"
        ) from None


def get_json(request):
    text = request.text
    if not text:
        return None  # no body, or an empty one
    try:
        return _json.loads(text)
    except _json.JSONDecodeError as e:
        raise JSONBodyError(f"request body is not valid JSON: {e}") from None
    except RecursionError:
        raise JSONBodyError("request body is not valid JSON: nested too deeply") from None
    except ValueError as e:
        # Valid JSON that Python will not read: an integer of more digits than
        # sys.get_int_max_str_digits() (4300 by default), a guard against quadratic-time
        # conversion. json.loads raises a bare ValueError for it.
        raise JSONBodyError(f"request body cannot be read as JSON: {e}") from None


def _form(request):
    """(fields, files) of the body, both lists of pairs; ([], []) for other types."""
    body = request.body
    mime, params = _content_type(request)
    if not body or mime not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return [], []
    charset = _codec(params.get("charset") or "utf-8") or "utf-8"
    if mime == "multipart/form-data":
        return parse_multipart(body, params.get("boundary"), charset)
    return parse_urlencoded(body, charset, MAX_FORM_FIELDS), []


def get_form_data(request) -> tuple:
    """(fields, files) as lists of pairs: parsed once for form, form_all and files."""
    return _form(request)


def get_form_all(request) -> list:
    return request._form_data[0]


def get_form(request) -> dict:
    return dict(request.form_all)  # a repeated name: the last value wins


def get_files(request) -> dict:
    return dict(request._form_data[1])  # a repeated name: the last file wins


def get_cookies(request) -> dict:
    return parse_cookies(request.headers.getall("Cookie", ()))


def get_hostname(request):
    return parse_host(request.headers.get("Host"))[0]


def get_port(request):
    return parse_host(request.headers.get("Host"))[1]
