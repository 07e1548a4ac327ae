/*
 * The runbook commands: run, runs, replay, runbooks.
 *
 * `run` is the headless front end of the step engine: progress on stderr,
 * confirmations and questions on the terminal (/dev/tty), events as JSON
 * lines on stdout with --json.
 */
#include "cli.h"
#include "../config/config.h"
#include "../core/loop.h"
#include "../core/util.h"

#include "../probes/probes.h"
#include "../runbooks/runbooks.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char run_help[] =
"usage: lookout run RUNBOOK [NAME=VALUE ...] [--yes] [--dry-run]\n"
"                   [--incident ID] [--json]\n"
"       lookout run --resume RUN_ID [--yes]\n"
"       lookout replay RUN_ID [--dry-run] [--yes] [--json]\n"
"       lookout runs [--json]\n"
"       lookout runbooks [--json]\n"
"\n"
"run shows each step and what it will do, then asks: [y]es, [s]kip,\n"
"[a]bort (after a failure: [r]etry, [s]kip, [a]bort).  --yes runs every\n"
"step without asking; --dry-run shows every action and runs none.  Without\n"
"a terminal, run needs --yes.  Secret parameters come from the environment\n"
"variables their runbook names, never from the command line.\n"
"\n"
"Exit status: 0 success, 1 a step failed, 2 usage or runbook error,\n"
"3 aborted by the operator, 4 interrupted (signal, lost terminal).\n";

/* --- the terminal front end ------------------------------------------------ */

struct term {
	struct loop *loop;
	int tty;			/* -1: no terminal */
	struct rb_run *run;
	enum { WAIT_NONE, WAIT_CONFIRM, WAIT_ASK } waiting;
	bool failed;			/* the confirm follows a failure */
	char line[1024];
	size_t len;
};

static void
tty_write(struct term *t, const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && t->tty >= 0) {
		ssize_t w = write(t->tty, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
fe_progress(void *data, const char *line)
{
	(void)data;
	fprintf(stderr, "%s\n", line);
}

static void
prompt_confirm(struct term *t)
{
	tty_write(t, t->failed ? "The step failed. [r]etry, [s]kip it and go "
	    "on, or [a]bort? " : "Run this step? [y]es, [s]kip, [a]bort: ");
}

static void
fe_confirm(void *data, struct rb_run *run, int step, const char *name,
    const char *plan, bool failed)
{
	struct term *t = data;

	(void)run;
	(void)step;
	(void)name;
	(void)plan;
	t->waiting = WAIT_CONFIRM;
	t->failed = failed;
	prompt_confirm(t);
}

static void
fe_ask(void *data, struct rb_run *run, const char *prompt)
{
	struct term *t = data;

	(void)run;
	t->waiting = WAIT_ASK;
	tty_write(t, prompt);
	tty_write(t, " ");
}

static void
fe_done(void *data, struct rb_run *run)
{
	struct term *t = data;

	(void)run;
	t->waiting = WAIT_NONE;
	loop_stop(t->loop);
}

static void
answer_line(struct term *t, const char *line)
{
	enum rb_answer a;

	if (t->waiting == WAIT_ASK) {
		t->waiting = WAIT_NONE;
		rb_run_reply(t->run, line);
		return;
	}
	if (t->waiting != WAIT_CONFIRM)
		return;
	switch (line[0]) {
	case 'y': case 'Y':
		if (t->failed)
			goto again;
		a = RB_YES;
		break;
	case 'r': case 'R':
		if (!t->failed)
			goto again;
		a = RB_RETRY;
		break;
	case 's': case 'S':
		a = RB_SKIP;
		break;
	case 'a': case 'A':
		a = RB_ABORT;
		break;
	default:
		goto again;
	}
	t->waiting = WAIT_NONE;
	rb_run_answer(t->run, a);
	return;
again:
	prompt_confirm(t);
}

static void
on_tty(struct loop *l, int fd, int mask, void *data)
{
	struct term *t = data;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf);

	(void)mask;
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* The terminal is gone: finish what runs, start nothing. */
		loop_del_fd(l, fd, LOOP_READABLE);
		fprintf(stderr, "lookout: lost the terminal; the action in "
		    "progress finishes, no further step starts\n");
		rb_run_interrupt(t->run);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			t->line[t->len] = '\0';
			t->len = 0;
			answer_line(t, t->line);
		} else if (t->len + 1 < sizeof t->line) {
			t->line[t->len++] = buf[i];
		}
	}
}

