"""Raw-wire helpers for the black-box server tests: no japronto import, no mocks.

- ``ResponseReader``: an incremental, strict HTTP/1.x *response* parser. Fed a byte stream
  (in pieces of any size), it returns one ``Response`` at a time, framing each body by the
  RFC 9112 rules (no body for HEAD, 1xx, 204 and 304; chunked; Content-Length; else until
  EOF), so that pipelined responses can be split, counted and checked one by one. It raises
  ``ProtocolError`` on anything a correct server must not send.
- ``Conn``: a client socket whose every receive is bounded by a deadline (5 s unless told),
  so that a test fails with what it saw instead of hanging.
- ``build_request``, ``run_curl``, ``rss_kb``: small utilities.
"""

from __future__ import annotations

import json as _json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterable, Sequence

DEFAULT_TIMEOUT = 5.0
# `make pytest-asan` runs the suite with the sanitized extension and libasan preloaded; the
# app processes inherit that environment.
SANITIZED = bool(os.environ.get("JAPRONTO_EXPECT_SANITIZED")) or "asan" in os.environ.get(
    "LD_PRELOAD", ""
)

_STATUS_RE = re.compile(rb"HTTP/(1\.[01]) ([0-9]{3})(?: ([\x09\x20-\x7e\x80-\xff]*))?")
_TOKEN_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE_RE = re.compile(rb"[\x09\x20-\x7e\x80-\xff]*")
_CHUNK_SIZE_RE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(;.*)?")


class ProtocolError(AssertionError):
    """The server sent bytes that are not a valid HTTP/1.x response (or were cut short)."""


