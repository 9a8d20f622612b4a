"""Writes the peer benchmark's results.md and results.png from the runs `run` recorded.

    report.py --tsv RUNS --out-dir DIR ... (every option is given by `run`)

RUNS has one row a wrk run: workload, server, repeat, req/s, requests, seconds, the server's
CPU clock ticks over the run, wrk's socket errors, non-2xx responses. The tables give medians
over the repeats; the ratios are ours over each peer, from those medians, and also per pair:
in each repeat a workload runs on every server in turn, so ours and a peer in the same repeat
ran minutes apart at most, and the median of those per-repeat ratios, with their range, is
less moved by the machine's drift over the whole run. The chart needs
matplotlib (the tools venv `run` makes); without it only the Markdown is written.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys

WORKLOAD_TEXT = {
    "plaintext-16": "plaintext, 256 conns, 16 pipelined: TechEmpower's",
    "japronto-24": "plaintext, 100 conns, 24 pipelined: Japronto's",
    "keep-alive": "plaintext, 100 conns, keep-alive",
    "json": "JSON, 100 conns",
    "route": "realistic route, 100 conns",
    "echo": "1 KiB JSON POST echo, 100 conns",
}


class Run:
    def __init__(self, row: list[str], clk: int) -> None:
        self.workload, self.server, self.repeat = row[0], row[1], int(row[2])
        self.rps = float(row[3])
        self.requests = int(row[4])
        self.seconds = float(row[5])
        self.ticks = int(row[6])
        self.sockerr = row[7]
        self.non2xx = int(row[8] or 0)
        self.cpu_s = self.ticks / clk
        self.bad = bool(self.sockerr) or self.non2xx > 0

    @property
    def us_per_req(self) -> float:
        return self.cpu_s * 1e6 / self.requests if self.requests else float("nan")

    @property
    def cpu_use(self) -> float:
        return self.cpu_s / self.seconds * 100 if self.seconds else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    for opt in (
        "tsv",
        "out-dir",
        "quick",
        "repeats",
        "duration",
        "clk-tck",
        "servers",
        "workloads",
        "machine",
        "lscpu",
        "server-list",
        "wrk",
        "wrk-version",
        "server-cpu",
        "client-cpu",
    ):
        ap.add_argument("--" + opt, required=True)
    a = ap.parse_args()
    clk = int(a.clk_tck)
    runs = [Run(line.rstrip("\n").split("\t"), clk) for line in open(a.tsv) if line.strip()]
    servers = a.servers.split()
    workloads = a.workloads.split()
    ours = "ours" if "ours" in servers else None

    def of(w: str, s: str) -> list[Run]:
        return [r for r in runs if r.workload == w and r.server == s]

    def med(w: str, s: str, attr: str) -> float | None:
        rs = of(w, s)
        return statistics.median(getattr(r, attr) for r in rs) if rs else None

    def cell(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    def warn(w: str, s: str) -> str:
        return " ⚠" if any(r.bad for r in of(w, s)) else ""

    head = "| workload | " + " | ".join(servers) + " |"
    rule = "|---|" + "---:|" * len(servers)
    rps_t = [head, rule]
    cpu_t = [head, rule]
    use_t = [head, rule]
    for w in workloads:
        label = f"{w} ({WORKLOAD_TEXT.get(w, w)})"
        rps_t.append(
            f"| {label} | "
            + " | ".join(cell(med(w, s, "rps"), ",.0f") + warn(w, s) for s in servers)
            + " |"
        )
        cpu_t.append(
            f"| {w} | " + " | ".join(cell(med(w, s, "us_per_req"), ".2f") for s in servers) + " |"
        )
        use_t.append(
            f"| {w} | "
            + " | ".join(
                cell(med(w, s, "cpu_use"), ".0f")
                + ("%" if med(w, s, "cpu_use") is not None else "")
                for s in servers
            )
            + " |"
        )
    def paired(w: str, s: str) -> str:
        """ours / s in req/s, repeat by repeat: the median and (lowest-highest)."""
        mine = {r.repeat: r.rps for r in of(w, ours)}
        rs = [mine[r.repeat] / r.rps for r in of(w, s) if r.repeat in mine and r.rps]
        if not rs:
            return "-"
        return f"{statistics.median(rs):.2f} ({min(rs):.2f}-{max(rs):.2f})"

    ratio_t = []
    pair_t = []
    if ours:
        others = [s for s in servers if s != ours]
        ratio_t = [
            "| workload | " + " | ".join(f"ours / {s}" for s in others) + " |",
            "|---|" + "---:|" * len(others),
        ]
        pair_t = list(ratio_t)
        for w in workloads:
            cells = []
            for s in others:
                o, p = med(w, ours, "rps"), med(w, s, "rps")
                cells.append("-" if o is None or p is None or p == 0 else f"{o / p:.2f}")
            ratio_t.append(f"| {w} | " + " | ".join(cells) + " |")
            pair_t.append(f"| {w} | " + " | ".join(paired(w, s) for s in others) + " |")

    chart = make_chart(a, runs, servers, workloads, med)

    bad = [r for r in runs if r.bad]
    banner = ""
    if a.quick == "1":
        banner = (
            "\n> **QUICK RUN (`--quick`, 1 x 2 s): a check of the harness, not a result. "
            "Measure with the defaults on a quiet machine.**\n"
        )
    errors = ""
    if bad:
        errors = (
            "\n## ⚠ Errors\n\nwrk reported socket errors or non-2xx responses in these runs "
            "(marked ⚠ above); their figures are suspect:\n\n"
            + "\n".join(
                f"- {r.workload}, {r.server}, run {r.repeat}: socket errors "
                f"[{r.sockerr or 'none'}], non-2xx {r.non2xx}"
                for r in bad
            )
            + "\n"
        )
        print(f"report: WARNING: socket errors or non-2xx in {len(bad)} run(s)", file=sys.stderr)
    lscpu = ""
    if os.path.getsize(a.lscpu):
        keep = (
            "Architecture",
            "Model name",
            "CPU(s)",
            "Thread(s) per core",
            "Core(s) per socket",
            "Socket(s)",
            "CPU max MHz",
            "L1d cache",
            "L2 cache",
            "L3 cache",
            "Hypervisor vendor",
            "Virtualization type",
        )
        lines = [ln.strip() for ln in open(a.lscpu) if ln.split(":")[0].strip() in keep]
        lscpu = "\n`lscpu`:\n\n```\n" + "\n".join(lines) + "\n```\n"
    raw = [
        "| workload | server | # | req/s | requests | s | CPU ms | CPU µs/req | CPU use "
        "| socket errors | non-2xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in runs:
        raw.append(
            f"| {r.workload} | {r.server} | {r.repeat} | {r.rps:,.0f} | {r.requests:,} "
            f"| {r.seconds:g} | {r.cpu_s * 1000:.0f} | {r.us_per_req:.2f} "
            f"| {r.cpu_use:.0f}% | {r.sockerr or '-'} | {r.non2xx} |"
        )
    now = datetime.datetime.now(datetime.timezone.utc)
    chart_md = f"\n![requests per second per server]({chart})\n" if chart else ""
    doc = f"""# Peer benchmark: our server against the Python peers and the C reference
{banner}
Medians of {a.repeats} run(s) of {a.duration} s each, written by `benchmarks/peers/run` on
{now:%Y-%m-%d %H:%M} UTC. One worker each, server on CPU {a.server_cpu}, wrk (one thread) on
CPU {a.client_cpu}. The reference serves plaintext only.