static void
on_signal(struct loop *l, int signo, void *data)
{
	struct term *t = data;

	(void)l;
	fprintf(stderr, "lookout: %s: the action in progress finishes, no "
	    "further step starts\n", strsignal(signo));
	rb_run_interrupt(t->run);
}

static int
print_event(const struct store_event *ev, void *arg)
{
	(void)arg;
	store_event_write_json(ev, stdout);
	fflush(stdout);
	return 0;
}

static const struct rb_frontend term_fe = {
	.progress = fe_progress,
	.confirm = fe_confirm,
	.ask = fe_ask,
	.done = fe_done,
};

/* --- shared set-up ------------------------------------------------------ */

struct session {
	struct config *cfg;
	struct store *store;
	struct loop *loop;
	struct probes *probes;
	char *lock_dir;
};

static void
session_close(struct session *s)
{
	probes_free(&s->probes);
	loop_free(&s->loop);
	store_close(&s->store);
	config_free(&s->cfg);
	free(s->lock_dir);
}

/* Opens config (optional), timeline and loop; starts the probes when the
 * config watches anything, so service.state and queue.state answer. */
static int
session_open(struct cli *cli, struct session *s, bool probes)
{
	struct lk_err err = { 0 };
	char *dbdir;
	int rc;

	memset(s, 0, sizeof *s);
	if ((rc = cli_load_config(cli, &s->cfg)) >= 0)
		return rc;
	if (cli_open_store(cli, &s->store, &err) != LK_OK) {
		session_close(s);
		return cli_error(&err);
	}
	dbdir = lk_xstrdup(store_path(s->store));
	s->lock_dir = lk_xasprintf("%s/locks", dirname(dbdir));
	free(dbdir);
	s->loop = loop_new();
	if (probes && s->cfg != NULL && config_nservices(s->cfg) +
	    config_nqueues(s->cfg) > 0) {
		long long deadline;

		if (probes_new(s->loop, s->cfg, s->store, &s->probes, &err) !=
		    LK_OK) {
			/* Runbooks that do not read state still run. */
			fprintf(stderr, "lookout: warning: %s\n", err.msg);
		} else {
			probes_start(s->probes);
			deadline = loop_now_ms() + probes_max_wait_ms(s->probes);
			while (!probes_settled(s->probes) &&
			    loop_now_ms() < deadline)
				loop_run_once(s->loop, deadline - loop_now_ms());
		}
	}
	return -1;
}

