/*
 * Which directories lookout may trust, and opening them without following
 * a link that someone else could have planted.
 *
 * lookout runs as root on hosts shared with other users.  A path such as
 * /tmp/x/timeline.db means what it says only if nobody else can change
 * what it leads to: a link another user plants in a directory they can
 * write, or a directory of theirs swapped in along the way, would make
 * root create, truncate or chmod a file of their choosing.  So a path is
 * walked here one component at a time, from /, the way OpenSSH's
 * safe_path() checks its files, with the difference that a link is
 * followed only where nobody but root and the invoker could have put it:
 * in a directory that only they can write, or in a sticky one (/tmp) when
 * the link itself is theirs.
 *
 * Whoever trusts the directory a path ends in then works relative to the
 * fd returned here (openat, renameat) or, where a library insists on a
 * name (SQLite and its -wal and -shm files), asks for TRUST_STABLE and
 * hands it the real path returned here, which nobody else can change.
 *
 * What lookout runs (a configuration, a runbook, a directory of runbooks)
 * is opened by the same walk under a stricter rule, TRUST_OWNED, as ssh
 * (StrictModes) and sudo treat their files: the file and every directory
 * above it, up to /, belong to root or the invoker and nobody else may
 * write them; a sticky directory of theirs (/tmp) is crossed only to an
 * entry of theirs.  What is checked is what was opened, through its own
 * fd: nothing is checked by name and then opened again.
 */
#ifndef LK_TRUST_H
#define LK_TRUST_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "util.h"

/*
 * Every directory on the path, the last included, is owned by root or the
 * invoker and writable by nobody else, or is a sticky directory owned by
 * root or the invoker (/tmp) whose entry on the path is theirs: nobody
 * else can rename, replace or add anything along it.
 */
#define TRUST_STABLE	0x1
/* The last directory is the invoker's alone: owned by them, mode 0700. */
#define TRUST_PRIVATE	0x2
/* Directories that do not exist are created, mode 0700. */
#define TRUST_CREATE	0x4
/*
 * Every directory on the path and what it ends in belong to root or the
 * invoker and are writable by nobody else; a directory crossed may be
 * sticky instead (/tmp), and then the entry crossed in it is theirs.
 */
#define TRUST_OWNED	0x8

/*
 * Opens the directory at path (relative paths start at the working
 * directory) with flags TRUST_*.  On LK_OK, *fd is an O_PATH descriptor
 * of it, which the caller closes, and *real (if real is not NULL) its
 * path without links, which the caller frees.  what names it in errors:
 * "open timeline /x/t.db".  A directory that does not exist (without
 * TRUST_CREATE) is LK_ENOTFOUND; a link that may not be followed, or a
 * directory that is not private or stable as flags require, is LK_EINPUT
 * with a message that names it, its owner and its mode.
 */
enum lk_code trust_open_dir(const char *path, unsigned flags,
    const char *what, int *fd, char **real, struct lk_err *err);

/*
 * Checks what fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW) found for a file
 * lookout reads and writes in a directory it trusts: a regular file, not
 * a link, owned by the invoker, with no access for group or others.
 * Returns LK_OK or LK_EINPUT: "what: path is not private (owner alice,
 * mode 0644)...", without path when what names the file already.
 */
struct stat;
enum lk_code trust_check_file(const struct stat *st, const char *what,
    const char *path, struct lk_err *err);

/*
 * Splits path into its directory ("." or "/" where that is all there is),
 * which the caller frees, and in *base the file name after it; returns
 * NULL when path does not end in a file name ("", "x/", "..").
 */
char *trust_split(const char *path, const char **base);

/*
 * Creates "<base>.XXXXXX" in dirfd, 0600, with O_EXCL and O_NOFOLLOW, and
 * returns its fd (and its name in *tmp, which the caller frees), or -1
 * with errno set.
 */
int trust_tmpfile(int dirfd, const char *base, char **tmp);

/* What trust_open expects at the end of its path. */
enum trust_kind {
	TRUST_FILE,	/* a regular file, opened for reading */
	TRUST_DIR,	/* a directory, opened to read its entries */
	TRUST_ANY,	/* either of them */
};

/*
 * Opens path (relative paths start at the working directory) as kind,
 * walked with TRUST_OWNED for uid (besides root, the user to trust: the
 * invoker, geteuid()).  Returns the fd, O_CLOEXEC, which the caller
 * closes, or -1 with err set, in one line that starts "<what> <path>: "
 * (what may be NULL): LK_ENOTFOUND when it does not exist; LK_EREFUSED
 * when it is not to be trusted, naming the file or directory at fault,
 * its owner and its mode, or when it is a FIFO, a device or a directory
 * where a file is expected (never opened, or opened O_NONBLOCK and
 * refused by what fstat says: never waited on); LK_EIO otherwise.
 */
int trust_open(const char *what, const char *path, uid_t uid,
    enum trust_kind kind, struct lk_err *err);

/*
 * trust_open() of a file, then reads it into out (reset first): at most
 * max + 1 bytes, so that the caller can tell a file larger than max.
 */
enum lk_code trust_read(const char *what, const char *path, uid_t uid,
    size_t max, struct lk_buf *out, struct lk_err *err);

/* Only checks: whether path (a file or a directory) may be trusted. */
enum lk_code trust_check_path(const char *path, uid_t uid,
    struct lk_err *err);

#endif
