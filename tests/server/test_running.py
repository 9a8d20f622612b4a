"""Running the server as a production server: real processes, real signals.

Each test starts ``python -m japronto`` (tests/apps/ops.py unless told) as a subprocess on
the loop under test, talks to it over real sockets, and stops it by its PID; workers whose
master is gone stop by themselves within a second. Every wait is bounded.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import free_port

APPS_DIR = Path(__file__).resolve().parent.parent / "apps"
READY = 10.0


class Proc:
    """``python -m japronto ARGS`` in a subprocess, its output in a file."""

    def __init__(self, args, tmp_path, loop, *, cwd=APPS_DIR, env=None, pass_fds=()):
        self.log = tmp_path / f"japronto-{len(list(tmp_path.iterdir()))}.log"
        full_env = dict(os.environ, JAPRONTO_LOOP=loop, PYTHONUNBUFFERED="1")
        for name, value in (env or {}).items():  # None: unset
            if value is None:
                full_env.pop(name, None)
            else:
                full_env[name] = value
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "japronto", *args],
                cwd=cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                pass_fds=pass_fds,
            )
        self.pid = self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text, timeout=READY):
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged within {timeout} s:\n{self.output()}")
            time.sleep(0.05)

    def wait_port(self, port, count=1, timeout=READY):
        """Until `count` workers said they serve and the port accepts."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, f"exited {self.proc.returncode}:\n{self.output()}"
            if self.output().count(" serving on ") >= count:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    return
                except OSError:
                    pass
            assert time.monotonic() < deadline, f"not serving:\n{self.output()}"
            time.sleep(0.05)

    def wait(self, timeout):
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def run(tmp_path, loop_name):
    procs = []

    def start(*args, **kw):
        p = Proc([str(a) for a in args], tmp_path, loop_name, **kw)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()


