/*
 * lookout status: one look at every service and queue, then exit.
 * Exit 0 when everything is healthy, 1 when anything is degraded, 2 when
 * the configuration is broken or no manager can be reached.
 */
#include "cli.h"
#include "../config/config.h"
#include "../core/loop.h"
#include "../core/util.h"

#include "../probes/probes.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char status_help[] =
"usage: lookout status [--json] [--config FILE]\n"
"\n"
"Reads every configured service (systemd unit, endpoint check, /proc) and\n"
"queue once, waiting at most for the slowest check's timeout, and prints\n"
"them as a table or, with --json, as one JSON object.  Without a\n"
"configuration it shows the manager's failed units and running services.\n"
"The last line (\"watch\" in JSON) says whether a `lookout watch` keeps\n"
"this timeline and when its last cycle ended.\n"
"Exit 0 all healthy, 1 something is failing or degraded, 2 configuration\n"
"error.\n";

/* The last heartbeat of a watcher on this timeline (ts 0: none ever). */
struct watch_seen {
	bool known;		/* the timeline could be read */
	char who[128];
	int64_t ts;
};

static void
watch_read(struct store *store, struct watch_seen *ws)
{
	struct lk_err err = { 0 };

	memset(ws, 0, sizeof *ws);
	ws->known = store != NULL && store_heartbeat_last(store, ws->who,
	    sizeof ws->who, &ws->ts, &err) == LK_OK;
}

static bool
watch_running(const struct watch_seen *ws)
{
	return ws->ts > 0 && lk_now_ms() - ws->ts < STORE_HEARTBEAT_ALIVE_MS;
}

static json_t *
flags_json(unsigned flags)
{
	const char *names[16];
	size_t n = probe_flag_names(flags, names, 16);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? lk_json_text(s) : json_null();
}

static json_t *
num_or_null(double v)
{
	return v >= 0 ? json_real(v) : json_null();
}

