"""soak.py's chaos: the seeded plan, quota hogs, and clients that write garbage into their rings.

  make_plan    event times drawn from random.Random(seed): kills, hogs, garbage, one restart
  Hogs         quota_hog as uid 65530..65532 (connections, idle, registrations, regions), each held
               a few seconds, then SIGKILLed; its report line says what the daemon refused
  write_garbage  victims (pktgen as uid 65533) on a pipe or an ephemeral switch port of vale1, in
               regions of their own; soak.py opens the victim's mapping of its region through
               /proc/PID/map_files and overwrites ring indices, slots and sync blocks, as a hostile
               client could in its own mapping
"""
import mmap
import os
import re
import signal
import struct
import time

from soak_env import log

HOG_UIDS = (65530, 65531, 65532)
VICTIM_UID = 65533
# How many of each kind a hog asks for: more than any quota of soak.py's configuration.
HOG_ASK = {"connections": 40, "idle": 40, "registrations": 40, "regions": 10}
# The quota whose refusal each hog kind must meet: "(uid_max_KEY N)" in the sentence.
HOG_QUOTA = {"connections": "connections", "idle": "connections", "registrations": "registrations",
             "regions": "regions"}
# registrations and regions hogs open fixed names (netmap:hogreg{i, netmap:hogregion{i}{1): two at
# once would meet each other's pipes instead of their quotas.
NAMED_HOGS = ("registrations", "regions")


def make_plan(rng, flow_names, seconds):
    """Chaos events over [0, seconds) of the main phase, sorted by time. Every kind occurs at least
    once; the restart is halfway."""
    hi = seconds - 10

    def series(kind, mean, lo, draw):
        events, t = [], lo
        while True:
            t += rng.expovariate(1.0 / mean)
            if t >= hi:
                break
            events.append(dict(at=t, kind=kind, **draw()))
        return events or [dict(at=rng.uniform(lo, max(lo, hi)), kind=kind, **draw())]

    def hog(kind=None):
        kind = kind or rng.choice(sorted(HOG_ASK))
        # idle connections must outlive idle_timeout_s (5) plus their slow admission (0.2 s each)
        hold = rng.uniform(12, 15) if kind == "idle" else rng.uniform(2, 10)
        return {"hog": kind, "uid": rng.choice(HOG_UIDS), "hold": round(hold, 1)}

    # Mean gaps: every 30 s a kill, 20 s a hog, 60 s garbage; denser in short runs.
    plan = (series("kill", min(30, seconds / 6), 8, lambda: {"flow": rng.choice(flow_names),
                                                           "end": rng.choice(("tx", "rx"))}) +
            series("hog", min(20, seconds / 8), 3, hog) +
            series("garbage", min(60, seconds / 3), 5, lambda: {"target": rng.choice(("pipe", "switch"))}) +
            [{"at": seconds / 2, "kind": "restart"}])
    # Every hog kind and both garbage targets at least once, however short the run.
    for kind in sorted(set(HOG_ASK) - {ev["hog"] for ev in plan if ev["kind"] == "hog"}):
        plan.append(dict(at=rng.uniform(3, max(3, hi)), kind="hog", **hog(kind)))  # its own kind's hold
    for target in sorted({"pipe", "switch"} - {ev["target"] for ev in plan if ev["kind"] == "garbage"}):
        plan.append({"at": rng.uniform(5, max(5, hi)), "kind": "garbage", "target": target})
    for ev in plan:
        ev["at"] = round(ev["at"], 2)
    return sorted(plan, key=lambda ev: ev["at"])


