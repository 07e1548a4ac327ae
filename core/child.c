/*
 * Child processes for sh{...}: fork, a process group, pipes on the loop, and
 * a SIGINT -> SIGTERM -> SIGKILL escalation for timeouts and cancels.
 *
 * A child is done when three things have happened, in any order: the loop
 * has reaped it, its stdout and stderr have reached EOF (or been given up
 * on), and its status pipe has said whether exec worked.  Only then is the
 * callback made, so a result never lacks output that was on its way.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

/*
 * How long output is still read after SIGKILL went to the group.  Whatever
 * holds the pipes open then is outside the group (it made its own session),
 * so no signal of ours will end it and waiting longer cannot help.
 */
#define CHILD_KILL_DRAIN_MS	250

/* PATH when the child's environment has none, as glibc's execvp assumes. */
#define CHILD_DEFAULT_PATH	"/bin:/usr/bin"

/* What the child was doing when it failed, sent up the status pipe. */
enum child_stage {
	CHILD_STAGE_SETUP = 1,
	CHILD_STAGE_CHDIR,
	CHILD_STAGE_EXEC
};

struct child_report {
	int	stage;
	int	errnum;
};

struct child;

struct child_stream {
	struct child	*c;
	int		 fd;		/* -1 once at EOF or given up on */
	struct lk_buf	 buf;		/* at most max_output bytes */
	size_t		 total;
	bool		 truncated;
};

struct child {
	struct loop		*loop;
	child_done_cb		*cb;
	void			*data;

	pid_t			 pid;		/* also the process group */
	char			*name;		/* argv[0], for messages */
	char			*cwd;		/* or NULL, for messages */
	long long		 started;

	struct child_stream	 out;
	struct child_stream	 err;
	size_t			 max_output;
	void			(*on_output)(void *, int, const char *, size_t);
	void			*output_data;

	int			 status_fd;	/* -1 once read */
	struct child_report	 report;	/* stage 0: exec worked */

	int			 stdin_fd;	/* -1 when all written */
	char			*stdin_data;	/* wiped before it is freed */
	size_t			 stdin_len;
	size_t			 stdin_off;

	bool			 reaped;
	int			 wstatus;

	bool			 timed_out;
	bool			 cancelled;
	bool			 finishing;
	bool			 group_gone;	/* kill(-pid) said ESRCH */
	int			 esc_stage;	/* signals sent: 0 to 3 */
	int64_t			 grace_ms;
	long long		 timeout_timer;
	long long		 esc_timer;
	long long		 drain_timer;
};

/* What the forked child needs, all prepared before fork(). */
struct child_spawn {
	char *const	*argv;
	char		**envp;
	char		**paths;	/* where to look for argv[0], in order */
	const char	*cwd;
	int		 in;
	int		 out;
	int		 err;
	int		 status;
	int		 maxfd;		/* for the close() fallback */
	pid_t		 parent;	/* lookout, before the fork */
	bool		 no_tty;
};

static void	child_check(struct child *);

/*
 * Moves fd to 3 or above, keeping it close-on-exec.  The child dup2()s its
 * ends onto 0, 1 and 2; an end that already was one of those (lookout
 * started with a standard fd closed) would be overwritten, or keep its
 * close-on-exec flag, by dup2() onto itself.
 */
static int
child_fd_high(int fd)
{
	int	n, saved;

	if (fd < 0 || fd > 2)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	saved = errno;
	close(fd);
	errno = saved;
	return n;
}

static int
child_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	p[0] = child_fd_high(p[0]);
	p[1] = child_fd_high(p[1]);
	if (p[0] == -1 || p[1] == -1) {
		if (p[0] != -1)
			close(p[0]);
		if (p[1] != -1)
			close(p[1]);
		return -1;
	}
	return 0;
}

static void
child_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

