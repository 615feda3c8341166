#!/usr/bin/env python3
"""Restart gap benchmark, NIC flows: how long a NIC's frames stop while `netring-ctl restart` replaces
netringd. restart_gap_bench.py measures pipe and switch flows the same way.

One network namespace holds a veth pair: netringd binds end A in AF_XDP mode (AF_PACKET with
--mode afpacket), nic_peer sends a steady stream of frames into end B, and `restart_gap` (a
libnetring receiver on netmap:A) times the silences of its rx ring. Once the stream flows, the daemon is replaced --restarts times, one
restart every --every seconds. The --restarts longest silences the receiver saw are the restarts'
data-path gaps (the worker stopped in the old process until it runs in the new one; frames that
arrive meanwhile wait in the socket's rings and come in a burst after it).

With --crash the daemon is not asked: it runs with a service manager's fd store (benchlib.FdStore,
the notify protocol systemd speaks), is SIGKILLed, and a new netringd starts at once with the
store's fds, as systemd's Restart= would start it; the kind gets the suffix _crash, and the
summary's median_restart_cmd_ms is the time from the kill until the successor logged its adoption.

Every gap prints one JSON line {"bench":"restart_gap","kind":"nic_afxdp","rank":i,"gap_ms":...}
(kind nic_afpacket in AF_PACKET mode; rank 0 the longest), and the last line is a summary with
the median and the worst gap in ms, the median time `netring-ctl restart` took (until the new process answered), and the frames received
and sent. The stream is slow enough (--rate, default 20000 pps; 1000 in AF_PACKET mode, whose 128
blocks retire 1 ms after their first frame) that a gap shorter than 100 ms fits in the rings.

usage: restart_gap_nic_bench.py [--build DIR] [--mode afxdp|afpacket] [--restarts 5] [--every 1.0]
                            [--rate PPS] [--crash]
Runs as root. Creates namespace nrg<pid> with veth nrg<pid>a / nrg<pid>b, and removes them, the
netringd it started and every process it started (by PID) on exit, also on Ctrl-C/SIGTERM.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import ROOT, FdStore, emit, last_json, log


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--restarts", type=int, default=5)
    ap.add_argument("--every", type=float, default=1.0)
    ap.add_argument("--mode", choices=["afxdp", "afpacket"], default="afxdp")
    ap.add_argument("--rate", type=int, default=None)
    ap.add_argument("--crash", action="store_true", help="SIGKILL and a successor from an fd store")
    args = ap.parse_args()
    if args.rate is None:
        args.rate = 20000 if args.mode == "afxdp" else 1000
    kind = "nic_" + args.mode + ("_crash" if args.crash else "")
    if os.geteuid() != 0:
        sys.exit("restart_gap_bench.py runs as root (namespace, veth, netringd binding a NIC)")

    tag = "nrg%d" % os.getpid()
    ns, a, b = tag, tag + "a", tag + "b"
    work = tempfile.mkdtemp(prefix="netring-gap-")
    sock, conf = os.path.join(work, "netringd.sock"), os.path.join(work, "netringd.conf")
    procs = []

    def run(cmd):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def in_ns(cmd):
        return ["ip", "netns", "exec", ns] + cmd

    def cleanup(*_):
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", work])

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        run(["ip", "netns", "add", ns])
        run(in_ns(["ip", "link", "add", a, "type", "veth", "peer", "name", b]))
        for n in (a, b):
            run(in_ns(["sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % n]))
            run(in_ns(["ip", "link", "set", n, "up"]))
        with open(conf, "w") as f:
            f.write("nic_mode %s\nregion_buffers 16384\n" % args.mode)
        daemon_log = open(os.path.join(work, "netringd.err"), "w")
        netringd = in_ns([os.path.join(args.build, "daemon", "netringd"), "--socket", sock, "--config", conf])
        store = FdStore(os.path.join(work, "notify.sock")) if args.crash else None
        env = dict(os.environ, NOTIFY_SOCKET=store.path) if store else None
        daemon = subprocess.Popen(netringd, stderr=daemon_log, env=env)  # `ip netns exec` execs: same PID
        procs.append(daemon)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        seconds = 3 + args.restarts * args.every + 3
        rx = subprocess.Popen(in_ns([os.path.join(args.build, "tests", "bench", "restart_gap"), "--port",
                                     "netmap:" + a, "--socket", sock, "--seconds", str(seconds), "--top",
                                     str(args.restarts)]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(rx)
        time.sleep(1.0)
        count = int(args.rate * (seconds - 2))
        peer = os.path.join(args.build, "tests", "integration", "nic_peer")
        tx = subprocess.Popen(in_ns([peer, "send", "--if", b, "--count", str(count), "--len", "60", "--rate",
                                     str(args.rate)]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(tx)
        time.sleep(1.5)
        cmd_ms = []
        if store:
            deadline = time.monotonic() + 10
            while not store.status.startswith("1 registration,") and time.monotonic() < deadline:
                time.sleep(0.01)
            if not store.status.startswith("1 registration,"):
                log("the receiver's registration never reached the store: " + store.status)
                return 1
        for i in range(args.restarts):
            t0 = time.monotonic()
            if store:
                daemon.kill()
                daemon.wait()
                procs.remove(daemon)
                daemon_log = open(os.path.join(work, "netringd-%d.err" % (i + 1)), "w")
                daemon = store.spawn(netringd, stderr=daemon_log, env=env)
                procs.append(daemon)
                while time.monotonic() - t0 < 30:
                    with open(daemon_log.name) as f:
                        told = f.read()
                    if "restart: " in told:
                        break
                    time.sleep(0.001)
                cmd_ms.append((time.monotonic() - t0) * 1000)
                if "restart: adopted" not in told or ", 1 NIC, " not in told:
                    log("restart %d: the successor did not adopt the NIC: %s" % (i, told))
                    return 1
            else:
                r = subprocess.run([os.path.join(args.build, "tools", "netring-ctl"), "--socket", sock, "restart",
                                    "--timeout", "30"], capture_output=True, text=True)
                cmd_ms.append((time.monotonic() - t0) * 1000)
                if r.returncode != 0:
                    log("restart %d failed: %s %s" % (i, r.stdout, r.stderr))
                    return 1
            time.sleep(args.every)
        out, err = rx.communicate(timeout=seconds + 30)
        sent = last_json(tx.communicate(timeout=60)[0]) or {}
        res = last_json(out)
        if rx.returncode != 0 or res is None:
            daemon_log.flush()
            with open(daemon_log.name) as f:
                log("restart_gap failed (%s): %s\nnetringd:\n%s" % (rx.returncode, err, f.read()[-3000:]))
            return 1
        gaps = sorted(res["gaps_ms"], reverse=True)[:args.restarts]
        for i, g in enumerate(gaps):
            emit({"bench": "restart_gap", "kind": kind, "rank": i, "gap_ms": round(g, 3)})
        emit({"bench": "restart_gap", "kind": kind, "summary": True, "restarts": args.restarts,
              "rate_pps": args.rate, "median_gap_ms": round(statistics.median(gaps), 3),
              "worst_gap_ms": round(max(gaps), 3),
              "median_restart_cmd_ms": round(statistics.median(cmd_ms), 1),
              "frames_received": res["frames"], "frames_sent": sent.get("sent")})
        return 0
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
