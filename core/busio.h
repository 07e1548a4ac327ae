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

void busio_init(struct busio *io, struct loop *loop, struct sd_bus *bus,
    void (*process)(void *owner), void *owner);
/* Re-arms the fd and the timer; a broken connection is watched no more. */
void busio_update(struct busio *io, bool broken);
/* Stops watching (before the bus is closed). */
void busio_detach(struct busio *io);

#endif
