/*
 * runbooks: a secret never leaves a run, whole or in part.
 *
 * property: thousands of random cases of secrets_case.c (random secrets
 * of any bytes and length, placed at every kind of offset of every path:
 * cut by an excerpt, a buffer, the live tail, escaped as JSON, quoted in
 * an HTTP reason).  Deterministic: the seed is fixed, SECRETS_SEED=N
 * explores others, SECRETS_CASES=N runs more.
 *
 * runs: real runs of a runbook whose command prints a secret holding
 * quotes, backslashes and UTF-8 across the timeline's excerpt boundary,
 * the console's 8 KiB tail, the 64 KiB a child keeps and a pause in the
 * middle of the secret; then every event, progress line, live output,
 * note, reason and question is read back.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "runbooks.h"
#include "store.h"
#include "fixture.h"
#include "secrets_case.h"

static uint64_t rng;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

Test(property, no_path_lets_a_secret_through, .timeout = 120)
{
	const char *seed = getenv("SECRETS_SEED");
	const char *cases = getenv("SECRETS_CASES");
	long n = cases ? atol(cases) : 3000;
	uint8_t in[512];

	rng = seed ? strtoull(seed, NULL, 10) | 1 : 0x5ec12e75u;
	for (long c = 0; c < n; c++) {
		size_t size = 40 + next() % 400;
		uint64_t density = next() % 4;
		uint64_t start = rng;
		const char *why;

		for (size_t i = 0; i < size; i++)
			in[i] = (uint8_t)next();
		/* Few bytes of S, or half of them, or nearly all. */
		for (size_t i = 1; i <= 32; i++) {
			if (density == 0)
				in[i] &= (uint8_t)(next() & next() & next());
			else if (density == 1)
				in[i] &= (uint8_t)(next() & next());
			else if (density == 3)
				in[i] |= (uint8_t)next();
			/* ASCII-heavy alphabets make UTF-8 secrets likely. */
			if (i > 16 && density == 0 && (c & 1))
				in[i] &= (uint8_t)next();
		}
		why = secrets_case(in, size);
		cr_assert_null(why, "case %ld (rng state %llu): %s", c,
		    (unsigned long long)start, why);
	}
}

/* --- real runs ------------------------------------------------------------ */

TestSuite(runs, .init = setup, .fini = teardown, .timeout = 120);

/*
 * The secret is made of these bytes only, and the filler printed around
 * it of none of them: any of them found in what a run stores or shows is
 * a piece of the secret.  The bytes are JSON's to escape ('"', '\\') and
 * UTF-8 ("é" is C3 A9), and none of them is in lookout's own words.
 */
static const char secret_bytes[] = "\"\\~^\xc3\xa9";

static bool
is_secret_byte(char c)
{
	return c != '\0' && strchr(secret_bytes, c) != NULL;
}

/* The first piece of the secret in the n bytes at s, or NULL. */
static const char *
leak(const char *s, size_t n)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (is_secret_byte(s[i]))
			return s + i;
	return NULL;
}

/* Where pieces of the secret were seen (the first of each kind of
 * place), or "". */
struct seen {
	char where[1536];
	char kinds[256];
};

