#!/usr/bin/env python3
"""A network fuzzer for the japronto server: mutated requests over real sockets.

Each case is one to four requests taken from a seed set (the smuggling table of
tests/server/smuggling_cases.py and well-formed requests of every framing), most of them
mutated (bytes flipped, inserted, deleted, repeated or spliced from other seeds, tokens from
a dictionary of framing words, numbers made huge), pipelined into one byte string and sent
split at random points with short pauses. After every case the fuzzer checks that:

- every byte the server sent is a sequence of valid HTTP/1.x responses (wire.ResponseReader,
  strict), possibly followed by the connection closing; an error answer (4xx/5xx made by the
  server) carries Connection: close and nothing follows it;
- the server process is alive and serves a normal request on a new connection.

A failing case is a finding: its bytes and what went wrong are written to the findings
directory and reported. Used by tests/server/test_fuzz_net.py for a bounded run, and on
demand from the command line against a server it starts itself (the echo test app):

    .venv/bin/python tests/fuzz_net/fuzz_net.py --seconds 600 [--loop asyncio] [--seed N]

Run it under the sanitizers with the environment of `make pytest-asan` (LD_PRELOAD and
PYTHONPATH=build/asan-pkg); the server's stderr is checked for crash reports at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "server"))

from smuggling_cases import CASES  # noqa: E402
from wire import ProtocolError, ResponseReader  # noqa: E402

H = b"Host: a\r\n"
VALID = [
    b"GET / HTTP/1.1\r\n" + H + b"\r\n",
    b"GET /a/b?x=1&y=2 HTTP/1.1\r\n" + H + b"Accept: */*\r\nCookie: a=b\r\n\r\n",
    b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello",
    b"PUT /c HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
    b"5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n",
    b"GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET /close HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n",
    b"POST /e HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
    b"DELETE /d HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n",
]
SEEDS = VALID + [raw for _, raw, _, _ in CASES]
TOKENS = [
    b"\r\n",
    b"\n",
    b"\r",
    b"\x00",
    b" ",
    b"\t",
    b":",
    b";",
    b",",
    b'"',
    b"\xff",
    b"\x7f",
    b"\r\n\r\n",
    b"0\r\n\r\n",
    b"Content-Length: ",
    b"Content-Length: 0\r\n",
    b"Content-Length: 5\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: ",
    b"chunked",
    b"identity",
    b"gzip, ",
    b"Connection: close\r\n",
    b"Connection: keep-alive\r\n",
    b"Expect: 100-continue\r\n",
    b"Host: b\r\n",
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"HTTP/2.0",
    b"GET ",
    b"POST ",
    b"ffffffffffffffff",
    b"18446744073709551616",
    b"99999999999999999999",
    b"-1",
    b"+5",
    b"0x5",
    b";a=b",
    b';a="x"',
    b"\r\n ",
    b"\r\n\t",
    b"%00",
    b"/../",
]
ERROR_STATUSES = {400, 404, 405, 413, 414, 417, 431, 500, 501, 505}
VALID_STATUSES = {100, 200} | ERROR_STATUSES


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to four random edits of ``data``."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        pos = rng.randint(0, len(buf))
        if op == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert a random byte
            buf[pos:pos] = bytes([rng.randrange(256)])
        elif op == 2 and buf:  # delete a range
            buf[pos : pos + rng.randint(1, 8)] = b""
        elif op == 3:  # insert a token
            buf[pos:pos] = rng.choice(TOKENS)
        elif op == 4 and buf:  # repeat a range
            n = rng.randint(1, 32)
            buf[pos:pos] = buf[pos : pos + n] * rng.randint(1, 50)
        elif op == 5:  # splice a piece of another seed
            other = rng.choice(SEEDS)
            a = rng.randrange(len(other))
            buf[pos:pos] = other[a : a + rng.randint(1, 40)]
        elif op == 6:  # make a number huge, negative or hex
            digits = [i for i, b in enumerate(buf) if 0x30 <= b <= 0x39]
            if digits:
                i = rng.choice(digits)
                buf[i : i + 1] = rng.choice([b"9" * 25, b"-1", b"0x1", b"ffff", b"00000000001"])
        elif op == 7:  # swap CRLF for a bare LF or CR
            ends = [i for i in range(len(buf) - 1) if buf[i : i + 2] == b"\r\n"]
            if ends:
                i = rng.choice(ends)
                buf[i : i + 2] = rng.choice([b"\n", b"\r", b"\r\r\n", b"\n\r"])
        elif op == 8:  # truncate
            del buf[pos:]
    return bytes(buf)


def make_case(rng: random.Random) -> bytes:
    """A pipeline of 1-4 seeds, most of them mutated. No HEAD: the response checker could not
    tell which answers are to HEAD requests (and so have no body)."""
    while True:
        raw = _make_case(rng)
        if b"HEAD" not in raw:
            return raw


def _make_case(rng: random.Random) -> bytes:
    parts = []
    for _ in range(rng.choice([1, 1, 2, 3, 4])):
        seed = rng.choice(SEEDS)
        parts.append(mutate(rng, seed) if rng.random() < 0.8 else seed)
    return b"".join(parts)


def split_points(rng: random.Random, n: int) -> list[int]:
    if n < 2:
        return []
    k = rng.choice([0, 0, 1, 2, 4])
    return sorted(rng.sample(range(1, n), min(k, n - 1)))


@dataclass
class Stats:
    executions: int = 0
    responses: int = 0
    closed: int = 0
    statuses: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)


def check_responses(data: bytes, eof: bool) -> tuple[list, str | None]:
    """Parses what the server sent; returns (responses, problem or None)."""
    reader = ResponseReader()
    reader.feed(data)
    if eof:
        reader.feed_eof()
    out = []
    try:
        while True:
            r = reader.next()
            if r is None:
                break
            out.append(r)
    except ProtocolError as e:
        return out, f"invalid response bytes: {e}"
    for i, r in enumerate(out):
        if r.status not in VALID_STATUSES:
            return out, f"unexpected status {r.status}"
        if r.status >= 400 and r.status not in (404, 500) and "close" in r.connection_tokens():
            if i != len(out) - 1:
                return out, f"response after a {r.status} error that closes the connection"
    return out, None


async def run_case(port: int, raw: bytes, cuts: list[int], rng: random.Random, idle: float):
    """Sends one case; returns (bytes received, eof seen)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = bytearray()
    eof = False
    try:
        prev = 0
        for cut in cuts + [len(raw)]:
            writer.write(raw[prev:cut])
            prev = cut
            await writer.drain()
            if cut != len(raw):
                await asyncio.sleep(rng.choice([0, 0.001, 0.003]))
    except (ConnectionError, OSError):
        pass
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            chunk = await asyncio.wait_for(reader.read(65536), idle)
        except asyncio.TimeoutError:
            break
        except (ConnectionError, OSError):
            eof = True
            break
        if not chunk:
            eof = True
            break
        got += chunk
    if rng.random() < 0.3 and not eof:
        # Leave with a reset instead of a FIN: the server sees ECONNRESET at once.
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.close()
    return bytes(got), eof