static void
child_free_strv(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Whether "K=..." entries a and b name the same variable. */
static bool
child_env_same(const char *a, const char *b)
{
	size_t	n = strcspn(a, "=");

	return strncmp(a, b, n) == 0 && b[n] == '=';
}

/*
 * The child's environment: ours, minus what env overrides, plus env (the
 * last of duplicate keys in env wins).  The strings stay where they are;
 * only the array is ours, and the child needs it just until exec.
 */
static char **
child_make_env(const char *const *env)
{
	extern char	**environ;
	char		**envp;
	size_t		  ne = 0, nx = 0, i, j, n = 0;
	bool		  skip;

	while (environ != NULL && environ[ne] != NULL)
		ne++;
	while (env != NULL && env[nx] != NULL)
		nx++;
	envp = lk_xcalloc(ne + nx + 1, sizeof *envp);
	for (i = 0; i < ne; i++) {
		skip = false;
		for (j = 0; j < nx && !skip; j++)
			skip = child_env_same(env[j], environ[i]);
		if (!skip)
			envp[n++] = environ[i];
	}
	for (i = 0; i < nx; i++) {
		skip = false;
		for (j = i + 1; j < nx && !skip; j++)
			skip = child_env_same(env[j], env[i]);
		if (!skip)
			envp[n++] = (char *)env[i];
	}
	envp[n] = NULL;
	return envp;
}

/*
 * The files to try for argv[0], as execvp would, but worked out here: the
 * PATH search then needs no malloc() between fork and exec, and it uses the
 * PATH the child will have.  An empty PATH element is the directory the
 * child starts in, as it is for execvp.
 */
static char **
child_make_paths(const char *name, char **envp)
{
	const char	*path = CHILD_DEFAULT_PATH, *p, *end;
	char		**paths;
	size_t		  n = 1, i = 0, len;

	if (strchr(name, '/') != NULL) {
		paths = lk_xcalloc(2, sizeof *paths);
		paths[0] = lk_xstrdup(name);
		return paths;
	}
	for (; *envp != NULL; envp++) {
		if (strncmp(*envp, "PATH=", 5) == 0) {
			path = *envp + 5;
			break;
		}
	}
	for (p = path; *p != '\0'; p++)
		n += *p == ':';
	paths = lk_xcalloc(n + 1, sizeof *paths);
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		len = (size_t)(end - p);
		if (len == 0)
			paths[i++] = lk_xasprintf("./%s", name);
		else
			paths[i++] = lk_xasprintf("%.*s/%s", (int)len, p, name);
		if (*end == '\0')
			break;
	}
	return paths;
}

/*
 * Runs in the forked child: only async-signal-safe calls from here to
 * exec.  Any failure goes up the status pipe, which exec closes, so the
 * parent reads either a report or EOF.
 */
static void __attribute__((noreturn))
child_exec(const struct child_spawn *s)
{
	struct child_report	r = { CHILD_STAGE_SETUP, 0 };
	struct sigaction	sa;
	sigset_t		none;
	int			sig, fd, e, seen = 0;
	size_t			i;

	/*
	 * Signals are all blocked (the parent did that before fork) while
	 * the dispositions are reset: lookout's handlers must not run here,
	 * and an ignored SIGPIPE or SIGINT must not be inherited by the
	 * command, as exec would do.
	 */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* The parent does this too; whichever runs first wins the race. */
	setpgid(0, 0);

	/*
	 * The command dies with lookout.  Its timeout, its cancel and the
	 * step's record all live in lookout: after a kill -9 nothing would
	 * ever stop it, and `run --resume` would start the step again beside
	 * it.  PR_SET_PDEATHSIG holds without lookout, costs nothing, and
	 * needs no service manager, where a transient unit with
	 * RuntimeMaxSec would need one on every host (and root's system
	 * manager at that).  SIGKILL, because nobody is left to escalate
	 * from a gentler signal.  Its limit: it reaches the command itself,
	 * not what the command forks (a fork clears it), so a shell's
	 * children are orphaned rather than killed.  If lookout died before
	 * this line, the signal will never come: getppid() tells.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		goto fail;
	if (getppid() != s->parent)
		_exit(127);

	if (dup2(s->in, 0) == -1 || dup2(s->out, 1) == -1 ||
	    dup2(s->err, 2) == -1)
		goto fail;

	/* Without a controlling terminal, /dev/tty cannot be opened. */
	if (s->no_tty && (fd = open("/dev/tty", O_RDWR | O_NOCTTY |
	    O_CLOEXEC)) != -1) {
		ioctl(fd, TIOCNOTTY);
		close(fd);
	}

	/*
	 * Nothing of lookout's may leak into the command, not even an fd a
	 * library opened without O_CLOEXEC.  Marking is better than closing
	 * because the status pipe must stay open until exec.
	 */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
		for (fd = 3; fd <= s->maxfd; fd++) {
			if (fd != s->status)
				close(fd);
		}
	}

	if (s->cwd != NULL && chdir(s->cwd) != 0) {
		r.stage = CHILD_STAGE_CHDIR;
		goto fail;
	}

	/* Which errors move on to the next PATH entry is execvp's choice. */
	r.stage = CHILD_STAGE_EXEC;
	errno = ENOENT;
	for (i = 0; s->paths[i] != NULL; i++) {
		execve(s->paths[i], s->argv, s->envp);
		e = errno;
		if (e == EACCES)
			seen = EACCES;
		else if (e != ENOENT && e != ENOTDIR && e != ESTALE &&
		    e != ENODEV && e != ETIMEDOUT)
			goto fail;
	}
	if (seen != 0)
		errno = seen;

