#!/usr/bin/env python3
"""Switch benchmark: netring's VALE-like switch against a DPDK memif forwarding chain, in one run.

Contenders (one run of each per round, the order reversed every other round):
  * sw2-64 / sw2-1500   one switch, 2 ports: `netring-pktgen -f tx` on vale0:a sends unicast to the
                        MAC learned on vale0:b, `netring-pktgen -f rx` on vale0:b receives;
  * sw4-64 / sw4-1500   one switch, 4 ports, two pairs a -> b and c -> d at the same time;
  * chain-64 / chain-1500  the peer: shared/peers/05-dpdk-memif-fwd-chain.sh, 3 testpmd processes
                        (txonly -> memif -> io-forwarding testpmd -> memif -> rxonly), its defaults
                        (forwarder alone on CPU 0, clients share CPU 1, 16384 slots, io retry).
Every netring run starts its own netringd (`allow * *`, `default_slots` = --slots) on a socket in a
temp dir, makes the switch and its ports persistent with netring-switch (so the port set, and with
it the forwarding thread, does not change while traffic runs, and the counters outlive the
clients), teaches the switch the receivers' MACs with one frame each, then runs the pairs.
Measured per netring run:
  mpps          delivered at the receiver (its pktgen JSON: first to last frame), summed over pairs
  lost          frames sent but never received (seq_gaps: the receivers' sequence gaps)
  drops         the switch's drop counter (a destination that stayed full for 20 ms)
  ns_per_frame  netringd's utime+stime (all threads, /proc/PID/stat) from just before the senders
                start to after every client ended, divided by the frames the switch forwarded
                (the destination ports' tx_packets from `netring-switch list --json`)
  foreign_cpu   cores used meanwhile by anything that is not this benchmark (other load)
Every measurement prints one JSON line; the last line is the summary (medians, ratios, targets:
netring/chain >= 1.5 at 64 B, daemon <= 60 ns per frame).

--explore instead runs the arrangement matrix (slots x wait x pinning x worker_spin) at 64 B.

usage: switch_bench.py [--rounds 5] [--secs 5] [--slots 16384] [--wait poll] [--pin 1,1,0]
                       [--pin4 1,1,0] [--spin N] [--build DIR] [--no-peer] [--explore]
Runs as root; stops its netringd and clients by PID.
"""
import argparse
import datetime
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import PEERS, ROOT, emit, last_json

CLK_TCK = os.sysconf("SC_CLK_TCK")
MAC = {p: "02:00:00:00:5b:%02x" % (10 + i) for i, p in enumerate("abcd")}


def find_build(explicit):
    """--build, else the first of build/, build-release/ that has every binary this needs."""
    need = ("daemon/netringd", "tools/netring-pktgen", "tools/netring-switch")
    cands = [explicit] if explicit else [os.path.join(ROOT, d) for d in ("build", "build-release")]
    for c in cands:
        if all(os.access(os.path.join(c, n), os.X_OK) for n in need):
            return os.path.abspath(c)
    sys.exit("switch_bench: no build dir with %s among %s (build first, or pass --build)" % (", ".join(need), cands))


def busy_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]  # user nice system irq softirq steal


def wait_quiet(max_wait, threshold=0.2):
    """Waits (at most max_wait s) for the machine to idle; returns the last busy level in cores."""
    t0 = time.monotonic()
    while True:
        b0 = busy_jiffies()
        time.sleep(0.5)
        busy = (busy_jiffies() - b0) / CLK_TCK / 0.5
        if busy < threshold or time.monotonic() - t0 >= max_wait:
            return round(busy, 2)


def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def taskset(cpu):
    return [] if cpu == "f" else ["taskset", "-c", cpu]


