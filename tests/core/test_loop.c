/* loop: fds, timers, signals, children and the pass itself. */
#include "loop.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct loop *lp;

static void
setup(void)
{
	lp = loop_new();
	cr_assert_not_null(lp);
}

static void
teardown(void)
{
	loop_free(&lp);
	cr_expect_null(lp, "loop_free sets the pointer to NULL");
}

TestSuite(loop, .init = setup, .fini = teardown, .timeout = 10);

static void
make_pipe(int p[2])
{
	cr_assert_eq(pipe2(p, O_NONBLOCK|O_CLOEXEC), 0);
}

/* Fds. */

struct reader {
	char	buf[64];
	int	mask;
	int	calls;
};

static void
read_cb(struct loop *l, int fd, int mask, void *data)
{
	struct reader *r = data;
	ssize_t n;

	r->calls++;
	r->mask = mask;
	n = read(fd, r->buf, sizeof r->buf - 1);
	if (n > 0)
		r->buf[n] = '\0';
}

Test(loop, readable_pipe_delivers_data)
{
	struct reader r = { .calls = 0 };
	int p[2];

	make_pipe(p);
	cr_assert_eq(loop_add_fd(lp, p[0], LOOP_READABLE, read_cb, &r), 0);

	/* Nothing written yet: a bounded pass returns without callbacks. */
	cr_expect_eq(loop_run_once(lp, 10), 0);
	cr_expect_eq(r.calls, 0);

	cr_assert_eq(write(p[1], "hello", 5), 5);
	cr_expect_eq(loop_run_once(lp, 1000), 1);
	cr_expect_eq(r.calls, 1);
	cr_expect_eq(r.mask, LOOP_READABLE);
	cr_expect_str_eq(r.buf, "hello");

	loop_del_fd(lp, p[0], LOOP_READABLE);
	cr_assert_eq(write(p[1], "again", 5), 5);
	cr_expect_eq(loop_run_once(lp, 10), 0, "deleted fd is not polled");
	cr_expect_eq(r.calls, 1);
	close(p[0]);
	close(p[1]);
}

static void
write_cb(struct loop *l, int fd, int mask, void *data)
{
	int *seen = data;

	*seen = mask;
	/* Writable stays true, so stop asking once it has been seen. */
	loop_del_fd(l, fd, LOOP_WRITABLE);
}

Test(loop, writable_mask)
{
	int p[2], seen = 0;

	make_pipe(p);
	cr_assert_eq(loop_add_fd(lp, p[1], LOOP_WRITABLE, write_cb, &seen), 0);
	cr_expect_eq(loop_run_once(lp, 1000), 1);
	cr_expect_eq(seen, LOOP_WRITABLE);
	seen = 0;
	cr_expect_eq(loop_run_once(lp, 10), 0);
	cr_expect_eq(seen, 0, "writable mask was deleted by the callback");
	close(p[0]);
	close(p[1]);
}

/*
 * A regular file cannot block, so epoll will not watch it; the loop says it
 * is ready on every pass, as poll() did, and does not sleep meanwhile (a
 * redirected stdin is such a file).
 */
Test(loop, regular_file_is_ready_on_every_pass)
{
	struct reader r = { .calls = 0 };
	char path[] = "/tmp/lookout-loop-XXXXXX";
	int fd = mkstemp(path);
	long long t0;

	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(write(fd, "file", 4), 4);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	cr_assert_eq(loop_add_fd(lp, fd, LOOP_READABLE, read_cb, &r), 0);
	t0 = loop_now_ms();
	cr_expect_eq(loop_run_once(lp, 5000), 1);
	cr_expect_str_eq(r.buf, "file");
	/* At its end, still ready: read() says 0, and the owner decides. */
	cr_expect_eq(loop_run_once(lp, 5000), 1);
	cr_expect_eq(r.calls, 2);
	cr_expect_eq(r.mask, LOOP_READABLE);
	cr_expect_lt(loop_now_ms() - t0, 4000, "the loop slept on a file");
	loop_del_fd(lp, fd, LOOP_READABLE);
	cr_expect_eq(loop_run_once(lp, 10), 0, "a deleted file is forgotten");
	cr_expect_eq(r.calls, 2);
	close(fd);
}

/* Deleted and added again, while silent and after it spoke unwatched:
 * watched again each time (epoll keeps a deleted reader a while). */
