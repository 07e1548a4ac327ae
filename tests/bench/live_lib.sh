# Helpers for the live-state benchmarks (bench_live_*.sh): running an inner
# script inside tests/sandbox/sandbox.sh, and writing throwaway user units.
# Sourced after lib.sh, from the checkout's top directory.

# in_sandbox NAME [--redis] -- INNER [ARGS...]: runs INNER (a shell script)
# inside a real systemd --user (and redis-server with --redis).  Where the
# sandbox cannot run, prints "BENCH NAME skipped: reason" and exits 0.
in_sandbox() {
	_name=$1
	shift
	_err=$W/$_name.sandbox.err
	_rc=0
	sh tests/sandbox/sandbox.sh "$@" 2>"$_err" || _rc=$?
	if [ "$_rc" -eq 77 ]; then
		echo "BENCH $_name skipped: $(sed -n 's/^SKIP: //p' "$_err" | head -n 1)"
		exit 0
	fi
	if [ "$_rc" -ne 0 ]; then
		cat "$_err" >&2
		echo "bench $_name: failed (exit $_rc)" >&2
		exit 1
	fi
	# Whatever the sandbox said on stderr besides (e.g. teardown notes).
	cat "$_err" >&2
}

# user_unit NAME LINE...: writes a user unit file.
user_unit() {
	_u=$1
	shift
	printf '%s\n' "$@" >"$XDG_CONFIG_HOME/systemd/user/$_u"
}

# bench_free_port: a TCP port in 20000..44999 that no socket uses.
bench_free_port() {
	_n=0
	while [ "$_n" -lt 100 ]; do
		_n=$((_n + 1))
		_p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' \n') % 25000))
		_hex=$(printf '%04X' "$_p")
		awk -v h="$_hex" 'FNR > 1 { n = split($2, a, ":"); if (a[n] == h) f = 1 }
		    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null && continue
		echo "$_p"
		return 0
	done
	echo "no free TCP port on 127.0.0.1" >&2
	return 1
}

# status_json CONFIG OUT: lookout status --json; exit 0 (healthy) and 1
# (something degraded) are both answers, 2 is an error.
status_json() {
	_rc=0
	"$LOOKOUT" --config "$1" status --json >"$2" 2>"$2.err" || _rc=$?
	if [ "$_rc" -gt 1 ]; then
		echo "lookout status failed (exit $_rc): $(cat "$2.err")" >&2
		return 1
	fi
}
