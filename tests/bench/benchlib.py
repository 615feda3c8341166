"""What the benchmark scripts share: paths, JSON-line output, and reading a tool's JSON result."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PEERS = os.path.abspath(os.path.join(ROOT, "..", "shared", "peers"))


def emit(rec):
    """One measurement (or the summary) as one JSON line on stdout."""
    print(json.dumps(rec), flush=True)


def log(msg):
    print("# " + msg, file=sys.stderr, flush=True)


def last_json(text):
    """The last line of `text` that is a JSON object, or None (none, or it does not parse)."""
    for line in reversed((text or "").strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def ensure_dpdk():
    """Installs Debian's DPDK packages through the peers' own installer when testpmd is missing."""
    if subprocess.run(["sh", "-c", "command -v dpdk-testpmd"], capture_output=True).returncode == 0:
        return
    subprocess.run(["bash", "-c", 'source "$1/common.sh" && ensure_pkgs "${DPDK_PKGS[@]}"', "-", PEERS],
                   check=True, stdout=sys.stderr)


class FdStore:
    """The fd-store half of systemd's notify protocol, for benchmarks that SIGKILL netringd: a
    datagram socket at `path` (give the daemon NOTIFY_SOCKET=path) keeping the fds sent with
    FDSTORE=1 under their FDNAME=, dropping those named in FDSTOREREMOVE=1, and starting a successor
    with them as systemd does (fds from 3 up, LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID). netringd
    never sends one open file twice, so duplicates are not looked for."""

    def __init__(self, path):
        import socket
        import threading
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.lock = threading.Lock()
        self.fds = []  # (name, fd), in the order stored
        self.status = ""
        threading.Thread(target=self._read, daemon=True).start()

    def env(self):
        return "NOTIFY_SOCKET=" + self.path

    def _read(self):
        import array
        import socket
        while True:
            try:
                msg, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(253 * 4))
            except OSError:
                return
            passed = array.array("i")
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    passed.frombytes(data[:len(data) - len(data) % passed.itemsize])
            lines = msg.decode(errors="replace").splitlines()
            name = next((l[7:] for l in lines if l.startswith("FDNAME=")), "stored")
            with self.lock:
                for l in lines:
                    if l.startswith("STATUS="):
                        self.status = l[7:]
                if "FDSTOREREMOVE=1" in lines:
                    for n, fd in [e for e in self.fds if e[0] == name]:
                        os.close(fd)
                    self.fds = [e for e in self.fds if e[0] != name]
                if "FDSTORE=1" in lines:
                    self.fds += [(name, fd) for fd in passed]
                else:
                    for fd in passed:
                        os.close(fd)

    def spawn(self, argv, **kw):
        """Starts argv (its last exec must be netringd, e.g. through `ip netns exec`) with the
        store's fds, as systemd starts a unit's next main process."""
        with self.lock:
            fds = list(self.fds)
        stage = 4096  # the child moves them out of the way first: placing one never overwrites another

        def place():
            for i, (_, fd) in enumerate(fds):
                os.dup2(fd, stage + i)
            for i in range(len(fds)):
                os.dup2(stage + i, 3 + i)  # inheritable: survives exec
            os.closerange(3 + len(fds), stage + len(fds))  # nothing else of ours reaches the daemon

        env = dict(kw.pop("env", os.environ))
        env["LISTEN_FDS"] = str(len(fds))
        env["LISTEN_FDNAMES"] = ":".join(n for n, _ in fds)
        cmd = ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"'] + argv
        return subprocess.Popen(cmd, preexec_fn=place, close_fds=False, env=env, **kw)
