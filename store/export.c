/*
 * export: an incident as a postmortem (Markdown shaped like our RCAs),
 * as full-fidelity JSON, or as RFC 4180 CSV.
 *
 * Every format streams the events straight from the database to the output,
 * so a 100,000-event incident costs one pass and constant memory.
 */
#include "private.h"
#include "../core/trust.h"
#include "../core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum lk_code
store_format_parse(const char *name, enum store_format *f, struct lk_err *err)
{
	if (strcmp(name, "md") == 0 || strcmp(name, "markdown") == 0)
		*f = STORE_MD;
	else if (strcmp(name, "json") == 0)
		*f = STORE_JSON;
	else if (strcmp(name, "csv") == 0)
		*f = STORE_CSV;
	else
		return lk_fail(err, LK_EUSAGE, "export format \"%s\" is not one "
		    "of md, json, csv", name);
	return LK_OK;
}

/* --- Markdown ------------------------------------------------------------ */

/*
 * Text inside a table cell: pipes are escaped, line breaks and tabs become
 * spaces, other control characters and '<' (raw HTML) are neutralised, so
 * no event text can break the table or inject markup.
 */
static void
md_celln(FILE *out, const char *s, size_t n)
{
	for (const char *end = s + (s != NULL ? n : 0); s != NULL && s < end &&
	    *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '|')
			fputs("\\|", out);
		else if (c == '\\')
			fputs("\\\\", out);
		else if (c == '<')
			fputs("&lt;", out);
		else if (c == '\n' || c == '\r' || c == '\t')
			fputc(' ', out);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', out);
		else
			fputc(c, out);
	}
}

static void
md_cell(FILE *out, const char *s)
{
	md_celln(out, s, s != NULL ? strlen(s) : 0);
}

/* A double-quoted YAML scalar. */
static void
yaml_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* One line of plain text: control characters become spaces. */
static void
md_line(FILE *out, const char *s)
{
	for (; s != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;

		fputc(c < 0x20 || c == 0x7f ? ' ' : c, out);
	}
}

static void
fmt_day(int64_t ms, char out[16])
{
	char iso[LK_ISO_LEN];

	lk_iso8601(ms, iso);
	memcpy(out, iso, 10);
	out[10] = '\0';
}

/* "HH:MM:SS", with the date in front when it is not the incident's day. */
static void
fmt_when(int64_t ms, const char *day, char out[32])
{
	char iso[LK_ISO_LEN];

	lk_iso8601(ms, iso);
	if (strncmp(iso, day, 10) == 0)
		snprintf(out, 32, "%.8s", iso + 11);
	else
		snprintf(out, 32, "%.10s %.8s", iso, iso + 11);
}

static void
fmt_minutes(int64_t ms, char out[32])
{
	int64_t min = (ms + 30000) / 60000;

	if (ms < 60000)
		snprintf(out, 32, "%lld s", (long long)(ms / 1000));
	else if (min < 120)
		snprintf(out, 32, "%lld min", (long long)min);
	else
		snprintf(out, 32, "%lld h %02lld min", (long long)min / 60,
		    (long long)min % 60);
}

static int64_t
incident_end(const struct store_incident *inc)
{
	for (int m = STORE_RESOLVED; m >= STORE_MITIGATED; m--)
		if (inc->milestones[m])
			return inc->milestones[m];
	if (inc->milestones[STORE_CLOSED])
		return inc->milestones[STORE_CLOSED];
	return 0;
}

struct md_ctx {
	FILE *out;
	const char *day;
	int64_t rows;
	int64_t events;
	int64_t evidence;
	char head[STORE_HASH_HEX];
};

static void
md_actor(FILE *out, const struct store_event *ev)
{
	md_cell(out, ev->actor_user);
	if (ev->actor_from != NULL) {
		fputs(" from ", out);
		md_cell(out, ev->actor_from);
	}
}

/* The other host the event's data names (a step that acted there, a
 * service that runs there), or NULL; the caller frees it. */
