"""Fixtures for the black-box server tests.

Each test app in tests/apps/<name>.py runs in its own process (``python <app> <port>``) with
JAPRONTO_LOOP set to the loop under test; every server test runs once per loop through the
parametrised ``loop_name`` fixture. Nothing here imports japronto: only the app processes do.

A started server is always stopped at teardown (SIGTERM, then SIGKILL after 5 s), whatever
the test's outcome. The teardown also fails the test when the server died during it, had to
be killed, or printed a crash report (sanitizer, fatal Python error); a failing test gets the
server's stderr attached to its report.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from wire import Conn, rss_kb

APPS_DIR = Path(__file__).resolve().parent.parent / "apps"
LOOPS = ["uvloop", "asyncio"]
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
CRASH_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "runtime error:",  # UBSan
    "Fatal Python error",
    "Segmentation fault",
    "double free",
    "free(): invalid",
)


# Servers get ports below the kernel's ephemeral range (32768 and up by default), so that no
# client connection holds one, and under pytest-xdist each worker takes only ports whose
# remainder by the worker count is its own number: a free port is free only until the server
# binds it, and two workers could otherwise pick the same one at once (a server that loses
# such a race fails with EADDRINUSE, which launch() retries; tests that start
# `python -m japronto` with a port do not). The kernel's own choice (bind to port 0) is no
# help here: Linux gives bind() even ports only.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
_MINE = int(_WORKER[2:]) % _WORKERS if _WORKER.startswith("gw") else 0
_PORTS = random.Random()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now and no other xdist worker will pick."""
    for _ in range(1000):
        port = _PORTS.randrange(10000 + _MINE, 32768, _WORKERS)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port for xdist worker {_WORKER or 'main'}")


def _describe_rc(rc: int | None) -> str:
    if rc is None:
        return "still running"
    if rc < 0:
        try:
            return f"signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"signal {-rc}"
    return f"exit code {rc}"


class Server:
    """A test app running in a subprocess: ``port``, ``pid``, ``proc``, and helpers."""

    def __init__(self, name: str, loop: str, port: int, proc: subprocess.Popen, stderr_path: Path):
        self.name = name
        self.loop = loop
        self.port = port
        self.proc = proc
        self.pid = proc.pid
        self.stderr_path = stderr_path
        self.stopped = False
        self.returncode: int | None = None

    def __repr__(self):
        return f"<Server {self.name} [{self.loop}] port={self.port} pid={self.pid}>"

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def conn(self, **kw) -> Conn:
        return Conn(self.port, **kw)

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def stderr_tail(self, n: int = 6000) -> str:
        text = self.stderr()
        return text if len(text) <= n else "...\n" + text[-n:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> list[str]:
        """Stops the server; returns a list of problems seen (empty when all is well).
        Sends ``sig``, waits ``timeout`` s, then SIGKILL. Safe to call twice."""
        problems = []
        if self.stopped:
            return problems
        self.stopped = True
        rc = self.proc.poll()
        if rc is not None:
            problems.append(f"server died during the test ({_describe_rc(rc)})")
        else:
            try:
                self.proc.send_signal(sig)
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(STOP_TIMEOUT)
                problems.append(
                    f"server did not exit within {timeout} s of {signal.Signals(sig).name}; killed"
                )
            if (
                rc is not None
                and rc < 0
                and -rc not in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL)
            ):
                problems.append(f"server crashed while stopping ({_describe_rc(rc)})")
        self.returncode = rc
        err = self.stderr()
        for marker in CRASH_MARKERS:
            if marker in err:
                problems.append(f"server stderr contains {marker!r}")
        return problems


def launch(
    name: str, loop: str, tmpdir: Path, env: dict | None = None, script: Path | None = None
) -> Server:
    """Starts tests/apps/<name>.py (or ``script``, run as ``python script port``) on a free
    port and waits until it accepts connections."""
    script = script or APPS_DIR / f"{name}.py"
    assert script.is_file(), f"no test app {script}"
    last_err = ""
    for _attempt in range(3):
        port = free_port()
        stderr_path = tmpdir / f"{name}-{loop}-{port}.stderr"
        # A request still in flight at teardown gets 1 s of grace, not the default 30.
        full_env = dict(
            os.environ,
            JAPRONTO_LOOP=loop,
            PYTHONUNBUFFERED="1",
            PYTHONFAULTHANDLER="1",
            JAPRONTO_SHUTDOWN_TIMEOUT="1",
        )
        full_env.update(env or {})
        with open(stderr_path, "wb") as err:
            # stderr goes to a file, not a pipe: a server that logs a lot must never block
            # on a pipe nobody reads.
            proc = subprocess.Popen(
                [sys.executable, str(script), str(port)],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=full_env,
            )
        server = Server(name, loop, port, proc, stderr_path)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                last_err = server.stderr_tail()
                break
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return server
            except OSError:
                pass
            if time.monotonic() > deadline:
                server.stop(signal.SIGKILL)
                pytest.fail(
                    f"test app {name} [{loop}] did not accept connections on port {port} "
                    f"within {READY_TIMEOUT} s; stderr:\n{server.stderr_tail()}",
                    pytrace=False,
                )
            time.sleep(0.02)
        if "Address already in use" not in last_err and "EADDRINUSE" not in last_err:
            break  # a real failure, not a lost race for the port
    pytest.fail(
        f"test app {name} [{loop}] exited with {_describe_rc(proc.returncode)} before "
        f"accepting connections; stderr:\n{last_err}",
        pytrace=False,
    )


@pytest.fixture(params=LOOPS)
def loop_name(request) -> str:
    """The event loop the server under test runs on; every server test runs on each."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    return request.param


@pytest.fixture
def start_server(request, loop_name, tmp_path):
    """``start_server(app_name, env=None) -> Server``; every server started is stopped at
    teardown, and the teardown fails if one crashed or would not stop."""
    servers: list[Server] = []
    request.node._jp_servers = servers

    def start(name: str, env: dict | None = None) -> Server:
        server = launch(name, loop_name, tmp_path, env)
        servers.append(server)
        return server

    yield start
    problems = []
    for server in servers:
        for p in server.stop():
            problems.append(f"{server!r}: {p}\nstderr:\n{server.stderr_tail()}")
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def hello(start_server) -> Server:
    return start_server("hello")


@pytest.fixture
def echo(start_server) -> Server:
    return start_server("echo")


@pytest.fixture
def slow(start_server) -> Server:
    return start_server("slow")


@pytest.fixture
def errors(start_server) -> Server:
    return start_server("errors")


@pytest.fixture
def limits(start_server) -> Server:
    return start_server("limits")


@pytest.fixture
def routes(start_server) -> Server:
    return start_server("routes")


@pytest.fixture
def responses_app(start_server) -> Server:
    return start_server("responses")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in getattr(item, "_jp_servers", ()):
            report.sections.append(
                (
                    f"stderr of {server.name} [{server.loop}] port {server.port}",
                    server.stderr_tail(),
                )
            )


@pytest.fixture
def attrs_app(start_server) -> Server:
    return start_server("attrs")
