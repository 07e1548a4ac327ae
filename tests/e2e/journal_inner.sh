#!/bin/sh
# A unit's journal read through probes/journal.c (the journal_tail helper)
# from the sandbox's own systemd-journald: runs inside tests/sandbox with
# --journal (through in_sandbox.sh).  Seed 000's traceback read back, lines
# followed as they come, raw bytes kept, what a real host's journald records
# matched too, and the cases with nothing to show.  Prints TAP.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/tap.sh"
: "${JOURNAL_TAIL:?JOURNAL_TAIL must point at the journal_tail helper}"
if [ -z "${LOOKOUT_SANDBOX_JOURNAL:-}" ]; then
	skip "the sandbox runs no journald (sandbox.sh --journal)"
	done_testing
	exit 0
fi
U=$XDG_CONFIG_HOME/systemd/user
mkdir -p "$U"
PIDS=''
trap 'kill $PIDS 2>/dev/null || :; rm -rf "$T"' EXIT
t0_us=$(($(date +%s%N) / 1000))

# jt ARGS...: the helper's output in $T/out.
jt() { "$JOURNAL_TAIL" "$@" >"$T/out" 2>&1; }
# seen UNIT PATTERN: one of the unit's last 50 lines (through the API)
# matches the extended regular expression.
seen() { jt -n 50 "$1" && grep -Eq -- "^L .*$2" "$T/out"; }
wait_seen() {
	for _ in $(seq 100); do
		seen "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}
# The text of each line, in order.
texts() { sed -n 's/^L [0-9]* [0-9]* [0-9]* [01] //p' "$1"; }

# Seed 000: the service dies at start-up on a missing import.  journald 252
# reads a sender's unit from /proc when it reads its first line, so a
# process that is gone by then leaves lines that nothing can attribute (no
# unit, no cgroup); the script waits until its first line has been read
# back through the unit, then fails as the real one did.
cat >"$T/crasher.py" <<'PY'
import os, sys, time
print("crasher: starting", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.02)
queue.Queue()
PY
# tick NAME: a line every 200 ms, numbered.
cat >"$T/tick.sh" <<'SH'
i=0
while :; do echo "$1 $i"; i=$((i + 1)); sleep 0.2; done
SH
# Each line written by the shell itself: journald attributes a line to
# the process that wrote it, and a short-lived child (tr) would be gone
# before journald looked it up.
cat >"$T/bytes.sh" <<'SH'
printf 'color \033[31mred\033[0m bell\007 \377 end\n'
x=$(head -c 5000 /dev/zero | tr '\0' x)
printf '%s\n' "$x"
exec sleep 300
SH
# 3,000 lines at once, then quiet.
cat >"$T/spam.sh" <<'SH'
i=0
while [ $i -lt 3000 ]; do echo "spam $i"; i=$((i + 1)); done
exec sleep 300
SH
unit() { name=$1; shift; printf '%s\n' "[Service]" "$@" >"$U/$name"; }
unit crasher.service "ExecStart=/usr/bin/python3 $T/crasher.py $T/go"
unit ticker.service "ExecStart=/bin/sh $T/tick.sh tick"
unit late.service "ExecStart=/bin/sh $T/tick.sh late"
unit bytes.service "ExecStart=/bin/sh $T/bytes.sh"
unit spam.service "ExecStart=/bin/sh $T/spam.sh"
systemctl --user daemon-reload

# Where a real host's journald finds units: a process in a cgroup
# .../user@0.service/app.slice/X.service gets _SYSTEMD_USER_UNIT=X, one in
# <slices>/Y.service gets _SYSTEMD_UNIT=Y.  The sandbox's manager is
# elsewhere, so these two are placed by hand, and kept alive for journald
# to find them in /proc (see the crasher above).
host_like() {
	cg=$LOOKOUT_SANDBOX_CGROUP/$1
	mkdir -p "$cg"
	# shellcheck disable=SC2016
	sh -c 'echo $$ >"$1/cgroup.procs" && exec systemd-cat -t "$2" sh -c "echo \"$2: hello\"; exec sleep 300"' \
		sh "$cg" "$2" </dev/null >/dev/null 2>&1 &
	PIDS="$PIDS $!"
}
host_like user@0.service/app.slice/hostuser.service hostuser
host_like hostsys.service hostsys
systemctl --user start crasher.service ticker.service bytes.service spam.service

# Follow a unit that has not logged yet; start it once caught up.  The
# helper stops at its third callback (or after 10 s, as a failure).
"$JOURNAL_TAIL" -f -c 3 -t 10000 late.service >"$T/late" 2>&1 &
late=$!
for _ in $(seq 50); do grep -q '^CB .*caught_up=1' "$T/late" && break; sleep 0.1; done
systemctl --user start late.service

# --- seed 000 ---------------------------------------------------------------
wait_seen crasher.service 'crasher: starting$' || :
touch "$T/go"
for _ in $(seq 100); do
	[ "$(systemctl --user is-failed crasher.service)" = failed ] && break
	sleep 0.1
done
wait_seen crasher.service "NameError: name 'queue' is not defined$" || :
jt -n 5 crasher.service
cp "$T/out" "$T/last5"
if [ "$(grep -c '^CB ' "$T/last5")" -eq 1 ] && grep -q '^CB .* caught_up=1$' "$T/last5" &&
    [ "$(grep -c '^L ' "$T/last5")" -eq 5 ] &&
    texts "$T/last5" | grep -qx "NameError: name 'queue' is not defined"; then
	ok "seed 000: the NameError line is among the last 5 lines of crasher.service (one-shot)"
else
	fail "seed 000: the NameError line is among the last 5 lines of crasher.service (one-shot)" "$(cat "$T/last5")"
fi
jt -n 20 crasher.service
texts "$T/out" >"$T/crasher"
# The unit's own lines come in the order it wrote them.
if grep -n . "$T/crasher" | grep -E ':(crasher: starting|Traceback \(most recent call last\):|    queue.Queue\(\)|NameError: .*)$' |
    cut -d: -f2- | tr '\n' '|' | grep -qx "crasher: starting|Traceback (most recent call last):|    queue.Queue()|NameError: name 'queue' is not defined|"; then
	ok "and the whole traceback before it, in order"
else
	fail "and the whole traceback before it, in order" "$(cat "$T/crasher")"
fi
if grep -qx 'crasher.service: Main process exited, code=exited, status=1/FAILURE' "$T/crasher" &&
    grep -qx "crasher.service: Failed with result 'exit-code'." "$T/crasher"; then
	ok "the manager's own lines about the unit (USER_UNIT=) are there too"
else
	fail "the manager's own lines about the unit (USER_UNIT=) are there too" "$(cat "$T/crasher")"
fi
# Times within this test; python's stderr at journald's default for a
# stream (info), the manager's "Failed with result" at warning.
times_and_priorities() {
	# shellcheck disable=SC2016
	awk -v t0="$t0_us" -v now="$(($(date +%s%N) / 1000))" '
	/^L / { if ($2 < t0 - 1000000 || $2 > now) bad = "time " $0 }
	/^L .* NameError: name/ { if ($3 != 6) bad = "priority " $0; n++ }
	/^L .* Failed with result/ { if ($3 != 4) bad = "priority " $0; n++ }
	END { if (bad != "") print bad; exit bad != "" || n != 2 }' "$1"
}
check "each line has journald's time and the priority it was logged at" \
	times_and_priorities "$T/out"

# --- following ----------------------------------------------------------------
wait_seen ticker.service 'tick 0$' || :
jt -f -c 4 -t 10000 -n 3 ticker.service
cp "$T/out" "$T/follow"
# The first callback has the backlog, caught up; the three later ones
# bring new lines, while the loop runs on.
callbacks_bring_lines() {
	# shellcheck disable=SC2016
	awk '/^CB / { split($3, a, "="); n++
		if (n == 1 && $5 != "caught_up=1") exit 1
		if (n > 1 && a[2] > 0) later++ }
	END { exit later != 3 }' "$1"
}
check "follow: new lines come through the callback while the loop runs" \
	callbacks_bring_lines "$T/follow"
