#!/usr/bin/env python3
"""An exact load for counting: sends exactly N GET requests (or POSTs of one body), D at a time,
and reads exactly N responses.

`count` runs it against a server under callgrind or strace, where what matters is not speed
but that the server sees a known number of requests in a known shape: each round sends D
requests (TechEmpower plaintext headers) in one send() on each connection, then reads all D
responses on each before the next round, so every read the server makes holds one whole
batch of D requests (as wrk's pipelining does), and the server's work per request can be
divided out exactly.

Responses are framed by Content-Length (chunked framing is refused: these servers must not
send it). The exit status is 0 only if exactly N responses came back, all 2xx, and, with
--expect, all with that body; so it is also the smoke test `run` and `count` do before
measuring.

With --body-file, each request is a POST of that file's bytes as `application/json` (the
peer suite's echo); --expect-file takes the expected body from a file.

Usage: load.py [-n N] [-d DEPTH] [-c CONNECTIONS] [--path /] [--body-file FILE]
               [--expect 'Hello world!' | --expect-file FILE] PORT
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

# The headers TechEmpower's plaintext test sends (its wrk command line), Host aside.
ACCEPT = "text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7"


def build_request(host: str, port: int, path: str, body: bytes | None = None) -> bytes:
    if body is None:
        return (
            f"GET {path} HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            f"Accept: {ACCEPT}\r\n"
            "Connection: keep-alive\r\n"
            "\r\n"
        ).encode("ascii")
    return (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Accept: application/json\r\n"
        "Connection: keep-alive\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("ascii") + body


class Reader:
    """Reads whole responses from one socket, keeping what belongs to the next."""

    def __init__(self, sock: socket.socket, expect: bytes | None) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0
        self.expect = expect
        self.bad_status = 0
        self.bad_body = 0
        self.first_bad = b""

    def read(self, count: int) -> None:
        """Reads exactly count responses; raises on EOF or a framing it does not know."""
        while count:
            end = self.buf.find(b"\r\n\r\n", self.pos)
            if end >= 0:
                head = bytes(self.buf[self.pos : end + 2])
                length = content_length(head)
                if end + 4 + length <= len(self.buf):
                    body = bytes(self.buf[end + 4 : end + 4 + length])
                    self.check(head, body)
                    self.pos = end + 4 + length
                    count -= 1
                    continue
            if self.pos:
                del self.buf[: self.pos]
                self.pos = 0
            chunk = self.sock.recv(262144)
            if not chunk:
                raise ConnectionError(f"server closed the connection with {count} responses due")
            self.buf += chunk

    def check(self, head: bytes, body: bytes) -> None:
        ok = head[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 ") and head[9:10] == b"2"
        if not ok:
            self.bad_status += 1
        elif self.expect is not None and body != self.expect:
            self.bad_body += 1
        else:
            return
        if not self.first_bad:
            self.first_bad = head + b"\r\n" + body


def content_length(head: bytes) -> int:
    lower = head.lower()
    if b"\r\ntransfer-encoding:" in lower:
        raise ValueError("chunked response; this client only reads Content-Length framing")
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        raise ValueError(f"response without Content-Length: {head[:200]!r}")
    line_end = lower.find(b"\r\n", at + 2)
    return int(lower[at + 17 : line_end].strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("-n", "--requests", type=int, default=1000, help="total requests (exact)")
    ap.add_argument("-d", "--depth", type=int, default=1, help="requests per round (pipelined)")
    ap.add_argument("-c", "--connections", type=int, default=1)
    ap.add_argument("--path", default="/")
    ap.add_argument("--body-file", help="POST this file's bytes as application/json")
    expect = ap.add_mutually_exclusive_group()
    expect.add_argument("--expect", help="the body every response must have")
    expect.add_argument("--expect-file", help="the same, read from a file")
    ap.add_argument("--timeout", type=float, default=300.0, help="per socket operation, s")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    if args.requests < 1 or args.depth < 1 or args.connections < 1:
        ap.error("-n, -d and -c must be positive")

    body = None
    if args.body_file:
        with open(args.body_file, "rb") as f:
            body = f.read()
    one = build_request(args.host, args.port, args.path, body)
    expect = args.expect.encode() if args.expect is not None else None
    if args.expect_file:
        with open(args.expect_file, "rb") as f:
            expect = f.read()
    conns = []
    for _ in range(args.connections):
        s = socket.create_connection((args.host, args.port), timeout=args.timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conns.append(Reader(s, expect))

    # Split N as evenly as the connections allow; each round is at most D per connection.
    left = [
        args.requests // len(conns) + (i < args.requests % len(conns)) for i in range(len(conns))
    ]
    batch = one * args.depth
    started = time.perf_counter()
    rounds = 0
    while any(left):
        sent = []
        for i, r in enumerate(conns):
            k = min(args.depth, left[i])
            if k:
                r.sock.sendall(batch if k == args.depth else one * k)
            sent.append(k)
        for i, r in enumerate(conns):
            if sent[i]:
                r.read(sent[i])
                left[i] -= sent[i]
        rounds += 1
    elapsed = time.perf_counter() - started

    bad_status = sum(r.bad_status for r in conns)
    bad_body = sum(r.bad_body for r in conns)
    for r in conns:
        r.sock.close()
    if not args.quiet:
        print(
            f"load: {args.requests} requests, depth {args.depth}, {len(conns)} connection(s), "
            f"{rounds} rounds in {elapsed:.3f} s ({args.requests / elapsed:.0f} req/s)"
        )
    if bad_status or bad_body:
        first = next(r.first_bad for r in conns if r.first_bad)
        print(
            f"load: ERROR: {bad_status} non-2xx and {bad_body} unexpected bodies; first:\n"
            f"{first.decode('latin-1')}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
