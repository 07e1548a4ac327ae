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

#include "../core/util.h"
#include "../store/store.h"

static char *
lock_path(const char *dir, const char *runbook, const char *params)
{
	char sha[STORE_HASH_HEX];
	char *key = lk_xasprintf("%s\n%s", runbook, params ? params : "{}");

	store_sha256_hex(key, strlen(key), sha);
	free(key);
	return lk_xasprintf("%s/%.24s.lock", dir, sha);
}

int
rb_lock_acquire(const char *dir, const char *runbook, const char *params,
    char *holder, size_t len)
{
	char *path = lock_path(dir, runbook, params);
	struct lk_identity id;
	char iso[LK_ISO_LEN], info[512];
	int fd, n;

	holder[0] = '\0';
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(holder, len, "cannot create %s: %s", dir,
		    strerror(errno));
		free(path);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(holder, len, "cannot open %s: %s", path,
		    strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		ssize_t got = pread(fd, info, sizeof info - 1, 0);

		info[got > 0 ? got : 0] = '\0';
		info[strcspn(info, "\n")] = '\0';
		snprintf(holder, len, "%s", info[0] ? info : "another process");
		close(fd);
		free(path);
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
	free(path);
	return fd;
}

bool
rb_lock_held(const char *dir, const char *runbook, const char *params)
{
	char *path = lock_path(dir, runbook, params);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool held = false;

	free(path);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		held = errno == EWOULDBLOCK;
	close(fd);
	return held;
}
