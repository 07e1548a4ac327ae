#!/bin/sh
# Files lookout refuses to trust, played for real: root runs lookout, and
# nobody, a user sharing the host, plants what it would read (a config in
# the directory root works in, runbooks, links) in a sticky directory, the
# way /tmp lets them.  Nothing planted runs; each refusal is one line that
# names the file, its owner and its mode.  And what is not a regular file
# (a FIFO, a device, a directory named x.lua) is refused at once, where it
# used to hang `check` and `status`.
set -eu
. "$(dirname "$0")/tap.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	skip "needs root and setpriv to play another user"; done_testing; exit 0
fi
as_nobody() {
	setpriv --reuid nobody --regid nogroup --clear-groups -- "$@"
}
# $T is root's, 0700; nobody may enter it but not write it.
chmod 755 "$T"
mkdir -m 1777 "$T/drop"
# The timeline's directory must be private (open timeline refuses 0755).
mkdir -m 700 "$T/state"
export LOOKOUT_DB="$T/state/t.db"

# A planted config that would run a command as root on `status`: a queue
# whose depth a command prints.
as_nobody sh -c "cat >'$T/drop/lookout.lua'" <<LUA
queue "jobs" { command = { argv = { "/bin/sh", "-c", "touch $T/pwned; echo 1" } } }
LUA
cd "$T/drop"
run check
expect_error "check in a directory nobody planted lookout.lua in refuses it" 2 \
	'^lookout\.lua: not trusted: .*/drop/lookout\.lua belongs to nobody, not to root \(mode 0644\)$'
run status
expect_error "status refuses the planted ./lookout.lua" 2 \
	'config lookout\.lua: not trusted: .*/drop/lookout\.lua belongs to nobody'
check "the planted command never ran" test ! -e "$T/pwned"

# The same file, copied to a place of root's, is fine: it is the owner and
# the path that are refused, not the text.
mkdir -m 755 "$T/etc"
cp "$T/drop/lookout.lua" "$T/etc/lookout.lua"
sed -i 's/touch [^;]*; //' "$T/etc/lookout.lua"
run check "$T/etc/lookout.lua"
check "root's own copy checks ok" test "$rc" -eq 0
# A link nobody planted in the sticky directory, to root's good config.
as_nobody ln -s "$T/etc/lookout.lua" "$T/drop/link.lua"
run --config "$T/drop/link.lua" status
expect_error "a link nobody planted is not followed" 2 \
	'config .*/drop/link\.lua: .*/drop/link\.lua is a symbolic link owned by nobody, in a directory others can write \(.*/drop: owner root, mode 1777\); not following it$'
# Writable by others, or by the file's group: refused whoever owns it.
cp "$T/etc/lookout.lua" "$T/etc/open.lua"; chmod 666 "$T/etc/open.lua"
run check "$T/etc/open.lua"
expect_error "a config others can write is refused" 2 \
	'open\.lua: not trusted: .*/etc/open\.lua is writable by its group and others \(owner root, mode 0666\)'
mkdir -m 777 "$T/shared"; cp "$T/etc/lookout.lua" "$T/shared/lookout.lua"
run --config "$T/shared/lookout.lua" status
expect_error "a config in a directory others can write is refused" 2 \
	'config .*/shared/lookout\.lua: not trusted: directory .*/shared is writable by its group and others \(owner root, mode 0777\)'
# nobody's lookout trusts nobody's files: it is the invoker.
as_nobody sh -c "cat >'$T/drop/mine.lua'" <"$T/etc/lookout.lua"
if as_nobody "$LOOKOUT" check "$T/drop/mine.lua" >"$T/out" 2>&1; then
	ok "a user's own config is trusted by their own lookout"
else
	fail "a user's own config is trusted by their own lookout" "$(cat "$T/out")"
fi
cd "$T"

# Runbooks: a directory of nobody's, a runbook of theirs in root's dir.
as_nobody sh -c "mkdir '$T/drop/books' && cat >'$T/drop/books/evil.lua'" <<LUA
return runbook { name = "evil",
  step "own" { function() return sh { "/bin/touch", "$T/pwned" } end } }
