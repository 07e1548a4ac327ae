/*
 * The runbook runner: a run's steps as a list with their state, the plan
 * of the step on offer, the live output of the running command, and one
 * key per answer (y run it, s skip, r retry, a abort), never Enter alone.
 * The engine keeps the rules (which answers are legal now); this view only
 * shows them.  Also the parameter form, and the quick actions of the
 * overview's menus, which are one-step runbooks so that they are recorded
 * and replayable like any other.
 */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../probes/probes.h"
#include "../runbooks/runbooks.h"
#include "../store/store.h"

/* --- the engine's front end ------------------------------------------------------ */

#define PROGRESS_LINES 64

struct runner {
	char lines[PROGRESS_LINES][256];	/* the engine's progress */
	size_t nlines;
	bool abort_asked;
};

static struct runner *
runner_of(struct tui *t)
{
	struct view *v = tui_find(t, &runner_ops);

	return v != NULL ? v->data : NULL;
}

/*
 * The engine's lines may hold several (a step's plan comes after a newline):
 * each gets a line of its own, or the screen shows the newline as ^J.
 */
static void
fe_progress(void *data, const char *line)
{
	struct tui *t = data;
	struct runner *r = runner_of(t);
	const char *p = line, *nl;

	if (r == NULL)
		return;
	for (;;) {
		nl = strchr(p, '\n');
		if (r->nlines == PROGRESS_LINES) {
			memmove(r->lines[0], r->lines[1], sizeof r->lines[0] *
			    (PROGRESS_LINES - 1));
			r->nlines--;
		}
		snprintf(r->lines[r->nlines++], sizeof r->lines[0], "%.*s",
		    nl != NULL ? (int)(nl - p) : (int)strlen(p), p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	tui_dirty(t);
}

static void
fe_confirm(void *data, struct rb_run *run, int step, const char *name,
    const char *plan, bool failed)
{
	struct tui *t = data;

	(void)run;
	(void)step;
	(void)name;
	(void)plan;
	(void)failed;
	tui_dirty(t);
}

static void
on_reply(struct tui *t, const char *text, void *arg)
{
	(void)arg;
	if (t->run != NULL)
		rb_run_reply(t->run, text != NULL ? text : "");
}

static void
fe_ask(void *data, struct rb_run *run, const char *prompt)
{
	struct tui *t = data;

	(void)run;
	tui_prompt(t, prompt, "", on_reply, NULL, NULL);
}

static void
fe_done(void *data, struct rb_run *run)
{
	struct tui *t = data;

	tui_msg(t, "run %lld %s", (long long)rb_run_id(run),
	    rb_run_summary(run));
	/* The terminal is gone or the operator quit: the run's end was all
	 * the console waited for. */
	if (t->interrupted || t->quitting)
		t->running = false;
}

static void
fe_changed(void *data, struct rb_run *run)
{
	(void)run;
	tui_dirty(data);
}

static const struct rb_frontend console_fe = {
	.progress = fe_progress,
	.confirm = fe_confirm,
	.ask = fe_ask,
	.done = fe_done,
	.changed = fe_changed,
};

/* --- starting runs ----------------------------------------------------------------- */

/* Whether a new run may start: one at a time, and never read-only. */
static bool
can_start(struct tui *t)
{
	if (tui_refuse_readonly(t, "running a runbook"))
		return false;
	if (t->interrupted)
		return false;
	if (t->run != NULL && !rb_run_finished(t->run)) {
		tui_error(t, "run %lld is in progress; it ends first",
		    (long long)rb_run_id(t->run));
		return false;
	}
	rb_run_free(&t->run);
	return true;
}

static void
open_runner(struct tui *t)
{
	struct view *v;

	while ((v = tui_find(t, &runner_ops)) != NULL) {
		/* One runner: close the old one and what was above it. */
		while (t->view != v)
			tui_pop(t);
		tui_pop(t);
	}
	tui_push(t, &runner_ops, lk_xcalloc(1, sizeof(struct runner)));
}

/* Starts book (which the run takes) with opts; opens the runner. */
static void
start(struct tui *t, struct rb_book *book, struct rb_run_opts *opts)
{
	struct lk_err err = { 0 };

	opts->lock_dir = t->lock_dir;
	if (opts->incident_id == 0)
		opts->incident_id = t->incident_id;
	open_runner(t);
	if (rb_run_start(t->loop, t->store, t->probes, t->cfg, book, opts,
	    &console_fe, t, &t->run, &err) != LK_OK) {
		rb_book_free(&book);
		tui_pop(t);
		tui_error(t, "%s", err.msg);
	}
}

static struct rb_book *
load(struct tui *t, const char *runbook)
{
	struct rb_book *book = NULL;
	struct lk_err err = { 0 };
	char *path = NULL;

	if (rb_find(t->cfg, runbook, &path, &err) != LK_OK ||
	    rb_book_load(path, &book, NULL, &err) != LK_OK)
		tui_error(t, "%s", err.msg);
	free(path);
	return book;
}

static const char *
param_value(const char *const *params, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncmp(params[i], name, len) == 0 &&
		    params[i][len] == '=')
			return params[i] + len + 1;
	return NULL;
}

void
tui_run_start(struct tui *t, const char *runbook, const char *const *params,
    size_t nparams)
{
	struct rb_run_opts opts = { 0 };
	struct rb_book *book;

	if (!can_start(t) || (book = load(t, runbook)) == NULL)
		return;
	for (size_t i = 0; i < rb_book_nparams(book); i++) {
		const struct rb_param *p = rb_book_param(book, i);

		if (p->required && !p->secret && p->env == NULL &&
		    p->default_value == NULL &&
		    param_value(params, nparams, p->name) == NULL) {
			rb_book_free(&book);
			tui_run_form(t, runbook, params, nparams);
			return;
		}
	}
	opts.params = params;
	opts.nparams = nparams;
	start(t, book, &opts);
}

void
tui_run_resume(struct tui *t, int64_t id)
{
	struct rb_run_opts opts = { .resume = id };
	struct store_run *r = NULL;
	struct rb_book *book;
	struct lk_err err = { 0 };

	if (!can_start(t))
		return;
	if (store_run_get(t->store, id, &r, &err) != LK_OK) {
		tui_error(t, "%s", err.msg);
		return;
	}
	/* The runbook as it is now; the engine refuses if it changed. */
	book = load(t, r->runbook);
	opts.incident_id = r->incident_id;
	store_run_free(&r);
	if (book != NULL)
		start(t, book, &opts);
}

void
tui_run_interrupt(struct tui *t)
{
	if (t->run != NULL && !rb_run_finished(t->run))
		rb_run_interrupt(t->run);
}

/* --- quick actions ------------------------------------------------------------------ */

/*
 * The source of a quick action.  It names its operation only from a fixed
 * list and takes the unit and scope as parameters, so nothing from outside
 * is ever written into code.
 */
static const char quick_src[] =
"-- A quick action from the console: one step, recorded like any runbook.\n"
"return runbook {\n"
"  name = \"quick-%s\",\n"
"  description = \"%s a unit, from the console\",\n"
"  params = { unit = { required = true }, scope = { default = \"user\" }, host = {} },\n"
"  step \"%s\" { function(p) return systemctl.%s(p.unit, { scope = p.scope, host = p.host }) end },\n"
"}\n";

struct quick {
	char op[16];
	char unit[512];
	char scope[16];
	char host[256];		/* "" for this machine */
};

static void
on_quick(struct tui *t, bool yes, void *arg)
{
	struct quick *q = arg;
	struct rb_run_opts opts = { .yes = true };
	struct rb_book *book = NULL;
	struct lk_err err = { 0 };
	char src[1024], name[64], unit[600], scope[40], host[300];
	const char *params[3] = { unit, scope, host };

	if (!yes || !can_start(t)) {
		free(q);
		return;
	}
	snprintf(src, sizeof src, quick_src, q->op, q->op, q->op, q->op);
	snprintf(name, sizeof name, "quick-%s", q->op);
	snprintf(unit, sizeof unit, "unit=%s", q->unit);
	snprintf(scope, sizeof scope, "scope=%s", q->scope);
	snprintf(host, sizeof host, "host=%s", q->host);
	opts.nparams = q->host[0] != '\0' ? 3 : 2;
	free(q);
	if (rb_book_load_source(name, src, strlen(src), &book, NULL, &err) !=
	    LK_OK) {
		tui_error(t, "%s", err.msg);
		return;
	}
	opts.params = params;
	start(t, book, &opts);
}

void
tui_quick_action(struct tui *t, size_t i, const char *op)
{
	static const char *const ops[] = { "start", "stop", "restart",
	    "enable", "disable" };
	const struct probe_service *s = probes_service(t->probes, i);
	struct quick *q;
	char question[768];
	bool known = false;

	for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
		known |= strcmp(ops[k], op) == 0;
	if (!known || s == NULL || tui_refuse_readonly(t, op) || !can_start(t))
		return;
	q = lk_xcalloc(1, sizeof *q);
	snprintf(q->op, sizeof q->op, "%s", op);
	snprintf(q->unit, sizeof q->unit, "%s", s->unit);
	snprintf(q->scope, sizeof q->scope, "%s", s->scope);
	snprintf(q->host, sizeof q->host, "%s", s->host ? s->host : "");
	snprintf(question, sizeof question, "systemctl%s%s%s %s %s: run it "
	    "(recorded)? [y/n]", s->host ? " -H " : "", s->host ? s->host : "",
	    strcmp(s->scope, "user") == 0 ? " --user" : "", op, s->unit);
	tui_confirm(t, question, on_quick, q);
}

/* --- the runner view ------------------------------------------------------------------ */

static const char *
state_marker(enum rb_step_state st)
{
	switch (st) {
	case RB_STEP_OK:
		return "[ok]  ";
	case RB_STEP_FAILED:
		return "[FAIL]";
	case RB_STEP_SKIPPED:
		return "[skip]";
	case RB_STEP_RUNNING:
		return "[....]";
	case RB_STEP_WAITING:
		return "[ ?? ]";
	case RB_STEP_INTERRUPTED:
		return "[intr]";
	case RB_STEP_DRY_RUN:
		return "[dry] ";
	case RB_STEP_PENDING:
		break;
	}
	return "[    ]";
}

static int
state_role(enum rb_step_state st)
{
	switch (st) {
	case RB_STEP_OK:
		return R_OK;
	case RB_STEP_FAILED:
	case RB_STEP_INTERRUPTED:
		return R_BROKEN;
	case RB_STEP_RUNNING:
	case RB_STEP_WAITING:
		return R_TITLE;
	default:
		return R_DIM;
	}
}

/* The answers on offer, as the keys that give them. */
static void
answers_line(struct rb_run *run, char *buf, size_t len)
{
	unsigned a = rb_run_answers(run);

	snprintf(buf, len, "%s%s%s%s", a & RB_ANSWER(RB_YES) ? "y run it  " :
	    "", a & RB_ANSWER(RB_RETRY) ? "r retry  " : "",
	    a & RB_ANSWER(RB_SKIP) ? "s skip  " : "",
	    a & RB_ANSWER(RB_ABORT) ? "a abort" : "");
}

/* Draws text's lines from row y, at most h of them, the last ones if it
 * has more; returns the rows used. */
static int
draw_lines(struct tui *t, int y, int x, int h, int role, const char *text)
{
	const char *p = text, *end;
	size_t n = 0, skip;
	int used = 0;

	if (text == NULL || h <= 0)
		return 0;
	for (const char *q = text; *q; q++)
		n += *q == '\n';
	n += text[0] != '\0' && text[strlen(text) - 1] != '\n';
	skip = n > (size_t)h ? n - (size_t)h : 0;
	while (*p != '\0' && used < h) {
		char line[1024];

		end = strchr(p, '\n');
		snprintf(line, sizeof line, "%.*s", (int)(end ? end - p :
		    (long)strlen(p)), p);
		if (skip > 0)
			skip--;
		else
			draw_text(t, y + used++, x, t->cols - x, role, line);
		if (end == NULL)
			break;
		p = end + 1;
	}
	return used;
}

static void
runner_draw(struct tui *t, struct view *v, int y0, int h)
{
	struct runner *r = v->data;
	struct rb_run *run = t->run;
	struct rb_step_info info;
	size_t n, cur;
	int y = y0, left;
	char buf[256], dur[32];
	char *out;

	if (run == NULL) {
		draw_text(t, y0, 2, t->cols - 2, R_DIM, "no run");
		return;
	}
	n = rb_run_nsteps(run);
	cur = rb_run_current(run);
	draw_textf(t, y++, 0, t->cols, R_TITLE, "run %lld: %s%s%s",
	    (long long)rb_run_id(run), rb_run_runbook(run),
	    rb_run_finished(run) ? " - " : "", rb_run_finished(run) ?
	    rb_run_summary(run) : "");
	v->nrows = n;
	for (size_t i = 0; i < n && y < y0 + h; i++) {
		int x = 2;

		rb_run_step_info(run, i, &info);
		x += draw_text(t, y, x, 7, state_role(info.state),
		    state_marker(info.state));
		x += draw_textf(t, y, x + 1, t->cols - x - 12, i == cur &&
		    !rb_run_finished(run) ? R_TITLE : R_NORMAL, "%zu. %s",
		    i + 1, info.name) + 1;
		if (info.state == RB_STEP_RUNNING && info.started_ms > 0) {
			lk_fmt_duration(lk_now_ms() - info.started_ms, dur,
			    sizeof dur);
			draw_textf(t, y, x + 1, t->cols - x - 1, R_DIM,
			    "running %s", dur);
		} else if (info.outcome != NULL) {
			draw_text(t, y, x + 1, t->cols - x - 1, R_DIM,
			    info.outcome);
		}
		y++;
	}
	y++;
	left = y0 + h - y;
	if (rb_run_finished(run) || cur >= n)
		goto progress;
	rb_run_step_info(run, cur, &info);
	if (info.plan != NULL && left > 2) {
		draw_textf(t, y++, 0, t->cols, R_TITLE, "step %zu will:",
		    cur + 1);
		y += draw_lines(t, y, 2, left / 3 > 2 ? left / 3 : 2, R_NORMAL,
		    info.plan);
	}
	if (rb_run_answers(run) != 0 && y < y0 + h) {
		answers_line(run, buf, sizeof buf);
		draw_textf(t, y++, 0, t->cols, info.state == RB_STEP_FAILED ?
		    R_BROKEN : R_KEY, "%s %s", info.state == RB_STEP_FAILED ?
		    "The step failed:" : "Run this step?", buf);
		if (r->abort_asked)
			draw_text(t, y++, 0, t->cols, R_ERROR,
			    "abort the run? a again to abort, any other key "
			    "to go on");
	}
	if (rb_run_question(run) != NULL && y < y0 + h)
		draw_textf(t, y++, 0, t->cols, R_KEY, "the runbook asks: %s",
		    rb_run_question(run));
progress:
	/* The running command's output, else the engine's own lines. */
	left = y0 + h - y;
	if (left <= 1)
		return;
	out = rb_run_output(run);
	if (out != NULL && !rb_run_finished(run)) {
		draw_text(t, y++, 0, t->cols, R_TITLE, "output:");
		draw_lines(t, y, 2, left - 1, R_NORMAL, out);
	} else {
		size_t from = r->nlines > (size_t)left ? r->nlines -
		    (size_t)left : 0;

		for (size_t i = from; i < r->nlines && y < y0 + h; i++)
			draw_text(t, y++, 2, t->cols - 2, R_DIM, r->lines[i]);
	}
	free(out);
}

static bool
answer(struct tui *t, enum rb_answer a)
{
	if (!rb_run_answer(t->run, a)) {
		tui_error(t, "%s is not an answer now", rb_answer_name(a));
		return false;
	}
	return true;
}

static bool
runner_key(struct tui *t, struct view *v, int key)
{
	struct runner *r = v->data;
	bool abort_asked = r->abort_asked;

	if (t->run == NULL || rb_run_finished(t->run))
		return false;
	r->abort_asked = false;
	switch (key) {
	case 'y':
		if (rb_run_answers(t->run) != 0 && !t->readonly)
			answer(t, RB_YES);
		return true;
	case 's':
		if (rb_run_answers(t->run) != 0)
			answer(t, RB_SKIP);
		return true;
	case 'r':
		if (rb_run_answers(t->run) != 0)
			answer(t, RB_RETRY);
		return true;
	case 'a':
		/* Abort ends the run: asked once more. */
		if (rb_run_answers(t->run) == 0)
			return true;
		if (abort_asked)
			answer(t, RB_ABORT);
		else
			r->abort_asked = true;
		return true;
	case 'c':
		rb_run_cancel(t->run);
		tui_msg(t, "cancelling the action in flight");
		return true;
	case TK_ENTER:
		/* Never runs a step: a step takes its own key. */
		if (rb_run_answers(t->run) != 0)
			tui_msg(t, "press y to run the step, s to skip it, a "
			    "to abort (Enter does nothing here)");
		return true;
	}
	return false;
}

static void
runner_close(struct tui *t, struct view *v)
{
	(void)t;
	free(v->data);
}

const struct view_ops runner_ops = {
	.name = "runner",
	.draw = runner_draw,
	.key = runner_key,
	.close = runner_close,
	.keys = "y run  s skip  r retry  a abort  c cancel action  Esc back "
	    "(the run goes on)  ? help",
	.help = "The runner: the run's steps and the step on offer.\n"
	    "y          run the step (after reading what it will do)\n"
	    "s          skip it\n"
	    "r          run it again, after it failed\n"
	    "a          abort the run (press a twice)\n"
	    "c          cancel the action in flight\n"
	    "Esc, q     back to the overview; the run goes on (:runs)\n"
	    "Enter never runs a step.\n",
};

/* --- the parameter form ----------------------------------------------------------------- */

#define FORM_MAX 32

struct form {
	char runbook[256];
	char description[256];
	size_t n;
	struct {
		char name[64];
		char value[512];
		char note[160];		/* required, default, secret... */
		bool secret;
		bool required;
	} p[FORM_MAX];
};

void
tui_run_form(struct tui *t, const char *runbook, const char *const *params,
    size_t nparams)
{
	struct rb_book *book;
	struct form *f;
	struct view *v;

	if (!can_start(t) || (book = load(t, runbook)) == NULL)
		return;
	f = lk_xcalloc(1, sizeof *f);
	snprintf(f->runbook, sizeof f->runbook, "%s", runbook);
	snprintf(f->description, sizeof f->description, "%s",
	    rb_book_description(book) ? rb_book_description(book) : "");
	for (size_t i = 0; i < rb_book_nparams(book) && f->n < FORM_MAX; i++) {
		const struct rb_param *p = rb_book_param(book, i);
		const char *given = param_value(params, nparams, p->name);

		snprintf(f->p[f->n].name, sizeof f->p[0].name, "%s", p->name);
		snprintf(f->p[f->n].value, sizeof f->p[0].value, "%s",
		    given ? given : p->default_value ? p->default_value : "");
		f->p[f->n].secret = p->secret || p->env != NULL;
		f->p[f->n].required = p->required;
		if (f->p[f->n].secret)
			snprintf(f->p[f->n].note, sizeof f->p[0].note,
			    "from $%s", p->env ? p->env : "?");
		else
			snprintf(f->p[f->n].note, sizeof f->p[0].note, "%s%s%s",
			    p->required ? "required" : "optional",
			    p->description ? ": " : "",
			    p->description ? p->description : "");
		f->n++;
	}
	rb_book_free(&book);
	v = tui_push(t, &form_ops, f);
	v->nrows = f->n + 1;
	/* The first required value still empty, else the start line. */
	v->sel = f->n;
	for (size_t i = 0; i < f->n; i++)
		if (f->p[i].required && !f->p[i].secret &&
		    f->p[i].value[0] == '\0') {
			v->sel = i;
			break;
		}
}

static void
form_draw(struct tui *t, struct view *v, int y0, int h)
{
	struct form *f = v->data;
	int y = y0;

	draw_textf(t, y++, 0, t->cols, R_TITLE, "run %s%s%s", f->runbook,
	    f->description[0] ? ": " : "", f->description);
	y++;
	for (size_t i = 0; i <= f->n && y < y0 + h; i++, y++) {
		int r = i == v->sel ? ROLE_SEL : 0;

		draw_fill(t, y, 0, t->cols, r);
		if (i == f->n) {
			draw_text(t, y, 2, t->cols - 2, R_KEY | r,
			    "[ start the run ]");
			break;
		}
		draw_cell(t, y, 2, 16, R_TITLE | r, false, f->p[i].name);
		draw_cell(t, y, 19, 36, r, false, f->p[i].secret ?
		    "(secret)" : f->p[i].value);
		draw_text(t, y, 56, t->cols - 56, R_DIM | r, f->p[i].note);
	}
}

static void
on_value(struct tui *t, const char *text, void *arg)
{
	struct view *v = arg;
	struct form *f = v->data;

	if (text != NULL && v->sel < f->n) {
		snprintf(f->p[v->sel].value, sizeof f->p[0].value, "%s", text);
		if (v->sel + 1 <= f->n)
			v->sel++;
	}
	tui_dirty(t);
}

static void
form_start(struct tui *t, struct view *v)
{
	struct form *f = v->data;
	char (*kv)[600] = lk_xcalloc(f->n + 1, sizeof *kv);
	const char **params = lk_xcalloc(f->n + 1, sizeof *params);
	char runbook[256];
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++) {
		if (f->p[i].secret || f->p[i].value[0] == '\0')
			continue;
		snprintf(kv[n], sizeof kv[0], "%s=%s", f->p[i].name,
		    f->p[i].value);
		params[n] = kv[n];
		n++;
	}
	for (size_t i = 0; i < f->n; i++)
		if (f->p[i].required && !f->p[i].secret &&
		    f->p[i].value[0] == '\0') {
			tui_error(t, "%s is required", f->p[i].name);
			v->sel = i;
			free(kv);
			free(params);
			return;
		}
	snprintf(runbook, sizeof runbook, "%s", f->runbook);
	tui_pop(t);
	tui_run_start(t, runbook, params, n);
	free(kv);
	free(params);
}

static bool
form_key(struct tui *t, struct view *v, int key)
{
	struct form *f = v->data;
	char label[96];

	if (view_list_key(v, key))
		return true;
	if (key != TK_ENTER)
		return false;
	if (v->sel == f->n) {
		form_start(t, v);
		return true;
	}
	if (f->p[v->sel].secret) {
		tui_msg(t, "%s is a secret: it is read from the environment "
		    "(%s), never typed", f->p[v->sel].name, f->p[v->sel].note);
		return true;
	}
	snprintf(label, sizeof label, "%s:", f->p[v->sel].name);
	tui_prompt(t, label, f->p[v->sel].value, on_value, v, NULL);
	return true;
}

static void
form_close(struct tui *t, struct view *v)
{
	(void)t;
	free(v->data);
}

const struct view_ops form_ops = {
	.name = "form",
	.draw = form_draw,
	.key = form_key,
	.close = form_close,
	.keys = "Enter edit / start  j k move  Esc cancel",
	.help = "The parameters of a runbook, before it starts.\n"
	    "Enter on a value edits it; Enter on [ start the run ] starts.\n"
	    "Secret parameters come from the environment, never the "
	    "keyboard.\n",
};
