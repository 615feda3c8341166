#!/usr/bin/env python3
"""Layering check: which part of netring may include, and link, which.

usage: check_layers.py --root DIR [--build DIR]

Every #include written in a source file of a layer is resolved the way the compiler would find it
in the repository; an include that lands in a layer its own layer must not reach is a violation.
With --build, netringd's link line (<build>/daemon/CMakeFiles/netringd.dir/link.txt, which CMake's
Makefile generators write when configuring) must not name the client library either; without a
build dir or that file (Ninja writes none) the link part is skipped and says so.

Prints each violation as `path:line: LAYER -> LAYER: #include ... (reason)` and exits 1 if there is
any, else prints a one-line summary and exits 0 (2: bad arguments, or no source file under --root).
Standard library only.
"""
import argparse
import os
import re
import sys

# Layer of a repository path: the first entry with a matching prefix (a folder ends in "/") wins.
LAYERS = [
    ("Shared", ("include/netring/error.hpp", "include/netring/protocol.hpp",
                "include/netring/port_name.hpp", "rings/")),
    ("Api", ("include/netring/",)),
    ("Client", ("libclient/",)),
    ("Daemon", ("daemon/",)),
    ("Tools", ("tools/",)),
]

# The rules: (from layer, to layer, why that include or link is forbidden). Edges not listed here
# are allowed.
FORBIDDEN = [
    ("Shared", "Daemon", "the contract daemon and client share must not depend on the daemon"),
    ("Shared", "Client", "the contract daemon and client share must not depend on libnetring"),
    ("Daemon", "Client", "netringd speaks the protocol through the shared contract, "
                         "not libnetring"),
    ("Client", "Daemon", "libnetring talks to netringd only through the shared contract"),
    ("Tools", "Daemon", "tools are daemon clients; they must not reach into the daemon"),
    ("Tools", "Client", "tools use libnetring's public API, not its internals in libclient/"),
    ("Tools", "Shared", "tools use the public API only: netring.hpp, netring.h, layout.h, "
                        "unique_fd.hpp"),
    ("Api", "Daemon", "public headers must not expose the daemon"),
    ("Api", "Client", "public headers must not expose libnetring's internals"),
]

# Link rules: (link.txt under the build dir, its layer, library file names, the folder the library
# is built in, the layer of that folder). Checked against FORBIDDEN like an include.
LINKS = [
    ("daemon/CMakeFiles/netringd.dir/link.txt", "Daemon",
     re.compile(r"libnetring\.(a|so(\.[0-9]+)*)$"), "libclient", "Client"),
]

# Include directories of each layer, searched after the including file's own folder ("..." only),
# in the order the build passes them; "*" stands for each subfolder.
INCLUDE_DIRS = {
    "Daemon": ["daemon", "include", "."],
    "Tools": ["include", ".", "tools/*"],
}
DEFAULT_INCLUDE_DIRS = ["include", "."]

SOURCE_EXTS = (".h", ".hh", ".hpp", ".hxx", ".c", ".cc", ".cpp", ".cxx", ".ipp", ".inl", ".tpp")

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
RAW_OPEN_RE = re.compile(r'"([^()\\\s]{0,16})\(')

REASONS = {(a, b): why for a, b, why in FORBIDDEN}


def layer_of(rel):
    """The layer of a repository-relative path (with "/" separators), or None."""
    for name, prefixes in LAYERS:
        for p in prefixes:
            if rel == p or (p.endswith("/") and rel.startswith(p)):
                return name
    return None


def source_roots():
    """Top-level folders holding layered files."""
    return sorted({p.split("/")[0] for _, prefixes in LAYERS for p in prefixes})


def strip_comments(text):
    """text with comments blanked out; newlines (and so line numbers) and literals are kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == '"' and i > 0 and text[i - 1] == "R" and (m := RAW_OPEN_RE.match(text, i)):
            delim = m.group(1)  # a raw string: R"delim(...)delim"
            j = text.find(")" + delim + '"', i)
            j = n if j < 0 else j + len(delim) + 2
            out.append(text[i:j])
            i = j
        elif c == "'" and i > 0 and text[i - 1].isdigit() and text[i + 1:i + 2].isalnum() \
                and text[i + 2:i + 3] != "'":
            out.append(c)  # a digit separator: 1'000'000
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def includes(path):
    """(line number, delimiter, name) of each #include in the file at path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = strip_comments(f.read())
    for no, line in enumerate(text.split("\n"), 1):
        m = INCLUDE_RE.match(line)
        if m:
            yield no, m.group(1), m.group(2).strip()