static json_t *
int_or_null(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

/* Writes v to stdout, compact. */
static void
write_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Writes v to stdout, compact, and drops it. */
static void
put_json(json_t *v)
{
	write_json(v);
	json_decref(v);
}

/*
 * One JSON object, written a service and a queue at a time: the whole
 * document as one jansson tree would take about as much memory as all the
 * probes' state together, only to be freed a moment later.  One object is
 * refilled for every service (every queue): setting a key that is there
 * replaces its value in place, which spares building and freeing a hash
 * table per line of a thousand-service status.  Every value is set on
 * every turn, and lk_json_text() never fails on text that is not UTF-8, so
 * nothing of one service can show in the next.
 */
static void
print_json(const struct probes *p, const struct watch_seen *ws)
{
	char iso[LK_ISO_LEN];
	json_t *o;

	lk_iso8601(lk_now_ms(), iso);
	fputs("{\"generated_at\":", stdout);
	put_json(json_string(iso));
	fputs(",\"services\":[", stdout);
	o = json_object();
	for (size_t i = 0; i < probes_service_count(p); i++) {
		const struct probe_service *s = probes_service(p, i);

		json_object_set_new(o, "name", lk_json_text(s->name));
		json_object_set_new(o, "unit", lk_json_text(s->unit));
		json_object_set_new(o, "scope", lk_json_text(s->scope));
		json_object_set_new(o, "host", s->host != NULL ?
		    lk_json_text(s->host) : json_null());
		json_object_set_new(o, "load", str_or_null(s->load));
		json_object_set_new(o, "active", str_or_null(s->active));
		json_object_set_new(o, "sub", str_or_null(s->sub));
		json_object_set_new(o, "enabled", str_or_null(s->enabled));
		json_object_set_new(o, "main_pid", s->main_pid > 0 ?
		    json_integer(s->main_pid) : json_null());
		json_object_set_new(o, "restarts", json_integer(s->restarts));
		json_object_set_new(o, "since", lk_json_time(s->since_ms));
		json_object_set_new(o, "health", json_string(
		    probe_health_name(s->health)));
		json_object_set_new(o, "reason", str_or_null(s->reason));
		json_object_set_new(o, "latency_ms", num_or_null(s->latency_ms));
		json_object_set_new(o, "flags", flags_json(s->flags));
		if (i > 0)
			fputc(',', stdout);
		write_json(o);
	}
	json_decref(o);
	fputs("],\"queues\":[", stdout);
	o = json_object();
	for (size_t i = 0; i < probes_queue_count(p); i++) {
		const struct probe_queue *q = probes_queue(p, i);

		json_object_set_new(o, "name", lk_json_text(q->name));
		json_object_set_new(o, "source", lk_json_text(q->source));
		json_object_set_new(o, "host", q->host != NULL ?
		    lk_json_text(q->host) : json_null());
		json_object_set_new(o, "depth", int_or_null(q->depth));
		json_object_set_new(o, "consumers", int_or_null(q->consumers));
		json_object_set_new(o, "ready", int_or_null(q->ready));
		json_object_set_new(o, "unacked", int_or_null(q->unacked));
		json_object_set_new(o, "rate_in_per_min",
		    num_or_null(q->rate_in_per_min));
		json_object_set_new(o, "rate_out_per_min",
		    num_or_null(q->rate_out_per_min));
		json_object_set_new(o, "drain_minutes",
		    num_or_null(q->drain_minutes));
		json_object_set_new(o, "state", json_string(
		    probe_queue_state_name(q->state)));
		json_object_set_new(o, "reason", str_or_null(q->reason));
		json_object_set_new(o, "flags", flags_json(q->flags));
		if (i > 0)
			fputc(',', stdout);
		write_json(o);
	}
	json_decref(o);
	fputc(']', stdout);
	fputs(",\"watch\":", stdout);
	if (ws->known && ws->ts > 0) {
		o = json_object();
		json_object_set_new(o, "running", json_boolean(
		    watch_running(ws)));
		json_object_set_new(o, "who", lk_json_text(ws->who));
		json_object_set_new(o, "last_cycle", lk_json_time(ws->ts));
		put_json(o);
	} else {
		/* null: no watcher ever kept this timeline (or it could not
		 * be read). */
		fputs("null", stdout);
	}
	if (probes_error(p) != NULL) {
		fputs(",\"error\":", stdout);
		put_json(lk_json_text(probes_error(p)));
	}
	fputs("}\n", stdout);
}

/* --- the table ------------------------------------------------------------ */

/*
 * The table is read in an 80-column terminal over SSH, so no line of it is
 * wider than TABLE_WIDTH.  Each value starts in its column; one pushed
 * along by a long neighbour follows it after a space, and a value that no
 * longer fits goes on the next line, in its own column.  A row's reason,
 * what the engineer acts on, has lines of its own under the row, wrapped
 * between words and never cut.  Text is escaped before it is measured, and
 * measured in bytes: UTF-8 never takes more columns than bytes.
 */
#define TABLE_WIDTH	80
#define REASON_INDENT	4	/* so that the rows still stand out */

struct col {
	const char *head;
	size_t width;
	bool right;		/* a number, aligned right in its column */
	const char *breaks;	/* where a long value may wrap, after the
				 * character; NULL: it moves whole */
};

static const struct col service_cols[] = {
	{ "SERVICE", 20, false, NULL }, { "ACTIVE/SUB", 16, false, NULL },
	{ "ENABLED", 9, false, NULL }, { "HEALTH", 7, false, NULL },
	{ "SINCE", 8, false, NULL }, { "FLAGS", 0, false, "," },
};
#define SERVICE_NCOLS (sizeof service_cols / sizeof service_cols[0])

static const struct col queue_cols[] = {
	{ "QUEUE", 20, false, NULL }, { "SOURCE", 8, false, NULL },
	{ "DEPTH", 8, true, NULL }, { "CONSUMERS", 9, true, NULL },
	{ "IN/MIN", 7, true, NULL }, { "OUT/MIN", 7, true, NULL },
	{ "STATE", 0, false, NULL },
};
#define QUEUE_NCOLS (sizeof queue_cols / sizeof queue_cols[0])

struct table {
	struct lk_buf line;	/* the line being written */
	struct lk_buf text;	/* a value, escaped */
};

static void
table_newline(struct table *t)
{
	while (t->line.len > 0 && t->line.s[t->line.len - 1] == ' ')
		t->line.len--;
	if (t->line.len > 0)
		fwrite(t->line.s, 1, t->line.len, stdout);
	fputc('\n', stdout);
	lk_buf_reset(&t->line);
}

static void
table_pad(struct table *t, size_t col)
{
	while (t->line.len < col)
		lk_buf_addc(&t->line, ' ');
}

/*
 * Writes t->text from column at: after the line's last value, one space
 * apart, or on the next line if it does not fit.  It wraps after any of
 * breaks (the spaces after a break stay at the end of the line, and are
 * trimmed there), and a piece wider than the room from at is split
 * between two characters rather than cut.
 */
static void
table_put(struct table *t, size_t at, const char *breaks)
{
	const char *p = t->text.s ? t->text.s : "";
	bool first = true;

	while (*p != '\0') {
		size_t len = breaks ? strcspn(p, breaks) : strlen(p);
		size_t vis, col;

		if (p[len] != '\0')
			len++;
		while (p[len] == ' ')
			len++;
		for (vis = len; vis > 0 && p[vis - 1] == ' '; vis--)
			;
		col = !first ? t->line.len : t->line.len == 0 ? at :
		    t->line.len + 1 > at ? t->line.len + 1 : at;
		if (col + vis > TABLE_WIDTH && t->line.len > 0) {
			table_newline(t);
			col = at;
		}
		while (col + vis > TABLE_WIDTH) {
			size_t k = TABLE_WIDTH - col;

			/* Never between the bytes of one character. */
			while (k > 0 && ((unsigned char)p[k] & 0xc0) == 0x80)
				k--;
			table_pad(t, col);
			lk_buf_add(&t->line, p, k);
			table_newline(t);
			p += k;
			len -= k;
			vis -= k;
			col = at;
		}
		table_pad(t, col);
		lk_buf_add(&t->line, p, len);
		p += len;
		first = false;
	}
}

/*
 * On a terminal a cell is measured as it will show, escaped (the terminal
 * stream of cmd/term.c escapes it all the same, and "^[" passes it as it
 * is); into a pipe or a file it keeps its bytes, as every command's output
 * does.
 */
static void
table_set(struct table *t, const char *s)
{
	lk_buf_reset(&t->text);
	if (isatty(STDOUT_FILENO))
		lk_buf_add_term(&t->text, s, strlen(s), true);
	else
		lk_buf_adds(&t->text, s);
}

/* One line of cells (more where a value wraps), one per column; without
 * cells, the headings. */
static void
table_row(struct table *t, const struct col *cols, size_t ncols,
    const char *const *cells)
{
	size_t at = 0;

	for (size_t i = 0; i < ncols; i++) {
		table_set(t, cells != NULL ? cells[i] : cols[i].head);
		table_put(t, cols[i].right && t->text.len < cols[i].width ?
		    at + cols[i].width - t->text.len : at, cols[i].breaks);
		at += cols[i].width + 1;
		/* A name too long for its column has its own line, as df(1)
		 * does with a long device: the row stays in its columns. */
		if (i == 0 && t->line.len > cols[0].width)
			table_newline(t);
	}
	table_newline(t);
}

/* The reason on lines of its own under its row, when there is one. */
static void
table_reason(struct table *t, const char *reason)
{
	if (*reason == '\0')
		return;
	table_set(t, reason);
	table_put(t, REASON_INDENT, " ");
	table_newline(t);
}

/*
 * Rows go by host: this machine's first, then each other host's under a
 * line that names it, each host in the order the configuration first
 * names it.  order[] receives the indexes so; returns how many.
 */
static size_t
by_host(const char *const *hosts, size_t n, size_t *order)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (hosts[i] == NULL)
			order[k++] = i;
	for (size_t i = 0; i < n; i++) {
		bool first = hosts[i] != NULL;

		for (size_t j = 0; first && j < i; j++)
			first = hosts[j] == NULL || strcmp(hosts[j],
			    hosts[i]) != 0;
		for (size_t j = i; first && j < n; j++)
			if (hosts[j] != NULL && strcmp(hosts[j], hosts[i]) == 0)
				order[k++] = j;
	}
	return k;
}

