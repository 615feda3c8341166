"""soak.py's legitimate flows: checked traffic as uid 65534, one run at a time per flow.

A run is a receiver and a paced sender of exactly `planned` frames (pktgen -n, -R): it ends by
itself when every frame has arrived. Kinds:
  pipe    pktgen rx on netmap:NAME{K, pktgen tx on netmap:NAME}K (K: a new pipe id per run)
  switch  pktgen rx on vale0:b, pktgen tx on vale0:a to b's MAC; before each run the frames an
          earlier, disturbed run left in b's persistent ring are drained and b's MAC is taught
  nic     nic_peer capture on nrsoak1 inside nrsoak-ns (plain AF_PACKET, every byte checked),
          pktgen tx on netmap:nrsoak0
A run is "disturbed" when soak.py killed one of its ends or the daemon restart cut it: its
counts are kept apart. Any other run must deliver all planned frames, undamaged, once each.
"""
import collections
import time

from soak_env import NIC, NS, PEER, log, wait_until

FLOW_UID = 65534
MAC_A, MAC_B = "02:00:00:00:5e:0a", "02:00:00:00:5e:0b"

FlowSpec = collections.namedtuple("FlowSpec", "name kind rate length")

# Paced low: at these rates a pktgen wakes about once per frame, and the whole set (about eight
# processes and the daemon's threads) must fit beside other work on a 2-vCPU machine.
FLOWS = (
    FlowSpec("pipe0", "pipe", 5000, 60),
    FlowSpec("pipe1", "pipe", 5000, 1500),
    FlowSpec("switch", "switch", 5000, 256),
    FlowSpec("nic", "nic", 5000, 128),
)


class RunStartError(Exception):
    pass


class Run:
    """One run of a flow: its processes, its plan and what happened to it."""

    def __init__(self, spec, number, phase, planned, seconds, slack):
        self.spec, self.number, self.phase, self.planned = spec, number, phase, planned
        self.started = time.monotonic()
        self.deadline = self.started + seconds + slack  # past it the run has stalled
        self.rx = self.tx = None
        self.disturbed = None  # why, when soak.py disturbed it on purpose
        self.notes = {}

    def procs(self):
        return [p for p in (self.rx, self.tx) if p is not None]

    def ended(self):
        return not any(p.alive() for p in self.procs())

    def stop(self, grace=5.0):
        """Ends what is left of the run: the sender first, so the receiver can report."""
        for p in (self.tx, self.rx):
            if p is not None:
                p.stop(grace=grace)


