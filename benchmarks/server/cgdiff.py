"""Marginal self cost per request, per function, from two callgrind dumps of one server.

    python3 benchmarks/server/cgdiff.py N_A DUMP_A N_B DUMP_B [TOP]

DUMP_A and DUMP_B are dumps of `count` runs (KEEP=1 keeps them) over N_A and N_B requests
(say 2,000 and 8,000) at the same depth. For each function, (self cost in B - self cost in A)
/ (N_B - N_A): what one more request costs there. Taking the difference removes what a
measurement costs once, and the cost callgrind leaves on the frames that were on the stack
when its counters were zeroed (about 2 million instructions, charged to whatever functions
were running then), which a single dump's per-function figures carry.
"""

import collections
import re
import sys


def self_costs(path):
    names = {}  # callgrind's compressed names: "(12) name" once, then "(12)"
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    for line in lines:
        if line.startswith(("fn=", "cfn=")):
            m = re.match(r"c?fn=\((\d+)\)(?: (.+))?$", line)
            if m and m.group(2):
                names[m.group(1)] = m.group(2)
    positions, costs, fn, after_call = 1, collections.Counter(), None, False
    for line in lines:
        if line.startswith("positions:"):
            positions = len(line.split()) - 1
        elif line.startswith("fn="):
            m = re.match(r"fn=(?:\((\d+)\))?\s*(.*)$", line)
            fn = names.get(m.group(1), m.group(2)) if m.group(1) else m.group(2)
        elif line.startswith("calls="):
            after_call = True  # the next cost line is the call's inclusive cost
        elif line and (line[0].isdigit() or line[0] in "+-*"):
            if after_call:
                after_call = False
                continue
            parts = line.split()
            if len(parts) > positions and fn:
                costs[fn] += int(parts[positions])
    return costs


def main(argv):
    n_a, dump_a, n_b, dump_b = int(argv[1]), argv[2], int(argv[3]), argv[4]
    top = int(argv[5]) if len(argv) > 5 else 40
    a, b = self_costs(dump_a), self_costs(dump_b)
    per = {fn: (b[fn] - a.get(fn, 0)) / (n_b - n_a) for fn in set(a) | set(b)}
    print(f"{sum(per.values()):9.1f} total Ir a request")
    for fn, v in sorted(per.items(), key=lambda kv: -abs(kv[1]))[:top]:
        print(f"{v:9.1f} {fn}")


if __name__ == "__main__":
    main(sys.argv)
