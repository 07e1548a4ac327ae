/*
 * Running a runbook from the command line: the terminal front end of the
 * step engine (progress on stderr, confirmations and questions on the
 * terminal, /dev/tty; events as JSON lines on stdout with --json), and the
 * set-up that run, replay and runs share.
 */
#include "cli.h"
#include "../config/config.h"
#include "../core/loop.h"
#include "../core/util.h"
#include "../probes/probes.h"
#include "../runbooks/runbooks.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- the terminal front end ------------------------------------------------ */

struct term {
	struct loop *loop;
	int tty;			/* -1: no terminal */
	FILE *out;			/* on tty, escaping (term.c) */
	struct rb_run *run;
	enum { WAIT_NONE, WAIT_CONFIRM, WAIT_ASK } waiting;
	char line[1024];
	size_t len;
};

/* A prompt may carry the runbook's words (ask): escaped as any output. */
static void
tty_write(struct term *t, const char *s)
{
	if (t->out != NULL)
		fputs(s, t->out);
}

static void
fe_progress(void *data, const char *line)
{
	(void)data;
	fprintf(stderr, "%s\n", line);
}

/* The prompt names the answers the engine takes now, by their keys. */
static void
prompt_confirm(struct term *t)
{
	tty_write(t, rb_run_answers(t->run) & RB_ANSWER(RB_RETRY) ?
	    "The step failed. [r]etry, [s]kip it and go on, or [a]bort? " :
	    "Run this step? [y]es, [s]kip, [a]bort: ");
}

static void
fe_confirm(void *data, struct rb_run *run, int step, const char *name,
    const char *plan, bool failed)
{
	struct term *t = data;

	(void)step;
	(void)name;
	(void)plan;
	(void)failed;
	t->run = run;
	t->waiting = WAIT_CONFIRM;
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

/* A line typed at the prompt: its first letter names an answer ("y"es,
 * "s"kip, "r"etry, "a"bort); the engine says whether it takes it now. */
static void
answer_line(struct term *t, const char *line)
{
	if (t->waiting == WAIT_ASK) {
		t->waiting = WAIT_NONE;
		rb_run_reply(t->run, line);
		return;
	}
	if (t->waiting != WAIT_CONFIRM)
		return;
	for (enum rb_answer a = RB_YES; a <= RB_ABORT; a++) {
		if (tolower((unsigned char)line[0]) != rb_answer_name(a)[0])
			continue;
		t->waiting = WAIT_NONE;
		if (rb_run_answer(t->run, a))
			return;
		t->waiting = WAIT_CONFIRM;
	}
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

void
cli_session_close(struct cli_session *s)
{
	probes_free(&s->probes);
	loop_free(&s->loop);
	store_close(&s->store);
	config_free(&s->cfg);
	free(s->lock_dir);
}

/* Opens config (optional), timeline and loop; starts the probes when the
 * config watches anything, so service.state and queue.state answer. */
int
cli_session_open(struct cli *cli, struct cli_session *s, bool create,
    bool probes)
{
	struct lk_err err = { 0 };
	int rc;

	memset(s, 0, sizeof *s);
	if ((rc = cli_load_config(cli, &s->cfg)) >= 0)
		return rc;
	if ((create ? cli_open_store(cli, &s->store, &err) :
	    cli_read_store(cli, &s->store, &err)) != LK_OK) {
		cli_session_close(s);
		return cli_error(&err);
	}
	s->lock_dir = cli_lock_dir(s->store);
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
int
cli_drive_run(struct cli_session *s, struct rb_book *book, struct rb_run_opts *o,
    bool json)
{
	struct term t = { .loop = s->loop, .tty = -1 };
	struct lk_err err = { 0 };
	struct rb_run *run = NULL;
	int rc, sub = 0;

	if (!o->yes && !o->dry_run) {
		t.tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (t.tty < 0) {
			rb_book_free(&book);
			fprintf(stderr, "lookout: no terminal to confirm steps "
			    "on: add --yes to run every step without asking\n");
			return 2;
		}
		t.out = cli_term_open(t.tty);
	}
	signal(SIGPIPE, SIG_IGN);
	/* Interrupts: they stop a step's Lua even inside a library call. */
	loop_add_interrupt(s->loop, SIGINT, on_signal, &t);
	loop_add_interrupt(s->loop, SIGTERM, on_signal, &t);
	loop_add_interrupt(s->loop, SIGHUP, on_signal, &t);
	if (json)
		sub = store_subscribe(s->store, STORE_OWN, print_event, NULL);
	o->lock_dir = s->lock_dir;
	if (rb_run_start(s->loop, s->store, s->probes, s->cfg, book, o,
	    &term_fe, &t, &run, &err) != LK_OK) {
		rb_book_free(&book);
		if (t.out != NULL)
			fclose(t.out);
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
		fclose(t.out);
		close(t.tty);
	}
	store_unsubscribe(s->store, sub);
	rb_run_free(&run);
	return rc;
}

/* --- the arguments of run and replay -------------------------------------- */

int
cli_parse_run_args(const char *cmd, int argc, char **argv, struct cli_run_args *a,
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

