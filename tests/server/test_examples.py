"""examples/: every program runs as documented.

examples/hello.py is the seed's hello world, unchanged: it serves on 0.0.0.0:8080 with
debug=True, so this test needs port 8080 free (it says so if it is not).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from wire import Conn, build_request

ROOT = Path(__file__).resolve().parents[2]


def _wait_for_port(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.mark.timeout(30)
def test_hello_example_serves_hello_world(loop_name, tmp_path):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", 8080))
        except OSError as e:
            pytest.fail(f"examples/hello.py serves on port 8080, which is in use here: {e}")
    err = tmp_path / "hello.stderr"
    env = dict(os.environ, JAPRONTO_LOOP=loop_name)
    with open(err, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "examples" / "hello.py")], env=env, stderr=f
        )
    try:
        assert _wait_for_port(8080, proc), err.read_text()
        with Conn(8080) as c:
            c.send(build_request("GET", "/"))
            r = c.response()
        assert (r.status, r.body) == (200, b"Hello world!")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
    log = err.read_text()
    assert rc == 0, log
    assert "GET / 200" in log  # debug=True logs each request