/* Runs book (which the run takes) to its end. */
static int
drive_run(struct session *s, struct rb_book *book, struct rb_run_opts *o,
    bool json)
{
	struct term t = { .loop = s->loop, .tty = -1 };
	struct lk_err err = { 0 };
	struct rb_run *run = NULL;
	int rc;

	if (!o->yes && !o->dry_run) {
		t.tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (t.tty < 0) {
			rb_book_free(&book);
			fprintf(stderr, "lookout: no terminal to confirm steps "
			    "on: add --yes to run every step without asking\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	loop_add_signal(s->loop, SIGINT, on_signal, &t);
	loop_add_signal(s->loop, SIGTERM, on_signal, &t);
	loop_add_signal(s->loop, SIGHUP, on_signal, &t);
	if (json)
		store_set_observer(s->store, print_event, NULL);
	o->lock_dir = s->lock_dir;
	if (rb_run_start(s->loop, s->store, s->probes, s->cfg, book, o,
	    &term_fe, &t, &run, &err) != LK_OK) {
		rb_book_free(&book);
		if (t.tty >= 0)
			close(t.tty);
		return cli_error(&err);
	}
	t.run = run;
	if (t.tty >= 0)
		loop_add_fd(s->loop, t.tty, LOOP_READABLE, on_tty, &t);
	while (!rb_run_finished(run))
		if (loop_run(s->loop) != 0)
			break;
	rc = rb_run_exit_status(run);
	if (t.tty >= 0) {
		loop_del_fd(s->loop, t.tty, LOOP_READABLE);
		close(t.tty);
	}
	store_set_observer(s->store, NULL, NULL);
	rb_run_free(&run);
	return rc;
}

/* --- run, replay ----------------------------------------------------------- */

struct run_args {
	struct rb_run_opts o;
	bool json;
	const char **params;
	const char *runbook;
	const char *id_text;
};

static int
parse_run_args(const char *cmd, int argc, char **argv, struct run_args *a,
    bool replay)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "incident", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "resume", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct lk_err err = { 0 };
	int c;

	a->params = lk_xcalloc((size_t)argc + 1, sizeof *a->params);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "y", opts, NULL)) != -1) {
		switch (c) {
		case 'y':
			a->o.yes = true;
			break;
		case 'n':
			a->o.dry_run = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'i':
			if (replay || cli_parse_id("incident id", optarg,
			    &a->o.incident_id, &err) != LK_OK)
				return replay ? cli_usage("%s: --incident is "
				    "taken from the recorded run", cmd) :
				    cli_error(&err);
			break;
		case 'r':
			if (replay || cli_parse_id("run id", optarg,
			    &a->o.resume, &err) != LK_OK)
				return replay ? cli_usage("replay cannot "
				    "--resume") : cli_error(&err);
			break;
		default:
			return cli_usage("%s: unknown option or missing value "
			    "in \"%s\"", cmd, argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++) {
		if (a->runbook == NULL && a->id_text == NULL &&
		    strchr(argv[i], '=') == NULL) {
			if (replay)
				a->id_text = argv[i];
			else
				a->runbook = argv[i];
		} else if (!replay && strchr(argv[i], '=') != NULL) {
			a->params[a->o.nparams++] = argv[i];
		} else {
			return cli_usage("%s: unexpected \"%s\"", cmd, argv[i]);
		}
	}
	a->o.params = a->params;
	return -1;
}

int
cmd_run(struct cli *cli, int argc, char **argv)
{
	struct run_args a = { 0 };
	struct session s;
	struct lk_err err = { 0 };
	struct rb_book *book = NULL;
	char *path = NULL, *diag = NULL;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(run_help, stdout);
		return 0;
	}
	if ((rc = parse_run_args("run", argc, argv, &a, false)) >= 0)
		goto out;
	if (a.o.resume == 0 && a.runbook == NULL) {
		rc = cli_usage("run needs a RUNBOOK (see lookout runbooks)");
		goto out;
	}
	if (a.o.resume != 0 && (a.runbook != NULL || a.o.nparams > 0)) {
		rc = cli_usage("run --resume takes only the run id: the runbook "
		    "and its parameters are the recorded ones");
		goto out;
	}
	if ((rc = session_open(cli, &s, true)) >= 0)
		goto out;
	if (a.o.resume != 0) {
		struct store_run *r = NULL;

		if (store_run_get(s.store, a.o.resume, &r, &err) != LK_OK) {
			rc = cli_error(&err);
			goto done;
		}
		/* The runbook as it is now; the engine refuses if it changed. */
		if (rb_find(s.cfg, r->runbook, &path, &err) != LK_OK) {
			store_run_free(&r);
			rc = cli_error(&err);
			goto done;
		}
		store_run_free(&r);
	} else if (rb_find(s.cfg, a.runbook, &path, &err) != LK_OK) {
		rc = cli_error(&err);
		goto done;
	}
	if (rb_book_load(path, &book, &diag, &err) != LK_OK) {
		fputs(diag ? diag : "", stderr);
		if (diag == NULL)
			cli_error(&err);
		rc = 2;
		goto done;
	}
	rc = drive_run(&s, book, &a.o, a.json);
done:
	session_close(&s);
out:
	free(diag);
	free(path);
	free(a.params);
	return rc;
}