static char *
event_host(const struct store_event *ev)
{
	json_t *d = ev->data ? json_loads(ev->data, 0, NULL) : NULL;
	const char *host = json_string_value(json_object_get(d, "host"));
	char *copy = host ? lk_xstrdup(host) : NULL;

	json_decref(d);
	return copy;
}

/* The event's subject between quote, and " on HOST" for another host. */
static void
md_subject(FILE *out, const struct store_event *ev, const char *quote)
{
	char *host = event_host(ev);

	fputs(quote, out);
	md_cell(out, ev->subject);
	fputs(quote, out);
	if (host != NULL) {
		fputs(" on ", out);
		md_cell(out, host);
	}
	free(host);
}

/* Writes a table row for the events a postmortem reader cares about. */
static int
md_event(const struct store_event *ev, void *arg)
{
	struct md_ctx *c = arg;
	FILE *out = c->out;
	const char *k = ev->kind;
	char when[32];

	c->events++;
	snprintf(c->head, sizeof c->head, "%s", ev->hash);
	fmt_when(ev->ts_ms, c->day, when);

	if (strcmp(k, "incident.opened") == 0) {
		fprintf(out, "| %s | Incident opened by ", when);
		md_actor(out, ev);
		fputs(": ", out);
		md_cell(out, ev->message);
	} else if (strcmp(k, "incident.note") == 0) {
		fprintf(out, "| %s | Note (", when);
		md_actor(out, ev);
		fputs("): ", out);
		md_cell(out, ev->message);
	} else if (strcmp(k, "incident.milestone") == 0) {
		fprintf(out, "| %s | **", when);
		md_cell(out, ev->subject);
		fputs("** by ", out);
		md_actor(out, ev);
		if (ev->message != NULL) {
			fputs(": ", out);
			md_cell(out, ev->message);
		}
	} else if (strcmp(k, "incident.evidence") == 0) {
		/* Its first line here, the whole of it under Evidence. */
		size_t first = ev->message ? strcspn(ev->message, "\n") : 0;

		c->evidence++;
		fprintf(out, "| %s | Evidence (", when);
		md_actor(out, ev);
		fputs("): ", out);
		md_subject(out, ev, "");
		fputs(": ", out);
		md_celln(out, ev->message, first);
		if (ev->message != NULL && ev->message[first] != '\0')
			fputs(" (below, under Evidence)", out);
	} else if (strcmp(k, "state.change") == 0) {
		fprintf(out, "| %s | ", when);
		md_subject(out, ev, "");
		fputs(": ", out);
		md_cell(out, ev->message);
	} else if (strcmp(k, "run.started") == 0 ||
	    strcmp(k, "run.finished") == 0 ||
	    strcmp(k, "run.interrupted") == 0) {
		fprintf(out, "| %s | Runbook `", when);
		md_cell(out, ev->subject);
		fprintf(out, "` (run %lld) %s", (long long)ev->run_id,
		    k[4] == 's' ? "started" : k[4] == 'f' ? "finished" :
		    "interrupted");
		if (ev->message != NULL) {
			fputs(": ", out);
			md_cell(out, ev->message);
		}
	} else if (strcmp(k, "notify.sent") == 0 ||
	    strcmp(k, "notify.failed") == 0) {
		/* When the team was told (the postmortem's "paged at"), and
		 * when it could not be. */
		fprintf(out, "| %s | %s", when, k[7] == 's' ? "Notified: " :
		    "**Notification failed**: ");
		md_cell(out, ev->message);
	} else if (strcmp(k, "step.finished") == 0) {
		fprintf(out, "| %s | Step ", when);
		md_subject(out, ev, "\"");
		fputs(": ", out);
		md_cell(out, ev->message);
	} else {
		return 0;
	}
	fputs(" |\n", out);
	c->rows++;
	return 0;
}

