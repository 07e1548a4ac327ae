/*
 * The console's frame: the terminal, the view stack, the header, the
 * message line and the footer, and the keys that work everywhere.
 *
 * The terminal is one more fd on the caller's loop.  Keys are read only
 * when the loop says so (never with a curses timeout as the program's
 * clock); signals arrive through the loop; the screen is painted once per
 * pass, before the loop sleeps, and only if something marked it dirty, so
 * curses sends only the cells that changed.
 */
#include "private.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "../core/loop.h"
#include "../probes/probes.h"
#include "../runbooks/runbooks.h"
#include "../store/store.h"

/* --- leaving the terminal sane, even after a crash -------------------------- */

/*
 * A crash must not leave the engineer's terminal in raw mode on the
 * alternate screen.  The handler may only use async-signal-safe calls, so
 * what it writes is prepared at start: the terminal's own sequences to
 * leave the alternate screen, show the cursor and reset attributes, and
 * the termios to restore.
 */
static struct termios saved_tio;
static bool saved_tio_ok;
static char reset_seq[256];
static size_t reset_len;

static void
add_reset(const char *cap)
{
	char *s = tigetstr((char *)cap);
	size_t n;

	if (s == NULL || s == (char *)-1)
		return;
	n = strlen(s);
	if (reset_len + n < sizeof reset_seq) {
		memcpy(reset_seq + reset_len, s, n);
		reset_len += n;
	}
}

static void
on_crash(int sig)
{
	if (reset_len > 0)
		(void)!write(STDOUT_FILENO, reset_seq, reset_len);
	if (saved_tio_ok)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
    SIGABRT };

static void
crash_handlers(bool on)
{
	for (size_t i = 0; i < sizeof crash_signals / sizeof *crash_signals;
	    i++) {
		struct sigaction sa = { 0 };

		sa.sa_handler = on ? on_crash : SIG_DFL;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESETHAND;
		sigaction(crash_signals[i], &sa, NULL);
	}
}

/* --- marking, messages ---------------------------------------------------------- */

void
tui_dirty(struct tui *t)
{
	t->dirty = true;
}

static void
vmsg(struct tui *t, bool error, const char *fmt, va_list ap)
{
	vsnprintf(t->msg, sizeof t->msg, fmt, ap);
	t->msg_error = error;
	tui_dirty(t);
}

void
tui_msg(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(t, false, fmt, ap);
	va_end(ap);
}

void
tui_error(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(t, true, fmt, ap);
	va_end(ap);
}

bool
tui_refuse_readonly(struct tui *t, const char *what)
{
	if (!t->readonly)
		return false;
	tui_error(t, "read-only console: %s is not allowed (started with "
	    "--readonly)", what);
	return true;
}

/* --- the incident the console works in ---------------------------------------------- */

