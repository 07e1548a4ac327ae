/* store: runbook runs, their steps and events. */
#include "fixture.h"

TestSuite(run, .init = fx_setup, .fini = fx_teardown, .timeout = 30);

struct kinds {
	char list[1024];
};

static int
collect_kinds(const struct store_event *ev, void *arg)
{
	struct kinds *k = arg;

	strcat(k->list, ev->kind);
	strcat(k->list, " ");
	return 0;
}

Test(run, a_run_is_recorded_with_its_source_steps_and_events)
{
	const char *src = "return runbook { name = 'restart-service' }";
	struct lk_err err = { 0 };
	struct store_run *r = NULL;
	struct kinds k = { "" };
	struct store_verify_report vr;
	char sha[STORE_HASH_HEX];
	int64_t inc = 0, id = 0;

	cr_assert_eq(store_incident_open(fx_store, "bus down", "P2", NULL, 0,
	    &inc, &err), LK_OK);
	cr_assert_eq(store_run_begin(fx_store, "restart-service", src,
	    "{\"unit\":\"message-bus.service\"}", inc, false, 0, &id, &err),
	    LK_OK, "%s", err.msg);
	cr_assert_eq(store_step_begin(fx_store, id, 0, "start",
	    "systemctl start message-bus.service", &err), LK_OK);
	cr_assert_eq(store_action_event(fx_store, id, 0, "action.started",
	    "systemctl.start", "message-bus.service", NULL, &err), LK_OK);
	cr_assert_eq(store_action_event(fx_store, id, 0, "action.finished",
	    "systemctl.start", "ok", "{\"ok\":true}", &err), LK_OK);
	cr_assert_eq(store_step_finish(fx_store, id, 0, "ok", "active (running)", NULL,
	    &err), LK_OK);
	cr_assert_eq(store_step_begin(fx_store, id, 1, "endpoint check", NULL,
	    &err), LK_OK);
	cr_assert_eq(store_step_finish(fx_store, id, 1, "failed",
	    "HTTP 404 with an empty body (expected 200)", NULL, &err), LK_OK);
	cr_assert_eq(store_run_finish(fx_store, id, "failed",
	    "step 2 failed", &err), LK_OK);

	cr_assert_eq(store_run_get(fx_store, id, &r, &err), LK_OK);
	cr_expect_str_eq(r->source, src);
	store_sha256_hex(src, strlen(src), sha);
	cr_expect_str_eq(r->sha256, sha);
	cr_expect_str_eq(r->status, "failed");
	cr_expect_str_eq(r->message, "step 2 failed");
	cr_expect_eq(r->incident_id, inc);
	cr_assert_eq(r->nsteps, 2);
	cr_expect_str_eq(r->steps[0].status, "ok");
	cr_expect_str_eq(r->steps[1].outcome,
	    "HTTP 404 with an empty body (expected 200)");
	store_run_free(&r);

	cr_assert_eq(store_run_events(fx_store, id, collect_kinds, &k, &err),
	    LK_OK);
	cr_expect_str_eq(k.list, "run.started step.started action.started "
	    "action.finished step.finished step.started step.finished "
	    "run.finished ");
	cr_assert_eq(store_verify(fx_store, 0, &vr, &err), LK_OK);
	cr_expect(vr.ok, "%s", vr.reason);
}

Test(run, a_run_shows_in_its_incidents_postmortem)
{
	struct lk_err err = { 0 };
	int64_t inc = 0, id = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	cr_assert_eq(store_incident_open(fx_store, "bus down", "P2", NULL, 0,
	    &inc, &err), LK_OK);
	cr_assert_eq(store_run_begin(fx_store, "restart-service", "x", "{}",
	    inc, false, 0, &id, &err), LK_OK);
	cr_assert_eq(store_step_begin(fx_store, id, 0, "start", NULL, &err),
	    LK_OK);
	cr_assert_eq(store_step_finish(fx_store, id, 0, "ok", "active", NULL,
	    &err), LK_OK);
	/* A step whose actions ran on other hosts says which. */
	cr_assert_eq(store_step_begin(fx_store, id, 1, "enable", NULL, &err),
	    LK_OK);
	cr_assert_eq(store_step_finish(fx_store, id, 1, "ok", "enabled",
	    "web-1, web|2", &err), LK_OK);
	cr_assert_eq(store_run_finish(fx_store, id, "succeeded", NULL, &err),
	    LK_OK);
	out = open_memstream(&buf, &len);
	cr_assert_eq(store_export(fx_store, inc, STORE_MD, out, &err), LK_OK);
	fclose(out);
	cr_expect(strstr(buf, "| Step \"start\": ok: active |") != NULL, "%s",
	    buf);
	cr_expect(strstr(buf, "| Step \"enable\" on web-1, web\\|2: ok: enabled |")
	    != NULL, "%s", buf);
	cr_expect(strstr(buf, "1. Runbook `restart-service` (run 1) at ") !=
	    NULL, "%s", buf);
	cr_expect(strstr(buf, ": succeeded\n") != NULL, "%s", buf);
	free(buf);
}

Test(run, unknown_runs_and_incidents_are_refused)
{
	struct lk_err err = { 0 };
	struct store_run *r = NULL;
	int64_t id = 0;

	cr_expect_eq(store_run_get(fx_store, 9, &r, &err), LK_ENOTFOUND);
	cr_expect(strstr(err.msg, "run 9: no such run") != NULL, "%s", err.msg);
	cr_expect_eq(store_run_begin(fx_store, "x", "x", "{}", 5, false, 0,
	    &id, &err), LK_ENOTFOUND);
	cr_expect_eq(store_step_begin(fx_store, 77, 0, "s", NULL, &err),
	    LK_ENOTFOUND);
}
