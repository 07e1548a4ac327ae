/*
 * lookout incident: open, list, show, note, and the milestones.
 */
#include "cli.h"
#include "../core/util.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char incident_help[] =
"usage: lookout incident open TITLE [--severity P1..P4] [--service NAME ...]\n"
"       lookout incident list [--json]\n"
"       lookout incident show ID [--json]\n"
"       lookout incident note ID TEXT\n"
"       lookout incident ack|mitigate|resolve|close ID [TEXT]\n"
"\n"
"open prints the new incident's id alone on stdout.  Severity defaults to P3.\n"
"Milestones only move forward: open, acknowledged, mitigated, resolved,\n"
"closed; a later one may skip an earlier one.\n";

static int
json_opt(int c, const char *val, void *arg)
{
	(void)val;
	if (c == 'j')
		*(int *)arg = 1;
	return 0;
}

static const struct option json_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

struct open_opts {
	const char *severity;
	const char **services;
	size_t nservices;
};

static int
open_opt(int c, const char *val, void *arg)
{
	struct open_opts *o = arg;

	if (c == 's')
		o->severity = val;
	else if (c == 'S')
		o->services[o->nservices++] = val;
	return 0;
}

static int
incident_open(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "severity", required_argument, NULL, 's' },
		{ "service", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct open_opts o = { .severity = "P3" };
	struct store *s = NULL;
	struct lk_err err = { 0 };
	char *title = NULL;
	int64_t id = 0;
	int rc;

	o.services = lk_xcalloc((size_t)argc, sizeof *o.services);
	rc = cli_parse_opts("incident open", argc, argv, "s:", opts, open_opt, &o);
	if (rc >= 0)
		goto done;
	title = cli_join_words(argc, argv, optind);
	if (cli_open_store(cli, &s, &err) != LK_OK ||
	    store_incident_open(s, title, o.severity, o.services, o.nservices,
	    &id, &err) != LK_OK) {
		rc = cli_error(&err);
		goto done;
	}
	printf("%lld\n", (long long)id);
	rc = 0;
done:
	free(title);
	free(o.services);
	store_close(&s);
	return rc;
}

static void
print_services(FILE *out, const struct store_incident *inc)
{
	for (size_t i = 0; i < inc->nservices; i++) {
		fputs(i ? "," : "", out);
		cli_print_text(out, inc->services[i]);
	}
	if (inc->nservices == 0)
		fputs("-", out);
}

static json_t *
incident_to_json(const struct store_incident *inc)
{
	json_t *o = json_object(), *svcs = json_array();
	char iso[LK_ISO_LEN];

	for (size_t i = 0; i < inc->nservices; i++)
		json_array_append_new(svcs, json_string(inc->services[i]));
	lk_iso8601(inc->opened_at, iso);
	json_object_set_new(o, "id", json_integer(inc->id));
	json_object_set_new(o, "title", json_string(inc->title));
	json_object_set_new(o, "severity", json_string(inc->severity));
	json_object_set_new(o, "status", json_string(inc->status));
	json_object_set_new(o, "opened_at", json_string(iso));
	json_object_set_new(o, "services", svcs);
	return o;
}

struct list_ctx {
	json_t *array;	/* --json */
	int n;
};

static int
list_one(const struct store_incident *inc, void *arg)
{
	struct list_ctx *c = arg;
	char iso[LK_ISO_LEN];

	if (c->array != NULL) {
		json_array_append_new(c->array, incident_to_json(inc));
		return 0;
	}
	if (c->n++ == 0)
		printf("%-5s %-3s %-13s %-20s %s\n", "ID", "SEV", "STATUS",
		    "OPENED (UTC)", "TITLE [SERVICES]");
	lk_iso8601(inc->opened_at, iso);
	printf("%-5lld %-3s %-13s %.10s %.8s  ", (long long)inc->id,
	    inc->severity, inc->status, iso, iso + 11);
	cli_print_text(stdout, inc->title);
	if (inc->nservices) {
		fputs(" [", stdout);
		print_services(stdout, inc);
		fputc(']', stdout);
	}
	fputc('\n', stdout);
	return 0;
}