void
tui_reload_incident(struct tui *t)
{
	struct lk_err err = { 0 };

	store_incident_free(&t->incident);
	if (t->incident_id != 0 && store_incident_get(t->store, t->incident_id,
	    &t->incident, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
	tui_dirty(t);
}

void
tui_set_incident(struct tui *t, int64_t id)
{
	t->incident_id = id;
	tui_reload_incident(t);
}

static int
first_unresolved(const struct store_incident *inc, void *arg)
{
	int64_t *id = arg;

	if (inc->milestones[STORE_RESOLVED] == 0 &&
	    inc->milestones[STORE_CLOSED] == 0) {
		*id = inc->id;
		return 1;
	}
	return 0;
}

/* --- the view stack ---------------------------------------------------------------------- */

struct view *
tui_push(struct tui *t, const struct view_ops *ops, void *data)
{
	struct view *v = lk_xcalloc(1, sizeof *v);

	v->ops = ops;
	v->data = data;
	v->below = t->view;
	t->view = v;
	tui_dirty(t);
	return v;
}

static void
view_free(struct tui *t, struct view *v)
{
	if (v->ops->close != NULL)
		v->ops->close(t, v);
	free(v);
}

void
tui_pop(struct tui *t)
{
	struct view *v = t->view;

	if (v == NULL || v->below == NULL)
		return;
	t->view = v->below;
	view_free(t, v);
	tui_dirty(t);
}

void
tui_pop_all(struct tui *t)
{
	while (t->view != NULL && t->view->below != NULL)
		tui_pop(t);
}

struct view *
tui_find(struct tui *t, const struct view_ops *ops)
{
	for (struct view *v = t->view; v != NULL; v = v->below)
		if (v->ops == ops)
			return v;
	return NULL;
}

bool
view_list_key(struct view *v, int key)
{
	size_t page = v->body_h > 2 ? (size_t)v->body_h - 1 : 1;

	if (v->nrows == 0)
		return key == 'j' || key == 'k' || key == TK_UP ||
		    key == TK_DOWN;
	switch (key) {
	case 'j':
	case TK_DOWN:
		if (v->sel + 1 < v->nrows)
			v->sel++;
		return true;
	case 'k':
	case TK_UP:
		if (v->sel > 0)
			v->sel--;
		return true;
	case TK_PGDN:
		v->sel = v->sel + page < v->nrows ? v->sel + page :
		    v->nrows - 1;
		return true;
	case TK_PGUP:
		v->sel = v->sel > page ? v->sel - page : 0;
		return true;
	case 'g':
	case TK_HOME:
		v->sel = 0;
		return true;
	case 'G':
	case TK_END:
		v->sel = v->nrows - 1;
		return true;
	}
	return false;
}

void
view_list_fit(struct view *v, int h)
{
	if (h <= 0)
		return;
	v->body_h = h;
	if (v->nrows == 0) {
		v->sel = v->top = 0;
		return;
	}
	if (v->sel >= v->nrows)
		v->sel = v->nrows - 1;
	if (v->sel < v->top)
		v->top = v->sel;
	if (v->sel >= v->top + (size_t)h)
		v->top = v->sel - (size_t)h + 1;
	if (v->top + (size_t)h > v->nrows)
		v->top = v->nrows > (size_t)h ? v->nrows - (size_t)h : 0;
}

/* --- painting ------------------------------------------------------------------------------ */

static void
draw_header(struct tui *t)
{
	char line[512], age[32] = "", watch[48];
	const struct store_incident *inc = t->incident;
	int x;

	draw_fill(t, 0, 0, t->cols, R_HEADER);
	x = draw_textf(t, 0, 0, t->cols, R_HEADER, " lookout  %s  %s%s%s ",
	    t->host, t->who.user, t->who.from[0] ? " from " : "",
	    t->who.from);
	/* Before the incident, whose title may take the rest of the line. */
	if (t->readonly)
		x += draw_text(t, 0, x, t->cols - x - 16, R_HEADER,
		    "[read-only] ");
	if (inc != NULL) {
		draw_age(lk_now_ms() - inc->opened_at, age, sizeof age);
		snprintf(line, sizeof line, "| incident %lld %s %s %s: %s ",
		    (long long)inc->id, inc->severity, inc->status, age,
		    inc->title);
	} else {
		snprintf(line, sizeof line, "| no open incident ");
	}
	x += draw_text(t, 0, x, t->cols - x - 16, R_HEADER, line);
	/* A watcher ends a cycle every few seconds: a minute of silence
	 * means it stopped.  Only that change is drawn, not a clock. */
	if (t->watch_at > 0 && lk_now_ms() - t->watch_at < STORE_HEARTBEAT_ALIVE_MS) {
		snprintf(watch, sizeof watch, "watch: running ");
	} else if (t->watch_at > 0) {
		draw_age(lk_now_ms() - t->watch_at, age, sizeof age);
		snprintf(watch, sizeof watch, "watch: STOPPED %s ago ", age);
	} else {
		snprintf(watch, sizeof watch, "watch: none ");
	}
	draw_text(t, 0, t->cols - draw_width(t, watch), t->cols, R_HEADER,
	    watch);
}

static void
draw_footer(struct tui *t)
{
	const char *keys = t->view->ops->keys;

	draw_text(t, t->rows - 1, 0, t->cols, R_DIM, keys ? keys : "");
}

static void
paint(struct loop *l, void *data)
{
	struct tui *t = data;
	int cursor = -1;

	(void)l;
	if (!t->dirty || t->interrupted || !t->running)
		return;
	t->dirty = false;
	erase();
	if (t->rows >= 4) {
		draw_header(t);
		t->view->ops->draw(t, t->view, 1, t->rows - 3);
		if (t->prompt != NULL)
			cursor = prompt_draw(t, t->rows - 2);
		else
			draw_text(t, t->rows - 2, 0, t->cols, t->msg_error ?
			    R_ERROR : R_NORMAL, t->msg);
		draw_footer(t);
	}
	if (cursor >= 0) {
		move(t->rows - 2, cursor < t->cols ? cursor : t->cols - 1);
		curs_set(1);
	} else {
		curs_set(0);
	}
	wnoutrefresh(stdscr);
	doupdate();
}

/* --- keys ---------------------------------------------------------------------------------------- */

/* curses' key codes to ours; -1 for the ones nobody uses. */
static int
key_of(int r, wint_t wc)
{
	if (r == KEY_CODE_YES) {
		switch (wc) {
		case KEY_UP: return TK_UP;
		case KEY_DOWN: return TK_DOWN;
		case KEY_LEFT: return TK_LEFT;
		case KEY_RIGHT: return TK_RIGHT;
		case KEY_PPAGE: return TK_PGUP;
		case KEY_NPAGE: return TK_PGDN;
		case KEY_HOME: return TK_HOME;
		case KEY_END: return TK_END;
		case KEY_DC: return TK_DELETE;
		case KEY_BACKSPACE: return TK_BACKSPACE;
		case KEY_ENTER: return TK_ENTER;
		}
		return -1;
	}
	if (wc == '\r')
		return TK_ENTER;
	if (wc == 8)
		return TK_BACKSPACE;
	return (int)wc;
}

static void quit_confirmed(struct tui *t, bool yes, void *arg);

void
tui_quit(struct tui *t)
{
	if (t->run != NULL && !rb_run_finished(t->run)) {
		tui_confirm(t, "A run is in progress. Quit? It stops after "
		    "the action in flight, and can be resumed. [y/n]",
		    quit_confirmed, NULL);
		return;
	}
	t->running = false;
}

static void
quit_confirmed(struct tui *t, bool yes, void *arg)
{
	(void)arg;
	if (!yes)
		return;
	t->exit_status = 0;
	t->quitting = true;
	tui_run_interrupt(t);
	if (t->run == NULL || rb_run_finished(t->run))
		t->running = false;
	else
		tui_msg(t, "stopping after the action in flight...");
}

static void
on_command(struct tui *t, const char *line, void *arg)
{
	(void)arg;
	if (line != NULL)
		tui_command(t, line);
}

void
tui_prompt_command(struct tui *t, const char *initial)
{
	tui_prompt(t, ":", initial, on_command, NULL, tui_complete);
}

static void
handle_key(struct tui *t, int key)
{
	if (prompt_key(t, key))
		return;
	/* A message lasts until the next key. */
	t->msg[0] = '\0';
	if (t->view->ops->key != NULL && t->view->ops->key(t, t->view, key))
		return;
	switch (key) {
	case ':':
		tui_prompt_command(t, "");
		break;
	case '?':
		help_open(t);
		break;
	case 'q':
		if (t->view->below == NULL)
			tui_quit(t);
		else
			tui_pop(t);
		break;
	case TK_ESC:
		tui_pop(t);
		break;
	case 12:	/* ^L */
		clearok(curscr, TRUE);
		break;
	}
}

/* The terminal is gone (SIGHUP, EOF): a run in progress stops after its
 * action in flight, and the console ends as soon as it has. */
static void
lost(struct tui *t, const char *why)
{
	if (t->interrupted)
		return;
	t->interrupted = true;
	t->exit_status = 4;
	tui_run_interrupt(t);
	loop_del_fd(t->loop, STDIN_FILENO, LOOP_READABLE);
	if (t->run == NULL || rb_run_finished(t->run))
		t->running = false;
	fprintf(stderr, "lookout: %s\n", why);
}

static void
on_input(struct loop *l, int fd, int mask, void *data)
{
	struct tui *t = data;
	int pending = 0, r, n = 0;
	wint_t wc;

	(void)l;
	(void)mask;
	/* Readable with nothing to read is the end of the terminal: reading
	 * on would spin. */
	if (ioctl(fd, FIONREAD, &pending) == 0 && pending == 0) {
		lost(t, "the terminal is gone; the action in flight finishes, "
		    "no further step starts");
		return;
	}
	while ((r = get_wch(&wc)) != ERR) {
		int key = key_of(r, wc);

		n++;
		if (key >= 0)
			handle_key(t, key);
		tui_dirty(t);
		if (!t->running)
			break;
	}
	(void)n;
}

static void
on_resize(struct tui *t)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	getmaxyx(stdscr, t->rows, t->cols);
	clearok(curscr, TRUE);
	tui_dirty(t);
}

static void
on_signal(struct loop *l, int signo, void *data)
{
	struct tui *t = data;

	(void)l;
	switch (signo) {
	case SIGWINCH:
		on_resize(t);
		break;
	case SIGINT:
		/* ^C stops what runs, never the console itself. */
		if (t->run != NULL && !rb_run_finished(t->run)) {
			rb_run_cancel(t->run);
			tui_msg(t, "cancelling the action in flight");
		} else {
			tui_msg(t, "q quits");
		}
		break;
	default:
		lost(t, signo == SIGHUP ? "hangup: the action in flight "
		    "finishes, no further step starts" : "terminated: the "
		    "action in flight finishes, no further step starts");
		break;
	}
}

/* --- what changes under the console --------------------------------------------------------- */

static void
on_probes(struct probes *p, const struct probes_change *c, void *data)
{
	struct tui *t = data;

	(void)p;
	for (struct view *v = t->view; v != NULL; v = v->below)
		if (v->ops->probes != NULL)
			v->ops->probes(t, v, c);
	tui_dirty(t);
}

static int
on_event(const struct store_event *ev, void *data)
{
	struct tui *t = data;

	if (ev->incident_id != 0 && ev->incident_id == t->incident_id)
		tui_reload_incident(t);
	if (strcmp(ev->kind, "incident.opened") == 0 && t->incident_id == 0)
		tui_set_incident(t, ev->incident_id);
	for (struct view *v = t->view; v != NULL; v = v->below)
		if (v->ops->event != NULL)
			v->ops->event(t, v, ev);
	tui_dirty(t);
	return 0;
}

/* Whether a `lookout watch` keeps this timeline, from its heartbeat. */
static void
read_watch(struct tui *t)
{
	struct lk_err err = { 0 };
	char who[128];

	store_heartbeat_last(t->store, who, sizeof who, &t->watch_at, &err);
}

static long long
on_tick(struct loop *l, long long id, void *data)
{
	struct tui *t = data;

	(void)l;
	(void)id;
	read_watch(t);
	/* Ages and durations on screen move; curses sends only what did. */
	tui_dirty(t);
	return 1000;
}

/* Runs cut short (a lost terminal, a kill) are offered for resuming. */
static int
note_interrupted(const struct store_run *r, void *arg)
{
	struct tui *t = arg;

	if (strcmp(r->status, "interrupted") != 0 &&
	    !(strcmp(r->status, "running") == 0 && !r->dry_run &&
	    t->lock_dir != NULL && !rb_lock_held(t->lock_dir, r->runbook,
	    r->params)))
		return 0;
	tui_msg(t, "run %lld (%s) was interrupted: :resume %lld continues it "
	    "from its first unfinished step", (long long)r->id, r->runbook,
	    (long long)r->id);
	return 1;
}

/* --- the console ---------------------------------------------------------------------------------- */

int
tui_main(const struct tui_opts *o, struct lk_err *err)
{
	struct tui t = { 0 };
	SCREEN *scr;
	struct lk_err serr = { 0 };
	int64_t id = 0;

	setlocale(LC_ALL, "");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return lk_exit_status(lk_fail(err, LK_EUSAGE, "the console "
		    "needs a terminal; from a script use lookout status, "
		    "lookout run --yes or lookout incident"));
	t.loop = o->loop;
	t.store = o->store;
	t.probes = o->probes;
	t.cfg = o->cfg;
	t.lock_dir = o->lock_dir;
	t.readonly = o->readonly;
	t.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	lk_identity_detect(&t.who);
	if (gethostname(t.host, sizeof t.host) != 0)
		snprintf(t.host, sizeof t.host, "?");
	t.host[sizeof t.host - 1] = '\0';

	saved_tio_ok = tcgetattr(STDIN_FILENO, &saved_tio) == 0;
	if ((scr = newterm(NULL, stdout, stdin)) == NULL)
		return lk_exit_status(lk_fail(err, LK_EUSAGE, "the console "
		    "cannot drive this terminal (TERM=%s)", getenv("TERM") ?
		    getenv("TERM") : ""));
	reset_len = 0;
	add_reset("sgr0");
	add_reset("cnorm");
	add_reset("rmkx");
	add_reset("rmcup");
	crash_handlers(true);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	t.color = has_colors() && (getenv("NO_COLOR") == NULL ||
	    *getenv("NO_COLOR") == '\0');
	draw_init_colors(&t);
	getmaxyx(stdscr, t.rows, t.cols);

	t.running = true;
	signal(SIGPIPE, SIG_IGN);
	loop_add_fd(t.loop, STDIN_FILENO, LOOP_READABLE, on_input, &t);
	loop_add_signal(t.loop, SIGWINCH, on_signal, &t);
	/* A lost terminal or a SIGTERM stops a step's runaway Lua too, even
	 * inside a library call; ^C only cancels the action in flight. */
	loop_add_interrupt(t.loop, SIGHUP, on_signal, &t);
	loop_add_interrupt(t.loop, SIGTERM, on_signal, &t);
	loop_add_signal(t.loop, SIGINT, on_signal, &t);
	loop_set_before_sleep(t.loop, paint, &t);
	t.tick = loop_add_timer(t.loop, 1000, on_tick, &t);
	t.probes_sub = probes_subscribe(t.probes, on_probes, &t);
	t.store_sub = store_subscribe(t.store, STORE_ALL, on_event, &t);
	/* Another engineer's note shows within a second. */
	store_watch(t.store, t.loop, 250);

	tui_push(&t, &overview_ops, overview_new());
	read_watch(&t);
	if (store_incident_foreach(t.store, first_unresolved, &id, &serr) ==
	    LK_OK && id != 0)
		tui_set_incident(&t, id);
	store_run_foreach(t.store, note_interrupted, &t, &serr);

	while (t.running)
		if (loop_run_once(t.loop, -1) < 0)
			break;

	/* A run the terminal lost has finished its action; it is recorded
	 * interrupted (the engine saw to that) before we leave. */
	prompt_close(&t);
	while (t.view != NULL) {
		struct view *v = t.view;

		t.view = v->below;
		view_free(&t, v);
	}
	if (t.run != NULL)
		rb_run_free(&t.run);
	store_incident_free(&t.incident);
	store_unwatch(t.store);
	store_unsubscribe(t.store, t.store_sub);
	probes_unsubscribe(t.probes, t.probes_sub);
	loop_del_timer(t.loop, t.tick);
	loop_set_before_sleep(t.loop, NULL, NULL);
	loop_del_fd(t.loop, STDIN_FILENO, LOOP_READABLE);
	loop_del_signal(t.loop, SIGWINCH);
	loop_del_signal(t.loop, SIGHUP);
	loop_del_signal(t.loop, SIGTERM);
	loop_del_signal(t.loop, SIGINT);
	if (!t.interrupted) {
		erase();
		refresh();
	}
	endwin();
	delscreen(scr);
	crash_handlers(false);
	return t.exit_status;
}
