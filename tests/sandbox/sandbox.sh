#!/bin/sh
# Runs a command next to real services on loopback, in private directories,
# and tears every process down by PID afterwards.
#
#   tests/sandbox/sandbox.sh [--journal] [--redis] [--rabbitmq | --rabbitmq-nowait] [--ssh N] -- COMMAND [ARGS...]
#
# Always: a real `systemd --user` (with its user D-Bus at $XDG_RUNTIME_DIR/bus)
# in a private mount namespace and a delegated cgroup2 directory, following
# DESIGN.md, "Testing against the real thing".  Optionally a real
# systemd-journald of the namespace's own, which the user manager and its
# units log to (see journal_setup), and a real redis-server and a real
# rabbitmq-server (management plugin), both bound to 127.0.0.1.
#
# COMMAND sees XDG_RUNTIME_DIR, XDG_CONFIG_HOME (and XDG_DATA_HOME,
# XDG_STATE_HOME, XDG_CACHE_HOME, all under $T), LOOKOUT_SANDBOX (the temp dir),
# LOOKOUT_SANDBOX_CGROUP (the cgroup dir), LOOKOUT_SANDBOX_SYSTEMD_PID (the
# manager's PID), DBUS_SESSION_BUS_ADDRESS; with --journal
# LOOKOUT_SANDBOX_JOURNAL=1 and LOOKOUT_SANDBOX_JOURNALD_PID (sd_journal_open()
# and journalctl then read the sandbox's journal, and only it); with
# --redis REDIS_SOCKET, REDIS_PORT, REDIS_URL; with --rabbitmq RABBITMQ_API,
# RABBITMQ_PORT, RABBITMQ_USER, RABBITMQ_PASS.  --rabbitmq-nowait is --rabbitmq
# without waiting for the broker: COMMAND starts as soon as the rest is up,
# while RabbitMQ still boots (about 7 s), and finds it answering at
# $RABBITMQ_API later; the demo sets itself up meanwhile.  With --ssh N, see
# below.  The exit status is COMMAND's.
#
# --ssh N gives N "remote hosts", each a real sshd (Debian's openssh-server)
# listening on its own free port of 127.0.0.1, with a host key and a client
# key generated for the run.  Host 1 is the sandbox's own user manager seen
# through ssh; hosts 2..N each have a systemd --user of their own (its own
# XDG_RUNTIME_DIR, unit directory and cgroup) in the same namespace.  How a
# session finds its manager: sshd's SetEnv gives it the host's
# XDG_RUNTIME_DIR, as pam_systemd does on a real host, and nothing else is
# changed (no ForceCommand, no AcceptEnv).  COMMAND gets
# LOOKOUT_SANDBOX_SSH_CONFIG, an ssh_config with Host alias1..aliasN (User,
# IdentityFile, a pre-seeded UserKnownHostsFile), "deadhost" (a port nothing
# listens on: connection refused) and "nokey" (host 1's sshd with a key it
# does not accept); LOOKOUT_SANDBOX_SSHD<i>_PID (each listening sshd) and,
# for i >= 2, LOOKOUT_SANDBOX_HOST<i>_RUNTIME_DIR and
# LOOKOUT_SANDBOX_HOST<i>_CONFIG_HOME (run systemctl --user there with
# XDG_RUNTIME_DIR and XDG_CONFIG_HOME set to them).  sshd needs its
# privilege separation directory, /run/sshd: it is created (0755, empty) on
# the host's volatile /run where missing, as the package would at boot.
# LOOKOUT_SANDBOX_DEBUG=1 logs the teardown's timing on stderr.
# Where the harness cannot run here it prints "SKIP: reason" on stderr and
# exits 77 without running COMMAND (tests/sandbox/install-deps.sh installs
# the packages).
#
# The script runs in two stages.  The outer stage (this process) checks the
# machine, creates the temp dir and the cgroup, and re-runs this file under
# `unshare -m` as the inner stage.  The inner stage mounts, joins the cgroup,
# starts the services, runs COMMAND and stops the services by PID.  The outer
# stage stays outside the cgroup, so that afterwards it can kill whatever is
# still inside it (even if the inner stage was killed) and remove it.
#
# Many functions run only from traps or through wait_for; empty PID variables
# are passed unquoted on purpose, so that they vanish from argument lists.
# shellcheck disable=SC2317,SC2086
set -eu

SKIP_STATUS=77

log() { printf 'sandbox: %s\n' "$*" >&2; }

debug() {
	[ -n "${LOOKOUT_SANDBOX_DEBUG:-}" ] && log "$(date +%T.%N | cut -c1-12) $*"
	return 0
}

die() { log "$*"; exit 1; }

skip() { printf 'SKIP: %s\n' "$*" >&2; exit "$SKIP_STATUS"; }

usage() {
	printf 'usage: %s [--journal] [--redis] [--rabbitmq | --rabbitmq-nowait] [--ssh N] -- COMMAND [ARGS...]\n' "$0" >&2
	exit 2
}

# ---------------------------------------------------------------------------
# Small helpers shared by both stages.

