/*
 * Child processes for the runbook action sh{argv..., timeout=, cwd=, env=}.
 *
 * A command is an argv, never a string: nothing here runs a shell, so a
 * parameter such as "; touch /tmp/x" or "$(id)" reaches the program as one
 * argument and nothing else executes.  Secrets go in through the
 * environment or stdin_data, never argv, because argv is world-readable in
 * /proc/<pid>/cmdline.
 *
 * The command runs in a process group of its own, so a timeout or a cancel
 * reaches everything it started in that group: SIGINT, then SIGTERM, then
 * SIGKILL, grace_ms apart (each followed by SIGCONT, so a stopped group
 * acts on it).  Output is read from pipes on the loop and kept up to a
 * bound; nothing here blocks.  The command dies with lookout (SIGKILL when
 * lookout dies, even of kill -9), since nothing else would ever stop it.
 */
#ifndef LK_CHILD_H
#define LK_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct loop;
struct child;

#define CHILD_GRACE_MS		2000		/* default grace_ms */
#define CHILD_MAX_OUTPUT	(64 * 1024)	/* default max_output */

/* Nothing in here is kept by child_start: it copies what it needs. */
struct child_opts {
	/*
	 * NULL-terminated, argv[0] not empty.  argv[0] without a '/' is
	 * looked up in PATH: the PATH the child gets (env may set it), or
	 * "/bin:/usr/bin" if there is none.  Files that are not executables
	 * are not handed to /bin/sh as execvp would: that would be a shell.
	 */
	const char *const	*argv;
	const char		*cwd;		/* or NULL: lookout's own */
	/* "K=V" entries set on top of the inherited environment, or NULL. */
	const char *const	*env;
	/* Written to the child's stdin, or NULL: stdin is /dev/null. */
	const char		*stdin_data;
	size_t			 stdin_len;
	int64_t			 timeout_ms;	/* <= 0: none */
	/*
	 * <= 0: CHILD_GRACE_MS.  The time between SIGINT, SIGTERM and
	 * SIGKILL, and how long output is still read after the command
	 * exited while something it left behind holds its pipes open.
	 */
	int64_t			 grace_ms;
	size_t			 max_output;	/* per stream; 0: CHILD_MAX_OUTPUT */
	/*
	 * Optional: called from the loop with each chunk read from stdout
	 * (stream 1) or stderr (stream 2) as it arrives, whether or not it
	 * is kept, for a screen that shows the command at work.
	 */
	void			(*on_output)(void *data, int stream,
				    const char *buf, size_t len);
	void			*output_data;
	/*
	 * With stdio set, the child's stdin and stdout are stdio_fd (one
	 * end of a socketpair, say), not pipes of ours: nothing is written
	 * to its stdin and its stdout is not read (stdin_data must be
	 * NULL); stderr is read as always.  For a program that carries a
	 * protocol, such as ssh under an sd-bus connection.  The fd is the
	 * caller's; it may close it once child_start returned.
	 */
	bool			 stdio;
	int			 stdio_fd;
	/*
	 * Cut off from lookout's controlling terminal, so that it cannot
	 * ask for anything there (ssh asks for passwords and host keys on
	 * /dev/tty): it fails instead of waiting for a person.
	 */
	bool			 no_tty;
};

/* Valid only during the done callback, which must copy what it keeps. */
struct child_result {
	pid_t		 pid;
	/* -1 if killed by a signal, never started, or reaped by someone else. */
	int		 exit_status;
	int		 term_signal;	/* 0 if it exited */
	bool		 timed_out;
	bool		 cancelled;
	/* Output kept (NUL-terminated), whether some was dropped, and how
	 * much there was in all. */
	const char	*out;
	size_t		 out_len;
	bool		 out_truncated;
	size_t		 out_total;
	const char	*err;
	size_t		 err_len;
	bool		 err_truncated;
	size_t		 err_total;
	int64_t		 duration_ms;
	/*
	 * Why the program never ran ("cannot run foo: No such file or
	 * directory"), or NULL if it did: a command that exits 127 is not
	 * a missing command.
	 */
	const char	*spawn_error;
};

typedef void child_done_cb(const struct child_result *r, void *data);

/*
 * Starts a command.  On LK_OK, cb runs exactly once, from the loop and never
 * inside child_start, after the command has been reaped and its output read
 * to the end (or given up on: see grace_ms); the child then frees itself,
 * and *out (if out is not NULL) is a handle valid until cb returns.  On
 * failure (bad options, no fds, fork failed) cb never runs and *out is NULL.
 * The loop must outlive the child: cancel it and run the loop until cb.
 */
enum lk_code child_start(struct loop *loop, const struct child_opts *o,
    child_done_cb *cb, void *data, struct child **out, struct lk_err *err);

/*
 * Starts the SIGINT -> SIGTERM -> SIGKILL escalation to the process group;
 * cb still runs, later, with cancelled set.  Does nothing if escalation has
 * already begun or cb is running.
 */
void child_cancel(struct child *c);

pid_t child_pid(const struct child *c);

/*
 * Kills the command's group with SIGKILL, reaps it, and frees the child
 * at once, without calling cb: for an owner that goes away while the
 * command runs and must not leave it (or its callback) behind.  Waits
 * only for the kernel to end a SIGKILLed process.  Sets *c to NULL;
 * NULL is fine.  Never from inside cb.
 */
void child_abandon(struct child **c);

#endif
