#!/usr/bin/env python3
"""Fails on a module import cycle in any crate of the workspace, and on source files too long.

    scripts/module_cycles.py              every target of every workspace member (cargo metadata)
    scripts/module_cycles.py ROOT.rs ...  the crates rooted at these files (lib.rs, main.rs, ...)
    scripts/module_cycles.py --edges ...  also print every edge of the module graph

Modules. From each crate root the module tree is followed through `mod x;` declarations
(`x.rs` or `x/mod.rs` beside a root or `mod.rs`, `y/x.rs` below a `y.rs`, `#[path]` is not
used in this project and not followed). Inline modules (`mod tests { ... }`) belong to their
file's module for the graph, but `super::` inside them is resolved from where they stand, so a
test module's `use super::*` is no edge. A module A depends on B when A's code names a path
into B: `use crate::B...`, `crate::B::x` in code, `super::...`, `self::...`, a path starting
with a child module's name, and path-only string literals such as serde's
`serialize_with = "crate::B::f"`. The path is resolved to the longest module prefix it
names, so `crate::html::chart::render` is an edge to `html::chart`, and `crate::html::escape`
one to `html` (its `mod.rs`). A `mod b;` declaration alone is no edge: a parent holding a
child is not an import; a parent *using* a child (`pub use page::render`) is. Comments and
the contents of other string literals are ignored. Every cycle (each strongly connected set of
modules) is printed with one cycle through it and, for each edge inside it, the files and
lines that make it.

Lengths. A source file reached from a crate root over 800 lines is a warning and over 1000 a
failure ("a file over ~800 lines is usually two files"). Test files are exempt: a file under
a `tests/` folder, or named `tests.rs`, holds tables of cases, which read better long than
split. `KNOWN_LONG` below may list files over the limit whose split is under way: each fails
only if it grows past the length recorded there; likewise `KNOWN_CYCLES` may list a cycle left
in code being split elsewhere, which warns while it stays within the modules listed and fails
as soon as it reaches another. Both are empty now; an entry that matches nothing any more (its
file is gone or short, its cycle broken) is noted, to be deleted.

Exit status: 0 clean (warnings allowed), 1 on a cycle or a file too long, 2 on a usage error.
Python 3 standard library only.
"""

import json
import os
import re
import subprocess
import sys
from collections import defaultdict

WARN_LINES = 800
FAIL_LINES = 1000

# Over FAIL_LINES when this check was added; the engine's split (issue 14) takes them apart.
# Each may not grow; delete its entry once the file is short.
KNOWN_LONG = {}

# Cycles there when this check was added, in code another change of issue 14 is taking apart:
# crate root → the modules of one cycle (as printed, without `crate::`). A cycle inside one of
# these is a warning; one that reaches any other module fails. Delete an entry once it is gone.
KNOWN_CYCLES = {}

PATH_STRING = re.compile(r"^(?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+$")


