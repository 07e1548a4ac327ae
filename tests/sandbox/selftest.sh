#!/bin/sh
# TAP self-test of tests/sandbox/sandbox.sh: proves that the services it
# starts are the real thing and that nothing it started outlives it.
#
#   tests/sandbox/selftest.sh        (as root; exits 0 when every test passes)
#
# It runs sandbox.sh once with --journal --redis --rabbitmq (RabbitMQ's start
# is the slow part, so only once) and runs this same file inside it with
# --inside, which writes one result line per check to a results file outside
# the sandbox's temp dir.  The outer part prints TAP from those lines, then
# checks that every server process and the sandbox's directories are gone,
# and that nothing the sandbox logged reached the host's journal.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
SANDBOX=$HERE/sandbox.sh
PLAN=12
FAILED=''

# ---------------------------------------------------------------------------
# Inside the sandbox: each check appends "NUMBER ok" or "NUMBER fail: why".

result() {
	printf '%s %s\n' "$1" "$2" >>"$RESULTS"
}

# retry SECONDS COMMAND...: the services are asynchronous (a unit fails after
# `systemctl start` returned), so a check polls for a bounded time.
retry() {
	tries=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

write_units() {
	dir=$XDG_CONFIG_HOME/systemd/user
	cat >"$dir/lookout-selftest-ok.service" <<-'EOF'
		[Service]
		ExecStart=/bin/sleep 300
	EOF
	# The failure lookout's probes must recognise: a Python service dying
	# on an undefined name.
	cat >"$dir/lookout-selftest-bad.service" <<-'EOF'
		[Service]
		ExecStart=python3 -c 'import sys; raise NameError("name queue is not defined")'
	EOF
	systemctl --user daemon-reload
}

unit_is() {
	[ "$(systemctl --user is-active "$1" 2>/dev/null)" = "$2" ]
}

bad_unit_failed() {
	unit_is lookout-selftest-bad.service failed &&
		[ "$(systemctl --user show -p Result --value lookout-selftest-bad.service)" = exit-code ]
}

check_systemd() {
	if ! write_units 2>"$W/units.err"; then
		result 1 "fail: daemon-reload: $(head -n 1 "$W/units.err")"
		result 2 "fail: daemon-reload"
		return 0
	fi
	if systemctl --user start lookout-selftest-ok.service &&
		retry 5 unit_is lookout-selftest-ok.service active; then
		result 1 ok
	else
		result 1 "fail: lookout-selftest-ok.service is $(systemctl --user is-active lookout-selftest-ok.service)"
	fi
	if systemctl --user start lookout-selftest-bad.service && retry 5 bad_unit_failed; then
		result 2 ok
	else
		result 2 "fail: lookout-selftest-bad.service is $(systemctl --user is-active lookout-selftest-bad.service)"
	fi
}

check_bus() {
	if busctl --user list 2>&1 | grep -q org.freedesktop.systemd1; then
		result 3 ok
	else
		result 3 "fail: busctl --user list does not show org.freedesktop.systemd1"
	fi
}

check_redis() {
	if [ "$(redis-cli -s "$REDIS_SOCKET" ping 2>&1)" = PONG ]; then
		result 4 ok
	else
		result 4 "fail: no PONG on $REDIS_SOCKET"
	fi
	if [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>&1)" = PONG ] &&
		[ "$(redis-cli -u "$REDIS_URL" ping 2>&1)" = PONG ]; then
		result 5 ok
	else
		result 5 "fail: no PONG on 127.0.0.1:$REDIS_PORT"
	fi
}

api() {
	curl -fsS --max-time 5 -u "$RABBITMQ_USER:$RABBITMQ_PASS" "$@"
}

queue_listed() {
	api "$RABBITMQ_API/api/queues" | grep -q '"name":"q1"'
}

check_rabbitmq() {
	if api "$RABBITMQ_API/api/overview" | grep -q '"management_version"'; then
		result 6 ok
	else
		result 6 "fail: $RABBITMQ_API/api/overview does not answer"
	fi
	if api -X PUT -H 'content-type: application/json' \
		-d '{"durable":false,"auto_delete":false,"arguments":{}}' \
		"$RABBITMQ_API/api/queues/%2F/q1" && retry 5 queue_listed; then
		result 7 ok
	else
		result 7 "fail: q1 not in $RABBITMQ_API/api/queues"
	fi
}

# The sandbox's own journald has the unit's output (whatever journald knew
# of the process, which may be nothing if it died first: journalctl with no
# match shows it anyway), the manager's own line about the unit, which
# carries USER_UNIT= as on a real host, and a line with the token, which the
# outside looks for in the host's journal.
journal_has() {
	journalctl --no-pager -o cat "$@" >"$W/journal" 2>&1 &&
		grep -q "$JOURNAL_LINE" "$W/journal"
}

check_journal() {
	TOKEN=$(cat "$W/token")
	systemd-cat -t lookout-selftest echo "$TOKEN" 2>"$W/cat.err" || true
	if ! JOURNAL_LINE='NameError: name queue is not defined' retry 5 journal_has; then
		result 8 "fail: the bad unit's NameError is not in the journal: $(tail -n 3 "$W/journal")"
	elif ! JOURNAL_LINE="Failed with result 'exit-code'" retry 5 journal_has \
		USER_UNIT=lookout-selftest-bad.service; then
		result 8 "fail: no USER_UNIT=lookout-selftest-bad.service line from the manager: $(tail -n 3 "$W/journal")"
	elif ! JOURNAL_LINE=$TOKEN retry 5 journal_has SYSLOG_IDENTIFIER=lookout-selftest; then
		result 8 "fail: systemd-cat's line is not in the journal: $(cat "$W/cat.err")"
	else
		result 8 ok
	fi
}

# Records every server process in the sandbox's cgroup tree, and starts a
# leftover that escapes into a new session, for the checks after the end.
record_processes() {
	find "$LOOKOUT_SANDBOX_CGROUP" -name cgroup.procs -exec cat {} + |
		while read -r p; do
			c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
			case $c in
			systemd | systemd-journal | redis-server | beam.smp | epmd | dbus-daemon) echo "$p $c" ;;
			esac
		done >"$W/servers"
	setsid sleep 300 </dev/null >/dev/null 2>&1 &
	echo "$! sleep" >"$W/leftover"
	echo "$LOOKOUT_SANDBOX" >"$W/tempdir"
	echo "$LOOKOUT_SANDBOX_CGROUP" >"$W/cgroup"
}

