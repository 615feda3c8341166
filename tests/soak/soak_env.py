"""What soak.py runs in: the processes it starts, its netringd, and the veth pair.

  Launcher  starts every process (optionally as a uid via setpriv, or inside a namespace) with its
            output in files of the temp dir; stops them by PID, never by name
  Daemon    one netringd on the temp dir's socket: start, stop, status, samples, the admin tools
  Veth      nrsoak0 in the root namespace, its peer nrsoak1 in the namespace nrsoak-ns
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

NS, NIC, PEER = "nrsoak-ns", "nrsoak0", "nrsoak1"


def log(msg):
    print("# soak: " + msg, file=sys.stderr, flush=True)


def last_json(text):
    """The last line of `text` that is a JSON object, or None."""
    for line in reversed((text or "").strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def wait_until(cond, timeout, step=0.05):
    """Polls cond() until it is true (returns True) or `timeout` seconds pass (returns False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def sh(*argv, check=True):
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, timeout=60)


def _no_core_dumps():
    # A garbage victim may crash; its core file would land in the temp dir for nothing.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Proc:
    """One process soak.py started: its Popen and the files its stdout and stderr went to."""

    def __init__(self, name, popen, out_path, err_path):
        self.name, self.popen = name, popen
        self.pid = popen.pid
        self.out_path, self.err_path = out_path, err_path

    def alive(self):
        return self.popen.poll() is None

    def send(self, sig):
        # poll() reaps nothing but this child, and an unreaped child keeps its PID: no reuse race.
        if self.alive():
            self.popen.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, grace=5.0):
        """Sends `sig`, waits `grace` seconds, then SIGKILL. Returns the exit status."""
        self.send(sig)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        return self.popen.returncode

    def returncode(self):
        return self.popen.poll()

    def out(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def err(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def result(self):
        return last_json(self.out())

    def said(self, lines=3):
        """The last lines of stderr that are not pktgen's once-a-second rate lines."""
        text = [l for l in self.err().splitlines() if l.strip() and " Mpps " not in l]
        return text[-lines:]


class Launcher:
    """Starts processes in their own sessions (a Ctrl-C reaches soak.py alone, which stops them)."""

    def __init__(self, workdir):
        self.dir = workdir
        self.procs = []
        self.count = 0

    def start(self, name, argv, uid=None, netns=None):
        argv = [str(a) for a in argv]
        if uid is not None:
            argv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", "--"] + argv
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv  # both exec: the PID is the program's
        self.count += 1
        base = os.path.join(self.dir, "%04d-%s" % (self.count, name))
        with open(base + ".out", "w") as out, open(base + ".err", "w") as err:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=self.dir,
                                 start_new_session=True, preexec_fn=_no_core_dumps)
        proc = Proc(name, p, base + ".out", base + ".err")
        self.procs.append(proc)
        return proc

    def stop_all(self):
        """Stops every process still running, the newest first (clients before their daemon)."""
        for p in reversed(self.procs):
            if p.alive():
                p.stop(grace=3.0)


class Daemon:
    """A netringd on `workdir`/netringd.sock with the given configuration text."""

    def __init__(self, launcher, build, workdir, config_text):
        self.launcher, self.build = launcher, build
        self.sock = os.path.join(workdir, "netringd.sock")
        self.conf = os.path.join(workdir, "netringd.conf")
        with open(self.conf, "w") as f:
            f.write(config_text)
        self.proc = None
        self.generation = 0

    def exe(self, relative):
        return os.path.join(self.build, relative)

    def start(self):
        self.generation += 1
        self.proc = self.launcher.start("netringd%d" % self.generation,
                                        [self.exe("daemon/netringd"), "--socket", self.sock, "--config", self.conf])
        wait_until(lambda: os.path.exists(self.sock) or not self.proc.alive(), 15)
        if not (self.proc.alive() and os.path.exists(self.sock)):
            raise RuntimeError("netringd did not start: " + " | ".join(self.proc.said(5)))
        log("netringd %d started, pid %d" % (self.generation, self.proc.pid))

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def stop(self):
        """SIGTERM, as an operator stops it; returns its exit status (0 expected)."""
        return self.proc.stop(signal.SIGTERM, grace=20.0)

    def tool(self, name, *args, timeout=30):
        return subprocess.run([self.exe("tools/" + name), "--socket", self.sock] + [str(a) for a in args],
                              capture_output=True, text=True, timeout=timeout)

    def status(self):
        """`netring-ctl status --json` as a dict, or None when the daemon did not answer."""
        r = self.tool("netring-ctl", "status", "--json")
        return json.loads(r.stdout) if r.returncode == 0 and r.stdout.startswith("{") else None

    def switch(self, *args):
        r = self.tool("netring-switch", *args)
        if r.returncode != 0:
            raise RuntimeError("netring-switch %s: %s" % (" ".join(args), r.stderr.strip()))

    def registered(self, pid):
        st = self.status()
        return bool(st) and any(r["pid"] == pid for r in st["registrations"])

    def wait_registered(self, proc, timeout=15):
        """True once `proc` holds a registration; False if it exited or the time ran out."""
        return wait_until(lambda: not proc.alive() or self.registered(proc.pid), timeout, 0.1) and proc.alive()

    def settled(self, regions=None):
        """No registration, no client but the status query itself, and (if given) these regions."""
        st = self.status()
        return (bool(st) and not st["registrations"] and st["clients"] == 1 and
                (regions is None or sorted(r["name"] for r in st["regions"]) == sorted(regions)))

    def wait_settled(self, regions=None, timeout=30):
        ok = wait_until(lambda: self.settled(regions), timeout, 0.25)
        time.sleep(0.5)  # the last status query's connection is closed by now
        return ok

    def sample(self):
        """Descriptors, threads and RSS from /proc (read first, so the query below is not counted),
        then clients and free buffers per region from netring-ctl."""
        pid = self.proc.pid
        s = {"pid": pid, "fds": len(os.listdir("/proc/%d/fd" % pid)),
             "threads": len(os.listdir("/proc/%d/task" % pid))}
        with open("/proc/%d/status" % pid) as f:
            s["rss_kib"] = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        st = self.status() or {}
        s["clients"] = st.get("clients")
        s["regions"] = {r["name"]: r["buffers_free"] for r in st.get("regions", [])}
        return s


class Veth:
    """nrsoak0 (root namespace, netringd's NIC port) and nrsoak1 (namespace nrsoak-ns, the peer).
    Only what this object created is removed, by name."""

    def __init__(self):
        self.made_ns = self.made_link = False

    @staticmethod
    def leftovers():
        """Names of ours that exist already: a run still going, or one that could not clean up."""
        found = []
        if os.path.exists("/sys/class/net/" + NIC):
            found.append(NIC)
        if NS in sh("ip", "netns", "list", check=False).stdout.split():
            found.append(NS)
        return found

    def create(self):
        sh("ip", "netns", "add", NS)
        self.made_ns = True
        sh("ip", "link", "add", NIC, "type", "veth", "peer", "name", PEER, "netns", NS)
        self.made_link = True
        # No IPv6 chatter on the link (nic_peer ignores other frames anyway: a nicety).
        if shutil.which("sysctl"):
            sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % NIC, check=False)
            sh("ip", "netns", "exec", NS, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1", check=False)
        sh("ip", "link", "set", NIC, "up")
        sh("ip", "-n", NS, "link", "set", "lo", "up")
        sh("ip", "-n", NS, "link", "set", PEER, "up")

    def xdp_attached(self):
        return "prog/xdp" in sh("ip", "link", "show", "dev", NIC, check=False).stdout

    def xdp_off(self):
        sh("ip", "link", "set", "dev", NIC, "xdp", "off", check=False)

    def remove(self):
        if self.made_link:
            if self.xdp_attached():
                self.xdp_off()
            sh("ip", "link", "del", NIC, check=False)  # takes the peer with it
            self.made_link = False
        if self.made_ns:
            sh("ip", "netns", "del", NS, check=False)
            self.made_ns = False


def tools_missing():
    """The system commands soak.py needs that are not on PATH."""
    return [t for t in ("setpriv", "ip") if shutil.which(t) is None]
