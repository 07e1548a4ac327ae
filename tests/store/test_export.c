/* store: the postmortem, JSON and CSV exports. */
#include "fixture.h"

#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include <stdio.h>

TestSuite(export, .init = fx_setup, .fini = fx_teardown, .timeout = 30);

/* Exports incident id into a string the caller frees. */
static char *
export_str(int64_t id, enum store_format f)
{
	struct lk_err err = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	cr_assert_not_null(out);
	cr_assert_eq(store_export(fx_store, id, f, out, &err), LK_OK, "%s",
	    err.msg);
	fclose(out);
	return buf;
}

static int64_t
seed_incident(void)
{
	const char *svcs[] = { "inventory-api", "billing-api" };
	struct lk_err err = { 0 };
	int64_t id = 0;

	cr_assert_eq(store_incident_open(fx_store, "Message queue backlog",
	    "P2", svcs, 2, &id, &err), LK_OK);
	cr_assert_eq(store_incident_advance(fx_store, id, STORE_ACKNOWLEDGED,
	    "paged", &err), LK_OK);
	cr_assert_eq(store_incident_note(fx_store, id, "a | b\nc\rd\te\x01"
	    "<script>", &err), LK_OK);
	cr_assert_eq(store_incident_advance(fx_store, id, STORE_MITIGATED,
	    NULL, &err), LK_OK);
	cr_assert_eq(store_incident_advance(fx_store, id, STORE_RESOLVED,
	    NULL, &err), LK_OK);
	return id;
}

Test(export, markdown_has_the_rca_shape)
{
	char *md = export_str(seed_incident(), STORE_MD);
	const char *sections[] = {
		"---\ntitle: \"Message queue backlog\"\n",
		"\nseverity: P2\n",
		"\nservices: [\"inventory-api\", \"billing-api\"]\n",
		"\ntags: [incident, p2]\n",
		"\nstatus: resolved\n",
		"\nduration_minutes: 0\n",
		"\n## Summary\n",
		"\n## Timeline\n| Time (UTC) | Event |\n|------------|-------|\n",
		"\n## Detection\n",
		"- Time to acknowledge: ",
		"- Time to resolve: ",
		"\n## Root Cause\n",
		"\n## Impact\n",
		"\n### Affected Services\n- inventory-api\n- billing-api\n",
		"\n## Resolution\n_No runbook",
		"\n## Lessons Learned\n",
		"\n## Action Items\n| Priority | Action | Owner | Due Date |\n",
	};

	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		cr_expect(strstr(md, sections[i]) != NULL, "missing %s in:\n%s",
		    sections[i], md);
	cr_expect(strstr(md, "| **acknowledged** by alice from 203.0.113.9: "
	    "paged |") != NULL, "%s", md);
	free(md);
}

Test(export, markdown_shows_when_the_team_was_told)
{
	struct store_new_event sent = { .kind = "notify.sent",
	    .subject = "team", .message = "opened: sent to Alertmanager team "
	    "(HTTP 200, try 1 of 5)", .data = "{\"tries\": 1}" };
	struct store_new_event failed = { .kind = "notify.failed",
	    .subject = "chat", .message = "opened: not delivered to webhook "
	    "chat: after 5 tries: connection refused", .data = "{}" };
	struct lk_err err = { 0 };
	int64_t id = seed_incident();
	char *md;

	sent.incident_id = failed.incident_id = id;
	cr_assert_eq(store_append(fx_store, &sent, NULL, &err), LK_OK);
	cr_assert_eq(store_append(fx_store, &failed, NULL, &err), LK_OK);
	md = export_str(id, STORE_MD);
	cr_expect(strstr(md, " | Notified: opened: sent to Alertmanager team "
	    "(HTTP 200, try 1 of 5) |\n") != NULL, "%s", md);
	cr_expect(strstr(md, " | **Notification failed**: opened: not "
	    "delivered to webhook chat: after 5 tries: connection refused "
	    "|\n") != NULL, "%s", md);
	free(md);
}

