#!/usr/bin/env python3
"""Checks the module layout against docs/architecture.md (run by Scripts/test.sh, so CI fails when it breaks):

1. every target of Package.swift is in the module table of docs/architecture.md with the same Ballast
   dependencies, and the table names no target that does not exist;
2. a pure target (marked `pure` in the table) depends only on other pure targets: no external package
   (NIO, GRDB, Hummingbird, AsyncHTTPClient, Crypto, ...) and no system library (librdkafka);
3. a pure target's sources import nothing but pure targets, Foundation and Synchronization.

Reads the package through `swift package dump-package`; prints one line per problem and exits 1, else 0.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "architecture.md")
ALLOWED_PURE_IMPORTS = {"Foundation", "Synchronization"}


def package():
    out = subprocess.run(
        ["swift", "package", "--package-path", ROOT, "dump-package"], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


def table():
    """target -> (kind, set of Ballast dependencies), from the rows between the module-graph markers."""
    text = open(DOC, encoding="utf-8").read()
    m = re.search(r"<!-- module-graph -->(.*?)<!-- /module-graph -->", text, re.S)
    if not m:
        sys.exit("docs/architecture.md has no <!-- module-graph --> table")
    rows = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`")
        deps = set(re.findall(r"`([A-Za-z]+)`", cells[2]))
        rows[name] = (cells[1], deps)
    return rows


def main():
    pkg = package()
    targets = {t["name"]: t for t in pkg["targets"]}
    internal = {}
    external = {}
    for name, t in targets.items():
        deps, products = set(), set()
        for d in t.get("dependencies", []):
            kind, value = next(iter(d.items()))
            if kind == "product":
                products.add(f"{value[0]} ({value[1]})")
            else:
                deps.add(value[0])
        internal[name] = deps
        external[name] = products

    problems = []
    doc = table()
    for name, t in targets.items():
        if name not in doc:
            problems.append(f"docs/architecture.md: target {name} is missing from the module table")
            continue
        kind, deps = doc[name]
        if deps != internal[name]:
            problems.append(
                f"docs/architecture.md: {name} depends on {sorted(internal[name]) or 'nothing'} in Package.swift, "
                f"the table says {sorted(deps) or 'nothing'}"
            )
    for name in doc:
        if name not in targets:
            problems.append(f"docs/architecture.md: {name} is in the module table but not in Package.swift")

    pure = {name for name, (kind, _) in doc.items() if kind == "pure"}
    for name in sorted(pure & set(targets)):
        for product in sorted(external[name]):
            problems.append(f"pure target {name} depends on the package product {product}: pure targets do no I/O")
        for dep in sorted(internal[name] - pure):
            problems.append(f"pure target {name} depends on {dep}, which is not pure")
        path = targets[name].get("path") or os.path.join("Sources", name)
        for folder, _, files in os.walk(os.path.join(ROOT, path)):
            for f in files:
                if not f.endswith(".swift"):
                    continue
                for i, line in enumerate(open(os.path.join(folder, f), encoding="utf-8"), 1):
                    m = re.match(r"\s*(?:@\w+\s+)*(?:public |internal |package |private |fileprivate )?import (\w+)", line)
                    if m and m.group(1) not in pure | ALLOWED_PURE_IMPORTS:
                        rel = os.path.relpath(os.path.join(folder, f), ROOT)
                        problems.append(f"{rel}:{i}: pure target {name} imports {m.group(1)}")

    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"architecture check: {len(problems)} problem(s); see docs/architecture.md", file=sys.stderr)
        return 1
    print(f"architecture check: {len(targets)} targets match docs/architecture.md; "
          f"{len(pure & set(targets))} pure targets import no I/O")
    return 0


if __name__ == "__main__":
    sys.exit(main())
