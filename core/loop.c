/*
 * The event loop.  See loop.h for the contract; this file explains how the
 * contract is kept while callbacks change the loop under our feet.
 */
#include "loop.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * An fd is found by indexing files[] with it, as in ae.  gen changes every
 * time a slot goes from empty to watched, and each epoll entry carries the
 * fd and the gen it was added with, so that readiness reported for an fd
 * that was deleted, closed and reused by someone else within the same
 * pass is not delivered to the new owner.
 *
 * epoll, rather than poll(), because a pass then costs the kernel what is
 * ready, not what is watched: `lookout watch` keeps some 60 sockets open
 * and wakes several hundred times a cycle.  epoll refuses what cannot
 * block (a regular file, as a redirected stdin is): such an fd is ready on
 * every pass, as poll() would say, and the loop does not sleep while one
 * is watched.
 *
 * An fd deleted while epoll waits only for its input is left in epoll
 * (LEFT_IN_EPOLL), and the next add tells epoll again with one call: curl
 * adds and deletes each kept-alive socket once per request, and an idle
 * one says nothing.  If it does speak unwatched, it leaves epoll then.
 */
enum { IN_EPOLL = 1, ALWAYS_READY = 2, LEFT_IN_EPOLL = 3 };

struct loop_file {
	int		 mask;
	unsigned	 gen;
	int		 how;	/* IN_EPOLL, ALWAYS_READY, LEFT_IN_EPOLL, 0 */
	uint32_t	 events;	/* what epoll was last told */
	loop_fd_cb	*cb;
	void		*data;
};

/*
 * Timers live on one list sorted by deadline (ties in the order added).
 * Deadlines are in microseconds so that rounding never makes a timer fire
 * early: a 50 ms timer fires no sooner than 50 ms after it was added.
 */
struct loop_timer {
	long long		 id;
	long long		 when_us;
	unsigned long		 pass;	/* last pass it fired in */
	loop_timer_cb		*cb;
	void			*data;
	struct loop_timer	*next;
};

struct loop_child {
	pid_t			 pid;
	int			 pidfd;	/* -1: use SIGCHLD */
	loop_child_cb		*cb;
	void			*data;
	struct loop_child	*next;
};

struct loop_signal {
	int			 installed;
	struct sigaction	 old;
	loop_signal_cb		*cb;
	void			*data;
};

struct loop {
	struct loop_file	*files;
	int			 nfiles;	/* size of files[] */

	int			 epfd;
	struct epoll_event	*evs;		/* what one epoll_wait returns */
	int			 nevs;		/* size of evs */
	int			 nalways;	/* fds that are ALWAYS_READY */

	struct loop_timer	*timers;
	/* The timer whose callback runs, unlinked meanwhile. */
	struct loop_timer	*firing;
	int			 firing_deleted;
	long long		 next_timer_id;
	unsigned long		 timer_pass;

	loop_hook_cb		*before_sleep;
	void			*before_sleep_data;

	struct loop_signal	 signals[NSIG];
	int			 sigpipe[2];	/* -1 until needed */

	struct loop_child	*children;
	int			 child_sigchld;	/* SIGCHLD is ours */
	int			 no_pidfd;

	int			 in_pass;
	int			 running_loop;	/* inside loop_run */
	int			 stop;
};

/*
 * Signal handlers are process-wide, so what they touch is too: which
 * signals have arrived and where to write the wake-up byte.  One loop at a
 * time owns them.
 */
static volatile sig_atomic_t	 loop_sig_pending[NSIG];
static volatile sig_atomic_t	 loop_sig_wfd = -1;
/* Which signals interrupt, and the last of them not yet dispatched. */
static volatile sig_atomic_t	 loop_sig_interrupts[NSIG];
static volatile sig_atomic_t	 loop_sig_interrupt;
static struct loop		*loop_sig_owner;

static void	loop_sig_read(struct loop *, int, int, void *);
static void	loop_child_ready(struct loop *, int, int, void *);
static void	loop_check_children(struct loop *);

