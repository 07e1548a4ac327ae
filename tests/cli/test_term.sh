#!/bin/sh
# Text from outside on a real terminal (a tmux pane): a service name, a
# note, a runbook parameter and a command's output carrying a window-title
# sequence (ESC ] 2 ; pwned BEL) and a screen clear (ESC [ 2 J), printed by
# incident show, incident list, status, run (its progress, on stderr) and
# runs, neither retitle the pane nor clear it, and show as text.  Into a
# pipe, the same commands keep every byte.
set -eu
. "$(dirname "$0")/tap.sh"

if ! command -v tmux >/dev/null 2>&1; then
	skip "tmux is not installed"; done_testing; exit 0
fi
S=lookout-term-$$
trap 'tmux -L "$S" kill-server 2>/dev/null || :; rm -rf "$T"' EXIT
EVIL=$(printf '\033]2;pwned\007\033[2J')
SHOWN='^[]2;pwned^G^[[2J'
db="$T/t.db"
"$LOOKOUT" --db "$db" incident open "title $EVIL" --service "svc$EVIL" >/dev/null
"$LOOKOUT" --db "$db" incident note 1 "note $EVIL"
mkdir -p "$T/books"
cat > "$T/books/evil.lua" <<'LUA'
return runbook {
  name = "evil",
  params = { who = { required = true } },
  step "shout" { function(p)
    local r = sh { "/bin/sh", "-c", "printf 'out \\033]2;pwned\\007\\033[2J'" }
    note(r.stdout or "")
    return false, "who " .. p.who
  end },
}
LUA
cat > "$T/evil.lua" <<'LUA'
queue "q\27]2;pwned\7\27[2J" { command = { argv = { "/bin/sh", "-c", "exit 3" } } }
LUA
# The commands, as the pane and the pipes run them.
cat > "$T/commands.sh" <<SH
EVIL=\$(printf '\\033]2;pwned\\007\\033[2J')
export LOOKOUT_RUNBOOK_PATH='$T/books'
L='$LOOKOUT'
show() { "\$L" --db '$db' incident show 1; }
list() { "\$L" --db '$db' incident list; }
status() { "\$L" --db '$db' --config '$T/evil.lua' status; }
run() { "\$L" --db '$db' run evil who="p\$EVIL" --yes; }
runs() { "\$L" --db '$db' runs; }
SH
cat > "$T/pane.sh" <<SH
. '$T/commands.sh'
while [ ! -e '$T/go' ]; do sleep 0.1; done
echo START
for c in show list status run runs; do echo "== \$c"; \$c; done
echo DONE
SH
tmux -L "$S" new-session -d -x 220 -y 60 "sh '$T/pane.sh'; sleep 60"
tmux -L "$S" select-pane -T clean
touch "$T/go"
screen() { tmux -L "$S" capture-pane -p; }
for i in $(seq 200); do screen | grep -q '^DONE$' && break; sleep 0.1; done
screen > "$T/screen"
check "every command ran in the pane" grep -q '^DONE$' "$T/screen"
title=$(tmux -L "$S" display -p '#{pane_title}')
check "the pane was not retitled (title: $title)" test "$title" = clean
check "nor cleared: what came first is still at the top" test "$(head -n 1 "$T/screen")" = START
# section NAME: the screen's lines from "== NAME" to the next "==".
section() { sed -n "/^== $1\$/,/^\\(==\\|DONE\\)/p" "$T/screen"; }
shows() { section "$1" | grep -qF -- "$2"; }
check "incident show: the title, as text" shows show "incident 1: title $SHOWN"
check "incident show: the note" shows show "note $SHOWN"
check "incident list: the service name" shows list "[svc$SHOWN]"
check "status: the queue's name" shows status "q$SHOWN"
check "run: the command's output, on stderr" shows run "note: out $SHOWN"
check "run: the parameter" shows run "failed: who p$SHOWN"
check "runs: the summary" shows runs "failed: who p$SHOWN"

# Into a pipe, every byte as it was.
for pair in "show|incident 1: title $EVIL" "list|title $EVIL [svc$EVIL]" \
    "status|q$EVIL" "run|note: out $EVIL" "runs|failed: who p$EVIL"; do
	c=${pair%%|*}
	sh -c ". '$T/commands.sh'; $c" > "$T/pipe.$c" 2>&1 || :
	check "$c into a pipe keeps the bytes" grep -qF -- "${pair#*|}" "$T/pipe.$c"
done
done_testing
