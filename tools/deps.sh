# Installs the Debian packages lookout needs to build, test and try, and only
# those that are missing.  Sourced by tools/try.sh, tools/test.sh and
# tests/bench/run.sh.
# Runs apt-get as root, or through sudo.

LOOKOUT_BUILD_DEPS="gcc meson ninja-build pkg-config libsqlite3-dev
liblua5.4-dev libcurl4-openssl-dev libncurses-dev libsystemd-dev
libhiredis-dev libjansson-dev libssl-dev"
# tmux: the console's tests drive the real binary in tmux panes.
LOOKOUT_TEST_DEPS="libcriterion-dev sqlite3 strace python3 valgrind clang
groff-base tmux"
# tests/bench/run.sh: the console benchmarks run the console on a terminal
# emulated by pyte (python3-pyte, for Debian's python3), against top
# (procps) and less; the watch benchmarks run lookout watch against monit
# (its own control file and files under the run's directory: the package's
# system-wide monit, which watches nothing, is not used).
LOOKOUT_BENCH_DEPS="libcriterion-dev sqlite3 python3 python3-pyte procps less
monit"

lookout_install_deps() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q '^install ok installed$' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "lookout: installing$missing" >&2
	if [ "$(id -u)" -eq 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		echo "lookout: need root or sudo to install:$missing" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Service packages must not start system-wide daemons: tests start
	# their own on loopback.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
		$sudo chmod 755 "$policy"
		cleanup_policy=1
	fi
	$sudo apt-get update -qq >/dev/null &&
	    $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
	status=$?
	[ "${cleanup_policy:-0}" = 1 ] && $sudo rm -f "$policy"
	return $status
}
