#!/usr/bin/env python3
"""Monitor benchmark: what watching a pipe costs the pipe, alternated in one run.

Every round measures a 64-byte pipe (netring-pktgen tx on netmap:mbK{1 pinned to CPU 1, rx on
netmap:mbK}1 pinned to CPU 0, batch 256, 1024 slots, --wait busy, --payload header, as
pipe_bench.py's paired pipe) in three cases, plus the bare shared-memory floor:
  * none:    nobody watches the pipe;
  * idle:    netring-dump watches what mbK{1 transmits (/t) but is stopped (SIGSTOP) as soon as it
             says it is watching: its 1024-slot ring fills, then the sender drops every copy;
  * reading: netring-dump -q -w /dev/null reads the monitor as fast as it can, pinned next to the
             receiver (--reader-cpu, default 0). netring-dump is the tool people watch ports with,
             its closing line counts captured and dropped copies exactly, and it waits as a
             capture does (spin, then sleep in poll(), 1 ms for a pipe's monitor). With 2 CPUs
             and both pipe processes spinning, a third process takes CPU time from one of them:
             while the reader runs, that end stalls, so does the pipe, so no copies come, so the
             reader sleeps again. It gets a small share and reads a few percent of the copies;
             this case measures that competition as much as the copies themselves. (A busy-waiting
             reader such as netring-pktgen -f rx --wait busy would take half of CPU 0 and halve
             the pipe: a measure of time slicing, not of monitoring.)
  * floor:   shared/peers/floor/ring with the same slots, batch and split pinning (--no-floor: off).
The sending process makes the copies in its txsync (rings::pipe_feed_monitors), so the monitor's
cost lands on the sender. Each measurement uses a pipe of its own (a fresh parent name, hence a
fresh region) and the case order rotates from round to round, so slow drift spreads over all
cases. The receiver must lose nothing; the monitor's captured and dropped counts come from
netring-dump's closing line (it leaves when the pipe goes, else on SIGINT; the stopped one gets
SIGCONT first and reads what its ring holds). Every measurement is one JSON line, tagged with the vCPU0<->vCPU1
cache-line round trip before and after it (this VM flips between a fast and a slow cross-core
mode, see shared/peers/README.md) and with the CPU time other processes used meanwhile. Before
each measurement the script waits (at most --idle-wait s) for the machine to go idle; one where
others still used more than ~8% of a CPU is marked contended. The last line is the summary:
medians and per-round ratios over all rounds, the same over the rounds with nothing contended
("quiet"), the CPU model and the commit.

usage: monitor_bench.py [--rounds 5] [--secs 2] [--build build] [--reader-cpu 0] [--no-floor]
                        [--idle-wait 15] [--quick]
Runs as root (netringd on a private socket, stopped by PID). Exits 1 when a measurement lost
frames or a tool failed.
"""
import argparse
import os
import re
import resource
import select
import signal
import statistics
import subprocess
import sys
import time

from benchlib import PEERS, ROOT, emit, last_json, log
from pipe_bench import PEER_BUILD, Daemon, c2c_ns, floor_ring, mode_of

CASES = ("none", "idle", "reading")
SIZE, BATCH, SLOTS = 64, 256, 1024
RX_CPU, TX_CPU = 0, 1
CLOSING = re.compile(r"netring-dump: (\d+) frames? captured, (\d+) dropped by the monitor, (\d+) filtered out")


def cpu_model():
    """The first CPU's model name, family and model (this VM's name alone says only "AMD EPYC")."""
    fields = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            if not line.strip():
                break
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    return "%s (family %s, model %s)" % (fields.get("model name"), fields.get("cpu family"), fields.get("model"))


