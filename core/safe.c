/*
 * Walking a path the way the kernel would, one component at a time, and
 * refusing what a user other than root and the invoker could have changed.
 * See safe.h.
 */
#include "safe.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* As the kernel counts them: more links than this in one path is a loop. */
#define SAFE_MAX_LINKS 40

/* One directory entered, and the length of the walked path up to it. */
struct level {
	int fd;
	struct stat st;
	size_t len;
};

struct walk {
	const char *what;
	const char *path;	/* as given, for messages */
	uid_t uid;
	struct level *dirs;	/* from / to the directory being read */
	size_t n, cap;
	struct lk_buf real;	/* the path walked so far, without links */
	struct lk_err *err;
};

static void
owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL && pw->pw_name != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %lu", (unsigned long)uid);
}

static bool
trusted_owner(const struct walk *w, uid_t owner)
{
	return owner == 0 || owner == w->uid;
}

static const char *
type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a regular file";
}

static struct level *
top(struct walk *w)
{
	return &w->dirs[w->n - 1];
}

static const char *
real_path(const struct walk *w)
{
	return w->real.len > 0 ? w->real.s : "/";
}

/* "<what> <path>: " then the message. */
static enum lk_code
walk_fail(struct walk *w, enum lk_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum lk_code
walk_fail(struct walk *w, enum lk_code code, const char *fmt, ...)
{
	char msg[LK_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return lk_fail(w->err, code, "%s%s%s: %s", w->what ? w->what : "",
	    w->what ? " " : "", w->path, msg);
}

/* errnum about name in the directory on top (NULL: the walk itself). */
static enum lk_code
walk_errno(struct walk *w, const char *name, int errnum)
{
	char why[128];

	snprintf(why, sizeof why, "%s", strerror(errnum));
	why[0] = (char)tolower((unsigned char)why[0]);
	/* Whatever is missing, the path does not lead anywhere. */
	if (errnum == ENOENT)
		return walk_fail(w, LK_ENOTFOUND, "%s", why);
	if (name == NULL)
		return walk_fail(w, LK_EIO, "%s", why);
	return walk_fail(w, LK_EIO, "%s/%s: %s", w->real.len > 0 ?
	    w->real.s : "", name, why);
}

/*
 * Refuses st, the directory on top (name NULL) or name in it, unless it
 * belongs to root or the invoker and nobody else may write it.  crossed:
 * a directory the path goes through, which may be sticky instead (safe.h
 * says why).
 */
static enum lk_code
check_owner_mode(struct walk *w, const struct stat *st, const char *name,
    bool crossed)
{
	char owner[64], where[PATH_MAX + 32];
	mode_t m = st->st_mode;

	snprintf(where, sizeof where, "%s%s%s%s", S_ISDIR(m) ? "directory " :
	    "", name != NULL && w->real.len > 0 ? w->real.s : "",
	    name != NULL ? "/" : real_path(w), name != NULL ? name : "");
	owner_name(st->st_uid, owner, sizeof owner);
	if (!trusted_owner(w, st->st_uid)) {
		char me[64];

		owner_name(w->uid, me, sizeof me);
		return walk_fail(w, LK_EREFUSED, "not trusted: %s belongs to "
		    "%s, not to root%s%s (mode %04o)", where, owner,
		    w->uid != 0 ? " or " : "", w->uid != 0 ? me : "",
		    (unsigned)(m & 07777));
	}
	if ((m & (S_IWGRP | S_IWOTH)) != 0 &&
	    !(crossed && S_ISDIR(m) && (m & S_ISVTX) != 0))
		return walk_fail(w, LK_EREFUSED, "not trusted: %s is writable "
		    "by %s (owner %s, mode %04o)", where,
		    (m & S_IWGRP) && (m & S_IWOTH) ? "its group and others" :
		    (m & S_IWOTH) ? "others" : "its group", owner,
		    (unsigned)(m & 07777));
	return LK_OK;
}

static void
walk_pop(struct walk *w)
{
	close(top(w)->fd);
	w->n--;
	w->real.len = w->n > 0 ? top(w)->len : 0;
	if (w->real.s != NULL)
		w->real.s[w->real.len] = '\0';
}

/* Enters the directory fd (name in the one on top; NULL for /). */
static enum lk_code
walk_push(struct walk *w, int fd, const char *name)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		return walk_errno(w, name, e);
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->dirs = lk_xrealloc(w->dirs, w->cap * sizeof *w->dirs);
	}
	if (name != NULL) {
		lk_buf_addc(&w->real, '/');
		lk_buf_adds(&w->real, name);
	}
	w->dirs[w->n].fd = fd;
	w->dirs[w->n].st = st;
	w->dirs[w->n].len = w->real.len;
	w->n++;
	return check_owner_mode(w, &st, NULL, true);
}