static long long
loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long
loop_now_ms(void)
{
	return loop_now_us() / 1000;
}

struct loop *
loop_new(void)
{
	struct loop *l = lk_xcalloc(1, sizeof *l);

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	/* No fd left for it, or no memory: nothing can wait, as in lk_oom. */
	if (l->epfd == -1) {
		fprintf(stderr, "lookout: epoll_create1: %s\n", strerror(errno));
		abort();
	}
	l->nevs = 64;
	l->evs = lk_xcalloc((size_t)l->nevs, sizeof *l->evs);
	l->sigpipe[0] = l->sigpipe[1] = -1;
	l->next_timer_id = 1;
	/*
	 * The SIGCHLD path is only taken on kernels without pidfd_open; this
	 * lets the tests exercise it anyway.
	 */
	l->no_pidfd = getenv("LOOKOUT_LOOP_NO_PIDFD") != NULL;
	return l;
}

void
loop_free(struct loop **lp)
{
	struct loop *l = *lp;
	struct loop_timer *t;
	struct loop_child *c;
	int signo;

	if (l == NULL)
		return;
	for (signo = 1; signo < NSIG; signo++) {
		if (l->signals[signo].installed)
			sigaction(signo, &l->signals[signo].old, NULL);
	}
	if (loop_sig_owner == l) {
		loop_sig_wfd = -1;
		loop_sig_owner = NULL;
		memset((void *)loop_sig_pending, 0, sizeof loop_sig_pending);
		memset((void *)loop_sig_interrupts, 0,
		    sizeof loop_sig_interrupts);
		loop_sig_interrupt = 0;
	}
	if (l->sigpipe[0] != -1) {
		close(l->sigpipe[0]);
		close(l->sigpipe[1]);
	}
	while ((t = l->timers) != NULL) {
		l->timers = t->next;
		free(t);
	}
	while ((c = l->children) != NULL) {
		l->children = c->next;
		if (c->pidfd != -1)
			close(c->pidfd);
		free(c);
	}
	close(l->epfd);
	free(l->files);
	free(l->evs);
	free(l);
	*lp = NULL;
}

/*
 * Tells epoll what f, the slot of fd, now watches.  An fd closed without
 * being deleted left epoll by itself, so a MOD that finds nothing adds it
 * again; one added twice is modified instead.  Returns 0 or -1 (errno).
 */
static int
loop_epoll_sync(struct loop *l, int fd, struct loop_file *f)
{
	struct epoll_event ev = { 0 };
	int op;

	if (f->how == ALWAYS_READY)
		return 0;
	if (f->mask & LOOP_READABLE)
		ev.events |= EPOLLIN;
	if (f->mask & LOOP_WRITABLE)
		ev.events |= EPOLLOUT;
	if (f->how == IN_EPOLL && ev.events == f->events)
		return 0;
	ev.data.u64 = (uint64_t)(unsigned)fd | (uint64_t)f->gen << 32;
	op = f->how == IN_EPOLL || f->how == LEFT_IN_EPOLL ? EPOLL_CTL_MOD :
	    EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &ev) != 0) {
		if (errno == ENOENT && op == EPOLL_CTL_MOD)
			op = EPOLL_CTL_ADD;
		else if (errno == EEXIST && op == EPOLL_CTL_ADD)
			op = EPOLL_CTL_MOD;
		else if (errno == EPERM) {
			f->how = ALWAYS_READY;
			l->nalways++;
			return 0;
		} else
			return -1;
		if (epoll_ctl(l->epfd, op, fd, &ev) != 0)
			return -1;
	}
	f->how = IN_EPOLL;
	f->events = ev.events;
	return 0;
}

