#include "busio.h"

#include <poll.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "loop.h"

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
