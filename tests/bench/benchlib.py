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
