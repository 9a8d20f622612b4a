"""What one handler call costs by the way it is made: from C, or from a loop in Python.

    python benchmarks/server/callpath.py            (runs itself under callgrind; a minute)
    python benchmarks/server/callpath.py MODE N     (one run, what the first form measures)

The server calls each handler from C (`protocol_call_handler`): CPython then sets up a frame
and enters its evaluation loop afresh for every request, which is most of the ~600
instructions the handler's call costs at depth 24 (docs/internals.md). A call made by
bytecode to a Python function is cheaper (3.11 specialises it: no new entry into the loop),
so a batch could be handed to a Python loop that calls each handler and hands each result
back to C. This measures whether that wins, outside any server, on a handler that only
returns its argument:

- `c`: C calls the handler for each item (`map` over the requests, drained by a
  `deque(maxlen=0)`): the server's way.
- `loop`: a Python loop over (handler, request) pairs from a C iterator (`zip`, which reuses
  its tuple as a server's iterator would) that hands each result to a C method
  (`deque.append`): what the server would have to do, since handlers differ per request.
- `loop-known`: the same loop calling one known handler, without the pairs: the lower bound
  of any such loop.

Each figure is instructions per call: the difference of two runs (N = 10,000 and 60,000) over
50,000, so start-up cancels out.
"""

import itertools
import os
import subprocess
import sys
import tempfile
from collections import deque


def handler(request):
    return request


def run(mode, n):
    requests = [object()] * n
    sink = deque(maxlen=0)
    if mode == "c":
        sink.extend(map(handler, requests))
    elif mode == "loop":
        put = sink.append
        for h, r in zip(itertools.repeat(handler), requests):
            put(h(r))
    elif mode == "loop-known":
        put = sink.append
        for r in requests:
            put(handler(r))
    else:
        raise SystemExit(f"callpath: unknown mode {mode!r}")


def instructions(mode, n, work):
    out = os.path.join(work, f"cg.{mode}.{n}")
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            mode,
            str(n),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    with open(out) as f:
        for line in f:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise SystemExit(f"callpath: no summary in {out}")


def main():
    if len(sys.argv) == 3:
        run(sys.argv[1], int(sys.argv[2]))
        return
    n1, n2 = 10_000, 60_000
    print(f"Python {sys.version.split()[0]}: instructions per call (callgrind)")
    with tempfile.TemporaryDirectory() as work:
        for mode in ("c", "loop", "loop-known"):
            per = (instructions(mode, n2, work) - instructions(mode, n1, work)) / (n2 - n1)
            print(f"  {mode:<11} {per:7.1f}")


if __name__ == "__main__":
    main()