# tick N, tick N+1, ...: none lost, none twice (the backlog may also
# hold the manager's "Started ticker.service.").
ticks_in_order() {
	# shellcheck disable=SC2016
	texts "$1" | awk '$1 == "tick" { if (n++ && $2 != last + 1) exit 1
		last = $2 } END { exit n < 4 }'
}
check "in order, each once" ticks_in_order "$T/follow"
wait "$late" || :
if grep -q '^CB .* added=0 count=0 caught_up=1$' "$T/late" &&
    texts "$T/late" | grep -qx 'Started late.service.' && texts "$T/late" | grep -qx 'late 0'; then
	ok "a unit that had not logged when following began: its first lines come too"
else
	fail "a unit that had not logged when following began: its first lines come too" "$(cat "$T/late")"
fi

# --- a backlog larger than one pass reads ---------------------------------------
wait_seen spam.service 'spam 2999$' || :
jt -n 1000 spam.service
# One callback with the whole backlog (the helper stops at the first), the
# ring holding the newest 1,000 lines in order.
whole_backlog() {
	[ "$(grep -c '^CB ' "$1")" -eq 1 ] &&
		grep -q '^CB [0-9]* added=1000 count=1000 caught_up=1$' "$1" &&
		[ "$(texts "$1" | head -n 1)" = 'spam 2000' ] &&
		[ "$(texts "$1" | tail -n 1)" = 'spam 2999' ] &&
		[ "$(texts "$1" | sort -u | wc -l)" -eq 1000 ]
}
if whole_backlog "$T/out"; then
	ok "the last 1,000 of 3,000 lines, read over several passes, told once"