class Flows:
    """Starts runs and turns finished ones into records."""

    def __init__(self, launcher, daemon, slack):
        self.launcher, self.daemon, self.slack = launcher, daemon, slack
        self.numbers = collections.Counter()

    def pktgen(self, name, args):
        return self.launcher.start(name, [self.daemon.exe("tools/netring-pktgen"), "--socket", self.daemon.sock,
                                          "--json"] + list(args), uid=FLOW_UID)

    def start_run(self, spec, phase, seconds):
        """A run of `spec` sized to last `seconds`. A run that cannot start is returned ended, with
        the reason in notes["start_error"]: it then counts as a failed undisturbed run."""
        self.numbers[spec.name] += 1
        planned = max(1, int(spec.rate * seconds))
        run = Run(spec, self.numbers[spec.name], phase, planned, seconds, self.slack)
        try:
            getattr(self, "_start_" + spec.kind)(run, seconds + self.slack)
        except RunStartError as e:
            run.notes["start_error"] = str(e)
            run.stop(grace=2.0)
        log("%s run %d (%s): %d frames at %d/s" % (spec.name, run.number, phase, planned, spec.rate))
        return run

    def _receiver_ready(self, run, what):
        if not self.daemon.wait_registered(run.rx):
            raise RunStartError("%s did not register: %s" % (what, " | ".join(run.rx.said())))

    def _start_pipe(self, run, timeout):
        s = run.spec
        name = "netmap:soak%s%%s%d" % (s.name[-1], run.number)
        run.rx = self.pktgen(s.name + "-rx", ["-i", name % "{", "-f", "rx", "-n", run.planned, "-T", timeout])
        self._receiver_ready(run, "pipe receiver")
        run.tx = self.pktgen(s.name + "-tx", ["-i", name % "}", "-f", "tx", "-n", run.planned, "-R", s.rate,
                                              "-l", s.length])

    def _drain_and_teach(self, run):
        """Frames a disturbed run left in vale0:b's ring would reach the next receiver out of
        sequence: collect them first. Then one frame from b teaches the switch b's MAC."""
        drain = self.pktgen("switch-drain", ["-i", "vale0:b", "-f", "rx", "-T", "1"])
        drain.popen.wait(timeout=30)
        run.notes["stale_drained"] = (drain.result() or {}).get("packets")
        teach = self.pktgen("switch-teach", ["-i", "vale0:b", "-f", "tx", "-n", "1", "-S", MAC_B])
        if teach.popen.wait(timeout=30) != 0:
            raise RunStartError("teaching vale0:b's MAC failed: " + " | ".join(teach.said()))

    def _start_switch(self, run, timeout):
        s = run.spec
        self._drain_and_teach(run)
        run.rx = self.pktgen("switch-rx", ["-i", "vale0:b", "-f", "rx", "-n", run.planned, "-T", timeout])
        self._receiver_ready(run, "switch receiver")
        run.tx = self.pktgen("switch-tx", ["-i", "vale0:a", "-f", "tx", "-n", run.planned, "-R", s.rate,
                                           "-l", s.length, "-S", MAC_A, "-D", MAC_B])

    def _start_nic(self, run, timeout):
        s = run.spec
        run.rx = self.launcher.start("nic-capture", [self.daemon.exe("tests/integration/nic_peer"), "capture",
                                                     "--if", PEER, "--count", run.planned, "--timeout-s",
                                                     int(timeout), "--json"], netns=NS)
        if not wait_until(lambda: "ready" in run.rx.err() or not run.rx.alive(), 15):
            raise RunStartError("nic_peer capture did not get ready")
        if not run.rx.alive():
            raise RunStartError("nic_peer capture: " + " | ".join(run.rx.said()))
        run.tx = self.pktgen("nic-tx", ["-i", "netmap:" + NIC, "-f", "tx", "-n", run.planned, "-R", s.rate,
                                        "-l", s.length])

    @staticmethod
    def _receiver_counts(run):
        """(received, lost, corrupt, duplicate) from the receiver's summary, or None."""
        r = run.rx.result() if run.rx else None
        if not r:
            return None
        if run.spec.kind == "nic":  # nic_peer: lost is already planned - unique good frames
            return r["received"], r["lost"], r["corrupt"], r["duplicate"]
        # pktgen counts sequence gaps as lost; frames that never came after the last one are a
        # shortfall against -n.
        shortfall = max(0, run.planned - (r["packets"] - r["duplicate"]))
        return r["packets"], max(r["lost"], shortfall), r["corrupt"], r["duplicate"]

    def record(self, run):
        """The run's JSON record; `ok` judges undisturbed runs only (None for disturbed ones)."""
        rec = {"event": "run", "flow": run.spec.name, "kind": run.spec.kind, "phase": run.phase,
               "run": run.number, "planned": run.planned, "seconds": round(time.monotonic() - run.started, 1),
               "disturbed": run.disturbed}
        rec.update(run.notes)
        tx = run.tx.result() if run.tx else None
        rec["sent"] = tx.get("packets") if tx else None
        rec["tx_rc"] = run.tx.returncode() if run.tx else None
        rec["rx_rc"] = run.rx.returncode() if run.rx else None
        counts = self._receiver_counts(run)
        if run.disturbed:
            # Cut short on purpose: a shortfall says nothing, only what did arrive is reported (a
            # killed receiver, or nic_peer stopped, leaves no summary at all).
            r = run.rx.result() if run.rx else None
            received, _, corrupt, duplicate = counts or (None, None, None, None)
            rec.update(received=received, corrupt=corrupt, duplicate=duplicate)
            rec["gaps"] = r.get("lost") if r and run.spec.kind != "nic" else None
            rec["ok"] = None
            return rec
        if counts is None:
            counts = (0, run.planned, 0, 0)
            rec["error"] = "no summary from the receiver"
        rec["received"], rec["lost"], rec["corrupt"], rec["duplicate"] = counts
        rec["ok"] = (rec["tx_rc"] == 0 and rec["rx_rc"] == 0 and rec["sent"] == run.planned and
                     rec["lost"] == 0 and rec["corrupt"] == 0 and rec["duplicate"] == 0 and "error" not in rec)
        if not rec["ok"]:
            said = rec.get("start_error") or rec.get("error") or {p.name: p.said() for p in run.procs()}
            rec["why"] = "%s of %d sent, %d received, lost %d corrupt %d duplicate %d, exit tx %s rx %s; %s" % (
                rec["sent"], run.planned, rec["received"], rec["lost"], rec["corrupt"], rec["duplicate"],
                rec["tx_rc"], rec["rx_rc"], said)
        return rec