async def health(port: int) -> str | None:
    """A normal request on a new connection; None when it was served."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 3)
        writer.write(b"GET /fuzz/health HTTP/1.1\r\nHost: a\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
        writer.close()
        if not head.startswith(b"HTTP/1.1 200 "):
            return f"health check answered {head[:40]!r}"
        return None
    except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError) as e:
        return f"health check failed: {e!r}"


async def fuzz(
    port: int,
    seconds: float,
    seed: int,
    alive,
    concurrency: int = 4,
    idle: float = 0.05,
    findings_dir: Path | None = None,
    log=print,
) -> Stats:
    """Runs cases for ``seconds``; ``alive()`` says whether the server process is up."""
    stats = Stats()
    stop_at = time.monotonic() + seconds

    async def worker(wid: int):
        rng = random.Random(seed * 1000 + wid)
        while time.monotonic() < stop_at and not stats.findings:
            raw = make_case(rng)
            cuts = split_points(rng, len(raw))
            problem = None
            try:
                got, eof = await run_case(port, raw, cuts, rng, idle)
                responses, problem = check_responses(got, eof)
                stats.responses += len(responses)
                stats.closed += eof
                for r in responses:
                    stats.statuses[r.status] = stats.statuses.get(r.status, 0) + 1
            except OSError as e:
                problem = f"could not talk to the server: {e!r}"
            stats.executions += 1
            if problem is None and not alive():
                problem = "the server process died"
            if problem is None:
                problem = await health(port)
            if problem is not None:
                stats.findings.append((problem, raw, cuts))
                if findings_dir is not None:
                    findings_dir.mkdir(parents=True, exist_ok=True)
                    path = findings_dir / f"finding-{seed}-{wid}-{stats.executions}.bin"
                    path.write_bytes(raw)
                    log(f"finding written to {path}")
                log(f"FINDING: {problem}\n  case {raw[:400]!r}\n  cuts {cuts}")

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--findings", type=Path, default=Path("build/fuzz-net-findings"))
    args = ap.parse_args(argv)
    import tempfile

    from conftest import launch

    with tempfile.TemporaryDirectory() as tmp:
        server = launch("echo", args.loop, Path(tmp))
        print(f"fuzzing {server!r} for {args.seconds} s, seed {args.seed}")
        try:
            stats = asyncio.run(
                fuzz(
                    server.port,
                    args.seconds,
                    args.seed,
                    server.alive,
                    args.concurrency,
                    findings_dir=args.findings,
                )
            )
        finally:
            problems = server.stop()
        print(
            f"executions {stats.executions}, responses {stats.responses}, connections closed "
            f"by the server {stats.closed}, statuses {sorted(stats.statuses.items())}"
        )
        for p in problems:
            print(f"server: {p}\n{server.stderr_tail()}")
        print(f"findings: {len(stats.findings)}")
        return 1 if stats.findings or problems else 0


if __name__ == "__main__":
    sys.exit(main())