Test(export, markdown_table_survives_hostile_text)
{
	char *md = export_str(seed_incident(), STORE_MD);
	char *table = strstr(md, "| Time (UTC) | Event |");
	char *end = strstr(md, "\n\n## Detection");

	cr_assert_not_null(table);
	cr_assert_not_null(end);
	/* The note's pipe is escaped, its line breaks are spaces, the control
	 * character and the markup are neutralised. */
	cr_expect(strstr(md, "a \\| b c d e?&lt;script> |") != NULL, "%s", md);
	/* Every row of the table has exactly two unescaped cell separators
	 * plus the edges: no row was split or widened. */
	for (char *line = table; line < end; ) {
		char *nl = strchr(line, '\n');
		int bars = 0;

		for (char *p = line; p < nl; p++)
			if (*p == '|' && (p == line || p[-1] != '\\'))
				bars++;
		cr_expect_eq(bars, 3, "row broken: %.*s", (int)(nl - line),
		    line);
		line = nl + 1;
	}
	free(md);
}

Test(export, json_has_every_event_with_its_hashes)
{
	int64_t id = seed_incident();
	char *text = export_str(id, STORE_JSON);
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	json_t *events, *inc, *ev;
	size_t i;

	cr_assert_not_null(j, "%s at %d:\n%s", jerr.text, jerr.position, text);
	inc = json_object_get(j, "incident");
	events = json_object_get(j, "events");
	cr_expect_str_eq(json_string_value(json_object_get(inc, "status")),
	    "resolved");
	cr_expect_not_null(json_string_value(json_object_get(
	    json_object_get(inc, "milestones"), "mitigated")));
	cr_expect(json_is_null(json_object_get(json_object_get(inc,
	    "milestones"), "closed")));
	cr_assert_eq(json_array_size(events), 5);
	json_array_foreach(events, i, ev) {
		const char *ts = json_string_value(json_object_get(ev, "ts"));

		cr_expect_eq(json_integer_value(json_object_get(ev, "seq")),
		    (json_int_t)i + 1);
		cr_expect_eq(strlen(json_string_value(json_object_get(ev,
		    "hash"))), 64);
		cr_expect_eq(strlen(json_string_value(json_object_get(ev,
		    "prev_hash"))), 64);
		cr_assert_not_null(ts);
		cr_expect_eq(strlen(ts), 24, "%s", ts);
		cr_expect_eq(ts[23], 'Z');
	}
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
	    events, 2), "message")), "a | b\nc\rd\te\x01<script>");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(
	    json_array_get(events, 0), "actor"), "from")), "203.0.113.9");
	json_decref(j);
	free(text);
}

/* A minimal RFC 4180 reader: returns the number of fields in the record
 * starting at *p and advances *p past its CRLF. */
static int
csv_record(const char **p, char fields[][256], int max)
{
	const char *s = *p;
	int n = 0;

	for (;;) {
		char *f = fields[n];
		size_t len = 0;

		if (*s == '"') {
			s++;
			for (;;) {
				if (*s == '"' && s[1] == '"') {
					f[len++] = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					f[len++] = *s++;
				}
			}
		} else {
			while (*s && *s != ',' && *s != '\r')
				f[len++] = *s++;
		}
		f[len] = '\0';
		n++;
		if (*s == ',' && n < max) {
			s++;
			continue;
		}
		cr_assert(s[0] == '\r' && s[1] == '\n', "record not ended by "
		    "CRLF at %.20s", s);
		*p = s + 2;
		return n;
	}
}

Test(export, csv_follows_rfc4180)
{
	char *csv = export_str(seed_incident(), STORE_CSV);
	static char fields[16][256];
	const char *p = csv;
	int rows = 0;

	cr_assert_eq(csv_record(&p, fields, 16), 12);
	cr_expect_str_eq(fields[0], "seq");
	cr_expect_str_eq(fields[11], "hash");
	while (*p) {
		cr_assert_eq(csv_record(&p, fields, 16), 12);
		rows++;
		if (rows == 3)
			cr_expect_str_eq(fields[7], "a | b\nc\rd\te\x01"
			    "<script>");
	}
	cr_expect_eq(rows, 5);
	free(csv);
}

