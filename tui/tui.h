/*
 * tui: the console.  The only module that includes curses.
 *
 * An engineer who has just SSH'd in sees every service and queue, live,
 * worst first; opens a unit's detail and journal; runs a runbook step by
 * step; keeps the incident's timeline.  Everything waits on the caller's
 * event loop: nothing the console shows is read while it draws, and no
 * probe, query, journal read or runbook action ever blocks a key.
 */
#ifndef LK_TUI_H
#define LK_TUI_H

#include <stdbool.h>

#include "../core/err.h"

struct loop;
struct store;
struct probes;
struct config;

struct tui_opts {
	struct loop *loop;
	struct store *store;		/* watched for other processes' events */
	struct probes *probes;		/* started by the caller */
	const struct config *cfg;	/* or NULL: no configuration */
	const char *lock_dir;		/* runbook locks beside the timeline */
	bool readonly;			/* refuse everything that changes anything */
};

/*
 * Runs the console on the terminal until the operator quits, the terminal
 * is lost (SIGHUP, EOF) or a SIGTERM arrives.  A runbook run in progress
 * then behaves as the engine promises: the action in flight finishes, its
 * outcome is recorded, no further step starts.  Returns the exit status:
 * 0 after a quit, 4 when interrupted, 2 when the terminal cannot be used
 * (err says why).
 */
int tui_main(const struct tui_opts *o, struct lk_err *err);

#endif
