/*
 * watch: `lookout watch`, the headless watcher.
 *
 * It runs the probes on the loop, judges their states by the rules of the
 * configuration (watch/rules.c), opens an incident when one fires (or adds
 * to the one already open for the same service), with the evidence (the
 * failing checks, the unit's last journal lines) and the time of the first
 * failing sample as its detected time, infers its milestones (acknowledged
 * at the first action of a person on it, mitigated when its checks pass
 * again, resolved after resolve_after of that), and tells the notifiers.
 * It records a state.change event per state change (a flap is one), a
 * heartbeat per cycle, pings systemd's watchdog from the loop and asks the
 * configuration's dead man's switch, so that it is noticed when it stops.
 */
#ifndef LK_WATCH_H
#define LK_WATCH_H

struct watch_opts {
	const char *config;	/* --config, or NULL: the usual search */
	const char *db_path;	/* the timeline */
};

/*
 * Runs until SIGTERM or SIGINT (a clean stop: 0), reloading the
 * configuration on SIGHUP (a bad one is logged and the old one kept).
 * Logs on stderr, one line per event.  Returns the exit status: 2 when the
 * configuration or the timeline cannot be opened at start.
 */
int watch_main(const struct watch_opts *o);

#endif
