#!/bin/sh
# First full frame: 200 user units (as bench_live_units.sh makes them); the
# time from starting the console to the first frame in which every visible
# row shows its unit's state (no "?" marker, no "reading the state..."),
# against `systemctl --user list-units --all` over the same units (inside
# tests/sandbox).  Target: report.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
console_check console_first_frame
in_sandbox console_first_frame -- sh tests/bench/console_frame_inner.sh