fail:
	r.errnum = errno;
	if (write(s->status, &r, sizeof r) == -1) {
		/* Nobody to tell: the exit status is all there is. */
	}
	_exit(127);
}

/* Stops reading a stream: EOF, an error, or given up on. */
static void
child_stream_close(struct child_stream *s)
{
	if (s->fd == -1)
		return;
	loop_del_fd(s->c->loop, s->fd, LOOP_READABLE);
	child_close(&s->fd);
}

static void
child_read_cb(struct loop *l, int fd, int mask, void *data)
{
	struct child_stream	*s = data;
	struct child		*c = s->c;
	char			 buf[16384];
	size_t			 keep;
	ssize_t			 n;

	/* One read per pass, so a chatty command cannot starve the loop. */
	n = read(fd, buf, sizeof buf);
	if (n > 0) {
		if (c->on_output != NULL)
			c->on_output(c->output_data, s == &c->out ? 1 : 2, buf,
			    (size_t)n);
		keep = c->max_output - s->buf.len;
		if (keep > (size_t)n)
			keep = (size_t)n;
		if (keep > 0)
			lk_buf_add(&s->buf, buf, keep);
		if (keep < (size_t)n)
			s->truncated = true;
		s->total += (size_t)n;
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	child_stream_close(s);
	child_check(c);
}

/* Reads the status pipe: a report if exec failed, else EOF. */
static void
child_read_status(struct child *c)
{
	struct child_report	r;
	ssize_t			n;

	if (c->status_fd == -1)
		return;
	n = read(c->status_fd, &r, sizeof r);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	/* A report is smaller than PIPE_BUF, so it comes whole or not at all. */
	if (n == (ssize_t)sizeof r)
		c->report = r;
	loop_del_fd(c->loop, c->status_fd, LOOP_READABLE);
	child_close(&c->status_fd);
}

static void
child_status_cb(struct loop *l, int fd, int mask, void *data)
{
	struct child	*c = data;

	child_read_status(c);
	child_check(c);
}

static void
child_stdin_close(struct child *c)
{
	if (c->stdin_fd != -1) {
		loop_del_fd(c->loop, c->stdin_fd, LOOP_WRITABLE);
		child_close(&c->stdin_fd);
	}
	if (c->stdin_data != NULL) {
		explicit_bzero(c->stdin_data, c->stdin_len);
		free(c->stdin_data);
		c->stdin_data = NULL;
	}
}

static void
child_stdin_cb(struct loop *l, int fd, int mask, void *data)
{
	struct child		*c = data;
	struct timespec		 zero = { 0, 0 };
	sigset_t		 pipe_set, old, pending;
	ssize_t			 n;
	int			 saved, was_pending;

	/*
	 * A command that exits without reading its stdin makes this write
	 * fail with EPIPE and raise SIGPIPE, which would end lookout unless
	 * someone ignored it.  So SIGPIPE is blocked around the write and a
	 * SIGPIPE the write raised is taken off the pending set.
	 */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);

	n = write(fd, c->stdin_data + c->stdin_off, c->stdin_len - c->stdin_off);
	saved = errno;
	if (n == -1 && saved == EPIPE && !was_pending)
		sigtimedwait(&pipe_set, NULL, &zero);
	sigprocmask(SIG_SETMASK, &old, NULL);

	if (n > 0)
		c->stdin_off += (size_t)n;
	else if (n == -1 && (saved == EAGAIN || saved == EINTR))
		return;
	if (n == -1 || c->stdin_off == c->stdin_len)
		child_stdin_close(c);
}

static void
child_del_timer(struct child *c, long long *id)
{
	if (*id != 0) {
		loop_del_timer(c->loop, *id);
		*id = 0;
	}
}

static char *
child_spawn_error(struct child *c)
{
	const char	*e = strerror(c->report.errnum);

	switch (c->report.stage) {
	case CHILD_STAGE_CHDIR:
		return lk_xasprintf("cannot run %s: cd %s: %s", c->name,
		    c->cwd, e);
	case CHILD_STAGE_EXEC:
		return lk_xasprintf("cannot run %s: %s", c->name, e);
	default:
		return lk_xasprintf("cannot run %s: set up: %s", c->name, e);
	}
}

