#!/usr/bin/env python3
"""The folder rules of gatewayd/ARCHITECTURE.md, enforced.

The rooms table there (between <!-- rooms --> and <!-- /rooms -->) says which
rooms each folder of gatewayd/src may include. This script:
  (no arguments)     scans every #include "room/..." in gatewayd/src and
                     plugins/ and fails on an edge the table does not allow,
                     on a cycle, and on a folder the table does not list;
  --cmake FILE       writes, for CMake, each room's allowed rooms and their
                     closure (what its headers may pull in), so that each
                     library target gets only those include paths.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "gatewayd", "src")
DOC = os.path.join(ROOT, "gatewayd", "ARCHITECTURE.md")
PUBLIC = "gatewayd"  # gatewayd/include/gatewayd/plugin.h, the plugin ABI


def read_rules():
    text = open(DOC, encoding="utf-8").read()
    m = re.search(r"<!-- rooms -->(.*?)<!-- /rooms -->", text, re.S)
    if not m:
        sys.exit(f"{DOC}: no <!-- rooms --> table")
    rules = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        room = cells[0].strip("`").rstrip("/")
        allowed = set(re.findall(r"`([^`]+)`", cells[-1]))
        rules[room] = {a.rstrip("/") for a in allowed}
    return rules


def closure(rules, room):
    seen, todo = set(), list(rules.get(room, ()))
    while todo:
        r = todo.pop()
        if r in seen:
            continue
        seen.add(r)
        todo.extend(rules.get(r, ()))
    return seen


def find_cycle(rules):
    state = {}

    def visit(r, path):
        if state.get(r) == 1:
            return path[path.index(r):] + [r]
        if state.get(r) == 2:
            return None
        state[r] = 1
        for d in sorted(rules.get(r, ())):
            c = visit(d, path + [r])
            if c:
                return c
        state[r] = 2
        return None

    for r in sorted(rules):
        c = visit(r, [])
        if c:
            return c
    return None


def room_of(path):
    rel = os.path.relpath(path, SRC)
    if rel.startswith(".."):
        return "plugins"
    return rel.split(os.sep)[0] if os.sep in rel else "main.cpp"


def scan(rules):
    rooms = set(rules) - {"main.cpp", "plugins"}
    problems, counts = [], {}
    known = rooms | {PUBLIC}
    for entry in sorted(os.listdir(SRC)):
        if os.path.isdir(os.path.join(SRC, entry)) and entry not in rooms:
            problems.append(f"gatewayd/src/{entry}/: not in the rooms table of gatewayd/ARCHITECTURE.md")
    files = []
    for base in (SRC, os.path.join(ROOT, "plugins")):
        for d, _, names in os.walk(base):
            files += [os.path.join(d, n) for n in sorted(names) if n.endswith((".h", ".cpp", ".c"))]
    for path in files:
        room = room_of(path)
        allowed = rules.get(room, set()) | {room}
        for number, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
            m = re.match(r'\s*#\s*include\s+[<"]([^">]+)[">]', line)
            if not m or "/" not in m.group(1):
                continue
            target = m.group(1).split("/")[0]
            if target not in known:
                continue  # a system or library header
            counts[room] = counts.get(room, 0) + 1
            if target not in allowed:
                problems.append(f"{os.path.relpath(path, ROOT)}:{number}: {room} may not include {m.group(1)} "
                                f"(it may include: {', '.join(sorted(rules.get(room, ()))) or 'nothing'})")
    return problems, counts


def main():
    rules = read_rules()
    cycle = find_cycle(rules)
    if cycle:
        sys.exit("the rooms table has a cycle: " + " -> ".join(cycle))
    if len(sys.argv) == 3 and sys.argv[1] == "--cmake":
        with open(sys.argv[2], "w", encoding="utf-8") as out:
            out.write("# Written by scripts/check-rooms.py from gatewayd/ARCHITECTURE.md\n")
            for room in sorted(rules):
                name = room.replace(".", "_")
                out.write(f"set(GWD_ROOM_CLOSURE_{name} {' '.join(sorted(closure(rules, room)))})\n")
        return 0
    problems, counts = scan(rules)
    for room in sorted(rules):
        print(f"{room}: {counts.get(room, 0)} includes of rooms, may include "
              f"{', '.join(sorted(rules[room])) or 'nothing'}")
    for p in problems:
        print(p)
    print(f"{len(problems)} problems" if problems else "no forbidden includes, no cycles, every folder listed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