# A process counts as alive until it is gone or a zombie: a zombie no longer
# runs anything, and kill -0 would still succeed on it until it is reaped.
alive() {
	[ -n "$1" ] && [ -r "/proc/$1/status" ] || return 1
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

any_alive() {
	for p in "$@"; do
		alive "$p" && return 0
	done
	return 1
}

# stop_pids SECONDS PID...: SIGTERM to all at once (so their shutdowns overlap),
# SIGKILL whatever is still running after SECONDS.
stop_pids() {
	grace=$1
	shift
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	tries=$((grace * 10))
	while [ "$tries" -gt 0 ] && any_alive "$@"; do
		sleep 0.1
		tries=$((tries - 1))
	done
	any_alive "$@" || return 0
	log "still running after ${grace}s, sending SIGKILL"
	kill -KILL "$@" 2>/dev/null || true
	tries=20
	while [ "$tries" -gt 0 ] && any_alive "$@"; do
		sleep 0.1
		tries=$((tries - 1))
	done
}

# wait_for SECONDS WATCHED_PID COMMAND...: polls COMMAND every 0.1 s.  Gives up
# early when WATCHED_PID (the server being waited for) has died, because then
# the answer can never come.
wait_for() {
	tries=$(($1 * 10))
	watched=$2
	shift 2
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		alive "$watched" || return 1
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

random16() { od -An -N2 -tu2 /dev/urandom | tr -d ' \n'; }

# A port is taken if any socket, in any state, has it as its local port.
port_in_use() {
	hex=$(printf '%04X' "$1")
	awk -v h="$hex" 'FNR > 1 { n = split($2, a, ":"); if (a[n] == h) f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Picks a free TCP port in 20000..44999 (below 45536, so that RabbitMQ's
# default distribution port, NODE_PORT + 20000, would still be valid).
# Ports handed out earlier in this run are remembered, since nothing is bound
# to them yet.  Another program may still take the port before our server
# binds it; the server then fails to start and says so in its log.
USED_PORTS=" "
free_port() {
	n=0
	while [ "$n" -lt 100 ]; do
		n=$((n + 1))
		p=$((20000 + $(random16) % 25000))
		case $USED_PORTS in *" $p "*) continue ;; esac
		port_in_use "$p" && continue
		USED_PORTS="$USED_PORTS$p "
		echo "$p"
		return 0
	done
	die "no free TCP port found on 127.0.0.1"
}

show_log() {
	[ -s "$1" ] || return 0
	log "last lines of $1:"
	tail -n 20 "$1" >&2
}

# ---------------------------------------------------------------------------
# Outer stage.

find_cgroup2() {
	for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		if [ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

find_systemd() {
	for s in "$(command -v systemd 2>/dev/null)" /lib/systemd/systemd /usr/lib/systemd/systemd; do
		[ -n "$s" ] && [ -x "$s" ] && { echo "$s"; return 0; }
	done
	return 1
}

find_journald() {
	for j in /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald; do
		[ -x "$j" ] && { echo "$j"; return 0; }
	done
	return 1
}

need_cmd() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 not found (package $2; see tests/sandbox/install-deps.sh)"
}

check_machine() {
	[ "$(id -u)" = 0 ] || skip "not root (needs unshare -m, mount and a cgroup of its own)"
	CGROOT=$(find_cgroup2) || skip "no cgroup2 mount at /sys/fs/cgroup/unified or /sys/fs/cgroup"
	need_cmd unshare util-linux
	need_cmd setsid util-linux
	need_cmd systemctl systemd
	need_cmd busctl systemd
	SYSTEMD_BIN=$(find_systemd) || skip "no systemd binary (package systemd)"
	# systemd --user gets its user bus only from a user unit that provides
	# dbus.socket: dbus-user-session (dbus-daemon) or dbus-broker.
	[ -e /usr/lib/systemd/user/dbus.socket ] || [ -e /lib/systemd/user/dbus.socket ] ||
		skip "no user dbus.socket unit (package dbus-user-session)"
	err=$(unshare -m --propagation private /bin/sh -c : 2>&1) ||
		skip "unshare -m fails here: $err"
	JOURNALD_BIN=''
	if [ -n "$WANT_JOURNAL" ]; then
		JOURNALD_BIN=$(find_journald) || skip "no systemd-journald binary (package systemd)"
		need_cmd journalctl systemd
		need_cmd mountpoint util-linux
	fi
	if [ -n "$WANT_REDIS" ]; then
		need_cmd redis-server redis-server
		need_cmd redis-cli redis-tools
	fi
	if [ -n "$WANT_SSH" ]; then
		[ -x /usr/sbin/sshd ] || skip "sshd not installed (package openssh-server; see tests/sandbox/install-deps.sh)"
		need_cmd ssh openssh-client
		need_cmd ssh-keygen openssh-client
		need_cmd systemd-stdio-bridge systemd
	fi
	if [ -n "$WANT_RABBITMQ" ]; then
		[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] ||
			skip "rabbitmq-server not installed (see tests/sandbox/install-deps.sh)"
		getent passwd rabbitmq >/dev/null || skip "no rabbitmq user (package rabbitmq-server)"
		need_cmd epmd erlang-base
		need_cmd curl curl
		need_cmd setpriv util-linux
	fi
}

make_dirs() {
	# Unix socket paths ($T/run/systemd/private, $T/redis.sock) must stay
	# under 108 bytes, so a long TMPDIR is not used.
	tmp=${TMPDIR:-/tmp}
	[ "${#tmp}" -le 40 ] || tmp=/tmp
	T=$(mktemp -d "$tmp/lookout-sandbox.XXXXXX")
	# The rabbitmq user must be able to reach $T/rabbitmq, but not list $T.
	chmod 711 "$T"
	mkdir -p "$T/run" "$T/config/systemd/user" "$T/data" "$T/state" "$T/cache"
	chmod 700 "$T/run"
	# A slice by name: journald names a process's unit from its cgroup
	# path after the leading slices, so a test can put a process where a
	# real host's units live ($CG/user@0.service/app.slice/x.service) and
	# see what a real host's journald records.  manager/ stays a place
	# journald cannot name, like a CI container's manager.
	CG=$CGROOT/lookout-test-$$-$(random16).slice
	# Two leaves: manager/ for systemd --user (which builds its own tree of
	# units below it), payload/ for this script, the servers and COMMAND.
	if ! mkdir "$CG" "$CG/manager" "$CG/payload" 2>/dev/null; then
		rmdir "$CG" 2>/dev/null || true
		rm -rf "$T"
		skip "cannot create a cgroup under $CGROOT"
	fi
}

# Kills everything still in the cgroup tree: COMMAND's leftovers, and anything
# at all if the inner stage died before its own teardown.  cgroup.kill (Linux
# 5.14) does it atomically; otherwise SIGKILL each listed PID until it is empty.
# A process the kernel cannot name in our PID namespace (one exiting as the
# file is read) is listed as 0, and `kill 0` would signal our own process
# group, the test runner included: 0 is never a PID to kill.
cgroup_procs() {
	# shellcheck disable=SC2046
	cat $(find "$1" -name cgroup.procs 2>/dev/null) 2>/dev/null | grep -v '^0$'
}

# cgroupfs files always report size 0, so `test -s` cannot tell.
cgroup_empty() {
	[ -z "$(cgroup_procs "$1")" ]
}

cgroup_sweep() {
	[ -d "$1" ] || return 0
	tries=50
	while [ "$tries" -gt 0 ] && ! cgroup_empty "$1"; do
		if [ -e "$1/cgroup.kill" ]; then
			echo 1 >"$1/cgroup.kill" 2>/dev/null || true
		else
			# shellcheck disable=SC2046
			kill -KILL $(cgroup_procs "$1") 2>/dev/null || true
		fi
		sleep 0.1
		tries=$((tries - 1))
	done
	cgroup_empty "$1" || log "processes left in $1: $(cgroup_procs "$1" | tr '\n' ' ')"
}

# cgroup_remove DIR: an emptied cgroup tree removed, depth-first (a cgroup
# can only go once it has no children).
cgroup_remove() {
	find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
	if [ -d "$1" ]; then log "could not remove $1"; fi
}

# Both teardowns ignore INT and TERM: a second Ctrl-C must not cut a cleanup
# short and leave servers behind (SIGKILL still works for the impatient, and
# then the outer sweep of the cgroup does the job).
outer_teardown() {
	set +e
	trap '' INT TERM
	trap - EXIT
	if alive "$INNER"; then
		# Ignored if it is already tearing down; that is bounded (3 s for
		# COMMAND, 10 s for the servers, 2 s for epmd).
		kill -TERM "$INNER" 2>/dev/null
		tries=200
		while [ "$tries" -gt 0 ] && alive "$INNER"; do
			sleep 0.1
			tries=$((tries - 1))
		done
	fi
	if [ -n "$CG" ]; then
		cgroup_sweep "$CG"
		cgroup_remove "$CG"
		# On a hybrid host systemd --user makes the same tree in its
		# named v1 hierarchy too, and leaves it there, empty.
		v1=/sys/fs/cgroup/systemd${CG#"$CGROOT"}
		[ "$CGROOT" != /sys/fs/cgroup ] && [ -d "$v1" ] &&
			cgroup_remove "$v1"
	fi
	[ -n "$T" ] && rm -rf "$T"
}

outer_main() {
	WANT_JOURNAL='' WANT_REDIS='' WANT_RABBITMQ='' WANT_SSH=''
	while [ $# -gt 0 ]; do
		case $1 in
		--journal) WANT_JOURNAL=1 ;;
		--redis) WANT_REDIS=1 ;;
		--rabbitmq) WANT_RABBITMQ=1 ;;
		--rabbitmq-nowait) WANT_RABBITMQ=nowait ;;
		--ssh)
			[ $# -gt 1 ] || usage
			case $2 in [1-9] | [1-9][0-9]) ;; *) usage ;; esac
			WANT_SSH=$2
			shift
			;;
		--) shift; break ;;
		*) usage ;;
		esac
		shift
	done
	[ $# -gt 0 ] || usage
	check_machine

	T='' CG='' INNER=''
	trap outer_teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	make_dirs

	self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	# The inner stage runs in the background so that a signal to this shell
	# is handled at once (a foreground child would delay the trap until it
	# ended).  A background job's stdin would be /dev/null, hence <&3.
	exec 3<&0
	env _LOOKOUT_SANDBOX_STAGE=inner _LOOKOUT_SANDBOX_T="$T" \
		_LOOKOUT_SANDBOX_CG="$CG" _LOOKOUT_SANDBOX_SYSTEMD="$SYSTEMD_BIN" \
		_LOOKOUT_SANDBOX_JOURNALD="$JOURNALD_BIN" \
		_LOOKOUT_SANDBOX_REDIS="$WANT_REDIS" \
		_LOOKOUT_SANDBOX_RABBITMQ="$WANT_RABBITMQ" \
		_LOOKOUT_SANDBOX_SSH="$WANT_SSH" \
		_LOOKOUT_SANDBOX_ID=$$ \
		unshare -m --propagation private "$self" "$@" <&3 3<&- &
	INNER=$!
	exec 3<&-
	status=0
	wait "$INNER" || status=$?
	exit "$status"
}

