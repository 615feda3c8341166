#!/usr/bin/env python3
"""check_layers.py catches what it must, and only that.

usage: planted_test.py --root DIR [unittest options]

* On a copy of the source folders under --root, one bad include is planted per forbidden edge of
  check_layers.FORBIDDEN (into a file of the first layer, naming a header of the second, in turn
  as <...> through an include dir, as a "..." path relative to the file, and as a "..." path from
  the root): the checker must exit 1 and report exactly that include on top of what it reports for
  the unmodified copy.
* On a small clean tree made here, using every allowed kind of include (and a bad one commented
  out), it must exit 0 with a one-line summary.
* netringd's link line must not name libclient's libnetring; a missing link.txt is skipped.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import check_layers  # noqa: E402

CHECKER = os.path.join(HERE, "check_layers.py")
LINK_TXT = "daemon/CMakeFiles/netringd.dir/link.txt"
VIOLATION_RE = re.compile(r"^(\S+):(\d+): (\w+) -> (\w+): ")
HEADER_EXTS = (".h", ".hh", ".hpp", ".hxx")

ROOT = None  # the real source tree, from --root

# The edges the rule table must forbid; a rule dropped from it fails here, not silently.
REQUIRED_EDGES = {
    ("Shared", "Daemon"), ("Shared", "Client"),
    ("Daemon", "Client"), ("Client", "Daemon"),
    ("Tools", "Daemon"), ("Tools", "Client"), ("Tools", "Shared"),
    ("Api", "Daemon"), ("Api", "Client"),
}


def run_checker(root, build=None):
    cmd = [sys.executable, CHECKER, "--root", root] + (["--build", build] if build else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout.splitlines(), p.stderr


def violations(lines):
    """{(path, line, from, to)} of the violation lines in the checker's output."""
    out = set()
    for line in lines:
        m = VIOLATION_RE.match(line)
        if m:
            out.add((m.group(1), int(m.group(2)), m.group(3), m.group(4)))
    return out


def layered_files(root):
    """{layer: [repository-relative paths, sorted]} of the source files under root."""
    files = {}
    for top in check_layers.source_roots():
        for dirpath, _, filenames in os.walk(os.path.join(root, top)):
            for fn in filenames:
                if fn.endswith(check_layers.SOURCE_EXTS):
                    rel = os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/")
                    layer = check_layers.layer_of(rel)
                    if layer:
                        files.setdefault(layer, []).append(rel)
    return {k: sorted(v) for k, v in files.items()}


