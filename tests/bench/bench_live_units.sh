#!/bin/sh
# Live state of 200 systemd user units: `lookout status --json` with 200
# service blocks (no checks) against a loop of `systemctl --user show -p ...`
# over the same 200 units (the properties lookout reads), inside a real
# systemd --user (tests/sandbox).  170 running, 20 failed, 10 stopped.
# Target: <= 0.03 of the loop's time.  The line also gives the manager's
# own CPU per lookout run, and lookout's wall time over it.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
in_sandbox live_units_200 -- sh tests/bench/live_units_inner.sh