/* f, the slot of fd, watches nothing any more: out of epoll with it. */
static void
loop_epoll_forget(struct loop *l, int fd, struct loop_file *f)
{
	/* A closed fd left epoll already (EBADF, ENOENT): nothing lost. */
	if (f->how == IN_EPOLL || f->how == LEFT_IN_EPOLL)
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	else if (f->how == ALWAYS_READY)
		l->nalways--;
	f->how = 0;
	f->events = 0;
}

int
loop_add_fd(struct loop *l, int fd, int mask, loop_fd_cb *cb, void *data)
{
	struct loop_file *f;
	int n, old;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (mask == 0 || (mask & ~(LOOP_READABLE|LOOP_WRITABLE)) != 0 ||
	    cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (fd >= l->nfiles) {
		n = l->nfiles == 0 ? 16 : l->nfiles;
		while (n <= fd)
			n = n > INT_MAX / 2 ? fd + 1 : n * 2;
		l->files = lk_xrealloc(l->files, (size_t)n * sizeof *l->files);
		memset(l->files + l->nfiles, 0,
		    (size_t)(n - l->nfiles) * sizeof *l->files);
		l->nfiles = n;
	}
	f = &l->files[fd];
	old = f->mask;
	if (old == 0)
		f->gen++;
	f->mask |= mask;
	if (loop_epoll_sync(l, fd, f) != 0) {
		int saved = errno;

		f->mask = old;
		if (old == 0)
			loop_epoll_forget(l, fd, f);
		errno = saved;
		return -1;
	}
	f->cb = cb;
	f->data = data;
	return 0;
}

void
loop_del_fd(struct loop *l, int fd, int mask)
{
	struct loop_file *f;

	if (fd < 0 || fd >= l->nfiles)
		return;
	f = &l->files[fd];
	if ((f->mask & mask) == 0)
		return;
	f->mask &= ~mask;
	if (f->mask == 0) {
		f->cb = NULL;
		f->data = NULL;
		/* Writable would wake the next pass at once: out now. */
		if (f->how == IN_EPOLL && f->events == EPOLLIN)
			f->how = LEFT_IN_EPOLL;
		else
			loop_epoll_forget(l, fd, f);
	} else {
		/* If epoll cannot be told, it reports more than is
		 * watched, which loop_dispatch masks off. */
		(void)loop_epoll_sync(l, fd, f);
	}
}

/* Links t in deadline order, after the timers due at the same time. */
static void
loop_timer_insert(struct loop *l, struct loop_timer *t)
{
	struct loop_timer **pp = &l->timers;

	while (*pp != NULL && (*pp)->when_us <= t->when_us)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
}

long long
loop_add_timer(struct loop *l, long long ms, loop_timer_cb *cb, void *data)
{
	struct loop_timer *t = lk_xcalloc(1, sizeof *t);

	if (ms < 0)
		ms = 0;
	if (ms > LLONG_MAX / 2000)
		ms = LLONG_MAX / 2000;
	t->id = l->next_timer_id++;
	t->when_us = loop_now_us() + ms * 1000;
	/* Marked as fired in this pass, so a callback's new timer waits. */
	t->pass = l->timer_pass;
	t->cb = cb;
	t->data = data;
	loop_timer_insert(l, t);
	return t->id;
}

void
loop_del_timer(struct loop *l, long long id)
{
	struct loop_timer **pp, *t;

	if (l->firing != NULL && l->firing->id == id) {
		l->firing_deleted = 1;
		return;
	}
	for (pp = &l->timers; (t = *pp) != NULL; pp = &t->next) {
		if (t->id == id) {
			*pp = t->next;
			free(t);
			return;
		}
	}
}

void
loop_set_before_sleep(struct loop *l, loop_hook_cb *cb, void *data)
{
	l->before_sleep = cb;
	l->before_sleep_data = data;
}

static void
loop_sig_handler(int signo)
{
	int saved = errno;
	int fd = loop_sig_wfd;

	loop_sig_pending[signo] = 1;
	if (loop_sig_interrupts[signo])
		loop_sig_interrupt = signo;
	/*
	 * A full pipe already holds a wake-up, so a failed write loses
	 * nothing: the pending flag is what says which signal came.
	 */
	if (fd != -1 && write(fd, "", 1) == -1) {
		/* nothing to do */
	}
	errno = saved;
}

/* Installs the handler for signo once; the user callback is kept apart. */
static int
loop_sig_install(struct loop *l, int signo)
{
	struct loop_signal *s;
	struct sigaction sa;

	if (signo <= 0 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP) {
		errno = EINVAL;
		return -1;
	}
	if (loop_sig_owner != NULL && loop_sig_owner != l) {
		errno = EBUSY;
		return -1;
	}
	s = &l->signals[signo];
	if (s->installed)
		return 0;
	if (l->sigpipe[0] == -1) {
		if (pipe2(l->sigpipe, O_NONBLOCK|O_CLOEXEC) != 0)
			return -1;
		loop_add_fd(l, l->sigpipe[0], LOOP_READABLE, loop_sig_read,
		    NULL);
	}
	loop_sig_owner = l;
	loop_sig_wfd = l->sigpipe[1];

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = loop_sig_handler;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	loop_sig_pending[signo] = 0;
	if (sigaction(signo, &sa, &s->old) != 0)
		return -1;
	s->installed = 1;
	return 0;
}

int
loop_add_signal(struct loop *l, int signo, loop_signal_cb *cb, void *data)
{
	if (cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (loop_sig_install(l, signo) != 0)
		return -1;
	l->signals[signo].cb = cb;
	l->signals[signo].data = data;
	return 0;
}

int
loop_add_interrupt(struct loop *l, int signo, loop_signal_cb *cb, void *data)
{
	if (loop_add_signal(l, signo, cb, data) != 0)
		return -1;
	loop_sig_interrupts[signo] = 1;
	return 0;
}

int
loop_interrupted(void)
{
	return loop_sig_interrupt;
}

void
loop_del_signal(struct loop *l, int signo)
{
	struct loop_signal *s;

	if (signo <= 0 || signo >= NSIG)
		return;
	loop_sig_interrupts[signo] = 0;
	s = &l->signals[signo];
	s->cb = NULL;
	s->data = NULL;
	/* Children waited for through SIGCHLD still need the handler. */
	if (!s->installed || (signo == SIGCHLD && l->child_sigchld))
		return;
	sigaction(signo, &s->old, NULL);
	s->installed = 0;
	loop_sig_pending[signo] = 0;
}

/*
 * The self-pipe is readable: drain it, then dispatch each signal that
 * arrived.  The flag is cleared before the callback, so a signal arriving
 * during the callback is seen on the next pass rather than lost.
 */
static void
loop_sig_read(struct loop *l, int fd, int mask, void *data)
{
	char buf[64];
	struct loop_signal *s;
	int signo;

	while (read(fd, buf, sizeof buf) > 0)
		/* drain */;
	/* Its callback comes now; one delivered from here on sets it again. */
	loop_sig_interrupt = 0;
	for (signo = 1; signo < NSIG; signo++) {
		if (!loop_sig_pending[signo])
			continue;
		loop_sig_pending[signo] = 0;
		s = &l->signals[signo];
		if (!s->installed)
			continue;
		if (signo == SIGCHLD && l->child_sigchld)
			loop_check_children(l);
		if (s->cb != NULL)
			s->cb(l, signo, s->data);
	}
}

static void
loop_child_unlink(struct loop *l, struct loop_child *c)
{
	struct loop_child **pp;

	for (pp = &l->children; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

/*
 * Reaps c if it has exited, without blocking.  Returns 1 if it was reaped
 * (or someone else reaped it) and its callback has been made.
 */
static int
loop_child_reap(struct loop *l, struct loop_child *c)
{
	int wstatus = 0;
	pid_t r;

	do
		r = waitpid(c->pid, &wstatus, WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r == -1)
		wstatus = -1;
	/* Unlinked before the callback, which may add or reap others. */
	loop_child_unlink(l, c);
	if (c->pidfd != -1) {
		loop_del_fd(l, c->pidfd, LOOP_READABLE);
		close(c->pidfd);
	}
	c->cb(l, c->pid, wstatus, c->data);
	free(c);
	return 1;
}

static void
loop_child_ready(struct loop *l, int fd, int mask, void *data)
{
	loop_child_reap(l, data);
}

/*
 * SIGCHLD says some child changed state, not which: ask each watched one.
 * The list changes under each callback, so start over after every reap.
 */
static void
loop_check_children(struct loop *l)
{
	struct loop_child *c;

again:
	for (c = l->children; c != NULL; c = c->next) {
		if (c->pidfd == -1 && loop_child_reap(l, c))
			goto again;
	}
}

static int
loop_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd != -1)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
#else
	errno = ENOSYS;
	return -1;
#endif
}

int
loop_add_child(struct loop *l, pid_t pid, loop_child_cb *cb, void *data)
{
	struct loop_child *c;
	int pidfd = -1;

	if (pid <= 0 || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (!l->no_pidfd) {
		pidfd = loop_pidfd_open(pid);
		/*
		 * ENOSYS is an old kernel; EPERM is a seccomp filter that
		 * does not know the call.  Both mean: use SIGCHLD instead.
		 */
		if (pidfd == -1 && errno != ENOSYS && errno != EPERM)
			return -1;
	}
	if (pidfd == -1) {
		if (loop_sig_install(l, SIGCHLD) != 0)
			return -1;
		l->child_sigchld = 1;
	}

	c = lk_xcalloc(1, sizeof *c);
	c->pid = pid;
	c->pidfd = pidfd;
	c->cb = cb;
	c->data = data;
	c->next = l->children;
	l->children = c;

	if (pidfd != -1)
		loop_add_fd(l, pidfd, LOOP_READABLE, loop_child_ready, c);
	else {
		/*
		 * The child may have exited before the handler was there to
		 * see it, so act as if SIGCHLD came: the next pass looks.
		 */
		loop_sig_handler(SIGCHLD);
	}
	return 0;
}

void
loop_del_child(struct loop *l, pid_t pid)
{
	struct loop_child *c;

	for (c = l->children; c != NULL; c = c->next) {
		if (c->pid != pid)
			continue;
		loop_child_unlink(l, c);
		if (c->pidfd != -1) {
			loop_del_fd(l, c->pidfd, LOOP_READABLE);
			close(c->pidfd);
		}
		free(c);
		return;
	}
}

/* How long the loop may sleep: until the nearest timer, rounded up. */
static int
loop_poll_timeout(struct loop *l, long long max_wait_ms)
{
	long long ms = max_wait_ms < 0 ? -1 : max_wait_ms, left;

	if (l->timers != NULL) {
		left = l->timers->when_us - loop_now_us();
		left = left <= 0 ? 0 : (left + 999) / 1000;
		if (ms < 0 || left < ms)
			ms = left;
	}
	if (ms > INT_MAX)
		ms = INT_MAX;
	return (int)ms;
}

/* Calls back fd for what is ready of what its slot still watches. */
static int
loop_dispatch(struct loop *l, int fd, int mask)
{
	struct loop_file *f = &l->files[fd];

	mask &= f->mask;
	if (mask == 0)
		return 0;
	f->cb(l, fd, mask, f->data);
	return 1;
}

/*
 * Calls back every fd epoll found ready, unless a callback earlier in the
 * pass deleted it (its mask no longer covers what is ready) or deleted it
 * and someone added the same number again (its gen changed); then every
 * fd epoll could not watch, which is always ready.
 */
static int
loop_process_fds(struct loop *l, int n)
{
	struct loop_file *f;
	uint32_t re;
	int i, fd, mask, done = 0;

	for (i = 0; i < n; i++) {
		re = l->evs[i].events;
		fd = (int)(l->evs[i].data.u64 & 0xffffffffu);
		if (fd >= l->nfiles)
			continue;
		f = &l->files[fd];
		if (f->gen != (unsigned)(l->evs[i].data.u64 >> 32))
			continue;
		if (f->mask == 0) {
			/* Left in epoll, and not silent: out with it. */
			if (f->how == LEFT_IN_EPOLL)
				loop_epoll_forget(l, fd, f);
			continue;
		}
		/*
		 * Errors and hangups are given to whichever direction is
		 * watched, so the owner's read or write sees them.
		 */
		mask = 0;
		if (re & (EPOLLIN|EPOLLPRI|EPOLLHUP|EPOLLERR))
			mask |= LOOP_READABLE;
		if (re & (EPOLLOUT|EPOLLHUP|EPOLLERR))
			mask |= LOOP_WRITABLE;
		done += loop_dispatch(l, fd, mask);
	}
	for (fd = 0; l->nalways > 0 && fd < l->nfiles; fd++)
		if (l->files[fd].how == ALWAYS_READY)
			done += loop_dispatch(l, fd,
			    LOOP_READABLE|LOOP_WRITABLE);
	return done;
}

/*
 * Fires the timers due now.  Each callback may add or delete any timer, so
 * the list is walked from the head again after each one; a timer fires at
 * most once per pass (pass marks it), so a timer re-armed with 0 ms or
 * added by a callback cannot keep this pass from ending.
 */
static int
loop_process_timers(struct loop *l)
{
	struct loop_timer **pp, *t;
	long long now = loop_now_us(), ms;
	unsigned long pass = ++l->timer_pass;
	int done = 0;

	for (;;) {
		/* The first due timer that has not fired in this pass. */
		for (pp = &l->timers; (t = *pp) != NULL; pp = &t->next) {
			if (t->when_us > now || t->pass != pass)
				break;
		}
		if (t == NULL || t->when_us > now)
			break;
		*pp = t->next;
		t->next = NULL;
		t->pass = pass;
		l->firing = t;
		l->firing_deleted = 0;
		ms = t->cb(l, t->id, t->data);
		l->firing = NULL;
		done++;
		if (l->firing_deleted || ms < 0) {
			free(t);
			continue;
		}
		if (ms > LLONG_MAX / 2000)
			ms = LLONG_MAX / 2000;
		t->when_us = loop_now_us() + ms * 1000;
		loop_timer_insert(l, t);
	}
	return done;
}

int
loop_run_once(struct loop *l, long long max_wait_ms)
{
	int n, ready, done, timeout;

	if (l->in_pass) {
		errno = EDEADLK;
		return -1;
	}
	l->in_pass = 1;
	if (l->before_sleep != NULL)
		l->before_sleep(l, l->before_sleep_data);

	/*
	 * After the hook, which may have added fds or timers.  A hook that
	 * stopped the loop must not leave it asleep for good, nor may an fd
	 * that is always ready.
	 */
	timeout = loop_poll_timeout(l, max_wait_ms);
	if ((l->running_loop && l->stop) || l->nalways > 0)
		timeout = 0;
	ready = epoll_wait(l->epfd, l->evs, l->nevs, timeout);
	if (ready == -1 && errno != EINTR) {
		l->in_pass = 0;
		return -1;
	}
	n = ready > 0 ? ready : 0;

	done = loop_process_fds(l, n);
	/* A full array may have left some out: room for them next pass. */
	if (n == l->nevs) {
		l->nevs *= 2;
		l->evs = lk_xrealloc(l->evs, (size_t)l->nevs *
		    sizeof *l->evs);
	}
	done += loop_process_timers(l);
	l->in_pass = 0;
	return done;
}

int
loop_run(struct loop *l)
{
	int r = 0;

	l->stop = 0;
	l->running_loop = 1;
	while (!l->stop) {
		if (loop_run_once(l, -1) == -1) {
			r = -1;
			break;
		}
	}
	l->running_loop = 0;
	l->stop = 0;
	return r;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}