def include_line(form, src, target):
    """An #include of target written in src, in one of three forms."""
    if form == 0:
        name = target[len("include/"):] if target.startswith("include/") else target
        return "#include <%s>" % name
    if form == 1:
        return '#include "%s"' % os.path.relpath(target, os.path.dirname(src)).replace(os.sep, "/")
    name = target[len("include/"):] if target.startswith("include/") else target
    return '#include "%s"' % name


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class PlantedInclude(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="layering-planted-")
        keep = check_layers.SOURCE_EXTS

        def ignore(d, names):
            return [n for n in names
                    if not os.path.isdir(os.path.join(d, n)) and not n.endswith(keep)]

        for top in check_layers.source_roots():
            src = os.path.join(ROOT, top)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(cls.tmp, top), ignore=ignore)
        rc, out, err = run_checker(cls.tmp)
        if rc not in (0, 1):
            raise RuntimeError("checker failed on the unmodified copy (%d): %s" % (rc, err))
        cls.baseline = violations(out)
        cls.files = layered_files(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_rule_table_forbids_the_required_edges(self):
        self.assertEqual({(a, b) for a, b, _ in check_layers.FORBIDDEN}, REQUIRED_EDGES)

    def test_each_forbidden_edge_is_reported(self):
        for i, (frm, to, _) in enumerate(check_layers.FORBIDDEN):
            with self.subTest(edge="%s -> %s" % (frm, to)):
                self.assertIn(frm, self.files, "no %s file under %s to plant into" % (frm, ROOT))
                headers = [f for f in self.files.get(to, []) if f.endswith(HEADER_EXTS)]
                self.assertTrue(headers, "no %s header under %s to include" % (to, ROOT))
                src, target = self.files[frm][0], headers[0]
                bad = include_line(i % 3, src, target)
                path = os.path.join(self.tmp, src)
                with open(path) as f:
                    original = f.read()
                body = original if original.endswith("\n") else original + "\n"
                planted_line = body.count("\n") + 1
                try:
                    with open(path, "w") as f:
                        f.write(body + bad + "\n")
                    rc, out, err = run_checker(self.tmp)
                finally:
                    with open(path, "w") as f:
                        f.write(original)
                report = "\n".join(out) + err
                self.assertEqual(rc, 1, "%s planted in %s: checker exit %d\n%s"
                                 % (bad, src, rc, report))
                found = violations(out)
                self.assertEqual(found - self.baseline, {(src, planted_line, frm, to)},
                                 "%s planted in %s:%d\n%s" % (bad, src, planted_line, report))
                self.assertTrue(self.baseline <= found, report)
                self.assertTrue(any(l.startswith("%s:%d:" % (src, planted_line)) and bad in l
                                    for l in out), report)


class CleanTree(unittest.TestCase):
    # Every allowed kind of include, one file or more per layer; a forbidden one commented out.
    FILES = {
        "include/netring/layout.h": "#pragma once\n#include <stdint.h>\n",
        "include/netring/error.hpp": "#pragma once\n#include <system_error>\n",
        "include/netring/protocol.hpp": "#pragma once\n#include <netring/error.hpp>\n",
        "include/netring/netring.hpp":
            "#pragma once\n#include <netring/error.hpp>\n#include <netring/layout.h>\n",
        "include/netring/unique_fd.hpp": '#pragma once\n#include "error.hpp"\n',
        "rings/ring_ops.hpp": "#pragma once\n#include <netring/layout.h>\n",
        "rings/pipe_sync.hpp":
            '#pragma once\n#include "ring_ops.hpp"\n#include <netring/error.hpp>\n',
        "rings/wire.hpp": "#pragma once\n#include <netring/protocol.hpp>\n",
        "libclient/connection.hpp":
            '#pragma once\n#include <rings/wire.hpp>\n#include <netring/unique_fd.hpp>\n',
        "libclient/port.cpp":
            '#include "connection.hpp"\n#include <rings/pipe_sync.hpp>\n'
            '#include <netring/netring.hpp>\n#include "not_in_the_tree.hpp"\n',
        "daemon/region.hpp": "#pragma once\n#include <rings/ring_ops.hpp>\n",
        "daemon/ports/pipe.hpp": '#pragma once\n#include "../region.hpp"\n',
        "daemon/ports/pipe.cpp":
            '#include "ports/pipe.hpp"\n#include <netring/netring.hpp>\n'
            '#include "rings/wire.hpp"\n#include <unistd.h>\n',
        "daemon/session.cpp":
            '#include "region.hpp"\n// #include <libclient/connection.hpp>\n'
            '/* not any more:\n#include <libclient/connection.hpp>\n*/\n'
            'const char* s = "/*";\n#include <rings/wire.hpp>\nconst char* e = "*/";\n'
            'int n = 1\'000; /* digit separators:\n#include <libclient/connection.hpp>\n*/\n'
            'const char* r = R"(")"; /* raw strings:\n#include <libclient/connection.hpp>\n*/\n',
        "tools/common/json_writer.hpp": "#pragma once\n#include <string>\n",
        "tools/pktgen/frame.hpp": "#pragma once\n#include <netring/layout.h>\n",
        "tools/pktgen/run.cpp":
            '#include "frame.hpp"\n#include <netring/netring.hpp>\n'
            '#include <netring/unique_fd.hpp>\n#include "tools/common/json_writer.hpp"\n',
        "tools/ctl/main.cpp":
            '#include "frame.hpp"\n#include <netring/netring.h>\n#include "netring/layout.h"\n',
    }

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="layering-clean-")
        cls.root = os.path.join(cls.tmp, "src")
        for rel, text in cls.FILES.items():
            write(cls.root, rel, text)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def build_dir(self, name, link_line):
        build = os.path.join(self.tmp, name)
        write(build, LINK_TXT, link_line + "\n")
        return build

    def test_every_layer_is_present(self):
        self.assertEqual(set(layered_files(self.root)),
                         {name for name, _ in check_layers.LAYERS})

    def test_clean_tree_passes(self):
        rc, out, err = run_checker(self.root)
        self.assertEqual(rc, 0, "\n".join(out) + err)
        self.assertTrue(out[-1].startswith("layering ok: %d files" % len(self.FILES)), out)
        self.assertTrue(any(l.startswith("link check skipped: no --build") for l in out), out)

    def test_clean_link_line_passes_with_one_line_summary(self):
        build = self.build_dir("build-clean",
                               "/usr/bin/c++ -O2 CMakeFiles/netringd.dir/main.cpp.o -o netringd "
                               "libnetringd_core.a /usr/lib/libbpf.so ../rings/libnetring_rings.a")
        rc, out, err = run_checker(self.root, build)
        self.assertEqual(rc, 0, "\n".join(out) + err)
        self.assertEqual(len(out), 1, out)
        self.assertIn("netringd link line", out[0])

    def test_missing_link_txt_is_skipped(self):
        build = os.path.join(self.tmp, "build-empty")
        os.makedirs(build, exist_ok=True)
        rc, out, err = run_checker(self.root, build)
        self.assertEqual(rc, 0, "\n".join(out) + err)
        self.assertTrue(any(l.startswith("link check skipped: ") and LINK_TXT in l for l in out),
                        out)

    def test_daemon_linking_libnetring_is_reported(self):
        for i, lib in enumerate(["../libclient/libnetring.a", "/b/libclient/libnetring.so.0"]):
            with self.subTest(lib=lib):
                build = self.build_dir("build-bad%d" % i,
                                       "/usr/bin/c++ CMakeFiles/netringd.dir/main.cpp.o -o "
                                       "netringd libnetringd_core.a %s "
                                       "../rings/libnetring_rings.a" % lib)
                rc, out, err = run_checker(self.root, build)
                self.assertEqual(rc, 1, "\n".join(out) + err)
                bad = [l for l in out if "Daemon -> Client: links %s" % lib in l]
                self.assertEqual(len(bad), 1, out)
                self.assertTrue(bad[0].startswith(os.path.join(build, LINK_TXT) + ":1:"), out)


def main():
    global ROOT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, help="the real source tree to copy from")
    args, rest = ap.parse_known_args()
    ROOT = os.path.abspath(args.root)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
