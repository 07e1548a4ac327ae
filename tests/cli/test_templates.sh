#!/bin/sh
# The shipped runbook templates: a lookout run from its build directory
# finds the source tree's templates/ before `meson install`; a lookout
# anywhere else never looks there.
set -eu
. "$(dirname "$0")/tap.sh"

src=$(cd "$(dirname "$0")/../../templates" && pwd -P)
# Nothing of the user's or the environment's may add runbooks.
mkdir -p "$T/xdg"
export LOOKOUT_RUNBOOK_PATH= XDG_CONFIG_HOME="$T/xdg"
cd "$T"

run runbooks
check "from the build tree, runbooks lists restart-service" sh -c \
    'printf "%s\n" "$1" | grep -q "^restart-service "' _ "$out"
check "and every template, from the source tree or an installed copy" sh -c '
for f in "$1"/*.lua; do
	n=$(basename "$f" .lua)
	[ "$n" = lookout.example ] && continue
	printf "%s\n" "$2" | grep -q "^$n " || exit 1
done' _ "$src" "$out"

# The same binary installed elsewhere: the source tree is not its business.
cp "$LOOKOUT" "$T/lookout"
set +e
"$T/lookout" runbooks >"$T/out" 2>"$T/err"
rc=$?
set -e
check "a copy outside the build tree finds nothing in the source tree" sh -c \
    '[ "$1" -eq 0 ] && ! grep -qF "$2/" "$3"' _ "$rc" "$src" "$T/out"
done_testing