inside() {
	W=$1
	RESULTS=$W/results
	check_systemd
	check_bus
	check_redis
	check_rabbitmq
	check_journal
	record_processes
}

# ---------------------------------------------------------------------------
# Outside.

# A recorded process is gone when its PID is gone, is a zombie (dead, only
# not reaped yet by PID 1) or now belongs to another program.
process_gone() {
	[ -r "/proc/$1/status" ] || return 0
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ "$state" = Z ] && return 0
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" != "$2" ]
}

survivors() {
	cat "$@" 2>/dev/null | while read -r pid comm; do
		process_gone "$pid" "$comm" || printf '%s(%s) ' "$comm" "$pid"
	done
}

# tap NUMBER "ok" | tap NUMBER "fail: why"
tap() {
	case $2 in
	ok) echo "ok $1 - $DESC" ;;
	*) echo "not ok $1 - $DESC"; echo "# ${2#fail: }"; FAILED=1 ;;
	esac
}

describe() {
	case $1 in
	1) DESC="a user service started with systemctl --user start becomes active" ;;
	2) DESC="a service dying with NameError becomes failed" ;;
	3) DESC="busctl --user list reaches the user bus" ;;
	4) DESC="redis answers PING on the unix socket" ;;
	5) DESC="redis answers PING on the TCP port" ;;
	6) DESC="RabbitMQ /api/overview answers" ;;
	7) DESC="a queue declared through the management API is listed" ;;
	8) DESC="the sandbox's journald has a unit's output and its manager's USER_UNIT line" ;;
	9) DESC="no systemd --user, systemd-journald, redis-server, beam.smp or epmd survives" ;;
	10) DESC="COMMAND's leftovers are killed and the sandbox dirs removed" ;;
	11) DESC="sandbox.sh exits with COMMAND's status" ;;
	12) DESC="nothing logged in the sandbox reached the host's journal" ;;
	esac
}

skip_all() {
	echo "1..$PLAN"
	n=1
	while [ "$n" -le "$PLAN" ]; do
		echo "ok $n # SKIP $1"
		n=$((n + 1))
	done
	exit 0
}