Test(loop, a_deleted_fd_added_again_is_watched_again)
{
	struct reader r = { .calls = 0 };
	int p[2];

	make_pipe(p);
	cr_assert_eq(loop_add_fd(lp, p[0], LOOP_READABLE, read_cb, &r), 0);
	loop_del_fd(lp, p[0], LOOP_READABLE);
	cr_assert_eq(loop_add_fd(lp, p[0], LOOP_READABLE, read_cb, &r), 0);
	cr_assert_eq(write(p[1], "one", 3), 3);
	cr_expect_eq(loop_run_once(lp, 1000), 1);
	cr_expect_str_eq(r.buf, "one");
	loop_del_fd(lp, p[0], LOOP_READABLE);
	cr_assert_eq(write(p[1], "two", 3), 3);
	cr_expect_eq(loop_run_once(lp, 10), 0);
	cr_expect_eq(loop_run_once(lp, 10), 0);
	cr_expect_eq(r.calls, 1);
	cr_assert_eq(loop_add_fd(lp, p[0], LOOP_READABLE, read_cb, &r), 0);
	cr_expect_eq(loop_run_once(lp, 1000), 1);
	cr_expect_str_eq(r.buf, "two");
	loop_del_fd(lp, p[0], LOOP_READABLE);
	close(p[0]);
	close(p[1]);
}

Test(loop, bad_arguments_are_refused)
{
	cr_expect_eq(loop_add_fd(lp, -1, LOOP_READABLE, read_cb, NULL), -1);
	cr_expect_eq(loop_add_fd(lp, 0, 0, read_cb, NULL), -1);
	cr_expect_eq(loop_add_fd(lp, 0, 4, read_cb, NULL), -1);
	/* A number no file has: refused, not watched forever. */
	cr_expect_eq(loop_add_fd(lp, 4000, LOOP_READABLE, read_cb, NULL), -1);
	cr_expect_eq(errno, EBADF);
	cr_expect_eq(loop_run_once(lp, 10), 0);
	cr_expect_eq(loop_add_signal(lp, SIGKILL, NULL, NULL), -1);
	/* Deleting what is not there is harmless. */
	loop_del_fd(lp, 12345, LOOP_READABLE);
	loop_del_timer(lp, 999);
}

/*
 * Two pipes are ready in the same pass; whichever callback runs first
 * deletes the other fd, which must then not be called.
 */
struct pair {
	int	fds[2];
	int	calls;
};

static void
delete_other_cb(struct loop *l, int fd, int mask, void *data)
{
	struct pair *pr = data;
	int other = fd == pr->fds[0] ? pr->fds[1] : pr->fds[0];

	pr->calls++;
	loop_del_fd(l, other, LOOP_READABLE);
}