static enum lk_code
walk_root(struct walk *w)
{
	int fd;

	while (w->n > 0)
		walk_pop(w);
	lk_buf_reset(&w->real);
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return walk_errno(w, NULL, errno);
	return walk_push(w, fd, NULL);
}

/* The next component at *pos (advanced past it), or NULL at the end. */
static char *
next_name(const char **pos)
{
	const char *p = *pos + strspn(*pos, "/");
	const char *end = strchrnul(p, '/');
	char *name;

	*pos = end;
	if (end == p)
		return NULL;
	name = lk_xmalloc((size_t)(end - p) + 1);
	memcpy(name, p, (size_t)(end - p));
	name[end - p] = '\0';
	return name;
}

/*
 * Follows the link name in the directory on top: its target is walked
 * before what is left of the path (*rest is replaced, *pos points into
 * the new one).
 */
static enum lk_code
walk_link(struct walk *w, const char *name, const struct stat *lst,
    char **rest, const char **pos, int *links)
{
	const struct level *dir = top(w);
	char target[PATH_MAX], owner[64];
	char *joined;
	ssize_t n;

	/* In a directory others may write (sticky, or it would have been
	 * refused), only a link of root's or the invoker's is theirs. */
	if ((dir->st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    !trusted_owner(w, lst->st_uid)) {
		owner_name(lst->st_uid, owner, sizeof owner);
		return walk_fail(w, LK_EREFUSED, "not trusted: link %s/%s "
		    "belongs to %s, in a directory others can write (mode "
		    "%04o)", w->real.len > 0 ? w->real.s : "", name, owner,
		    (unsigned)(dir->st.st_mode & 07777));
	}
	if (++*links > SAFE_MAX_LINKS)
		return walk_errno(w, name, ELOOP);
	if ((n = readlinkat(dir->fd, name, target, sizeof target - 1)) < 0)
		return walk_errno(w, name, errno);
	target[n] = '\0';
	joined = lk_xasprintf("%s%s", target, *pos);
	free(*rest);
	*rest = joined;
	*pos = joined;
	return target[0] == '/' ? walk_root(w) : LK_OK;
}

static bool
kind_fits(enum lk_safe_kind kind, mode_t m)
{
	return kind == LK_SAFE_FILE ? S_ISREG(m) : kind == LK_SAFE_DIR ?
	    S_ISDIR(m) : S_ISREG(m) || S_ISDIR(m);
}

static void
wrong_kind(struct walk *w, enum lk_safe_kind kind, mode_t m)
{
	if (kind == LK_SAFE_DIR)
		walk_fail(w, LK_EREFUSED, "not a directory (%s)", S_ISREG(m) ?
		    "a file" : type_name(m));
	else
		walk_fail(w, LK_EREFUSED, "not a regular file (%s)", type_name(m));
}

/* The path ended at the directory on top: open it for reading. */
static int
open_top_dir(struct walk *w, enum lk_safe_kind kind)
{
	int fd;

	if (!kind_fits(kind, S_IFDIR)) {
		wrong_kind(w, kind, S_IFDIR);
		return -1;
	}
	if (check_owner_mode(w, &top(w)->st, NULL, false) != LK_OK)
		return -1;
	if ((fd = openat(top(w)->fd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		walk_errno(w, NULL, errno);
	return fd;
}

/*
 * The last component, name, in the directory on top, not a directory:
 * lst says what it was a moment ago, the fd opened here what it is.
 */
static int
open_last(struct walk *w, const char *name, const struct stat *lst,
    enum lk_safe_kind kind)
{
	struct stat st;
	int fd;

	/* Never opened: a FIFO would wait for a writer, and a device may
	 * act on being opened. */
	if (!kind_fits(kind, lst->st_mode)) {
		wrong_kind(w, kind, lst->st_mode);
		return -1;
	}
	fd = openat(top(w)->fd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		walk_errno(w, name, errno);
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		walk_errno(w, name, errno);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || !kind_fits(kind, st.st_mode)) {
		wrong_kind(w, kind, st.st_mode);
		close(fd);
		return -1;
	}
	if (check_owner_mode(w, &st, name, false) != LK_OK) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Walks *rest from /; returns the fd of what it names, or -1. */
static int
walk(struct walk *w, char **rest, enum lk_safe_kind kind)
{
	const char *pos = *rest;
	int links = 0, fd = -1;
	char *name = NULL;
	struct stat lst;

	if (walk_root(w) != LK_OK)
		return -1;
	for (;; free(name)) {
		if ((name = next_name(&pos)) == NULL)
			return open_top_dir(w, kind);
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (w->n > 1)
				walk_pop(w);
			continue;
		}
		if (fstatat(top(w)->fd, name, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
			walk_errno(w, name, errno);
			break;
		}
		if (S_ISLNK(lst.st_mode)) {
			if (walk_link(w, name, &lst, rest, &pos, &links) !=
			    LK_OK)
				break;
			continue;
		}
		if (!S_ISDIR(lst.st_mode)) {
			if (*pos == '\0')
				fd = open_last(w, name, &lst, kind);
			else
				walk_errno(w, name, ENOTDIR);
			break;
		}
		fd = openat(top(w)->fd, name, O_PATH | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			walk_errno(w, name, errno);
			break;
		}
		if (walk_push(w, fd, name) != LK_OK) {
			fd = -1;
			break;
		}
		fd = -1;
	}
	free(name);
	return fd;
}

int
lk_safe_open(const char *what, const char *path, uid_t uid,
    enum lk_safe_kind kind, struct lk_err *err)
{
	struct walk w = { .what = what, .path = path, .uid = uid, .err = err };
	char *rest;
	int fd;

	if (path[0] == '/') {
		rest = lk_xstrdup(path);
	} else {
		char *cwd = getcwd(NULL, 0);

		if (cwd == NULL) {
			walk_errno(&w, NULL, errno);
			return -1;
		}
		rest = lk_xasprintf("%s/%s", cwd, path);
		free(cwd);
	}
	fd = walk(&w, &rest, kind);
	free(rest);
	while (w.n > 0)
		walk_pop(&w);
	free(w.dirs);
	lk_buf_free(&w.real);
	return fd;
}

enum lk_code
lk_safe_read(const char *what, const char *path, uid_t uid, size_t max,
    struct lk_buf *out, struct lk_err *err)
{
	char chunk[8192];
	ssize_t n;
	int fd;

	lk_buf_reset(out);
	if ((fd = lk_safe_open(what, path, uid, LK_SAFE_FILE, err)) < 0)
		return err != NULL ? err->code : LK_EIO;
	while (out->len <= max) {
		size_t want = max + 1 - out->len;

		n = read(fd, chunk, want < sizeof chunk ? want : sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			char why[128];

			snprintf(why, sizeof why, "%s", strerror(errno));
			why[0] = (char)tolower((unsigned char)why[0]);
			close(fd);
			return lk_fail(err, LK_EIO, "%s%s%s: cannot read: %s",
			    what ? what : "", what ? " " : "", path, why);
		}
		if (n == 0)
			break;
		lk_buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return LK_OK;
}

enum lk_code
lk_safe_path(const char *path, uid_t uid, struct lk_err *err)
{
	struct lk_err e = { 0 };
	int fd = lk_safe_open(NULL, path, uid, LK_SAFE_ANY, &e);

	if (fd < 0) {
		if (err != NULL)
			*err = e;
		return e.code;
	}
	close(fd);
	return LK_OK;
}
