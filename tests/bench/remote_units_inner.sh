#!/bin/sh
# Inner half of bench_remote_units.sh: runs inside tests/sandbox --ssh N.
# Loop counters are unused and lists of timings are split on purpose.
# shellcheck disable=SC2034,SC2086
set -eu
. tests/bench/lib.sh
. tests/bench/live_lib.sh
D=$W/remote_units
mkdir -p "$D"
chmod 700 "$D"
H=${REMOTE_HOSTS:-5}
N=${REMOTE_UNITS_N:-50}
# The peer is slow (an ssh login per unit): it runs fewer rounds.
PEER_ROUNDS=${REMOTE_PEER_ROUNDS:-1}

# host_env I: the environment systemctl --user needs to reach host I's
# manager (host 1 is the sandbox's own).
on_host() {
	_i=$1
	shift
	if [ "$_i" -eq 1 ]; then
		"$@"
	else
		eval "XDG_RUNTIME_DIR=\$LOOKOUT_SANDBOX_HOST${_i}_RUNTIME_DIR XDG_CONFIG_HOME=\$LOOKOUT_SANDBOX_HOST${_i}_CONFIG_HOME \"\$@\""
	fi
}
config_home() {
	if [ "$1" -eq 1 ]; then echo "$XDG_CONFIG_HOME"; else eval "echo \$LOOKOUT_SANDBOX_HOST${1}_CONFIG_HOME"; fi
}

# N units on each host: every 10th fails at once, the rest run.
: >"$D/pairs"
: >"$D/body.lua"
for i in $(seq 1 "$H"); do
	u_dir=$(config_home "$i")/systemd/user
	mkdir -p "$u_dir"
	running=""
	failed=""
	for j in $(seq 1 "$N"); do
		u=rb-$j.service
		if [ $((j % 10)) -eq 0 ]; then
			printf '%s\n' "[Service]" "ExecStart=/bin/false" >"$u_dir/$u"
			failed="$failed $u"
		else
			printf '%s\n' "[Service]" "ExecStart=/bin/sleep 100000" >"$u_dir/$u"
			running="$running $u"
		fi
		echo "alias$i $u" >>"$D/pairs"
		echo "service \"h$i-$j\" { unit = \"$u\", scope = \"user\", host = \"alias$i\" }" >>"$D/body.lua"
	done
	on_host "$i" systemctl --user daemon-reload
	on_host "$i" systemctl --user start $running
	[ -z "$failed" ] || on_host "$i" systemctl --user start --no-block $failed
done
sleep 1

# The same ssh_config, and the same with a ControlMaster per host.
cp "$LOOKOUT_SANDBOX_SSH_CONFIG" "$D/ssh_plain"
{
	printf '%s\n' "Host *" "  ControlMaster auto" "  ControlPath $D/cm-%C" "  ControlPersist 600"
	cat "$LOOKOUT_SANDBOX_SSH_CONFIG"
} >"$D/ssh_cm"
chmod 600 "$D/ssh_plain" "$D/ssh_cm"
for v in plain cm; do
	{
		echo "ssh_config = \"$D/ssh_$v\""
		echo "ssh_timeout = \"60s\""
		cat "$D/body.lua"
	} >"$D/lookout_$v.lua"
done

show_loop() {
	while read -r h u; do
		ssh -F "$1" -xT "$h" systemctl --user show -p "$BENCH_UNIT_PROPS" "$u" </dev/null
	done <"$D/pairs" >"$D/show.txt"
}

# Warm each master (and each host's login path) before timing.
for i in $(seq 1 "$H"); do ssh -F "$D/ssh_cm" -xT "alias$i" true </dev/null; done

for v in plain cm; do
	ours="" peer=""
	for r in $(seq 1 "$ROUNDS"); do
		t=$(now); status_json "$D/lookout_$v.lua" "$D/status.json"; ours="$ours $(elapsed "$t")"
	done
	for r in $(seq 1 "$PEER_ROUNDS"); do
		t=$(now); show_loop "$D/ssh_$v"; peer="$peer $(elapsed "$t")"
	done
	# Both must have seen the same thing.
	nrun=$(grep -o '"active":"active"' "$D/status.json" | wc -l)
	nfail=$(grep -o '"active":"failed"' "$D/status.json" | wc -l)
	prun=$(grep -c '^ActiveState=active$' "$D/show.txt" || :)
	pfail=$(grep -c '^ActiveState=failed$' "$D/show.txt" || :)
	if [ "$nrun" != "$prun" ] || [ "$nfail" != "$pfail" ] || [ "$nrun" -eq 0 ]; then
		echo "remote_units ($v): lookout saw $nrun active/$nfail failed, ssh systemctl $prun/$pfail" >&2
		exit 1
	fi
	o=$(median $ours); p=$(median $peer)
	name=remote_units_${H}x${N}
	what="without ControlMaster"
	if [ "$v" = cm ]; then name=${name}_controlmaster; what="with a ControlMaster per host, warm"; fi
	echo "BENCH $name ratio=$(ratio "$o" "$p" 4) target=report lookout=$(ratio "$o" 0.001 0)ms peer=$(ratio "$p" 0.001 0)ms (ssh -F CONFIG HOST systemctl --user show -p <10 props> UNIT, looped over the same $((H * N)) units on $H hosts, $what: $prun active, $pfail failed; lookout: status --json, one refresh from connecting to the last answer, median of $ROUNDS; peer: median of $PEER_ROUNDS)"
done
# The masters go with the sandbox's sshd; ask them to leave first.
for i in $(seq 1 "$H"); do ssh -F "$D/ssh_cm" -O exit "alias$i" 2>/dev/null || :; done
