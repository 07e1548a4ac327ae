/*
 * An sd-bus connection on the loop: its fd watched for what sd-bus wants
 * (sd_bus_get_events) and its next timeout armed as a loop timer.  Shared
 * by the systemd probe and the runbooks' systemctl actions; each owner
 * embeds a struct busio and calls busio_update() after it queues a call
 * and after every sd_bus_process() round.
 */
#ifndef LK_BUSIO_H
#define LK_BUSIO_H

#include <stdbool.h>

#include "err.h"

struct loop;
struct sd_bus;

struct busio {
	struct loop *loop;
	struct sd_bus *bus;
	int fd;
	int mask;		/* what the loop watches fd for */
	long long timer;	/* sd-bus's own timeout, 0 if none */
	/* Called from the loop when the bus has something to process. */
	void (*process)(void *owner);
	void *owner;
};

/*
 * The one way lookout connects to a systemd manager (the user's, or the
 * system's): the manager's own socket when we may use it, as systemctl
 * does, so every call goes straight to systemd instead of through the bus
 * daemon; the bus otherwise.  On success *out is a started connection the
 * caller owns and *sender the name to match the manager's signals with
 * (NULL on the manager's own socket, where no bus daemon names a sender).
 * Returns 0 or a negative errno.
 */
int busio_open(bool user, struct sd_bus **out, const char **sender);

/*
 * The same for a manager on another host: `ssh -xT HOST
 * systemd-stdio-bridge`, the bridge systemctl -H uses, with sd-bus
 * speaking over a socketpair to ssh's stdin and stdout.  ssh_config (or
 * NULL) goes to ssh as -F; host must pass lk_ssh_host_ok().  For the user
 * manager the bridge is pointed at the user's bus, $XDG_RUNTIME_DIR/bus as
 * the remote login shell has it (/run/user/UID when it has none): told
 * --user, systemd 252's bridge still connects to the system bus.
 *
 * Nothing waits here: on LK_OK *out is a started connection whose
 * authentication and Hello go out with the first pass of the loop, and
 * calls may be queued on it at once; *sender is the manager's bus name.
 * *ssh is the process that carries it, which the caller owns and frees
 * (busio_ssh_free) after closing the bus.  When ssh ends, for whatever
 * reason, gone(owner) is called from the loop, and busio_ssh_why() then
 * says why in one line ("alias1: ssh: connect to host ... refused").
 */
struct busio_ssh;
enum lk_code busio_open_remote(struct loop *loop, const char *ssh_config,
    const char *host, bool user, void (*gone)(void *owner), void *owner,
    struct sd_bus **out, const char **sender, struct busio_ssh **ssh,
    struct lk_err *err);
/* Why ssh ended, or NULL while it runs. */
const char *busio_ssh_why(const struct busio_ssh *p);
/* The last line ssh said on stderr so far: a reason for a connection
 * that never answered ("" when nothing). */
const char *busio_ssh_said(struct busio_ssh *p);
/* Ends ssh if it still runs (no gone() call then) and frees *p. */
void busio_ssh_free(struct busio_ssh **p);

void busio_init(struct busio *io, struct loop *loop, struct sd_bus *bus,
    void (*process)(void *owner), void *owner);
/* Re-arms the fd and the timer; a broken connection is watched no more. */
void busio_update(struct busio *io, bool broken);
/* Stops watching (before the bus is closed). */
void busio_detach(struct busio *io);

#endif
