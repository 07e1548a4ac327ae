#!/bin/sh
# Every benchmark, each against the obvious alternative in the same run.
# Prints one line per benchmark:
#   BENCH <name> ratio=<lookout/peer> target=<target> lookout=<x> peer=<y> (<peer command>)
# Usage: sh tests/bench/run.sh [ROUNDS]     (default 5 rounds, median taken)
set -eu
cd "$(dirname "$0")/../.."
. tools/deps.sh
lookout_install_deps $LOOKOUT_BUILD_DEPS $LOOKOUT_BENCH_DEPS

B=build-bench
[ -d $B ] || meson setup $B -Dbuildtype=release >/dev/null
ninja -C $B >/dev/null
export LOOKOUT=$PWD/$B/lookout APPENDER=$PWD/$B/tests/store/appender
export ROUNDS=${1:-5}
W=$(mktemp -d /tmp/lookout-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
export W

for b in tests/bench/bench_*.sh; do
	sh "$b"
done
