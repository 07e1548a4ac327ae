/*
 * One run per runbook and target at a time.  The lock is an flock() on a
 * file named after the runbook and its parameters, so it dies with the
 * process that holds it (kill -9 included); the file says who holds it.
 */
#include "private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/trust.h"
#include "../core/util.h"
#include "../store/store.h"

static char *
lock_name(const char *runbook, const char *params)
{
	char sha[STORE_HASH_HEX];
	char *key = lk_xasprintf("%s\n%s", runbook, params ? params : "{}");

	store_sha256_hex(key, strlen(key), sha);
	free(key);
	return lk_xasprintf("%.24s.lock", sha);
}

/*
 * The lock directory is opened as trust.h walks it: the invoker's alone
 * (0700), created so if missing, on a path that only root and the invoker
 * can change.  Otherwise someone else could plant a lock file there as a
 * link, and the ftruncate() and pwrite() below would land on their choice
 * of file; the file is opened relative to the checked directory with
 * O_NOFOLLOW for the same reason.
 */
static enum lk_code
lock_dir_open(const char *dir, bool create, int *dfd, struct lk_err *err)
{
	char *what = lk_xasprintf("runbook lock directory %s", dir);
	enum lk_code code = trust_open_dir(dir, TRUST_STABLE | TRUST_PRIVATE |
	    (create ? TRUST_CREATE : 0), what, dfd, NULL, err);

	free(what);
	return code;
}

int
rb_lock_acquire(const char *dir, const char *runbook, const char *params,
    char *holder, size_t len, struct lk_err *err)
{
	char *name = lock_name(runbook, params);
	struct lk_identity id;
	char iso[LK_ISO_LEN], info[512], ebuf[128], *what;
	struct stat st;
	int dfd, fd, n;

	holder[0] = '\0';
	if (lock_dir_open(dir, true, &dfd, err) != LK_OK) {
		free(name);
		return -2;
	}
	what = lk_xasprintf("runbook lock %s/%s", dir, name);
	/* O_NOFOLLOW holds anyway; this says why in words. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    trust_check_file(&st, what, NULL, err) != LK_OK)
		fd = -2;
	else if ((fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0)
		lk_fail(err, LK_EIO, "%s: %s", what,
		    lk_strerror(errno, ebuf, sizeof ebuf));
	free(what);
	if (fd < 0) {
		close(dfd);
		free(name);
		return -2;
	}
	close(dfd);
	free(name);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		ssize_t got = pread(fd, info, sizeof info - 1, 0);

		info[got > 0 ? got : 0] = '\0';
		info[strcspn(info, "\n")] = '\0';
		snprintf(holder, len, "%s", info[0] ? info : "another process");
		close(fd);
		return -1;
	}
	lk_identity_detect(&id);
	lk_iso8601(lk_now_ms(), iso);
	n = snprintf(info, sizeof info, "%s%s%s%s%s since %s (pid %ld)\n",
	    id.user, id.from[0] ? " from " : "", id.from,
	    id.tty[0] ? " on " : "", id.tty, iso, (long)getpid());
	/* Who holds the lock is a courtesy: the lock holds without it. */
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, info, (size_t)n, 0);
	return fd;
}

bool
rb_lock_held(const char *dir, const char *runbook, const char *params)
{
	char *name = lock_name(runbook, params);
	bool held = false;
	int dfd, fd = -1;

	/* A directory that is missing or not trusted holds no lock of ours. */
	if (lock_dir_open(dir, false, &dfd, NULL) == LK_OK) {
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
	}
	free(name);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		held = errno == EWOULDBLOCK;
	close(fd);
	return held;
}