/*
 * What the watcher (or a person) kept as evidence, whole: the failing
 * checks, the journal lines of the unit.  An indented code block, which
 * no text inside it can close or turn into markup; control characters
 * become spaces.
 */
static int
md_evidence(const struct store_event *ev, void *arg)
{
	struct md_ctx *c = arg;
	const char *p = ev->message;
	char when[32], *host;

	if (strcmp(ev->kind, "incident.evidence") != 0 || p == NULL)
		return 0;
	fmt_when(ev->ts_ms, c->day, when);
	fprintf(c->out, "### %s ", when);
	md_line(c->out, ev->subject);
	if ((host = event_host(ev)) != NULL) {
		fputs(" on ", c->out);
		md_line(c->out, host);
		free(host);
	}
	fputs("\n\n", c->out);
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		fputs("    ", c->out);
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)p[i];

			fputc(ch < 0x20 || ch == 0x7f ? ' ' : ch, c->out);
		}
		fputc('\n', c->out);
		p += n + (p[n] == '\n');
	}
	fputc('\n', c->out);
	return 0;
}

static const char *const milestone_titles[] = {
	"Detected", "Acknowledged", "Mitigated", "Resolved", "Closed"
};

/*
 * Whether a probe sample says something was wrong: a service not active
 * (or failing its endpoint check), a queue not ok.
 */
static bool
sample_bad(const char *kind, const char *state)
{
	if (state == NULL)
		return false;
	if (strcmp(kind, "queue") == 0)
		return strcmp(state, "ok") != 0 && strcmp(state, "unknown") != 0;
	return strncmp(state, "active/", 7) != 0 ||
	    strstr(state, " failing") != NULL;
}

/*
 * When did the impact start?  Walking back from detection through the
 * probes' samples of the incident's services, the start of the unbroken
 * run of bad samples that reaches detection.  0 when the samples do not
 * say (no samples, or all fine when detected).
 */
static int64_t
impact_start(struct store *s, const struct store_incident *inc,
    const char **which)
{
	sqlite3_stmt *st = s->st_sample_before;
	int64_t detected = inc->milestones[STORE_DETECTED], best = 0;

	*which = NULL;
	for (size_t i = 0; i < inc->nservices; i++) {
		int64_t first = 0;

		sqlite3_bind_text(st, 1, inc->services[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, detected);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *kind = (const char *)sqlite3_column_text(st,
			    1);
			const char *state = (const char *)sqlite3_column_text(st,
			    2);

			if (!sample_bad(kind, state))
				break;
			first = sqlite3_column_int64(st, 0);
		}
		sqlite3_reset(st);
		if (first != 0 && (best == 0 || first < best)) {
			best = first;
			*which = inc->services[i];
		}
	}
	return best;
}

static void
md_detection(struct store *s, FILE *out, const struct store_incident *inc)
{
	static const char *const labels[] = {
		NULL, "Time to acknowledge", "Time to mitigate",
		"Time to resolve", "Time to close"
	};
	int64_t t0 = inc->milestones[STORE_DETECTED];
	char buf[32];

	fputs("## Detection\n", out);
	fputs("| Milestone | Time (UTC) | Since detection |\n", out);
	fputs("|-----------|------------|-----------------|\n", out);
	for (int m = 0; m < STORE_MILESTONES; m++) {
		char iso[LK_ISO_LEN];

		if (inc->milestones[m] == 0) {
			fprintf(out, "| %s | not reached | |\n",
			    milestone_titles[m]);
			continue;
		}
		lk_iso8601(inc->milestones[m], iso);
		fmt_minutes(inc->milestones[m] - t0, buf);
		fprintf(out, "| %s | %.10s %.8s%s | %s |\n", milestone_titles[m],
		    iso, iso + 11, inc->inferred[m] ? " (inferred)" : "",
		    m == 0 ? "" : buf);
	}
	fputc('\n', out);
	for (int m = 1; m < STORE_MILESTONES; m++) {
		if (inc->milestones[m] == 0)
			continue;
		fmt_minutes(inc->milestones[m] - t0, buf);
		fprintf(out, "- %s: %s\n", labels[m], buf);
	}
	{
		const char *which;
		int64_t start = impact_start(s, inc, &which);
		char iso[LK_ISO_LEN];

		if (start != 0) {
			lk_iso8601(start, iso);
			fmt_minutes(t0 - start, buf);
			fprintf(out, "- Time to detect: %s (the probes first "
			    "saw ", buf);
			md_line(out, which);
			fprintf(out, " failing at %.10s %.8s UTC)\n", iso,
			    iso + 11);
		} else {
			fputs("- Time to detect: _when did the impact start? "
			    "The probes' samples do not say._\n", out);
		}
	}
}