class Response:
    """One parsed response. ``headers`` is the list of (name, value) pairs as sent."""

    def __init__(self, version, status, reason, headers, body, raw, trailers=(), framing=""):
        self.version: str = version  # "1.1" or "1.0"
        self.status: int = status
        self.reason: str = reason
        self.headers: list[tuple[str, str]] = list(headers)
        self.body: bytes = body
        self.raw: bytes = raw  # every byte of this response as received
        self.trailers: list[tuple[str, str]] = list(trailers)
        self.framing: str = framing  # "none", "length", "chunked" or "eof"

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``default``."""
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return default

    def header_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def has_header(self, name: str) -> bool:
        return bool(self.header_all(name))

    def connection_tokens(self) -> set[str]:
        """The lower-cased tokens of every Connection header."""
        out = set()
        for v in self.header_all("Connection"):
            out.update(t.strip().lower() for t in v.split(",") if t.strip())
        return out

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return _json.loads(self.body)

    def __repr__(self):
        body = self.body if len(self.body) <= 200 else self.body[:200] + b"..."
        return f"<Response {self.status} {self.reason!r} headers={self.headers!r} body={body!r}>"


def _parse_fields(lines: Sequence[bytes], what: str) -> list[tuple[str, str]]:
    fields = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            raise ProtocolError(f"obs-fold in {what}: {line!r}")
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN_RE.fullmatch(name):
            raise ProtocolError(f"bad field line in {what}: {line!r}")
        value = value.strip(b" \t")
        if not _FIELD_VALUE_RE.fullmatch(value):
            raise ProtocolError(f"control byte in {what} value: {line!r}")
        fields.append((name.decode("latin-1"), value.decode("latin-1")))
    return fields


def _split_head(head: bytes, what: str) -> list[bytes]:
    """Splits a head (without its final empty line) into lines; every line must end in CRLF."""
    lines = head.split(b"\r\n")
    for line in lines:
        if b"\r" in line or b"\n" in line:
            raise ProtocolError(f"bare CR or LF in {what}: {line!r}")
    return lines


class ResponseReader:
    """Incremental response parser over a byte stream (see the module docstring).

    ``feed(data)`` appends bytes, ``feed_eof()`` records that the peer closed, and
    ``next(head=False)`` returns the next complete ``Response`` or ``None`` when more bytes
    are needed. ``head=True`` says the matching request was HEAD (no body follows).
    """

    def __init__(self, max_head: int = 1 << 20):
        self._buf = bytearray()
        self._eof = False
        self._max_head = max_head

    @property
    def eof(self) -> bool:
        return self._eof

    @property
    def pending(self) -> bytes:
        """Bytes received but not yet returned as part of a response."""
        return bytes(self._buf)

    def feed(self, data: bytes) -> None:
        if self._eof and data:
            raise ValueError("data fed after EOF")
        self._buf += data

    def feed_eof(self) -> None:
        self._eof = True

    def take(self, n: int) -> bytes | None:
        """Removes and returns exactly ``n`` raw bytes, or ``None`` if fewer are buffered."""
        if len(self._buf) < n:
            return None
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def next(self, head: bool = False) -> Response | None:
        buf = self._buf
        if not buf:
            return None
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > self._max_head:
                raise ProtocolError(f"response head longer than {self._max_head} bytes")
            if not b"HTTP/1.".startswith(bytes(buf[:7])):
                raise ProtocolError(f"not an HTTP/1.x status line: {bytes(buf[:80])!r}")
            if self._eof:
                raise ProtocolError(f"EOF inside a response head: {bytes(buf[:200])!r}")
            return None
        lines = _split_head(bytes(buf[:end]), "response head")
        m = _STATUS_RE.fullmatch(lines[0])
        if not m:
            raise ProtocolError(f"bad status line: {lines[0]!r}")
        version = m.group(1).decode()
        status = int(m.group(2))
        reason = (m.group(3) or b"").decode("latin-1")
        headers = _parse_fields(lines[1:], "response head")
        pos = end + 4
        te = [v for k, v in headers if k.lower() == "transfer-encoding"]
        cl = [v for k, v in headers if k.lower() == "content-length"]
        body = b""
        trailers: list[tuple[str, str]] = []
        if head or 100 <= status < 200 or status in (204, 304):
            framing = "none"
            if status < 200 or status == 204:
                if te or cl:
                    raise ProtocolError(f"{status} response with framing headers: {headers!r}")
        elif te:
            if cl:
                raise ProtocolError("response has both Transfer-Encoding and Content-Length")
            codings = [c.strip().lower() for c in ",".join(te).split(",") if c.strip()]
            if codings and codings[-1] == "chunked":
                framing = "chunked"
                parsed = self._parse_chunked(pos)
                if parsed is None:
                    return None
                body, trailers, pos = parsed
            else:
                framing = "eof"
        elif cl:
            if len(set(cl)) != 1 or not cl[0].isdigit():
                raise ProtocolError(f"bad Content-Length: {cl!r}")
            framing = "length"
            n = int(cl[0])
            if len(buf) - pos < n:
                if self._eof:
                    raise ProtocolError(
                        f"EOF after {len(buf) - pos} of {n} body bytes (head {bytes(buf[:end])!r})"
                    )
                return None
            body = bytes(buf[pos : pos + n])
            pos += n
        else:
            framing = "eof"
        if framing == "eof":
            if not self._eof:
                return None
            body = bytes(buf[pos:])
            pos = len(buf)
        raw = bytes(buf[:pos])
        del buf[:pos]
        return Response(version, status, reason, headers, body, raw, trailers, framing)

    def _parse_chunked(self, pos: int):
        """Decodes a chunked body starting at ``pos``; (body, trailers, end) or None."""
        buf = self._buf
        body = bytearray()
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return self._need_more("chunk-size line")
            line = bytes(buf[pos:eol])
            m = _CHUNK_SIZE_RE.fullmatch(line)
            if not m or b"\n" in line or b"\r" in line:
                raise ProtocolError(f"bad chunk-size line: {line!r}")
            size = int(m.group(1), 16)
            pos = eol + 2
            if size == 0:
                break
            if len(buf) < pos + size + 2:
                return self._need_more("chunk data")
            body += buf[pos : pos + size]
            if buf[pos + size : pos + size + 2] != b"\r\n":
                raise ProtocolError("chunk data not followed by CRLF")
            pos += size + 2
        trailer_lines = []
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return self._need_more("trailer section")
            line = bytes(buf[pos:eol])
            pos = eol + 2
            if not line:
                break
            trailer_lines.append(line)
        _split_head(b"\r\n".join(trailer_lines), "trailers")
        return bytes(body), _parse_fields(trailer_lines, "trailers"), pos

    def _need_more(self, where: str):
        if self._eof:
            raise ProtocolError(f"EOF inside a chunked body ({where})")
        return None


def parse_responses(data: bytes, heads: Iterable[bool] = (), eof: bool = True) -> list[Response]:
    """Every complete response in ``data``; with ``eof`` no bytes may be left over."""
    reader = ResponseReader()
    reader.feed(data)
    if eof:
        reader.feed_eof()
    heads = list(heads)
    out = []
    while True:
        r = reader.next(head=heads[len(out)] if len(out) < len(heads) else False)
        if r is None:
            break
        out.append(r)
    if eof and reader.pending:
        raise ProtocolError(f"bytes left over after {len(out)} responses: {reader.pending!r}")
    return out


class ConnectionClosed(AssertionError):
    """The server closed the connection while a test waited for bytes."""


class Conn:
    """A client connection with bounded receives.

    Every method that waits has a deadline (``timeout`` seconds, default 5): on expiry it
    raises ``AssertionError`` describing what had been received, never blocks forever.
    A connection reset by the peer counts as EOF (``self.reset`` is set).
    """

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        timeout: float = DEFAULT_TIMEOUT,
        nodelay: bool = True,
        rcvbuf: int | None = None,
    ):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.reader = ResponseReader()
        self.reset = False
        self.received = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes | bytearray | memoryview) -> None:
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def send_split(self, parts: Iterable[bytes], pause: float = 0.002) -> None:
        """Sends each part in its own segment, pausing between them (TCP_NODELAY is on)."""
        for i, part in enumerate(parts):
            if i:
                time.sleep(pause)
            if part:
                self.send(part)

    def _timeout_message(self, what: str) -> str:
        pending = self.reader.pending[:500]
        return f"timed out waiting for {what}; unparsed bytes so far: {pending!r}"

    def _recv_into_reader(self, deadline: float, what: str) -> bool:
        """Receives once; returns False on EOF. Raises AssertionError at the deadline."""
        if self.reader.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(self._timeout_message(what))
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(262144)
        except socket.timeout:
            raise AssertionError(self._timeout_message(what)) from None
        except ConnectionResetError:
            self.reset = True
            data = b""
        if not data:
            self.reader.feed_eof()
            return False
        self.received += len(data)
        self.reader.feed(data)
        return True

    def response(self, head: bool = False, timeout: float | None = None) -> Response:
        """The next complete response (``head``: the request was HEAD)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            r = self.reader.next(head=head)
            if r is not None:
                return r
            if not self._recv_into_reader(deadline, "a response"):
                r = self.reader.next(head=head)
                if r is not None:
                    return r
                raise ConnectionClosed(
                    "server closed the connection"
                    + (" (reset)" if self.reset else "")
                    + f" before a complete response; unparsed bytes: {self.reader.pending[:500]!r}"
                )

    def responses(
        self, n: int, heads: Sequence[bool] = (), timeout: float | None = None
    ) -> list[Response]:
        """The next ``n`` responses; ``timeout`` bounds each one."""
        out = []
        for i in range(n):
            try:
                out.append(self.response(head=i < len(heads) and heads[i], timeout=timeout))
            except AssertionError as e:
                raise AssertionError(f"after {i} of {n} responses: {e}") from None
        return out

    def final_response(self, head: bool = False, timeout: float | None = None) -> Response:
        """The next response that is not 1xx (interim responses are skipped)."""
        while True:
            r = self.response(head=head, timeout=timeout)
            if r.status >= 200:
                return r

    def read_exact(self, n: int, timeout: float | None = None) -> bytes:
        """Exactly ``n`` raw bytes (through the same buffer the response reader uses)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            out = self.reader.take(n)
            if out is not None:
                return out
            if not self._recv_into_reader(deadline, f"{n} raw bytes"):
                raise ConnectionClosed(f"EOF before {n} bytes; got {self.reader.pending!r}")

    def nothing_within(self, seconds: float) -> bytes:
        """Waits ``seconds`` and returns whatever arrived meanwhile (b'' if nothing); does
        not consume bytes that were already buffered."""
        deadline = time.monotonic() + seconds
        before = len(self.reader.pending)
        while time.monotonic() < deadline:
            try:
                if not self._recv_into_reader(deadline, "nothing"):
                    break
            except AssertionError:
                break
        return self.reader.pending[before:]

    def expect_eof(self, timeout: float | None = None) -> None:
        """Asserts the server closes the connection within ``timeout`` and sends nothing
        more (no unread response bytes may be left either)."""
        assert not self.reader.pending, f"unread bytes before EOF: {self.reader.pending[:500]!r}"
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            while self._recv_into_reader(deadline, "the server to close the connection"):
                pass
        except AssertionError as e:
            raise AssertionError(f"connection still open: {e}") from None
        assert not self.reader.pending, f"extra bytes before EOF: {self.reader.pending[:500]!r}"

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self) -> None:
        """Closes with a TCP reset (SO_LINGER 0): the peer sees ECONNRESET at once."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()


