/*
 * The notifiers: each `notify` block of the configuration, telling the
 * team of incidents through a webhook, an Alertmanager or a command, on
 * the loop (see notify.h).
 *
 * What a notifier does for one incident is a stream: the notifications
 * it was handed for that incident, delivered in order and one at a time,
 * so that a "resolved" can never arrive before the "opened" it follows
 * (which, to Alertmanager, would make a resolved alert fire again).  The
 * first of a stream is tried; a try that fails for a reason that may pass
 * (no connection, a timeout, a 5xx, a 429, a command that failed) is
 * tried again after a backoff that doubles, until the notifier's tries
 * are spent.  Either way its outcome is an event in the incident's
 * timeline: notify.sent, or notify.failed with the tries and their
 * reasons.  Nothing is dropped without a trace.
 *
 * Alertmanager keeps state of its own, so its streams differ in two ways:
 * the newest notification supersedes those still waiting (the alert's
 * latest state is what counts; each superseded one is recorded as not
 * delivered), and while the alert fires the stream re-posts it every
 * `resend`, as Alertmanager expects of its clients.  A re-post that fails
 * is recorded once per run of failures, and its recovery once.
 *
 * Secrets (header values and URLs read from the environment) go into the
 * requests and nowhere else: what is recorded names the notifier, never
 * its URL or headers, and every reason that comes from outside (an HTTP
 * body, a command's stderr) is scrubbed of them first.
 */
#include "notify.h"
#include "notify_format.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../config/config.h"
#include "../core/child.h"
#include "../core/http.h"
#include "../core/loop.h"
#include "../core/scrub.h"
#include "../core/util.h"
#include "../store/store.h"

/* Of an HTTP answer or a command's stderr, this much goes into a reason. */
#define REASON_EXCERPT	200
/* Of an answer, at most this much is read. */
#define MAX_ANSWER	(64 * 1024)

struct stream;

/* One notification for one incident, until it is delivered or given up. */
struct delivery {
	char what[16];			/* "opened", "mitigated", "resolved" */
	char *body;			/* the POST's, or the command's stdin */
	char **env;			/* the command's LOOKOUT_* variables */
	int tries;
	long status;			/* of the last HTTP answer, or 0 */
	int exit_status;		/* of the last command, or -1 */
	char reason[320];		/* why the last try failed, scrubbed */
	json_t *attempts;		/* [{"at", "error"}] of failed tries */
	struct delivery *next;
};

struct notifier {
	struct notifiers *owner;
	const struct config_notify *cfg;
	struct stream *streams;
};

struct stream {
	struct notifier *nf;		/* NULL once orphaned (see free) */
	int64_t incident_id;
	struct delivery *head;		/* tried first; the rest wait */
	struct delivery *tail;
	long long try_timer;		/* the head's next try is due */
	bool busy;			/* a request or a command in flight */
	struct child *child;		/* the command in flight */
	/* Alertmanager: the alert while it fires, posted again every
	 * resend; a re-post in flight; failed re-posts in a row. */
	char *firing;
	long long resend_timer;
	bool resending;
	int resend_failures;
	struct stream *next;
};

struct notifiers {
	struct loop *loop;
	struct store *store;
	struct http_pool *http;		/* only with a webhook or Alertmanager */
	struct notifier *list;
	size_t n;
	int pending;
	char host[256];
};

static const char *
kind_name(const struct config_notify *c)
{
	switch (c->kind) {
	case CONFIG_NOTIFY_WEBHOOK:
		return "webhook";
	case CONFIG_NOTIFY_ALERTMANAGER:
		return "alertmanager";
	case CONFIG_NOTIFY_COMMAND:
		break;
	}
	return "command";
}

/* --- secrets --------------------------------------------------------- */

/*
 * The values of every variable the notifiers read secrets from, as they
 * are now: what a server or a command may have echoed back.
 */
