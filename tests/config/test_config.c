/* Tests of config/config.c: the declarative Lua configuration. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

#ifndef SOURCE_ROOT
#define SOURCE_ROOT "."
#endif

static char fx_dir[256];
static char fx_path[512];
static struct config *fx_cfg;
static struct config_diags fx_diags;

static void
fx_setup(void)
{
	snprintf(fx_dir, sizeof fx_dir, "/tmp/lookout-config.XXXXXX");
	cr_assert_not_null(mkdtemp(fx_dir));
	snprintf(fx_path, sizeof fx_path, "%s/lookout.lua", fx_dir);
}

static void
fx_teardown(void)
{
	char cmd[512];

	config_free(&fx_cfg);
	config_diags_free(&fx_diags);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx_dir);
	(void)system(cmd);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* Writes text as the config file and loads it. */
static enum lk_code
load(const char *text)
{
	struct lk_err err = { 0 };
	enum lk_code code;

	write_file(fx_path, text);
	config_diags_free(&fx_diags);
	code = config_load(fx_path, &fx_cfg, &fx_diags, &err);
	if (code == LK_OK) {
		cr_assert_not_null(fx_cfg);
		cr_assert_eq(fx_diags.n, 0);
	} else {
		cr_assert_null(fx_cfg);
		cr_assert_gt(fx_diags.n, 0);
		cr_assert_str_eq(err.msg, fx_diags.lines[0]);
	}
	return code;
}

static void
dump_diags(void)
{
	for (size_t i = 0; i < fx_diags.n; i++)
		cr_log_info("diag: %s", fx_diags.lines[i]);
}