Test(export, unknown_incident_is_an_error)
{
	struct lk_err err = { 0 };
	FILE *out = fopen("/dev/null", "w");

	cr_expect_eq(store_export(fx_store, 7, STORE_MD, out, &err),
	    LK_ENOTFOUND);
	cr_expect(strstr(err.msg, "incident 7") != NULL, "%s", err.msg);
	fclose(out);
}

Test(export, time_to_detect_comes_from_the_probes_samples)
{
	const char *svcs[] = { "message-bus" };
	struct lk_err err = { 0 };
	int64_t id = 0, now = lk_now_ms();
	/* Fine, then failed from 9 h before the incident was opened. */
	struct store_sample v[4] = {
		{ now - 10 * 3600000LL, "service", "message-bus",
		    "active/running ok", -1, 3, 0 },
		{ now - 9 * 3600000LL, "service", "message-bus",
		    "failed/failed none", -1, -1, 0 },
		{ now - 3600000LL, "service", "message-bus",
		    "failed/failed none", -1, -1, 0 },
		{ now - 3600000LL, "service", "other", "failed/failed none",
		    -1, -1, 0 },
	};
	char *md;

	cr_assert_eq(store_samples_add(fx_store, v, 4, 0, &err), LK_OK);
	cr_assert_eq(store_incident_open(fx_store, "bus down", "P2", svcs, 1,
	    &id, &err), LK_OK);
	md = export_str(id, STORE_MD);
	cr_expect(strstr(md, "- Time to detect: 9 h 00 min (the probes first "
	    "saw message-bus failing at ") != NULL, "%s", md);
	free(md);
}

Test(export, inferred_milestones_say_so)
{
	struct lk_err err = { 0 };
	int64_t id;
	char *md, *js;

	cr_assert_eq(store_incident_open_detected(fx_store, "watch saw it",
	    "P2", NULL, 0, lk_now_ms() - 60000, &id, &err), LK_OK);
	cr_assert_eq(store_incident_infer(fx_store, id, STORE_MITIGATED, 0,
	    "checks pass again", &err), LK_OK);
	md = export_str(id, STORE_MD);
	js = export_str(id, STORE_JSON);
	cr_expect(strstr(md, "| Detected | ") && strstr(md, " (inferred) |"),
	    "%s", md);
	cr_expect(strstr(md, "- Time to mitigate: 1 min") != NULL, "%s", md);
	cr_expect(strstr(js, "\"inferred\": [\"detected\", \"mitigated\"]") ||
	    strstr(js, "\"inferred\":[\"detected\",\"mitigated\"]"), "%s", js);
	free(md);
	free(js);
}

/*
 * An export is written in the directory the path names without following
 * a link that someone else could have planted on the way there; a link in
 * a directory only its owner can write is followed, and a link where the
 * file goes is replaced, not written through.
 */