static void
secrets_now(const struct notifiers *ns, struct lk_scrub *sc)
{
	for (size_t i = 0; i < ns->n; i++) {
		const struct config_notify *c = ns->list[i].cfg;

		if (c->url_env != NULL)
			notify_secret_add(sc, getenv(c->url_env));
		for (size_t j = 0; j < c->nheaders; j++) {
			if (c->headers[j].value_env != NULL)
				notify_secret_add(sc,
				    getenv(c->headers[j].value_env));
		}
	}
}

/* buf (len bytes) gets text, scrubbed before it is cut, on one line. */
static void
set_reason(const struct notifiers *ns, char *buf, size_t len,
    const char *text)
{
	struct lk_scrub sc = { 0 };

	secrets_now(ns, &sc);
	lk_scrub_copy(&sc, buf, len, text);
	for (char *p = buf; *p != '\0'; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = ' ';
	}
	lk_scrub_clear(&sc);
}

/* --- the timeline ---------------------------------------------------- */

static void
append(struct stream *s, const char *kind, const char *message, json_t *data)
{
	struct notifiers *ns = s->nf->owner;
	char *dj = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
	struct store_new_event ev = {
		.incident_id = s->incident_id,
		.kind = kind,
		.subject = s->nf->cfg->name,
		.message = message,
		.data = dj,
	};
	struct lk_err err = { 0 };

	if (dj == NULL)
		lk_oom();
	/* Nowhere else to say it: the watcher's log is its stderr. */
	if (store_append(ns->store, &ev, NULL, &err) != LK_OK)
		fprintf(stderr, "lookout: notify %s: cannot record %s for "
		    "incident %" PRId64 ": %s\n", s->nf->cfg->name, kind,
		    s->incident_id, err.msg);
	free(dj);
	json_decref(data);
}

static json_t *
outcome_data(const struct stream *s, const struct delivery *d)
{
	const struct config_notify *c = s->nf->cfg;
	json_t *o = json_object();

	json_object_set_new(o, "notifier", lk_json_text(c->name));
	json_object_set_new(o, "type", json_string(kind_name(c)));
	json_object_set_new(o, "event", json_string(d->what));
	json_object_set_new(o, "tries", json_integer(d->tries));
	if (d->status > 0)
		json_object_set_new(o, "status", json_integer(d->status));
	if (d->exit_status >= 0)
		json_object_set_new(o, "exit_status",
		    json_integer(d->exit_status));
	return o;
}

/* What the notifier is, for a person: "webhook chat". */
static void
notifier_label(const struct config_notify *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", c->kind == CONFIG_NOTIFY_ALERTMANAGER ?
	    "Alertmanager" : kind_name(c), c->name);
}

static void
record_sent(struct stream *s, struct delivery *d)
{
	char who[200], how[64], *msg;

	notifier_label(s->nf->cfg, who, sizeof who);
	if (d->status > 0)
		snprintf(how, sizeof how, "HTTP %ld", d->status);
	else
		snprintf(how, sizeof how, "exit 0");
	msg = lk_xasprintf("%s: sent to %s (%s, try %d of %lld)", d->what,
	    who, how, d->tries, (long long)s->nf->cfg->tries);
	append(s, "notify.sent", msg, outcome_data(s, d));
	free(msg);
}

/* why: "after 5 tries: connection refused", "lookout stopped". */
static void
record_failed(struct stream *s, struct delivery *d, const char *why)
{
	json_t *data = outcome_data(s, d);
	char who[200], *msg;

	notifier_label(s->nf->cfg, who, sizeof who);
	msg = lk_xasprintf("%s: not delivered to %s: %s", d->what, who, why);
	json_object_set_new(data, "reason", lk_json_text(why));
	json_object_set_new(data, "attempts", json_incref(d->attempts));
	append(s, "notify.failed", msg, data);
	free(msg);
}

/* --- streams --------------------------------------------------------- */

