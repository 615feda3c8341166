#!/usr/bin/env python3
"""Restart gap benchmark: how long a switch flow stops while `netring-ctl restart` replaces netringd.

One private netringd (`allow * *`); netring-pktgen sends paced frames into vale0:a (the switch and
its ports are made on the fly, or by netring-switch with --persistent), restart_gap_rx receives on
vale0:b and keeps the longest silences between two arrivals. While the flow runs, the daemon is
replaced --restarts times, --spacing seconds apart. A paced flow's frames are --rate apart, so the
longest silences are the restarts' gaps: from the last frame the old forwarding thread delivered to
the first one the new thread delivered.
Prints one JSON line per restart gap (longest first) and a summary line:
  gap_ms_median, gap_ms_worst   over the restarts of all rounds
  packets, expected             what the receiver counted, what the sender sent (equal: none lost)
Not run in CI (timing depends on the machine); no assertion on the numbers.

usage: restart_bench.py [--rounds 3] [--restarts 5] [--spacing 1.0] [--rate 20000] [--persistent]
                        [--build DIR]
Runs as root; stops its netringd and clients by PID.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

from benchlib import ROOT, emit, last_json, log
from switch_bench import Daemon


def find_build(explicit):
    """--build, else build/: the first that has every binary this needs."""
    need = ("daemon/netringd", "tools/netring-pktgen", "tools/netring-switch", "tools/netring-ctl",
            "tests/bench/restart_gap_rx")
    cands = [explicit] if explicit else [os.path.join(ROOT, "build")]
    for c in cands:
        if all(os.access(os.path.join(c, n), os.X_OK) for n in need):
            return os.path.abspath(c)
    sys.exit("restart_bench: no build dir with %s among %s (build first, or pass --build)" % (", ".join(need), cands))


def one_round(build, args):
    """One flow across args.restarts restarts: (gaps in ms, packets received, frames sent)."""
    d = Daemon(build, 1024, "f", None, ["a", "b"] if args.persistent else [])
    procs = []
    try:
        frames = int(args.rate * (args.spacing * args.restarts + 2))
        rx = subprocess.Popen([os.path.join(build, "tests", "bench", "restart_gap_rx"), "vale0:b", str(frames),
                               str(int(args.spacing * args.restarts + 60)), str(args.restarts)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, NETRING_SOCKET=d.sock))
        procs.append(rx)
        time.sleep(0.5)  # registered before the sender floods a switch that does not know b yet
        tx = subprocess.Popen([os.path.join(build, "tools", "netring-pktgen"), "--socket", d.sock, "--json",
                               "-i", "vale0:a", "-f", "tx", "-n", str(frames), "-R", str(args.rate)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(tx)
        time.sleep(1.0)
        for i in range(args.restarts):
            r = subprocess.run([os.path.join(build, "tools", "netring-ctl"), "--socket", d.sock, "restart",
                                "--timeout", "30"], capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                log("restart %d failed: %s" % (i, r.stderr.strip()))
            time.sleep(args.spacing)
        out, err = rx.communicate(timeout=args.spacing * args.restarts + 90)
        tx.communicate(timeout=30)
        res = last_json(out) or {}
        if rx.returncode != 0:
            log("receiver: %s" % err.strip())
        return res.get("gaps_ms", []), res.get("packets", 0), frames
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        d.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--restarts", type=int, default=5, help="restarts per round")
    ap.add_argument("--spacing", type=float, default=1.0, help="seconds between restarts")
    ap.add_argument("--rate", type=int, default=20000, help="frames per second the sender paces to")
    ap.add_argument("--persistent", action="store_true", help="switch and ports made by netring-switch")
    ap.add_argument("--build", default=None)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("restart_bench: run as root (it starts netringd)")
    build = find_build(args.build)
    gaps, packets, expected = [], 0, 0
    for rnd in range(args.rounds):
        g, n, want = one_round(build, args)
        for ms in g:
            emit({"round": rnd, "gap_ms": round(ms, 3)})
        gaps += g
        packets += n
        expected += want
    emit({"summary": True, "restarts": args.rounds * args.restarts, "rate": args.rate,
          "persistent": args.persistent,
          "gap_ms_median": round(statistics.median(gaps), 3) if gaps else None,
          "gap_ms_worst": round(max(gaps), 3) if gaps else None,
          "packets": packets, "expected": expected})


if __name__ == "__main__":
    main()
