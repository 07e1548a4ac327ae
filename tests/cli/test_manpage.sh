#!/bin/sh
# The man page (doc/lookout.1.in, as meson configured it) against the
# command table: every command `lookout --help` lists has its entry under
# COMMANDS, and no other command does; every : command of the console's
# table (tui/cmds.c) has its entry; groff renders it without a warning.
# Usage: test_manpage.sh BUILT_MAN_PAGE TUI_CMDS_C
set -eu
. "$(dirname "$0")/tap.sh"
man=$1 cmds_c=$2

run --help
listed=$(printf '%s\n' "$out" | sed -n 's/^  \([a-z]\{1,\}\).*/\1/p' |
    sort -u | tr '\n' ' ')
# The entries of COMMANDS' own list (not those of a list inside an entry):
# ".It Cm NAME ...", or ".It Xo" followed by ".Cm NAME ...".
documented=$(awk '
/^\.Sh / { sect = $2; depth = 0; xo = 0; next }
sect != "COMMANDS" { next }
/^\.Bl/ { depth++; next }
/^\.El/ { depth--; next }
depth != 1 { next }
/^\.It Xo/ { xo = 1; next }
xo && /^\.Cm / { print $2; xo = 0; next }
/^\.It Cm / { print $3 }
' "$man" | sort -u | tr '\n' ' ')
if [ -n "$listed" ] && [ "$listed" = "$documented" ]; then
	ok "every command of --help has its entry under COMMANDS, and only those"
else
	fail "every command of --help has its entry under COMMANDS, and only those" \
	    "--help:   $listed" "man page: $documented"
fi

# The console's commands: the names of cmds[] in tui/cmds.c.
console=$(sed -n 's/^	{ "\([a-z]*\)", \(true\|false\), cmd_.*/\1/p' "$cmds_c")
in_man=$(awk '/^\.Sh / { sect = $0; next }
    sect == ".Sh THE CONSOLE" && /^\.(It|Ic) / {
	for (i = 2; i <= NF; i++) if ($i ~ /^:[a-z]/) { sub(/,$/, "", $i); print $i }
    }' "$man")
missing=
for c in $console; do
	printf '%s\n' "$in_man" | grep -qx ":$c" || missing="$missing :$c"
done
if [ -n "$console" ] && [ -z "$missing" ]; then
	ok "every : command of the console has its entry under THE CONSOLE"
else
	fail "every : command of the console has its entry under THE CONSOLE" \
	    "missing:${missing:- (no commands read from $cmds_c)}"
fi

check "meson filled in every @VARIABLE@" sh -c '! grep -n "@[A-Z_]*@" "$1"' _ "$man"

if command -v groff >/dev/null 2>&1; then
	warnings=$(groff -mandoc -Tutf8 -ww -z "$man" 2>&1)
	if [ -z "$warnings" ]; then
		ok "groff -mandoc -ww renders it without a warning"
	else
		fail "groff -mandoc -ww renders it without a warning" "$warnings"
	fi
	page=$(groff -mandoc -Tutf8 -rLL=78n "$man" 2>/dev/null | sed 's/.\x08//g')
	check "the rendered page names the exit statuses and the environment" sh -c \
	    'for w in "EXIT STATUS" ENVIRONMENT LOOKOUT_RUNBOOK_PATH NO_COLOR SSH_CONNECTION; do
		printf "%s\n" "$1" | grep -q "$w" || exit 1
	    done' _ "$page"
else
	skip "groff is not installed (package groff-base; see tools/deps.sh)"
fi
done_testing
