#!/usr/bin/env python3
"""Checks that a server answers the peer benchmark's endpoints correctly, before it is measured.

    check.py [--plaintext-only] [--plaintext-body TEXT] PORT

Over one keep-alive connection (raw sockets, so nothing is hidden by a client library):

- `GET /plaintext`: 200, the body 'Hello, World!' (or --plaintext-body), a text/plain
  Content-Type, and `Server` and `Date` headers (TechEmpower's plaintext rules);
- `GET /json`: 200, application/json, `Server` and `Date`, a body that parses to
  `{"message": "Hello, World!"}`;
- `GET /user/123/post/hello-world?fields=a,b`: 200, application/json, a body that parses to
  `{"user": 123, "post": "hello-world", "fields": ["a", "b"]}`, and the same with other
  values (so a server cannot answer one fixed string);
- `POST /echo` with body-1k.json: 200, application/json, a body that parses to the same value.

Then 16 pipelined `GET /plaintext` in one send, all 16 answered right. Every response must
be framed by Content-Length. Exit status 0 when all is right, else 1 with what was wrong.
--plaintext-only checks /plaintext alone (the C reference serves nothing else).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ACCEPT = "text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7"


class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def request(self, method: str, path: str, body: bytes = b"", ctype: str = "") -> bytes:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAccept: {ACCEPT}\r\n"
        head += "Connection: keep-alive\r\n"
        if body:
            head += f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        return head.encode() + b"\r\n" + body

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers or "content-length" not in headers:
            raise ValueError(f"response not framed by Content-Length: {lines}")
        length = int(headers["content-length"])
        while len(self.buf) < length:
            self.fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buf += chunk

    def exchange(self, method: str, path: str, body: bytes = b"", ctype: str = ""):
        self.sock.sendall(self.request(method, path, body, ctype))
        return self.response()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("--plaintext-only", action="store_true")
    ap.add_argument("--plaintext-body", default="Hello, World!")
    args = ap.parse_args()
    errors: list[str] = []

    def expect(what: str, ok: bool, got: object) -> None:
        if not ok:
            errors.append(f"{what}: got {got!r}")

    def check(what, resp, ctype, parse, want) -> None:
        status, headers, body = resp
        expect(f"{what} status", status == 200, status)
        expect(f"{what} Content-Type", headers.get("content-type", "").startswith(ctype), headers)
        for h in ("server", "date"):
            expect(f"{what} {h.title()} header", bool(headers.get(h)), headers)
        try:
            value = parse(body)
        except ValueError as e:
            value = f"unparsable ({e}): {body[:200]!r}"
        expect(f"{what} body", value == want, value)

    c = Conn(args.port)
    plain = args.plaintext_body
    check("GET /plaintext", c.exchange("GET", "/plaintext"), "text/plain", bytes.decode, plain)
    if not args.plaintext_only:
        check(
            "GET /json",
            c.exchange("GET", "/json"),
            "application/json",
            json.loads,
            {"message": "Hello, World!"},
        )
        for uid, slug, fields in ((123, "hello-world", "a,b"), (7, "x", "id,title,body")):
            path = f"/user/{uid}/post/{slug}?fields={fields}"
            want = {"user": uid, "post": slug, "fields": fields.split(",")}
            check(f"GET {path}", c.exchange("GET", path), "application/json", json.loads, want)
        with open(os.path.join(HERE, "body-1k.json"), "rb") as f:
            body = f.read()
        check(
            "POST /echo",
            c.exchange("POST", "/echo", body, "application/json"),
            "application/json",
            json.loads,
            json.loads(body),
        )
    c.sock.sendall(c.request("GET", "/plaintext") * 16)
    for i in range(16):
        status, _, body = c.response()
        expect(
            f"pipelined GET /plaintext #{i + 1}",
            status == 200 and body == plain.encode(),
            (status, body),
        )
    c.sock.close()
    for e in errors:
        print(f"check: port {args.port}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as e:
        print(f"check: {e}", file=sys.stderr)
        sys.exit(1)