/* Makes the one callback and frees c. */
static void
child_finish(struct child *c)
{
	struct child_result	 r;
	char			*spawn_error = NULL;

	c->finishing = true;
	child_del_timer(c, &c->timeout_timer);
	child_del_timer(c, &c->esc_timer);
	child_del_timer(c, &c->drain_timer);
	child_stdin_close(c);

	memset(&r, 0, sizeof r);
	r.pid = c->pid;
	r.exit_status = -1;
	if (c->report.stage != 0)
		r.spawn_error = spawn_error = child_spawn_error(c);
	else if (c->wstatus != -1 && WIFEXITED(c->wstatus))
		r.exit_status = WEXITSTATUS(c->wstatus);
	else if (c->wstatus != -1 && WIFSIGNALED(c->wstatus))
		r.term_signal = WTERMSIG(c->wstatus);
	r.timed_out = c->timed_out;
	r.cancelled = c->cancelled;
	r.out = c->out.buf.s != NULL ? c->out.buf.s : "";
	r.out_len = c->out.buf.len;
	r.out_truncated = c->out.truncated;
	r.out_total = c->out.total;
	r.err = c->err.buf.s != NULL ? c->err.buf.s : "";
	r.err_len = c->err.buf.len;
	r.err_truncated = c->err.truncated;
	r.err_total = c->err.total;
	r.duration_ms = loop_now_ms() - c->started;

	c->cb(&r, c->data);

	free(spawn_error);
	lk_buf_free(&c->out.buf);
	lk_buf_free(&c->err.buf);
	free(c->name);
	free(c->cwd);
	free(c);
}

static void
child_check(struct child *c)
{
	if (!c->finishing && c->reaped && c->out.fd == -1 &&
	    c->err.fd == -1 && c->status_fd == -1)
		child_finish(c);
}

/*
 * Stops waiting for EOF.  Only called once the command has been reaped or
 * SIGKILLed, when whatever still holds the pipes is something it left
 * behind.  The status pipe is read, not dropped: after the reap it has its
 * report or EOF waiting.
 */
static void
child_give_up(struct child *c)
{
	child_stream_close(&c->out);
	child_stream_close(&c->err);
	if (c->reaped)
		child_read_status(c);
}

static long long
child_drain_cb(struct loop *l, long long id, void *data)
{
	struct child	*c = data;

	c->drain_timer = 0;
	child_give_up(c);
	child_check(c);
	return LOOP_NOMORE;
}

/*
 * Signals the whole group.  SIGCONT follows, because a stopped process
 * (one that read the terminal from the background, say) keeps SIGINT and
 * SIGTERM pending until it runs again.
 */
static void
child_signal(struct child *c, int sig)
{
	if (c->group_gone)
		return;
	if (kill(-c->pid, sig) == -1 && errno == ESRCH) {
		c->group_gone = true;
		return;
	}
	if (sig != SIGKILL)
		kill(-c->pid, SIGCONT);
}

static long long	child_esc_cb(struct loop *, long long, void *);

/* Sends the next signal and arms the timer for the step after it. */
static void
child_esc_next(struct child *c)
{
	static const int	sigs[] = { SIGINT, SIGTERM, SIGKILL };
	int64_t			delay;

	if (c->esc_stage < 3)
		child_signal(c, sigs[c->esc_stage++]);
	/* No group left to signal: only the wait for EOF remains. */
	if (c->group_gone)
		c->esc_stage = 3;
	delay = c->grace_ms;
	if (c->esc_stage == 3 && delay > CHILD_KILL_DRAIN_MS)
		delay = CHILD_KILL_DRAIN_MS;
	c->esc_timer = loop_add_timer(c->loop, delay, child_esc_cb, c);
}

static long long
child_esc_cb(struct loop *l, long long id, void *data)
{
	struct child	*c = data;

	c->esc_timer = 0;
	if (c->esc_stage < 3)
		child_esc_next(c);
	else {
		child_give_up(c);
		child_check(c);
	}
	return LOOP_NOMORE;
}

static void
child_escalate(struct child *c)
{
	if (c->finishing || c->esc_stage != 0)
		return;
	child_del_timer(c, &c->timeout_timer);
	child_del_timer(c, &c->drain_timer);
	child_esc_next(c);
}

