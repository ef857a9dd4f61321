#!/usr/bin/env python3
"""Instructions of one callgrind profile, grouped by who is responsible.

Groups: gatewayd (the daemon and its plugins), SQLite, Paho, and the C/C++
runtime (libc, libstdc++, ld.so) charged to whoever called it: a malloc
called by Paho is Paho's, one called by gatewayd or SQLite is theirs. The
runtime's own cost is passed up to its callers in proportion to the
instructions of each call; what no one outside the runtime called (thread
start-up) stays "runtime". Prints instructions per reading.

  bench/callgrind_objects.py --readings 20000 callgrind.out.1234.1
"""
import argparse
import collections
import re
import sys

RUNTIME = ("libc.so", "libstdc++.so", "ld-linux", "libm.so", "libgcc_s.so")
GROUPS = ("gatewayd", "SQLite", "Paho", "runtime", "other")


def group_of(obj):
    name = obj.rsplit("/", 1)[-1]
    if "paho" in name:
        return "Paho"
    if "sqlite" in name:
        return "SQLite"
    if name.startswith(RUNTIME):
        return "runtime"
    if name == "gatewayd" or "plugin-images" in obj or name.endswith(".so") and "/plugins/" in obj:
        return "gatewayd"
    return "other"


def parse(path):
    names = {"ob": {}, "fn": {}}
    self_cost = collections.Counter()  # (ob, fn) -> own instructions
    callers = collections.defaultdict(collections.Counter)  # callee -> caller -> inclusive instructions
    ob = fn = None
    cob = cfn = None
    pending = False
    name_re = re.compile(r"^(c?(?:ob|fn))=\((\d+)\)(?: (.*))?$")
    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            m = name_re.match(line)
            if m:
                kind, ident, text = m.groups()
                table = names["ob" if kind.endswith("ob") else "fn"]
                if text:
                    table[ident] = text
                value = table.get(ident, "?")
                if kind == "ob":
                    ob = value
                elif kind == "fn":
                    fn, cob, cfn = value, None, None
                elif kind == "cob":
                    cob = value
                else:
                    cfn = value
                continue
            if line.startswith("calls="):
                pending = True
                continue
            if not line or not (line[0].isdigit() or line[0] in "+-*"):
                continue
            parts = line.split()
            if len(parts) < 2:
                continue
            try:
                cost = int(parts[1])
            except ValueError:
                continue
            if pending:
                pending = False
                callee = (cob or ob, cfn)
                callers[callee][(ob, fn)] += cost
                cob = cfn = None
            else:
                self_cost[(ob, fn)] += cost
    return self_cost, callers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readings", type=int, default=1)
    ap.add_argument("profile")
    args = ap.parse_args()
    self_cost, callers = parse(args.profile)

    memo = {}

    def shares(func, seen):
        """How a runtime function's cost divides among the groups."""
        if group_of(func[0]) != "runtime":
            return {group_of(func[0]): 1.0}
        if func in memo:
            return memo[func]
        if func in seen:
            return {}
        seen.add(func)
        incoming = {c: v for c, v in callers.get(func, {}).items() if c != func}
        total = sum(incoming.values())
        out = collections.Counter()
        if total == 0:
            out["runtime"] = 1.0
        else:
            for caller, v in incoming.items():
                for g, s in shares(caller, seen).items():
                    out[g] += s * v / total
            missing = 1.0 - sum(out.values())
            if missing > 1e-9:
                out["runtime"] += missing  # a cycle back into itself
        seen.discard(func)
        memo[func] = out
        return out

    sys.setrecursionlimit(100000)
    own = collections.Counter()
    charged = collections.Counter()
    for func, cost in self_cost.items():
        g = group_of(func[0])
        if g != "runtime":
            own[g] += cost
            continue
        for owner, s in shares(func, set()).items():
            charged[owner] += cost * s
    n = args.readings
    total = sum(self_cost.values())
    for g in GROUPS:
        if own[g] == 0 and charged[g] == 0:
            continue
        print(f"{g}: own {own[g] / n:.0f}, runtime {charged[g] / n:.0f}, together {(own[g] + charged[g]) / n:.0f}")
    print(f"total: {total / n:.0f}")


if __name__ == "__main__":
    sys.exit(main())