def build_request(
    method: str = "GET",
    target: str = "/",
    headers: Sequence = (),
    body: bytes | None = None,
    version: str = "1.1",
    host: str | None = "127.0.0.1",
) -> bytes:
    """A request as bytes. ``headers`` is a list of (name, value) pairs; a Host header is
    added first unless ``host`` is None; Content-Length is added for ``body`` unless a
    Content-Length or Transfer-Encoding header is given (the body is then sent as is)."""
    lines = [f"{method} {target} HTTP/{version}"]
    names = {k.lower() for k, _ in headers}
    if host is not None and "host" not in names:
        lines.append(f"Host: {host}")
    for k, v in headers:
        lines.append(f"{k}: {v}")
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def chunked(*chunks: bytes, trailers: Sequence = (), ext: str = "") -> bytes:
    """A chunked body: each chunk as ``size[ext]CRLF data CRLF``, then 0, trailers, CRLF."""
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(c), ext.encode(), c) for c in chunks if c)
    out += b"0\r\n"
    out += b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in trailers)
    return out + b"\r\n"


def curl_path() -> str | None:
    return shutil.which("curl")


def run_curl(
    *args: str, timeout: float = 15.0, input: bytes | None = None
) -> subprocess.CompletedProcess:
    """Runs ``curl -sS --max-time 10 ARGS``; the caller skips when curl_path() is None."""
    exe = curl_path()
    assert exe, "curl is not installed"
    # curl is a client, not under test: it runs without the sanitizer runtime that
    # `make pytest-asan` preloads for the server.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return subprocess.run(
        [exe, "-sS", "--max-time", "10", *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def rss_kb(pid: int) -> int:
    """The resident set size of process ``pid`` in KiB, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def wait_for(
    predicate, timeout: float = DEFAULT_TIMEOUT, interval: float = 0.02, what: str = "condition"
):
    """Polls ``predicate()`` until it returns a truthy value (returned), or fails."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(interval)