static int
incident_list(struct cli *cli, int argc, char **argv)
{
	struct list_ctx c = { 0 };
	struct store *s = NULL;
	struct lk_err err = { 0 };
	int json = 0, rc;

	if ((rc = cli_parse_opts("incident list", argc, argv, "", json_opts,
	    json_opt, &json)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage("incident list: unexpected \"%s\"",
		    argv[optind]);
	if (cli_read_store(cli, &s, &err) != LK_OK)
		return cli_empty_list(&err, json, "no incidents");
	if (json)
		c.array = json_array();
	if (store_incident_foreach(s, list_one, &c, &err) != LK_OK) {
		rc = cli_error(&err);
	} else {
		rc = 0;
		if (json) {
			json_dumpf(c.array, stdout, JSON_INDENT(1));
			fputc('\n', stdout);
		} else if (c.n == 0) {
			printf("no incidents in %s\n", store_path(s));
		}
	}
	json_decref(c.array);
	store_close(&s);
	return rc;
}

static int
show_event(const struct store_event *ev, void *arg)
{
	char iso[LK_ISO_LEN];

	(void)arg;
	lk_iso8601(ev->ts_ms, iso);
	printf("%6lld  %s  %-8s %-20s ", (long long)ev->seq, iso,
	    ev->actor_user, ev->kind);
	if (ev->subject != NULL) {
		cli_print_text(stdout, ev->subject);
		fputs(ev->message ? ": " : "", stdout);
	}
	cli_print_text(stdout, ev->message);
	fputc('\n', stdout);
	return 0;
}

static int
incident_show(struct cli *cli, int argc, char **argv)
{
	struct store_incident *inc = NULL;
	struct store *s = NULL;
	struct lk_err err = { 0 };
	int64_t id;
	int json = 0, rc;

	if ((rc = cli_parse_opts("incident show", argc, argv, "", json_opts,
	    json_opt, &json)) >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("incident show takes one incident ID");
	if (cli_parse_id("incident id", argv[optind], &id, &err) != LK_OK)
		return cli_error(&err);
	if (cli_read_store(cli, &s, &err) != LK_OK)
		return cli_error(&err);
	if (json) {
		rc = store_export(s, id, STORE_JSON, stdout, &err) == LK_OK ?
		    0 : cli_error(&err);
		store_close(&s);
		return rc;
	}
	if (store_incident_get(s, id, &inc, &err) != LK_OK) {
		rc = cli_error(&err);
		store_close(&s);
		return rc;
	}
	printf("incident %lld: ", (long long)inc->id);
	cli_print_text(stdout, inc->title);
	printf("\nseverity %s, %s, services ", inc->severity, inc->status);
	print_services(stdout, inc);
	fputs("\n\n", stdout);
	rc = store_event_foreach(s, id, show_event, NULL, &err) == LK_OK ?
	    0 : cli_error(&err);
	store_incident_free(&inc);
	store_close(&s);
	return rc;
}

/* note, ack, mitigate, resolve, close: ID then free text. */
static int
incident_update(struct cli *cli, const char *verb, int milestone, int argc,
    char **argv)
{
	struct store *s = NULL;
	struct lk_err err = { 0 };
	char *text = NULL;
	int64_t id;
	int rc;

	if ((rc = cli_parse_opts(verb, argc, argv, "", cli_no_opts, cli_no_opt, NULL)) >= 0)
		return rc;
	if (argc - optind < 1)
		return cli_usage("incident %s needs an incident ID", verb);
	if (milestone < 0 && argc - optind < 2)
		return cli_usage("incident note needs an ID and the note text");
	if (cli_parse_id("incident id", argv[optind], &id, &err) != LK_OK)
		return cli_error(&err);
	text = cli_join_words(argc, argv, optind + 1);
	/* Only an incident that exists takes a note: no timeline to make. */
	if (cli_read_store(cli, &s, &err) != LK_OK)
		rc = cli_error(&err);
	else if (milestone < 0)
		rc = store_incident_note(s, id, text, &err) == LK_OK ? 0 :
		    cli_error(&err);
	else
		rc = store_incident_advance(s, id, milestone, text, &err) ==
		    LK_OK ? 0 : cli_error(&err);
	free(text);
	store_close(&s);
	return rc;
}

static int
cmd_incident(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *verb;
		int milestone;
	} updates[] = {
		{ "note", -1 },
		{ "ack", STORE_ACKNOWLEDGED },
		{ "acknowledge", STORE_ACKNOWLEDGED },
		{ "mitigate", STORE_MITIGATED },
		{ "resolve", STORE_RESOLVED },
		{ "close", STORE_CLOSED },
	};
	const char *verb;

	if (argc < 2) {
		fputs(incident_help, stderr);
		return 2;
	}
	verb = argv[1];
	if (strcmp(verb, "open") == 0)
		return incident_open(cli, argc - 1, argv + 1);
	if (strcmp(verb, "list") == 0)
		return incident_list(cli, argc - 1, argv + 1);
	if (strcmp(verb, "show") == 0)
		return incident_show(cli, argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof updates / sizeof updates[0]; i++)
		if (strcmp(verb, updates[i].verb) == 0)
			return incident_update(cli, verb, updates[i].milestone,
			    argc - 1, argv + 1);
	return cli_usage("incident: unknown action \"%s\"", verb);
}


const struct cmd_entry cmd_incident_entry = {
	.name = "incident",
	.group = CMD_GROUP_TIMELINE,
	.usage = "incident open TITLE [--severity P1..P4] [--service NAME ...]\n"
	    "incident list [--json]\n"
	    "incident show ID [--json]\n"
	    "incident note ID TEXT\n"
	    "incident ack|mitigate|resolve|close ID [TEXT]",
	.help = incident_help,
	.exec = cmd_incident,
};