Test(loop, deleted_fd_gets_no_callback_in_same_pass)
{
	struct pair pr = { .calls = 0 };
	int a[2], b[2];

	make_pipe(a);
	make_pipe(b);
	pr.fds[0] = a[0];
	pr.fds[1] = b[0];
	cr_assert_eq(write(a[1], "x", 1), 1);
	cr_assert_eq(write(b[1], "y", 1), 1);
	loop_add_fd(lp, a[0], LOOP_READABLE, delete_other_cb, &pr);
	loop_add_fd(lp, b[0], LOOP_READABLE, delete_other_cb, &pr);
	cr_expect_eq(loop_run_once(lp, 1000), 1);
	cr_expect_eq(pr.calls, 1);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

/*
 * A callback deletes another ready fd, closes it, and a new pipe takes the
 * same number: the stale readiness must not reach the new owner.
 */
struct reuse {
	int		 victim;
	int		 newp[2];
	struct reader	*newr;
	int		 calls;
};

static void
reuse_cb(struct loop *l, int fd, int mask, void *data)
{
	struct reuse *u = data;

	u->calls++;
	if (fd == u->victim)
		return;
	loop_del_fd(l, u->victim, LOOP_READABLE);
	close(u->victim);
	cr_assert_eq(pipe2(u->newp, O_NONBLOCK|O_CLOEXEC), 0);
	loop_add_fd(l, u->newp[0], LOOP_READABLE, read_cb, u->newr);
}

Test(loop, reused_fd_number_gets_no_stale_event)
{
	struct reader nr = { .calls = 0 };
	struct reuse u = { .newr = &nr };
	int a[2], b[2];

	make_pipe(a);
	make_pipe(b);
	/* a[0] < b[0], so a's callback runs first and closes b[0]. */
	cr_assert_lt(a[0], b[0]);
	u.victim = b[0];
	cr_assert_eq(write(a[1], "x", 1), 1);
	cr_assert_eq(write(b[1], "y", 1), 1);
	loop_add_fd(lp, a[0], LOOP_READABLE, reuse_cb, &u);
	loop_add_fd(lp, b[0], LOOP_READABLE, reuse_cb, &u);
	cr_expect_eq(loop_run_once(lp, 1000), 1);
	cr_expect_eq(u.calls, 1);
	cr_expect_eq(nr.calls, 0, "new owner of a reused fd got a stale event");
	loop_del_fd(lp, a[0], LOOP_READABLE);
	loop_del_fd(lp, u.newp[0], LOOP_READABLE);
	close(a[0]);
	close(a[1]);
	close(b[1]);
	close(u.newp[0]);
	close(u.newp[1]);
}

/* Timers. */

struct order {
	long long	ids[16];
	int		n;
	int		rearm;	/* re-arm this many times */
};

static long long
record_cb(struct loop *l, long long id, void *data)
{
	struct order *o = data;

	if (o->n < 16)
		o->ids[o->n++] = id;
	if (o->rearm > 0) {
		o->rearm--;
		return 5;
	}
	return LOOP_NOMORE;
}

Test(loop, timers_fire_in_deadline_order)
{
	struct order o = { .n = 0 };
	long long late, early, mid, tie;
	volatile int done = 0;

	late = loop_add_timer(lp, 60, record_cb, &o);
	early = loop_add_timer(lp, 20, record_cb, &o);
	mid = loop_add_timer(lp, 40, record_cb, &o);
	tie = loop_add_timer(lp, 60, record_cb, &o);
	while (!done) {
		cr_assert_neq(loop_run_once(lp, -1), -1);
		done = o.n == 4;
	}
	cr_expect_eq(o.ids[0], early);
	cr_expect_eq(o.ids[1], mid);
	cr_expect_eq(o.ids[2], late);
	cr_expect_eq(o.ids[3], tie, "equal deadlines fire in order added");
	cr_expect_eq(loop_run_once(lp, 10), 0, "ended timers are gone");
}

Test(loop, timer_rearms_by_returning_ms)
{
	struct order o = { .n = 0, .rearm = 2 };
	long long id;
	int i;

	id = loop_add_timer(lp, 0, record_cb, &o);
	for (i = 0; i < 50 && o.n < 3; i++)
		cr_assert_neq(loop_run_once(lp, -1), -1);
	cr_expect_eq(o.n, 3);
	cr_expect_eq(o.ids[0], id);
	cr_expect_eq(o.ids[2], id, "a re-armed timer keeps its id");
	cr_expect_eq(loop_run_once(lp, 20), 0);
	cr_expect_eq(o.n, 3, "LOOP_NOMORE ends the timer");
}

Test(loop, deleted_timer_never_fires)
{
	struct order o = { .n = 0 };
	long long id, keep;
	int i;

	id = loop_add_timer(lp, 10, record_cb, &o);
	keep = loop_add_timer(lp, 30, record_cb, &o);
	loop_del_timer(lp, id);
	for (i = 0; i < 50 && o.n < 1; i++)
		cr_assert_neq(loop_run_once(lp, -1), -1);
	cr_expect_eq(loop_run_once(lp, 30), 0);
	cr_expect_eq(o.n, 1);
	cr_expect_eq(o.ids[0], keep);
}

static long long
self_delete_cb(struct loop *l, long long id, void *data)
{
	int *calls = data;

	(*calls)++;
	loop_del_timer(l, id);
	return 1;	/* ignored: the timer deleted itself */
}

Test(loop, timer_deletes_itself)
{
	int calls = 0;

	loop_add_timer(lp, 0, self_delete_cb, &calls);
	cr_expect_eq(loop_run_once(lp, 100), 1);
	cr_expect_eq(loop_run_once(lp, 30), 0);
	cr_expect_eq(calls, 1);
}

struct victim {
	long long	other;
	int		calls;
};

static long long
delete_other_timer_cb(struct loop *l, long long id, void *data)
{
	struct victim *v = data;

	v->calls++;
	loop_del_timer(l, v->other);
	return LOOP_NOMORE;
}

Test(loop, timer_deletes_another_due_in_same_pass)
{
	struct victim v = { .calls = 0 };
	long long first;

	first = loop_add_timer(lp, 0, delete_other_timer_cb, &v);
	v.other = loop_add_timer(lp, 0, delete_other_timer_cb, &v);
	cr_assert_gt(v.other, first);
	usleep(2000);
	cr_expect_eq(loop_run_once(lp, 100), 1);
	cr_expect_eq(v.calls, 1);
}

static long long
zero_rearm_cb(struct loop *l, long long id, void *data)
{
	int *calls = data;

	(*calls)++;
	return 0;
}

Test(loop, zero_ms_rearm_does_not_spin_a_pass)
{
	int calls = 0;

	loop_add_timer(lp, 0, zero_rearm_cb, &calls);
	cr_expect_eq(loop_run_once(lp, 100), 1);
	cr_expect_eq(calls, 1, "fires once per pass");
	cr_expect_eq(loop_run_once(lp, 100), 1);
	cr_expect_eq(calls, 2);
}

static long long
stamp_cb(struct loop *l, long long id, void *data)
{
	long long *at = data;

	*at = loop_now_ms();
	return LOOP_NOMORE;
}

/*
 * With no fd ready, a single unbounded pass must sleep until the timer and
 * no longer: the loop's wait follows the nearest timer.
 */
Test(loop, poll_timeout_follows_nearest_timer)
{
	long long start, at = 0;
	int passes = 0;

	start = loop_now_ms();
	loop_add_timer(lp, 50, stamp_cb, &at);
	while (at == 0) {
		cr_assert_neq(loop_run_once(lp, -1), -1);
		passes++;
	}
	cr_expect_geq(at - start, 50, "fired after %lld ms", at - start);
	cr_expect_lt(at - start, 2000, "fired after %lld ms", at - start);
	cr_expect_leq(passes, 3, "%d passes: the loop spun", passes);
}

/* Signals. */

struct sigseen {
	int	signo;
	int	calls;
	int	blocked;	/* was signo blocked, as in its handler? */
};

static void
sig_cb(struct loop *l, int signo, void *data)
{
	struct sigseen *s = data;
	sigset_t cur;

	s->signo = signo;
	s->calls++;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	s->blocked = sigismember(&cur, signo);
}

Test(loop, signal_reaches_callback_through_loop)
{
	struct sigseen s = { .calls = 0 };
	volatile int flag = 0;

	cr_assert_eq(loop_add_signal(lp, SIGUSR1, sig_cb, &s), 0);
	cr_assert_eq(raise(SIGUSR1), 0);
	/* The handler only marked it: nothing has run yet. */
	cr_expect_eq(s.calls, 0);
	while (!flag) {
		cr_assert_neq(loop_run_once(lp, 1000), -1);
		flag = s.calls > 0;
	}
	cr_expect_eq(s.signo, SIGUSR1);
	cr_expect_eq(s.calls, 1);
	cr_expect_eq(s.blocked, 0, "callback ran inside the signal handler");

	/* Two deliveries before a pass coalesce into one call. */
	raise(SIGUSR1);
	raise(SIGUSR1);
	cr_expect_eq(loop_run_once(lp, 1000), 1);
	cr_expect_eq(s.calls, 2);
}

Test(loop, signal_disposition_restored)
{
	struct sigseen s = { .calls = 0 };
	struct sigaction sa;

	cr_assert_eq(loop_add_signal(lp, SIGUSR2, sig_cb, &s), 0);
	loop_del_signal(lp, SIGUSR2);
	cr_assert_eq(sigaction(SIGUSR2, NULL, &sa), 0);
	cr_expect_eq((void *)sa.sa_handler, (void *)SIG_DFL);

	cr_assert_eq(loop_add_signal(lp, SIGUSR2, sig_cb, &s), 0);
	loop_free(&lp);
	cr_assert_eq(sigaction(SIGUSR2, NULL, &sa), 0);
	cr_expect_eq((void *)sa.sa_handler, (void *)SIG_DFL);
	lp = loop_new();
}

Test(loop, second_loop_cannot_take_signals)
{
	struct sigseen s = { .calls = 0 };
	struct loop *other = loop_new();

	cr_assert_eq(loop_add_signal(lp, SIGUSR1, sig_cb, &s), 0);
	cr_expect_eq(loop_add_signal(other, SIGUSR2, sig_cb, &s), -1);
	loop_free(&other);
}

/* Children. */

struct childseen {
	pid_t	pid;
	int	wstatus;
	int	calls;
};

static void
child_cb(struct loop *l, pid_t pid, int wstatus, void *data)
{
	struct childseen *c = data;

	c->pid = pid;
	c->wstatus = wstatus;
	c->calls++;
}

static void
child_exits_3(void)
{
	struct childseen c = { .calls = 0 };
	volatile int flag = 0;
	pid_t pid;

	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		usleep(20000);
		_exit(3);
	}
	cr_assert_eq(loop_add_child(lp, pid, child_cb, &c), 0);
	while (!flag) {
		cr_assert_neq(loop_run_once(lp, 1000), -1);
		flag = c.calls > 0;
	}
	cr_expect_eq(c.calls, 1);
	cr_expect_eq(c.pid, pid);
	cr_assert(WIFEXITED(c.wstatus), "wstatus %#x", c.wstatus);
	cr_expect_eq(WEXITSTATUS(c.wstatus), 3);
	/* Reaped: nothing is left to wait for. */
	cr_expect_eq(waitpid(pid, NULL, WNOHANG), -1);
}