static void
saw(struct seen *v, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
saw(struct seen *v, const char *kind, const char *fmt, ...)
{
	size_t n = strlen(v->where);
	va_list ap;

	if (strstr(v->kinds, kind) != NULL || n + 2 >= sizeof v->where)
		return;
	strncat(v->kinds, kind, sizeof v->kinds - strlen(v->kinds) - 1);
	if (n > 0)
		n += (size_t)snprintf(v->where + n, sizeof v->where - n, "; ");
	va_start(ap, fmt);
	vsnprintf(v->where + n, sizeof v->where - n, fmt, ap);
	va_end(ap);
}

static void
shown(struct seen *v, const char *what, const char *text)
{
	if (text == NULL)
		return;
	/* JSON and progress lines quote with '"' themselves: only what
	 * lookout did not write may not hold one. */
	for (const char *p = text; *p; p++)
		if (is_secret_byte(*p) && *p != '"' && *p != '\\')
			saw(v, what, "%s: %.200s", what, text);
}

static void
fe_progress(void *data, const char *line)
{
	shown(data, "progress", line);
}

static void
fe_changed(void *data, struct rb_run *run)
{
	struct seen *v = data;
	char *out = rb_run_output(run);

	/* The live output is nothing but the command's: no quote of ours. */
	if (out != NULL && leak(out, strlen(out)))
		saw(v, "live", "live output: ...%.200s", leak(out,
		    strlen(out)));
	free(out);
}

static long long
reply(struct loop *l, long long id, void *data)
{
	(void)l;
	(void)id;
	rb_run_reply(data, "yes");
	return LOOP_NOMORE;
}

static void
fe_ask(void *data, struct rb_run *run, const char *prompt)
{
	struct seen *v = data;
	const char *q = rb_run_question(run);

	/* "is <output> right?": none of the words are lookout's. */
	if (leak(prompt, strlen(prompt)) || (q && leak(q, strlen(q))))
		saw(v, "question", "question: %.200s", prompt);
	/* Answered from the loop, as a person would, never from inside. */
	loop_add_timer(loop, 0, reply, run);
}

static const struct rb_frontend fe = {
	.progress = fe_progress,
	.ask = fe_ask,
	.changed = fe_changed,
};

/* The strings of a JSON value, checked whole. */
static const char *
json_leak(json_t *v)
{
	const char *key, *hit = NULL;
	json_t *item;
	size_t i;

	if (json_is_string(v))
		return leak(json_string_value(v), json_string_length(v));
	if (json_is_array(v))
		json_array_foreach(v, i, item)
			if ((hit = json_leak(item)) != NULL)
				return hit;
	if (json_is_object(v))
		json_object_foreach(v, key, item)
			if ((hit = leak(key, strlen(key))) != NULL ||
			    (hit = json_leak(item)) != NULL)
				return hit;
	return NULL;
}

static int
check_event(const struct store_event *ev, void *arg)
{
	struct seen *v = arg;
	const char *hit = NULL;
	json_t *d = ev->data ? json_loads(ev->data, 0, NULL) : NULL;

	if (ev->data != NULL && d == NULL)
		saw(v, "data", "event %lld %s: data that is not JSON",
		    (long long)ev->seq, ev->kind);
	else if (d != NULL && (hit = json_leak(d)) != NULL)
		saw(v, ev->kind, "event %lld %s data: ...%.200s",
		    (long long)ev->seq, ev->kind, hit);
	json_decref(d);
	hit = NULL;
	/* Plans, commands and summaries quote with '"' themselves; notes,
	 * outcomes, reasons and questions hold nothing of lookout's that
	 * could be taken for the secret. */
	if (hit == NULL && ev->message != NULL) {
		bool quotes = strcmp(ev->kind, "step.started") == 0 ||
		    strcmp(ev->kind, "run.started") == 0 ||
		    strcmp(ev->kind, "run.finished") == 0 ||
		    (strcmp(ev->kind, "action.started") == 0 &&
		    strcmp(ev->subject, "ask") != 0);

		for (const char *p = ev->message; hit == NULL && *p; p++)
			if (is_secret_byte(*p) && (!quotes || (*p != '"' &&
			    *p != '\\')))
				hit = p;
	}
	if (hit == NULL && ev->subject != NULL)
		hit = leak(ev->subject, strlen(ev->subject));
	if (hit != NULL)
		saw(v, ev->kind, "event %lld %s: ...%.200s",
		    (long long)ev->seq, ev->kind, hit);
	return 0;
}

/*
 * Runs a runbook that prints before + secret + after (head bytes, a
 * pause, then the rest), notes what it printed, asks about it, and fails
 * with it as its reason; then reads everything back.
 */
static void
run_case(const char *secret, size_t before, size_t after, size_t head)
{
	static const char src[] =
	    "local out\n"
	    "return runbook { name = \"leaky\",\n"
	    "  params = { secret = { secret = true, env = \"LK_SECRET\" },\n"
	    "             before = { env = \"LK_BEFORE\" },\n"
	    "             after = { env = \"LK_AFTER\" }, head = { default = \"0\" } },\n"
	    "  step \"print\" { function(p)\n"
	    "    local r = sh { \"/bin/sh\", \"-c\", \"head -c \" .. p.head .. \"; sleep 0.3; cat\",\n"
	    "                   stdin = p.before .. p.secret .. p.after }\n"
	    "    out = r.stdout\n"
	    "    return r end },\n"
	    "  step \"tell\" { function(p)\n"
	    "    note(out:sub(-600))\n"
	    "    ask(\"is \" .. out:sub(-600) .. \" right?\")\n"
	    "    return { ok = false, reason = out:sub(-700) } end },\n"
	    "}\n";
	struct rb_run_opts opts = { .yes = true };
	struct seen v = { 0 };
	struct rb_book *b = NULL;
	struct rb_run *r = NULL;
	struct lk_err err = { 0 };
	char *fill, headv[32];
	const char *params[1];

	/* Filler: lower-case letters, digits, newlines. */
	fill = malloc(before + after + 2);
	for (size_t i = 0; i < before + after; i++)
		fill[i] = i % 61 == 60 ? '\n' : "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
	fill[before + after] = '\0';
	setenv("LK_SECRET", secret, 1);
	setenv("LK_AFTER", fill + before, 1);
	fill[before] = '\0';
	setenv("LK_BEFORE", fill, 1);
	snprintf(headv, sizeof headv, "head=%zu", head);
	params[0] = headv;
	opts.params = params;
	opts.nparams = 1;
	cr_assert_eq(rb_book_load_source("leaky.lua", src, strlen(src), &b,
	    NULL, &err), LK_OK, "%s", err.msg);
	cr_assert_eq(rb_run_start(loop, store, NULL, NULL, b, &opts, &fe, &v,
	    &r, &err), LK_OK, "%s", err.msg);
	while (!rb_run_finished(r))
		cr_assert_geq(loop_run_once(loop, 1000), 0);
	cr_expect_eq(rb_run_exit_status(r), 1, "%s", rb_run_summary(r));
	shown(&v, "summary", rb_run_summary(r));
	for (size_t i = 0; i < rb_run_nsteps(r); i++) {
		struct rb_step_info si;

		rb_run_step_info(r, i, &si);
		if (si.outcome && leak(si.outcome, strlen(si.outcome)))
			saw(&v, "outcome", "step %zu outcome: %.200s", i,
			    si.outcome);
	}
	cr_assert_eq(store_run_events(store, rb_run_id(r), check_event, &v,
	    &err), LK_OK, "%s", err.msg);
	cr_expect(v.where[0] == '\0', "secret of %zu bytes after %zu bytes, "
	    "%zu after it, pause after %zu: %s", strlen(secret), before, after,
	    head, v.where);
	rb_run_free(&r);
	free(fill);
}

/* Secrets of these bytes, of a few lengths. */
static const char *const secrets[] = {
	"\"\\\"",
	"~\"\\^\xc3\xa9\"\\~\\",
	"\xc3\xa9\xc3\xa9~^~^\"\"\\\\\xc3\xa9~^~\"",
};

Test(runs, json_escapes_a_secret_too_late_for_the_old_scrub)
{
	for (size_t i = 0; i < 3; i++)
		run_case(secrets[i], 10, 10, 0);
}

/* The timeline keeps the last 2048 bytes of each stream. */
Test(runs, a_secret_cut_by_the_timelines_excerpt)
{
	for (size_t i = 1; i < 3; i++)
		for (size_t k = 1; k < strlen(secrets[i]); k += 2)
			run_case(secrets[i], 100, 2048 - k, 0);
}

/* The console shows the last 8 KiB of a command's output. */
Test(runs, a_secret_cut_by_the_consoles_tail)
{
	for (size_t k = 1; k < strlen(secrets[2]); k += 3)
		run_case(secrets[2], 9000, 8192 - k, 0);
}

/* A child keeps 64 KiB of each stream; the rest is cut off. */
Test(runs, a_secret_cut_where_the_child_stops_keeping)
{
	for (size_t k = 1; k < strlen(secrets[2]); k += 4)
		run_case(secrets[2], 65536 - k, 100, 0);
}

/* The console reads the output while the command writes it. */
Test(runs, a_secret_half_written_when_the_console_looks)
{
	for (size_t k = 1; k < strlen(secrets[1]); k += 2)
		run_case(secrets[1], 50, 50, 50 + k);
}