static long long
child_timeout_cb(struct loop *l, long long id, void *data)
{
	struct child	*c = data;

	c->timeout_timer = 0;
	if (!c->reaped && c->esc_stage == 0) {
		c->timed_out = true;
		child_escalate(c);
	}
	return LOOP_NOMORE;
}

static void
child_reaped_cb(struct loop *l, pid_t pid, int wstatus, void *data)
{
	struct child	*c = data;

	c->reaped = true;
	c->wstatus = wstatus;
	child_del_timer(c, &c->timeout_timer);
	/*
	 * Something the command left running may hold its pipes: read what
	 * comes for a while, but do not wait for it forever.  An escalation
	 * under way already bounds the wait.
	 */
	if (c->esc_stage == 0 && (c->out.fd != -1 || c->err.fd != -1))
		c->drain_timer = loop_add_timer(c->loop, c->grace_ms,
		    child_drain_cb, c);
	child_check(c);
}

void
child_cancel(struct child *c)
{
	if (c == NULL || c->finishing || c->esc_stage != 0)
		return;
	c->cancelled = true;
	child_escalate(c);
}

pid_t
child_pid(const struct child *c)
{
	return c->pid;
}

void
child_abandon(struct child **cp)
{
	struct child *c = cp ? *cp : NULL;

	if (c == NULL)
		return;
	*cp = NULL;
	if (!c->reaped) {
		loop_del_child(c->loop, c->pid);
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	child_del_timer(c, &c->timeout_timer);
	child_del_timer(c, &c->esc_timer);
	child_del_timer(c, &c->drain_timer);
	child_stdin_close(c);
	child_stream_close(&c->out);
	child_stream_close(&c->err);
	if (c->status_fd != -1) {
		loop_del_fd(c->loop, c->status_fd, LOOP_READABLE);
		child_close(&c->status_fd);
	}
	lk_buf_free(&c->out.buf);
	lk_buf_free(&c->err.buf);
	free(c->name);
	free(c->cwd);
	free(c);
}

static enum lk_code
child_check_opts(const struct child_opts *o, struct lk_err *err)
{
	size_t	i;

	if (o == NULL || o->argv == NULL || o->argv[0] == NULL ||
	    o->argv[0][0] == '\0')
		return lk_fail(err, LK_EINPUT, "sh: no command to run");
	for (i = 0; o->env != NULL && o->env[i] != NULL; i++) {
		if (o->env[i][0] == '=' || strchr(o->env[i], '=') == NULL)
			return lk_fail(err, LK_EINPUT,
			    "sh: environment entry is not K=V: %s", o->env[i]);
	}
	if (o->stdin_data == NULL && o->stdin_len != 0)
		return lk_fail(err, LK_EINPUT, "sh: stdin_len without stdin_data");
	if (o->stdio && (o->stdio_fd < 0 || o->stdin_data != NULL))
		return lk_fail(err, LK_EINPUT, "sh: stdio_fd with stdin_data "
		    "or without an fd");
	return LK_OK;
}

static void
child_nonblock(int fd)
{
	int	flags = fcntl(fd, F_GETFL);

	if (flags != -1)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

enum lk_code
child_start(struct loop *loop, const struct child_opts *o, child_done_cb *cb,
    void *data, struct child **out, struct lk_err *err)
{
	struct child_spawn	 s;
	struct child		*c;
	struct rlimit		 rl;
	sigset_t		 all, old;
	enum lk_code		 code;
	int			 po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	int			 ps[2] = { -1, -1 }, pi[2] = { -1, -1 };
	int			 saved;
	pid_t			 pid;

	if (out != NULL)
		*out = NULL;
	if ((code = child_check_opts(o, err)) != LK_OK)
		return code;
	if (loop == NULL || cb == NULL)
		return lk_fail(err, LK_EINPUT, "sh: no loop or callback");

	if ((!o->stdio && child_pipe(po) != 0) || child_pipe(pe) != 0 ||
	    child_pipe(ps) != 0) {
		code = lk_fail(err, LK_EIO, "cannot run %s: pipe: %s",
		    o->argv[0], strerror(errno));
		goto fail;
	}
	if (o->stdio) {
		/* The child's ends are the caller's fd; ours stay -1. */
	} else if (o->stdin_data != NULL) {
		if (child_pipe(pi) != 0) {
			code = lk_fail(err, LK_EIO, "cannot run %s: pipe: %s",
			    o->argv[0], strerror(errno));
			goto fail;
		}
	} else {
		pi[0] = child_fd_high(open("/dev/null", O_RDONLY|O_CLOEXEC));
		if (pi[0] == -1) {
			code = lk_fail(err, LK_EIO, "cannot run %s: /dev/null: %s",
			    o->argv[0], strerror(errno));
			goto fail;
		}
	}

	memset(&s, 0, sizeof s);
	s.argv = (char *const *)o->argv;	/* execve() does not write */
	s.envp = child_make_env(o->env);
	s.paths = child_make_paths(o->argv[0], s.envp);
	s.cwd = o->cwd;
	s.in = o->stdio ? o->stdio_fd : pi[0];
	s.out = o->stdio ? o->stdio_fd : po[1];
	s.no_tty = o->no_tty;
	s.err = pe[1];
	s.status = ps[1];
	s.maxfd = 65535;
	s.parent = getpid();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 1048576)
		s.maxfd = (int)rl.rlim_cur - 1;

	/* No handler of ours may run in the child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	saved = errno;
	if (pid == 0)
		child_exec(&s);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(s.envp);
	child_free_strv(s.paths);
	if (pid == -1) {
		code = lk_fail(err, LK_EIO, "cannot run %s: fork: %s",
		    o->argv[0], strerror(saved));
		goto fail;
	}
	/*
	 * The child does this too: whichever of us runs first, the group
	 * exists before either goes on, so no signal can miss it.  EACCES
	 * here means the child has already exec'd, after its own setpgid.
	 */
	setpgid(pid, pid);

	child_close(&pi[0]);
	child_close(&po[1]);
	child_close(&pe[1]);
	child_close(&ps[1]);

	c = lk_xcalloc(1, sizeof *c);
	c->loop = loop;
	c->cb = cb;
	c->data = data;
	c->pid = pid;
	c->name = lk_xstrdup(o->argv[0]);
	c->cwd = o->cwd != NULL ? lk_xstrdup(o->cwd) : NULL;
	c->started = loop_now_ms();
	c->max_output = o->max_output > 0 ? o->max_output : CHILD_MAX_OUTPUT;
	c->on_output = o->on_output;
	c->output_data = o->output_data;
	c->grace_ms = o->grace_ms > 0 ? o->grace_ms : CHILD_GRACE_MS;
	c->out.c = c;
	c->out.fd = po[0];	/* -1 with stdio: nothing to read */
	c->err.c = c;
	c->err.fd = pe[0];
	c->status_fd = ps[0];
	c->stdin_fd = pi[1];

	if (loop_add_child(loop, pid, child_reaped_cb, c) != 0) {
		/*
		 * Without a watch nobody would reap it.  A SIGKILLed child
		 * is reaped at once, so this rare wait is short.
		 */
		saved = errno;
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		free(c->name);
		free(c->cwd);
		free(c);
		code = lk_fail(err, LK_EIO, "cannot run %s: watch child: %s",
		    o->argv[0], strerror(saved));
		goto fail;
	}

	if (c->out.fd != -1) {
		child_nonblock(c->out.fd);
		loop_add_fd(loop, c->out.fd, LOOP_READABLE, child_read_cb,
		    &c->out);
	}
	child_nonblock(c->err.fd);
	child_nonblock(c->status_fd);
	loop_add_fd(loop, c->err.fd, LOOP_READABLE, child_read_cb, &c->err);
	loop_add_fd(loop, c->status_fd, LOOP_READABLE, child_status_cb, c);
	if (c->stdin_fd != -1) {
		child_nonblock(c->stdin_fd);
		if (o->stdin_len == 0)
			child_close(&c->stdin_fd);
		else {
			c->stdin_data = lk_xmalloc(o->stdin_len);
			memcpy(c->stdin_data, o->stdin_data, o->stdin_len);
			c->stdin_len = o->stdin_len;
			loop_add_fd(loop, c->stdin_fd, LOOP_WRITABLE,
			    child_stdin_cb, c);
		}
	}
	if (o->timeout_ms > 0)
		c->timeout_timer = loop_add_timer(loop, o->timeout_ms,
		    child_timeout_cb, c);

	if (out != NULL)
		*out = c;
	return LK_OK;

fail:
	child_close(&po[0]);
	child_close(&po[1]);
	child_close(&pe[0]);
	child_close(&pe[1]);
	child_close(&ps[0]);
	child_close(&ps[1]);
	child_close(&pi[0]);
	child_close(&pi[1]);
	return code;
}