Test(loop, child_exit_status_via_pidfd)
{
	child_exits_3();
}

/* The loop again, waiting for children through SIGCHLD. */
static void
loop_without_pidfd(void)
{
	loop_free(&lp);
	setenv("LOOKOUT_LOOP_NO_PIDFD", "1", 1);
	lp = loop_new();
	unsetenv("LOOKOUT_LOOP_NO_PIDFD");
}

Test(loop, child_exit_status_via_sigchld)
{
	loop_without_pidfd();
	child_exits_3();
}

Test(loop, child_that_already_exited_is_reported)
{
	struct childseen c = { .calls = 0 };
	volatile int flag = 0;
	pid_t pid;
	siginfo_t si;

	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0)
		_exit(0);
	/* Wait for the exit without reaping it. */
	cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED|WNOWAIT), 0);
	cr_assert_eq(loop_add_child(lp, pid, child_cb, &c), 0);
	while (!flag) {
		cr_assert_neq(loop_run_once(lp, 1000), -1);
		flag = c.calls > 0;
	}
	cr_expect(WIFEXITED(c.wstatus) && WEXITSTATUS(c.wstatus) == 0);
}

/* An owner that kills and reaps its child itself, then goes away, as the
 * probes do when a watcher reloads: no callback may come after. */
