#!/usr/bin/python3
"""check-layout -- the layout rules of knet-transport/, checked on the
objects the build made and on the sources.

1. Calls between files (from the objects' symbol tables, `nm`): a file
   uses another when one of its undefined symbols is defined there.
   - no cycle of calls between files (any length);
   - the layers hold: lib -> nothing above it; daemon/common -> lib;
     daemon/io -> common, lib; daemon/parent -> io (the child's entry
     point), common, lib; tool -> lib.  Nothing calls the tool from the
     daemon or the daemon from the tool.
2. Sizes (from the sources): no C file over 600 lines, no function over
   80 (lines between a function's opening and closing brace in column 0).

Usage: check-layout.py TOP_SRCDIR TOP_BUILDDIR
       check-layout.py --self-test      (shows that each rule can fail)
Exit 0 when every rule holds, 1 with one line per violation.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

MAX_FILE_LINES = 600
MAX_FUNC_LINES = 80

# Allowed dependencies between layers (a layer may always use itself).
LAYERS = {
    "lib": set(),
    "daemon/common": {"lib"},
    "daemon/io": {"daemon/common", "lib"},
    "daemon/parent": {"daemon/io", "daemon/common", "lib"},
    "tool": {"lib"},
}
# Prefixes automake gives per-target objects (subdir-objects).
OBJ_PREFIX = re.compile(r"^(lib[a-z]+_a|disklinkd?|[a-z_]+)-")


def layer_of(rel):
    for layer in sorted(LAYERS, key=len, reverse=True):
        if rel == layer or rel.startswith(layer + "/"):
            return layer
    return None


def source_name(objdir_rel, obj):
    """knet-transport/<dir>/<name>.c of an object file name."""
    base = obj[:-2]
    m = OBJ_PREFIX.match(base)
    if m and os.path.basename(objdir_rel) != "" and "-" in base:
        base = base[m.end():]
    return os.path.join(objdir_rel, base + ".c")


def nm_symbols(path):
    out = subprocess.run(["nm", "-g", path], check=True, capture_output=True,
                         text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRVWC":
            defined.add(parts[2])
    return defined, undefined


def objects(builddir):
    """{source path relative to knet-transport: (defined, undefined)}"""
    root = os.path.join(builddir, "knet-transport")
    found = {}
    for dirpath, _dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            continue
        for f in sorted(files):
            if f.endswith(".o"):
                found[source_name(rel, f)] = nm_symbols(os.path.join(dirpath, f))
    return found


def call_graph(objs):
    owner = {}
    for src, (defined, _u) in objs.items():
        for sym in defined:
            owner.setdefault(sym, src)
    graph = {src: set() for src in objs}
    for src, (_d, undefined) in objs.items():
        for sym in undefined:
            dst = owner.get(sym)
            if dst and dst != src:
                graph[src].add(dst)
    return graph


def cycles(graph):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer_violations(graph):
    bad = []
    for src, dsts in sorted(graph.items()):
        ls = layer_of(os.path.dirname(src))
        for dst in sorted(dsts):
            ld = layer_of(os.path.dirname(dst))
            if ls is None or ld is None or ld == ls:
                continue
            if ld not in LAYERS[ls]:
                bad.append("%s calls %s: %s may not use %s" % (src, dst, ls, ld))
    return bad


def long_functions(path):
    """(first line, length, name) of each function over the limit."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    found, start, name = [], None, ""
    for i, line in enumerate(lines):
        if line.startswith("{") and start is None:
            j = i - 1
            while j >= 0 and "(" not in lines[j]:
                j -= 1
            start, name = i, lines[j].strip() if j >= 0 else "?"
        elif line.startswith("}") and start is not None:
            n = i - start - 1
            if n > MAX_FUNC_LINES:
                found.append((start + 1, n, name[:70]))
            start = None
    return len(lines) - (1 if lines and lines[-1] == "" else 0), found


def size_violations(srcdir):
    bad = []
    root = os.path.join(srcdir, "knet-transport")
    for dirpath, _dirs, files in os.walk(root):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, srcdir)
            n, funcs = long_functions(path)
            if n > MAX_FILE_LINES:
                bad.append("%s: %d lines (at most %d)" % (rel, n, MAX_FILE_LINES))
            for line, length, name in funcs:
                bad.append("%s:%d: function of %d lines (at most %d): %s"
                           % (rel, line, length, MAX_FUNC_LINES, name))
    return bad


def check(srcdir, builddir):
    objs = objects(builddir)
    if not objs:
        print("check-layout: no objects under %s/knet-transport: build first"
              % builddir)
        return 2
    graph = call_graph(objs)
    problems = []
    for comp in cycles(graph):
        problems.append("cycle of calls between files: " + " <-> ".join(comp))
    problems += layer_violations(graph)
    problems += size_violations(srcdir)
    for p in problems:
        print("check-layout: " + p)
    edges = sum(len(d) for d in graph.values())
    print("check-layout: %d files, %d calls between files, %d problems"
          % (len(graph), edges, len(problems)))
    return 1 if problems else 0


SELF_TEST = {
    # A cycle between two lib files, a lib file calling the daemon, a long
    # function and nothing else: each must be reported.
    "knet-transport/lib/a.c": "void b(void);\nvoid a(void)\n{\n\tb();\n}\n",
    "knet-transport/lib/b.c": "void a(void);\nvoid dld(void);\nvoid b(void)\n{\n"
                              "\ta();\n\tdld();\n}\n",
    "knet-transport/daemon/io/c.c": "void dld(void)\n{\n" + "\t;\n" * 81 + "}\n",
}


def self_test():
    tmp = tempfile.mkdtemp(prefix="check-layout.")
    try:
        for rel, text in SELF_TEST.items():
            src = os.path.join(tmp, "src", rel)
            obj = os.path.join(tmp, "build", os.path.dirname(rel),
                               "libx_a-" + os.path.basename(rel)[:-2] + ".o")
            os.makedirs(os.path.dirname(src), exist_ok=True)
            os.makedirs(os.path.dirname(obj), exist_ok=True)
            with open(src, "w") as f:
                f.write(text)
            subprocess.run(["cc", "-c", "-o", obj, src], check=True)
        objs = objects(os.path.join(tmp, "build"))
        graph = call_graph(objs)
        want = {
            "cycle": cycles(graph) == [["lib/a.c", "lib/b.c"]],
            "layer": any("lib may not use daemon/io" in v
                         for v in layer_violations(graph)),
            "size": any("function of 81 lines" in v
                        for v in size_violations(os.path.join(tmp, "src"))),
        }
        for rule, ok in want.items():
            print("self-test: %s rule %s" % (rule, "caught" if ok else "MISSED"))
        return 0 if all(want.values()) else 1
    finally:
        shutil.rmtree(tmp)


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    return check(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    sys.exit(main())
