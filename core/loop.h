/*
 * The event loop: one thread, one epoll_wait() per pass.
 *
 * Everything lookout waits for is an fd, a timer, a signal or a child
 * process, and all of them are dispatched from here, so no callback ever
 * runs concurrently with another and nothing needs a lock.  The shape is
 * redis's ae.h: fd + mask + callback + data, timers that re-arm by returning
 * a delay, and a hook that runs once per pass just before the loop sleeps
 * (where the screen is painted).
 *
 * Callbacks may add and delete fds, timers and children, including their
 * own, at any time.  An fd deleted during a pass gets no callback later in
 * that pass, even if epoll reported it ready.
 *
 * The loop never closes an fd it did not open.  Delete an fd before closing
 * it: a closed fd leaves epoll only once every copy of it is closed, and
 * meanwhile may be reported ready, to nobody, on every pass.
 */
#ifndef LK_LOOP_H
#define LK_LOOP_H

#include <sys/types.h>

struct loop;

enum {
	LOOP_READABLE = 1,
	LOOP_WRITABLE = 2
};

/* A timer callback returns this to stop, or a delay in ms to fire again. */
#define LOOP_NOMORE (-1LL)

/* Creates a loop.  The caller owns it and releases it with loop_free. */
struct loop *loop_new(void);

/*
 * Frees *lp and everything the loop owns (timers, its self-pipe, pidfds of
 * children still watched), restores the signal dispositions it replaced and
 * sets *lp to NULL.  Registered fds are not closed; no callback is called.
 */
void loop_free(struct loop **lp);

/*
 * Watches fd for mask (LOOP_READABLE and/or LOOP_WRITABLE).  Adding to an fd
 * already watched adds to its mask and replaces its callback and data: one
 * fd has one callback, which gets the mask of what is ready.  An fd that
 * cannot block (a regular file) is ready on every pass, as poll() says.
 * Returns 0, or -1 with errno EBADF (fd < 0, or not open), EINVAL (empty or
 * unknown mask, no cb) or ENOMEM/ENOSPC (epoll's own limits).  The loop
 * does not take ownership of fd or data.
 */
typedef void loop_fd_cb(struct loop *l, int fd, int mask, void *data);
int loop_add_fd(struct loop *l, int fd, int mask, loop_fd_cb *cb, void *data);

/* Stops watching fd for mask; the fd is forgotten when its mask is empty. */
void loop_del_fd(struct loop *l, int fd, int mask);

/*
 * Calls cb once, ms milliseconds from now (monotonic clock), and returns the
 * timer's id (> 0).  cb returns LOOP_NOMORE to end the timer or a delay in
 * ms to fire again that long after it returned.  Timers due at the same
 * time fire in the order they were added.  A timer added or re-armed by a
 * timer callback fires in a later pass, never in the pass that added it.
 */
typedef long long loop_timer_cb(struct loop *l, long long id, void *data);
long long loop_add_timer(struct loop *l, long long ms, loop_timer_cb *cb,
    void *data);

/*
 * Deletes timer id; it will not fire again.  Safe from inside the timer's
 * own callback (its return value is then ignored) and for ids that have
 * already ended, which are ignored.
 */
void loop_del_timer(struct loop *l, long long id);

/* Sets (or, with cb NULL, clears) the hook run once per pass before it sleeps. */
typedef void loop_hook_cb(struct loop *l, void *data);
void loop_set_before_sleep(struct loop *l, loop_hook_cb *cb, void *data);

/*
 * Calls cb from the loop (never in signal handler context) after signo is
 * delivered.  Deliveries between two passes coalesce into one call, as
 * signals do.  The handler is installed with SA_RESTART and only records
 * the signal and writes a byte to a self-pipe.  Signals are process-wide,
 * so only one loop at a time may watch them: another gets -1 with errno
 * EBUSY.  Returns 0, or -1 with errno EINVAL for a signal that cannot be
 * caught.
 */
typedef void loop_signal_cb(struct loop *l, int signo, void *data);
int loop_add_signal(struct loop *l, int signo, loop_signal_cb *cb,
    void *data);

/*
 * As loop_add_signal, for a signal that asks the program to stop what it
 * is doing (SIGINT, SIGTERM, SIGHUP).  From its delivery until the loop
 * calls cb, loop_interrupted() returns it: code that runs long without
 * returning to the loop (Lua in the sandbox, core/sandbox.h) looks at it
 * and gives up, so that cb comes soon.
 */
int loop_add_interrupt(struct loop *l, int signo, loop_signal_cb *cb,
    void *data);

/*
 * The interrupting signal that was delivered and whose callback the loop
 * has not called yet, or 0.  Async-signal-safe and cheap (a read of a
 * volatile sig_atomic_t), to be called often.
 */
int loop_interrupted(void);

/* Stops watching signo and restores the disposition it had before. */
void loop_del_signal(struct loop *l, int signo);

/*
 * Calls cb once when child pid exits, with its wait status (WEXITSTATUS and
 * friends apply), after reaping it.  pid must be a child of this process
 * that nobody else reaps; if it was reaped elsewhere cb gets wstatus -1.
 * Uses a pidfd where the kernel has pidfd_open (Linux >= 5.3) and falls
 * back to SIGCHLD otherwise (which then counts as a watched signal, see
 * loop_add_signal); LOOKOUT_LOOP_NO_PIDFD set in the environment when the
 * loop is created forces the fallback, so tests can reach it.  Returns 0,
 * or -1 with errno set (ESRCH: no such process).
 */
typedef void loop_child_cb(struct loop *l, pid_t pid, int wstatus,
    void *data);
int loop_add_child(struct loop *l, pid_t pid, loop_child_cb *cb, void *data);

/*
 * Stops watching pid: its callback will not be made, and reaping it is
 * the caller's business again.  Ignored for a pid not watched.
 */
void loop_del_child(struct loop *l, pid_t pid);

/*
 * Runs one pass: the before-sleep hook, one wait that lasts at most until
 * the nearest timer (and at most max_wait_ms, if >= 0; -1 waits for as long
 * as nothing is due), then the ready fds, then the due timers.  Returns how
 * many fds and timers were dispatched (signals and children arrive through
 * fds of the loop's own), or -1 with errno set if epoll_wait() failed (an
 * interrupted wait is not a failure) or if called from a callback
 * (EDEADLK): passes do not nest.
 */
int loop_run_once(struct loop *l, long long max_wait_ms);

/* Runs passes until loop_stop.  Returns 0, or -1 if a pass failed. */
int loop_run(struct loop *l);

/* Makes loop_run return after the current pass. */
void loop_stop(struct loop *l);

/* Milliseconds on the monotonic clock: for intervals, never for dates. */
long long loop_now_ms(void);

#endif