# ---------------------------------------------------------------------------
# Inner stage: runs in the private mount namespace, as the cgroup's first
# process.  Every PID it starts is recorded for the teardown.

SYSTEMD_PID='' JOURNALD_PID='' REDIS_PID='' RABBIT_PID='' RABBIT_BEAM='' EPMD_PID='' CMD_PID=''
SSHD_PIDS='' HOST_MANAGER_PIDS=''

# sd_booted() checks for /run/systemd/system; systemd --user and its clients
# refuse to work without it.  A tmpfs keeps the host's /run/systemd untouched.
setup_namespace() {
	[ -d /run/systemd ] || mkdir -p /run/systemd
	mount -t tmpfs -o mode=755 tmpfs /run/systemd
	mkdir -p /run/systemd/system
	echo $$ >"$CG/payload/cgroup.procs"
}

systemd_start() {
	# setsid: the manager gets a session of its own, away from our terminal.
	# We are not a process group leader, so setsid execs without forking,
	# the small sh execs too, and $! is the manager's PID.  The manager gets
	# a cgroup of its own: at start it moves every process of its cgroup
	# into its init.scope, and COMMAND must not end up there.
	# With a journal, the manager logs to it, as a real host's user manager
	# does (its stderr is the journal there): its lines about a unit
	# ("Main process exited") carry USER_UNIT=, and readers see them.
	# shellcheck disable=SC2016
	setsid sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --user ${3:+--log-target=journal}' sh \
		"$CG/manager" "$SYSTEMD_BIN" "$JOURNALD_BIN" >"$T/systemd.log" 2>&1 </dev/null &
	SYSTEMD_PID=$!
}