int
cmd_replay(struct cli *cli, int argc, char **argv)
{
	struct run_args a = { 0 };
	struct session s;
	struct lk_err err = { 0 };
	struct store_run *r = NULL;
	struct rb_book *book = NULL;
	char *diag = NULL, *name = NULL;
	int64_t id;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(run_help, stdout);
		return 0;
	}
	if ((rc = parse_run_args("replay", argc, argv, &a, true)) >= 0)
		goto out;
	if (a.id_text == NULL) {
		rc = cli_usage("replay needs a RUN_ID (see lookout runs)");
		goto out;
	}
	if (cli_parse_id("run id", a.id_text, &id, &err) != LK_OK) {
		rc = cli_error(&err);
		goto out;
	}
	if ((rc = session_open(cli, &s, true)) >= 0)
		goto out;
	if (store_run_get(s.store, id, &r, &err) != LK_OK) {
		rc = cli_error(&err);
		goto done;
	}
	/* Exactly what ran: the recorded source, not today's file. */
	name = lk_xasprintf("run %lld (%s)", (long long)id, r->runbook);
	if (rb_book_load_source(name, r->source, strlen(r->source), &book,
	    &diag, &err) != LK_OK) {
		fputs(diag ? diag : "", stderr);
		if (diag == NULL)
			cli_error(&err);
		rc = 2;
		goto done;
	}
	a.o.replay_of = id;
	a.o.incident_id = r->incident_id;
	rc = drive_run(&s, book, &a.o, a.json);
done:
	store_run_free(&r);
	session_close(&s);
out:
	free(diag);
	free(name);
	free(a.params);
	return rc;
}

/* --- runs ---------------------------------------------------------------- */

struct runs_ctx {
	struct session *s;
	json_t *array;
	int n;
};

/* A run still marked running whose lock nobody holds was cut short. */
static const char *
effective_status(struct runs_ctx *c, const struct store_run *r)
{
	if (strcmp(r->status, "running") == 0 && !r->dry_run &&
	    !rb_lock_held(c->s->lock_dir, r->runbook, r->params))
		return "interrupted";
	return r->status;
}

static int
runs_one(const struct store_run *r, void *arg)
{
	struct runs_ctx *c = arg;
	const char *status = effective_status(c, r);
	char iso[LK_ISO_LEN];

	lk_iso8601(r->started_at, iso);
	if (c->array != NULL) {
		json_t *o = json_object();

		json_object_set_new(o, "id", json_integer(r->id));
		json_object_set_new(o, "runbook", lk_json_text(r->runbook));
		json_object_set_new(o, "status", json_string(status));
		json_object_set_new(o, "dry_run", json_boolean(r->dry_run));
		json_object_set_new(o, "incident_id", r->incident_id ?
		    json_integer(r->incident_id) : json_null());
		json_object_set_new(o, "replay_of", r->replay_of ?
		    json_integer(r->replay_of) : json_null());
		json_object_set_new(o, "started_at", json_string(iso));
		json_object_set_new(o, "actor", lk_json_text(r->actor));
		json_object_set_new(o, "sha256", json_string(r->sha256));
		json_object_set_new(o, "params", json_loads(r->params, 0,
		    NULL) ?: json_object());
		json_object_set_new(o, "summary", r->message ?
		    lk_json_text(r->message) : json_null());
		json_array_append_new(c->array, o);
		return 0;
	}
	if (c->n++ == 0)
		printf("%-5s %-20s %-12s %-20s %-10s %s\n", "RUN", "RUNBOOK",
		    "STATUS", "STARTED (UTC)", "BY", "SUMMARY");
	printf("%-5lld %-20s %-12s %.10s %.8s  %-10s %s%s\n",
	    (long long)r->id, r->runbook, status, iso, iso + 11, r->actor,
	    strcmp(status, r->status) != 0 ? "cut short; a step's outcome "
	    "may be unknown (lookout run --resume)" : r->message ? r->message :
	    "", r->dry_run ? " [dry run]" : "");
	return 0;
}

