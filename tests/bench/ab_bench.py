#!/usr/bin/env python3
"""Before/after benchmark: two builds of netring, alternated in one run, with paired ratios.

For a change that must not move performance (a restructure, a refactor), this runs the same
measurements on build A (before) and build B (after), A and B back to back in every round and in
reversed order every other round, so both see the same machine state; the summary gives, per
measurement, the median of B/A over the rounds and its range. Each side uses its own netringd and
netring-pktgen.

Measurements (from pipe_bench.py and switch_bench.py):
  pipe-64B-b256     netring pipe, 64 B, batch 256, shared-memory sync, busy wait, 1024 slots
  pipe-64B-b32      the same at batch 32
  pipe-64B-socket   batch 32 with socket sync (TXSYNC/RXSYNC round trips through the daemon)
  pingpong-busy     pipe round trip, p50 (B/A < 1 is better here)
  sw2-64            switch, 2 ports, 64 B (netring-pktgen through the forwarding thread)

usage: ab_bench.py --a BUILD_BEFORE --b BUILD_AFTER [--rounds 5] [--secs 3] [--only NAME[,NAME]]
Runs as root. Every measurement prints one JSON line; the last line is the summary.
"""
import argparse
import os
import statistics
import sys
import time

import pipe_bench
import switch_bench
from benchlib import emit


def pipe_run(build, secs, batch, sync):
    d = pipe_bench.Daemon(build)
    try:
        return pipe_bench.netring_pipe(build, d.sock, secs, 64, batch, sync, "busy", 1024)
    finally:
        d.stop()


def pingpong_run(build, secs):
    d = pipe_bench.Daemon(build)
    try:
        return pipe_bench.netring_pingpong(build, d.sock, secs, "busy")
    finally:
        d.stop()


def switch_run(build, secs):
    return switch_bench.netring_run(build, [("a", "b")], 64, secs, 16384, "poll", "1,1,0", None)


MEASUREMENTS = [
    ("pipe-64B-b256", "mpps", lambda b, s: pipe_run(b, s, 256, "shm")),
    ("pipe-64B-b32", "mpps", lambda b, s: pipe_run(b, s, 32, "shm")),
    ("pipe-64B-socket", "mpps", lambda b, s: pipe_run(b, s, 32, "socket")),
    ("pingpong-busy", "rtt_us_p50", pingpong_run),
    ("sw2-64", "mpps", switch_run),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="build directory before the change")
    ap.add_argument("--b", required=True, help="build directory after the change")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=float, default=3)
    ap.add_argument("--only", help="comma-separated measurement names (default: all)")
    args = ap.parse_args()
    chosen = [m for m in MEASUREMENTS if not args.only or m[0] in args.only.split(",")]
    if not chosen:
        sys.exit("ab_bench.py: --only names none of " + ", ".join(m[0] for m in MEASUREMENTS))
    if os.geteuid() != 0:
        sys.exit("ab_bench.py: run as root")
    sides = {"A": os.path.abspath(args.a), "B": os.path.abspath(args.b)}
    emit({"config": True, "a": sides["A"], "b": sides["B"], "rounds": args.rounds, "secs": args.secs,
          "cpus": os.cpu_count(), "kernel": os.uname().release})
    ratios = {}
    values = {}
    for rnd in range(args.rounds):
        for name, key, fn in chosen:
            got = {}
            for side in ("AB" if rnd % 2 == 0 else "BA"):
                t0 = time.time()
                res = fn(sides[side], args.secs)
                rec = {"bench": name, "side": side, "round": rnd, "t": round(t0, 1)}
                rec.update(res)
                emit(rec)
                got[side] = res.get(key)
                values.setdefault("%s|%s" % (name, side), []).append(res.get(key))
            if got.get("A") and got.get("B"):
                ratios.setdefault(name, []).append(round(got["B"] / got["A"], 3))
    summary = {"summary": True, "metric": {n: k for n, k, _ in chosen}, "b_over_a": {}}
    for name, rs in ratios.items():
        summary["b_over_a"][name] = {"median": round(statistics.median(rs), 3), "min": min(rs), "max": max(rs),
                                     "n": len(rs)}
    summary["medians"] = {k: round(statistics.median([v for v in vs if v is not None]), 3)
                          for k, vs in values.items() if any(v is not None for v in vs)}
    emit(summary)


if __name__ == "__main__":
    main()
