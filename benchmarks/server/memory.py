#!/usr/bin/env python3
"""Server memory: what idle keep-alive connections cost, and whether serving stays flat.

Starts a server (our hello app by default; any command taking the port as its last argument
with --cmd), then measures its resident memory (VmRSS of the process, from /proc) in two ways:

  idle   opens N connections (default 10,000), sends one request on each and reads its answer,
         so that every connection has been used and is idle in keep-alive, then reports the
         growth of the server's RSS over its RSS before the first connection, per connection;
  flat   sends R requests (default 1,000,000; TechEmpower's headers, D pipelined per round,
         over C connections) and reports RSS after the first 10,000 and at the end.

    python benchmarks/server/memory.py [--idle N] [--requests R] [--depth D] [--conns C]
                                       [--cmd "python app.py"] [--out FILE]

Needs a file-descriptor limit above N (ulimit -n). The server is stopped, by PID, at exit.
Figures are printed as a Markdown table (and written to --out if given).
"""

from __future__ import annotations

import argparse
import selectors
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from load import build_request  # noqa: E402  (the same request as count's)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_accepting(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"memory: the server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("memory: the server did not start accepting")


def read_responses(sock: socket.socket, count: int, buf: bytearray) -> None:
    """Reads exactly count Content-Length-framed responses (keeps any excess in buf)."""
    while count:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buf[:end]).lower()
            i = head.find(b"content-length:")
            n = int(head[i + 15 :].split(b"\r\n", 1)[0]) if i >= 0 else 0
            if len(buf) >= end + 4 + n:
                if not buf.startswith(b"HTTP/1.1 2"):
                    raise SystemExit(f"memory: unexpected answer {bytes(buf[:60])!r}")
                del buf[: end + 4 + n]
                count -= 1
                continue
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("memory: the server closed a connection")
        buf += chunk


def idle(pid: int, port: int, n: int) -> tuple[int, int, list]:
    """Opens n connections, one request each, all answered; returns (before, after, socks)."""
    request = build_request("127.0.0.1", port, "/")
    before = rss_kib(pid)
    socks = []
    sel = selectors.DefaultSelector()
    pending = {}
    # In waves, so that the listen backlog never overflows.
    wave = 500
    for start in range(0, n, wave):
        batch = []
        for _ in range(min(wave, n - start)):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(request)
            batch.append(s)
        for s in batch:
            read_responses(s, 1, pending.setdefault(s.fileno(), bytearray()))
        socks.extend(batch)
    sel.close()
    time.sleep(0.5)
    return before, rss_kib(pid), socks


def flat(pid: int, port: int, total: int, depth: int, conns: int) -> list:
    """Sends total requests; returns [(requests so far, RSS KiB)] at 10,000 and at the end."""
    request = build_request("127.0.0.1", port, "/") * depth
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
    bufs = [bytearray() for _ in socks]
    marks = []
    done = 0
    next_mark = 10_000
    while done < total:
        for s in socks:
            s.sendall(request)
        for s, b in zip(socks, bufs):
            read_responses(s, depth, b)
        done += depth * conns
        if done >= next_mark and not marks:
            marks.append((done, rss_kib(pid)))
    marks.append((done, rss_kib(pid)))
    for s in socks:
        s.close()
    return marks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--idle", type=int, default=10_000, help="idle connections (0: skip)")
    ap.add_argument("--requests", type=int, default=1_000_000, help="requests (0: skip)")
    ap.add_argument("--depth", type=int, default=24)
    ap.add_argument("--conns", type=int, default=10)
    ap.add_argument("--cmd", default=f"{sys.executable} {HERE / 'hello_japronto.py'}")
    ap.add_argument("--out")
    args = ap.parse_args()

    port = free_port()
    cmd = shlex.split(args.cmd) + [str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rows = []
    try:
        wait_accepting(port, proc)
        time.sleep(0.3)
        if args.idle:
            before, after, socks = idle(proc.pid, port, args.idle)
            grow = after - before
            rows.append(
                f"| {args.idle:,} idle keep-alive connections | {before / 1024:.1f} MiB | "
                f"{after / 1024:.1f} MiB | +{grow / 1024:.1f} MiB "
                f"({grow * 1024 / args.idle / 1024:.2f} KiB a connection) |"
            )
            for s in socks:
                s.close()
            time.sleep(1.0)
        if args.requests:
            marks = flat(proc.pid, port, args.requests, args.depth, args.conns)
            (n1, r1), (n2, r2) = marks[0], marks[-1]
            rows.append(
                f"| {n2:,} requests ({args.conns} conns, {args.depth} pipelined) | "
                f"{r1 / 1024:.1f} MiB after {n1:,} | {r2 / 1024:.1f} MiB | "
                f"{(r2 - r1) / 1024:+.2f} MiB |"
            )
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    table = "\n".join(
        ["| what | RSS before | RSS after | growth |", "|---|---:|---:|---:|", *rows]
    )
    print(f"server: {' '.join(cmd[:-1])} PORT (pid was {proc.pid})\n\n{table}")
    if args.out:
        Path(args.out).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
