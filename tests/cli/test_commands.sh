#!/bin/sh
# The command table (cmd/main.c): every command is listed by --help, has a
# help of its own, and an unknown one is refused in one line.
set -eu
. "$(dirname "$0")/tap.sh"

L=$LOOKOUT
COMMANDS="console incident export verify status check watch run replay runs runbooks"

run --help
check "--help exits 0 and prints nothing on stderr" test "$rc" -eq 0 -a -z "$err"
listed=$(printf '%s\n' "$out" | sed -n 's/^  \([a-z]\{1,\}\).*/\1/p' | sort -u | tr '\n' ' ')
want=$(printf '%s\n' $COMMANDS | sort -u | tr '\n' ' ')
check "--help lists every command of the table, and only those" test "$listed" = "$want"

for c in $COMMANDS; do
	run "$c" --help
	first=$(printf '%s\n' "$out" | head -n 1)
	case $first in
	"usage: lookout $c"*) ok "$c --help starts with its usage" ;;
	*) fail "$c --help starts with its usage" "rc=$rc first line: $first" ;;
	esac
done

run frobnicate
expect_error "an unknown command is one line, exit 2" 2 'unknown command "frobnicate"'
run --version
check "--version ends with a newline" sh -c '"$1" --version | tail -c 1 | od -An -c | grep -q "\\\\n"' _ "$L"
done_testing