def search_dirs(root, layer):
    dirs = []
    for d in INCLUDE_DIRS.get(layer, DEFAULT_INCLUDE_DIRS):
        if d.endswith("/*"):
            base = os.path.join(root, d[:-2])
            if os.path.isdir(base):
                dirs += [os.path.join(base, s) for s in sorted(os.listdir(base))
                         if os.path.isdir(os.path.join(base, s))]
        else:
            dirs.append(os.path.normpath(os.path.join(root, d)))
    return dirs


def resolve(root, src, delim, name, dirs):
    """Repository-relative path the include lands on, or None (a system header, or outside)."""
    candidates = [os.path.dirname(src)] if delim == '"' else []
    for d in candidates + dirs:
        p = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(p):
            rel = os.path.relpath(p, root)
            if rel == ".." or rel.startswith(".." + os.sep):
                return None
            return rel.replace(os.sep, "/")
    return None


def check_includes(root):
    """(violations, files checked, project includes checked)."""
    violations, nfiles, nincl = [], 0, 0
    for top in source_roots():
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for fn in sorted(filenames):
                if not fn.endswith(SOURCE_EXTS):
                    continue
                src = os.path.join(dirpath, fn)
                rel = os.path.relpath(src, root).replace(os.sep, "/")
                frm = layer_of(rel)
                if frm is None:
                    continue
                nfiles += 1
                dirs = search_dirs(root, frm)
                for no, delim, name in includes(src):
                    target = resolve(root, src, delim, name, dirs)
                    if target is None:
                        continue
                    nincl += 1
                    to = layer_of(target)
                    why = REASONS.get((frm, to))
                    if why is None:
                        continue
                    close = ">" if delim == "<" else '"'
                    shown = "#include %s%s%s" % (delim, name, close)
                    if name != target:
                        shown += " [%s]" % target
                    violations.append("%s:%d: %s -> %s: %s (%s)" % (rel, no, frm, to, shown, why))
    return violations, nfiles, nincl


def check_links(build):
    """(violations, skip notes)."""
    violations, skipped = [], []
    for linkfile, frm, lib_re, lib_dir, to in LINKS:
        if build is None:
            skipped.append("link check skipped: no --build given")
            continue
        path = os.path.join(build, linkfile)
        if not os.path.isfile(path):
            skipped.append("link check skipped: %s not found (configure with a Makefile "
                           "generator)" % path)
            continue
        why = REASONS.get((frm, to))
        if why is None:
            continue
        cwd = os.path.join(build, os.path.dirname(linkfile).split("/CMakeFiles/")[0])
        forbidden_dir = os.path.normpath(os.path.join(build, lib_dir))
        with open(path, encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, 1):
                for tok in line.split():
                    tok = tok.strip("'\"")
                    if not lib_re.search(os.path.basename(tok)):
                        continue
                    d = os.path.normpath(os.path.join(cwd, os.path.dirname(tok)))
                    if d == forbidden_dir or os.path.basename(d) == lib_dir:
                        violations.append("%s:%d: %s -> %s: links %s (%s)"
                                          % (path, no, frm, to, tok, why))
    return violations, skipped


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check netring's include and link layering.")
    ap.add_argument("--root", required=True, help="source tree (repository root)")
    ap.add_argument("--build", help="build tree; enables the link check")
    args = ap.parse_args(argv)
    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        print("check_layers: --root %s is not a folder" % args.root, file=sys.stderr)
        return 2
    violations, nfiles, nincl = check_includes(root)
    if nfiles == 0:
        print("check_layers: no source file under %s (wrong --root?)" % root, file=sys.stderr)
        return 2
    build = os.path.abspath(args.build) if args.build else None
    link_violations, skipped = check_links(build)
    violations += link_violations
    for v in violations:
        print(v)
    for s in skipped:
        print(s)
    if violations:
        print("%d layering violation(s)" % len(violations))
        return 1
    print("layering ok: %d files, %d project includes%s, no forbidden edge"
          % (nfiles, nincl, ", netringd link line" if not skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