def get(port, path="/", timeout=5.0) -> tuple[int, bytes, socket.socket]:
    """One request on a new connection; returns (status, body, the still open socket)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    return (*read_response(s), s)


def read_response(s) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = s.recv(65536)
        assert chunk, "connection closed in the body"
        body += chunk
    return status, body


def fetch(port, path="/"):
    status, body, s = get(port, path)
    s.close()
    return status, body


def closed_by_peer(s, within) -> float:
    """Seconds until the server closes s (reads EOF or a reset); fails after `within`."""
    start = time.monotonic()
    s.settimeout(within)
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError(f"connection still open after {within} s") from None
    return time.monotonic() - start


def ppid(pid) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


# -- workers -----------------------------------------------------------------------------


def test_two_workers_both_serve(run):
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port, "--worker-num", 2)
    p.wait_port(port, count=2)
    pids = set()
    for _ in range(200):
        status, body = fetch(port, "/pid")
        assert status == 200
        pids.add(int(body))
        if len(pids) == 2:
            break
    assert len(pids) == 2, pids
    assert p.pid not in pids
    assert all(ppid(pid) == p.pid for pid in pids)
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait(10) == 0, p.output()
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}/stat") or ppid(pid) != p.pid


@pytest.mark.parametrize("first_workers", [1, 2])
@pytest.mark.parametrize("second_workers", [1, 3])
def test_a_second_server_on_a_busy_port_fails_at_once(run, first_workers, second_workers):
    # SO_REUSEPORT lets a socket join a port whenever both set it (same user): a second
    # server started by mistake on a busy port must fail, not take a share of its connections.
    port = free_port()
    first = run("ops:app", "--host", "127.0.0.1", "--port", port, "--worker-num", first_workers)
    first.wait_port(port, count=first_workers)
    second = run("ops:app", "--host", "127.0.0.1", "--port", port, "--worker-num", second_workers)
    assert second.wait(10) == 1, second.output()
    lines = second.output().strip().splitlines()
    assert lines == [
        f"japronto: error: [Errno 98] cannot listen on 127.0.0.1:{port}: Address already in use"
    ], lines
    assert " serving on " not in second.output()
    pids = {int(fetch(port, "/pid")[1]) for _ in range(50)}  # each on a new connection
    assert all(pid == first.pid or ppid(pid) == first.pid for pid in pids), pids


def test_listen_claims_the_port_before_sharing_it_between_workers():
    from japronto.sockets import Listen, ListenError

    held = Listen("127.0.0.1", 0)
    held.open(per_worker=True)  # the master's claim, as with --worker-num 2
    try:
        worker = held.for_worker()  # a worker's own SO_REUSEPORT socket joins it
        assert worker.getsockname()[1] == held.port
        for per_worker in (False, True):
            with pytest.raises(ListenError) as e:
                Listen("127.0.0.1", held.port).open(per_worker=per_worker)
            assert e.value.errno == errno.EADDRINUSE
            assert f"cannot listen on 127.0.0.1:{held.port}" in str(e.value)
    finally:
        held.close()
    again = Listen("127.0.0.1", held.port)  # free once closed
    again.open()
    again.close()


def test_killed_worker_is_replaced(run):
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port, "--worker-num", 2)
    p.wait_port(port, count=2)
    first, _ = fetch(port, "/pid")
    victim = int(fetch(port, "/pid")[1])
    os.kill(victim, signal.SIGKILL)
    p.wait_for(f"worker {victim} died (signal SIGKILL)")
    p.wait_for(" serving on ", timeout=5)
    deadline = time.monotonic() + 5
    seen = set()
    while time.monotonic() < deadline and len(seen) < 2:
        status, body = fetch(port, "/pid")  # every request succeeds meanwhile
        assert status == 200
        seen.add(int(body))
    assert victim not in seen
    assert len(seen) == 2, f"the replacement never answered: {seen}\n{p.output()}"
    assert p.output().count(" serving on ") == 3
    assert p.proc.poll() is None


def test_workers_that_cannot_start_make_the_master_give_up(run):
    port = free_port()
    p = run("ops:app", "--port", port, "--worker-num", 2, env={"OPS_FAIL_STARTUP": "1"})
    assert p.wait(15) == 1, p.output()
    out = p.output()
    assert "RuntimeError: the database is not there" in out
    assert "giving up" in out


# -- graceful shutdown -------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_a_slow_request_finish_and_exits_0(run, workers):
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port, "--worker-num", workers)
    p.wait_port(port, count=workers)
    idle_status, _, idle = get(port, "/")  # a keep-alive connection left idle
    assert idle_status == 200
    result = {}

    def slow():
        result["r"] = fetch(port, "/slow/1")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)  # the request is being handled
    p.proc.send_signal(signal.SIGTERM)
    assert closed_by_peer(idle, within=0.9) < 0.9  # idle: closed at once
    t.join(5)
    assert result.get("r") == (200, b"slept")
    assert p.wait(5) == 0, p.output()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_grace_period_then_cancel(run):
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port, "--shutdown-timeout", 0.5)
    p.wait_port(port)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /slow/30 HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.3)
    start = time.monotonic()
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait(5) == 0, p.output()
    assert time.monotonic() - start < 3
    assert s.recv(100) == b""  # cut off: no response
    assert "still busy after 0.5 s" in p.output()


def test_partly_received_request_gets_503_on_shutdown(run):
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port)
    p.wait_port(port)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")  # the head is not complete
    time.sleep(0.3)
    p.proc.send_signal(signal.SIGTERM)
    status, body = read_response(s)
    assert status == 503
    assert b"shutting down" in body
    assert p.wait(5) == 0


def test_second_signal_forces_exit(run):
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port, "--shutdown-timeout", 30)
    p.wait_port(port)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /slow/30 HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.3)
    p.proc.send_signal(signal.SIGTERM)
    p.wait_for("shutting down gracefully")
    p.proc.send_signal(signal.SIGINT)
    assert p.wait(5) == 1
    s.close()


def test_hooks_run_in_each_worker(run, tmp_path):
    port = free_port()
    hook_log = tmp_path / "hooks.txt"
    p = run(
        "ops:app",
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--worker-num",
        2,
        env={"OPS_HOOK_LOG": str(hook_log)},
    )
    p.wait_port(port, count=2)
    starts = hook_log.read_text().split()
    assert starts.count("start") == 2
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait(10) == 0, p.output()
    lines = [line.split() for line in hook_log.read_text().splitlines()]
    started = {pid for what, pid in lines if what == "start"}
    stopped = {pid for what, pid in lines if what == "stop"}
    assert len(started) == 2
    assert started == stopped


# -- the reaper and limits ---------------------------------------------------------------


def _ops(run, *options):
    """The ops app on a free port with these command-line options, once it listens."""
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port, *options)
    p.wait_port(port)
    return p, port


def test_idle_connection_is_reaped_but_not_one_being_handled(run):
    p, port = _ops(run, "--idle-timeout", 1, "--check-interval", 0.1)
    status, _, idle = get(port, "/")
    assert status == 200
    busy = socket.create_connection(("127.0.0.1", port), timeout=5)
    busy.sendall(b"GET /slow/1.6 HTTP/1.1\r\nHost: t\r\n\r\n")
    waited = closed_by_peer(idle, within=3)
    assert 0.8 < waited < 2.5
    assert read_response(busy) == (200, b"slept")  # longer than the idle timeout
    busy.close()


def test_slowloris_is_cut_while_others_are_served(run):
    p, port = _ops(run, "--header-timeout", 1, "--check-interval", 0.1)
    slow = socket.create_connection(("127.0.0.1", port), timeout=5)
    slow.sendall(b"GET / HTTP/1.1\r\n")
    start = time.monotonic()
    cut = None
    while time.monotonic() - start < 4:
        if select.select([slow], [], [], 0)[0]:  # the server answered the half-sent head
            cut = time.monotonic() - start
            break
        slow.sendall(b"X-Slow: 1\r\n")
        assert fetch(port, "/") == (200, b"ok")  # a normal client meanwhile
        time.sleep(0.1)
    assert cut is not None and 0.8 < cut < 2.5, cut
    assert read_response(slow) == (
        408,
        b"Request Timeout: the request head took longer than 1 s\n",
    )
    assert closed_by_peer(slow, within=2) < 2
    assert "too slow sending its request head (408)" in p.output()


def _open_many(port, n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def test_a_thousand_slowloris_connections_do_not_stop_a_normal_client(run):
    # 1,000 connections each holding a half-sent head (issue 7): a normal client is served
    # while they wait, and every one of them is cut at the header deadline.
    p, port = _ops(run, "--header-timeout", 1.5, "--check-interval", 0.2, "--max-connections", 2000)
    slow = _open_many(port, 1000)
    try:
        for s in slow:
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        for _ in range(5):
            assert fetch(port, "/") == (200, b"ok")
        deadline = time.monotonic() + 6
        for s in slow:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            status, body = read_response(s)
            assert (status, body) == (
                408,
                b"Request Timeout: the request head took longer than 1.5 s\n",
            )
            assert s.recv(1024) == b""  # and closed
        assert fetch(port, "/") == (200, b"ok")
    finally:
        for s in slow:
            s.close()


def test_a_connection_flood_beyond_the_limit_is_refused_cleanly(run):
    # 300 connections against a limit of 50: those over it are answered 503 and closed without
    # being read; those under it are served; the worker lives on and serves again afterwards.
    p, port = _ops(run, "--max-connections", 50)
    time.sleep(0.2)  # the readiness probe's connection is gone
    flood = _open_many(port, 300)
    try:
        # Every connection is accepted within a second; the refused ones then hold their
        # answer (and the end of the stream), the others nothing.
        time.sleep(1.0)
        readable, _, _ = select.select(flood, [], [], 0.5)
        refused, kept = 0, [s for s in flood if s not in readable]
        for s in readable:
            assert read_response(s) == (503, b"Too many connections\n")
            assert closed_by_peer(s, within=2) < 2
            refused += 1
        assert 45 <= len(kept) <= 50 and refused == 300 - len(kept), (len(kept), refused)
        for s in kept:
            s.settimeout(5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_response(s) == (200, b"ok")
    finally:
        for s in flood:
            s.close()
    deadline = time.monotonic() + 3
    while fetch(port)[0] != 200:  # the limit frees up as the flood goes
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert p.proc.poll() is None


def test_slow_body_is_cut(run):
    p, port = _ops(run, "--body-timeout", 0.5, "--check-interval", 0.1)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab")
    start = time.monotonic()
    assert read_response(s) == (
        408,
        b"Request Timeout: nothing of the request body arrived for 0.5 s\n",
    )
    assert time.monotonic() - start < 2
    assert closed_by_peer(s, within=2) < 2
    assert "too slow sending its request body (408)" in p.output()


def test_a_body_trickled_past_the_request_timeout_is_answered_408(run):
    # Each byte arrives within the body timeout, but the whole request takes longer than the
    # request timeout.
    p, port = _ops(run, "--request-timeout", 1, "--check-interval", 0.1)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
    start = time.monotonic()
    while not select.select([s], [], [], 0.1)[0]:
        assert time.monotonic() - start < 3, "not answered"
        s.sendall(b"x")
    assert 0.8 < time.monotonic() - start < 2.5
    assert read_response(s) == (408, b"Request Timeout: the request took longer than 1 s\n")
    assert closed_by_peer(s, within=2) < 2
    assert "too slow sending its request body (408)" in p.output()


def _wait_for(p, text, within):
    deadline = time.monotonic() + within
    while text not in p.output():
        assert time.monotonic() < deadline, f"{text!r} not logged within {within} s"
        time.sleep(0.05)


def _ops_client(run, send_timeout, rcvbuf):
    # The ops app with a send timeout and a quick reaper, and a client socket connected to it
    # whose receive buffer is rcvbuf bytes (small, so that the server's sends fill up fast).
    p, port = _ops(run, "--send-timeout", send_timeout, "--check-interval", 0.1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    return p, port, s


@pytest.mark.parametrize("how", ["pipelined", "closing"])
def test_a_client_that_reads_nothing_is_cut_at_the_send_timeout(run, how):
    # It asks for far more than the socket buffers hold and never reads: pipelined, writing
    # is paused with the rest queued; with Connection: close, the server closes after the
    # response and waits for the rest to go. Either way the connection and its output would
    # be held forever without the send timeout.
    p, port, s = _ops_client(run, send_timeout=1, rcvbuf=16384)
    if how == "pipelined":
        s.sendall(b"GET /big/1048576 HTTP/1.1\r\nHost: t\r\n\r\n" * 16)
        wanted = 16 * 1048576
    else:
        s.sendall(b"GET /big/16777216 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        wanted = 16777216
    start = time.monotonic()
    _wait_for(p, "whose client read nothing for 1s", within=5)
    assert time.monotonic() - start > 0.8  # not before the timeout
    got = 0
    s.settimeout(5)
    try:
        while chunk := s.recv(1 << 20):
            got += len(chunk)
    except ConnectionResetError:
        pass
    s.close()
    assert got < wanted  # cut: what was left unsent is dropped
    assert fetch(port, "/") == (200, b"ok")  # and the worker serves on


def test_a_slow_reader_is_not_cut_by_the_send_timeout(run):
    # 16 MiB, of which the kernel's buffers hold at most a few: for its first 3 s (six send
    # timeouts) the client takes at most 256 KiB every 50 ms, well within each timeout, with
    # megabytes still queued in the server all along; then it reads the rest at full speed.
    # The whole response arrives.
    p, port, s = _ops_client(run, send_timeout=0.5, rcvbuf=65536)
    s.settimeout(5)
    s.sendall(b"GET /big/16777216 HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    start = time.monotonic()
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    body = data.partition(b"\r\n\r\n")[2]
    got = len(body)
    while got < 16777216:
        if time.monotonic() - start < 3.0:
            time.sleep(0.05)
        chunk = s.recv(262144)
        assert chunk, f"cut after {got} bytes"
        assert chunk.count(b"x") == len(chunk)
        got += len(chunk)
    assert time.monotonic() - start > 3.0  # it did take six timeouts and more
    assert "read nothing" not in p.output()
    s.close()


def test_connection_limit_refuses_cleanly(run):
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port, "--max-connections", 2)
    p.wait_port(port)
    time.sleep(0.2)  # the readiness probe's connection is gone
    a = get(port)[2]
    b = get(port)[2]
    status, body, c = get(port)
    assert status == 503 and body == b"Too many connections\n"
    assert closed_by_peer(c, within=2) < 2
    a.close()
    b.close()
    deadline = time.monotonic() + 3
    while fetch(port)[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)


# -- where it listens --------------------------------------------------------------------


def test_unix_socket(run, tmp_path):
    path = tmp_path / "jp.sock"
    p = run("ops:app", "--unix-socket", path)
    p.wait_for(" serving on unix:")
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(str(path))
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert read_response(s) == (200, b"ok")
    s.close()
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait(5) == 0
    assert not path.exists()


def test_an_open_socket_passed_by_fd(run):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    p = run("ops:app", "--fd", fd, "--worker-num", 2, pass_fds=(fd,))
    listener.close()  # the server's copy is what serves now
    p.wait_port(port, count=2)
    assert fetch(port) == (200, b"ok")


@pytest.mark.parametrize("what", ["udp", "pipe", "closed"])
def test_an_fd_that_cannot_listen_is_refused_in_one_line(run, what):
    # A UDP socket cannot listen, a pipe is no socket, and an unopened number is nothing: each
    # is the same clear exit as a busy port, naming the descriptor, not a traceback.
    keep = []
    if what == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        keep.append(s)
        fd, why = s.fileno(), "Operation not supported"
    elif what == "pipe":
        r, w = os.pipe()
        keep += [r, w]
        fd, why = r, "Socket operation on non-socket"
    else:
        # High enough that nothing in the server process has it open.
        fd, why = 1000, "Bad file descriptor"
    try:
        p = run("ops:app", "--fd", fd, pass_fds=() if what == "closed" else (fd,))
        assert p.wait(10) == 1, p.output()
        lines = p.output().strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("japronto: error: [Errno "), lines
        assert f"cannot listen on the given socket {fd}: {why}" in lines[0], lines
    finally:
        for k in keep:
            k.close() if isinstance(k, socket.socket) else os.close(k)


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 in this Python")
def test_ipv6(run):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    port = free_port()
    p = run("ops:app", "--host", "::1", "--port", port)
    p.wait_for(f"serving on http://[::1]:{port}/")
    s = socket.create_connection(("::1", port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert read_response(s) == (200, b"ok")
    s.close()


# -- logging -----------------------------------------------------------------------------


def test_access_log(run):
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port, "--access-log")
    p.wait_port(port)
    assert fetch(port, "/pid")[0] == 200
    p.wait_for("japronto.access: 127.0.0.1 GET /pid 200 ")


def test_a_path_with_control_characters_cannot_forge_log_lines(run):
    # The path is percent-decoded: %0D%0A is a CR LF, %1B an escape. Written raw, the first
    # would start a line of the client's choosing in the log, the second drive a terminal.
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port, "--access-log")
    p.wait_port(port)
    evil = quote("\r\n2026-01-01 00:00:00,000 [1] INFO japronto.access: forged\x1b[2J")
    assert fetch(port, "/nowhere" + evil)[0] == 404  # the access log
    assert fetch(port, "/big/x" + evil)[0] == 500  # int('x...') fails: the error log
    shown = "\\r\\n2026-01-01 00:00:00,000 [1] INFO japronto.access: forged\\x1b[2J'"
    p.wait_for("GET '/nowhere" + shown + " 404 ")
    p.wait_for("unhandled exception in handler for GET '/big/x" + shown)
    p.wait_for("GET '/big/x" + shown + " 500 ")
    out = p.output()
    assert "\x1b" not in out
    assert not [line for line in out.splitlines() if line.startswith("2026-01-01")], out


def test_no_access_log_by_default(run):
    port = free_port()
    p = run("ops:app", "--host", "127.0.0.1", "--port", port)
    p.wait_port(port)
    assert fetch(port, "/pid")[0] == 200
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait(5) == 0
    assert "japronto.access" not in p.output()
    assert "serving on http://127.0.0.1:" in p.output()


# -- reload ------------------------------------------------------------------------------

RELOAD_APP = """
from japronto import Application
app = Application()
app.router.add_route("/", lambda request: request.Response(text={text!r}))
"""


@pytest.mark.parametrize("watcher", ["polling", "watchfiles"])
def test_reload_on_change_survives_a_syntax_error(run, tmp_path, watcher):
    if watcher == "watchfiles":
        pytest.importorskip("watchfiles")  # in the [test] extra; optional for users
    env = {"JAPRONTO_RELOAD_POLL": "1"} if watcher == "polling" else {}
    # Bytecode is written, as on a user's machine (this machine's environment may say not to).
    env["PYTHONDONTWRITEBYTECODE"] = None
    port = free_port()
    src = tmp_path / "reloadapp.py"
    src.write_text(RELOAD_APP.format(text="one"))
    first = os.stat(src)
    p = run(
        "reloadapp:app",
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--reload",
        cwd=tmp_path,
        env=env,
    )
    p.wait_for(f"({watcher})")
    p.wait_port(port)
    assert fetch(port) == (200, b"one")
    assert list((tmp_path / "__pycache__").glob("reloadapp.*.pyc")), "no bytecode was written"

    edits = []

    def edit(text):
        # Each edit lands in the same second as the first version, its time differing only in
        # the nanoseconds (what the poller compares): a .pyc checks whole seconds and the
        # size, and "one" and "two" have the same size, so a stale .pyc would serve "one".
        time.sleep(0.05)
        src.write_text(text)
        edits.append(text)
        ns = first.st_mtime_ns // 10**9 * 10**9 + (first.st_mtime_ns + len(edits) * 1000) % 10**9
        os.utime(src, ns=(ns, ns))

    def answer_becomes(text):
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            try:
                if fetch(port) == (200, text):
                    return
            except (OSError, AssertionError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"never answered {text!r}:\n{p.output()}")

    edit(RELOAD_APP.format(text="two"))
    answer_becomes(b"two")
    edit("def broken(:\n")
    p.wait_for("not reloading, SyntaxError")
    assert fetch(port) == (200, b"two")  # the old code keeps serving
    edit(RELOAD_APP.format(text="three"))
    answer_becomes(b"three")
    p.proc.send_signal(signal.SIGTERM)
    assert p.wait(10) == 0, p.output()


# -- the command line's errors -----------------------------------------------------------


@pytest.mark.parametrize(
    "target, message",
    [
        ("no_such_module:app", "no module named 'no_such_module'"),
        ("ops:nothing", "module 'ops' has no attribute 'nothing'"),
        ("ops:slow", "ops:slow is a function, not a japronto Application"),
        ("ops.app.router", "ops.app.router is a Router, not a japronto Application"),
        ("justaname", "'justaname' is not module:attribute"),
    ],
)
def test_cli_errors(tmp_path, target, message):
    r = subprocess.run(
        [sys.executable, "-m", "japronto", target, "--port", str(free_port())],
        cwd=APPS_DIR,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"japronto: error: {message}"), r.stderr


def test_cli_help_explains_each_flag():
    r = subprocess.run(
        [sys.executable, "-m", "japronto", "--help"], capture_output=True, text=True, timeout=20
    )
    assert r.returncode == 0
    for flag in (
        "--host",
        "--port",
        "--unix-socket",
        "--worker-num",
        "--reload",
        "--debug",
        "--access-log",
        "--idle-timeout",
        "--header-timeout",
        "--max-connections",
        "--shutdown-timeout",
    ):
        assert flag in r.stdout
