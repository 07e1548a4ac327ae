#!/bin/sh
# Installs the Debian packages that tests/sandbox/sandbox.sh needs, and only
# those that are missing.  Run as root on Debian 12 (or a close relative).
#
# The tests start their own private redis-server, rabbitmq-server and
# Alertmanager, so the packages' init scripts must not leave system-wide
# instances running: those would hold the default ports, keep files open in
# /var/lib and outlive the test run.  We install with a policy-rc.d that forbids service starts and
# stop anything the packages managed to start anyway.
set -eu

# systemd gives systemd --user, systemctl and busctl; dbus-user-session ships
# the user-level dbus.socket/dbus.service that give the manager its user bus
# at $XDG_RUNTIME_DIR/bus (without it, busctl --user has nothing to reach).
# python3-pika: the demo's RabbitMQ producer and consumer (tools/demo/
# inventory.py) speak AMQP, so that RabbitMQ counts a real consumer.
# openssh-server and openssh-client are the peers of the remote hosts: the
# tests start their own sshd on loopback (sandbox.sh --ssh), never the
# package's; the package's own service is kept from starting like the others.
# prometheus-alertmanager: the notifiers' end-to-end test posts alerts to a
# real Alertmanager and reads what its webhook receiver is sent.
PACKAGES="systemd dbus dbus-user-session redis-server redis-tools
rabbitmq-server prometheus-alertmanager curl util-linux procps python3
python3-pika openssh-server openssh-client"

log() { printf 'install-deps: %s\n' "$*" >&2; }

die() { log "$*"; exit 1; }

missing_packages() {
	for p in $PACKAGES; do
		s=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$s" = installed ] || printf '%s ' "$p"
	done
}

# A policy-rc.d that exits 101 tells invoke-rc.d (used by every maintainer
# script) not to start services.  If the machine already has one (Docker
# images do) we leave it alone; otherwise ours is removed afterwards.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=
install_policy() {
	[ -e "$POLICY" ] && return 0
	printf '#!/bin/sh\n# lookout install-deps.sh: no service starts\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
	OWN_POLICY=1
}

remove_policy() {
	[ -n "$OWN_POLICY" ] && rm -f "$POLICY"
	OWN_POLICY=
}

# apt-get update only when an install is needed and the lists look empty or
# the first attempt cannot find a package.
apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
		apt-get update -q
		UPDATED=1
	fi
	# shellcheck disable=SC2086
	if ! apt-get install -y -q --no-install-recommends $1; then
		[ -n "${UPDATED:-}" ] && return 1
		apt-get update -q
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $1
	fi
}

# If an init script started a daemon anyway (no policy-rc.d honoured), stop it
# through the same init script, which knows its pid file.
stop_system_service() {
	name=$1 binary=$2
	pgrep -x "$binary" >/dev/null 2>&1 || return 0
	[ -x "/etc/init.d/$name" ] || return 0
	# status asks about the package's own instance (its pid file or node
	# name), so private test instances running meanwhile are left alone.
	"/etc/init.d/$name" status >/dev/null 2>&1 || return 0
	log "stopping system-wide $name started by the package"
	"/etc/init.d/$name" stop >/dev/null 2>&1 || true
}

main() {
	[ "$(id -u)" = 0 ] || die "must run as root (apt-get install)"
	command -v apt-get >/dev/null 2>&1 || die "apt-get not found: not a Debian system"
	todo=$(missing_packages)
	if [ -n "$todo" ]; then
		log "installing: $todo"
		trap remove_policy EXIT
		install_policy
		apt_install "$todo"
		remove_policy
	else
		log "all packages present"
	fi
	# Also when nothing was installed: an earlier install may have started
	# them, and the tests want the default ports and /var/lib left alone.
	stop_system_service redis-server redis-server
	stop_system_service rabbitmq-server beam.smp
	stop_system_service prometheus-alertmanager prometheus-alertmanager
}

main "$@"
