#include "probes.h"

static const char *const flag_names[] = {
#define PROBE_X(name, text) text,
	PROBE_SERVICE_FLAGS(PROBE_X)
	PROBE_QUEUE_FLAGS(PROBE_X)
#undef PROBE_X
};

size_t
probe_flag_names(unsigned mask, const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
		if ((mask & (1u << i)) && n < max)
			names[n++] = flag_names[i];
	return n;
}

const char *
probe_health_name(enum probe_health h)
{
	static const char *const names[] = { "unknown", "ok", "failing",
	    "none" };

	return (unsigned)h < 4 ? names[h] : "unknown";
}

const char *
probe_queue_state_name(enum probe_queue_state s)
{
	static const char *const names[] = { "unknown", "ok", "warn", "crit",
	    "stalled", "paused" };

	return (unsigned)s < 6 ? names[s] : "unknown";
}
