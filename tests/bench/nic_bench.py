#!/usr/bin/env python3
"""NIC benchmark: netring's AF_XDP port on a veth pair against plain AF_XDP and DPDK, in one run.

Two network namespaces hold the two ends of one veth pair: TXNS has veth A (the sending side),
RXNS has veth B (the receiving side). Nothing else is on the link; both namespaces have IPv6 off.

RX (the receiver differs, the sender is always the same `xsk_min -f tx` on A, pinned to the tx CPU):
  * xsk_min      `xsk_min -f rx` on B, pinned to the rx CPU
  * netring-*    netringd (in RXNS, bound to B) + `netring-pktgen -f rx -i netmap:B`; the worker
                 (netringd's threads) and the client are pinned as the configuration says
  * dpdk_af_xdp  testpmd rxonly with the af_xdp PMD on B, forwarding lcore on the rx CPU
  The rate is the receiver's own count: xsk_min and pktgen from their first to their last packet,
  testpmd from two of its periodic port-statistics blocks inside the sender's active window.
  pktgen and testpmd see xsk_min's frames as foreign (pktgen counts them as `corrupt`, and still
  counts them as received); only the rate is taken from them.
TX (the sender differs, the counter is always the same: the kernel's rx_packets of B, no program
  and no socket on B, over a fixed window after a warm-up):
  * xsk_min      `xsk_min -f tx` on A, pinned to the tx CPU
  * netring-*    netringd (in TXNS, bound to A) + `netring-pktgen -f tx -i netmap:A`
  * dpdk_af_xdp  testpmd txonly with the af_xdp PMD on A, forwarding lcore on the tx CPU

TX, --interleave (for a noisy host): every contender gets its own veth pair (A_k in TXNS, B_k in
  RXNS, the same kind of pair for all) and is started once per frame size; all but one are held
  stopped (SIGSTOP) at any time. A round resumes each contender in turn (SIGCONT), lets it run
  --warm seconds, counts rx_packets of its B_k over --secs, and stops it again. Setting up a
  contender costs seconds, a round only (warm + secs) per contender, so many short, closely paired
  rounds fit where a few long ones did: the host's slow phases then hit every contender alike.

Every measurement prints one JSON line (mode, contender, len, mpps, ns_per_packet, round, ...);
rounds alternate the contenders; the last line is a summary with medians and the ratios
netring/xsk_min and netring/dpdk_af_xdp (netring = the best netring configuration by median).

Before/after: --build-b DIR adds, for every netring configuration CFG, a contender CFG#b that runs
  DIR's netringd and netring-pktgen (CFG runs --build's), in the same rounds; the summary then
  gives the paired ratio CFG#b / CFG.

usage: nic_bench.py [--rounds 3] [--secs 4] [--sizes 64,1500] [--build DIR] [--build-b DIR] [--configs LIST]
                    [--no-dpdk] [--modes rx,tx] [--interleave [--warm 0.3] [--rx-rounds N] [--rx-secs S]]
Runs as root. Creates nrt<pid>tx / nrt<pid>rx and veth nrt<pid>a / nrt<pid>b (with --interleave
nrt<pid>a<k> / nrt<pid>b<k>), and removes them,
its netringd instances and every process it started (by PID) on exit, also on Ctrl-C/SIGTERM.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time

from benchlib import ROOT, emit, ensure_dpdk, last_json, log

RX_CPU, TX_CPU = 0, 1

# netring configurations: (name, worker cpu side, client cpu side, wait, worker_spin).
# "own": the contender's CPU (rx CPU for RX, tx CPU for TX); "other": the opposite one.
# netringd is started under taskset, so its worker thread inherits the daemon's CPU (one NUMA node
# here: the worker's node placement is a no-op).
CONFIGS = {
    "netring-split-busy": ("other", "own", "busy", None),
    "netring-split-poll": ("other", "own", "poll", None),
    "netring-same-poll": ("own", "own", "poll", None),
    "netring-same-busy": ("own", "own", "busy", None),
    "netring-same-poll-spin0": ("own", "own", "poll", 0),
    "netring-same-poll-spin100k": ("own", "own", "poll", 100000),
    "netring-rsplit-busy": ("own", "other", "busy", None),
    "netring-rsplit-poll": ("own", "other", "poll", None),
}
DEFAULT_CONFIGS = "netring-same-poll@spin0@512,netring-same-poll,netring-split-busy"


def config_of(name):
    """(worker side, client side, wait, worker_spin, pktgen args) of a configuration name. A name
    may end in @SLOTS (the ring size the client asks for) and @spinN (pktgen --spin N: the empty
    checks its waits make before sleeping), e.g. netring-same-poll@spin0@4096."""
    base, *opts = name.removesuffix("#b").split("@")
    extra = []
    for opt in opts:
        if opt.isdigit():
            extra += ["--slots", opt]
        elif opt.startswith("spin") and opt[4:].isdigit():
            extra += ["--spin", opt[4:]]
        else:
            base = None
    if base not in CONFIGS:
        raise SystemExit("nic_bench: unknown configuration " + name)
    return CONFIGS[base] + (extra,)


class Bench:
    def __init__(self, args):
        self.args = args
        tag = "nrt%d" % os.getpid()
        self.txns, self.rxns = tag + "tx", tag + "rx"
        self.a, self.b = tag + "a", tag + "b"
        self.procs = []  # every Popen we start; stopped by PID
        self.sids = set()  # their session ids: their CPU time is ours, not foreign load
        self.made_ns = []
        self.pairs = [(self.a, self.b)]  # every veth pair made: (end in TXNS, end in RXNS)
        self.dirs = []
        self.xsk_min = os.path.join(args.build, "tests", "bench", "xsk_min")
        self.netringd = os.path.join(args.build, "daemon", "netringd")
        self.pktgen = os.path.join(args.build, "tools", "netring-pktgen")
        self.netringd_b = os.path.join(args.build_b or args.build, "daemon", "netringd")
        self.pktgen_b = os.path.join(args.build_b or args.build, "tools", "netring-pktgen")
        for exe in (self.xsk_min, self.netringd, self.pktgen, self.netringd_b, self.pktgen_b):
            if not os.access(exe, os.X_OK):
                raise SystemExit("nic_bench: %s missing; build first" % exe)
        if not args.no_dpdk:
            ensure_dpdk()

    # ---- set-up and clean-up -------------------------------------------------------------
    def sh(self, *argv, check=True):
        return subprocess.run(list(argv), check=check, capture_output=True, text=True)

    def setup(self):
        for ns in (self.txns, self.rxns):
            self.sh("ip", "netns", "add", ns)
            self.made_ns.append(ns)
            self.sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1")
            self.sh("ip", "-n", ns, "link", "set", "lo", "up")
        self.sh("ip", "link", "add", self.a, "netns", self.txns, "type", "veth", "peer", "name", self.b,
                "netns", self.rxns)
        self.sh("ip", "-n", self.txns, "link", "set", self.a, "up")
        self.sh("ip", "-n", self.rxns, "link", "set", self.b, "up")

    def add_pair(self, k):
        a, b = "%s%d" % (self.a, k), "%s%d" % (self.b, k)
        self.sh("ip", "link", "add", a, "netns", self.txns, "type", "veth", "peer", "name", b, "netns", self.rxns)
        self.pairs.append((a, b))
        self.sh("ip", "-n", self.txns, "link", "set", a, "up")
        self.sh("ip", "-n", self.rxns, "link", "set", b, "up")
        return a, b

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append(p)
        self.sids.add(p.pid)
        return p

    def stop(self, p, sig=signal.SIGTERM, grace=8.0):
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)  # a held (stopped) process acts on sig only once resumed
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=5)
        if p in self.procs:
            self.procs.remove(p)

    def xdp_off(self):
        for a, b in self.pairs:
            for ns, dev in ((self.txns, a), (self.rxns, b)):
                self.sh("ip", "-n", ns, "link", "set", "dev", dev, "xdp", "off", check=False)

    def cleanup(self):
        for p in list(self.procs):
            self.stop(p, grace=3.0)
        for ns in self.made_ns:
            self.xdp_off()
            self.sh("ip", "netns", "del", ns, check=False)
        self.made_ns = []
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        for d in os.listdir("/var/run/dpdk") if os.path.isdir("/var/run/dpdk") else []:
            if d.startswith("nrt%d" % os.getpid()):
                shutil.rmtree(os.path.join("/var/run/dpdk", d), ignore_errors=True)

    # ---- helpers -------------------------------------------------------------------------
    def rx_packets_b(self, dev=None):
        out = self.sh("ip", "-n", self.rxns, "-s", "-j", "link", "show", dev or self.b).stdout
        return json.loads(out)[0]["stats64"]["rx"]["packets"]

    def has_xdp(self, ns, dev):
        return "prog/xdp" in self.sh("ip", "-n", ns, "link", "show", "dev", dev).stdout

    def wait_xdp(self, ns, dev, proc, timeout=15.0):
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            if self.has_xdp(ns, dev):
                return True
            if proc is not None and proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def bins(self, cfg):
        """netringd and netring-pktgen of a configuration: --build-b's for CFG#b."""
        return (self.netringd_b, self.pktgen_b) if cfg.endswith("#b") else (self.netringd, self.pktgen)

    def daemon(self, ns, cpu, spin, netringd):
        d = tempfile.mkdtemp(prefix="nrt-nicbench-")
        os.chmod(d, 0o755)
        self.dirs.append(d)
        conf = os.path.join(d, "netringd.conf")
        with open(conf, "w") as f:
            f.write("allow * *\n")
            if spin is not None:
                f.write("worker_spin %d\n" % spin)
        sock = os.path.join(d, "sock")
        logf = open(os.path.join(d, "netringd.log"), "w")
        p = self.start(["ip", "netns", "exec", ns, "taskset", "-c", str(cpu), netringd, "--socket", sock,
                        "--config", conf], stderr=logf, stdout=logf)
        for _ in range(200):
            if os.path.exists(sock):
                return p, sock, d
            if p.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("netringd did not start; log in " + d)

    def sender_xsk_min(self, length, secs):
        return self.start(["ip", "netns", "exec", self.txns, "taskset", "-c", str(TX_CPU), self.xsk_min, "-i",
                           self.a, "-f", "tx", "-l", str(length), "-T", str(secs), "--json"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def testpmd(self, ns, dev, fwd_cpu, fwd, length=None, tag=""):
        other = 1 - fwd_cpu
        argv = ["ip", "netns", "exec", ns, "stdbuf", "-oL", "dpdk-testpmd", "-l", "0,1", "--main-lcore",
                str(other), "--no-pci", "--no-huge", "-m", "512", "--file-prefix",
                "nrt%d%s%s" % (os.getpid(), fwd, tag), "--proc-type", "primary",
                "--vdev=net_af_xdp0,iface=%s,start_queue=0,queue_count=1" % dev, "--",
                "--forward-mode=" + fwd, "--burst=%d" % self.args.dpdk_burst, "--stats-period=1",
                "--nb-cores=1", "--total-num-mbufs=16384", "--disable-link-check", "--port-topology=loop"]
        if length:
            argv.append("--txpkts=%d" % length)
        p = self.start(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       text=True)
        p.samples = []  # (monotonic time, RX-packets) per statistics block
        p.text = []

        def reader():
            for line in p.stdout:
                p.text.append(line)
                m = re.search(r"RX-packets:\s+(\d+)", line)
                if m:
                    p.samples.append((time.monotonic(), int(m.group(1))))

        p.reader = threading.Thread(target=reader, daemon=True)
        p.reader.start()
        return p

    # ---- RX ------------------------------------------------------------------------------
    def rx_xsk_min(self, length, secs):
        rx = self.start(["ip", "netns", "exec", self.rxns, "taskset", "-c", str(RX_CPU), self.xsk_min, "-i",
                         self.b, "-f", "rx", "-l", str(length), "-T", str(secs), "--json"],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if not self.wait_xdp(self.rxns, self.b, rx):
            self.stop(rx)
            return {"error": "xsk_min rx did not attach"}
        tx = self.sender_xsk_min(length, secs)
        tx.communicate(timeout=secs + 30)
        out, _ = rx.communicate(timeout=secs + 30)
        self.procs = [p for p in self.procs if p not in (rx, tx)]
        r = last_json(out) or {}
        return {"mpps": r.get("mpps"), "lost": r.get("lost"), "corrupt": r.get("corrupt")}

    def rx_netring(self, cfg, length, secs):
        wside, cside, wait, spin, extra = config_of(cfg)
        wcpu = RX_CPU if wside == "own" else TX_CPU
        ccpu = RX_CPU if cside == "own" else TX_CPU
        netringd, pktgen = self.bins(cfg)
        d, sock, _ = self.daemon(self.rxns, wcpu, spin, netringd)
        rx = self.start(["taskset", "-c", str(ccpu), pktgen, "--socket", sock, "-i", "netmap:" + self.b, "-f",
                         "rx", "-l", str(length), "-b", str(self.args.batch), "-T", str(secs + 4), "--payload",
                         "header", "--wait", wait, "--json"] + extra, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                        text=True)
        try:
            if not self.wait_xdp(self.rxns, self.b, rx):
                return {"error": "netringd did not attach to " + self.b}
            time.sleep(0.2)
            tx = self.sender_xsk_min(length, secs)
            tx.communicate(timeout=secs + 30)
            self.procs.remove(tx)
            out, _ = rx.communicate(timeout=secs + 30)
            self.procs.remove(rx)
            r = last_json(out) or {}
            return {"mpps": r.get("mpps"), "foreign_frames": r.get("corrupt"), "worker_cpu": wcpu,
                    "client_cpu": ccpu, "wait": wait, "worker_spin": spin if spin is not None else "default"}
        finally:
            if rx.poll() is None:
                self.stop(rx)
            self.stop(d)

    def rx_dpdk(self, length, secs):
        rx = self.testpmd(self.rxns, self.b, RX_CPU, "rxonly")
        try:
            if not self.wait_xdp(self.rxns, self.b, rx, timeout=30):
                return {"error": "testpmd did not attach; " + "".join(rx.text[-5:])}
            time.sleep(1.0)
            t0 = time.monotonic()
            tx = self.sender_xsk_min(length, secs)
            tx.communicate(timeout=secs + 30)
            t1 = time.monotonic()
            self.procs.remove(tx)
            time.sleep(0.2)
            # Two statistics blocks inside the sender's window (skip its first 0.5 s).
            inside = [s for s in rx.samples if t0 + 0.5 <= s[0] <= t1]
            if len(inside) < 2:
                return {"error": "too few testpmd samples (%d)" % len(inside)}
            (ta, pa), (tb, pb) = inside[0], inside[-1]
            return {"mpps": (pb - pa) / (tb - ta) / 1e6, "window_s": round(tb - ta, 3)}
        finally:
            self.stop(rx, sig=signal.SIGINT)
            self.xdp_off()

    # ---- TX ------------------------------------------------------------------------------
    def window_rate(self, proc, secs):
        """Kernel rx_packets of B over `secs` after a 1 s warm-up; None if proc died."""
        time.sleep(1.0)
        c0, t0 = self.rx_packets_b(), time.monotonic()
        time.sleep(secs)
        c1, t1 = self.rx_packets_b(), time.monotonic()
        if proc.poll() is not None:
            return None
        return (c1 - c0) / (t1 - t0) / 1e6

    def wait_moving(self, proc, timeout=30.0, dev=None):
        c0 = self.rx_packets_b(dev)
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end and proc.poll() is None:
            time.sleep(0.1)
            if self.rx_packets_b(dev) - c0 > 1000:
                return True
        return False

    def tx_xsk_min(self, length, secs):
        tx = self.start(["ip", "netns", "exec", self.txns, "taskset", "-c", str(TX_CPU), self.xsk_min, "-i",
                         self.a, "-f", "tx", "-l", str(length), "-T", str(secs + 3), "--json"],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            if not self.wait_moving(tx):
                return {"error": "xsk_min tx sent nothing"}
            return {"mpps": self.window_rate(tx, secs)}
        finally:
            self.stop(tx)

    def tx_netring(self, cfg, length, secs):
        wside, cside, wait, spin, extra = config_of(cfg)
        wcpu = TX_CPU if wside == "own" else RX_CPU
        ccpu = TX_CPU if cside == "own" else RX_CPU
        netringd, pktgen = self.bins(cfg)
        d, sock, _ = self.daemon(self.txns, wcpu, spin, netringd)
        tx = self.start(["taskset", "-c", str(ccpu), pktgen, "--socket", sock, "-i", "netmap:" + self.a, "-f",
                         "tx", "-l", str(length), "-b", str(self.args.batch), "-T", str(secs + 4), "--payload",
                         "header", "--wait", wait, "--json"] + extra, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                        text=True)
        try:
            if not self.wait_moving(tx):
                return {"error": "netring-pktgen tx sent nothing"}
            return {"mpps": self.window_rate(tx, secs), "worker_cpu": wcpu, "client_cpu": ccpu, "wait": wait,
                    "worker_spin": spin if spin is not None else "default"}
        finally:
            self.stop(tx)
            self.stop(d)

    def tx_dpdk(self, length, secs):
        tx = self.testpmd(self.txns, self.a, TX_CPU, "txonly", length)
        try:
            if not self.wait_moving(tx, timeout=40):
                return {"error": "testpmd txonly sent nothing; " + "".join(tx.text[-5:])}
            return {"mpps": self.window_rate(tx, secs)}
        finally:
            self.stop(tx, sig=signal.SIGINT)
            self.xdp_off()

    # ---- TX, interleaved -------------------------------------------------------------------
    def start_tx_contender(self, cont, a, length, run_s):
        """Starts `cont` sending on `a`; the processes to hold and resume, in resume order."""
        if cont == "xsk_min":
            return [self.start(["ip", "netns", "exec", self.txns, "taskset", "-c", str(TX_CPU), self.xsk_min, "-i",
                                a, "-f", "tx", "-l", str(length), "-T", str(run_s)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        if cont == "dpdk_af_xdp":
            return [self.testpmd(self.txns, a, TX_CPU, "txonly", length, tag=a)]
        wside, cside, wait, spin, extra = config_of(cont)
        wcpu = TX_CPU if wside == "own" else RX_CPU
        ccpu = TX_CPU if cside == "own" else RX_CPU
        netringd, pktgen = self.bins(cont)
        d, sock, _ = self.daemon(self.txns, wcpu, spin, netringd)
        tx = self.start(["taskset", "-c", str(ccpu), pktgen, "--socket", sock, "-i", "netmap:" + a, "-f", "tx",
                         "-l", str(length), "-b", str(self.args.batch), "-T", str(run_s), "--payload", "header",
                         "--wait", wait] + extra, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return [d, tx]

    @staticmethod
    def signal_all(procs, sig):
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, sig)

    def stop_contender(self, cont, procs):
        """Ends a contender's processes, client before daemon (testpmd wants SIGINT to clean up)."""
        for p in reversed(procs):
            self.stop(p, sig=signal.SIGINT if cont == "dpdk_af_xdp" else signal.SIGTERM)

    def tx_interleaved(self, contenders, length, rounds, secs, warm, emit_rec):
        """Every contender on its own veth pair, started once and held stopped but while measured."""
        run_s = rounds * len(contenders) * (secs + warm + 1.0) + 120
        held = {}
        try:
            for cont in contenders:
                a, b = self.add_pair(len(self.pairs))
                procs = self.start_tx_contender(cont, a, length, run_s)
                if not self.wait_moving(procs[-1], timeout=40, dev=b):
                    self.stop_contender(cont, procs)
                    emit_rec({"mode": "tx", "contender": cont, "len": length, "round": 0,
                              "error": "sent nothing after start"})
                    continue
                self.signal_all(reversed(procs), signal.SIGSTOP)  # the client before its daemon
                held[cont] = (procs, b)
            for rnd in range(1, rounds + 1):
                names = list(held)
                k = (rnd - 1) % max(1, len(names))
                for cont in names[k:] + names[:k]:
                    procs, b = held[cont]
                    self.signal_all(procs, signal.SIGCONT)  # the daemon before its client
                    time.sleep(warm)
                    load0 = cpu_split(self.sids)
                    c0, t0 = self.rx_packets_b(b), time.monotonic()
                    time.sleep(secs)
                    c1, t1 = self.rx_packets_b(b), time.monotonic()
                    load1 = cpu_split(self.sids)
                    self.signal_all(reversed(procs), signal.SIGSTOP)
                    rec = {"mode": "tx", "contender": cont, "len": length, "round": rnd, "method": "interleaved"}
                    if any(p.poll() is not None for p in procs):
                        rec["error"] = "contender exited"
                        self.stop_contender(cont, held.pop(cont)[0])
                    else:
                        mpps = (c1 - c0) / (t1 - t0) / 1e6
                        rec["mpps"] = round(mpps, 4) if mpps else None
                        rec["ns_per_packet"] = round(1e3 / mpps, 1) if mpps else None
                    rec.update(load_fields(load0, load1, t1 - t0))
                    emit_rec(rec)
        finally:
            for cont, (procs, _) in held.items():
                self.stop_contender(cont, procs)
            self.xdp_off()

    def measure(self, mode, contender, length, secs):
        try:
            if contender == "xsk_min":
                return (self.rx_xsk_min if mode == "rx" else self.tx_xsk_min)(length, secs)
            if contender == "dpdk_af_xdp":
                return (self.rx_dpdk if mode == "rx" else self.tx_dpdk)(length, secs)
            return (self.rx_netring if mode == "rx" else self.tx_netring)(contender, length, secs)
        except (subprocess.TimeoutExpired, RuntimeError) as e:
            return {"error": str(e)}


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_split(our_sids):
    """(machine busy ticks, {pid: ticks} of user-space processes outside our sessions) right now."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    foreign = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # rest[3]: session id, rest[6]: flags (0x200000 kernel thread), rest[11]/[12]: utime/stime
        if int(rest[6]) & 0x00200000 or int(rest[3]) in our_sids or int(d) == os.getpid():
            continue
        foreign[int(d)] = int(rest[11]) + int(rest[12])
    return busy, foreign


def load_fields(before, after, dt):
    """foreign_cpu and machine_busy_cpu (cores) between two cpu_split() samples dt seconds apart."""
    (b0, f0), (b1, f1) = before, after
    other = sum(max(0, t - f0.get(pid, 0)) for pid, t in f1.items())
    return {"foreign_cpu": round(other / CLK_TCK / dt, 2), "machine_busy_cpu": round((b1 - b0) / CLK_TCK / dt, 2)}


def summarize(results, configs):
    summary = {"summary": True, "medians_mpps": {}, "ratios": {}, "targets": {"netring/xsk_min": 0.95,
                                                                              "netring/dpdk_af_xdp": 1.0}}
    keyed = {}
    for r in results:
        if r.get("mpps"):
            keyed.setdefault((r["mode"], r["len"], r["contender"]), []).append(r["mpps"])
    med = {k: statistics.median(v) for k, v in keyed.items()}
    for (mode, length, cont), v in sorted(med.items()):
        summary["medians_mpps"]["%s-%dB-%s" % (mode, length, cont)] = round(v, 4)
    for mode, length in sorted({(k[0], k[1]) for k in med}):
        nr = {c: med[(mode, length, c)] for c in configs if (mode, length, c) in med}
        if not nr:
            continue
        best = max(nr, key=nr.get)
        entry = {"netring_best": best, "netring_mpps": round(nr[best], 4)}
        for ref in ("xsk_min", "dpdk_af_xdp"):
            if (mode, length, ref) in med:
                entry["netring/" + ref] = round(nr[best] / med[(mode, length, ref)], 3)
            # Paired: the ratio within each round (the two ran minutes or, interleaved, seconds apart),
            # then the median and range of those ratios.
            by_round = {}
            for r in results:
                if r["mode"] == mode and r["len"] == length and r.get("mpps") and r["contender"] in (best, ref):
                    by_round.setdefault(r["round"], {})[r["contender"]] = r["mpps"]
            paired = sorted(v[best] / v[ref] for v in by_round.values() if best in v and ref in v)
            if paired:
                entry["paired netring/" + ref] = {"median": round(statistics.median(paired), 3),
                                                  "min": round(paired[0], 3), "max": round(paired[-1], 3),
                                                  "rounds": len(paired), "netring_ahead": sum(p > 1 for p in paired)}
        summary["ratios"]["%s-%dB" % (mode, length)] = entry
        # --build-b: each configuration against itself from the other build, paired by round.
        for cfg in (c for c in configs if not c.endswith("#b") and c + "#b" in configs):
            by_round = {}
            for r in results:
                if r["mode"] == mode and r["len"] == length and r.get("mpps") and r["contender"] in (cfg, cfg + "#b"):
                    by_round.setdefault(r["round"], {})[r["contender"]] = r["mpps"]
            paired = sorted(v[cfg + "#b"] / v[cfg] for v in by_round.values() if len(v) == 2)
            if paired:
                summary["ratios"]["%s-%dB b/a %s" % (mode, length, cfg)] = {
                    "median": round(statistics.median(paired), 3), "min": round(paired[0], 3),
                    "max": round(paired[-1], 3), "rounds": len(paired)}
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=float, default=4.0, help="measured seconds per run")
    ap.add_argument("--sizes", default="64,1500")
    ap.add_argument("--modes", default="rx,tx")
    ap.add_argument("--batch", type=int, default=256, help="netring-pktgen batch")
    ap.add_argument("--dpdk-burst", type=int, default=32)
    ap.add_argument("--configs", default=DEFAULT_CONFIGS, help="netring configurations: " + ",".join(CONFIGS))
    ap.add_argument("--no-dpdk", action="store_true")
    ap.add_argument("--interleave", action="store_true",
                    help="TX: every contender on its own veth pair, started once, resumed in turn per round")
    ap.add_argument("--warm", type=float, default=0.3, help="with --interleave: seconds run before counting")
    ap.add_argument("--rx-rounds", type=int, help="with --interleave: rounds of the RX runs (default --rounds)")
    ap.add_argument("--rx-secs", type=float, help="with --interleave: seconds per RX run (default --secs)")
    default_build = os.path.join(ROOT, "build")
    ap.add_argument("--build", default=default_build)
    ap.add_argument("--build-b", help="a second build: every configuration also runs as CFG#b from it")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("nic_bench: needs root (netns, veth, XDP)")
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        config_of(c)
    if args.build_b:
        configs += [c + "#b" for c in configs]
    contenders = ["xsk_min"] + configs + ([] if args.no_dpdk else ["dpdk_af_xdp"])
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = [m for m in args.modes.split(",") if m]

    bench = Bench(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    results = []
    try:
        bench.setup()
        log("%s, %d vCPUs, kernel %s; rx cpu %d, tx cpu %d; %s s per run; veth %s/%s" % (
            open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].split("\n")[0].strip(),
            os.cpu_count(), os.uname().release, RX_CPU, TX_CPU, args.secs, bench.a, bench.b))
        def keep(rec):
            emit(rec)
            results.append(rec)

        if args.interleave and "tx" in modes:
            modes = [m for m in modes if m != "tx"]
            for length in sizes:
                bench.tx_interleaved(contenders, length, args.rounds, args.secs, args.warm, keep)
        rounds, secs = args.rounds, args.secs
        if args.interleave:  # what is left is RX, measured one contender start at a time
            rounds, secs = args.rx_rounds or rounds, args.rx_secs or secs
        for rnd in range(1, rounds + 1):
            # Alternate: every contender once per (mode, size), in an order rotated every round.
            for mode in modes:
                for length in sizes:
                    k = (rnd - 1) % len(contenders)
                    for cont in contenders[k:] + contenders[:k]:
                        t0, load0 = time.monotonic(), cpu_split(bench.sids)
                        res = bench.measure(mode, cont, length, secs)
                        # Processes that come and go (a compiler) are missed by f1 - f0; machine
                        # busy time catches them, but includes our own and the kernel's work too.
                        dt, load1 = time.monotonic() - t0, cpu_split(bench.sids)
                        rec = {"mode": mode, "contender": cont, "len": length, "round": rnd}
                        mpps = res.pop("mpps", None)
                        rec["mpps"] = round(mpps, 4) if mpps else None
                        rec["ns_per_packet"] = round(1e3 / mpps, 1) if mpps else None
                        rec.update(res)
                        rec.update(load_fields(load0, load1, dt))
                        rec["loadavg"] = float(open("/proc/loadavg").read().split()[0])
                        keep(rec)
        emit(summarize(results, configs))
    except KeyboardInterrupt:
        log("interrupted")
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