class Hogs:
    """quota_hog processes being held; one per uid, and one of the NAMED_HOGS at a time."""

    def __init__(self, launcher, daemon):
        self.launcher, self.daemon = launcher, daemon
        self.held = []  # (proc, kind, uid, until)

    def busy(self, kind, uid):
        return any(u == uid or (kind in NAMED_HOGS and k in NAMED_HOGS) for _, k, u, _ in self.held)

    def start(self, kind, uid, hold):
        """Starts a hog, or returns False when the uid (or the hog names) are in use."""
        if self.busy(kind, uid):
            free = [u for u in HOG_UIDS if not self.busy(kind, u)]
            if not free:
                return False
            uid = free[0]
        p = self.launcher.start("hog-%s" % kind, [self.daemon.exe("tests/integration/quota_hog"), self.daemon.sock,
                                                  kind, HOG_ASK[kind]], uid=uid)
        self.held.append((p, kind, uid, time.monotonic() + hold))
        return True

    def expired(self, now, everything=False):
        """SIGKILLs the hogs whose time is up (all of them with everything=True); their records."""
        done = [h for h in self.held if everything or now >= h[3]]
        self.held = [h for h in self.held if h not in done]
        return [self._record(p, kind, uid, cut=now < until) for p, kind, uid, until in done]

    @staticmethod
    def _record(p, kind, uid, cut):
        """cut: killed before its hold time (the restart, the end), so idle closes may be missing."""
        p.stop(signal.SIGKILL, grace=5.0)
        text = p.err()
        rec = {"event": "hog", "hog": kind, "uid": uid, "cut": cut, "reported": False}
        m = re.search(r'hog \S+ admitted=(\d+) refused="([^"]*)"', text)
        if m:
            rec.update(reported=True, admitted=int(m.group(1)), refused=m.group(2))
            rec["quota_hit"] = "(uid_max_%s " % HOG_QUOTA[kind] in m.group(2)
        closed = re.findall(r"closed_by_daemon=(\d+)", text)
        if kind == "idle":
            rec["closed_by_daemon"] = int(closed[-1]) if closed else 0
        return rec


# ---- garbage -----------------------------------------------------------------------------------
# struct nr_region_header, nr_ring and nr_if offsets: include/netring/layout.h
REGION_MAGIC, IF_EXT_MAGIC = 0x3147524E, 0x5458454E
VICTIM_SLOTS = 256


def _victim_mapping(pid, region):
    """Path of /proc/PID/map_files for the victim's mapping of `region` (file offset 0), or None."""
    want = "/memfd:netring:" + region
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip().split(" (deleted)")[0] == want and int(fields[2], 16) == 0:
                return "/proc/%d/map_files/%s" % (pid, fields[0])
    return None


def _open_region(pid, region):
    path = None
    for _ in range(40):  # the victim maps its region right after REGIF
        path = _victim_mapping(pid, region)
        if path:
            break
        time.sleep(0.05)
    if not path:
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def _layout(mm):
    """Ring offsets and sync-block offsets of every if block in the region's metadata arena."""
    magic, _, _, _, meta_off, meta_size, bufs_off, buf_size, num_bufs = struct.unpack_from("<IHHQQQQII", mm, 0)
    if magic != REGION_MAGIC:
        return None
    rings, syncs = [], []
    pos, end = meta_off, meta_off + meta_size
    ext = struct.pack("<I", IF_EXT_MAGIC)
    while True:
        pos = mm.find(ext, pos, end)
        if pos < 0:
            break
        kind, total = struct.unpack_from("<II", mm, pos + 4)
        nif = pos - 56 - 8 * total
        if kind in (1, 2) and 0 < total <= 64 and nif >= meta_off and struct.unpack_from("<I", mm, nif + 16)[0] == 14:
            rings += [nif + struct.unpack_from("<q", mm, nif + 56 + 8 * i)[0] for i in range(total)]
            syncs += [nif + struct.unpack_from("<q", mm, pos + 16 + 24 * i)[0] for i in range(total)]
        pos += 4
    return {"rings": sorted(set(rings)), "syncs": sorted(set(syncs)), "buf_size": buf_size, "num_bufs": num_bufs}


def _stroke(mm, lay, rng):
    """One piece of garbage; returns its name. Most are plausible (in range, wrong): the victim goes
    on and publishes them with its next sync, where the daemon or the peer's library must catch
    them. One in ten is wild, and the victim itself may crash on it (a client's own business)."""
    ring, sync = rng.choice(lay["rings"]), rng.choice(lay["syncs"])
    slot = ring + 256 + 16 * rng.randrange(VICTIM_SLOTS)  # nr_ring: 256-byte header, 16-byte slots
    n = VICTIM_SLOTS
    plausible = (
        ("ring_cur", ring + 24, "<I", lambda: rng.randrange(n)),  # nr_ring: head 20, cur 24, tail 28
        ("ring_head", ring + 20, "<I", lambda: rng.randrange(n)),
        ("slot_reserved_buf", slot, "<I", lambda: rng.randrange(2)),  # buffers 0 and 1 are nobody's
        ("slot_len", slot + 4, "<H", lambda: rng.randrange(lay["buf_size"] + 1, 1 << 16)),
        ("slot_offset", slot + 8, "<Q", lambda: rng.getrandbits(64)),
        ("sync_head", sync, "<I", lambda: rng.getrandbits(32)),  # nr_sync: app.head 0, app.cur 4
        ("sync_cur", sync + 4, "<I", lambda: rng.getrandbits(32)),
        ("sync_need_kick", sync + 128, "<I", lambda: rng.getrandbits(32)),
    )
    wild = (
        ("ring_cur_wild", ring + 24, "<I", lambda: rng.getrandbits(32)),
        ("ring_tail_wild", ring + 28, "<I", lambda: rng.getrandbits(32)),
        ("slot_buf_idx_wild", slot, "<I", lambda: rng.choice((0xFFFFFFFF, lay["num_bufs"] + rng.randrange(1 << 16)))),
    )
    name, off, fmt, value = rng.choice(wild if rng.random() < 0.1 else plausible)
    struct.pack_into(fmt, mm, off, value())
    return name


