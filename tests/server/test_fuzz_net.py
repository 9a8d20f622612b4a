"""A bounded run of the network fuzzer (tests/fuzz_net/fuzz_net.py) against the echo app on
each loop: mutated, pipelined, split requests; after every case the server must have answered
with valid HTTP/1.x responses (or closed), be alive, and serve a normal request. Longer runs:
``.venv/bin/python tests/fuzz_net/fuzz_net.py --seconds N``."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz_net"))
import fuzz_net  # noqa: E402

# Seconds per loop; the seed changes every run unless JAPRONTO_FUZZ_SEED is set, and is
# printed with any finding so that it can be replayed.
SECONDS = float(os.environ.get("JAPRONTO_FUZZ_NET_SECONDS", "10"))

pytestmark = pytest.mark.timeout(SECONDS + 60)


def test_network_fuzzer_finds_nothing(echo, tmp_path):
    seed = int(os.environ.get("JAPRONTO_FUZZ_SEED", str(os.getpid())))
    lines = []
    stats = asyncio.run(
        fuzz_net.fuzz(
            echo.port,
            SECONDS,
            seed,
            echo.alive,
            findings_dir=tmp_path / "findings",
            log=lines.append,
        )
    )
    print(
        f"[{echo.loop}] seed {seed}: {stats.executions} executions, {stats.responses} "
        f"responses, statuses {sorted(stats.statuses.items())}"
    )
    assert stats.findings == [], f"seed {seed}:\n" + "\n".join(lines)
    # The run did real work: many cases, both answered and refused ones.
    assert stats.executions >= 100, stats
    assert stats.statuses.get(200, 0) > 0 and stats.statuses.get(400, 0) > 0, stats.statuses


@pytest.mark.parametrize(
    "data,eof",
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", True),  # cut short
        (b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", True),  # bare LF
        (b"HTTP/1.1 299 Odd\r\nContent-Length: 0\r\n\r\n", False),  # unexpected status
        (
            b"HTTP/1.1 400 Bad\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            True,
        ),  # an answer after a closing error
    ],
)
def test_the_checker_flags_invalid_answers(data, eof):
    _, problem = fuzz_net.check_responses(data, eof)
    assert problem is not None


def test_the_checker_accepts_valid_answers():
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    err = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbad"
    responses, problem = fuzz_net.check_responses(ok + ok + err, True)
    assert problem is None and [r.status for r in responses] == [200, 200, 400]
