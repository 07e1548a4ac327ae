/*
 * sd-bus connections to systemd, and their life on the loop.
 */
#include "busio.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "loop.h"

#define SD_DEST "org.freedesktop.systemd1"

/*
 * The manager's own socket, when we may use it.  Returns a negative errno
 * when there is no such socket for us, and the caller uses the bus.
 */
static int
open_private(bool user, sd_bus **out)
{
	const char *dir = user ? getenv("XDG_RUNTIME_DIR") : "/run";
	char addr[512];
	sd_bus *bus = NULL;
	int r;

	*out = NULL;
	/* The system manager's socket is root's only. */
	if (dir == NULL || *dir != '/' || (!user && geteuid() != 0))
		return -ENOENT;
	if ((size_t)snprintf(addr, sizeof addr, "unix:path=%s/systemd/private",
	    dir) >= sizeof addr)
		return -ENAMETOOLONG;
	if (access(addr + strlen("unix:path="), W_OK) != 0)
		return -errno;
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, addr);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*out = bus;
	return 0;
}

int
busio_open(bool user, struct sd_bus **out, const char **sender)
{
	int r = open_private(user, out);

	if (r < 0)
		r = user ? sd_bus_open_user(out) : sd_bus_open_system(out);
	if (r < 0) {
		*out = NULL;
		return r;
	}
	*sender = sd_bus_is_bus_client(*out) > 0 ? SD_DEST : NULL;
	return 0;
}

static void
on_fd(struct loop *l, int fd, int mask, void *data)
{
	struct busio *io = data;

	(void)l;
	(void)fd;
	(void)mask;
	io->process(io->owner);
}

static long long
on_timer(struct loop *l, long long id, void *data)
{
	struct busio *io = data;

	(void)l;
	(void)id;
	io->timer = 0;
	io->process(io->owner);
	return LOOP_NOMORE;
}

void
busio_init(struct busio *io, struct loop *loop, struct sd_bus *bus,
    void (*process)(void *owner), void *owner)
{
	io->loop = loop;
	io->bus = bus;
	io->fd = sd_bus_get_fd(bus);
	io->mask = 0;
	io->timer = 0;
	io->process = process;
	io->owner = owner;
}

void
busio_update(struct busio *io, bool broken)
{
	int ev = broken ? 0 : sd_bus_get_events(io->bus);
	int mask = 0;
	uint64_t until = UINT64_MAX;

	if (ev < 0)
		ev = POLLIN;
	if (ev & POLLIN)
		mask |= LOOP_READABLE;
	if (ev & POLLOUT)
		mask |= LOOP_WRITABLE;
	if (io->mask & ~mask)
		loop_del_fd(io->loop, io->fd, io->mask & ~mask);
	if (mask)
		loop_add_fd(io->loop, io->fd, mask, on_fd, io);
	io->mask = mask;

	if (io->timer) {
		loop_del_timer(io->loop, io->timer);
		io->timer = 0;
	}
	if (!broken && sd_bus_get_timeout(io->bus, &until) >= 0 &&
	    until != UINT64_MAX) {
		long long ms = ((long long)until - loop_now_ms() * 1000) / 1000;

		io->timer = loop_add_timer(io->loop, ms > 0 ? ms : 0, on_timer,
		    io);
	}
}

void
busio_detach(struct busio *io)
{
	if (io->mask)
		loop_del_fd(io->loop, io->fd, io->mask);
	if (io->timer)
		loop_del_timer(io->loop, io->timer);
	io->mask = 0;
	io->timer = 0;
}