systemd_ready() {
	case $(systemctl --user is-system-running 2>/dev/null) in
	running | degraded) [ -S "$XDG_RUNTIME_DIR/bus" ] ;;
	*) return 1 ;;
	esac
}

systemd_wait() {
	wait_for 20 "$SYSTEMD_PID" systemd_ready && return 0
	show_log "$T/systemd.log"
	# With --journal the manager logs there instead.
	if [ -n "$JOURNALD_BIN" ]; then
		log "its last lines in the journal:"
		journalctl --no-pager -n 20 _PID="$SYSTEMD_PID" >&2
	fi
	die "systemd --user did not reach running within 20 s"
}

# The sandbox's journald must leave nothing on the host, and readers in the
# namespace must see its journal and nothing else.  It writes only to
# /run/log/journal (Storage=volatile), a tmpfs here; /var/log/journal gets
# an empty tmpfs too, so that a reader does not mix in the host's persistent
# journal.  Its sockets go to /run/systemd/journal, inside the tmpfs of
# setup_namespace.  The host's drop-ins are hidden, so that only our
# settings apply whatever the host's say: nothing forwarded to the host's
# kernel log, console, ttys (wall) or syslog, no kernel log read in, and
# Audit= left empty, because "no" (also the default) would switch the
# kernel's auditing off, machine-wide.  Where the host has no /run/log, the
# mount point is created, like /run/systemd's: an empty directory on the
# host's volatile /run.
JOURNALD_DROPINS='/etc/systemd/journald.conf.d /usr/local/lib/systemd/journald.conf.d
	/usr/lib/systemd/journald.conf.d /lib/systemd/journald.conf.d'
journal_setup() {
	[ -d /run/log ] || mkdir -p /run/log
	mount -t tmpfs -o mode=755,size=64m tmpfs /run/log
	if [ -d /var/log/journal ]; then
		mount -t tmpfs -o mode=2755,size=64m tmpfs /var/log/journal
	fi
	for d in $JOURNALD_DROPINS; do
		[ -d "$d" ] && ! mountpoint -q "$d" && mount -t tmpfs -o ro,mode=755 tmpfs "$d"
	done
	mkdir -p /run/systemd/journald.conf.d
	cat >/run/systemd/journald.conf.d/lookout-sandbox.conf <<-EOF
		[Journal]
		Storage=volatile
		RuntimeMaxUse=32M
		ReadKMsg=no
		ForwardToSyslog=no
		ForwardToKMsg=no
		ForwardToConsole=no
		ForwardToWall=no
		Audit=
	EOF
}

