#!/usr/bin/env python3
"""netmap's pkt-gen on netring against netring-pktgen: one pipe, 64-byte frames, alternated.

pkt-gen (netmap's own program, from a netmap checkout) is built against netring's headers and
libnetring-netmap with tests/netmap/apps/build_netmap_apps.sh; it syncs through the netmap
descriptor (NIOCTXSYNC/NIOCRXSYNC and poll) that the library serves. netring-pktgen uses
libnetring directly. Both move the same count of 60-byte frames (64 B on the wire) at the same
batch over a netring pipe, receiver on CPU 0 and sender on CPU 1, in two modes:
  poll   pkt-gen's default loop (poll() on the descriptor)  vs  netring-pktgen --wait poll
  busy   pkt-gen-b (NIOCTXSYNC/NIOCRXSYNC in a loop)         vs  netring-pktgen --wait busy
Every round runs both programs back to back, in reversed order every other round; the summary
gives the median of pkt-gen's rate over netring-pktgen's per mode, with its range.

usage: netmap_bench.py --build BUILD --apps DIR [--rounds 5] [--count 60000000] [--batch 512]
  DIR holds pkt-gen and pkt-gen-b (build_netmap_apps.sh's OUTDIR/A). Runs as root.
Every measurement prints one JSON line; the last line is the summary.
"""
import argparse
import os
import re
import statistics
import subprocess
import time

import pipe_bench
from benchlib import emit, last_json

PIPE_ID = [0]


def next_pipe(prefix):
    PIPE_ID[0] += 1
    return "netmap:%s%d{1" % (prefix, PIPE_ID[0])


def run_pair(rx_cmd, tx_cmd, env, timeout):
    rx = subprocess.Popen(["taskset", "-c", "0"] + rx_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env)
    time.sleep(0.3)
    tx = subprocess.Popen(["taskset", "-c", "1"] + tx_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env)
    tx_out, _ = tx.communicate(timeout=timeout)
    rx_out, _ = rx.communicate(timeout=timeout)
    return rx_out, tx_out, rx.returncode, tx.returncode


def pktgen_netmap(apps, sock, mode, count, batch):
    exe = os.path.join(apps, "pkt-gen-b" if mode == "busy" else "pkt-gen")
    name = next_pipe("nmb")
    common = ["-l", "60", "-b", str(batch), "-n", str(count), "-w", "0"]
    env = dict(os.environ, NETRING_SOCKET=sock)
    rx_out, _, rc_rx, rc_tx = run_pair([exe, "-i", name, "-f", "rx"] + common,
                                       [exe, "-i", name.replace("{", "}"), "-f", "tx"] + common, env, 120)
    got = re.search(r"Received (\d+) packets", rx_out)
    res = {"received": int(got.group(1)) if got else None, "rx_exit": rc_rx, "tx_exit": rc_tx}
    # pkt-gen's closing "Speed:" times the run from a late start; its once-a-second report lines
    # are steady. The first and last seconds (start, drain) are left out.
    scale = {"": 1e-6, "K": 1e-3, "M": 1.0, "G": 1e3}
    per_sec = [float(v) * scale[u] for v, u in re.findall(r"main_thread \[\d+\] ([0-9.]+) ([KMG]?)pps \(", rx_out)]
    steady = per_sec[1:-1]
    if steady:
        mpps = statistics.mean(steady)
        res.update(mpps=round(mpps, 4), ns_per_packet=round(1000.0 / mpps, 2) if mpps else None,
                   seconds_sampled=len(steady))
    return res


def pktgen_netring(build, sock, mode, count, batch):
    name = next_pipe("nrb")
    common = ["-l", "60", "-b", str(batch), "-n", str(count), "--wait", mode, "--payload", "header", "--json",
              "--socket", sock]
    exe = os.path.join(build, "tools", "netring-pktgen")
    rx_out, _, rc_rx, rc_tx = run_pair([exe, "-i", name, "-f", "rx"] + common,
                                       [exe, "-i", name.replace("{", "}"), "-f", "tx"] + common, None, 120)
    r = last_json(rx_out) or {}
    return {"mpps": r.get("mpps"), "ns_per_packet": r.get("ns_per_packet"), "received": r.get("packets"),
            "lost": r.get("lost"), "rx_exit": rc_rx, "tx_exit": rc_tx}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--apps", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--count", type=int, default=60000000)
    ap.add_argument("--batch", type=int, default=512)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    d = pipe_bench.Daemon(build)
    ratios = {"poll": [], "busy": []}
    try:
        for rnd in range(args.rounds):
            for mode in ("poll", "busy"):
                order = ("netring", "netmap") if rnd % 2 == 0 else ("netmap", "netring")
                got = {}
                for who in order:
                    if who == "netmap":
                        r = pktgen_netmap(args.apps, d.sock, mode, args.count, args.batch)
                    else:
                        r = pktgen_netring(build, d.sock, mode, args.count, args.batch)
                    got[who] = r
                    emit({"bench": "netmap-compat", "round": rnd, "mode": mode, "program": who,
                          "size": 64, "batch": args.batch, "count": args.count, **r})
                if got["netmap"].get("mpps") and got["netring"].get("mpps"):
                    ratios[mode].append(got["netmap"]["mpps"] / got["netring"]["mpps"])
    finally:
        d.stop()
    summary = {"bench": "netmap-compat-summary", "size": 64, "batch": args.batch, "rounds": args.rounds}
    for mode, rs in ratios.items():
        if rs:
            summary[mode] = {"pktgen_over_netring_median": round(statistics.median(rs), 3),
                             "min": round(min(rs), 3), "max": round(max(rs), 3), "n": len(rs)}
    emit(summary)


if __name__ == "__main__":
    main()