static void
child_forgotten(void)
{
	struct childseen c = { .calls = 0 };
	pid_t pid;

	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	cr_assert_eq(loop_add_child(lp, pid, child_cb, &c), 0);
	loop_del_child(lp, pid);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	for (int i = 0; i < 5; i++)
		cr_assert_neq(loop_run_once(lp, 20), -1);
	cr_expect_eq(c.calls, 0);
	/* Unknown ones are ignored. */
	loop_del_child(lp, pid);
}

Test(loop, a_child_forgotten_gets_no_callback_via_pidfd)
{
	child_forgotten();
}

Test(loop, a_child_forgotten_gets_no_callback_via_sigchld)
{
	loop_without_pidfd();
	child_forgotten();
}

/* The pass. */

static void
count_hook(struct loop *l, void *data)
{
	int *n = data;

	(*n)++;
}

Test(loop, before_sleep_runs_once_per_pass)
{
	int hooks = 0, p[2];
	struct reader r = { .calls = 0 };

	make_pipe(p);
	loop_set_before_sleep(lp, count_hook, &hooks);
	loop_add_fd(lp, p[0], LOOP_READABLE, read_cb, &r);
	cr_assert_eq(write(p[1], "x", 1), 1);
	loop_run_once(lp, 100);
	cr_expect_eq(hooks, 1);
	loop_run_once(lp, 0);
	loop_run_once(lp, 0);
	cr_expect_eq(hooks, 3);
	loop_set_before_sleep(lp, NULL, NULL);
	loop_run_once(lp, 0);
	cr_expect_eq(hooks, 3);
	loop_del_fd(lp, p[0], LOOP_READABLE);
	close(p[0]);
	close(p[1]);
}

static long long
stop_cb(struct loop *l, long long id, void *data)
{
	int *n = data;

	if (++*n < 3)
		return 1;
	loop_stop(l);
	return LOOP_NOMORE;
}

Test(loop, stop_ends_run)
{
	int n = 0;

	loop_add_timer(lp, 1, stop_cb, &n);
	cr_expect_eq(loop_run(lp), 0);
	cr_expect_eq(n, 3);
}

static void
stop_hook(struct loop *l, void *data)
{
	int *n = data;

	(*n)++;
	loop_stop(l);
}

/* Nothing is watched, so only the stop can end the pass's wait. */
Test(loop, stop_from_before_sleep_hook_does_not_sleep)
{
	int n = 0;

	loop_set_before_sleep(lp, stop_hook, &n);
	cr_expect_eq(loop_run(lp), 0);
	cr_expect_eq(n, 1);
}

static long long
nested_cb(struct loop *l, long long id, void *data)
{
	int *r = data;

	*r = loop_run_once(l, 0);
	return LOOP_NOMORE;
}

Test(loop, passes_do_not_nest)
{
	int r = 0;

	loop_add_timer(lp, 0, nested_cb, &r);
	loop_run_once(lp, 100);
	cr_expect_eq(r, -1);
}
