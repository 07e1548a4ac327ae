#!/bin/sh
# The bash completion (completion/lookout.bash): sourced in bash, its
# function called with COMP_WORDS and COMP_CWORD set, as bash would.  The
# commands and options must be those of the command table; runbook names,
# incident and run ids those of the runbook path and timeline in effect.
# Usage: test_completion.sh COMPLETION_FILE
set -eu
. "$(dirname "$0")/tap.sh"
completion=$1

if ! command -v bash >/dev/null 2>&1; then
	skip "bash is not installed"
	done_testing
	exit 0
fi

# The lookout being completed is the one on PATH, as for a user.
mkdir -p "$T/bin" "$T/books" "$T/xdg" "$T/files"
ln -s "$LOOKOUT" "$T/bin/lookout"
PATH=$T/bin:$PATH
export PATH XDG_CONFIG_HOME="$T/xdg" LOOKOUT_RUNBOOK_PATH="$T/books"
cat > "$T/books/zz-probe-book.lua" <<'LUA'
return runbook { name = "zz-probe-book",
  step "hello" { function(p) return note("hello") end } }
LUA
"$LOOKOUT" incident open first >/dev/null
"$LOOKOUT" incident open second >/dev/null
"$LOOKOUT" run zz-probe-book --yes >/dev/null 2>&1

# offered WORD...: what the completion offers for the last word (the one
# being completed), sorted, on one line.
offered() {
	bash -c '. "$1" || exit 1; shift
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
	_lookout
	printf "%s\n" "${COMPREPLY[@]}" | sed "/^\$/d" | sort | tr "\n" " "' \
	    _ "$completion" "$@"
}
# expect NAME WANT WORD...: the completion of WORD... offers WANT exactly.
expect() {
	name=$1 want=$2; shift 2
	got=$(offered "$@" 2>&1 || :)
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		fail "$name" "words: $*" "want: $want" "got:  $got"
	fi
}

run --help
commands=$(printf '%s\n' "$out" | sed -n 's/^  \([a-z]\{1,\}\).*/\1/p' |
    sort -u | tr '\n' ' ')
expect "the command names are those of --help" "$commands" lookout ""
expect "a prefix narrows them; the hidden complete is not offered" \
    "console " lookout co
expect "global options before the command" "--config --db --help --version " \
    lookout --
expect "a command's options come from its usage" "--format --help " \
    lookout export 1 --
expect "an action's own options" "--service --severity " \
    lookout incident open --se
expect "export formats after --format" "csv json md " \
    lookout export 1 --format ""
expect "and after --format=, which bash splits at the =" "json " \
    lookout export 1 --format = j
expect "severities after --severity" "P1 P2 P3 P4 " \
    lookout incident open disk full --severity ""
expect "incident's actions" "ack close list mitigate note open resolve show " \
    lookout incident ""

got=$(offered lookout run "" 2>&1 || :)
case " $got" in
*" zz-probe-book "*) ok "run: a runbook of LOOKOUT_RUNBOOK_PATH is offered" ;;
*) fail "run: a runbook of LOOKOUT_RUNBOOK_PATH is offered" "got: $got" ;;
esac
expect "run: only runbook names start with the prefix" "zz-probe-book " \
    lookout run zz-

for action in show note ack mitigate resolve close; do
	expect "incident $action: the incident ids of LOOKOUT_DB" "1 2 " \
	    lookout incident "$action" ""
done
expect "export: incident ids" "1 2 " lookout export ""
expect "verify: incident ids" "1 2 " lookout verify ""
expect "run --incident: incident ids" "1 2 " lookout run zz-probe-book --incident ""
expect "an incident id is the operand's only completion" "" \
    lookout incident show 1 ""
expect "replay: run ids" "1 " lookout replay ""
expect "run --resume: run ids" "1 " lookout run --resume ""

# The timeline --db names, wherever it is on the line; none is created.
"$LOOKOUT" --db "$T/other.db" incident open a >/dev/null
"$LOOKOUT" --db "$T/other.db" incident open b >/dev/null
"$LOOKOUT" --db "$T/other.db" incident open c >/dev/null
expect "--db before the command: that timeline's ids" "1 2 3 " \
    lookout --db "$T/other.db" incident ack ""
expect "--db after it too" "1 2 3 " lookout export --db "$T/other.db" ""
expect "a timeline that does not exist offers nothing" "" \
    lookout --db "$T/none.db" incident show ""
check "and is not created by completing" test ! -e "$T/none.db"

: > "$T/files/notes.txt"
expect "check: files" "$T/files/notes.txt " lookout check "$T/files/n"
expect "export -o: files" "$T/files/notes.txt " lookout export 1 -o "$T/files/"
done_testing