static void
delivery_free(struct delivery *d)
{
	free(d->body);
	lk_strv_free(d->env);
	json_decref(d->attempts);
	free(d);
}

static struct stream *
stream_get(struct notifier *nf, int64_t incident_id)
{
	struct stream *s;

	for (s = nf->streams; s != NULL; s = s->next) {
		if (s->incident_id == incident_id)
			return s;
	}
	s = lk_xcalloc(1, sizeof *s);
	s->nf = nf;
	s->incident_id = incident_id;
	s->next = nf->streams;
	nf->streams = s;
	return s;
}

/* Everything s holds but itself: its timers, deliveries and alert. */
static void
stream_clear(struct stream *s)
{
	struct notifiers *ns = s->nf->owner;

	if (s->try_timer)
		loop_del_timer(ns->loop, s->try_timer);
	if (s->resend_timer)
		loop_del_timer(ns->loop, s->resend_timer);
	s->try_timer = s->resend_timer = 0;
	while (s->head != NULL) {
		struct delivery *d = s->head;

		s->head = d->next;
		delivery_free(d);
		ns->pending--;
	}
	s->tail = NULL;
	free(s->firing);
	s->firing = NULL;
}

static void
stream_free(struct stream *s)
{
	stream_clear(s);
	free(s);
}

/* Unlinks s from its notifier and frees it. */
static void
stream_drop(struct stream *s)
{
	struct stream **pp = &s->nf->streams;

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	stream_free(s);
}

/* Takes the head off s (it was recorded). */
static void
stream_pop(struct stream *s)
{
	struct delivery *d = s->head;

	s->head = d->next;
	if (s->head == NULL)
		s->tail = NULL;
	delivery_free(d);
	s->nf->owner->pending--;
}

static long long on_try(struct loop *l, long long id, void *data);
static long long on_resend(struct loop *l, long long id, void *data);

/* Schedules the head's next try in ms. */
static void
schedule(struct stream *s, int64_t ms)
{
	s->try_timer = loop_add_timer(s->nf->owner->loop, ms, on_try, s);
}

/*
 * What comes after a delivery or a re-post: the next notification, or
 * for a firing alert its next re-post, or, with nothing left to do, the
 * end of the stream.
 */
static void
stream_next(struct stream *s)
{
	if (s->busy || s->try_timer)
		return;
	if (s->head != NULL) {
		schedule(s, 0);
	} else if (s->firing != NULL) {
		if (!s->resend_timer)
			s->resend_timer = loop_add_timer(s->nf->owner->loop,
			    s->nf->cfg->resend_ms, on_resend, s);
	} else {
		stream_drop(s);
	}
}

/* --- one try ---------------------------------------------------------- */

/* A failed try: its reason (raw, scrubbed here) joins the attempts. */
static void
note_failure(struct stream *s, struct delivery *d, const char *raw)
{
	char at[LK_ISO_LEN];

	set_reason(s->nf->owner, d->reason, sizeof d->reason, raw);
	lk_iso8601(lk_now_ms(), at);
	json_array_append_new(d->attempts, json_pack("{s:s, s:o}", "at", at,
	    "error", lk_json_text(d->reason)));
}

/*
 * The head's try ended: delivered, or failed (its reason noted) and to be
 * tried again if retry says the reason may pass and tries are left.
 */
static void
tried(struct stream *s, bool ok, bool retry)
{
	struct delivery *d = s->head;
	const struct config_notify *c = s->nf->cfg;
	/* Alertmanager's newest notification stands for all before it. */
	bool superseded = c->kind == CONFIG_NOTIFY_ALERTMANAGER &&
	    d->next != NULL;
	char why[480];

	if (ok) {
		record_sent(s, d);
		stream_pop(s);
	} else if (retry && d->tries < c->tries && !superseded) {
		schedule(s, notify_backoff_ms(c->backoff_ms, d->tries));
		return;
	} else {
		if (retry && d->tries < c->tries)
			snprintf(why, sizeof why, "superseded by %s after %d "
			    "%s (last: %s)", d->next->what, d->tries,
			    d->tries == 1 ? "try" : "tries", d->reason);
		else if (d->tries > 1)
			snprintf(why, sizeof why, "after %d tries: %s",
			    d->tries, d->reason);
		else
			snprintf(why, sizeof why, "%s", d->reason);
		record_failed(s, d, why);
		stream_pop(s);
	}
	stream_next(s);
}