def strip_code(text):
    """Returns `text` with comments and string/char literal contents blanked (newlines kept),
    and the (line, content) of every string literal that is a module path."""
    out = []
    path_strings = []
    i, n, line = 0, len(text), 1

    def blank(s):
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            chunk = text[i:j]
            out.append(blank(chunk))
            line += chunk.count("\n")
            i = j
            continue
        raw = re.match(r'b?r(#*)"', text[i:i + 260]) if c in "br" else None
        if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + raw.group(1)
            start = i + raw.end()
            j = text.find(end, start)
            j = n if j < 0 else j + len(end)
            chunk = text[i:j]
            out.append(blank(chunk))
            line += chunk.count("\n")
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            chunk = text[i:j]
            content = chunk[1:-1]
            if PATH_STRING.match(content):
                path_strings.append((line, content))
            out.append(blank(chunk))
            line += chunk.count("\n")
            i = j
            continue
        if c == "'":
            # A char literal ('{', '\n', '\u{7f}'), not a lifetime ('a).
            m = re.match(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'", text[i:i + 12])
            if m:
                out.append(" " * m.end())
                i += m.end()
                continue
        if c == "\n":
            line += 1
        out.append(c)
        i += 1
    return "".join(out), path_strings


def expand_use(tree):
    """`a::{b, c::{self, d}, e as f, *}` → [[a, b], [a, c], [a, c, d], [a, e], [a]]."""
    tree = re.sub(r"\s*(::|[{},])\s*", r"\1", tree.strip())
    paths = []

    def walk(prefix, s):
        # Split s at top-level commas.
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        for part in parts:
            if not part:
                continue
            brace = part.find("{")
            if brace >= 0:
                head = [x for x in part[:brace].split("::") if x]
                walk(prefix + head, part[brace + 1:part.rfind("}")])
                continue
            part = re.sub(r"\s+as\s+\w+$", "", part.strip())
            segments = [x for x in part.split("::") if x]
            if segments and segments[-1] in ("self", "*"):
                segments = segments[:-1]
            if prefix + segments:
                paths.append(prefix + segments)

    walk([], tree.lstrip(":"))
    return paths


TOKEN = re.compile(
    r"(?P<mod>\bmod\s+(?:r#)?(?P<modname>[A-Za-z_]\w*)\s*(?P<modend>[;{]))"
    r"|(?P<use>\buse\s+(?P<tree>[^;]*);)"
    r"|(?P<path>(?<![\w:])(?:[A-Za-z_]\w*)(?:\s*::\s*[A-Za-z_]\w*)+)"
    r"|(?P<open>\{)|(?P<close>\})"
)


class Crate:
    """One crate's module tree and the references between its modules."""

    def __init__(self, root_file):
        self.root_file = os.path.abspath(root_file)
        self.files = {}  # module path (tuple) → file
        self.inline = set()  # module paths of inline modules
        self.children = defaultdict(set)  # module path → child names
        self.refs = []  # (from module path, absolute segments, file, line)
        self.missing = []  # (file, line, name) of `mod x;` without a file
        self._load((), self.root_file, is_dir_owner=True)

    def _load(self, module, path, is_dir_owner):
        self.files[module] = path
        with open(path, encoding="utf-8") as f:
            text = f.read()
        code, path_strings = strip_code(text)
        base = os.path.dirname(path)
        own_dir = base if is_dir_owner else os.path.join(base, os.path.splitext(os.path.basename(path))[0])
        # Stack of (brace depth at which an inline module opened, its module path, its dir).
        stack = [(-1, module, own_dir)]
        depth = 0
        for m in TOKEN.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            here, here_dir = stack[-1][1], stack[-1][2]
            if m.group("mod"):
                name = m.group("modname")
                self.children[here].add(name)
                child = here + (name,)
                if m.group("modend") == "{":
                    depth += 1
                    self.inline.add(child)
                    stack.append((depth, child, os.path.join(here_dir, name)))
                else:
                    candidates = [os.path.join(here_dir, name + ".rs"), os.path.join(here_dir, name, "mod.rs")]
                    found = next((c for c in candidates if os.path.isfile(c)), None)
                    if found is None:
                        self.missing.append((path, line, name))
                    else:
                        self._load(child, found, is_dir_owner=found.endswith("mod.rs"))
            elif m.group("use"):
                for segments in expand_use(m.group("tree")):
                    self.refs.append((here, segments, path, line))
            elif m.group("path"):
                segments = re.split(r"\s*::\s*", m.group("path"))
                self.refs.append((here, segments, path, line))
            elif m.group("open"):
                depth += 1
            elif m.group("close"):
                if stack[-1][0] == depth and len(stack) > 1:
                    stack.pop()
                depth -= 1
        for line, content in path_strings:
            self.refs.append((module, content.split("::"), path, line))

    def _absolute(self, here, segments):
        """The module path `segments` names from module `here`, or None (another crate, a type)."""
        first, rest = segments[0], list(segments[1:])
        if first == "crate":
            base = ()
        elif first in ("super", "self"):
            base = here
            while segments and segments[0] in ("super", "self"):
                if segments[0] == "super":
                    if not base:
                        return None
                    base = base[:-1]
                segments = segments[1:]
            rest = list(segments)
        elif first in self.children.get(here, ()):
            base, rest = here + (first,), rest
        else:
            return None
        target = base
        for s in rest:
            if target + (s,) in self.files or target + (s,) in self.inline:
                target = target + (s,)
            else:
                break
        return target

    def node(self, module):
        """The file module an (inline or file) module belongs to."""
        while module in self.inline:
            module = module[:-1]
        return module

    def edges(self):
        """{(from, to): [(file, line), ...]} between file modules."""
        edges = defaultdict(list)
        for here, segments, path, line in self.refs:
            target = self._absolute(here, segments)
            if target is None:
                continue
            a, b = self.node(here), self.node(target)
            if a != b and (path, line) not in edges[(a, b)]:
                edges[(a, b)].append((path, line))
        return edges


def strongly_connected(nodes, edges):
    """Tarjan's strongly connected components with more than one node, each sorted."""
    graph = defaultdict(list)
    for a, b in edges:
        graph[a].append(b)
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(out)


def one_cycle(component, edges):
    """A shortest cycle through the component's first module."""
    members = set(component)
    start = component[0]
    previous = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for (a, b) in sorted(edges):
                if a != v or b not in members:
                    continue
                if b == start:
                    path = [v]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return list(reversed(path)) + [start]
                if b not in previous:
                    previous[b] = v
                    following.append(b)
        frontier = following
    return component + [component[0]]


def name(crate, module):
    return "::".join(("crate",) + module)


def relative(path, base):
    return os.path.relpath(path, base)


def is_test_file(rel):
    parts = rel.replace(os.sep, "/").split("/")
    return "tests" in parts[:-1] or parts[-1] == "tests.rs"


def check(roots, base, print_edges=False):
    """Prints the findings for the crates rooted at `roots`; returns the exit status."""
    failed = False
    seen_files = set()
    for root in roots:
        crate = Crate(root)
        label = relative(root, base)
        for path, line, missing in crate.missing:
            print(f"{relative(path, base)}:{line}: warning: `mod {missing};` has no file (not followed)")
        edges = crate.edges()
        if print_edges:
            for (a, b) in sorted(edges):
                print(f"{label}: {name(crate, a)} → {name(crate, b)}")
        known = KNOWN_CYCLES.get(label.replace(os.sep, "/"), [])
        used = set()
        for component in strongly_connected(crate.files, edges):
            names = {"::".join(m) for m in component}
            tolerated = any(names <= k for k in known)
            used.update(i for i, k in enumerate(known) if names <= k)
            failed |= not tolerated
            cycle = one_cycle(component, edges)
            kind = "warning: known module cycle (split pending)" if tolerated else "error: module cycle"
            print(f"{label}: {kind}: {' → '.join(name(crate, m) for m in cycle)}")
            for (a, b), places in sorted(edges.items()):
                if a in component and b in component:
                    where = ", ".join(f"{relative(p, base)}:{ln}" for p, ln in places)
                    print(f"    {name(crate, a)} → {name(crate, b)}: {where}")
        for i, k in enumerate(known):
            if i not in used:
                print(f"{label}: note: no cycle within {sorted(k)} now; remove it from KNOWN_CYCLES")
        seen_files.update(crate.files.values())
    for path in sorted(seen_files):
        rel = relative(path, base).replace(os.sep, "/")
        if is_test_file(rel):
            continue
        with open(path, encoding="utf-8") as f:
            lines = sum(1 for _ in f)
        known = KNOWN_LONG.get(rel)
        if known is not None:
            if lines > known:
                failed = True
                print(f"{rel}: error: {lines} lines, grown past the {known} it had when listed as known long")
            elif lines > FAIL_LINES:
                print(f"{rel}: warning: {lines} lines (known long, split pending)")
            else:
                print(f"{rel}: note: {lines} lines now; remove it from KNOWN_LONG")
        elif lines > FAIL_LINES:
            failed = True
            print(f"{rel}: error: {lines} lines (more than {FAIL_LINES}): split it")
        elif lines > WARN_LINES:
            print(f"{rel}: warning: {lines} lines (more than {WARN_LINES}): usually two files")
    seen_rel = {relative(p, base).replace(os.sep, "/") for p in seen_files}
    for rel in sorted(set(KNOWN_LONG) - seen_rel):
        print(f"{rel}: note: no such source file now; remove it from KNOWN_LONG")
    return 1 if failed else 0


def workspace_roots(workspace):
    """The source roots of every target of every workspace member."""
    result = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
        cwd=workspace, check=True, capture_output=True, text=True,
    )
    metadata = json.loads(result.stdout)
    members = set(metadata["workspace_members"])
    roots = []
    for package in metadata["packages"]:
        if package["id"] not in members:
            continue
        for target in package["targets"]:
            if target["src_path"] not in roots:
                roots.append(target["src_path"])
    return sorted(roots)


def main(argv):
    print_edges = "--edges" in argv
    argv = [a for a in argv if a != "--edges"]
    if any(a.startswith("-") for a in argv):
        print("usage: scripts/module_cycles.py [--edges] [CRATE_ROOT.rs ...]", file=sys.stderr)
        return 2
    workspace = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if argv:
        roots = [os.path.abspath(a) for a in argv]
        base = os.getcwd()
    else:
        roots = workspace_roots(workspace)
        base = workspace
    status = check(roots, base, print_edges)
    print(f"module cycles: {len(roots)} crate roots, {'FAILED' if status else 'no cycle'}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