int
cmd_runs(struct cli *cli, int argc, char **argv)
{
	struct runs_ctx c = { 0 };
	struct session s;
	struct lk_err err = { 0 };
	bool json;
	int rc;

	if ((rc = cli_json_only("runs", argc, argv, run_help, &json)) >= 0)
		return rc;
	if ((rc = session_open(cli, &s, false)) >= 0)
		return rc;
	c.s = &s;
	if (json)
		c.array = json_array();
	rc = store_run_foreach(s.store, runs_one, &c, &err) == LK_OK ? 0 :
	    cli_error(&err);
	if (rc == 0 && json) {
		json_dumpf(c.array, stdout, JSON_INDENT(1));
		fputc('\n', stdout);
	} else if (rc == 0 && c.n == 0) {
		printf("no runs recorded in %s\n", store_path(s.store));
	}
	json_decref(c.array);
	session_close(&s);
	return rc;
}

/* --- runbooks ---------------------------------------------------------------- */

struct list_ctx {
	json_t *array;
	int n;
	int bad;
};

static int
list_one(const char *path, void *data)
{
	struct list_ctx *c = data;
	struct rb_book *b = NULL;
	struct lk_err err = { 0 };

	if (rb_book_load(path, &b, NULL, &err) != LK_OK) {
		c->bad++;
		if (c->array == NULL)
			fprintf(stderr, "%s\n", err.msg);
		return 0;
	}
	if (c->array != NULL) {
		json_t *o = json_object(), *ps = json_array(), *st = json_array();

		for (size_t i = 0; i < rb_book_nparams(b); i++) {
			const struct rb_param *p = rb_book_param(b, i);

			json_array_append_new(ps, json_pack("{s:s, s:b, s:b, "
			    "s:s?, s:s?, s:s?}", "name", p->name, "required",
			    p->required, "secret", p->secret, "default",
			    p->default_value, "env", p->env, "description",
			    p->description));
		}
		for (size_t i = 0; i < rb_book_nsteps(b); i++)
			json_array_append_new(st, lk_json_text(
			    rb_book_step_name(b, i)));
		json_object_set_new(o, "name", lk_json_text(rb_book_name(b)));
		json_object_set_new(o, "description", rb_book_description(b) ?
		    lk_json_text(rb_book_description(b)) : json_null());
		json_object_set_new(o, "path", lk_json_text(path));
		json_object_set_new(o, "params", ps);
		json_object_set_new(o, "steps", st);
		json_array_append_new(c->array, o);
	} else {
		printf("%-18s %s\n", rb_book_name(b), rb_book_description(b) ?
		    rb_book_description(b) : "");
		for (size_t i = 0; i < rb_book_nparams(b); i++) {
			const struct rb_param *p = rb_book_param(b, i);

			printf("%-18s   %s%s%s%s%s%s\n", "", p->name,
			    p->required ? " (required)" : "",
			    p->default_value ? " = " : "",
			    p->default_value ? p->default_value : "",
			    p->secret ? " (secret, from $" : "",
			    p->secret ? (p->env ? p->env : "?") : "");
			if (p->secret)
				fputs("", stdout);
		}
		printf("%-18s   %zu steps: ", "", rb_book_nsteps(b));
		for (size_t i = 0; i < rb_book_nsteps(b); i++)
			printf("%s%s", i ? ", " : "", rb_book_step_name(b, i));
		printf("\n%-18s   %s\n", "", path);
	}
	c->n++;
	rb_book_free(&b);
	return 0;
}

int
cmd_runbooks(struct cli *cli, int argc, char **argv)
{
	struct list_ctx c = { 0 };
	struct config *cfg = NULL;
	bool json;
	int rc;

	if ((rc = cli_json_only("runbooks", argc, argv, run_help, &json)) >= 0)
		return rc;
	if ((rc = cli_load_config(cli, &cfg)) >= 0)
		return rc;
	if (json)
		c.array = json_array();
	rb_foreach_file(cfg, list_one, &c);
	if (json) {
		json_dumpf(c.array, stdout, JSON_INDENT(1));
		fputc('\n', stdout);
	} else if (c.n == 0) {
		puts("no runbooks found (see LOOKOUT_RUNBOOK_PATH, "
		    "runbook_dirs in the config, ~/.config/lookout/runbooks)");
	}
	json_decref(c.array);
	config_free(&cfg);
	return c.bad ? 2 : 0;
}