static enum lk_code
md_resolution(struct store *s, FILE *out, int64_t id, struct lk_err *err)
{
	sqlite3_stmt *st = s->st_runs_incident;
	int n = 0, rc;

	fputs("## Resolution\n", out);
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 5);
		char iso[LK_ISO_LEN];

		lk_iso8601(sqlite3_column_int64(st, 6), iso);
		fprintf(out, "%d. Runbook `", ++n);
		md_line(out, (const char *)sqlite3_column_text(st, 1));
		fprintf(out, "` (run %lld%s) at %.8s UTC by ",
		    (long long)sqlite3_column_int64(st, 0),
		    sqlite3_column_int(st, 4) ? ", dry run" : "", iso + 11);
		md_line(out, (const char *)sqlite3_column_text(st, 8));
		fputs(": ", out);
		md_line(out, status);
		fputc('\n', out);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "read timeline");
	if (n == 0)
		fputs("_No runbook was run from lookout for this incident: "
		    "list what was done to recover._\n", out);
	fputc('\n', out);
	return LK_OK;
}

static enum lk_code
export_md(struct store *s, const struct store_incident *inc, FILE *out,
    struct lk_err *err)
{
	struct md_ctx c = { .out = out };
	char day[16], buf[32], iso[LK_ISO_LEN];
	int64_t end = incident_end(inc);
	int64_t dur = (end ? end : lk_now_ms()) - inc->opened_at;

	fmt_day(inc->opened_at, day);
	c.day = day;

	fputs("---\ntitle: ", out);
	yaml_str(out, inc->title);
	fprintf(out, "\ndate: %s\nseverity: %s\nservices: [", day,
	    inc->severity);
	for (size_t i = 0; i < inc->nservices; i++) {
		if (i)
			fputs(", ", out);
		yaml_str(out, inc->services[i]);
	}
	fprintf(out, "]\ntags: [incident, p%c]\nstatus: %s\n"
	    "duration_minutes: %lld\nincident_id: %lld\n---\n",
	    inc->severity[1], inc->status, (long long)(dur + 30000) / 60000,
	    (long long)inc->id);

	fprintf(out, "# %s - ", day);
	md_line(out, inc->title);
	fputs("\n## Summary\n", out);
	lk_iso8601(inc->opened_at, iso);
	fprintf(out, "Incident %lld (%s) was opened at %.8s UTC on %s by ",
	    (long long)inc->id, inc->severity, iso + 11, day);
	md_line(out, inc->opened_by);
	fmt_minutes(dur, buf);
	if (end)
		fprintf(out, " and %s after %s. ", inc->status, buf);
	else
		fprintf(out, " and is still %s after %s. ", inc->status, buf);
	if (inc->nservices) {
		fputs("Affected services: ", out);
		for (size_t i = 0; i < inc->nservices; i++) {
			if (i)
				fputs(", ", out);
			md_line(out, inc->services[i]);
		}
		fputs(".", out);
	}
	fputs("\n\n_What happened, in two sentences, for someone who was not "
	    "there._\n", out);

