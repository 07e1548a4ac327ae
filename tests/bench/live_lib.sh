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

# The properties lookout reads of a unit, for the systemctl peers.
# shellcheck disable=SC2034
BENCH_UNIT_PROPS=ActiveState,SubState,LoadState,UnitFileState,MainPID,NRestarts,ControlGroup,Result,ExecMainStatus,StateChangeTimestamp

# bench_units DIR: N (LIVE_UNITS_N, 200) user units bench-1.service ..
# bench-N.service, started: every 10th exits 1 at once (failed), every 20th
# (offset 5) is never started (inactive), the rest run.  Sets N; writes the
# units' names to DIR/units and a service block for each to DIR/lookout.lua
# (appended), and returns once the failed ones have failed.
bench_units() {
	N=${LIVE_UNITS_N:-200}
	_running="" _failed=""
	mkdir -p "$1" "$XDG_CONFIG_HOME/systemd/user"
	: >"$1/units"
	for _i in $(seq 1 "$N"); do
		_u=bench-$_i.service
		if [ $((_i % 10)) -eq 0 ]; then
			user_unit "$_u" "[Service]" "ExecStart=/bin/false"
			_failed="$_failed $_u"
		elif [ $((_i % 20)) -eq 5 ]; then
			user_unit "$_u" "[Service]" "ExecStart=/bin/sleep 100000"
		else
			user_unit "$_u" "[Service]" "ExecStart=/bin/sleep 100000"
			_running="$_running $_u"
		fi
		echo "$_u" >>"$1/units"
		echo "service \"bench-$_i\" { unit = \"$_u\", scope = \"user\" }" >>"$1/lookout.lua"
	done
	systemctl --user daemon-reload
	# shellcheck disable=SC2086
	systemctl --user start $_running
	# shellcheck disable=SC2086
	systemctl --user start --no-block $_failed
	for _t in $(seq 1 100); do
		_n=$(systemctl --user list-units --state=failed --no-legend --plain 'bench-*' | wc -l)
		[ "$_n" -ge $((N / 10)) ] && break
		sleep 0.1
	done
}

# memory_setup DIR: NSVC (LIVE_MEM_SERVICES, 500) services mem-1..mem-NSVC,
# of which the first RUNNING (LIVE_MEM_RUNNING, 100) have a running unit
# (the others do not exist), and NQ (LIVE_MEM_QUEUES, 100) Redis queues of
# three items each on the sandbox's redis-server, in DIR/lookout.lua.  Sets
# NSVC, NQ and RUNNING.
memory_setup() {
	NSVC=${LIVE_MEM_SERVICES:-500}
	NQ=${LIVE_MEM_QUEUES:-100}
	RUNNING=${LIVE_MEM_RUNNING:-100}
	mkdir -p "$1" "$XDG_CONFIG_HOME/systemd/user"
	: >"$1/lookout.lua"
	: >"$1/fill.txt"
	_units=""
	_i=1
	while [ "$_i" -le "$NSVC" ]; do
		if [ "$_i" -le "$RUNNING" ]; then
			user_unit "mem-$_i.service" "[Service]" "ExecStart=/bin/sleep 100000"
			_units="$_units mem-$_i.service"
		fi
		echo "service \"mem-$_i\" { unit = \"mem-$_i.service\", scope = \"user\" }" >>"$1/lookout.lua"
		_i=$((_i + 1))
	done
	_i=1
	while [ "$_i" -le "$NQ" ]; do
		echo "RPUSH mem:queue:$_i a b c" >>"$1/fill.txt"
		echo "queue \"q$_i\" { redis = { url = \"$REDIS_URL\", key = \"mem:queue:$_i\" }, warn = 100 }" >>"$1/lookout.lua"
		_i=$((_i + 1))
	done
	redis-cli -p "$REDIS_PORT" <"$1/fill.txt" >/dev/null
	systemctl --user daemon-reload
	# shellcheck disable=SC2086
	[ -z "$_units" ] || systemctl --user start $_units
}

# --- the console benchmarks (bench_console_*.sh) ---

# console_pty ARGS...: tests/bench/console_pty.py, the terminal of our own
# the console runs on.  It needs pyte, which Debian packages for its own
# python3 (python3-pyte), hence /usr/bin/python3 whatever else is on PATH.
console_pty() { /usr/bin/python3 tests/bench/console_pty.py "$@"; }

# console_check NAME [COMMAND...]: where pyte or one of the COMMANDs (the
# peers) is missing, prints "BENCH NAME skipped: reason" and exits 0.
console_check() {
	_name=$1
	shift
	/usr/bin/python3 -c 'import pyte' 2>/dev/null ||
	    { echo "BENCH $_name skipped: python3-pyte not installed (tools/deps.sh)"; exit 0; }
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 ||
		    { echo "BENCH $_name skipped: $_c not installed (tools/deps.sh)"; exit 0; }
	done
}

# bench_httpd DIR: tests/e2e/httpd.py on a free 127.0.0.1 port, in the
# background; sets HTTPD_PID and HTTPD_PORT.  stop_httpd stops it.
bench_httpd() {
	rm -f "$1/httpd.port"
	/usr/bin/python3 tests/e2e/httpd.py "$1/httpd.port" 2>"$1/httpd.err" &
	HTTPD_PID=$!
	for _i in $(seq 50); do
		if [ -s "$1/httpd.port" ]; then
			# shellcheck disable=SC2034
			HTTPD_PORT=$(cat "$1/httpd.port")
			return 0
		fi
		kill -0 "$HTTPD_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$1/httpd.err" >&2
	echo "tests/e2e/httpd.py did not start" >&2
	return 1
}

stop_httpd() {
	[ -n "${HTTPD_PID:-}" ] || return 0
	kill "$HTTPD_PID" 2>/dev/null || true
	wait "$HTTPD_PID" 2>/dev/null || true
	HTTPD_PID=""
}