## Requests per second (median)

{chr(10).join(rps_t)}
{chart_md}
## Ours over each peer (ratio of the medians; above 1: ours is faster)

{chr(10).join(ratio_t) if ratio_t else "(our server was not measured)"}

### Run by run

Ours over each peer within each repeat (where the two ran close together in time): the
median of those ratios and, in brackets, the lowest and highest.

{chr(10).join(pair_t) if pair_t else "(our server was not measured)"}

## Server CPU time per request (µs, median)

Where wrk rather than the server is the limit, this is the figure to compare: user + system
time of the server's whole process tree (every process and thread) from /proc/PID/stat,
before and after the run, over the requests wrk completed.

{chr(10).join(cpu_t)}

### Server CPU use

Its CPU time over the run's wall time; about 100%: the server's core was the limit.

{chr(10).join(use_t)}
{errors}
## Method

{open(a.machine).read().rstrip()}
{lscpu}
Servers (each checked by `check.py` to answer every endpoint it serves, pipelined too,
before any run):

{open(a.server_list).read().rstrip()}

- wrk: {a.wrk_version}; one thread pinned to CPU {a.client_cpu}; servers pinned to CPU
  {a.server_cpu} (checked for every process and thread of each server)
{open(a.wrk).read().rstrip()}
- order: all servers started once; each warmed up with an unrecorded 1 s pipelined
  plaintext run and 1 s of the route; then each repeat runs every workload on every server
  in turn, the starting server rotating between repeats, so that a drift of the machine
  hits all alike