def _start_victims(launcher, daemon, target, number):
    """The victim processes (the one to write into first) and their region's name."""
    pktgen = [daemon.exe("tools/netring-pktgen"), "--socket", daemon.sock, "--slots", VICTIM_SLOTS, "--json"]
    # A slow sender: its own writes to the ring land seldom, so the garbage stays long enough for
    # the daemon (switch) or the peer's library (pipe) to read it.
    tx_args = ["-f", "tx", "-R", 200, "-T", 30]
    if target == "switch":
        port = "vale1:junk%d" % number
        return [launcher.start("victim-tx", pktgen + ["-i", port] + tx_args, uid=VICTIM_UID)], port
    name = "junk%d" % number
    rx = launcher.start("victim-rx", pktgen + ["-i", "netmap:%s{1" % name, "-f", "rx", "-T", 30], uid=VICTIM_UID)
    daemon.wait_registered(rx)
    tx = launcher.start("victim-tx", pktgen + ["-i", "netmap:%s}1" % name] + tx_args, uid=VICTIM_UID)
    return [tx, rx], "pipe:" + name


def _scribble(victim, region, rng, seconds, rec):
    """Garbage into the victim's region every 10 ms for `seconds` or until the victim is gone."""
    mm = _open_region(victim.pid, region)
    if mm is None:
        rec["error"] = "the victim's mapping of %s was not found" % region
        return
    try:
        lay = _layout(mm)
        if not lay or not lay["rings"]:
            rec["error"] = "no if block found in %s" % region
            return
        end, kinds = time.monotonic() + seconds, set()
        while time.monotonic() < end and victim.alive():
            kinds.add(_stroke(mm, lay, rng))
            rec["strokes"] += 1
            time.sleep(0.01)
        rec["kinds"] = sorted(kinds)
    finally:
        mm.close()  # our mapping would keep the region's memory alive after the daemon frees it


def _victim_end(v):
    """How a victim ended: killed by us, told its ring was reset, crashed, or exited."""
    if v.alive():
        v.stop(signal.SIGKILL, grace=5.0)
        return "killed"
    if any("reset" in line for line in v.said(5)):
        return "ring reset"
    rc = v.returncode()
    return "signal %d" % -rc if rc < 0 else "exit %d" % rc


def write_garbage(launcher, daemon, target, number, rng, seconds=3.0):
    """For `seconds`: victims on a fresh pipe or switch port, garbage into their region until the
    first victim is gone, then the next victims. Returns the event's record."""
    rec = {"event": "garbage", "target": target, "rounds": 0, "strokes": 0, "ends": {}}
    kinds = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end and "error" not in rec:
        rec["rounds"] += 1
        victims, region = _start_victims(launcher, daemon, target, number * 100 + rec["rounds"])
        if daemon.wait_registered(victims[0]):
            one = {"strokes": 0}
            _scribble(victims[0], region, rng, end - time.monotonic(), one)
            rec["strokes"] += one["strokes"]
            kinds.update(one.get("kinds", ()))
            if "error" in one:
                rec["error"] = one["error"]
            time.sleep(0.2)  # a victim that saw a reset has its say
        else:
            rec["error"] = "victim did not register: " + " | ".join(victims[0].said())
        for v in victims:
            how = _victim_end(v)
            rec["ends"][how] = rec["ends"].get(how, 0) + 1
    rec["kinds"] = sorted(kinds)
    log("garbage into %s victims: %d rounds, %d strokes, victims' ends %s" % (target, rec["rounds"], rec["strokes"],
                                                                           rec["ends"]))
    return rec
