/*
 * Which states need a look, and how badly: one rule for everyone who
 * judges a state (`status` exits 1 on it, the console sorts worst first
 * by it, `watch` raises on it), so they never disagree.
 */
#include "probes.h"

#include <string.h>

/* Flags that mean "look at me"; insecure is only informational. */
#define SVC_DEGRADED (SVC_FAILED | SVC_INACTIVE | SVC_NOT_ENABLED | \
	SVC_UNHEALTHY | SVC_DELETED_CWD | SVC_DELETED_EXE | SVC_RESTARTING | \
	SVC_UNREACHABLE | SVC_STALE)
#define Q_DEGRADED (Q_STALLED | Q_PAUSED | Q_NO_CONSUMERS | Q_STALE)

static bool
not_found(const struct probe_service *s)
{
	return s->load[0] == '\0' || strcmp(s->load, "not-found") == 0;
}

bool
probe_service_degraded(const struct probe_service *s)
{
	return (s->flags & SVC_DEGRADED) || s->health == HEALTH_FAILING ||
	    s->health == HEALTH_UNKNOWN || not_found(s);
}

bool
probe_queue_degraded(const struct probe_queue *q)
{
	return q->state != QSTATE_OK || (q->flags & Q_DEGRADED);
}

/*
 * Down or answering wrong is worse than "will not survive a reboot", which
 * is worse than not knowing yet: the order an engineer fixes things in.
 */
int
probe_service_severity(const struct probe_service *s)
{
	if (s->flags & SVC_FAILED || (s->load[0] != '\0' && not_found(s)))
		return PROBE_SEV_DOWN;
	/* A host that cannot be reached may be down, whatever the last
	 * state read there said. */
	if (s->flags & (SVC_INACTIVE | SVC_UNHEALTHY | SVC_DELETED_CWD |
	    SVC_DELETED_EXE | SVC_UNREACHABLE) || s->health == HEALTH_FAILING)
		return PROBE_SEV_BROKEN;
	if (s->flags & (SVC_RESTARTING | SVC_NOT_ENABLED))
		return PROBE_SEV_WARN;
	if (probe_service_degraded(s))
		return PROBE_SEV_UNKNOWN;
	return PROBE_SEV_OK;
}

int
probe_queue_severity(const struct probe_queue *q)
{
	switch (q->state) {
	case QSTATE_CRIT:
		return PROBE_SEV_DOWN;
	case QSTATE_STALLED:
	case QSTATE_PAUSED:
		return PROBE_SEV_BROKEN;
	case QSTATE_WARN:
		return PROBE_SEV_WARN;
	case QSTATE_UNKNOWN:
		return PROBE_SEV_UNKNOWN;
	case QSTATE_OK:
		break;
	}
	return probe_queue_degraded(q) ? PROBE_SEV_WARN : PROBE_SEV_OK;
}
