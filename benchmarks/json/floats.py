#!/usr/bin/env python3
"""Instructions per float of Response(json=[...floats...]), with callgrind.

    .venv/bin/python benchmarks/json/floats.py [--loops 100] [--small 100] [--large 1100]

For each kind of float (random doubles, which need 16 or 17 digits, and prices with two
decimals such as 12.34) it runs this script twice under `valgrind --tool=callgrind`, each run
building one list and encoding it with Response(json=lst) --loops times: once with --small
floats and once with --large. Start-up, the import and each Response's fixed cost are the
same in both runs, so (Ir(large) - Ir(small)) / ((large - small) x loops) is the cost of one
float: the encoder's float path plus the list walk and the "," before each element. Callgrind
counts instructions, not time, so the figure does not depend on the machine's load.

Last, the same difference for whole responses: benchmarks/peers/body-1k.json (the 1 KiB body
of the peer suite, 23 floats among other values) encoded --small times and --large times,
over the difference: the instructions of one Response(json=body).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile


def floats(kind: str, n: int) -> list[float]:
    rnd = random.Random(1)
    if kind == "random":
        return [rnd.uniform(-1000.0, 1000.0) for _ in range(n)]
    return [rnd.randrange(0, 100000) / 100 for _ in range(n)]


BODY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers", "body-1k.json")


def work(kind: str, n: int, loops: int) -> None:
    from japronto._core import Response

    if kind == "body":
        with open(BODY) as f:
            body = json.load(f)
        for _ in range(n):
            Response(json=body)
        return
    lst = floats(kind, n)
    for _ in range(loops):
        Response(json=lst)


def callgrind_ir(kind: str, n: int, loops: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--work",
                kind,
                "--n",
                str(n),
                "--loops",
                str(loops),
            ],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},  # the same dict work in both runs
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with open(out) as f:
            text = f.read()
    m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    assert m, "no totals in the callgrind output"
    return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loops", type=int, default=100)
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--large", type=int, default=1100)
    ap.add_argument("--work", choices=["random", "prices", "body"])
    ap.add_argument("--n", type=int)
    args = ap.parse_args()
    if args.work:
        work(args.work, args.n, args.loops)
        return 0
    for kind in ("random", "prices"):
        small = callgrind_ir(kind, args.small, args.loops)
        large = callgrind_ir(kind, args.large, args.loops)
        per = (large - small) / ((args.large - args.small) * args.loops)
        print(f"{kind:7} Ir {small:,} / {large:,}: {per:,.1f} instructions per float")
    small = callgrind_ir("body", args.small, 0)
    large = callgrind_ir("body", args.large, 0)
    per = (large - small) / (args.large - args.small)
    print(f"body-1k Ir {small:,} / {large:,}: {per:,.1f} instructions per response")
    return 0


if __name__ == "__main__":
    sys.exit(main())