def commit():
    git = ["git", "-C", ROOT]
    head = subprocess.run(git + ["rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True).stdout.strip()
    return head + ("-dirty" if dirty else "")


def busy_seconds():
    """CPU time the whole machine spent busy (not idle or iowait), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def process_seconds(pid):
    """User and system CPU time of a live (or not yet reaped) process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(limit_s):
    """Waits up to limit_s for the machine to go idle (others busy under 15% of a CPU for 0.5 s)."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        before = busy_seconds()
        time.sleep(0.5)
        if busy_seconds() - before < 0.075:
            break
    return round(time.monotonic() - start, 1)


def children_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class CpuWindow:
    """The CPU time used by everything but this benchmark's processes over a measurement."""

    def __init__(self, daemon_pid):
        self.daemon_pid = daemon_pid
        self.start = (busy_seconds(), children_seconds(), process_seconds(daemon_pid))

    def other_seconds(self):
        """Call after every process of the measurement has been waited for."""
        busy, ours, daemon = busy_seconds(), children_seconds(), process_seconds(self.daemon_pid) or 0
        return round((busy - self.start[0]) - (ours - self.start[1]) - (daemon - (self.start[2] or 0)), 3)


def tool(build, name):
    return os.path.join(build, "tools", name)


def pktgen(build, sock, cpu, args):
    return subprocess.Popen(["taskset", "-c", str(cpu), tool(build, "netring-pktgen"), "--socket", sock,
                             "--json"] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


class Dump:
    """netring-dump on a monitor, started and waited until it says it is watching."""

    def __init__(self, build, sock, port, cpu):
        self.proc = subprocess.Popen(["taskset", "-c", str(cpu), tool(build, "netring-dump"), "--socket",
                                      sock, "-i", port, "-q", "-w", "/dev/null"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.err = b""
        deadline = time.monotonic() + 10
        fd = self.proc.stderr.fileno()
        while b"watching" not in self.err:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.kill()
                raise RuntimeError("netring-dump did not start watching %s" % port)
            chunk = os.read(fd, 4096)
            if not chunk:
                self.proc.wait()
                raise RuntimeError("netring-dump on %s: %s" % (port, self.err.decode(errors="replace").strip()))
            self.err += chunk

    def stop(self):
        """SIGINT unless it has left already (the watched pipe went); (captured, dropped, filtered) or Nones."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, rest = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, None, None
        m = CLOSING.search((self.err + rest).decode(errors="replace"))
        return tuple(int(x) for x in m.groups()) if m else (None, None, None)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait()


PIPE_ID = [0]


def netring_case(build, daemon, secs, case, reader_cpu):
    PIPE_ID[0] += 1
    parent = "mb%d" % PIPE_ID[0]
    tx_end, rx_end = "netmap:%s{1" % parent, "netmap:%s}1" % parent
    common = ["-l", str(SIZE), "-b", str(BATCH), "--slots", str(SLOTS), "--sync", "shm", "--wait", "busy",
              "--payload", "header"]
    window = CpuWindow(daemon.proc.pid)
    rx = pktgen(build, daemon.sock, RX_CPU, ["-i", rx_end, "-f", "rx", "-T", str(secs + 1)] + common)
    time.sleep(0.2)
    dump = tx = None
    try:
        if case != "none":
            # What the sender transmits, copied by the sender itself in its txsync.
            dump = Dump(build, daemon.sock, tx_end + "/t", reader_cpu)
            if case == "idle":
                dump.proc.send_signal(signal.SIGSTOP)
        tx = pktgen(build, daemon.sock, TX_CPU, ["-i", tx_end, "-f", "tx", "-T", str(secs)] + common)
        tx_out, _ = tx.communicate(timeout=secs + 30)
        rx_out, _ = rx.communicate(timeout=secs + 30)
        captured = dropped = filtered = monitor_cpu = None
        if dump:
            monitor_cpu = process_seconds(dump.proc.pid)  # not reaped yet, even if it has left
            if case == "idle":
                dump.proc.send_signal(signal.SIGCONT)
            time.sleep(0.2)  # lets the monitor read what its ring still holds
            captured, dropped, filtered = dump.stop()
            dump = None
    finally:
        for p in (rx, tx):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        if dump:
            dump.kill()
    r = last_json(rx_out) or {}
    t = last_json(tx_out) or {}
    rec = {"mpps": r.get("mpps"), "ns_per_packet": r.get("ns_per_packet"), "monitor_captured": captured,
           "monitor_dropped": dropped, "lost": r.get("lost"), "corrupt": r.get("corrupt"),
           "rx_packets": r.get("packets"), "tx_packets": t.get("packets"), "rx_exit": rx.returncode,
           "tx_exit": tx.returncode}
    if case != "none":
        rec["monitor_filtered"] = filtered
        rec["monitor_cpu_s"] = monitor_cpu
        if None not in (captured, dropped, t.get("packets")):
            # Copies neither read nor dropped: still in the monitor ring when netring-dump stopped.
            rec["monitor_unaccounted"] = t["packets"] - captured - dropped
    rec["other_cpu_s"] = window.other_seconds()
    rec["ok"] = (rec["lost"] == 0 and rec["corrupt"] == 0 and rx.returncode == 0 and tx.returncode == 0 and
                 bool(rec["mpps"]) and rec["rx_packets"] == rec["tx_packets"] and
                 (case == "none" or captured is not None))
    return rec


def floor_case(daemon, secs):
    window = CpuWindow(daemon.proc.pid)
    res = floor_ring(secs, SLOTS, BATCH, SIZE)
    res["other_cpu_s"] = window.other_seconds()
    res["ok"] = bool(res.get("mpps"))
    return res


def measure(case, rnd, secs, idle_wait, fn, *a):
    waited = wait_idle(idle_wait)
    before = c2c_ns()
    res = fn(*a)
    after = c2c_ns()
    rec = {"case": case, "round": rnd}
    rec.update(res)
    rec.update({"c2c_before_ns": before, "c2c_after_ns": after, "mode": mode_of(before, after),
                "idle_wait_s": waited,
                # others used more than ~8% of a CPU over the measurement: the number is suspect
                "contended": rec["other_cpu_s"] > 0.1 * secs})
    emit(rec)
    return rec


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def medians_and_ratios(by, cases, rounds):
    """Per case the medians over `rounds`, and the medians of the per-round ratios (Mpps over Mpps:
    below 1, the first case is slower)."""
    out = {"cases": {}, "ratios": {}}
    for c in cases:
        good = [by[(c, n)] for n in rounds if (c, n) in by and by[(c, n)]["ok"]]
        out["cases"][c] = {"mpps": median(r.get("mpps") for r in good),
                           "ns_per_packet": median(r.get("ns_per_packet") for r in good), "n": len(good)}
        if c in ("idle", "reading"):
            out["cases"][c]["monitor_captured"] = median(r.get("monitor_captured") for r in good)
            out["cases"][c]["monitor_dropped"] = median(r.get("monitor_dropped") for r in good)
    pairs = [("idle", "none"), ("reading", "none")] + ([("none", "floor")] if "floor" in cases else [])
    for a, b in pairs:
        per_round = []
        for n in rounds:
            ra, rb = by.get((a, n)), by.get((b, n))
            if ra and rb and ra["ok"] and rb["ok"]:
                per_round.append(round(ra["mpps"] / rb["mpps"], 3))
        out["ratios"]["%s/%s" % (a, b)] = {"median": median(per_round), "per_round": per_round}
    return out


def summarize(records, cases, rounds, args):
    by = {(r["case"], r["round"]): r for r in records}
    out = {"summary": True, "rounds": rounds, "secs": args.secs, "frame": SIZE, "batch": BATCH, "slots": SLOTS,
           "wait": "busy", "reader": "netring-dump -q -w /dev/null", "reader_cpu": args.reader_cpu}
    out.update(medians_and_ratios(by, cases, range(rounds)))
    # The same over the rounds in which no measurement was contended: the numbers to quote.
    quiet = [n for n in range(rounds) if all((c, n) in by and not by[(c, n)]["contended"] for c in cases)]
    out["quiet"] = dict(rounds=quiet, **medians_and_ratios(by, cases, quiet))
    out["contended"] = sum(1 for r in records if r["contended"])
    out["modes"] = {c: [by[(c, n)]["mode"] for n in range(rounds) if (c, n) in by] for c in cases}
    out["failed"] = sum(1 for r in records if not r["ok"])
    out["cpu_model"] = cpu_model()
    out["cpus"] = os.cpu_count()
    out["commit"] = commit()
    return out


def main():
    ap = argparse.ArgumentParser(description="what monitoring costs a netring pipe")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=float, default=2)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reader-cpu", type=int, default=RX_CPU, help="CPU of the reading monitor (default 0)")
    ap.add_argument("--no-floor", action="store_true", help="skip the bare shared-memory floor")
    ap.add_argument("--idle-wait", type=float, default=15,
                    help="seconds to wait at most, before each measurement, for the machine to go idle")
    ap.add_argument("--quick", action="store_true", help="1 round of 1 s (smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.secs = 1, 1
    if os.geteuid() != 0:
        sys.exit("monitor_bench.py: run as root")
    args.build = os.path.abspath(args.build)
    cases = CASES + (() if args.no_floor else ("floor",))
    if not args.no_floor:
        # builds floor/ring (and pingpong) into /tmp/peers-build
        subprocess.run(["bash", os.path.join(PEERS, "06-floor-shm-handoff.sh")],
                       env=dict(os.environ, SECS="0.2", RUNS="1"), capture_output=True)
        if not os.access(os.path.join(PEER_BUILD, "floor", "ring"), os.X_OK):
            sys.exit("monitor_bench.py: the floor did not build (see shared/peers/06-floor-shm-handoff.sh)")
    subprocess.run(["bash", "-c", "source %s/common.sh; build_c2c" % PEERS], capture_output=True)
    log("load average before: " + open("/proc/loadavg").read().strip())
    records = []
    daemon = Daemon(args.build)
    try:
        for rnd in range(args.rounds):
            k = rnd % len(cases)
            for case in cases[k:] + cases[:k]:
                if case == "floor":
                    records.append(measure(case, rnd, args.secs, args.idle_wait, floor_case, daemon, args.secs))
                else:
                    records.append(measure(case, rnd, args.secs, args.idle_wait, netring_case, args.build, daemon,
                                           args.secs, case, args.reader_cpu))
    finally:
        daemon.stop()
    emit(summarize(records, cases, args.rounds, args))
    return 0 if all(r["ok"] for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