/* "on HOST:" when row i starts another host's rows. */
static void
table_host(struct table *t, const char *const *hosts, const size_t *order,
    size_t i)
{
	const char *h = hosts[order[i]];

	if (h == NULL || (i > 0 && hosts[order[i - 1]] != NULL &&
	    strcmp(hosts[order[i - 1]], h) == 0))
		return;
	table_set(t, h);
	printf("on %s:\n", t->text.s);
}

/* One line: whether a watcher keeps this timeline. */
static void
print_watch(const struct watch_seen *ws)
{
	char age[32];

	if (!ws->known)
		return;
	if (ws->ts == 0) {
		puts("watch: none on this timeline (see lookout watch)");
		return;
	}
	lk_fmt_duration(lk_now_ms() - ws->ts, age, sizeof age);
	fputs(watch_running(ws) ? "watch: running, " : "watch: STOPPED, ",
	    stdout);
	cli_print_text(stdout, ws->who);
	printf(" ended its last cycle %s ago\n", age);
}

static void
print_table(const struct probes *p, const struct watch_seen *ws)
{
	size_t ns = probes_service_count(p), nq = probes_queue_count(p);
	struct table t = { { 0 }, { 0 } };
	const char **hosts = lk_xcalloc(ns + nq + 1, sizeof *hosts);
	size_t *order = lk_xcalloc(ns + nq + 1, sizeof *order);

	for (size_t i = 0; i < ns; i++)
		hosts[i] = probes_service(p, i)->host;
	by_host(hosts, ns, order);
	if (ns > 0)
		table_row(&t, service_cols, SERVICE_NCOLS, NULL);
	for (size_t k = 0; k < ns; k++) {
		size_t i = order[k];
		const struct probe_service *s = probes_service(p, i);
		char since[32] = "-", state[64], flags[256];

		table_host(&t, hosts, order, k);

		snprintf(state, sizeof state, "%s/%s",
		    s->active[0] ? s->active : "?", s->sub[0] ? s->sub : "?");
		/* How long it has been in that state: "failed 9h 2m". */
		if (s->since_ms > 0)
			lk_fmt_duration(lk_now_ms() - s->since_ms, since,
			    sizeof since);
		probe_flags_join(s->flags, flags, sizeof flags);
		table_row(&t, service_cols, SERVICE_NCOLS, (const char *[]){
		    s->name, state, s->enabled[0] ? s->enabled : "-",
		    probe_health_name(s->health), since, flags });
		table_reason(&t, s->reason);
	}
	if (ns > 0 && nq > 0)
		fputc('\n', stdout);
	if (nq > 0)
		table_row(&t, queue_cols, QUEUE_NCOLS, NULL);
	for (size_t i = 0; i < nq; i++)
		hosts[i] = probes_queue(p, i)->host;
	by_host(hosts, nq, order);
	for (size_t k = 0; k < nq; k++) {
		size_t i = order[k];
		const struct probe_queue *q = probes_queue(p, i);
		char depth[24] = "?", cons[24] = "-", in[24] = "-", out[24] = "-";

		table_host(&t, hosts, order, k);

		if (q->depth >= 0)
			snprintf(depth, sizeof depth, "%lld",
			    (long long)q->depth);
		if (q->consumers >= 0)
			snprintf(cons, sizeof cons, "%lld",
			    (long long)q->consumers);
		if (q->rate_in_per_min >= 0)
			snprintf(in, sizeof in, "%.1f", q->rate_in_per_min);
		if (q->rate_out_per_min >= 0)
			snprintf(out, sizeof out, "%.1f", q->rate_out_per_min);
		table_row(&t, queue_cols, QUEUE_NCOLS, (const char *[]){
		    q->name, q->source, depth, cons, in, out,
		    probe_queue_state_name(q->state) });
		table_reason(&t, q->reason);
	}
	if (ns + nq == 0)
		puts("nothing to show: no configured services or queues, and "
		    "no failed units or running services");
	if (probes_error(p) != NULL)
		printf("\nwarning: %s\n", probes_error(p));
	if (ws->known)
		fputc('\n', stdout);
	print_watch(ws);
	lk_buf_free(&t.line);
	lk_buf_free(&t.text);
	free(hosts);
	free(order);
}