LUA
mkdir -m 755 "$T/books"
as_nobody cat "$T/drop/books/evil.lua" >"$T/books/group.lua"
sed -i 's/"evil"/"group"/' "$T/books/group.lua"
chmod 664 "$T/books/group.lua"
export LOOKOUT_RUNBOOK_PATH="$T/drop/books:$T/books"
run runbooks
if [ "$rc" -eq 2 ] && printf '%s\n' "$out" | grep -q '^evil  *REFUSED$' &&
    printf '%s\n' "$out" | grep -q '^group  *REFUSED$' &&
    printf '%s\n' "$err" | grep -q "runbook .*/drop/books/evil.lua: not trusted: directory .*/drop/books belongs to nobody, not to root (mode 0755)" &&
    printf '%s\n' "$err" | grep -q "runbook .*/books/group.lua: not trusted: .*/books/group.lua is writable by its group (owner root, mode 0664)"; then
	ok "runbooks lists both as REFUSED, and says why"
else
	fail "runbooks lists both as REFUSED, and says why" "exit $rc" "$out" "$err"
fi
run runbooks --json
if [ "$rc" -eq 2 ] && printf '%s' "$out" | python3 -c '
import json, sys
r = {b["name"]: b for b in json.load(sys.stdin)}
assert "not trusted" in r["evil"]["refused"], r
assert "not trusted" in r["group"]["refused"], r
'; then
	ok "runbooks --json lists them with why they are refused"
else
	fail "runbooks --json lists them with why they are refused" "$out"
fi
run run evil --yes
expect_error "run refuses nobody's runbook" 2 \
	'runbook .*/drop/books/evil\.lua: not trusted: directory .*/drop/books belongs to nobody'
run run "$T/books/group.lua" --yes
expect_error "run refuses a runbook its group can write" 2 \
	'runbook .*/books/group\.lua: not trusted: .* is writable by its group'
check "no planted runbook ran" test ! -e "$T/pwned"
run check "$T/drop/books/evil.lua"
expect_error "check says the same of a runbook" 2 \
	'evil\.lua: not trusted: directory .*/drop/books belongs to nobody'
unset LOOKOUT_RUNBOOK_PATH

# What is not a regular file is refused within a second.
mkfifo "$T/etc/fifo.lua"
mkdir -m 755 "$T/odd"; mkfifo "$T/odd/pipe.lua"; mkdir "$T/odd/dir.lua"
# within NAME CMD...: runs lookout with a 5 s limit; ok when it was done in
# under a second.
within() {
	name=$1; shift
	t0=$(date +%s%N)
	set +e
	timeout 5 "$LOOKOUT" "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	set -e
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	out=$(cat "$T/out"); err=$(cat "$T/err")
	if [ "$ms" -ge 1000 ]; then
		fail "$name" "took $ms ms (exit $rc)"
	else
		ok "$name"
	fi
}
within "check of a FIFO returns at once" check "$T/etc/fifo.lua"
expect_error "and says it is a FIFO" 2 'fifo\.lua: not a regular file \(a FIFO\)$'
within "status with a FIFO as --config returns at once" --config "$T/etc/fifo.lua" status
expect_error "and refuses it" 2 'config .*/fifo\.lua: not a regular file \(a FIFO\)$'
within "status with /dev/zero as --config returns at once" --config /dev/zero status
expect_error "and refuses the device" 2 '^config /dev/zero: not a regular file \(a character device\)$'
within "check of a directory returns at once" check "$T/odd/dir.lua"
expect_error "and refuses it" 2 'dir\.lua: not a regular file \(a directory\)$'
export LOOKOUT_RUNBOOK_PATH="$T/odd"
within "runbooks with a FIFO and a directory named *.lua returns at once" runbooks
if [ "$rc" -eq 2 ] && printf '%s\n' "$out" | grep -q '^pipe  *REFUSED$' &&
    printf '%s\n' "$out" | grep -q '^dir  *REFUSED$' &&
    printf '%s\n' "$err" | grep -q 'pipe\.lua: not a regular file (a FIFO)$'; then
	ok "and lists both as REFUSED"
else
	fail "and lists both as REFUSED" "exit $rc" "$out" "$err"
fi
within "run of a FIFO runbook returns at once" run pipe --yes
expect_error "and refuses it" 2 'runbook .*/odd/pipe\.lua: not a regular file \(a FIFO\)$'
unset LOOKOUT_RUNBOOK_PATH

done_testing
