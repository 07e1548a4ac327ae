/*
 * Opening a file that lookout is about to trust with what it says: a
 * configuration, a runbook, a directory of runbooks.
 *
 * lookout runs as root on hosts shared with other users, and runs what its
 * configuration and runbooks say.  A file means what its owner meant only
 * if nobody else could have changed it, or changed which file its path
 * leads to.  So, as OpenSSH's safe_path() and sudo do, the file and every
 * directory above it, up to /, must belong to root or to the invoker and
 * be writable by nobody else.  One exception, for /tmp: a directory that
 * others can write is crossed when it is sticky and belongs to root or the
 * invoker, because then nobody else can rename or remove an entry of root's
 * or the invoker's in it, and an entry of anyone else's is refused.  What
 * is checked is what was opened: the path is walked one component at a
 * time, from /, each directory opened relative to the one checked before
 * it with O_NOFOLLOW and checked through its own fd, and a symbolic link
 * is followed only from a directory that holds it (nobody else could have
 * put it there).  Nothing is checked by name and then opened again.
 */
#ifndef LK_SAFE_H
#define LK_SAFE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "util.h"

enum lk_safe_kind {
	LK_SAFE_FILE,	/* a regular file, opened for reading */
	LK_SAFE_DIR,	/* a directory, opened to read its entries */
	LK_SAFE_ANY,	/* either of them */
};

/*
 * Opens path (relative paths start at the working directory) as kind,
 * trusting nothing that a user other than root and uid could have written
 * (see above).  Returns the fd, O_CLOEXEC, which the caller closes, or -1
 * with err set, in one line that starts "<what> <path>: " (what may be
 * NULL): LK_ENOTFOUND when it does not exist; LK_EREFUSED when it is not
 * to be trusted, naming the file or directory at fault, its owner and its
 * mode, or when it is a FIFO, a device or a directory where a file is
 * expected (never opened, so never waited on); LK_EIO otherwise.
 */
int lk_safe_open(const char *what, const char *path, uid_t uid,
    enum lk_safe_kind kind, struct lk_err *err);

/*
 * lk_safe_open() of a file, then reads it into out (reset first): at most
 * max + 1 bytes, so that the caller can tell a file larger than max.
 */
enum lk_code lk_safe_read(const char *what, const char *path, uid_t uid,
    size_t max, struct lk_buf *out, struct lk_err *err);

/* Only checks: whether path (a file or a directory) may be trusted. */
enum lk_code lk_safe_path(const char *path, uid_t uid, struct lk_err *err);

#endif
