#!/usr/bin/env python3
"""Soak test: one netringd for minutes under checked traffic and seeded chaos.

Objective: netringd keeps every legitimate flow whole (no frame lost, damaged or repeated) while
other clients are killed, write garbage into their rings and flood it up to their quotas; it
survives a restart; and it ends as it started: the same descriptors and threads, every buffer back
in its region, RSS within 8 MiB.

Steps:
  1. A temp dir with netringd's socket and configuration (CONFIG below: `*` may use netmap:* and
     vale*, small per-uid quotas, idle_timeout_s 5, nic_mode afxdp, admin gid=0); a veth pair,
     nrsoak0 in the root namespace (netringd's NIC port netmap:nrsoak0), nrsoak1 in nrsoak-ns.
  2. netringd starts; the persistent switch vale0 gets ports a and b; a warm-up runs every flow for
     3 s; once no client is left, the daemon is sampled: descriptors (/proc/PID/fd), threads
     (/proc/PID/task), VmRSS, and free buffers per region (netring-ctl status --json).
  3. For --minutes, four checked flows run as uid 65534 (soak_flows.py): two pipes, one switch
     pair on vale0, and the NIC (pktgen tx on netmap:nrsoak0, nic_peer capture at the peer).
     Each run is paced and sized to end when the time is up.
  4. Meanwhile, at times drawn from random.Random(--seed) (soak_chaos.py):
       kill     SIGKILL one end of a flow (a process this script started, by PID); the run is
                disturbed and the flow starts a new run
       hog      quota_hog connections|idle|registrations|regions as uid 65530..65532, held a few
                seconds: connection floods and uids taking all their quotas allow; each must be
                refused by its own quota, and idle connections closed by the daemon
       garbage  victims (pktgen, uid 65533) on a pipe or a port of the ephemeral switch vale1, whose
                ring indices, slots and sync blocks this script overwrites through the victim's
                own mapping of its region
       restart  once, halfway: SIGTERM to netringd (exit status 0, XDP detached), a new netringd,
                its warm-up and start sample; the runs it cut are disturbed and start again
  5. When the time is up, chaos stops and every run ends; once no client is left, the second
     daemon is sampled again and compared with its start, then stopped.
  6. One JSON summary line on stdout (with --json, a line per run, chaos event and sample before
     it). Exit 0 when ok, 1 otherwise, 77 (skipped) without root, setpriv or ip.

Loss accounting: a run soak.py killed an end of, or that the restart cut, is disturbed; its counts
are reported apart and not judged. Every other run, warm-ups included, must deliver all of its
planned frames with lost = corrupt = duplicate = 0 and both ends exiting 0.

usage: soak.py [--build DIR] [--minutes 10] [--seed N] [--json]
Runs as root. Creates nrsoak0/nrsoak1 and the namespace nrsoak-ns and removes them, its temp dir
and every process it started (by PID) on exit, also on Ctrl-C and SIGTERM.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from soak_chaos import Hogs, make_plan, write_garbage
from soak_env import Daemon, Launcher, Veth, log, tools_missing, wait_until
from soak_flows import FLOWS, Flows

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SKIP = 77
WARMUP_S = 3
MIN_RUN_S = 5  # a flow disturbed later than this before the end is not restarted
RSS_BOUND_KIB = 8 * 1024
BINARIES = ("daemon/netringd", "tools/netring-pktgen", "tools/netring-ctl", "tools/netring-switch",
            "tests/integration/quota_hog", "tests/integration/nic_peer")

CONFIG = """\
# soak.py: everyone may use pipes, the NIC and switches; small quotas so that the hogs meet them
allow * netmap:*
allow * vale*
admin gid=0
nic_mode afxdp
region_buffers 16384
uid_max_connections 16
uid_max_registrations 12
uid_max_regions 4
idle_timeout_s 5
# a receiver the machine leaves unscheduled for 20 ms (the default) would lose switch frames by
# design; the soak judges leaks and damage, not the stall policy
switch_stall_ms 1000
"""


class Interrupted(Exception):
    pass


class Soak:
    def __init__(self, args, workdir):
        self.args = args
        self.seconds = args.minutes * 60.0
        self.slack = max(20.0, 0.1 * self.seconds)  # a paced run may end this much late
        self.launcher = Launcher(workdir)
        self.daemon = Daemon(self.launcher, args.build, workdir, CONFIG)
        self.veth = Veth()
        self.flows = Flows(self.launcher, self.daemon, self.slack)
        self.hogs = Hogs(self.launcher, self.daemon)
        self.rng = random.Random(args.seed)
        self.records, self.samples, self.problems = [], {}, []
        self.chaos = {"kills": 0, "kills_skipped": 0, "hogs": 0, "hog_kinds": {}, "hogs_skipped": 0, "floods": 0,
                      "quota_refusals": 0, "idle_closed_by_daemon": 0, "garbage": 0, "garbage_strokes": 0,
                      "restarts": 0}
        self.active = {}  # flow name -> its current Run
        self.t0 = None

    # ---- output ---------------------------------------------------------------------------------
    def emit(self, rec):
        self.records.append(rec)
        if self.args.json:
            print(json.dumps(rec), flush=True)

    def now(self):
        return time.monotonic() - self.t0 if self.t0 else 0.0

    # ---- runs -----------------------------------------------------------------------------------
    def finish(self, run):
        rec = self.flows.record(run)
        rec["t"] = round(self.now(), 1)
        self.emit(rec)
        if run.disturbed:
            got = "no summary" if rec["received"] is None else "%d frames arrived" % rec["received"]
            log("%s run %d ended disturbed (%s): %s" % (run.spec.name, run.number, run.disturbed, got))
        else:
            log("%s run %d ended %s: %d of %d frames, lost %d corrupt %d duplicate %d" % (
                run.spec.name, run.number, "ok" if rec["ok"] else "FAILED", rec["received"], run.planned,
                rec["lost"], rec["corrupt"], rec["duplicate"]))
        if rec["ok"] is False:
            self.problems.append("%s run %d (%s) failed: %s" % (run.spec.name, run.number, run.phase, rec["why"]))

    def overrun(self, run):
        """A run past its deadline has stalled: stop it; it is judged as it stands (a shortfall)."""
        run.notes["overrun"] = True
        if run.tx:
            run.tx.stop(grace=5.0)
        time.sleep(3.0)  # what the sender got out may still be on its way
        run.stop()

    def poll_runs(self, ending):
        """Finishes the runs that ended; returns the flows to start again (disturbed, not ending)."""
        again = []
        for name, run in list(self.active.items()):
            if not run.ended() and time.monotonic() > run.deadline:
                self.overrun(run)
            if run.ended():
                del self.active[name]
                self.finish(run)
                if run.disturbed and not ending:
                    again.append(run.spec)
        return again

    def warm_up(self):
        """Switch ports and a short run of every flow; returns once no client is left."""
        self.daemon.switch("create", "vale0")
        for port in ("vale0:a", "vale0:b"):
            self.daemon.switch("add", port)
        runs = [self.flows.start_run(spec, "warmup", WARMUP_S) for spec in FLOWS]
        wait_until(lambda: all(r.ended() or time.monotonic() > r.deadline for r in runs), WARMUP_S + self.slack + 5)
        for run in runs:
            if not run.ended():
                self.overrun(run)
            self.finish(run)
        if not self.daemon.wait_settled():
            self.problems.append("netringd %d did not settle after its warm-up" % self.daemon.generation)

    def show_daemon_logs(self):
        for p in self.launcher.procs:
            if p.name.startswith("netringd"):
                log("%s's last words: %s" % (p.name, " | ".join(p.err().splitlines()[-15:])))

    def take_sample(self, key):
        s = self.daemon.sample()
        s["t"] = round(self.now(), 1)
        self.samples[key] = s
        self.emit(dict(event="sample", which=key, **s))
        log("sample %s: %d fds, %d threads, RSS %d KiB, regions %s" % (key, s["fds"], s["threads"], s["rss_kib"],
                                                                       s["regions"]))

    # ---- chaos ----------------------------------------------------------------------------------
    def kill(self, ev):
        run = self.active.get(ev["flow"])
        end = "tx" if ev["flow"] == "nic" else ev["end"]  # the NIC's receiver is no netring client
        proc = getattr(run, end, None) if run else None
        if proc is None or not proc.alive():
            self.chaos["kills_skipped"] += 1
            return
        proc.send(signal.SIGKILL)
        run.disturbed = "SIGKILL " + end
        run.stop()
        self.chaos["kills"] += 1
        self.emit({"event": "kill", "t": round(self.now(), 1), "flow": ev["flow"], "end": end, "pid": proc.pid})
        log("killed %s's %s (pid %d)" % (ev["flow"], end, proc.pid))

    def hog_ended(self, rec):
        rec["t"] = round(self.now(), 1)
        self.emit(rec)
        if rec.get("refused"):
            self.chaos["quota_refusals"] += 1
        if rec.get("reported") and not rec.get("quota_hit"):
            self.problems.append("hog %s as uid %d was not stopped by its quota: %s" % (
                rec["hog"], rec["uid"], rec.get("refused") or "admitted %d" % rec["admitted"]))
        if rec["hog"] == "idle":
            self.chaos["idle_closed_by_daemon"] += rec["closed_by_daemon"]
            if rec.get("reported") and not rec["cut"] and rec["closed_by_daemon"] < rec["admitted"]:
                self.problems.append("idle hog uid %d: %d of %d idle connections closed by the daemon" % (
                    rec["uid"], rec["closed_by_daemon"], rec["admitted"]))

    def stop_chaos(self):
        for rec in self.hogs.expired(time.monotonic(), everything=True):
            self.hog_ended(rec)

    def start_hog(self, ev):
        if not self.hogs.start(ev["hog"], ev["uid"], ev["hold"]):
            self.chaos["hogs_skipped"] += 1
            return
        self.chaos["hogs"] += 1
        self.chaos["hog_kinds"][ev["hog"]] = self.chaos["hog_kinds"].get(ev["hog"], 0) + 1
        self.chaos["floods"] += ev["hog"] in ("connections", "idle")
        log("hog %s (uid %d or the next free one) for %.1f s" % (ev["hog"], ev["uid"], ev["hold"]))

    def garbage(self, ev):
        self.chaos["garbage"] += 1
        rec = write_garbage(self.launcher, self.daemon, ev["target"], self.chaos["garbage"], self.rng)
        rec["t"] = round(self.now(), 1)
        self.chaos["garbage_strokes"] += rec["strokes"]
        self.emit(rec)
        if "error" in rec:  # the garbage was not written: this soak did not do what it says
            self.problems.append("garbage into %s victims: %s" % (ev["target"], rec["error"]))

    def restart(self):
        """SIGTERM to netringd while the flows run; a new one, warmed up and sampled."""
        self.stop_chaos()
        self.take_sample("first_before_restart")
        for run in self.active.values():
            run.disturbed = "daemon restart"
        rc = self.daemon.stop()
        self.chaos["restarts"] += 1
        log("netringd 1 stopped (exit status %s)" % rc)
        if rc != 0:
            self.problems.append("netringd 1 exited with status %s on SIGTERM" % rc)
        # The senders are netring clients and see the daemon go; nic_peer's capture does not.
        wait_until(lambda: all(not r.tx or not r.tx.alive() for r in self.active.values()), 10)
        for run in self.active.values():
            run.stop()
        self.check_xdp_detached()
        self.daemon.start()
        self.warm_up()
        self.take_sample("second_start")

    def check_xdp_detached(self):
        if self.veth.xdp_attached():
            self.problems.append("netringd %d left its XDP program on nrsoak0" % self.daemon.generation)
            self.veth.xdp_off()

    def run_event(self, ev):
        if ev["kind"] == "kill":
            self.kill(ev)
        elif ev["kind"] == "hog":
            self.start_hog(ev)
        elif ev["kind"] == "garbage":
            self.garbage(ev)
        elif ev["kind"] == "restart":
            self.restart()

    # ---- phases ---------------------------------------------------------------------------------
    def main_phase(self, plan):
        """Flows for the whole time, chaos as planned; returns when every run has ended."""
        self.t0 = time.monotonic()
        for spec in FLOWS:
            self.active[spec.name] = self.flows.start_run(spec, "main", self.seconds - self.now())
        ending = False
        while True:
            if not self.daemon.alive():
                self.problems.append("netringd %d exited by itself (status %s): %s" % (
                    self.daemon.generation, self.daemon.proc.returncode(), " | ".join(self.daemon.proc.said(5))))
                for run in self.active.values():
                    run.stop()
                self.poll_runs(ending=True)
                return False
            if not ending and self.now() >= self.seconds:
                ending = True
                self.stop_chaos()
                log("time is up: chaos stopped, waiting for %d runs to end" % len(self.active))
            while not ending and plan and plan[0]["at"] <= self.now():
                self.run_event(plan.pop(0))
            for rec in self.hogs.expired(time.monotonic()):
                self.hog_ended(rec)
            for spec in self.poll_runs(ending):
                left = self.seconds - self.now()
                if left >= MIN_RUN_S:
                    self.active[spec.name] = self.flows.start_run(spec, "main", left)
            if ending and not self.active:
                return True
            time.sleep(0.1)

    def compare(self, which):
        """Growth of daemon `which` (first, second) from its start to its end; problems go to the list."""
        a, b = self.samples[which + "_start"], self.samples[which + "_end"]
        growth = {"daemon": which, "fds": b["fds"] - a["fds"], "threads": b["threads"] - a["threads"],
                  "rss_kib": b["rss_kib"] - a["rss_kib"],
                  "free_buffers": {n: b["regions"].get(n, 0) - a["regions"].get(n, 0)
                                   for n in sorted(set(a["regions"]) | set(b["regions"]))}}
        if growth["fds"]:
            self.problems.append("descriptors %d -> %d" % (a["fds"], b["fds"]))
        if growth["threads"]:
            self.problems.append("threads %d -> %d" % (a["threads"], b["threads"]))
        if growth["rss_kib"] > RSS_BOUND_KIB:
            self.problems.append("RSS grew by %d KiB (bound %d)" % (growth["rss_kib"], RSS_BOUND_KIB))
        if a["regions"] != b["regions"]:
            self.problems.append("regions and free buffers %s -> %s" % (a["regions"], b["regions"]))
        return growth

    def run(self):
        plan = make_plan(self.rng, [f.name for f in FLOWS], self.seconds)
        log("seed %d, %.0f s, %d chaos events planned" % (self.args.seed, self.seconds, len(plan)))
        self.veth.create()
        self.daemon.start()
        self.warm_up()
        self.take_sample("first_start")
        growth = None
        if self.main_phase(plan):
            which = ("first", "second")[min(self.daemon.generation, 2) - 1]  # "second" after the restart
            if not self.daemon.wait_settled(regions=list(self.samples[which + "_start"]["regions"])):
                self.problems.append("netringd %d did not settle at the end" % self.daemon.generation)
            self.take_sample(which + "_end")
            growth = self.compare(which)
            rc = self.daemon.stop()
            if rc != 0:
                self.problems.append("netringd %d exited with status %s on SIGTERM" % (self.daemon.generation, rc))
            self.check_xdp_detached()
        return self.summary(growth)

    def summary(self, growth):
        kinds = {}
        for r in (r for r in self.records if r["event"] == "run"):
            k = kinds.setdefault(r["kind"], {"runs": 0, "undisturbed": 0, "failed": 0, "packets": 0, "lost": 0,
                                             "corrupt": 0, "duplicate": 0, "disturbed": 0, "disturbed_packets": 0,
                                             "disturbed_corrupt": 0, "disturbed_duplicate": 0})
            k["runs"] += 1
            if r["disturbed"]:  # reported, not judged
                k["disturbed"] += 1
                for key in ("packets", "corrupt", "duplicate"):
                    k["disturbed_" + key] += r["received" if key == "packets" else key] or 0
                continue
            k["undisturbed"] += 1
            k["failed"] += not r["ok"]
            for key in ("lost", "corrupt", "duplicate"):
                k[key] += r[key]
            k["packets"] += r["received"]
        return {"summary": True, "ok": not self.problems, "minutes": self.args.minutes, "seed": self.args.seed,
                "commit": git_commit(), "flows": kinds, "chaos": self.chaos,
                "daemon": {"first": {k: self.samples[k] for k in ("first_start", "first_before_restart", "first_end")
                                     if k in self.samples},
                           "second": {k: self.samples[k] for k in ("second_start", "second_end") if k in self.samples},
                           "growth": growth, "rss_bound_kib": RSS_BOUND_KIB},
                "problems": self.problems}


def git_commit():
    r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or None


def preflight(args):
    """Exits 77 when this machine cannot run the soak, 1 when the build or the names are wrong."""
    if os.geteuid() != 0:
        print("soak.py: skipped: needs root (network namespace, veth, XDP, setpriv)", file=sys.stderr)
        sys.exit(SKIP)
    missing = tools_missing()
    if missing:
        print("soak.py: skipped: %s not found" % ", ".join(missing), file=sys.stderr)
        sys.exit(SKIP)
    absent = [b for b in BINARIES if not os.access(os.path.join(args.build, b), os.X_OK)]
    if absent:
        sys.exit("soak.py: %s missing in %s; build them first" % (", ".join(absent), args.build))
    left = Veth.leftovers()
    if left:
        sys.exit("soak.py: %s already exist(s): another soak is running, or remove them (ip link del nrsoak0; "
                 "ip netns del nrsoak-ns)" % " and ".join(left))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory (default: build/)")
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the main phase (default 10)")
    ap.add_argument("--seed", type=int, default=None, help="chaos seed (default: from the clock)")
    ap.add_argument("--json", action="store_true", help="a JSON line per run, chaos event and sample too")
    args = ap.parse_args()
    if args.minutes <= 0:
        ap.error("--minutes must be more than 0")
    args.build = os.path.abspath(args.build)
    if args.seed is None:
        args.seed = int(time.time()) % 100000
    preflight(args)

    def on_sigterm(_signum, _frame):
        raise Interrupted()

    signal.signal(signal.SIGTERM, on_sigterm)
    workdir = tempfile.mkdtemp(prefix="netring-soak-")
    os.chmod(workdir, 0o755)  # uid 65534 reaches the socket through it
    soak = Soak(args, workdir)
    summary = None
    try:
        summary = soak.run()
    except (Interrupted, KeyboardInterrupt):
        log("interrupted")
    except Exception as e:  # a set-up failure: report it as a failed run, still clean up
        log("error: %s" % e)
        soak.problems.append("error: %s" % e)
        summary = soak.summary(None)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if summary is None or not summary["ok"]:
            soak.show_daemon_logs()
        soak.launcher.stop_all()
        soak.veth.remove()
        shutil.rmtree(workdir, ignore_errors=True)
    if summary is None:
        sys.exit(1)
    print(json.dumps(summary), flush=True)
    log("ok" if summary["ok"] else "NOT ok: " + "; ".join(summary["problems"]))
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
