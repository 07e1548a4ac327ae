#!/bin/sh
# Seed 000's recovery: `lookout run restart-service --yes` (start, enable,
# endpoint check, every step and action durably logged) against the same
# three steps typed as shell (systemctl --user start, enable, a curl loop),
# inside tests/sandbox with a real systemd --user and a real HTTP server.
# Target: <= 1.3x the shell's time.  Also reports the engine's overhead per
# step against the sqlite3 shell making the same two durable writes.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
in_sandbox recovery -- sh tests/bench/recovery_inner.sh
