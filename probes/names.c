#include "probes.h"

#include <stdio.h>

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

void
probe_flags_join(unsigned mask, char *buf, size_t len)
{
	const char *names[16];
	size_t n = probe_flag_names(mask, names, 16), off = 0;

	snprintf(buf, len, "-");
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i ? "," : "", names[i]);
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
