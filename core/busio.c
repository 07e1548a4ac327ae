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
#include <sys/socket.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "child.h"
#include "loop.h"
#include "ssh.h"
#include "util.h"

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

/* --- a manager on another host ------------------------------------------- */

/*
 * The bridge's end: the user's bus as the remote login shell knows it, or
 * the system bus (the bridge's default).  Fixed text: nothing from
 * outside is in it.
 */
#define BRIDGE_USER "systemd-stdio-bridge " \
	"--bus-path=unix:path=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/bus"
#define BRIDGE_SYSTEM "systemd-stdio-bridge"

struct busio_ssh {
	struct child *child;	/* NULL once it ended */
	char *host;
	void (*gone)(void *owner);
	void *owner;
	struct lk_buf said;	/* stderr so far, kept short */
	char line[256];
	char why[320];		/* set when it ended */
};

/* ssh's stderr as it comes: the tail is the reason a hang gives. */
static void
on_ssh_stderr(void *data, int stream, const char *buf, size_t len)
{
	struct busio_ssh *p = data;

	(void)stream;
	lk_buf_add(&p->said, buf, len);
	if (p->said.len > 4096) {
		size_t cut = p->said.len - 2048;

		memmove(p->said.s, p->said.s + cut, p->said.len - cut + 1);
		p->said.len -= cut;
	}
}

static void
on_ssh_done(const struct child_result *r, void *data)
{
	struct busio_ssh *p = data;

	p->child = NULL;
	if (r->spawn_error != NULL)
		snprintf(p->why, sizeof p->why, "%s: %s", p->host,
		    r->spawn_error);
	else
		lk_ssh_reason(p->host, "systemd-stdio-bridge", r->exit_status,
		    r->term_signal, p->said.s, p->said.len, p->why,
		    sizeof p->why);
	if (p->gone != NULL)
		p->gone(p->owner);
}

enum lk_code
busio_open_remote(struct loop *loop, const char *ssh_config, const char *host,
    bool user, void (*gone)(void *owner), void *owner, struct sd_bus **out,
    const char **sender, struct busio_ssh **sshp, struct lk_err *err)
{
	struct child_opts o = { 0 };
	struct busio_ssh *p;
	char **argv;
	sd_bus *bus = NULL;
	int sv[2], r;

	*out = NULL;
	*sshp = NULL;
	if (!lk_ssh_host_ok(host))
		return lk_fail(err, LK_EINPUT, "host \"%s\" is not an ssh "
		    "destination", host);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return lk_fail(err, LK_EIO, "%s: socketpair: %s", host,
		    strerror(errno));
	p = lk_xcalloc(1, sizeof *p);
	p->host = lk_xstrdup(host);
	p->gone = gone;
	p->owner = owner;
	argv = lk_ssh_argv(ssh_config, host, user ? BRIDGE_USER :
	    BRIDGE_SYSTEM);
	o.argv = (const char *const *)argv;
	o.env = lk_ssh_env;
	o.stdio = true;
	o.stdio_fd = sv[1];
	o.no_tty = true;
	o.grace_ms = 300;
	o.max_output = 4096;
	o.on_output = on_ssh_stderr;
	o.output_data = p;
	if (child_start(loop, &o, on_ssh_done, p, &p->child, err) != LK_OK) {
		lk_ssh_argv_free(argv);
		close(sv[0]);
		close(sv[1]);
		free(p->host);
		free(p);
		return err->code;
	}
	lk_ssh_argv_free(argv);
	close(sv[1]);
	/*
	 * sd_bus_set_fd() rather than the "unixexec:" address that sd-bus
	 * itself uses for -H: sd-bus would fork ssh itself, with its
	 * stderr on our terminal (the console's screen) and no word of why
	 * it failed, wait for it blocking when the bus closes, and leave it
	 * a terminal to ask for passwords on.  Here ssh is a child like any
	 * other on the loop, and what it says is the reason we give.
	 */
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_fd(bus, sv[0], sv[0]);
	/* From here the bus owns the fd and closes it. */
	if (r >= 0)
		sv[0] = -1;
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		if (sv[0] != -1)
			close(sv[0]);
		sd_bus_unref(bus);
		busio_ssh_free(&p);
		return lk_fail(err, LK_EIO, "%s: start the bus: %s", host,
		    strerror(-r));
	}
	*out = bus;
	*sender = SD_DEST;
	*sshp = p;
	return LK_OK;
}

const char *
busio_ssh_why(const struct busio_ssh *p)
{
	return p->child == NULL && p->why[0] ? p->why : NULL;
}

const char *
busio_ssh_said(struct busio_ssh *p)
{
	lk_ssh_last_line(p->said.s, p->said.len, p->line, sizeof p->line);
	return p->line;
}

void
busio_ssh_free(struct busio_ssh **pp)
{
	struct busio_ssh *p = pp ? *pp : NULL;

	if (p == NULL)
		return;
	child_abandon(&p->child);
	lk_buf_free(&p->said);
	free(p->host);
	free(p);
	*pp = NULL;
}

/* --- on the loop -------------------------------------------------------------- */

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
