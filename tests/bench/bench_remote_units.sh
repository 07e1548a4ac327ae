#!/bin/sh
# State of 50 units on each of 5 "hosts" per refresh, through OpenSSH:
# `lookout status --json` (one sd-bus connection per host over
# ssh + systemd-stdio-bridge, all at once) against a loop of
# `ssh HOST systemctl --user show -p ... UNIT` over the same 250 units,
# with the same ssh_config, once without and once with an OpenSSH
# ControlMaster (a master per host, warmed before timing).  The hosts are
# real sshd on loopback, each in front of a systemd --user of its own
# (tests/sandbox --ssh 5).  Target: <= 0.02 of the loop's time.
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
in_sandbox remote_units_5x50 --ssh "${REMOTE_HOSTS:-5}" -- sh tests/bench/remote_units_inner.sh