	fputs("## Timeline\n| Time (UTC) | Event |\n|------------|-------|\n",
	    out);
	if (store_event_foreach(s, inc->id, md_event, &c, err) != LK_OK)
		return err->code;
	fputc('\n', out);
	if (c.evidence > 0) {
		fputs("## Evidence\n", out);
		if (store_event_foreach(s, inc->id, md_evidence, &c, err) !=
		    LK_OK)
			return err->code;
	}

	md_detection(s, out, inc);
	fputs("\n## Root Cause\n_What caused it, and why it was possible: "
	    "the contributing factors._\n\n", out);
	fputs("## Impact\n_Who or what was affected, for how long, and how "
	    "badly (errors, latency, messages delayed)._\n", out);
	fputs("### Affected Services\n", out);
	for (size_t i = 0; i < inc->nservices; i++) {
		fputs("- ", out);
		md_line(out, inc->services[i]);
		fputc('\n', out);
	}
	if (inc->nservices == 0)
		fputs("_None recorded._\n", out);
	fputc('\n', out);
	if (md_resolution(s, out, inc->id, err) != LK_OK)
		return err->code;
	fputs("## Lessons Learned\n### What Went Well\n_..._\n"
	    "### What Could Be Improved\n_..._\n\n", out);
	fputs("## Action Items\n| Priority | Action | Owner | Due Date |\n"
	    "|----------|--------|-------|----------|\n"
	    "| | _what will stop this happening again_ | | |\n\n", out);
	lk_iso8601(lk_now_ms(), iso);
	fprintf(out, "---\n*Exported by lookout at %s from %lld timeline "
	    "events (%lld shown); last event hash `%s`.*\n", iso,
	    (long long)c.events, (long long)c.rows, c.head);
	return LK_OK;
}

/* --- JSON ---------------------------------------------------------------- */

/* The event object of DESIGN.md; also used by `run --json`. */
static json_t *
event_json(const struct store_event *ev)
{
	json_t *o = json_object();
	json_t *actor = json_object();
	json_t *data = NULL;

	json_object_set_new(actor, "user", lk_json_text(ev->actor_user));
	json_object_set_new(actor, "from", lk_json_text(ev->actor_from));
	json_object_set_new(actor, "tty", lk_json_text(ev->actor_tty));
	if (ev->data != NULL)
		data = json_loads(ev->data, JSON_DECODE_ANY, NULL);
	json_object_set_new(o, "seq", json_integer(ev->seq));
	json_object_set_new(o, "ts", lk_json_time(ev->ts_ms));
	json_object_set_new(o, "incident_id", ev->incident_id ?
	    json_integer(ev->incident_id) : json_null());
	json_object_set_new(o, "run_id", ev->run_id ?
	    json_integer(ev->run_id) : json_null());
	json_object_set_new(o, "actor", actor);
	json_object_set_new(o, "kind", lk_json_text(ev->kind));
	json_object_set_new(o, "subject", lk_json_text(ev->subject));
	json_object_set_new(o, "message", lk_json_text(ev->message));
	json_object_set_new(o, "data", data ? data : json_null());
	json_object_set_new(o, "prev_hash", lk_json_text(ev->prev_hash));
	json_object_set_new(o, "hash", lk_json_text(ev->hash));
	return o;
}

void
store_event_write_json(const struct store_event *ev, FILE *out)
{
	json_t *o = event_json(ev);

	json_dumpf(o, out, JSON_COMPACT | JSON_ENSURE_ASCII);
	fputc('\n', out);
	json_decref(o);
}

struct json_ctx {
	FILE *out;
	int64_t n;
};