# journald's own messages would go to the host's kernel log; to a file
# instead.  A NOTIFY_SOCKET of whoever started us is not journald's to use.
journal_start() {
	env -u NOTIFY_SOCKET SYSTEMD_LOG_TARGET=console "$JOURNALD_BIN" \
		</dev/null >"$T/journald.log" 2>&1 &
	JOURNALD_PID=$!
}

# journald opens its journal file after its sockets listen.
journal_ready() {
	[ -S /run/systemd/journal/stdout ] || return 1
	for f in /run/log/journal/*/system.journal; do
		[ -e "$f" ] && return 0
	done
	return 1
}

journal_wait() {
	wait_for 10 "$JOURNALD_PID" journal_ready && return 0
	show_log "$T/journald.log"
	die "systemd-journald did not open its journal within 10 s"
}

redis_start() {
	REDIS_PORT=$(free_port)
	REDIS_SOCKET=$T/redis.sock
	REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
	export REDIS_PORT REDIS_SOCKET REDIS_URL
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
		--unixsocket "$REDIS_SOCKET" --unixsocketperm 700 \
		--save '' --appendonly no --daemonize no \
		--dir "$T" --logfile "$T/redis.log" </dev/null &
	REDIS_PID=$!
}

redis_ready() {
	[ "$(redis-cli -s "$REDIS_SOCKET" ping 2>/dev/null)" = PONG ]
}

# Another program may take the port between free_port and redis binding it;
# then redis exits at once saying so, and we try again with another port.
redis_up() {
	for attempt in 1 2 3; do
		: >"$T/redis.log"
		redis_start
		wait_for 10 "$REDIS_PID" redis_ready && return 0
		alive "$REDIS_PID" && break
		grep -q 'Address already in use' "$T/redis.log" || break
		log "redis port $REDIS_PORT was taken (attempt $attempt), trying another"
	done
	show_log "$T/redis.log"
	die "redis-server did not answer PING within 10 s"
}

# RabbitMQ gets a node of its own: its own data, log, config, plugins file
# and Erlang cookie under $T/rabbitmq, and its own epmd on a private port, so
# that it neither sees nor disturbs any other Erlang node on the machine.
rabbit_files() {
	R=$T/rabbitmq
	mkdir -p "$R/mnesia" "$R/log" "$R/home"
	od -An -N20 -tx1 /dev/urandom | tr -d ' \n' >"$R/home/.erlang.cookie"
	chmod 400 "$R/home/.erlang.cookie"
	echo '[rabbitmq_management].' >"$R/enabled_plugins"
	: >"$R/rabbitmq-env.conf"
	# The management API's counts and rates come from statistics the
	# broker collects every 5 s and keeps at a 5 s resolution: a message
	# published shows in a queue's depth 5 to 10 s later.  Both at 1 s,
	# it shows within 2 s.  (A 1 s collection alone does not do: rates
	# read between two 5 s samples then read 0.)
	cat >"$R/rabbitmq.conf" <<-EOF
		listeners.tcp.1 = 127.0.0.1:$RABBITMQ_PORT
		management.tcp.ip = 127.0.0.1
		management.tcp.port = $RABBITMQ_MGMT_PORT
		loopback_users.guest = true
		log.console = false
		log.file.level = warning
		collect_statistics_interval = 1000
		management.sample_retention_policies.global.minute = 1
		management.sample_retention_policies.basic.minute = 1
		management.sample_retention_policies.detailed.10 = 1
	EOF
	chown -R rabbitmq:rabbitmq "$R"
}

rabbit_start() {
	RABBITMQ_PORT=$(free_port)
	RABBITMQ_MGMT_PORT=$(free_port)
	epmd_port=$(free_port)
	dist_port=$(free_port)
	rabbit_files
	RABBITMQ_API=http://127.0.0.1:$RABBITMQ_MGMT_PORT
	RABBITMQ_USER=guest RABBITMQ_PASS=guest
	export RABBITMQ_PORT RABBITMQ_API RABBITMQ_USER RABBITMQ_PASS

	# Started by us in the foreground (no -daemon) so that we know its PID;
	# the node then finds it on ERL_EPMD_PORT and does not spawn its own.
	ERL_EPMD_ADDRESS=127.0.0.1 epmd -port "$epmd_port" -address 127.0.0.1 \
		</dev/null >"$R/epmd.log" 2>&1 &
	EPMD_PID=$!

	# setpriv execs (unlike su/runuser) and keeps the environment, so $! is
	# the rabbitmq-server script; it runs the Erlang VM as its child.
	env -C "$R" HOME="$R/home" \
		ERL_EPMD_PORT="$epmd_port" ERL_EPMD_ADDRESS=127.0.0.1 \
		ERL_CRASH_DUMP="$R/erl_crash.dump" \
		RABBITMQ_NODENAME="lookout-test-$ID@localhost" \
		RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
		RABBITMQ_NODE_PORT="$RABBITMQ_PORT" \
		RABBITMQ_DIST_PORT="$dist_port" \
		RABBITMQ_MNESIA_BASE="$R/mnesia" \
		RABBITMQ_LOG_BASE="$R/log" \
		RABBITMQ_PID_FILE="$R/rabbitmq.pid" \
		RABBITMQ_CONFIG_FILE="$R/rabbitmq.conf" \
		RABBITMQ_ADVANCED_CONFIG_FILE="$R/advanced.config" \
		RABBITMQ_CONF_ENV_FILE="$R/rabbitmq-env.conf" \
		RABBITMQ_ENABLED_PLUGINS_FILE="$R/enabled_plugins" \
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
		setpriv --reuid rabbitmq --regid rabbitmq --init-groups \
		/usr/lib/rabbitmq/bin/rabbitmq-server \
		</dev/null >"$R/startup.log" 2>&1 &
	RABBIT_PID=$!
}

rabbit_ready() {
	curl -fsS -o /dev/null --max-time 2 -u guest:guest "$RABBITMQ_API/api/overview"
}

# Another program may take one of the node's ports between free_port and
# the node binding it (the machine is shared: another test's node, say);
# the node then stops at once, saying the port is used, and it is started
# again on other ports.
rabbit_port_taken() {
	grep -qE 'already_used|eaddrinuse|Address already in use' \
		"$R/startup.log" "$R/epmd.log" 2>/dev/null
}

rabbit_wait() {
	for attempt in 1 2 3; do
		if wait_for 60 "$RABBIT_PID" rabbit_ready; then
			# The VM (beam.smp) is the script's child; record it so
			# that the teardown can signal it directly.
			RABBIT_BEAM=$(pgrep -P "$RABBIT_PID" | head -n 1)
			return 0
		fi
		alive "$RABBIT_PID" && break
		rabbit_port_taken || break
		log "a rabbitmq port was taken (attempt $attempt), trying others"
		stop_pids 2 $EPMD_PID
		reap $RABBIT_PID $EPMD_PID
		rm -rf "$R"
		rabbit_start
	done
	show_log "$R/startup.log"
	die "rabbitmq-server did not answer $RABBITMQ_API/api/overview within 60 s"
}

# The remote hosts of --ssh.  Host i >= 2 gets a manager of its own, started
# as the sandbox's own is (systemd_start), in a cgroup of its own.
host_manager_start() {
	i=$1
	H=$T/host$i
	mkdir -p "$H/run" "$H/config/systemd/user" "$CG/manager$i"
	chmod 700 "$H/run"
	# shellcheck disable=SC2016
	env XDG_RUNTIME_DIR="$H/run" XDG_CONFIG_HOME="$H/config" \
		DBUS_SESSION_BUS_ADDRESS="unix:path=$H/run/bus" \
		setsid sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" --user' sh \
		"$CG/manager$i" "$SYSTEMD_BIN" >"$H/systemd.log" 2>&1 </dev/null &
	HOST_MANAGER_PIDS="$HOST_MANAGER_PIDS $!"
	eval "LOOKOUT_SANDBOX_HOST${i}_RUNTIME_DIR=\$H/run"
	eval "LOOKOUT_SANDBOX_HOST${i}_CONFIG_HOME=\$H/config"
	export "LOOKOUT_SANDBOX_HOST${i}_RUNTIME_DIR" "LOOKOUT_SANDBOX_HOST${i}_CONFIG_HOME"
}

host_manager_ready() {
	case $(XDG_RUNTIME_DIR=$1/run systemctl --user is-system-running 2>/dev/null) in
	running | degraded) [ -S "$1/run/bus" ] ;;
	*) return 1 ;;
	esac
}

# One sshd per host, all with the same keys.  Each has its own port,
# config and log; its sessions get the XDG_RUNTIME_DIR of their host.
sshd_start() {
	i=$1 runtime=$2
	D=$T/ssh
	port=$(free_port)
	cat >"$D/sshd$i.conf" <<-EOF
		ListenAddress 127.0.0.1
		Port $port
		HostKey $D/host_key
		AuthorizedKeysFile $D/authorized_keys
		PidFile none
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		PrintMotd no
		X11Forwarding no
		SetEnv XDG_RUNTIME_DIR=$runtime
	EOF
	/usr/sbin/sshd -D -f "$D/sshd$i.conf" -E "$D/sshd$i.log" </dev/null &
	pid=$!
	SSHD_PIDS="$SSHD_PIDS $pid"
	eval "LOOKOUT_SANDBOX_SSHD${i}_PID=$pid"
	export "LOOKOUT_SANDBOX_SSHD${i}_PID"
	printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1,2 "$D/host_key.pub")" >>"$D/known_hosts"
	cat >>"$D/config" <<-EOF
		Host alias$i
		  HostName 127.0.0.1
		  Port $port
	EOF
	# IdentityFile adds up over the blocks that match: "nokey" is kept
	# out of the last one, so that its key is the only one it offers.
	[ "$i" = 1 ] && cat >>"$D/config" <<-EOF
		Host nokey
		  HostName 127.0.0.1
		  Port $port
		  User $(id -un)
		  IdentityFile $D/other_key
		  IdentitiesOnly yes
		  UserKnownHostsFile $D/known_hosts
		  GlobalKnownHostsFile /dev/null
		  LogLevel ERROR
	EOF
	return 0
}

sshd_listening() {
	grep -q 'Server listening' "$1"
}

ssh_up() {
	n=$1
	D=$T/ssh
	mkdir -p "$D"
	chmod 700 "$D"
	[ -d /run/sshd ] || mkdir -m 755 /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C lookout-sandbox-host -f "$D/host_key"
	ssh-keygen -q -t ed25519 -N '' -C lookout-sandbox -f "$D/client_key"
	ssh-keygen -q -t ed25519 -N '' -C lookout-sandbox-other -f "$D/other_key"
	cp "$D/client_key.pub" "$D/authorized_keys"
	: >"$D/known_hosts"
	# Host-specific settings come first: ssh takes the first value it
	# reads for each option.
	: >"$D/config"
	i=2
	while [ "$i" -le "$n" ]; do
		host_manager_start "$i"
		i=$((i + 1))
	done
	sshd_start 1 "$XDG_RUNTIME_DIR"
	i=2
	while [ "$i" -le "$n" ]; do
		sshd_start "$i" "$T/host$i/run"
		i=$((i + 1))
	done
	cat >>"$D/config" <<-EOF
		Host deadhost
		  HostName 127.0.0.1
		  Port $(free_port)
		Host * !nokey
		  User $(id -un)
		  IdentityFile $D/client_key
		  IdentitiesOnly yes
		  UserKnownHostsFile $D/known_hosts
		  StrictHostKeyChecking yes
		  GlobalKnownHostsFile /dev/null
		  LogLevel ERROR
	EOF
	LOOKOUT_SANDBOX_SSH_CONFIG=$D/config
	export LOOKOUT_SANDBOX_SSH_CONFIG
	i=1
	for pid in $SSHD_PIDS; do
		wait_for 10 "$pid" sshd_listening "$D/sshd$i.log" || {
			show_log "$D/sshd$i.log"
			die "sshd $i did not listen within 10 s"
		}
		i=$((i + 1))
	done
	i=2
	for pid in $HOST_MANAGER_PIDS; do
		wait_for 20 "$pid" host_manager_ready "$T/host$i" || {
			show_log "$T/host$i/systemd.log"
			die "the systemd --user of host $i did not reach running within 20 s"
		}
		i=$((i + 1))
	done
}

# Processes COMMAND left in the payload cgroup, i.e. everything there but
# this shell and the servers we started.  Units COMMAND started through
# systemd live in the manager's cgroups and are stopped by the manager.
# A process belongs to one of our servers if one of them is among its
# ancestors (the Erlang VM has helpers: erl_child_setup, inet_gethost, sh).
# This shell counts only as itself: its other children are COMMAND's kin.
is_ours() {
	q=$1
	[ "$q" = $$ ] && return 0
	while [ -n "$q" ] && [ "$q" -gt 1 ] && [ "$q" != $$ ]; do
		case " $SYSTEMD_PID $JOURNALD_PID $REDIS_PID $RABBIT_PID $RABBIT_BEAM $EPMD_PID $SSHD_PIDS $HOST_MANAGER_PIDS " in
		*" $q "*) return 0 ;;
		esac
		q=$(awk '/^PPid:/ { print $2 }' "/proc/$q/status" 2>/dev/null)
	done
	return 1
}

command_leftovers() {
	[ -r "$CG/payload/cgroup.procs" ] || return 0
	while read -r p; do
		# 0: see cgroup_procs.
		[ "$p" = 0 ] || is_ours "$p" || echo "$p"
	done <"$CG/payload/cgroup.procs"
}

# Collects our dead children, so that none lingers as a zombie (which
# pgrep still lists) waiting for PID 1 to reap it after we exit.  Never waits
# for a live one: that could block the teardown.
reap() {
	for p in "$@"; do
		alive "$p" || wait "$p" 2>/dev/null
	done
	return 0
}

children_of() {
	[ -z "$1" ] || pgrep -P "$1" 2>/dev/null || true
}

inner_teardown() {
	set +e
	trap '' INT TERM
	trap - EXIT
	# shellcheck disable=SC2046
	stop_pids 3 $CMD_PID $(command_leftovers)
	debug "stopping servers"
	# The RabbitMQ node is disposable (its data dir is about to be removed),
	# and a graceful stop takes about 6 s, so the VM and its helpers
	# (erl_child_setup, inet_gethost: collected before the VM dies and they
	# are reparented) are killed outright.  The script around the VM reaps
	# it and exits on SIGTERM.
	# With --rabbitmq-nowait nobody may have waited for the VM yet: it is
	# the script's child (a subshell until it execs erl) if it exists.
	[ -n "$RABBIT_BEAM" ] || RABBIT_BEAM=$(children_of "$RABBIT_PID" | head -n 1)
	# shellcheck disable=SC2046
	set -- $RABBIT_BEAM $(children_of "$RABBIT_BEAM")
	[ $# -gt 0 ] && kill -KILL "$@" 2>/dev/null
	# sshd with its sessions, which a test may have stopped (SIGSTOP).
	# shellcheck disable=SC2046
	set -- "$@" $SSHD_PIDS $(for p in $SSHD_PIDS; do pgrep -P "$p"; done)
	[ -n "$SSHD_PIDS" ] && kill -CONT "$@" 2>/dev/null
	# The manager stops its units on SIGTERM, then exits.
	stop_pids 10 $SYSTEMD_PID $HOST_MANAGER_PIDS $REDIS_PID $RABBIT_PID "$@"
	# epmd and journald last, once no node can register with the one and
	# no unit logs to the other any more.
	stop_pids 2 $EPMD_PID $JOURNALD_PID
	reap $CMD_PID $SYSTEMD_PID $JOURNALD_PID $REDIS_PID $RABBIT_PID $EPMD_PID \
		$SSHD_PIDS $HOST_MANAGER_PIDS
	debug "servers stopped"
	# The namespace goes with its last process anyway; this is tidiness.
	if [ -n "$JOURNALD_BIN" ]; then
		for d in $JOURNALD_DROPINS /var/log/journal /run/log; do
			mountpoint -q "$d" && umount "$d" 2>/dev/null
		done
	fi
	umount /run/systemd 2>/dev/null
}

inner_main() {
	T=$_LOOKOUT_SANDBOX_T CG=$_LOOKOUT_SANDBOX_CG
	SYSTEMD_BIN=$_LOOKOUT_SANDBOX_SYSTEMD ID=$_LOOKOUT_SANDBOX_ID
	# shellcheck disable=SC2153 # set by outer_main, not a misspelling
	JOURNALD_BIN=$_LOOKOUT_SANDBOX_JOURNALD
	unset _LOOKOUT_SANDBOX_STAGE _LOOKOUT_SANDBOX_T _LOOKOUT_SANDBOX_CG \
		_LOOKOUT_SANDBOX_SYSTEMD _LOOKOUT_SANDBOX_ID _LOOKOUT_SANDBOX_JOURNALD
	trap inner_teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	setup_namespace

	XDG_RUNTIME_DIR=$T/run
	XDG_CONFIG_HOME=$T/config
	# Also private, so that neither the manager nor COMMAND (lookout's
	# timeline, caches) writes into the real home directory.
	XDG_DATA_HOME=$T/data XDG_STATE_HOME=$T/state XDG_CACHE_HOME=$T/cache
	DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus
	LOOKOUT_SANDBOX=$T
	LOOKOUT_SANDBOX_CGROUP=$CG
	export XDG_RUNTIME_DIR XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME \
		XDG_CACHE_HOME DBUS_SESSION_BUS_ADDRESS \
		LOOKOUT_SANDBOX LOOKOUT_SANDBOX_CGROUP

	# RabbitMQ is by far the slowest (seconds), so it starts first and the
	# others come up while it boots.
	[ -n "$_LOOKOUT_SANDBOX_RABBITMQ" ] && rabbit_start
	# Before the manager: it connects each unit's stdout and stderr to
	# /run/systemd/journal/stdout when it starts the unit.
	if [ -n "$JOURNALD_BIN" ]; then
		journal_setup
		journal_start
		journal_wait
		LOOKOUT_SANDBOX_JOURNAL=1 LOOKOUT_SANDBOX_JOURNALD_PID=$JOURNALD_PID
		export LOOKOUT_SANDBOX_JOURNAL LOOKOUT_SANDBOX_JOURNALD_PID
	fi
	systemd_start
	LOOKOUT_SANDBOX_SYSTEMD_PID=$SYSTEMD_PID
	export LOOKOUT_SANDBOX_SYSTEMD_PID
	[ -n "$_LOOKOUT_SANDBOX_REDIS" ] && redis_up
	systemd_wait
	[ -n "$_LOOKOUT_SANDBOX_SSH" ] && ssh_up "$_LOOKOUT_SANDBOX_SSH"
	[ "$_LOOKOUT_SANDBOX_RABBITMQ" = 1 ] && rabbit_wait
	unset _LOOKOUT_SANDBOX_REDIS _LOOKOUT_SANDBOX_RABBITMQ _LOOKOUT_SANDBOX_SSH

	# In the background for the same reason as the inner stage itself.
	exec 3<&0
	"$@" <&3 3<&- &
	CMD_PID=$!
	exec 3<&-
	status=0
	wait "$CMD_PID" || status=$?
	exit "$status"
}

# Both stages pass their stdin on through a duplicate (fd 3); make sure there
# is one to duplicate.
[ -e "/proc/$$/fd/0" ] || exec </dev/null

if [ "${_LOOKOUT_SANDBOX_STAGE:-}" = inner ]; then
	inner_main "$@"
else
	outer_main "$@"
fi
