#!/usr/bin/env python3
"""Restart gap benchmark: how long a flow stops while netringd is replaced (netring-ctl restart).

Flows (each in its own netringd, `allow * *`, on a socket in a temp dir):
  * pipe     netring-pktgen -f tx on netmap:gapP{1, -f rx on netmap:gapP}1
  * switch   -f tx on vale0:a, -f rx on vale0:b (broadcast frames: the switch floods them to b);
             the switch and its ports are made on the fly by the clients
  * switch-persistent  the same on vale1:a and vale1:b, made first with netring-switch
The sender is paced (--rate, default 100000 frames/s) and numbers every frame; the receiver checks
each one and, with --gaps 1, lists every stretch of 1 ms or more with no frame, on the steady clock.
While they run the benchmark replaces the daemon --restarts times (netring-ctl restart, one every
--every seconds). The gap of one restart is the longest stretch without frames that began between
the request and 2 s after the new daemon answered (or the next request, if sooner); 0 means no
stretch reached 1 ms. The machine's own pauses count too: run it on a quiet machine, and compare
the pipe flow (which needs no daemon) as the baseline.

With --crash the daemon runs with a service manager's fd store (benchlib.FdStore) and each restart
is a SIGKILL followed at once by a new netringd started with the store's fds, as systemd's
Restart= would; restart_ms is then the time from the kill until the successor logged its adoption,
and every flow name gets the suffix "-crash".

Prints one JSON line per flow and round:
  {"flow", "round", "restarts", "gap_ms": [...], "gap_ms_median", "gap_ms_worst",
   "frames", "lost", "corrupt", "duplicate", "restart_ms_median"}
restart_ms is how long netring-ctl restart took (request to the successor answering STATS).
The last line is the summary: per flow, the median of the rounds' medians and the worst gap.
Frames that queue in the rings while nobody forwards them arrive late, not lost: lost must be 0.

usage: restart_gap_bench.py [--flows pipe,switch,switch-persistent] [--rounds 3] [--restarts 5] [--every 1.5]
                            [--rate 100000] [--build DIR] [--crash]
Runs as root; stops its netringd and clients by PID. Not part of the test suite.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import ROOT, FdStore, emit, last_json


def find_build(explicit):
    need = ("daemon/netringd", "tools/netring-pktgen", "tools/netring-ctl", "tools/netring-switch")
    cands = [explicit] if explicit else [os.path.join(ROOT, d) for d in ("build", "build-release")]
    for c in cands:
        if all(os.access(os.path.join(c, n), os.X_OK) for n in need):
            return os.path.abspath(c)
    sys.exit("restart_gap_bench: no build dir with %s among %s" % (", ".join(need), cands))


FLOWS = {
    "pipe": ("netmap:gapP{1", "netmap:gapP}1"),
    "switch": ("vale0:a", "vale0:b"),
    "switch-persistent": ("vale1:a", "vale1:b"),
}
SETUP = {"switch-persistent": [["create", "vale1"], ["add", "vale1:a"], ["add", "vale1:b"]]}


def wait_for(pred, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.02)
    return False


def run_flow(build, flow, restarts, every, rate, crash=False):
    tmp = tempfile.mkdtemp(prefix="netring-gap-")
    sock = os.path.join(tmp, "netringd.sock")
    conf = os.path.join(tmp, "netringd.conf")
    with open(conf, "w") as f:
        f.write("allow * *\ndefault_slots 4096\nreattach_timeout_s 30\n")
    bin_ = lambda n: os.path.join(build, n)
    log = open(os.path.join(tmp, "netringd.log"), "w")
    netringd = [bin_("daemon/netringd"), "--socket", sock, "--config", conf]
    store = FdStore(os.path.join(tmp, "notify.sock")) if crash else None
    env = dict(os.environ, NOTIFY_SOCKET=store.path) if store else None
    daemon = subprocess.Popen(netringd, stdout=log, stderr=log, env=env)
    procs = [daemon]
    try:
        if not wait_for(lambda: os.path.exists(sock), 10):
            raise RuntimeError("netringd did not start")
        for cmd in SETUP.get(flow, []):
            subprocess.run([bin_("tools/netring-switch"), "--socket", sock] + cmd, check=True, capture_output=True)
        tx_port, rx_port = FLOWS[flow]
        secs = restarts * every + 4
        common = ["--socket", sock, "--json", "--payload", "full"]
        rx = subprocess.Popen([bin_("tools/netring-pktgen"), "-i", rx_port, "-f", "rx", "-T", str(secs + 6),
                               "--gaps", "1"] + common, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(rx)
        time.sleep(0.5)  # the receiver's port first, so nothing is flooded to nobody
        tx = subprocess.Popen([bin_("tools/netring-pktgen"), "-i", tx_port, "-f", "tx", "-T", str(secs),
                               "-R", str(rate)] + common, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(tx)
        time.sleep(1.5)
        windows, took = [], []
        if store and not wait_for(lambda: store.status.startswith("2 registrations,"), 10):
            raise RuntimeError("the registrations never reached the store: " + store.status)
        for i in range(restarts):
            t0 = time.monotonic()
            if store:
                daemon.kill()
                daemon.wait()
                procs.remove(daemon)
                log.close()
                log = open(os.path.join(tmp, "netringd-%d.log" % (i + 1)), "w")
                daemon = store.spawn(netringd, stdout=log, stderr=log, env=env)
                procs.insert(0, daemon)
                told = lambda: open(log.name).read()
                wait_for(lambda: "restart: " in told(), 30)
                t1 = time.monotonic()
                if "restart: adopted" not in told():
                    raise RuntimeError("the successor did not adopt the state: " + told())
            else:
                r = subprocess.run([bin_("tools/netring-ctl"), "--socket", sock, "restart", "--timeout", "20"],
                                   capture_output=True, text=True)
                t1 = time.monotonic()
                if r.returncode != 0:
                    raise RuntimeError("netring-ctl restart: " + r.stderr.strip())
            windows.append([t0, t1 + 2.0])
            if len(windows) > 1:  # a window ends where the next restart begins
                windows[-2][1] = min(windows[-2][1], t0)
            took.append((t1 - t0) * 1e3)
            time.sleep(max(0.0, every - (t1 - t0)))
        tx_out, tx_err = tx.communicate(timeout=secs + 30)
        rx.send_signal(signal.SIGINT) if rx.poll() is None else None
        rx_out, rx_err = rx.communicate(timeout=30)
        txj, rxj = last_json(tx_out), last_json(rx_out)
        if not txj or not rxj:
            raise RuntimeError("pktgen gave no JSON: tx %s / rx %s" % (tx_err[-300:], rx_err[-300:]))
        gaps = []
        for lo, hi in windows:
            inside = [g[1] for g in rxj.get("gaps", []) if lo <= g[0] <= hi]
            gaps.append(round(max(inside), 3) if inside else 0.0)
        return {
            "flow": flow + ("-crash" if crash else ""), "restarts": restarts, "gap_ms": gaps,
            "gap_ms_median": round(statistics.median(gaps), 3), "gap_ms_worst": max(gaps),
            "frames": rxj["packets"], "sent": txj["packets"], "lost": rxj["lost"],
            "corrupt": rxj["corrupt"], "duplicate": rxj["duplicate"],
            "restart_ms_median": round(statistics.median(took), 1),
        }
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flows", default="pipe,switch,switch-persistent")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--restarts", type=int, default=5)
    ap.add_argument("--every", type=float, default=1.5)
    ap.add_argument("--rate", type=int, default=100000)
    ap.add_argument("--build")
    ap.add_argument("--crash", action="store_true", help="SIGKILL and a successor from an fd store")
    a = ap.parse_args()
    build = find_build(a.build)
    flows = [f for f in a.flows.split(",") if f]
    for f in flows:
        if f not in FLOWS:
            sys.exit("restart_gap_bench: unknown flow '%s' (known: %s)" % (f, ", ".join(FLOWS)))
    results = {f: [] for f in flows}
    for rnd in range(a.rounds):
        for f in (flows if rnd % 2 == 0 else list(reversed(flows))):
            rec = run_flow(build, f, a.restarts, a.every, a.rate, a.crash)
            rec["round"] = rnd
            emit(rec)
            results[f].append(rec)
    summary = {"summary": "restart_gap", "rate": a.rate, "restarts_per_round": a.restarts}
    for f, recs in results.items():
        summary[f] = {
            "gap_ms_median": round(statistics.median(r["gap_ms_median"] for r in recs), 3),
            "gap_ms_worst": max(r["gap_ms_worst"] for r in recs),
            "lost": sum(r["lost"] for r in recs),
            "corrupt": sum(r["corrupt"] for r in recs),
            "duplicate": sum(r["duplicate"] for r in recs),
        }
    emit(summary)


if __name__ == "__main__":
    main()