static int
json_event(const struct store_event *ev, void *arg)
{
	struct json_ctx *c = arg;
	json_t *o = event_json(ev);

	fputs(c->n++ ? ",\n  " : "\n  ", c->out);
	json_dumpf(o, c->out, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	return 0;
}

static json_t *
incident_json(const struct store_incident *inc)
{
	json_t *o = json_object();
	json_t *svcs = json_array();
	json_t *ms = json_object();

	for (size_t i = 0; i < inc->nservices; i++)
		json_array_append_new(svcs, lk_json_text(inc->services[i]));
	json_t *inferred = json_array();

	for (int m = 0; m < STORE_MILESTONES; m++) {
		json_object_set_new(ms, store_milestone_name(m),
		    lk_json_time(inc->milestones[m]));
		if (inc->milestones[m] != 0 && inc->inferred[m])
			json_array_append_new(inferred, json_string(
			    store_milestone_name(m)));
	}
	json_object_set_new(o, "id", json_integer(inc->id));
	json_object_set_new(o, "title", lk_json_text(inc->title));
	json_object_set_new(o, "severity", json_string(inc->severity));
	json_object_set_new(o, "status", json_string(inc->status));
	json_object_set_new(o, "opened_at", lk_json_time(inc->opened_at));
	json_object_set_new(o, "opened_by", lk_json_text(inc->opened_by));
	json_object_set_new(o, "services", svcs);
	json_object_set_new(o, "milestones", ms);
	/* Those a watcher inferred rather than a person set. */
	json_object_set_new(o, "inferred", inferred);
	return o;
}

static enum lk_code
export_json(struct store *s, const struct store_incident *inc, FILE *out,
    struct lk_err *err)
{
	sqlite3_stmt *st = s->st_runs_incident;
	struct json_ctx c = { .out = out };
	json_t *j = incident_json(inc);
	int rc, n = 0;

	fputs("{\"incident\": ", out);
	json_dumpf(j, out, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	fputs(",\n \"events\": [", out);
	if (store_event_foreach(s, inc->id, json_event, &c, err) != LK_OK)
		return err->code;
	fputs("],\n \"runs\": [", out);
	sqlite3_bind_int64(st, 1, inc->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *r = json_object();
		const char *params = (const char *)sqlite3_column_text(st, 3);
		json_t *pj = params ? json_loads(params, 0, NULL) : NULL;

		json_object_set_new(r, "id", json_integer(
		    sqlite3_column_int64(st, 0)));
		json_object_set_new(r, "runbook", lk_json_text(
		    (const char *)sqlite3_column_text(st, 1)));
		json_object_set_new(r, "source_sha256", lk_json_text(
		    (const char *)sqlite3_column_text(st, 2)));
		json_object_set_new(r, "params", pj ? pj : json_object());
		json_object_set_new(r, "dry_run", json_boolean(
		    sqlite3_column_int(st, 4)));
		json_object_set_new(r, "status", lk_json_text(
		    (const char *)sqlite3_column_text(st, 5)));
		json_object_set_new(r, "started_at", lk_json_time(
		    sqlite3_column_int64(st, 6)));
		json_object_set_new(r, "finished_at", lk_json_time(
		    sqlite3_column_int64(st, 7)));
		json_object_set_new(r, "actor", lk_json_text(
		    (const char *)sqlite3_column_text(st, 8)));
		fputs(n++ ? ",\n  " : "\n  ", out);
		json_dumpf(r, out, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(r);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "read timeline");
	fputs("]}\n", out);
	return LK_OK;
}

/* --- CSV (RFC 4180) ------------------------------------------------------ */

static void
csv_field(FILE *out, const char *s, bool last)
{
	if (s != NULL) {
		if (strpbrk(s, ",\"\r\n") != NULL) {
			fputc('"', out);
			for (; *s; s++) {
				if (*s == '"')
					fputc('"', out);
				fputc(*s, out);
			}
			fputc('"', out);
		} else {
			fputs(s, out);
		}
	}
	fputs(last ? "\r\n" : ",", out);
}

static int
csv_event(const struct store_event *ev, void *arg)
{
	FILE *out = arg;
	char iso[LK_ISO_LEN], num[32];

	snprintf(num, sizeof num, "%lld", (long long)ev->seq);
	csv_field(out, num, false);
	lk_iso8601(ev->ts_ms, iso);
	csv_field(out, iso, false);
	csv_field(out, ev->actor_user, false);
	csv_field(out, ev->actor_from, false);
	csv_field(out, ev->actor_tty, false);
	csv_field(out, ev->kind, false);
	csv_field(out, ev->subject, false);
	csv_field(out, ev->message, false);
	csv_field(out, ev->data, false);
	snprintf(num, sizeof num, "%lld", (long long)ev->run_id);
	csv_field(out, ev->run_id ? num : NULL, false);
	csv_field(out, ev->prev_hash, false);
	csv_field(out, ev->hash, true);
	return 0;
}

static enum lk_code
export_csv(struct store *s, const struct store_incident *inc, FILE *out,
    struct lk_err *err)
{
	fputs("seq,ts,actor,actor_from,actor_tty,kind,subject,message,data,"
	    "run_id,prev_hash,hash\r\n", out);
	return store_event_foreach(s, inc->id, csv_event, out, err);
}

enum lk_code
store_export(struct store *s, int64_t id, enum store_format f, FILE *out,
    struct lk_err *err)
{
	struct store_incident *inc = NULL;
	enum lk_code code;

	if (store_incident_get(s, id, &inc, err) != LK_OK)
		return err->code;
	/* One read snapshot, so the export is consistent while others append. */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		store_incident_free(&inc);
		return store_db_error(s, err, "read timeline");
	}
	switch (f) {
	case STORE_MD:
		code = export_md(s, inc, out, err);
		break;
	case STORE_JSON:
		code = export_json(s, inc, out, err);
		break;
	default:
		code = export_csv(s, inc, out, err);
		break;
	}
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	store_incident_free(&inc);
	return code;
}

/*
 * Writes to a temporary file beside the target and renames it into place,
 * so an interrupted export never leaves half a postmortem under the name.
 */
/*
 * The file is made in a directory opened as trust.h walks it, following
 * no link that someone else could have planted on the way, and everything
 * after is relative to that directory's fd: the temporary file is created
 * with O_EXCL and O_NOFOLLOW and renamed over the name, which replaces a
 * link found there instead of writing through it.  Whoever can write the
 * directory can still replace the export afterwards, but cannot make it
 * land anywhere else.
 */
enum lk_code
store_export_file(struct store *s, int64_t id, enum store_format f,
    const char *path, struct lk_err *err)
{
	const char *base;
	char *dir = trust_split(path, &base);
	char *what = lk_xasprintf("write %s", path);
	char *tmp = NULL, ebuf[128];
	enum lk_code code;
	FILE *out;
	int dfd = -1, fd = -1;

	if (dir == NULL) {
		code = lk_fail(err, LK_EUSAGE, "%s: not a file name", what);
		goto done;
	}
	if ((code = trust_open_dir(dir, 0, what, &dfd, NULL, err)) != LK_OK)
		goto done;
	if ((fd = trust_tmpfile(dfd, base, &tmp)) < 0) {
		code = lk_fail(err, LK_EIO, "%s: %s", what,
		    lk_strerror(errno, ebuf, sizeof ebuf));
		goto done;
	}
	out = fdopen(fd, "w");
	code = store_export(s, id, f, out, err);
	if (code == LK_OK && (fflush(out) != 0 || fsync(fd) != 0))
		code = lk_fail(err, LK_EIO, "%s: %s", what,
		    lk_strerror(errno, ebuf, sizeof ebuf));
	if (fclose(out) != 0 && code == LK_OK)
		code = lk_fail(err, LK_EIO, "%s: %s", what,
		    lk_strerror(errno, ebuf, sizeof ebuf));
	if (code == LK_OK && renameat(dfd, tmp, dfd, base) != 0)
		code = lk_fail(err, LK_EIO, "%s: %s", what,
		    lk_strerror(errno, ebuf, sizeof ebuf));
	if (code != LK_OK)
		unlinkat(dfd, tmp, 0);
done:
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(what);
	free(dir);
	return code;
}
