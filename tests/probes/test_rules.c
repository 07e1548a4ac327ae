/* probes/rules.c: the one rule for "needs a look", and how badly. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "probes.h"

static struct probe_service
svc(const char *load, const char *active, unsigned flags,
    enum probe_health health)
{
	struct probe_service s = { .name = "x", .latency_ms = -1 };

	snprintf(s.load, sizeof s.load, "%s", load);
	snprintf(s.active, sizeof s.active, "%s", active);
	s.flags = flags;
	s.health = health;
	return s;
}

Test(rules, a_healthy_service_needs_no_look)
{
	struct probe_service s = svc("loaded", "active", 0, HEALTH_OK);

	cr_expect_not(probe_service_degraded(&s));
	cr_expect_eq(probe_service_severity(&s), PROBE_SEV_OK);
	s.flags = SVC_INSECURE;		/* informational only */
	cr_expect_not(probe_service_degraded(&s));
}

Test(rules, services_rank_in_the_order_they_are_fixed)
{
	struct probe_service failed = svc("loaded", "failed", SVC_FAILED,
	    HEALTH_NONE);
	struct probe_service missing = svc("not-found", "inactive", 0,
	    HEALTH_NONE);
	struct probe_service unhealthy = svc("loaded", "active",
	    SVC_UNHEALTHY, HEALTH_FAILING);
	struct probe_service deleted = svc("loaded", "active",
	    SVC_DELETED_CWD, HEALTH_OK);
	struct probe_service disabled = svc("loaded", "active",
	    SVC_NOT_ENABLED, HEALTH_OK);
	struct probe_service unread = svc("", "", 0, HEALTH_UNKNOWN);

	cr_expect_eq(probe_service_severity(&failed), PROBE_SEV_DOWN);
	cr_expect_eq(probe_service_severity(&missing), PROBE_SEV_DOWN);
	cr_expect_eq(probe_service_severity(&unhealthy), PROBE_SEV_BROKEN);
	cr_expect_eq(probe_service_severity(&deleted), PROBE_SEV_BROKEN);
	cr_expect_eq(probe_service_severity(&disabled), PROBE_SEV_WARN);
	cr_expect_eq(probe_service_severity(&unread), PROBE_SEV_UNKNOWN);
	cr_expect(probe_service_degraded(&disabled));
	cr_expect(probe_service_degraded(&unread));
}

Test(rules, queues_rank_by_state_then_flags)
{
	struct probe_queue q = { .name = "q", .state = QSTATE_OK };

	cr_expect_eq(probe_queue_severity(&q), PROBE_SEV_OK);
	cr_expect_not(probe_queue_degraded(&q));
	q.flags = Q_NO_CONSUMERS;
	cr_expect_eq(probe_queue_severity(&q), PROBE_SEV_WARN);
	cr_expect(probe_queue_degraded(&q));
	q.flags = 0;
	q.state = QSTATE_STALLED;
	cr_expect_eq(probe_queue_severity(&q), PROBE_SEV_BROKEN);
	q.state = QSTATE_PAUSED;
	cr_expect_eq(probe_queue_severity(&q), PROBE_SEV_BROKEN);
	q.state = QSTATE_CRIT;
	cr_expect_eq(probe_queue_severity(&q), PROBE_SEV_DOWN);
}