/* An HTTP answer that a later try may not get: retrying cannot help. */
static bool
status_may_pass(long status)
{
	return status >= 500 || status == 408 || status == 429;
}

/* reason for an answer that is not 2xx: "HTTP 401: {...}". */
static void
answer_reason(const struct http_reply *r, char *buf, size_t len)
{
	size_t n = r->len < REASON_EXCERPT ? r->len : REASON_EXCERPT;
	struct lk_buf b = { 0 };

	lk_buf_printf(&b, "HTTP %ld", r->status);
	if (r->status >= 300 && r->status < 400)
		lk_buf_adds(&b, " (a notification follows no redirect)");
	if (n > 0) {
		lk_buf_adds(&b, ": ");
		lk_buf_add_utf8(&b, r->body, n);
		if (r->len > n)
			lk_buf_adds(&b, "...");
	}
	snprintf(buf, len, "%s", b.s);
	lk_buf_free(&b);
}

static void on_resent(struct stream *s, const struct http_reply *r);

static void
on_http_done(const struct http_reply *r, void *data)
{
	struct stream *s = data;
	struct delivery *d = s->head;
	char reason[480];
	bool ok;

	s->busy = false;
	if (s->resending) {
		on_resent(s, r);
		return;
	}
	ok = r->done && r->status >= 200 && r->status < 300;
	d->status = r->done ? r->status : 0;
	if (ok) {
		tried(s, true, false);
		return;
	}
	if (r->done)
		answer_reason(r, reason, sizeof reason);
	else
		snprintf(reason, sizeof reason, "%s", r->error);
	note_failure(s, d, reason);
	tried(s, false, !r->done || status_may_pass(r->status));
}

static void strv_forget(char **v);

/*
 * The request's URL and headers, secrets read from the environment now.
 * On failure (a variable not set), why says which and nothing is set.
 */
static bool
http_prepare(const struct config_notify *c, char **url, char ***headers,
    char *why, size_t len)
{
	const char *base = c->url, *val;
	char **h;
	size_t n;

	if (c->url_env != NULL) {
		base = getenv(c->url_env);
		if (base == NULL || *base == '\0') {
			snprintf(why, len, "$%s is not set (%s = env(\"%s\"))",
			    c->url_env, kind_name(c), c->url_env);
			return false;
		}
		if (strncmp(base, "http://", 7) != 0 &&
		    strncmp(base, "https://", 8) != 0) {
			snprintf(why, len, "$%s does not hold an http:// or "
			    "https:// URL", c->url_env);
			return false;
		}
	}
	h = lk_xcalloc(c->nheaders + 2, sizeof *h);
	h[0] = lk_xstrdup("Content-Type: application/json");
	for (n = 0; n < c->nheaders; n++) {
		val = c->headers[n].value;
		if (c->headers[n].value_env != NULL &&
		    ((val = getenv(c->headers[n].value_env)) == NULL ||
		    *val == '\0')) {
			snprintf(why, len, "$%s is not set (headers.%s)",
			    c->headers[n].value_env, c->headers[n].name);
			strv_forget(h);
			return false;
		}
		h[n + 1] = lk_xasprintf("%s: %s", c->headers[n].name, val);
	}
	if (c->kind == CONFIG_NOTIFY_ALERTMANAGER) {
		size_t bl = strlen(base);

		while (bl > 0 && base[bl - 1] == '/')
			bl--;
		*url = lk_xasprintf("%.*s/api/v2/alerts", (int)bl, base);
	} else {
		*url = lk_xstrdup(base);
	}
	*headers = h;
	return true;
}

