/*
 * Walking a path the way the kernel would, one component at a time, but
 * refusing what someone else could have changed.  See trust.h.
 */
#include "trust.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* As the kernel counts them: more links than this in one path is a loop. */
#define TRUST_MAX_LINKS 40

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
trusted_uid(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/*
 * Whether nobody but root and the invoker can rename, replace or remove
 * an entry owned by uid in directory dir: dir is theirs and nobody else
 * may write it, or it is sticky (/tmp) and the entry is theirs too.
 */
static bool
holds(const struct stat *dir, uid_t uid)
{
	if (!trusted_uid(dir->st_uid))
		return false;
	if ((dir->st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return true;
	return (dir->st_mode & S_ISVTX) != 0 && trusted_uid(uid);
}

struct walk {
	const char *path;	/* as given, for messages */
	const char *what;
	unsigned flags;
	struct lk_buf real;	/* the directories entered, without links */
	int fd;			/* the last of them */
	struct stat st;
	struct lk_err *err;
};

static const char *
real_path(const struct walk *w)
{
	return w->real.len > 0 ? w->real.s : "/";
}

static enum lk_code
walk_fail_errno(struct walk *w, const char *name, int errnum)
{
	char ebuf[128];

	return lk_fail(w->err, LK_EIO, "%s: %s%s%s: %s", w->what,
	    w->real.len > 0 ? w->real.s : "", "/", name,
	    lk_strerror(errnum, ebuf, sizeof ebuf));
}

/* Why the directory being walked does not keep name as it is. */
static enum lk_code
walk_fail_unstable(struct walk *w, const char *name, uid_t uid)
{
	char owner[64], entry[64];

	owner_name(w->st.st_uid, owner, sizeof owner);
	if (trusted_uid(w->st.st_uid) && (w->st.st_mode & S_ISVTX)) {
		owner_name(uid, entry, sizeof entry);
		return lk_fail(w->err, LK_EINPUT, "%s: %s/%s belongs to %s, "
		    "in a directory others can write (%s: owner %s, mode "
		    "%04o)", w->what, w->real.s ? w->real.s : "", name,
		    entry, real_path(w), owner,
		    (unsigned)(w->st.st_mode & 07777));
	}
	return lk_fail(w->err, LK_EINPUT, "%s: directory %s can be changed "
	    "by others (owner %s, mode %04o)", w->what, real_path(w), owner,
	    (unsigned)(w->st.st_mode & 07777));
}

/* Moves on into next, an fd opened for name (or -1 with errno set); with
 * expect, only if it is still the directory that was checked. */
static enum lk_code
walk_enter(struct walk *w, int next, const char *name,
    const struct stat *expect)
{
	struct stat st;

	if (next < 0)
		return walk_fail_errno(w, name, errno);
	if (fstat(next, &st) != 0 || (expect != NULL &&
	    (st.st_dev != expect->st_dev || st.st_ino != expect->st_ino))) {
		close(next);
		return lk_fail(w->err, LK_EIO, "%s: %s changed while it was "
		    "being checked", w->what, w->path);
	}
	if (w->fd >= 0)
		close(w->fd);
	w->fd = next;
	w->st = st;
	return LK_OK;
}

static enum lk_code
walk_root(struct walk *w)
{
	lk_buf_reset(&w->real);
	return walk_enter(w, open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), "",
	    NULL);
}

/* The target of the link name, to be walked before what is left after
 * it; rest is replaced. */
static enum lk_code
walk_link(struct walk *w, const char *name, const struct stat *st,
    char **rest, const char *after, int *links)
{
	char owner[64], dirowner[64], target[PATH_MAX];
	ssize_t n;
	char *joined;

	if (!holds(&w->st, st->st_uid)) {
		owner_name(st->st_uid, owner, sizeof owner);
		owner_name(w->st.st_uid, dirowner, sizeof dirowner);
		return lk_fail(w->err, LK_EINPUT, "%s: %s/%s is a symbolic "
		    "link owned by %s, in a directory others can write (%s: "
		    "owner %s, mode %04o); not following it", w->what,
		    w->real.s ? w->real.s : "", name, owner, real_path(w),
		    dirowner, (unsigned)(w->st.st_mode & 07777));
	}
	if (++*links > TRUST_MAX_LINKS)
		return walk_fail_errno(w, name, ELOOP);
	n = readlinkat(w->fd, name, target, sizeof target - 1);
	if (n < 0)
		return walk_fail_errno(w, name, errno);
	target[n] = '\0';
	joined = lk_xasprintf("%s/%s", target, after);
	free(*rest);
	*rest = joined;
	return target[0] == '/' ? walk_root(w) : LK_OK;
}

/* One component: name, in the directory w->fd. */
static enum lk_code
walk_step(struct walk *w, const char *name, char **rest, const char *after,
    int *links)
{
	struct stat st;
	bool create = false;
	enum lk_code code;

	if (strcmp(name, "..") == 0) {
		char *slash;

		if (w->real.len == 0)
			return LK_OK;
		/* What we came through: no link in it, so ".." is exact. */
		slash = strrchr(w->real.s, '/');
		w->real.len = (size_t)(slash - w->real.s);
		*slash = '\0';
		return walk_enter(w, openat(w->fd, "..", O_PATH | O_DIRECTORY |
		    O_CLOEXEC), name, NULL);
	}
	if (fstatat(w->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return walk_fail_errno(w, name, errno);
		if (!(w->flags & TRUST_CREATE))
			return lk_fail(w->err, LK_ENOTFOUND, "%s: no directory "
			    "%s/%s", w->what, w->real.s ? w->real.s : "", name);
		/* What it will be: ours, checked again once it is. */
		memset(&st, 0, sizeof st);
		st.st_mode = S_IFDIR | 0700;
		st.st_uid = geteuid();
		create = true;
	}
	/* A link is held to the same rule, whatever flags say. */
	if (S_ISLNK(st.st_mode))
		return walk_link(w, name, &st, rest, after, links);
	if ((w->flags & TRUST_STABLE) && !holds(&w->st, st.st_uid))
		return walk_fail_unstable(w, name, st.st_uid);
	if (create) {
		char ebuf[128];

		if (mkdirat(w->fd, name, 0700) != 0 && errno != EEXIST)
			return lk_fail(w->err, LK_EIO, "%s: create directory "
			    "%s/%s: %s", w->what, w->real.s ? w->real.s : "",
			    name, lk_strerror(errno, ebuf, sizeof ebuf));
		/* Whoever made it, it is checked as it is. */
		if (fstatat(w->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return walk_fail_errno(w, name, errno);
		if ((w->flags & TRUST_STABLE) && !holds(&w->st, st.st_uid))
			return walk_fail_unstable(w, name, st.st_uid);
	}
	if (!S_ISDIR(st.st_mode))
		return walk_fail_errno(w, name, ENOTDIR);
	code = walk_enter(w, openat(w->fd, name, O_PATH | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC), name, &st);
	if (code != LK_OK)
		return code;
	lk_buf_addc(&w->real, '/');
	lk_buf_adds(&w->real, name);
	return LK_OK;
}

enum lk_code
trust_open_dir(const char *path, unsigned flags, const char *what, int *fd,
    char **real, struct lk_err *err)
{
	struct lk_err ignored;
	struct walk w = { .path = path, .what = what, .flags = flags,
	    .fd = -1, .err = err ? err : &ignored };
	char name[NAME_MAX + 1], *rest, *p;
	enum lk_code code;
	int links = 0;

	*fd = -1;
	if (real != NULL)
		*real = NULL;
	if (path[0] == '/') {
		rest = lk_xstrdup(path);
	} else {
		char *cwd = getcwd(NULL, 0);

		if (cwd == NULL)
			return lk_fail(err, LK_EIO, "%s: the working directory: "
			    "%s", what, strerror(errno));
		rest = lk_xasprintf("%s/%s", cwd, path);
		free(cwd);
	}
	code = walk_root(&w);
	for (p = rest; code == LK_OK; ) {
		char *before = rest;
		size_t n;

		p += strspn(p, "/");
		if (*p == '\0')
			break;
		n = strcspn(p, "/");
		if (n > NAME_MAX) {
			code = walk_fail_errno(&w, "", ENAMETOOLONG);
			break;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (strcmp(name, ".") == 0)
			continue;
		code = walk_step(&w, name, &rest, p, &links);
		/* A link put its target in front of what is left. */
		if (rest != before)
			p = rest;
	}
	free(rest);
	if (code == LK_OK && (flags & TRUST_PRIVATE) &&
	    (w.st.st_uid != geteuid() || (w.st.st_mode & 077) != 0)) {
		char owner[64];

		owner_name(w.st.st_uid, owner, sizeof owner);
		code = lk_fail(w.err, LK_EINPUT, "%s: directory %s is not "
		    "private (owner %s, mode %04o); it must be yours alone, "
		    "mode 0700", what, real_path(&w), owner,
		    (unsigned)(w.st.st_mode & 07777));
	}
	if (code != LK_OK) {
		if (w.fd >= 0)
			close(w.fd);
		lk_buf_free(&w.real);
		return code;
	}
	*fd = w.fd;
	if (real != NULL)
		*real = lk_xstrdup(real_path(&w));
	lk_buf_free(&w.real);
	return LK_OK;
}

enum lk_code
trust_check_file(const struct stat *st, const char *what, const char *path,
    struct lk_err *err)
{
	struct lk_buf who = { 0 };
	char owner[64];
	enum lk_code code = LK_OK;

	/* "what: " or "what: path is " before the problem. */
	lk_buf_printf(&who, "%s: ", what);
	if (path != NULL)
		lk_buf_printf(&who, "%s is ", path);
	owner_name(st->st_uid, owner, sizeof owner);
	if (S_ISLNK(st->st_mode))
		code = lk_fail(err, LK_EINPUT, "%sa symbolic link, which "
		    "lookout does not follow here", who.s);
	else if (!S_ISREG(st->st_mode))
		code = lk_fail(err, LK_EINPUT, "%snot a regular file", who.s);
	else if (st->st_uid != geteuid() || (st->st_mode & 077) != 0)
		code = lk_fail(err, LK_EINPUT, "%snot private (owner %s, mode "
		    "%04o); it must be yours alone, mode 0600", who.s, owner,
		    (unsigned)(st->st_mode & 07777));
	lk_buf_free(&who);
	return code;
}

char *
trust_split(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	if (**base == '\0' || strcmp(*base, ".") == 0 ||
	    strcmp(*base, "..") == 0)
		return NULL;
	if (slash == NULL)
		return lk_xstrdup(".");
	if (slash == path)
		return lk_xstrdup("/");
	return lk_xasprintf("%.*s", (int)(slash - path), path);
}

int
trust_tmpfile(int dirfd, const char *base, char **tmp)
{
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[6];
		char suffix[7];
		char *name;
		int fd;

		if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
			for (size_t i = 0; i < sizeof r; i++)
				r[i] = (unsigned char)rand();
		for (size_t i = 0; i < sizeof r; i++)
			suffix[i] = chars[r[i] % (sizeof chars - 1)];
		suffix[6] = '\0';
		name = lk_xasprintf("%s.%s", base, suffix);
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd >= 0) {
			*tmp = name;
			return fd;
		}
		free(name);
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}