/* True if a diagnostic reads "PATH:LINE: ...needle...". */
static int
has_diag(int line, const char *needle)
{
	char prefix[600];

	if (line > 0)
		snprintf(prefix, sizeof prefix, "%s:%d: ", fx_path, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", fx_path);
	for (size_t i = 0; i < fx_diags.n; i++) {
		if (strncmp(fx_diags.lines[i], prefix, strlen(prefix)) == 0 &&
		    strstr(fx_diags.lines[i], needle) != NULL)
			return 1;
	}
	dump_diags();
	return 0;
}

#define assert_diag(line, needle)					\
	cr_assert(has_diag(line, needle), "no diagnostic at line %d "	\
	    "containing \"%s\"", line, needle)

/*
 * The budget of a configuration is 2 s of CPU, and the tests of runaway
 * files burn all of it: on a loaded machine that takes far longer on the
 * clock.  (Criterion leaks a little for a timeout of one test's own.)
 */
TestSuite(config, .init = fx_setup, .fini = fx_teardown, .timeout = 90);

static const char full[] =
"interval = \"10s\"\n"						/* 1 */
"service \"message-bus\" {\n"					/* 2 */
"  unit = \"message-bus.service\", scope = \"user\",\n"
"  check = http { url = \"http://127.0.0.1:8080/api/inbox/joe\",\n"
"                 status = { 200, 204 }, json = true, timeout_ms = 1500,\n"
"                 json_field = { path = \"a.b\", equals = \"ok\\\"\" },\n"
"                 body_contains = \"joe\", max_latency_ms = 300,\n"
"                 connect_timeout_ms = 500, insecure = true,\n"
"                 max_body = 4096,\n"
"                 headers = { Authorization = env(\"MB_TOKEN\"),\n"
"                             [\"X-Probe\"] = \"lookout\" } },\n"
"  runbook = \"restart-service\",\n"
"}\n"
"queue \"mail\" {\n"						/* 14 */
"  redis = { url = \"redis://127.0.0.1:6379/0\", key = \"queues:default\",\n"
"            paused_key = \"queues:default:paused\" },\n"
"  warn = 100, crit = 1000, stall_after = \"5m\",\n"
"}\n"
"queue \"inventory\" {\n"					/* 19 */
"  rabbitmq = { api = \"http://127.0.0.1:15672\", vhost = \"/\",\n"
"               name = \"inventory\", user = \"guest\",\n"
"               password_env = \"RABBIT_PASS\" },\n"
"}\n"
"local bin = \"/usr/local/bin/\"\n"
"queue \"jobs\" { command = { argv = { bin .. \"depth\", \"jobs\" },\n"
"                             timeout_ms = 3000 } }\n"	/* 25 */
"runbook_dirs = { \"/etc/lookout/runbooks\", \"/srv/runbooks\" }\n";

Test(config, valid_file_parses_into_c_values)
{
	const struct config_service *s;
	const struct config_queue *q;
	const struct config_http *h;

	setenv("MB_TOKEN", "secret-value", 1);
	cr_assert_eq(load(full), LK_OK);
	cr_assert_str_eq(config_path(fx_cfg), fx_path);
	cr_assert_eq(config_interval_ms(fx_cfg), 10000);
	cr_assert_eq(config_nservices(fx_cfg), 1);
	cr_assert_eq(config_nqueues(fx_cfg), 3);

	s = config_service(fx_cfg, 0);
	cr_assert_str_eq(s->name, "message-bus");
	cr_assert_eq(s->line, 2);
	cr_assert_str_eq(s->unit, "message-bus.service");
	cr_assert_eq(s->scope, CONFIG_SCOPE_USER);
	cr_assert_str_eq(s->runbook, "restart-service");
	cr_assert_eq(config_service_find(fx_cfg, "message-bus"), s);
	cr_assert_null(config_service_find(fx_cfg, "nope"));

	h = s->check;
	cr_assert_not_null(h);
	cr_assert_str_eq(h->url, "http://127.0.0.1:8080/api/inbox/joe");
	cr_assert_eq(h->nstatus, 2);
	cr_assert_eq(h->status[0], 200);
	cr_assert_eq(h->status[1], 204);
	cr_assert_eq(h->json, 1);
	cr_assert_eq(h->timeout_ms, 1500);
	cr_assert_str_eq(h->json_path, "a.b");
	cr_assert_str_eq(h->json_equals, "\"ok\\\"\"");
	cr_assert_str_eq(h->body_contains, "joe");
	cr_assert_eq(h->max_latency_ms, 300);
	cr_assert_eq(h->connect_timeout_ms, 500);
	cr_assert_eq(h->insecure, 1);
	cr_assert_eq(h->max_body, 4096);
	cr_assert_eq(h->nheaders, 2);
	for (size_t i = 0; i < h->nheaders; i++) {
		const struct config_header *hd = &h->headers[i];

		if (strcmp(hd->name, "Authorization") == 0) {
			/* Only the variable's name: never the secret. */
			cr_assert_null(hd->value);
			cr_assert_str_eq(hd->value_env, "MB_TOKEN");
		} else {
			cr_assert_str_eq(hd->name, "X-Probe");
			cr_assert_str_eq(hd->value, "lookout");
			cr_assert_null(hd->value_env);
		}
	}

	q = config_queue_find(fx_cfg, "mail");
	cr_assert_not_null(q);
	cr_assert_eq(q->line, 14);
	cr_assert_eq(q->source, CONFIG_QUEUE_REDIS);
	cr_assert_str_eq(q->redis.url, "redis://127.0.0.1:6379/0");
	cr_assert_str_eq(q->redis.key, "queues:default");
	cr_assert_str_eq(q->redis.paused_key, "queues:default:paused");
	cr_assert_eq(q->warn, 100);
	cr_assert_eq(q->crit, 1000);
	cr_assert_eq(q->stall_after_ms, 300000);

	q = config_queue(fx_cfg, 1);
	cr_assert_str_eq(q->name, "inventory");
	cr_assert_eq(q->line, 19);
	cr_assert_eq(q->source, CONFIG_QUEUE_RABBITMQ);
	cr_assert_str_eq(q->rabbitmq.api, "http://127.0.0.1:15672");
	cr_assert_str_eq(q->rabbitmq.vhost, "/");
	cr_assert_str_eq(q->rabbitmq.name, "inventory");
	cr_assert_str_eq(q->rabbitmq.user, "guest");
	cr_assert_str_eq(q->rabbitmq.password_env, "RABBIT_PASS");
	cr_assert_eq(q->warn, -1);
	cr_assert_eq(q->stall_after_ms, -1);

	q = config_queue(fx_cfg, 2);
	cr_assert_str_eq(q->name, "jobs");
	cr_assert_eq(q->source, CONFIG_QUEUE_COMMAND);
	cr_assert_eq(q->command.argc, 2);
	cr_assert_str_eq(q->command.argv[0], "/usr/local/bin/depth");
	cr_assert_str_eq(q->command.argv[1], "jobs");
	cr_assert_null(q->command.argv[2]);
	cr_assert_eq(q->command.timeout_ms, 3000);

	cr_assert_eq(config_nrunbook_dirs(fx_cfg), 2);
	cr_assert_str_eq(config_runbook_dir(fx_cfg, 1), "/srv/runbooks");
}

Test(config, defaults)
{
	const struct config_service *s;
	const struct config_http *h;

	cr_assert_eq(load("service \"api\" { check = http { url = "
	    "\"https://x.example/health\" } }\n"
	    "service \"web.socket\" { }\n"
	    "queue \"q\" { command = { argv = { \"/bin/echo\", \"3\" } } }\n"),
	    LK_OK);
	cr_assert_eq(config_interval_ms(fx_cfg), 5000);
	cr_assert_eq(config_nrunbook_dirs(fx_cfg), 0);
	s = config_service(fx_cfg, 0);
	cr_assert_str_eq(s->unit, "api.service");
	cr_assert_eq(s->scope, geteuid() == 0 ? CONFIG_SCOPE_SYSTEM :
	    CONFIG_SCOPE_USER);
	cr_assert_null(s->runbook);
	h = s->check;
	cr_assert_eq(h->nstatus, 1);
	cr_assert_eq(h->status[0], 200);
	cr_assert_eq(h->timeout_ms, 2000);
	cr_assert_eq(h->connect_timeout_ms, -1);
	cr_assert_eq(h->max_latency_ms, -1);
	cr_assert_eq(h->max_body, 1024 * 1024);
	cr_assert_eq(h->json, 0);
	cr_assert_eq(h->nheaders, 0);
	s = config_service(fx_cfg, 1);
	cr_assert_str_eq(s->unit, "web.socket");
	cr_assert_null(s->check);
	cr_assert_eq(config_queue(fx_cfg, 0)->command.timeout_ms, 2000);
}

Test(config, empty_file_is_valid)
{
	cr_assert_eq(load("-- nothing yet\n"), LK_OK);
	cr_assert_eq(config_nservices(fx_cfg), 0);
	cr_assert_eq(config_nqueues(fx_cfg), 0);
}

Test(config, unknown_key_suggests_the_closest)
{
	cr_assert_eq(load("\n\nservice \"a\" {\n"
	    "  unit = \"a.service\",\n"
	    "  check = http { url = \"http://h/\", timout_ms = 5 },\n"
	    "  runbok = \"x\", colour = \"red\",\n"
	    "}\n"), LK_EINPUT);
	assert_diag(3, "service \"a\": unknown key \"check.timout_ms\" "
	    "(did you mean \"timeout_ms\"?)");
	assert_diag(3, "unknown key \"runbok\" (did you mean \"runbook\"?)");
	assert_diag(3, "unknown key \"colour\"");
	cr_assert(!has_diag(3, "\"colour\" (did you mean"));
}

Test(config, wrong_types)
{
	cr_assert_eq(load("service \"a\" {\n"
	    "  check = http { url = \"http://h/\", timeout_ms = \"2s\",\n"
	    "                 json = \"yes\", status = \"200\" },\n"
	    "}\n"
	    "queue \"q\" { redis = { url = \"redis://h\", key = 5 },\n"
	    "  warn = -1, crit = 1.5 }\n"
	    "service \"b\" { check = { url = \"http://h/\" } }\n"),
	    LK_EINPUT);
	assert_diag(1, "service \"a\": check.timeout_ms must be a number, "
	    "got string");
	assert_diag(1, "check.json must be true or false, got string");
	assert_diag(1, "check.status must be a number or a list of numbers");
	assert_diag(5, "queue \"q\": redis.key must be a string, got number");
	assert_diag(5, "warn must be a whole number, 0 or more, got -1");
	assert_diag(5, "crit must be a whole number, 0 or more, got 1.5");
	assert_diag(7, "service \"b\": check must be http { ... }, got table");
}

Test(config, missing_required_fields)
{
	cr_assert_eq(load("service \"a\" { check = http { json = true } }\n"
	    "queue \"r\" { rabbitmq = { api = \"http://h:15672\" } }\n"
	    "queue \"c\" { command = { } }\n"
	    "queue \"none\" { warn = 3 }\n"
	    "service \"nobody\"\n"), LK_EINPUT);
	assert_diag(1, "service \"a\": check.url is required");
	assert_diag(2, "queue \"r\": rabbitmq.name is required");
	assert_diag(3, "queue \"c\": command.argv is required");
	assert_diag(4, "queue \"none\": needs a source");
	assert_diag(5, "service \"nobody\" has no body");
}

Test(config, duplicate_names)
{
	cr_assert_eq(load("service \"a\" { }\n"
	    "queue \"a\" { command = { argv = { \"x\" } } }\n"
	    "\n"
	    "service \"a\" { }\n"), LK_EINPUT);
	assert_diag(4, "service \"a\" is already defined at line 1");
	cr_assert_eq(fx_diags.n, 1);
}

Test(config, invalid_urls_and_durations)
{
	cr_assert_eq(load("interval = \"soon\"\n"
	    "service \"a\" { check = http { url = \"ftp://h/x\" } }\n"
	    "queue \"q\" { redis = { url = \"http://h\", key = \"k\" },\n"
	    "  stall_after = \"5 minutes\" }\n"
	    "queue \"two\" { redis = { url = \"redis://h\", key = \"k\" },\n"
	    "  command = { argv = { \"x\" } } }\n"), LK_EINPUT);
	assert_diag(1, "interval \"soon\" is not a duration");
	assert_diag(2, "check.url \"ftp://h/x\" is not a valid URL "
	    "(expected http:// or https://)");
	assert_diag(3, "redis.url \"http://h\" is not a valid URL");
	assert_diag(3, "stall_after \"5 minutes\" is not a duration");
	assert_diag(5, "has both redis and command");
}

Test(config, numbers_as_milliseconds)
{
	cr_assert_eq(load("interval = 250\n"
	    "queue \"q\" { command = { argv = { \"x\" } }, stall_after = 60000 }\n"),
	    LK_OK);
	cr_assert_eq(config_interval_ms(fx_cfg), 250);
	cr_assert_eq(config_queue(fx_cfg, 0)->stall_after_ms, 60000);
}

Test(config, syntax_error_has_luas_line)
{
	cr_assert_eq(load("service \"a\" { }\n"
	    "\n"
	    "queue \"b\" { warn = = 3 }\n"), LK_EINPUT);
	assert_diag(3, "unexpected symbol near '='");
	cr_assert_eq(fx_diags.n, 1);
}

Test(config, runtime_error_has_its_line)
{
	cr_assert_eq(load("service \"a\" { }\n"
	    "local t = nil\n"
	    "local x = t.field\n"), LK_EINPUT);
	assert_diag(3, "attempt to index a nil value");
	cr_assert_eq(load("\nerror(\"boom\")\n"), LK_EINPUT);
	assert_diag(2, "boom");
}

Test(config, all_errors_in_a_file_are_reported_in_line_order)
{
	cr_assert_eq(load("intervall = \"5s\"\n"
	    "service \"a\" { scope = \"global\" }\n"
	    "queue \"b\" { redis = { url = \"redis://h\", kee = \"q\" } }\n"
	    "service \"c\" { check = http { url = \"http://h\", "
	    "status = 999 } }\n"
	    "queue \"d\" { command = { argv = { \"x\" } }, warn = 10, "
	    "crit = 5 }\n"), LK_EINPUT);
	cr_assert_eq(fx_diags.n, 5);
	assert_diag(1, "unknown setting \"intervall\" (did you mean "
	    "\"interval\"?)");
	assert_diag(2, "service \"a\": scope must be \"user\" or \"system\", "
	    "got \"global\"");
	assert_diag(3, "queue \"b\": unknown key \"redis.kee\"");
	assert_diag(4, "check.status must be HTTP status codes");
	assert_diag(5, "warn (10) must not be above crit (5)");
	for (size_t i = 0; i < fx_diags.n; i++) {
		char want[600];

		snprintf(want, sizeof want, "%s:%zu: ", fx_path, i + 1);
		cr_assert(strncmp(fx_diags.lines[i], want, strlen(want)) == 0,
		    "%s", fx_diags.lines[i]);
	}
}

Test(config, errors_are_capped)
{
	char text[8192] = "";

	for (int i = 0; i < 30; i++) {
		char line[128];

		snprintf(line, sizeof line, "service \"s%d\" { bogus = 1 }\n",
		    i);
		strcat(text, line);
	}
	cr_assert_eq(load(text), LK_EINPUT);
	cr_assert_eq(fx_diags.n, CONFIG_MAX_ERRORS);
	cr_assert_eq(fx_diags.dropped, 10);
}

Test(config, rabbitmq_password_is_refused)
{
	cr_assert_eq(load("\nqueue \"inventory\" {\n"
	    "  rabbitmq = { api = \"http://127.0.0.1:15672\", name = \"inv\",\n"
	    "               password = \"hunter2\" },\n"
	    "}\n"), LK_EINPUT);
	assert_diag(2, "queue \"inventory\": rabbitmq.password is not "
	    "allowed: put the password in an environment variable and name "
	    "it with password_env");
}

Test(config, env_needs_a_name)
{
	cr_assert_eq(load("service \"a\" { check = http { url = \"http://h\",\n"
	    "  headers = { A = env(\"not a name\"), B = 3 } } }\n"), LK_EINPUT);
	assert_diag(2, "env needs the name of an environment variable");
	assert_diag(1, "check.headers.B must be a string or env(\"NAME\"), "
	    "got number");
}

static const char notifiers[] =
"notify \"chat\" {\n"						/* 1 */
"  webhook = \"https://chat.example/hooks/incidents\",\n"
"  headers = { Authorization = env(\"HOOK_TOKEN\"),\n"
"              [\"X-Team\"] = \"infra\" },\n"
"  on = { \"opened\", \"resolved\" },\n"
"  timeout_ms = 3000, tries = 3, backoff = \"500ms\",\n"
"}\n"
"notify \"slack\" { webhook = env(\"SLACK_WEBHOOK_URL\") }\n"	/* 8 */
"notify \"pager\" {\n"						/* 9 */
"  alertmanager = \"http://127.0.0.1:9093\", resend = \"30s\",\n"
"}\n"
"notify \"script\" {\n"						/* 12 */
"  command = { argv = { \"/usr/local/bin/page\", \"--team\", \"infra\" },\n"
"              timeout_ms = 4000 },\n"
"  on = { \"mitigated\" },\n"
"}\n";

Test(config, notify_blocks_parse_into_c_values)
{
	const struct config_notify *n;

	cr_assert_eq(load(notifiers), LK_OK);
	cr_assert_eq(config_nnotify(fx_cfg), 4);
	cr_assert_null(config_notify(fx_cfg, 4));

	n = config_notify(fx_cfg, 0);
	cr_assert_str_eq(n->name, "chat");
	cr_assert_eq(n->line, 1);
	cr_assert_eq(n->kind, CONFIG_NOTIFY_WEBHOOK);
	cr_assert_str_eq(n->url, "https://chat.example/hooks/incidents");
	cr_assert_null(n->url_env);
	cr_assert_eq(n->nheaders, 2);
	for (size_t i = 0; i < n->nheaders; i++) {
		if (strcmp(n->headers[i].name, "Authorization") == 0) {
			cr_assert_null(n->headers[i].value);
			cr_assert_str_eq(n->headers[i].value_env, "HOOK_TOKEN");
		} else {
			cr_assert_str_eq(n->headers[i].name, "X-Team");
			cr_assert_str_eq(n->headers[i].value, "infra");
		}
	}
	cr_assert_eq(n->on, CONFIG_NOTIFY_OPENED | CONFIG_NOTIFY_RESOLVED);
	cr_assert_eq(n->timeout_ms, 3000);
	cr_assert_eq(n->tries, 3);
	cr_assert_eq(n->backoff_ms, 500);

	/* A URL that is a secret itself: only the variable's name. */
	n = config_notify(fx_cfg, 1);
	cr_assert_eq(n->kind, CONFIG_NOTIFY_WEBHOOK);
	cr_assert_null(n->url);
	cr_assert_str_eq(n->url_env, "SLACK_WEBHOOK_URL");
	cr_assert_eq(n->on, CONFIG_NOTIFY_ALL);
	cr_assert_eq(n->nheaders, 0);
	cr_assert_eq(n->timeout_ms, 5000);
	cr_assert_eq(n->tries, 5);
	cr_assert_eq(n->backoff_ms, 1000);

	n = config_notify(fx_cfg, 2);
	cr_assert_eq(n->line, 9);
	cr_assert_eq(n->kind, CONFIG_NOTIFY_ALERTMANAGER);
	cr_assert_str_eq(n->url, "http://127.0.0.1:9093");
	cr_assert_eq(n->on, CONFIG_NOTIFY_ALL);
	cr_assert_eq(n->resend_ms, 30000);

	n = config_notify(fx_cfg, 3);
	cr_assert_eq(n->kind, CONFIG_NOTIFY_COMMAND);
	cr_assert_eq(n->command.argc, 3);
	cr_assert_str_eq(n->command.argv[0], "/usr/local/bin/page");
	cr_assert_str_eq(n->command.argv[2], "infra");
	cr_assert_null(n->command.argv[3]);
	cr_assert_eq(n->command.timeout_ms, 4000);
	cr_assert_eq(n->on, CONFIG_NOTIFY_MITIGATED);
	cr_assert_null(n->url);
}

Test(config, notify_defaults)
{
	const struct config_notify *n;

	cr_assert_eq(load("notify \"am\" { alertmanager = "
	    "\"https://am.example:9093/prefix\" }\n"
	    "notify \"cmd\" { command = { argv = { \"/bin/true\" } } }\n"),
	    LK_OK);
	n = config_notify(fx_cfg, 0);
	cr_assert_eq(n->resend_ms, 60000);
	cr_assert_eq(n->tries, 5);
	n = config_notify(fx_cfg, 1);
	cr_assert_eq(n->command.timeout_ms, 10000);
	cr_assert_eq(n->on, CONFIG_NOTIFY_ALL);
}

Test(config, notify_mistakes_are_named_with_their_line)
{
	cr_assert_eq(load("notify \"a\" { webhok = \"http://h/x\" }\n"	/* 1 */
	    "notify \"b\" { webhook = \"http://h/x\",\n"
	    "  alertmanager = \"http://h:9093\" }\n"
	    "notify \"c\" { webhook = \"ftp://h/x\" }\n"			/* 4 */
	    "notify \"d\" { webhook = \"https://u:hunter2@h/x\" }\n"
	    "notify \"e\" { alertmanager = \"http://h:9093/api/v2/alerts\" }\n"
	    "notify \"f\" { webhook = \"http://h/x\", on = { \"resolve\", 3 } }\n"
	    "notify \"g\" { alertmanager = \"http://h\", on = { \"opened\" } }\n"
	    "notify \"h\" { webhook = \"http://h/x\",\n"			/* 9 */
	    "  headers = { Authorization = \"Bearer abc\" } }\n"
	    "notify \"i\" { command = { argv = { \"x\" } }, timeout_ms = 5,\n"
	    "  headers = { A = \"b\" }, resend = \"5s\" }\n"
	    "notify \"j\" { webhook = \"http://h/x\", tries = 0, backoff = \"10ms\" }\n"
	    "notify \"k\" { alertmanager = \"http://h\", resend = \"500ms\" }\n"
	    "notify \"a\" { command = { argv = { \"x\" } } }\n"		/* 15 */
	    "notify \"l\" { webhook = 5 }\n"), LK_EINPUT);
	assert_diag(1, "notify \"a\": unknown key \"webhok\" (did you mean "
	    "\"webhook\"?)");
	assert_diag(1, "notify \"a\": needs somewhere to send: webhook = URL, "
	    "alertmanager = URL or command = { argv = { ... } }");
	assert_diag(2, "notify \"b\": has both webhook and alertmanager: give "
	    "exactly one of webhook, alertmanager and command");
	assert_diag(4, "notify \"c\": webhook \"ftp://h/x\" is not a valid URL "
	    "(expected http:// or https://)");
	assert_diag(5, "notify \"d\": webhook has a password in its URL");
	for (size_t i = 0; i < fx_diags.n; i++)
		cr_assert_null(strstr(fx_diags.lines[i], "hunter2"), "%s",
		    fx_diags.lines[i]);
	assert_diag(6, "notify \"e\": alertmanager is Alertmanager's base URL");
	assert_diag(7, "notify \"f\": on[1] \"resolve\" is not an event (did "
	    "you mean \"resolved\"?)");
	assert_diag(7, "on[2] must be \"opened\", \"mitigated\" or "
	    "\"resolved\", got number");
	assert_diag(8, "notify \"g\": on does not apply to alertmanager");
	assert_diag(9, "notify \"h\": headers.Authorization looks like a "
	    "credential: write Authorization = env(\"NAME\")");
	assert_diag(11, "notify \"i\": headers go with webhook or alertmanager");
	assert_diag(11, "timeout_ms is for webhook and alertmanager");
	assert_diag(11, "resend applies to alertmanager alone");
	assert_diag(13, "notify \"j\": tries must be 1 to 20, got 0");
	assert_diag(13, "backoff must be at least 100ms");
	assert_diag(14, "notify \"k\": resend must be at least 1s");
	assert_diag(15, "notify \"a\" is already defined at line 1");
	assert_diag(16, "notify \"l\": webhook must be a URL or env(\"NAME\"), "
	    "got number");
}

/* Each sandbox escape fails quickly with a message naming the problem. */
static void
assert_refused(const char *text, int line, const char *needle)
{
	cr_assert_eq(load(text), LK_EINPUT, "%s", text);
	assert_diag(line, needle);
}

Test(config, notify_is_in_the_language)
{
	assert_refused("notfy \"x\" { }\n", 1,
	    "undefined variable \"notfy\" (did you mean \"notify\"?)");
	assert_refused("notify \"x\"\n", 1, "notify \"x\" has no body");
	/* A service and a notifier may share a name. */
	cr_assert_eq(load("service \"x\" { }\n"
	    "notify \"x\" { command = { argv = { \"/bin/true\" } } }\n"), LK_OK);
}

Test(config, sandbox_has_no_os)
{
	assert_refused("\nos.execute(\"touch /tmp/pwned\")\n", 2,
	    "\"os\" is not available in a configuration file");
}

Test(config, sandbox_has_no_io)
{
	assert_refused("local f = io.open(\"/etc/passwd\")\n", 1,
	    "\"io\" is not available");
}

Test(config, sandbox_has_no_require)
{
	assert_refused("require(\"socket\")\n", 1,
	    "\"require\" is not available");
}

Test(config, sandbox_has_no_load)
{
	assert_refused("load(\"return 1\")()\n", 1,
	    "\"load\" is not available");
	assert_refused("dofile(\"/etc/passwd\")\n", 1,
	    "\"dofile\" is not available");
	assert_refused("local x = 1\n"
	    "collectgarbage()\n", 2, "\"collectgarbage\" is not available");
}

Test(config, undefined_global_is_an_error)
{
	assert_refused("service \"a\" { unit = unit_name }\n", 1,
	    "undefined variable \"unit_name\"");
	assert_refused("servcie \"a\" { }\n", 1,
	    "undefined variable \"servcie\" (did you mean \"service\"?)");
}

Test(config, endless_loop_is_stopped)
{
	assert_refused("service \"a\" { }\n"
	    "while true do end\n", 2, "still running after");
}

Test(config, endless_loop_cannot_hide_in_pcall)
{
	assert_refused("while true do\n"
	    "  pcall(function() while true do end end)\n"
	    "end\n", 2, "still running after");
}

Test(config, memory_is_capped)
{
	assert_refused("local s = (\"x\"):rep(2^30)\n", 0,
	    "configuration needs more than 16 MiB of memory");
	assert_refused("local t = {}\n"
	    "for i = 1, 1e7 do t[i] = tostring(i) .. \"padding\" end\n", 0,
	    "more than 16 MiB of memory");
}

Test(config, slow_library_calls_are_stopped_by_the_clock)
{
	/* Each upper() of 2 MB is one instruction: only the clock stops
	 * this. */
	assert_refused("local s = string.rep(\"x\", 2e6)\n"
	    "for i = 1, 1e7 do local x = s:upper() end\n", 2, "or 2000 ms");
}

Test(config, copies_out_of_lua_count_against_the_cap)
{
	assert_refused("local s = string.rep(\"x\", 1e6)\n"
	    "for i = 1, 3000 do service(s .. i) { unit = \"u\" } end\n", 2,
	    "more than 16 MiB of memory");
	assert_refused("for i = 1, 6000 do service(\"s\" .. i) { } end\n",
	    1, "more than 5000 services and queues");
}

Test(config, bytecode_is_refused)
{
	char bc[] = "\x1bLua\x54\x00";
	struct lk_err err = { 0 };

	cr_assert_eq(config_load_buffer("bc.lua", bc, sizeof bc - 1, &fx_cfg,
	    &fx_diags, &err), LK_EINPUT);
	cr_assert(strstr(err.msg, "attempt to load a binary chunk") != NULL,
	    "%s", err.msg);
}

Test(config, unreadable_file)
{
	struct lk_err err = { 0 };
	enum lk_code code;

	code = config_load("/nonexistent/lookout.lua", &fx_cfg, &fx_diags,
	    &err);
	cr_assert_eq(code, LK_ENOTFOUND);
	cr_assert_str_eq(err.msg, "config /nonexistent/lookout.lua: no such "
	    "file or directory");
	cr_assert_eq(fx_diags.n, 1);
}

Test(config, search_order)
{
	struct lk_err err = { 0 };
	char xdg[600], xdgfile[700], home[600], homefile[700], *path = NULL;
	struct stat st;

	/* Each criterion test runs in its own process: chdir and setenv
	 * stay here. */
	cr_assert_eq(chdir(fx_dir), 0);
	snprintf(xdg, sizeof xdg, "%s/xdg", fx_dir);
	snprintf(xdgfile, sizeof xdgfile, "%s/lookout/lookout.lua", xdg);
	snprintf(home, sizeof home, "%s/home", fx_dir);
	snprintf(homefile, sizeof homefile, "%s/.config/lookout/lookout.lua",
	    home);
	unsetenv("LOOKOUT_CONFIG");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	setenv("HOME", home, 1);

	if (stat("/etc/lookout/lookout.lua", &st) != 0) {
		cr_assert_eq(config_find(NULL, &path, &err), LK_OK);
		cr_assert_null(path, "no config is a valid result");
	}

	cr_assert_eq(system("mkdir -p xdg/lookout home/.config/lookout"), 0);
	write_file(homefile, "");
	/* $XDG_CONFIG_HOME set: ~/.config is not looked at. */
	cr_assert_eq(config_find(NULL, &path, &err), LK_OK);
	if (path != NULL)
		cr_assert_str_eq(path, "/etc/lookout/lookout.lua");
	free(path);
	unsetenv("XDG_CONFIG_HOME");
	cr_assert_eq(config_find(NULL, &path, &err), LK_OK);
	cr_assert_str_eq(path, homefile);
	free(path);

	setenv("XDG_CONFIG_HOME", xdg, 1);
	write_file(xdgfile, "");
	cr_assert_eq(config_find(NULL, &path, &err), LK_OK);
	cr_assert_str_eq(path, xdgfile);
	free(path);

	write_file("lookout.lua", "");
	cr_assert_eq(config_find(NULL, &path, &err), LK_OK);
	cr_assert_str_eq(path, "lookout.lua");
	free(path);

	setenv("LOOKOUT_CONFIG", xdgfile, 1);
	cr_assert_eq(config_find(NULL, &path, &err), LK_OK);
	cr_assert_str_eq(path, xdgfile);
	free(path);

	cr_assert_eq(config_find(homefile, &path, &err), LK_OK);
	cr_assert_str_eq(path, homefile);
	free(path);

	/* Named explicitly, a missing file is an error, not "no config". */
	cr_assert_eq(config_find("/nonexistent.lua", &path, &err),
	    LK_ENOTFOUND);
	cr_assert_null(path);
	cr_assert_str_eq(err.msg, "config /nonexistent.lua: No such file or "
	    "directory");
	setenv("LOOKOUT_CONFIG", "/nonexistent.lua", 1);
	cr_assert_eq(config_find(NULL, &path, &err), LK_ENOTFOUND);
	cr_assert(strstr(err.msg, "$LOOKOUT_CONFIG") != NULL, "%s", err.msg);
}

Test(config, example_template_validates)
{
	struct lk_err err = { 0 };
	const struct config_queue *q;

	cr_assert_eq(config_load(SOURCE_ROOT "/templates/lookout.example.lua",
	    &fx_cfg, &fx_diags, &err), LK_OK, "%s", err.msg);
	cr_assert_eq(config_nservices(fx_cfg), 1);
	cr_assert_eq(config_nqueues(fx_cfg), 2);
	cr_assert_str_eq(config_service(fx_cfg, 0)->check->url,
	    "http://127.0.0.1:8080/api/inbox/joe");
	q = config_queue_find(fx_cfg, "mail");
	cr_assert_str_eq(q->redis.paused_key, "queues:default:paused");
	cr_assert_eq(q->stall_after_ms, 5 * 60 * 1000);
	q = config_queue_find(fx_cfg, "inventory");
	cr_assert_str_eq(q->rabbitmq.password_env, "RABBIT_PASS");
	cr_assert_eq(config_nnotify(fx_cfg), 1);
	cr_assert_eq(config_notify(fx_cfg, 0)->kind,
	    CONFIG_NOTIFY_ALERTMANAGER);
}

Test(config, sandbox_has_no_pattern_matching)
{
	/* Backtracking runs in C, out of the count hook's reach. */
	assert_refused("local s = (\"a\"):rep(30)\n"
	    "local x = s:find((\"a*\"):rep(30) .. \"b\")\n", 2,
	    "attempt to call a nil value (method 'find')");
}

/* Runs "$LOOKOUT check ARGS" and returns its exit status and output. */
static int
run_check(const char *args, char *out, size_t outlen)
{
	const char *lookout = getenv("LOOKOUT");
	char cmd[1024];
	size_t n;
	FILE *p;
	int st;

	snprintf(cmd, sizeof cmd, "'%s' check %s 2>&1", lookout, args);
	cr_assert_not_null(p = popen(cmd, "r"));
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(config, check_command)
{
	char out[4096], good[600], args[1300], want[1400];

	if (getenv("LOOKOUT") == NULL || *getenv("LOOKOUT") == '\0')
		cr_skip_test("$LOOKOUT is not set (run through meson test)");
	snprintf(good, sizeof good, "%s/good.lua", fx_dir);
	write_file(good, "service \"a\" { }\n");
	write_file(fx_path, "service \"a\" {\n"
	    "  scope = 3 }\n"
	    "queue \"q\" { }\n");
	snprintf(args, sizeof args, "'%s' '%s'", good, fx_path);
	cr_assert_eq(run_check(args, out, sizeof out), 2, "%s", out);
	snprintf(want, sizeof want, "%s: ok (1 service, 0 queues)\n", good);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	snprintf(want, sizeof want, "%s:1: service \"a\": scope must be a "
	    "string, got number\n", fx_path);
	cr_assert(strstr(out, want) != NULL, "%s", out);
	snprintf(want, sizeof want, "%s:3: queue \"q\": needs a source",
	    fx_path);
	cr_assert(strstr(out, want) != NULL, "%s", out);

	snprintf(args, sizeof args, "'%s'", good);
	cr_assert_eq(run_check(args, out, sizeof out), 0, "%s", out);
}

/* Other hosts: host on a service or a command queue, ssh_config, ssh_timeout. */

Test(config, hosts_and_ssh_settings)
{
	char want[600];

	cr_assert_eq(load("ssh_config = \"ssh/config\"\n"
	    "ssh_timeout = \"3s\"\n"
	    "service \"api\" { unit = \"api.service\", host = \"web1\" }\n"
	    "service \"db\" { host = \"deploy@10.0.0.7\" }\n"
	    "service \"local\" { }\n"
	    "queue \"jobs\" { command = { argv = { \"depth\" } }, host = "
	    "\"worker-2\" }\n"), LK_OK);
	cr_expect_str_eq(config_service(fx_cfg, 0)->host, "web1");
	cr_expect_str_eq(config_service(fx_cfg, 1)->host, "deploy@10.0.0.7");
	cr_expect_null(config_service(fx_cfg, 2)->host);
	cr_expect_str_eq(config_queue(fx_cfg, 0)->host, "worker-2");
	cr_expect_eq(config_ssh_timeout_ms(fx_cfg), 3000);
	/* Relative to the configuration's own directory. */
	snprintf(want, sizeof want, "%s/ssh/config", fx_dir);
	cr_expect_str_eq(config_ssh_config(fx_cfg), want);
	config_free(&fx_cfg);

	cr_assert_eq(load("service \"a\" { }\n"), LK_OK);
	cr_expect_null(config_ssh_config(fx_cfg));
	cr_expect_eq(config_ssh_timeout_ms(fx_cfg), CONFIG_SSH_TIMEOUT_MS);
	config_free(&fx_cfg);
	cr_assert_eq(load("ssh_config = \"/etc/lookout/ssh\"\n"), LK_OK);
	cr_expect_str_eq(config_ssh_config(fx_cfg), "/etc/lookout/ssh");
}

Test(config, hosts_ssh_could_misread_are_refused)
{
	cr_assert_eq(load("service \"a\" { host = \"-oProxyCommand=id\" }\n"
	    "service \"b\" { host = \"web1; id\" }\n"
	    "service \"c\" { host = 5 }\n"
	    "queue \"q\" { redis = { url = \"redis://h\" }, host = \"w\" }\n"
	    "service \"d\" { host = \"a\\nb\" }\n"
	    "ssh_config = \"\"\n"
	    "ssh_timeout = \"soon\"\n"), LK_EINPUT);
	assert_diag(1, "service \"a\": host \"-oProxyCommand=id\" is not an "
	    "ssh destination");
	assert_diag(2, "service \"b\": host \"web1; id\" is not an ssh "
	    "destination");
	assert_diag(3, "service \"c\": host must be a string");
	assert_diag(4, "queue \"q\": host is for command queues");
	/* Shown escaped: the name may hold anything. */
	assert_diag(5, "host \"a^Jb\" is not");
	assert_diag(6, "ssh_config must name a file");
	assert_diag(7, "ssh_timeout \"soon\" is not a duration");
}

/* --- watch = { ... }, resolve_after, deadman: what `lookout watch` reads --- */

Test(config, watch_keys_parse_into_c_values)
{
	const struct config_service *s;
	const struct config_queue *q;

	cr_assert_eq(load("resolve_after = \"3s\"\n"
	    "deadman = \"https://hc.example/ping/abc\"\n"
	    "service \"bus\" { watch = { severity = \"P1\", unhealthy_after = 3,\n"
	    "  down_after = \"2s\", restarts = 5, restart_window = \"10m\",\n"
	    "  ignore = { \"not-enabled\", \"deleted\" } } }\n"
	    "service \"quiet\" { watch = false }\n"
	    "service \"plain\" { }\n"
	    "queue \"mail\" { command = { argv = { \"/bin/echo\", \"1\" } },\n"
	    "  watch = { paused_after = \"1m\", crit_after = 0,\n"
	    "            growing_for = \"10m\", ignore = { \"stale\" } } }\n"),
	    LK_OK);
	cr_assert_eq(config_resolve_after_ms(fx_cfg), 3000);
	cr_assert_str_eq(config_deadman(fx_cfg), "https://hc.example/ping/abc");
	s = config_service_find(fx_cfg, "bus");
	cr_assert_eq(s->watch.off, 0);
	cr_assert_str_eq(s->watch.severity, "P1");
	cr_assert_eq(s->watch.unhealthy_after, 3);
	cr_assert_eq(s->watch.down_after_ms, 2000);
	cr_assert_eq(s->watch.restarts, 5);
	cr_assert_eq(s->watch.restart_window_ms, 600000);
	cr_assert_eq(s->watch.ignore, (1u << CONFIG_WATCH_NOT_ENABLED) |
	    (1u << CONFIG_WATCH_DELETED));
	cr_assert_eq(config_service_find(fx_cfg, "quiet")->watch.off, 1);
	/* Unset: -1, for the watcher's own defaults. */
	s = config_service_find(fx_cfg, "plain");
	cr_assert_eq(s->watch.off, 0);
	cr_assert_str_eq(s->watch.severity, "");
	cr_assert_eq(s->watch.unhealthy_after, -1);
	cr_assert_eq(s->watch.down_after_ms, -1);
	cr_assert_eq(s->watch.ignore, 0);
	q = config_queue_find(fx_cfg, "mail");
	cr_assert_eq(q->watch.paused_after_ms, 60000);
	cr_assert_eq(q->watch.crit_after_ms, 0);
	cr_assert_eq(q->watch.growing_for_ms, 600000);
	cr_assert_eq(q->watch.ignore, 1u << CONFIG_WATCH_STALE);
	cr_assert_str_eq(config_watch_rule_name(CONFIG_WATCH_NOT_ENABLED),
	    "not-enabled");
}

Test(config, watch_settings_default_to_unset)
{
	cr_assert_eq(load("service \"a\" { }\n"), LK_OK);
	cr_assert_eq(config_resolve_after_ms(fx_cfg), -1);
	cr_assert_null(config_deadman(fx_cfg));
}

Test(config, watch_mistakes_are_named_with_their_line)
{
	cr_assert_eq(load("service \"a\" { unit = \"a.service\" }\n"
	    "service \"b\" { watch = { unhealthy_afer = 2, paused_after = \"1s\",\n"
	    "  severity = \"P5\", unhealthy_after = 0, restart_window = \"10ms\",\n"
	    "  ignore = { \"stalled\", \"dwn\", 3 } } }\n"
	    "queue \"q\" { command = { argv = { \"/bin/echo\", \"1\" } },\n"
	    "  watch = { crit_after = \"soon\", ignore = \"stale\" } }\n"
	    "queue \"r\" { command = { argv = { \"/bin/echo\", \"1\" } }, watch = 3 }\n"
	    "resolve_after = \"a while\"\n"
	    "deadman = \"ftp://x/\"\n"), LK_EINPUT);
	assert_diag(2, "service \"b\": unknown key \"watch.unhealthy_afer\" "
	    "(did you mean \"unhealthy_after\"?)");
	assert_diag(2, "service \"b\": watch.paused_after is for a queue, not "
	    "a service");
	assert_diag(2, "watch.severity must be \"P1\", \"P2\", \"P3\" or "
	    "\"P4\", got \"P5\"");
	assert_diag(2, "watch.unhealthy_after must be 1 or more");
	assert_diag(2, "watch.restart_window must be at least 1s");
	assert_diag(2, "watch.ignore: \"stalled\" is a rule of a queue, not "
	    "of a service");
	assert_diag(2, "watch.ignore: \"dwn\" is not a rule of a service (did "
	    "you mean \"down\"?)");
	assert_diag(2, "watch.ignore[3] must be a rule's name, got number");
	assert_diag(5, "queue \"q\": watch.crit_after \"soon\" is not a "
	    "duration");
	assert_diag(5, "watch.ignore must be a list of rules");
	assert_diag(7, "queue \"r\": watch must be a table { ... } or false, "
	    "got number");
	assert_diag(8, "resolve_after \"a while\" is not a duration");
	assert_diag(9, "deadman \"ftp://x/\" is not a valid URL");
}