/* Frees strings that held secrets, leaving none in freed memory. */
static void
strv_forget(char **v)
{
	for (size_t i = 0; v[i] != NULL; i++)
		explicit_bzero(v[i], strlen(v[i]));
	lk_strv_free(v);
}

/* POSTs body for s; false (with why) if it could not even be sent. */
static bool
post(struct stream *s, const char *body, char *why, size_t len)
{
	const struct config_notify *c = s->nf->cfg;
	struct http_request req = { 0 };
	char *url, **headers;

	if (!http_prepare(c, &url, &headers, why, len))
		return false;
	req.url = url;
	req.timeout_ms = c->timeout_ms;
	req.connect_timeout_ms = -1;
	req.max_body = MAX_ANSWER;
	req.headers = (const char *const *)headers;
	req.body = body;
	req.body_len = strlen(body);
	s->busy = true;
	http_start(s->nf->owner->http, &req, on_http_done, s);
	explicit_bzero(url, strlen(url));
	free(url);
	strv_forget(headers);
	return true;
}

static void
on_child_done(const struct child_result *r, void *data)
{
	struct stream *s = data;
	struct delivery *d = s->head;
	struct lk_buf why = { 0 };
	const char *nl;

	s->busy = false;
	s->child = NULL;
	if (s->nf == NULL) {
		/* Its notifiers were freed while it ran (see
		 * notifiers_free): it only had to end. */
		free(s);
		return;
	}
	d->exit_status = r->exit_status;
	if (r->exit_status == 0 && !r->timed_out) {
		tried(s, true, false);
		return;
	}
	if (r->spawn_error != NULL)
		lk_buf_adds(&why, r->spawn_error);
	else if (r->timed_out)
		lk_buf_printf(&why, "timed out after %lld ms",
		    (long long)s->nf->cfg->command.timeout_ms);
	else if (r->term_signal != 0)
		lk_buf_printf(&why, "killed by signal %d", r->term_signal);
	else
		lk_buf_printf(&why, "exited with status %d", r->exit_status);
	/* The first line of what it said, which usually says why. */
	if (r->err_len > 0 && r->spawn_error == NULL) {
		nl = memchr(r->err, '\n', r->err_len);
		lk_buf_adds(&why, ": ");
		lk_buf_add_utf8(&why, r->err, nl != NULL ? (size_t)(nl - r->err) :
		    r->err_len < REASON_EXCERPT ? r->err_len : REASON_EXCERPT);
	}
	note_failure(s, d, why.s);
	lk_buf_free(&why);
	tried(s, false, true);
}

static bool
run_command(struct stream *s, char *why, size_t len)
{
	const struct config_notify *c = s->nf->cfg;
	struct delivery *d = s->head;
	struct child_opts o = {
		.argv = (const char *const *)c->command.argv,
		.env = (const char *const *)d->env,
		.stdin_data = d->body,
		.stdin_len = strlen(d->body),
		.timeout_ms = c->command.timeout_ms,
		.max_output = 4096,
	};
	struct lk_err err = { 0 };

	if (child_start(s->nf->owner->loop, &o, on_child_done, s, &s->child,
	    &err) != LK_OK) {
		snprintf(why, len, "%.*s", (int)len - 1, err.msg);
		return false;
	}
	s->busy = true;
	return true;
}

/* The head's try is due. */
static long long
on_try(struct loop *l, long long id, void *data)
{
	struct stream *s = data;
	struct delivery *d = s->head;
	const struct config_notify *c = s->nf->cfg;
	char why[320];
	bool started;

	(void)l;
	(void)id;
	s->try_timer = 0;
	d->tries++;
	if (c->kind == CONFIG_NOTIFY_COMMAND)
		started = run_command(s, why, sizeof why);
	else
		started = post(s, d->body, why, sizeof why);
	if (!started) {
		/* A variable not set, or no way to start a process: the
		 * same next time, unless it is a fork that failed. */
		note_failure(s, d, why);
		tried(s, false, c->kind == CONFIG_NOTIFY_COMMAND);
	}
	return LOOP_NOMORE;
}