# Waits up to 3 s: orphans are reaped by PID 1 on its own schedule.
check_gone() {
	tries=30
	left=$(survivors "$W/servers")
	while [ -n "$left" ] && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
		left=$(survivors "$W/servers")
	done
	if [ ! -s "$W/servers" ]; then
		tap 9 "fail: no server processes were recorded"
	elif ! grep -q ' systemd-journal$' "$W/servers"; then
		tap 9 "fail: no systemd-journald was recorded"
	elif [ -n "$left" ]; then
		tap 9 "fail: still running: $left"
	else
		tap 9 ok
	fi
	describe 10
	left=$(survivors "$W/leftover")
	t=$(cat "$W/tempdir" 2>/dev/null) cg=$(cat "$W/cgroup" 2>/dev/null)
	# On a hybrid host, the tree systemd --user makes in its named v1
	# hierarchy too.
	v1=/nonexistent
	case $cg in
	/sys/fs/cgroup/unified/*) v1=/sys/fs/cgroup/systemd${cg#/sys/fs/cgroup/unified} ;;
	esac
	if [ -z "$t" ] || [ -z "$cg" ]; then
		tap 10 "fail: nothing recorded"
	elif [ -n "$left" ]; then
		tap 10 "fail: still running: $left"
	elif [ -e "$t" ] || [ -e "$cg" ] || [ -e "$v1" ]; then
		tap 10 "fail: left behind: $(ls -d "$t" "$cg" "$v1" 2>/dev/null)"
	else
		tap 10 ok
	fi
}

# The host's journal places as they are: what exists of them, and where
# journald keeps its sockets.  A host's own journald may write to its files
# meanwhile, so their sizes are not compared; the token is looked for
# instead.
HOST_JOURNAL_DIRS='/run/log /var/log/journal /run/systemd/journal'
host_journal_state() {
	for d in $HOST_JOURNAL_DIRS; do
		[ -e "$d" ] && find "$d" -maxdepth 2 -type d -print
		[ -d "$d" ] && find "$d" -maxdepth 1 -type s -print
	done 2>/dev/null | sort
}

check_host_journal() {
	describe 12
	host_journal_state >"$W/host.after"
	# shellcheck disable=SC2086
	found=$(grep -rlF "$(cat "$W/token")" $HOST_JOURNAL_DIRS 2>/dev/null | head -n 3)
	if [ -n "$found" ]; then
		tap 12 "fail: the sandbox's token is in $found"
	elif ! cmp -s "$W/host.before" "$W/host.after"; then
		tap 12 "fail: appeared on the host: $(comm -13 "$W/host.before" "$W/host.after" | tr '\n' ' ')"
	else
		tap 12 ok
	fi
}

outside() {
	W=$(mktemp -d "${TMPDIR:-/tmp}/lookout-selftest.XXXXXX")
	trap 'rm -rf "$W"' EXIT
	: >"$W/results"
	od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | sed 's/^/lookout-selftest-token-/' >"$W/token"
	host_journal_state >"$W/host.before"
	status=0
	"$SANDBOX" --journal --redis --rabbitmq -- sh "$HERE/selftest.sh" --inside "$W" \
		2>"$W/stderr" || status=$?
	if [ "$status" = 77 ]; then
		skip_all "$(sed -n 's/^SKIP: //p' "$W/stderr" | head -n 1)"
	fi
	echo "1..$PLAN"
	[ "$status" = 0 ] || { echo "# sandbox.sh exited $status:"; sed 's/^/# /' "$W/stderr"; }
	n=1
	while [ "$n" -le 8 ]; do
		describe "$n"
		line=$(sed -n "s/^$n //p" "$W/results" | head -n 1)
		tap "$n" "${line:-fail: no result}"
		n=$((n + 1))
	done
	describe 9
	check_gone
	describe 11
	status=0
	"$SANDBOX" -- sh -c 'exit 7' 2>/dev/null || status=$?
	if [ "$status" = 7 ]; then tap 11 ok; else tap 11 "fail: exited $status, not 7"; fi
	check_host_journal
	[ -z "$FAILED" ]
}

if [ "${1:-}" = --inside ]; then
	inside "$2"
else
	outside
fi