Test(export, to_a_file_follows_no_link_others_could_plant)
{
	char pub[600], priv[600], link[700], path[800], victim[600];
	struct lk_err err = { 0 };
	struct stat st;
	int64_t id = seed_incident();

	snprintf(priv, sizeof priv, "%s/private", fx_dir);
	snprintf(pub, sizeof pub, "%s/pub", fx_dir);
	cr_assert_eq(mkdir(priv, 0700), 0);
	cr_assert_eq(mkdir(pub, 0700), 0);
	chmod(pub, 0777);
	snprintf(link, sizeof link, "%s/out", pub);
	cr_assert_eq(symlink(priv, link), 0);
	snprintf(path, sizeof path, "%s/pm.md", link);
	cr_expect_eq(store_export_file(fx_store, id, STORE_MD, path, &err),
	    LK_EINPUT);
	cr_expect(strstr(err.msg, "/pub/out is a symbolic link owned by ") !=
	    NULL, "%s", err.msg);
	snprintf(path, sizeof path, "%s/pm.md", priv);
	cr_expect_neq(stat(path, &st), 0, "the export went through the link");

	/* In a directory only its owner writes, the same link is followed. */
	snprintf(link, sizeof link, "%s/out", fx_dir);
	cr_assert_eq(symlink("private", link), 0);
	snprintf(path, sizeof path, "%s/pm.md", link);
	cr_expect_eq(store_export_file(fx_store, id, STORE_MD, path, &err),
	    LK_OK, "%s", err.msg);
	snprintf(path, sizeof path, "%s/pm.md", priv);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);

	/* A link where the file goes is replaced. */
	snprintf(victim, sizeof victim, "%s/victim", fx_dir);
	close(open(victim, O_CREAT | O_WRONLY, 0644));
	snprintf(path, sizeof path, "%s/pm2.md", pub);
	cr_assert_eq(symlink(victim, path), 0);
	cr_expect_eq(store_export_file(fx_store, id, STORE_MD, path, &err),
	    LK_OK, "%s", err.msg);
	cr_assert_eq(lstat(path, &st), 0);
	cr_expect(S_ISREG(st.st_mode), "the link is still there");
	cr_assert_eq(stat(victim, &st), 0);
	cr_expect_eq(st.st_size, 0, "the export went through the link");
}

Test(export, evidence_is_quoted_whole_and_cannot_break_out)
{
	struct store_new_event ev = { .kind = "incident.evidence",
	    .subject = "crashbus",
	    .message = "journal of crashbus.service, last 3 lines:\n"
	    "2026-03-27T06:49:01.000Z crashbus: starting\n"
	    "2026-03-27T06:49:02.000Z NameError: name 'queue' is not defined\n"
	    "```\n| a | b | <b>x</b>\x1b[2J" };
	struct lk_err err = { 0 };
	int64_t id = 0;
	char *md;

	cr_assert_eq(store_incident_open(fx_store, "crashbus down", "P2", NULL,
	    0, &id, &err), LK_OK);
	ev.incident_id = id;
	cr_assert_eq(store_append(fx_store, &ev, NULL, &err), LK_OK);
	md = export_str(id, STORE_MD);
	/* A row that says what it is... */
	cr_expect(strstr(md, "| Evidence (alice from 203.0.113.9): crashbus: "
	    "journal of crashbus.service, last 3 lines: (below, under "
	    "Evidence) |\n") != NULL, "%s", md);
	/* ...and the lines themselves, as a code block. */
	cr_expect(strstr(md, "\n## Evidence\n### ") != NULL, "%s", md);
	cr_expect(strstr(md, "\n    2026-03-27T06:49:02.000Z NameError: name "
	    "'queue' is not defined\n") != NULL, "%s", md);
	cr_expect(strstr(md, "\n    ```\n    | a | b | <b>x</b> [2J\n") !=
	    NULL, "%s", md);
	free(md);
}

/* Evidence about a service on another host names the host, in its row
 * and its heading. */
Test(export, evidence_from_another_host_names_it)
{
	struct store_new_event ev = { .kind = "incident.evidence",
	    .subject = "wb", .message = "down: inactive (dead)",
	    .data = "{\"rule\":\"down\",\"host\":\"web-2\"}" };
	struct lk_err err = { 0 };
	int64_t id = 0;
	char *md;

	cr_assert_eq(store_incident_open(fx_store, "wb down", "P2", NULL, 0,
	    &id, &err), LK_OK);
	ev.incident_id = id;
	cr_assert_eq(store_append(fx_store, &ev, NULL, &err), LK_OK);
	md = export_str(id, STORE_MD);
	cr_expect(strstr(md, "): wb on web-2: down: inactive (dead) |\n") !=
	    NULL, "%s", md);
	cr_expect(strstr(md, " wb on web-2\n\n    down: inactive (dead)\n") !=
	    NULL, "%s", md);
	free(md);
}
