#!/usr/bin/env python3
"""Pipe benchmark: netring against its references, alternated in one run.

Each round runs, back to back:
  * netring pipes between two netring-pktgen processes (rx pinned to CPU 0, tx to CPU 1):
    64 and 1500 bytes, batch 32 and 256, shared-memory and socket sync, busy and poll waiting,
    1024 and 4096 slots, plus ping-pong RTT (busy and poll);
  * the bare shared-memory handoff (shared/peers/floor/ring, same slots, batch and pinning) and its
    ping-pong;
  * DPDK memif between two testpmd processes (shared/peers/01-dpdk-memif.sh, --no-huge configs).
This VM's cross-core latency flips between a fast and a slow mode every few seconds, so every
measurement is tagged with the c2c round trip measured just before and after it, and the summary
gives medians and ratios per mode. Every measurement prints one JSON line; the summary is the last.

usage: pipe_bench.py [--rounds 5] [--secs 3] [--no-memif] [--no-floor] [--build build] [--quick]
Runs as root (it starts netringd on a private socket and stops it by PID).
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import PEERS, ROOT, emit, last_json

PEER_BUILD = "/tmp/peers-build"


def c2c_ns():
    exe = os.path.join(PEER_BUILD, "c2c")
    if not os.path.exists(exe):
        return None
    out = subprocess.run([exe, "200000"], capture_output=True, text=True).stdout
    m = re.search(r"round-trip ([0-9.]+) ns", out)
    return float(m.group(1)) if m else None


def mode_of(before, after):
    if before is None or after is None:
        return "unknown"
    fast = lambda v: v < 200
    if fast(before) and fast(after):
        return "fast"
    if not fast(before) and not fast(after):
        return "slow"
    return "mixed"


class Daemon:
    def __init__(self, build):
        self.dir = tempfile.mkdtemp(prefix="netring-bench-")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "sock")
        conf = os.path.join(self.dir, "netringd.conf")
        with open(conf, "w") as f:
            f.write("region_buffers 131072\nmax_slots 16384\nallow * netmap:*\n")
        self.log = open(os.path.join(self.dir, "netringd.log"), "w")
        self.proc = subprocess.Popen([os.path.join(build, "daemon", "netringd"), "--socket", self.sock,
                                      "--config", conf], stderr=self.log)
        for _ in range(200):
            if os.path.exists(self.sock):
                return
            time.sleep(0.05)
        raise RuntimeError("netringd did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def pktgen(build, sock, cpu, args):
    exe = os.path.join(build, "tools", "netring-pktgen")
    return subprocess.Popen(["taskset", "-c", str(cpu), exe, "--socket", sock, "--json"] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


PIPE_ID = [0]


def netring_pipe(build, sock, secs, size, batch, sync, wait, slots):
    PIPE_ID[0] += 1
    name = "netmap:bench{%d" % PIPE_ID[0]
    common = ["-l", str(size), "-b", str(batch), "--sync", sync, "--wait", wait, "--slots", str(slots),
              "--payload", "header"]
    rx = pktgen(build, sock, 0, ["-i", name, "-f", "rx", "-T", str(secs + 1)] + common)
    time.sleep(0.2)
    tx = pktgen(build, sock, 1, ["-i", name.replace("{", "}"), "-f", "tx", "-T", str(secs)] + common)
    tx_out, _ = tx.communicate(timeout=secs + 30)
    rx_out, _ = rx.communicate(timeout=secs + 30)
    r = last_json(rx_out) or {}
    return {"mpps": r.get("mpps"), "ns_per_packet": r.get("ns_per_packet"), "lost": r.get("lost"),
            "corrupt": r.get("corrupt"), "rx_exit": rx.returncode, "tx_exit": tx.returncode}


def netring_pingpong(build, sock, secs, wait):
    PIPE_ID[0] += 1
    name = "netmap:benchpp{%d" % PIPE_ID[0]
    pong = pktgen(build, sock, 0, ["-i", name.replace("{", "}"), "-f", "pong", "-T", str(secs + 2),
                                   "--wait", wait])
    time.sleep(0.2)
    ping = pktgen(build, sock, 1, ["-i", name, "-f", "ping", "-T", str(secs), "--wait", wait])
    out, _ = ping.communicate(timeout=secs + 30)
    pong.communicate(timeout=secs + 30)
    r = last_json(out) or {}
    return {"rtt_us_p50": r.get("rtt_us_p50"), "rtt_us_p99": r.get("rtt_us_p99"), "exit": ping.returncode}


def floor_ring(secs, slots, batch, size, sync="spin"):
    exe = os.path.join(PEER_BUILD, "floor", "ring")
    out = subprocess.run([exe, str(slots), str(batch), str(size), "hdr", sync, "1000", "split", str(secs)],
                         capture_output=True, text=True).stdout
    m = re.search(r"mpps=([0-9.]+) nspp=([0-9.]+)", out)
    tag = re.search(r" mode=([a-z]+)", out)
    res = {"mpps": float(m.group(1)), "ns_per_packet": float(m.group(2))} if m else {"mpps": None}
    res["floor_mode"] = tag.group(1) if tag else "unknown"
    return res


def floor_pingpong(secs):
    exe = os.path.join(PEER_BUILD, "floor", "pingpong")
    out = subprocess.run([exe, "spin", "split", str(secs)], capture_output=True, text=True).stdout
    m = re.search(r"med_us=([0-9.]+) p99_us=([0-9.]+)", out)
    tag = re.search(r" tag=([a-z]+)", out)
    res = {"rtt_us_p50": float(m.group(1)), "rtt_us_p99": float(m.group(2))} if m else {}
    res["floor_mode"] = tag.group(1) if tag else "unknown"
    return res


def memif(secs):
    env = dict(os.environ, ONLY="nohuge", DUR=str(max(4, secs)))
    out = subprocess.run(["bash", os.path.join(PEERS, "01-dpdk-memif.sh")], capture_output=True, text=True,
                         env=env).stdout
    res = {}
    for line in out.splitlines():
        m = re.match(r"dpdk-memif-2proc-(\d+)B-b(\d+)-nohuge: ([0-9.]+) Mpps", line)
        if m:
            res["%sB-b%s" % (m.group(1), m.group(2))] = float(m.group(3))
    return res


def measure(name, fn, *a):
    before = c2c_ns()
    res = fn(*a)
    after = c2c_ns()
    rec = {"bench": name, "c2c_before_ns": before, "c2c_after_ns": after, "mode": mode_of(before, after)}
    rec.update(res)
    emit(rec)
    return rec


# Each pair runs netring and the floor back to back with the same slots and batch, so both see the
# same cross-core mode as far as possible; the ratio of the pair is the number that matters.
PAIRS = [(64, 256, 1024), (64, 32, 1024), (64, 256, 4096)]


def paired_round(build, sock, secs, rnd, records):
    for size, batch, slots in PAIRS:
        a = measure("netring-pipe-%dB-b%d-shm-busy-N%d" % (size, batch, slots), netring_pipe, build, sock, secs,
                    size, batch, "shm", "busy", slots)
        b = measure("floor-64B-N%d-b%d" % (slots, batch), floor_ring, secs, slots, batch, 64)
        records += [a, b]
        if a.get("mpps") and b.get("mpps"):
            rec = {"bench": "pair-pipe-vs-floor-N%d-b%d" % (slots, batch), "round": rnd,
                   "ratio": round(a["mpps"] / b["mpps"], 3), "netring_mpps": a["mpps"], "floor_mpps": b["mpps"],
                   "mode": b.get("floor_mode", "unknown")}
            emit(rec)
            records.append(rec)
    a = measure("netring-pingpong-busy", netring_pingpong, build, sock, secs, "busy")
    b = measure("floor-pingpong", floor_pingpong, secs)
    records += [a, b]
    if a.get("rtt_us_p50") and b.get("rtt_us_p50"):
        rec = {"bench": "pair-rtt-busy-vs-floor", "round": rnd, "ratio": round(a["rtt_us_p50"] / b["rtt_us_p50"], 3),
               "netring_us": a["rtt_us_p50"], "floor_us": b["rtt_us_p50"], "mode": b.get("floor_mode", "unknown")}
        emit(rec)
        records.append(rec)


def netring_configs(quick):
    cfgs = []
    for size in (64, 1500):
        for batch in (32, 256):
            for sync in ("shm", "socket"):
                if size == 64 and sync == "shm":
                    continue  # measured in pairs with the floor
                cfgs.append((size, batch, sync, "busy", 1024))
    cfgs.append((64, 256, "shm", "poll", 1024))
    cfgs.append((64, 32, "shm", "poll", 1024))
    return cfgs[:3] if quick else cfgs


def summarize(records):
    pairs = {}
    for r in records:
        if r["bench"].startswith("pair-"):
            pairs.setdefault(r["bench"], []).append(r["ratio"])
            pairs.setdefault("%s|%s" % (r["bench"], r["mode"]), []).append(r["ratio"])
    paired = {k: {"median_ratio": round(statistics.median(v), 3), "n": len(v), "ratios": v} for k, v in pairs.items()}
    groups = {}
    for r in records:
        if r["bench"].startswith("pair-"):
            continue
        key = (r["bench"], r["mode"])
        val = r.get("mpps") if r.get("mpps") is not None else r.get("rtt_us_p50")
        if val is not None:
            groups.setdefault(key, []).append(val)
    med = {"%s|%s" % k: round(statistics.median(v), 3) for k, v in groups.items()}
    ratios = {}
    for mode in ("fast", "slow", "mixed", "unknown"):
        def g(name):
            return med.get("%s|%s" % (name, mode))
        pairs = {
            "pipe64_b256_vs_floor_N1024_b256": ("netring-pipe-64B-b256-shm-busy-N1024", "floor-64B-N1024-b256"),
            "pipe64_b256_N4096_vs_floor_N4096_b256": ("netring-pipe-64B-b256-shm-busy-N4096", "floor-64B-N4096-b256"),
            "pipe64_b256_vs_memif_64B_b32": ("netring-pipe-64B-b256-shm-busy-N1024", "memif-64B-b32"),
            "pipe64_b256_vs_memif_64B_b256": ("netring-pipe-64B-b256-shm-busy-N1024", "memif-64B-b256"),
            "pipe1500_vs_pipe64_b256": ("netring-pipe-1500B-b256-shm-busy-N1024", "netring-pipe-64B-b256-shm-busy-N1024"),
            "shm_vs_socket_b32": ("netring-pipe-64B-b32-shm-busy-N1024", "netring-pipe-64B-b32-socket-busy-N1024"),
            "poll_vs_busy_b256": ("netring-pipe-64B-b256-shm-poll-N1024", "netring-pipe-64B-b256-shm-busy-N1024"),
            "rtt_busy_vs_floor": ("netring-pingpong-busy", "floor-pingpong"),
        }
        for rname, (a, b) in pairs.items():
            if g(a) and g(b):
                ratios["%s|%s" % (rname, mode)] = round(g(a) / g(b), 3)
    return {"summary": True, "paired": paired, "medians": med, "ratios": ratios}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=float, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--no-memif", action="store_true")
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--quick", action="store_true", help="a few configurations only (smoke run)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("pipe_bench.py: run as root")
    if not args.no_floor:
        # builds floor/ring, floor/pingpong and c2c into /tmp/peers-build
        subprocess.run(["bash", os.path.join(PEERS, "06-floor-shm-handoff.sh")], env=dict(os.environ, SECS="0.2", RUNS="1"),
                       capture_output=True)
    subprocess.run(["bash", "-c", "source %s/common.sh; build_c2c" % PEERS], capture_output=True)
    secs = args.secs
    records = []
    daemon = Daemon(args.build)
    try:
        for rnd in range(args.rounds):
            for size, batch, sync, wait, slots in netring_configs(args.quick):
                name = "netring-pipe-%dB-b%d-%s-%s-N%d" % (size, batch, sync, wait, slots)
                rec = measure(name, netring_pipe, args.build, daemon.sock, secs, size, batch, sync, wait, slots)
                rec["round"] = rnd
                records.append(rec)
            records.append(measure("netring-pingpong-poll", netring_pingpong, args.build, daemon.sock, secs, "poll"))
            if not args.no_floor:
                paired_round(args.build, daemon.sock, secs, rnd, records)
                records.append(measure("floor-64B-N1024-b256-kick", floor_ring, secs, 1024, 256, 64, "kick"))
            if not args.no_memif:
                before = c2c_ns()
                res = memif(secs)
                after = c2c_ns()
                for k, v in res.items():
                    rec = {"bench": "memif-" + k, "mpps": v, "c2c_before_ns": before, "c2c_after_ns": after,
                           "mode": mode_of(before, after), "round": rnd}
                    emit(rec)
                    records.append(rec)
    finally:
        daemon.stop()
    emit(summarize(records))


if __name__ == "__main__":
    main()
