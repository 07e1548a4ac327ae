#!/usr/bin/env python3
"""Counts test results from meson's testlog.json files.

A TAP test counts each of its subtests; any other test counts once.  A TAP
test that meson failed although every subtest passed (a crash, a missing
plan, a timeout) counts one extra failure, so nothing is hidden.
A build that failed is named with --build-failed NAME and counts one
failure: its tests never ran, and the last line must not read as green.
Prints one line: N passed, N failed, N skipped.  Exits 1 if anything failed.
"""
import json
import re
import sys

passed = failed = skipped = 0
tap = re.compile(r"^(ok|not ok)\b(.*)$")
paths = []
args = sys.argv[1:]
while args:
    a = args.pop(0)
    if a == "--build-failed":
        print(f"build failed: {args.pop(0)}", file=sys.stderr)
        failed += 1
    else:
        paths.append(a)
for path in paths:
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            p = f = s = 0
            for out in (t.get("stdout") or "").splitlines():
                m = tap.match(out)
                if not m:
                    continue
                directive = m.group(2)
                if re.search(r"#\s*SKIP", directive, re.I):
                    s += 1
                elif m.group(1) == "ok":
                    p += 1
                else:
                    f += 1
            result = t.get("result")
            if p + f + s == 0:
                if result == "OK":
                    p = 1
                elif result == "SKIP":
                    s = 1
                else:
                    f = 1
            elif result not in ("OK", "SKIP") and f == 0:
                f = 1
            passed += p
            failed += f
            skipped += s
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