else
	fail "the last 1,000 of 3,000 lines, read over several passes, told once" \
		"$(grep -v '^L ' "$T/out")" "$(head -n 2 "$T/out")" "$(tail -n 1 "$T/out")"
fi

# --- bytes --------------------------------------------------------------------
wait_seen bytes.service 'x{100}$' || :
jt -n 5 bytes.service
check "ESC, BEL and a byte that is not UTF-8 come back as they were" grep -qx \
	'L [0-9]* 6 30 0 color \\x1b\[31mred\\x1b\[0m bell\\x07 \\xff end' "$T/out"
check "a 5000-byte line is cut at 2048 bytes, and says so" grep -qx \
	'L [0-9]* 6 2048 1 x\{2048\}' "$T/out"

# --- nothing to show ----------------------------------------------------------
jt never.service
# One callback, caught up with nothing, and the sentence.
nothing_but_a_sentence() {
	sed 's/^CB [0-9]* /CB /' "$1" >"$1.cut"
	printf 'CB added=0 count=0 caught_up=1\nSTATUS %s\n' "$2" | cmp -s - "$1.cut"
}
check "a unit that never logged: a sentence, not an error" \
	nothing_but_a_sentence "$T/out" "journal of never.service: no entries"
# Root reads any journal; nobody may not read the sandbox's.
d=$(mktemp -d /tmp/lookout-journal.XXXXXX)
chmod 755 "$d"
cp "$JOURNAL_TAIL" "$d/"
set +e
ASAN_OPTIONS=detect_leaks=0 setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$d/journal_tail" crasher.service >"$T/out" 2>&1
rc=$?
set -e
rm -rf "$d"
check "a user who may not read the journal is told so, in one sentence" \
	test "$rc" -eq 0 -a "$(grep -Ec '^STATUS journal of crasher.service: (user nobody|uid 65534) may not read /run/log/journal/[0-9a-f]+ [(]the groups systemd-journal and adm may[)]$' "$T/out")" -eq 1

# --- what a real host records -------------------------------------------------
# journalctl says what journald recorded; the helper, that we found it.
recorded_and_found() {
	journalctl --no-pager -o cat "$1" | grep -qx "$2" && grep -q "^L .* $2\$" "$3"
}
wait_seen hostuser.service 'hostuser: hello$' || :
check "a process under user@0.service is found by _SYSTEMD_USER_UNIT, as on a host" \
	recorded_and_found _SYSTEMD_USER_UNIT=hostuser.service 'hostuser: hello' "$T/out"
jt -s system hostsys.service
cp "$T/out" "$T/sys"
jt -s user hostsys.service
check "a system unit is found by _SYSTEMD_UNIT in the system scope" \
	recorded_and_found _SYSTEMD_UNIT=hostsys.service 'hostsys: hello' "$T/sys"
check "and not in the user's" grep -qx 'STATUS journal of hostsys.service: no entries' "$T/out"

# --- valgrind -----------------------------------------------------------------
if ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind is not installed"
elif ldd "$JOURNAL_TAIL" 2>/dev/null | grep -q libasan; then
	skip "built with AddressSanitizer, which valgrind cannot run"
else
	# vg NAME ARGS...: the helper under valgrind, output in $T/vg.NAME.out
	# and its report in $T/vg.NAME; the two run side by side.
	vg() {
		name=$1
		shift
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--error-exitcode=99 "$JOURNAL_TAIL" "$@" >"$T/vg.$name.out" 2>"$T/vg.$name"
	}
	vg once -n 20 crasher.service & once=$!
	vg follow -f -c 2 -t 10000 -n 5 ticker.service & follow=$!
	if wait "$once" && grep -q NameError "$T/vg.once.out" && wait "$follow" &&
	    [ "$(grep -c '^CB .* caught_up=1$' "$T/vg.follow.out")" -eq 2 ]; then
		ok "valgrind: a one-shot read and a follow, no errors, no leaks"
	else
		wait "$follow" || :
		fail "valgrind: a one-shot read and a follow, no errors, no leaks" \
			"$(head -c 1000 "$T/vg.once")" "$(head -c 1000 "$T/vg.follow")" \
			"$(tail -n 3 "$T/vg.once.out")" "$(tail -n 3 "$T/vg.follow.out")"
	fi
fi
done_testing