/* --- Alertmanager's re-posts ------------------------------------------ */

static long long
on_resend(struct loop *l, long long id, void *data)
{
	struct stream *s = data;
	char why[320];

	(void)l;
	(void)id;
	s->resend_timer = 0;
	s->resending = true;
	if (!post(s, s->firing, why, sizeof why)) {
		struct http_reply r = { .error = why };

		on_resent(s, &r);
	}
	return LOOP_NOMORE;
}

static void
on_resent(struct stream *s, const struct http_reply *r)
{
	char reason[480], clean[480], who[200];
	json_t *data;
	char *msg;

	s->resending = false;
	notifier_label(s->nf->cfg, who, sizeof who);
	if (r->done && r->status >= 200 && r->status < 300) {
		if (s->resend_failures > 0) {
			msg = lk_xasprintf("firing alert posted to %s again "
			    "after %d failed re-posts", who,
			    s->resend_failures);
			data = json_pack("{s:o, s:s, s:s, s:i, s:i}",
			    "notifier", lk_json_text(s->nf->cfg->name),
			    "type", "alertmanager", "event", "resend",
			    "failed_resends", s->resend_failures,
			    "status", (int)r->status);
			append(s, "notify.sent", msg, data);
			free(msg);
		}
		s->resend_failures = 0;
	} else if (s->resend_failures++ == 0) {
		if (r->done)
			answer_reason(r, reason, sizeof reason);
		else
			snprintf(reason, sizeof reason, "%s", r->error);
		set_reason(s->nf->owner, clean, sizeof clean, reason);
		msg = lk_xasprintf("firing alert not re-posted to %s: %s; "
		    "Alertmanager resolves it after its resolve_timeout "
		    "unless a re-post gets through", who, clean);
		data = json_pack("{s:o, s:s, s:s, s:o}",
		    "notifier", lk_json_text(s->nf->cfg->name),
		    "type", "alertmanager", "event", "resend",
		    "reason", lk_json_text(clean));
		append(s, "notify.failed", msg, data);
		free(msg);
	}
	stream_next(s);
}

/* --- the interface ---------------------------------------------------- */

enum lk_code
notifiers_new(struct loop *loop, struct store *store, const struct config *cfg,
    struct notifiers **out, struct lk_err *err)
{
	struct notifiers *ns = lk_xcalloc(1, sizeof *ns);
	struct lk_err e = { 0 };
	bool http = false;

	*out = NULL;
	ns->loop = loop;
	ns->store = store;
	ns->n = cfg != NULL ? config_nnotify(cfg) : 0;
	ns->list = lk_xcalloc(ns->n + 1, sizeof *ns->list);
	for (size_t i = 0; i < ns->n; i++) {
		ns->list[i].owner = ns;
		ns->list[i].cfg = config_notify(cfg, i);
		http |= ns->list[i].cfg->kind != CONFIG_NOTIFY_COMMAND;
	}
	if (gethostname(ns->host, sizeof ns->host - 1) != 0)
		snprintf(ns->host, sizeof ns->host, "localhost");
	/* A watcher that cannot post should say so when it starts, not
	 * at its first incident. */
	if (http && http_pool_new(loop, &ns->http, &e) != LK_OK) {
		notifiers_free(&ns);
		return lk_fail(err, e.code, "notify: %s", e.msg);
	}
	*out = ns;
	return LK_OK;
}

/*
 * For Alertmanager, what waits in s gives way to the newest: each is
 * recorded as superseded.  The head stays if it is in flight; its answer
 * then ends it (see tried).
 */
