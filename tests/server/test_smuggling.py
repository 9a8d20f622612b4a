"""Request smuggling: the framing table of smuggling_cases.py over real sockets, on both loops.

Each case goes on a new connection, once in one write and once split into three segments,
and must get exactly its answer: the listed responses in order (a 200 from the echo handler
with the right path and body, or a server-made error with Connection: close), then EOF for a
closing case, or, for a case that keeps the connection, an answer to one more request (so
no stray bytes were left behind as the start of a request). The rules are in docs/parser.md
and docs/security.md.
"""

from __future__ import annotations

import pytest
from conftest import LOOPS, launch
from smuggling_cases import CASES
from wire import build_request

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module", params=LOOPS)
def smug_echo(request, tmp_path_factory):
    """One echo server per loop for the whole table (a server per case would take minutes)."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop")
    server = launch("echo", request.param, tmp_path_factory.mktemp("smuggling"))
    yield server
    problems = server.stop()
    assert problems == [], f"{problems}\nstderr:\n{server.stderr_tail()}"


def _check_answer(r, expected) -> str | None:
    if expected[0] == "ok":
        _, path, body = expected
        if r.status != 200:
            return f"status {r.status} {r.body[:80]!r}, expected 200 for {path}"
        got = r.json()
        if (got["path"], got["body"]) != (path, body):
            return f"echo saw path {got['path']!r} body {got['body']!r}, expected {path!r} {body!r}"
        return None
    status = expected[1]
    if r.status != status:
        return f"status {r.status} {r.body[:80]!r}, expected {status}"
    if "close" not in r.connection_tokens():
        return f"error {status} without Connection: close"
    return None


def _run_case(server, raw, expected, closes, parts):
    with server.conn(timeout=3) as c:
        if parts == 1:
            c.send(raw)
        else:
            cut1, cut2 = len(raw) // 3, 2 * len(raw) // 3
            try:
                c.send_split([raw[:cut1], raw[cut1:cut2], raw[cut2:]])
            except (BrokenPipeError, ConnectionResetError):
                # The server may answer and close before the last segment is written: what
                # it said before closing is still checked below.
                pass
        for i, exp in enumerate(expected):
            r = c.response()
            problem = _check_answer(r, exp)
            assert problem is None, f"response {i + 1}: {problem}"
        if closes:
            c.expect_eof()
        else:
            c.send(build_request("GET", "/last"))
            r = c.response()
            assert r.status == 200 and r.json()["path"] == "/last", r


@pytest.mark.parametrize("parts", [1, 3], ids=["whole", "split"])
@pytest.mark.parametrize("name,raw,expected,closes", CASES, ids=[c[0] for c in CASES])
def test_smuggling_case(smug_echo, name, raw, expected, closes, parts):
    _run_case(smug_echo, raw, expected, closes, parts)
    assert smug_echo.alive(), f"the server died on {name!r}"