class Daemon:
    """A private netringd with one persistent switch vale0 and the given persistent ports."""

    def __init__(self, build, slots, cpu, spin, ports):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="netring-swbench-")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "sock")
        conf = os.path.join(self.dir, "netringd.conf")
        with open(conf, "w") as f:
            f.write("allow * *\nmax_slots 16384\ndefault_slots %d\n" % slots)
            if spin is not None:
                f.write("worker_spin %d\n" % spin)
        self.log = open(os.path.join(self.dir, "netringd.log"), "w")
        self.proc = subprocess.Popen(taskset(cpu) + [os.path.join(build, "daemon", "netringd"), "--socket", self.sock,
                                                     "--config", conf], stderr=self.log)
        for _ in range(200):
            if os.path.exists(self.sock):
                break
            time.sleep(0.02)
        else:
            self.stop()
            raise RuntimeError("netringd did not start")
        self.switch("create", "vale0")
        for p in ports:
            self.switch("add", "vale0:" + p)

    def switch(self, *args):
        exe = os.path.join(self.build, "tools", "netring-switch")
        r = subprocess.run([exe, "--socket", self.sock] + list(args), capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            raise RuntimeError("netring-switch %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def ports(self):
        sw = json.loads(self.switch("list", "--json"))["switches"]
        return {p["name"]: p for s in sw if s["name"] == "vale0" for p in s["ports"]}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def pktgen(d, cpu, args):
    exe = os.path.join(d.build, "tools", "netring-pktgen")
    return subprocess.Popen(taskset(cpu) + [exe, "--socket", d.sock, "--json", "--payload", "header"] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def run_quiet(p, timeout):
    out, _ = p.communicate(timeout=timeout)
    return last_json(out) or {}


def netring_run(build, pairs, length, secs, slots, wait, pin, spin):
    """pairs: [(src, dst)]. pin: 'rxcpu,txcpu,daemoncpu' ('f' = not pinned)."""
    rx_cpu, tx_cpu, d_cpu = pin.split(",")
    ports = sorted({p for pair in pairs for p in pair})
    d = Daemon(build, slots, d_cpu, spin, ports)
    procs = []
    try:
        common = ["--wait", wait, "--slots", str(slots), "-l", str(60 if length == 64 else length)]  # 64 B on the wire = 60 + FCS
        # Teach the switch where each receiver's MAC lives: one frame from it (it floods once).
        for _, dst in pairs:
            run_quiet(pktgen(d, "f", ["-i", "vale0:" + dst, "-f", "tx", "-n", "1", "-S", MAC[dst]] + common), 20)
        # Frames the learning step left in receivers' rx rings (another receiver's learning frame).
        before = d.ports()
        for _, dst in pairs:
            stray = before[dst]["tx_packets"]
            if stray:
                run_quiet(pktgen(d, "f", ["-i", "vale0:" + dst, "-f", "rx", "-n", str(stray), "-T", "2"] + common), 20)
        busy = wait_quiet(3)
        rxs = [pktgen(d, rx_cpu, ["-i", "vale0:" + dst, "-f", "rx", "-T", str(secs + 1.5)] + common)
               for _, dst in pairs]
        procs += rxs
        time.sleep(0.3)
        before = d.ports()
        c0, k0, b0, t0 = proc_cpu_s(d.proc.pid), children_cpu_s(), busy_jiffies(), time.monotonic()
        txs = [pktgen(d, tx_cpu, ["-i", "vale0:" + src, "-f", "tx", "-T", str(secs), "-S", MAC[src], "-D", MAC[dst]]
                      + common) for src, dst in pairs]
        procs += txs
        tx_res = [run_quiet(p, secs + 30) for p in txs]
        rx_res = [run_quiet(p, secs + 30) for p in rxs]
        c1, k1, b1, t1 = proc_cpu_s(d.proc.pid), children_cpu_s(), busy_jiffies(), time.monotonic()
        after = d.ports()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        d.stop()
    fwd = sum(after[dst]["tx_packets"] - before[dst]["tx_packets"] for _, dst in pairs)
    drops = sum(after[p]["drops"] - before[p]["drops"] for p in ports)
    sent = sum(r.get("packets", 0) for r in tx_res)
    got = sum(r.get("packets", 0) for r in rx_res)
    daemon_s = c1 - c0
    wall = t1 - t0
    ours = daemon_s + (k1 - k0)
    return {"mpps": round(sum(r.get("mpps", 0) for r in rx_res), 3),
            "mpps_per_pair": [r.get("mpps") for r in rx_res],
            "tx_mpps": round(sum(r.get("mpps", 0) for r in tx_res), 3),
            "sent": sent, "received": got, "forwarded": fwd,
            "lost": max(0, sent - got), "seq_gaps": sum(r.get("lost", 0) for r in rx_res), "drops": drops,
            "corrupt": sum(r.get("corrupt", 0) for r in rx_res),
            "daemon_cpu_s": round(daemon_s, 2), "daemon_cores": round(daemon_s / wall, 2),
            "ns_per_frame": round(daemon_s * 1e9 / fwd, 1) if fwd else None,
            "foreign_cpu": round(max(0.0, (b1 - b0) / CLK_TCK - ours) / wall, 2), "busy_before": busy,
            "ok": all(p.returncode == 0 for p in procs)}


def chain_run(secs):
    """One run of the peer script (64 B and 1500 B); returns {64: rec, 1500: rec}."""
    env = dict(os.environ, DUR=str(secs), QUIET_WAIT="3")
    r = subprocess.run(["bash", os.path.join(PEERS, "05-dpdk-memif-fwd-chain.sh")], capture_output=True, text=True,
                       env=env, timeout=600)
    out = {}
    for line in r.stdout.splitlines():
        # dpdk-memif-fwd-chain-64B-b32: 4.04 Mpps (... ; other-cpu ...)
        if not line.startswith("dpdk-memif-fwd-chain-"):
            continue
        tag, _, rest = line.partition(": ")
        size = int(tag.split("-")[4].rstrip("B"))
        words = rest.split()
        mpps = float(words[0]) if words and words[1:2] == ["Mpps"] else None
        out[size] = {"mpps": mpps, "peer_line": line}
    return out


def measure(name, rnd, fn, *a):
    t0 = time.time()
    res = fn(*a)
    rec = {"bench": name, "round": rnd, "loadavg": float(open("/proc/loadavg").read().split()[0]),
           "t": round(t0, 1)}
    rec.update(res)
    emit(rec)
    return rec


def summarize(records, args):
    groups = {}
    for r in records:
        for k in ("mpps", "ns_per_frame", "lost", "drops"):
            if r.get(k) is not None:
                groups.setdefault((r["bench"], k), []).append(r[k])
    med = {"%s|%s" % k: round(statistics.median(v), 3) for k, v in groups.items()}

    def m(b, k="mpps"):
        return med.get("%s|%s" % (b, k))
    ratios = {}
    for size in (64, 1500):
        for sw in ("sw2", "sw4"):
            a, b = m("%s-%d" % (sw, size)), m("chain-%d" % size)
            if a and b:
                ratios["%s-%d_vs_chain" % (sw, size)] = round(a / b, 2)
    ns = [v for k, v in med.items() if k.endswith("|ns_per_frame") and k.split("|")[0].endswith("-64")]
    targets = {"ratio_64_ge_1.5": (ratios.get("sw2-64_vs_chain") or 0) >= 1.5,
               "ns_per_frame_64_le_60": bool(ns) and max(ns) <= 60}
    total_lost = sum(r.get("lost") or 0 for r in records if r["bench"].startswith("sw"))
    return {"summary": True, "rounds": args.rounds, "secs": args.secs, "slots": args.slots, "wait": args.wait,
            "pin": args.pin, "pin4": args.pin4, "worker_spin": args.spin, "medians": med, "ratios": ratios,
            "targets": targets, "total_lost": total_lost,
            "n": {"%s|%s" % k: len(v) for k, v in groups.items() if k[1] == "mpps"}}


def explore(args):
    """Single runs of each arrangement at 64 B (rounds = repetitions)."""
    two, four = [("a", "b")], [("a", "b"), ("c", "d")]
    cfgs = []
    for slots in (4096, 16384):
        for wait in ("poll", "busy"):
            for pin in ("0,1,f", "0,1,0", "0,1,1", "1,1,0", "f,f,f"):
                cfgs.append(("sw2", two, slots, wait, pin, None))
    for spin in (0, 100000):
        cfgs.append(("sw2", two, 16384, "poll", "0,1,f", spin))
    for wait in ("poll", "busy"):
        for pin in ("0,1,f", "0,1,0", "1,1,0", "f,f,f"):
            cfgs.append(("sw4", four, 16384, wait, pin, None))
    for rnd in range(args.rounds):
        for kind, pairs, slots, wait, pin, spin in cfgs:
            name = "explore-%s-64-N%d-%s-pin%s%s" % (kind, slots, wait, pin.replace(",", ""),
                                                     "" if spin is None else "-spin%d" % spin)
            measure(name, rnd, netring_run, args.build, pairs, 64, args.secs, slots, wait, pin, spin)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=float, default=5)
    ap.add_argument("--slots", type=int, default=16384)
    ap.add_argument("--wait", default="poll", choices=("poll", "busy"))
    ap.add_argument("--pin", default="1,1,0", help="2 ports: CPU of rx client, tx client, netringd (f = float)")
    ap.add_argument("--pin4", default="1,1,0", help="4 ports: CPU of both rx clients, both tx clients, netringd")
    ap.add_argument("--spin", type=int, default=None, help="netringd worker_spin (default: netringd's)")
    ap.add_argument("--build", default=None)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--explore", action="store_true", help="the arrangement matrix at 64 B instead")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("switch_bench.py: run as root")
    args.build = find_build(args.build)
    emit({"config": True, "build": args.build, "date": datetime.date.today().isoformat(),
          "argv": sys.argv[1:], "cpus": os.cpu_count(), "kernel": os.uname().release})
    if args.explore:
        explore(args)
        return
    two, four = [("a", "b")], [("a", "b"), ("c", "d")]
    runs = [("sw2-64", lambda: netring_run(args.build, two, 64, args.secs, args.slots, args.wait, args.pin, args.spin)),
            ("sw2-1500", lambda: netring_run(args.build, two, 1500, args.secs, args.slots, args.wait, args.pin,
                                             args.spin)),
            ("sw4-64", lambda: netring_run(args.build, four, 64, args.secs, args.slots, args.wait, args.pin4,
                                           args.spin)),
            ("sw4-1500", lambda: netring_run(args.build, four, 1500, args.secs, args.slots, args.wait, args.pin4,
                                             args.spin))]
    records = []
    for rnd in range(args.rounds):
        order = list(runs) if rnd % 2 == 0 else list(reversed(runs))
        # netring half, peer, netring half: every peer run sits between netring runs
        half = len(order) // 2
        seq = order[:half] + ([("chain", None)] if not args.no_peer else []) + order[half:]
        for name, fn in seq:
            if fn is not None:
                records.append(measure(name, rnd, fn))
                continue
            t0 = time.time()
            for size, res in sorted(chain_run(args.secs).items()):
                rec = {"bench": "chain-%d" % size, "round": rnd, "t": round(t0, 1),
                       "loadavg": float(open("/proc/loadavg").read().split()[0])}
                rec.update(res)
                emit(rec)
                records.append(rec)
    emit(summarize(records, args))


if __name__ == "__main__":
    main()