- endpoints: `GET /plaintext` 'Hello, World!' text/plain; `GET /json` a fresh
  `{{"message":"Hello, World!"}}` each request; `GET /user/{{id}}/post/{{slug}}?fields=a,b`
  JSON from both placeholders and the query; `POST /echo` the 1 KiB JSON body
  (`body-1k.json`) parsed and serialised back. The peers' apps serialise with the standard
  library's `json.dumps` (compact); ours with `Response(json=...)` (see its line above)

## All runs

{chr(10).join(raw)}
"""
    out = os.path.join(a.out_dir, "results.md")
    with open(out, "w") as f:
        f.write(doc)
    print()
    print("\n".join(rps_t))
    if ratio_t:
        print()
        print("\n".join(ratio_t))
    print(
        f"\nreport: written to {out}" + (f" and {os.path.join(a.out_dir, chart)}" if chart else "")
    )
    return 0


def make_chart(a, runs, servers, workloads, med) -> str | None:
    """A bar chart of median requests/s: one panel a workload, one bar a server (the seed's
    chart had one panel). Returns the file name, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report: matplotlib is not importable: no chart", file=sys.stderr)
        return None
    cols = 2
    rows = (len(workloads) + cols - 1) // cols
    fig, axes = plt.subplots(
        rows, cols, figsize=(12, 2.2 + 1.9 * rows * max(1, len(servers) / 5)), squeeze=False
    )
    for ax in axes.flat[len(workloads) :]:
        ax.axis("off")
    for ax, w in zip(axes.flat, workloads):
        vals = [(s, med(w, s, "rps")) for s in servers]
        vals = [(s, v) for s, v in vals if v is not None]
        vals.sort(key=lambda sv: sv[1])
        names = [s for s, _ in vals]
        nums = [v for _, v in vals]
        colors = [
            "#d62728" if s == "ours" else "#7f7f7f" if s == "reference" else "#1f77b4"
            for s in names
        ]
        bars = ax.barh(names, nums, color=colors)
        top = max(nums) if nums else 1
        for b, v in zip(bars, nums):
            ax.text(
                b.get_width() + top * 0.01,
                b.get_y() + b.get_height() / 2,
                f"{v:,.0f}",
                va="center",
                fontsize=8,
            )
        ax.set_xlim(0, top * 1.25)
        ax.set_title(WORKLOAD_TEXT.get(w, w), fontsize=10)
        ax.tick_params(axis="both", labelsize=8)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    title = "Requests per second, one worker pinned to one core (median)"
    if a.quick == "1":
        title += " — QUICK RUN, NOT A RESULT"
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    name = "results.png"
    fig.savefig(os.path.join(a.out_dir, name), dpi=110)
    return name


if __name__ == "__main__":
    sys.exit(main())
