#!/bin/sh
# A host shared with other users (DESIGN.md, "Trust"): nobody, through
# setpriv, plants links where root's lookout will create its timeline, the
# files beside it and an export.  lookout follows none of them, and a
# state directory open to others is refused, named with its owner and
# mode, and left as it was.
set -eu
. "$(dirname "$0")/tap.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1 ||
    ! id nobody >/dev/null 2>&1; then
	skip "needs root, setpriv and a user nobody"; done_testing; exit 0
fi
# $T is root's alone; the other user needs somewhere to reach.
H=$(mktemp -d /tmp/lookout-host.XXXXXX)
chmod 755 "$H"
trap 'rm -rf "$T" "$H"' EXIT
as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }
mode() { stat -c %a "$1"; }
# untouched FILE: still empty, mode 644, nothing created beside it.
untouched() { [ ! -s "$1" ] && [ "$(mode "$1")" = 644 ] && [ ! -e "$1-wal" ]; }

# --- the timeline where others can write ----------------------------------
mkdir -m 777 "$H/shared"
: > "$H/victim"; chmod 644 "$H/victim"
mkdir -m 700 "$H/rootonly"
as_nobody ln -s "$H/victim" "$H/shared/timeline.db"
as_nobody ln -s "$H/rootonly" "$H/shared/locks"
run --db "$H/shared/timeline.db" incident open "disk full"
expect_error "a timeline in a directory others can write is refused" 2 \
    "directory $H/shared is not private \(owner root, mode 0777\)"
check "the file a planted timeline.db link points at is untouched" untouched "$H/victim"
mkdir -p "$T/books"
printf 'return runbook { name = "noop", step "one" { function() return true end } }\n' > "$T/books/noop.lua"
LOOKOUT_RUNBOOK_PATH="$T/books" run --db "$H/shared/timeline.db" run noop --yes
check "a run there creates no lock where a planted locks link points" test -z "$(ls -A "$H/rootonly")"

# A private directory of root's, under one that others can write: they
# can swap it for a link of theirs at any moment.
mkdir -m 777 "$H/open"
mkdir -m 700 "$H/open/mine"
run --db "$H/open/mine/timeline.db" incident open "disk full"
expect_error "a directory above the timeline that others can write is refused" 2 \
    "directory $H/open can be changed by others \(owner root, mode 0777\)"
as_nobody mv "$H/open/mine" "$H/open/theirs"
as_nobody ln -s "$H/rootonly" "$H/open/mine"
run --db "$H/open/mine/timeline.db" incident open "disk full"
check "swapped for a link, it still creates nothing where the link points" test -z "$(ls -A "$H/rootonly")"

# A link in a sticky directory such as /tmp, to root's own directory, but
# made by someone else: they can point it elsewhere at any moment.
mkdir -m 1777 "$H/sticky"
as_nobody ln -s "$T" "$H/sticky/alias"
run --db "$H/sticky/alias/timeline.db" incident open "disk full"
expect_error "a link someone else planted on the way is not followed" 2 \
    "$H/sticky/alias is a symbolic link owned by nobody, in a directory others can write \($H/sticky: owner root, mode 1777\); not following it"

# --- an existing state directory open to others ---------------------------
default_path() {
	set +e
	env -u LOOKOUT_DB XDG_STATE_HOME="$T/state" "$LOOKOUT" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	out=$(cat "$T/out"); err=$(cat "$T/err")
}
mkdir -m 700 "$T/state"
mkdir -m 755 "$T/state/lookout"
default_path incident open "disk full"
expect_error "an existing state directory open to others is refused, with its owner and mode" 2 \
    "open timeline $T/state/lookout/timeline.db: directory $T/state/lookout is not private \(owner root, mode 0755\); it must be yours alone, mode 0700"
check "and left as it was, with nothing created in it" sh -c '[ "$(stat -c %a "$1")" = 755 ] && [ -z "$(ls -A "$1")" ]' _ "$T/state/lookout"
chmod 700 "$T/state/lookout"
default_path incident open "disk full"
check "once private, it is used" test "$rc" -eq 0
chmod 640 "$T/state/lookout/timeline.db"
default_path incident list
expect_error "a timeline file open to others is refused, with its owner and mode" 2 \
    "timeline.db: not private \(owner root, mode 0640\); it must be yours alone, mode 0600"
chmod 600 "$T/state/lookout/timeline.db"
chown nobody "$T/state/lookout/timeline.db"
default_path incident list
expect_error "so is one that belongs to someone else" 2 "not private \(owner nobody, mode 0600\)"
chown root "$T/state/lookout/timeline.db"

# --- exports ----------------------------------------------------------------
db="$T/t.db"
id=$("$LOOKOUT" --db "$db" incident open "export me")
mkdir "$H/drop"; chown nobody:nogroup "$H/drop"
as_nobody ln -s "$H/rootonly" "$H/drop/out"
run --db "$db" export "$id" -o "$H/drop/out/pm.md"
expect_error "an export does not follow a link another user planted" 2 \
    "write $H/drop/out/pm.md: $H/drop/out is a symbolic link owned by nobody, in a directory others can write"
check "nothing was written where it points" test -z "$(ls -A "$H/rootonly")"
as_nobody ln -s "$H/victim" "$H/drop/pm.md"
run --db "$db" export "$id" -o "$H/drop/pm.md"
check "a link planted where the export goes is replaced, not written through" \
    sh -c '[ "$1" -eq 0 ] && [ ! -L "$2/drop/pm.md" ] && [ -s "$2/drop/pm.md" ] && [ ! -s "$2/victim" ]' _ "$rc" "$H"
check "and the export is root's alone" test "$(stat -c '%U %a' "$H/drop/pm.md")" = "root 600"
done_testing
