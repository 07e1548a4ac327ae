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

struct walk {
	const char *path;	/* as given, for messages */
	const char *what;	/* what every message starts with */
	unsigned flags;		/* TRUST_* */
	uid_t uid;		/* whom to trust besides root */
	enum lk_code refuse;	/* the code of a refusal */
	bool files;		/* the path may end in a file (trust_open) */
	enum trust_kind kind;
	struct lk_buf real;	/* the directories entered, without links */
	int fd;			/* the last of them */
	struct stat st;
	int file;		/* the file the path ended in, or -1 */
	struct lk_err *err;
};

static bool
trusted_uid(const struct walk *w, uid_t uid)
{
	return uid == 0 || uid == w->uid;
}

/*
 * Whether nobody but root and the invoker can rename, replace or remove
 * an entry owned by uid in directory dir: dir is theirs and nobody else
 * may write it, or it is sticky (/tmp) and the entry is theirs too.
 */
static bool
holds(const struct walk *w, const struct stat *dir, uid_t uid)
{
	if (!trusted_uid(w, dir->st_uid))
		return false;
	if ((dir->st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return true;
	return (dir->st_mode & S_ISVTX) != 0 && trusted_uid(w, uid);
}

static const char *
real_path(const struct walk *w)
{
	return w->real.len > 0 ? w->real.s : "/";
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

static enum lk_code
walk_fail_errno(struct walk *w, const char *name, int errnum)
{
	char ebuf[128];

	lk_strerror(errnum, ebuf, sizeof ebuf);
	/* Whatever is missing, a file's path does not lead anywhere. */
	if (w->files && errnum == ENOENT)
		return lk_fail(w->err, LK_ENOTFOUND, "%s: %s", w->what, ebuf);
	return lk_fail(w->err, LK_EIO, "%s: %s%s%s: %s", w->what,
	    w->real.len > 0 ? w->real.s : "", "/", name, ebuf);
}

/* Why the directory being walked does not keep name as it is. */
static enum lk_code
walk_fail_unstable(struct walk *w, const char *name, uid_t uid)
{
	char owner[64], entry[64];

	owner_name(w->st.st_uid, owner, sizeof owner);
	if (trusted_uid(w, w->st.st_uid) && (w->st.st_mode & S_ISVTX)) {
		owner_name(uid, entry, sizeof entry);
		return lk_fail(w->err, w->refuse, "%s: %s/%s belongs to %s, "
		    "in a directory others can write (%s: owner %s, mode "
		    "%04o)", w->what, w->real.s ? w->real.s : "", name,
		    entry, real_path(w), owner,
		    (unsigned)(w->st.st_mode & 07777));
	}
	return lk_fail(w->err, w->refuse, "%s: directory %s can be changed "
	    "by others (owner %s, mode %04o)", w->what, real_path(w), owner,
	    (unsigned)(w->st.st_mode & 07777));
}

/*
 * TRUST_OWNED: refuses st, the directory entered last (name NULL) or name
 * in it, unless root or the invoker owns it and nobody else may write
 * it.  crossed: a directory the path goes through, which may be sticky
 * instead (trust.h says why).
 */
static enum lk_code
check_owned(struct walk *w, const struct stat *st, const char *name,
    bool crossed)
{
	char owner[64], where[PATH_MAX + 32];
	mode_t m = st->st_mode;

	snprintf(where, sizeof where, "%s%s%s%s", S_ISDIR(m) ? "directory " :
	    "", name != NULL && w->real.len > 0 ? w->real.s : "",
	    name != NULL ? "/" : real_path(w), name != NULL ? name : "");
	owner_name(st->st_uid, owner, sizeof owner);
	if (!trusted_uid(w, st->st_uid)) {
		char me[64];

		owner_name(w->uid, me, sizeof me);
		return lk_fail(w->err, w->refuse, "%s: not trusted: %s belongs "
		    "to %s, not to root%s%s (mode %04o)", w->what, where, owner,
		    w->uid != 0 ? " or " : "", w->uid != 0 ? me : "",
		    (unsigned)(m & 07777));
	}
	if ((m & (S_IWGRP | S_IWOTH)) != 0 &&
	    !(crossed && S_ISDIR(m) && (m & S_ISVTX) != 0))
		return lk_fail(w->err, w->refuse, "%s: not trusted: %s is "
		    "writable by %s (owner %s, mode %04o)", w->what, where,
		    (m & S_IWGRP) && (m & S_IWOTH) ? "its group and others" :
		    (m & S_IWOTH) ? "others" : "its group", owner,
		    (unsigned)(m & 07777));
	return LK_OK;
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
	enum lk_code code;

	lk_buf_reset(&w->real);
	code = walk_enter(w, open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), "",
	    NULL);
	if (code == LK_OK && (w->flags & TRUST_OWNED))
		code = check_owned(w, &w->st, NULL, true);
	return code;
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

	if (!holds(w, &w->st, st->st_uid)) {
		owner_name(st->st_uid, owner, sizeof owner);
		owner_name(w->st.st_uid, dirowner, sizeof dirowner);
		return lk_fail(w->err, w->refuse, "%s: %s/%s is a symbolic "
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
	/* after is "" or starts with '/'. */
	joined = lk_xasprintf("%s%s", target, after);
	free(*rest);
	*rest = joined;
	return target[0] == '/' ? walk_root(w) : LK_OK;
}

static bool
kind_fits(enum trust_kind kind, mode_t m)
{
	return kind == TRUST_FILE ? S_ISREG(m) : kind == TRUST_DIR ?
	    S_ISDIR(m) : S_ISREG(m) || S_ISDIR(m);
}

static enum lk_code
wrong_kind(struct walk *w, mode_t m)
{
	if (w->kind == TRUST_DIR)
		return lk_fail(w->err, LK_EREFUSED, "%s: not a directory (%s)",
		    w->what, S_ISREG(m) ? "a file" : type_name(m));
	return lk_fail(w->err, LK_EREFUSED, "%s: not a regular file (%s)",
	    w->what, type_name(m));
}

/*
 * The last component, name, in the directory entered last, not a
 * directory: lst says what it was a moment ago, the fd opened here what
 * it is.  A FIFO or a device is never opened (a FIFO would wait for a
 * writer, a device may act on being opened); O_NONBLOCK and the fstat
 * after it cover one swapped in between.
 */
static enum lk_code
walk_file(struct walk *w, const char *name, const struct stat *lst)
{
	struct stat st;
	enum lk_code code;
	int fd;

	if (!kind_fits(w->kind, lst->st_mode))
		return wrong_kind(w, lst->st_mode);
	fd = openat(w->fd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return walk_fail_errno(w, name, errno);
	if (fstat(fd, &st) != 0) {
		code = walk_fail_errno(w, name, errno);
		close(fd);
		return code;
	}
	if (!S_ISREG(st.st_mode) || !kind_fits(w->kind, st.st_mode))
		code = wrong_kind(w, st.st_mode);
	else
		code = check_owned(w, &st, name, false);
	if (code != LK_OK) {
		close(fd);
		return code;
	}
	w->file = fd;
	return LK_OK;
}

/* One component: name, in the directory w->fd; after is what follows. */
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
		/* What we came through: no link in it, so ".." is exact, and
		 * it was checked on the way in. */
		slash = strrchr(w->real.s, '/');
		w->real.len = (size_t)(slash - w->real.s);
		*slash = '\0';
		return walk_enter(w, openat(w->fd, "..", O_PATH | O_DIRECTORY |
		    O_CLOEXEC), name, NULL);
	}
	if (fstatat(w->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT || w->files)
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
	if ((w->flags & TRUST_STABLE) && !holds(w, &w->st, st.st_uid))
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
		if ((w->flags & TRUST_STABLE) && !holds(w, &w->st, st.st_uid))
			return walk_fail_unstable(w, name, st.st_uid);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (w->files && *after == '\0')
			return walk_file(w, name, &st);
		return walk_fail_errno(w, name, ENOTDIR);
	}
	code = walk_enter(w, openat(w->fd, name, O_PATH | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC), name, &st);
	if (code != LK_OK)
		return code;
	lk_buf_addc(&w->real, '/');
	lk_buf_adds(&w->real, name);
	if (w->flags & TRUST_OWNED)
		return check_owned(w, &w->st, NULL, true);
	return LK_OK;
}

/*
 * Walks path from / with w's rule; on LK_OK, w->fd is the last directory
 * entered and w->file the file the path ended in (trust_open), or -1.
 * The caller closes both and frees w->real whatever it returns.
 */
static enum lk_code
walk(struct walk *w)
{
	char name[NAME_MAX + 1], *rest, *p;
	enum lk_code code;
	int links = 0;

	if (w->path[0] == '/') {
		rest = lk_xstrdup(w->path);
	} else {
		char *cwd = getcwd(NULL, 0);
		char ebuf[128];

		if (cwd == NULL)
			return lk_fail(w->err, LK_EIO, "%s: the working "
			    "directory: %s", w->what, lk_strerror(errno, ebuf,
			    sizeof ebuf));
		rest = lk_xasprintf("%s/%s", cwd, w->path);
		free(cwd);
	}
	code = walk_root(w);
	for (p = rest; code == LK_OK && w->file < 0; ) {
		char *before = rest;
		size_t n;

		p += strspn(p, "/");
		if (*p == '\0')
			break;
		n = strcspn(p, "/");
		if (n > NAME_MAX) {
			code = walk_fail_errno(w, "", ENAMETOOLONG);
			break;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (strcmp(name, ".") == 0)
			continue;
		code = walk_step(w, name, &rest, p, &links);
		/* A link put its target in front of what is left. */
		if (rest != before)
			p = rest;
	}
	free(rest);
	return code;
}

static void
walk_done(struct walk *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->file >= 0)
		close(w->file);
	w->fd = w->file = -1;
	lk_buf_free(&w->real);
}

enum lk_code
trust_open_dir(const char *path, unsigned flags, const char *what, int *fd,
    char **real, struct lk_err *err)
{
	struct lk_err ignored;
	struct walk w = { .path = path, .what = what, .flags = flags,
	    .uid = geteuid(), .refuse = LK_EINPUT, .fd = -1, .file = -1,
	    .err = err ? err : &ignored };
	enum lk_code code;

	*fd = -1;
	if (real != NULL)
		*real = NULL;
	code = walk(&w);
	if (code == LK_OK && (flags & TRUST_PRIVATE) &&
	    (w.st.st_uid != geteuid() || (w.st.st_mode & 077) != 0)) {
		char owner[64];

		owner_name(w.st.st_uid, owner, sizeof owner);
		code = lk_fail(w.err, LK_EINPUT, "%s: directory %s is not "
		    "private (owner %s, mode %04o); it must be yours alone, "
		    "mode 0700", what, real_path(&w), owner,
		    (unsigned)(w.st.st_mode & 07777));
	}
	if (code == LK_OK) {
		*fd = w.fd;
		w.fd = -1;
		if (real != NULL)
			*real = lk_xstrdup(real_path(&w));
	}
	walk_done(&w);
	return code;
}

int
trust_open(const char *what, const char *path, uid_t uid,
    enum trust_kind kind, struct lk_err *err)
{
	struct lk_err ignored;
	char *prefix = what != NULL ? lk_xasprintf("%s %s", what, path) :
	    lk_xstrdup(path);
	struct walk w = { .path = path, .what = prefix, .flags = TRUST_OWNED,
	    .uid = uid, .refuse = LK_EREFUSED, .files = true,
	    .kind = kind, .fd = -1, .file = -1,
	    .err = err ? err : &ignored };
	int fd = -1;

	if (walk(&w) == LK_OK) {
		if (w.file >= 0) {
			fd = w.file;
			w.file = -1;
		} else if (!kind_fits(kind, S_IFDIR)) {
			wrong_kind(&w, S_IFDIR);
		} else if (check_owned(&w, &w.st, NULL, false) == LK_OK) {
			/* Sticky lets a path cross /tmp, not end in it. */
			fd = openat(w.fd, ".", O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC);
			if (fd < 0)
				walk_fail_errno(&w, ".", errno);
		}
	}
	walk_done(&w);
	free(prefix);
	return fd;
}

enum lk_code
trust_read(const char *what, const char *path, uid_t uid, size_t max,
    struct lk_buf *out, struct lk_err *err)
{
	char chunk[8192], ebuf[128];
	ssize_t n;
	int fd;

	lk_buf_reset(out);
	if ((fd = trust_open(what, path, uid, TRUST_FILE, err)) < 0)
		return err != NULL ? err->code : LK_EIO;
	while (out->len <= max) {
		size_t want = max + 1 - out->len;

		n = read(fd, chunk, want < sizeof chunk ? want : sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			lk_strerror(errno, ebuf, sizeof ebuf);
			close(fd);
			return lk_fail(err, LK_EIO, "%s%s%s: cannot read: %s",
			    what ? what : "", what ? " " : "", path, ebuf);
		}
		if (n == 0)
			break;
		lk_buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return LK_OK;
}

enum lk_code
trust_check_path(const char *path, uid_t uid, struct lk_err *err)
{
	struct lk_err e = { 0 };
	int fd = trust_open(NULL, path, uid, TRUST_ANY, &e);

	if (fd < 0) {
		if (err != NULL)
			*err = e;
		return e.code;
	}
	close(fd);
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