static int
cmd_status(struct cli *cli, int argc, char **argv)
{
	struct config *cfg = NULL;
	struct probes *p = NULL;
	struct loop *loop = NULL;
	struct store *store = NULL;
	struct lk_err err = { 0 }, serr = { 0 };
	struct watch_seen ws;
	long long deadline;
	bool json;
	int rc;

	if ((rc = cli_json_only("status", argc, argv, status_help, &json)) >= 0)
		return rc;
	if ((rc = cli_load_config(cli, &cfg)) >= 0)
		return rc;
	/* The timeline keeps the history (samples) that tells "stalled for
	 * 5 minutes" from "just filled up"; status works without it. */
	if (cli_open_store(cli, &store, &serr) != LK_OK)
		fprintf(stderr, "lookout: warning: no history: %s\n", serr.msg);
	loop = loop_new();
	if (probes_new(loop, cfg, store, &p, &err) != LK_OK) {
		rc = cli_error(&err);
		goto done;
	}
	probes_start(p);
	/* Wait for every answer, but never longer than the slowest check may
	 * take: a hung endpoint must not hang `status`. */
	deadline = loop_now_ms() + probes_max_wait_ms(p) + 250;
	while (loop_now_ms() < deadline) {
		loop_run_once(loop, deadline - loop_now_ms());
		if (probes_settled(p))
			break;
	}
	/* One more pass lets a reply that arrived with the last one land. */
	loop_run_once(loop, 0);
	watch_read(store, &ws);
	if (json)
		print_json(p, &ws);
	else
		print_table(p, &ws);
	probes_record_now(p);
	rc = 0;
	for (size_t i = 0; i < probes_service_count(p); i++)
		if (probe_service_degraded(probes_service(p, i)))
			rc = 1;
	for (size_t i = 0; i < probes_queue_count(p); i++)
		if (probe_queue_degraded(probes_queue(p, i)))
			rc = 1;
	/* A manager that does not answer hides what it manages. */
	if (!probes_answered(p))
		rc = 1;
done:
	probes_free(&p);
	store_close(&store);
	loop_free(&loop);
	config_free(&cfg);
	return rc;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.group = CMD_GROUP_CONFIG,
	.usage = "status [--json]",
	.summary = "one-shot state of services and queues; exit 0 healthy,\n"
	    "1 degraded, 2 configuration error",
	.help = status_help,
	.exec = cmd_status,
};