static void
supersede(struct stream *s, const char *by)
{
	struct delivery **pp = &s->head;
	char why[480];

	if (s->busy && !s->resending && *pp != NULL)
		pp = &(*pp)->next;
	if (*pp == s->head && s->try_timer) {
		loop_del_timer(s->nf->owner->loop, s->try_timer);
		s->try_timer = 0;
	}
	while (*pp != NULL) {
		struct delivery *d = *pp;

		if (d->tries > 0)
			snprintf(why, sizeof why, "superseded by %s after %d "
			    "%s (last: %s)", by, d->tries, d->tries == 1 ?
			    "try" : "tries", d->reason);
		else
			snprintf(why, sizeof why, "superseded by %s before it "
			    "was sent", by);
		record_failed(s, d, why);
		*pp = d->next;
		delivery_free(d);
		s->nf->owner->pending--;
	}
	s->tail = NULL;
	for (struct delivery *d = s->head; d != NULL; d = d->next)
		s->tail = d;
}

static void
enqueue(struct notifier *nf, const struct notify_event *ev)
{
	const struct config_notify *c = nf->cfg;
	struct stream *s = stream_get(nf, ev->incident_id);
	struct delivery *d = lk_xcalloc(1, sizeof *d);

	snprintf(d->what, sizeof d->what, "%s", ev->what);
	d->exit_status = -1;
	d->attempts = json_array();
	if (c->kind == CONFIG_NOTIFY_ALERTMANAGER) {
		d->body = notify_alert_body(ev);
		supersede(s, d->what);
		free(s->firing);
		s->firing = notify_event_bit(ev->what) ==
		    CONFIG_NOTIFY_RESOLVED ? NULL : lk_xstrdup(d->body);
		if (s->resend_timer) {
			loop_del_timer(nf->owner->loop, s->resend_timer);
			s->resend_timer = 0;
		}
	} else {
		d->body = notify_webhook_body(ev, c->name);
		if (c->kind == CONFIG_NOTIFY_COMMAND)
			d->env = notify_command_env(ev, c->name);
	}
	if (s->tail != NULL)
		s->tail->next = d;
	else
		s->head = d;
	s->tail = d;
	nf->owner->pending++;
	stream_next(s);
}

void
notifiers_send(struct notifiers *ns, const struct notify_event *ev)
{
	unsigned bit = notify_event_bit(ev->what);
	struct notify_event e = *ev;

	if (bit == 0)
		return;
	if (e.host == NULL || *e.host == '\0')
		e.host = ns->host;
	if (bit == CONFIG_NOTIFY_RESOLVED && e.ends_at_ms <= 0)
		e.ends_at_ms = lk_now_ms();
	for (size_t i = 0; i < ns->n; i++) {
		if (e.again && ns->list[i].cfg->kind !=
		    CONFIG_NOTIFY_ALERTMANAGER)
			continue;
		if (ns->list[i].cfg->on & bit)
			enqueue(&ns->list[i], &e);
	}
}

int
notifiers_pending(const struct notifiers *ns)
{
	return ns->pending;
}

void
notifiers_free(struct notifiers **nsp)
{
	struct notifiers *ns = nsp != NULL ? *nsp : NULL;

	if (ns == NULL)
		return;
	for (size_t i = 0; i < ns->n; i++) {
		struct notifier *nf = &ns->list[i];

		while (nf->streams != NULL) {
			struct stream *s = nf->streams;

			nf->streams = s->next;
			for (struct delivery *d = s->head; d != NULL;
			    d = d->next)
				record_failed(s, d, d->tries > 0 ?
				    "lookout stopped before it got through" :
				    "lookout stopped before it was sent");
			if (s->child != NULL) {
				/* Its callback still comes, from the loop,
				 * and frees what is left. */
				child_cancel(s->child);
				stream_clear(s);
				s->nf = NULL;
				continue;
			}
			stream_free(s);
		}
	}
	http_pool_free(&ns->http);
	free(ns->list);
	free(ns);
	*nsp = NULL;
}
