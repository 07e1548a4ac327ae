/*
 * One error vocabulary for the whole program.
 *
 * Every function that can fail returns an lk_code and, when it fails, fills
 * a struct lk_err with one sentence of the form "what: detail", naming the
 * file or value at fault.  The code decides the exit status; the message is
 * what the engineer reads.
 */
#ifndef LK_ERR_H
#define LK_ERR_H

#include <stddef.h>

/* X(name, exit status, short description) */
#define LK_CODES(X)                                                     \
	X(LK_OK,       0, "ok")                                         \
	X(LK_EFAIL,    1, "check failed")                               \
	X(LK_EUSAGE,   2, "usage error")                                \
	X(LK_EINPUT,   2, "invalid input")                              \
	X(LK_ENOTFOUND, 2, "not found")                                 \
	X(LK_EREFUSED, 2, "refused")                                    \
	X(LK_ESTATE,   2, "not allowed in this state")                  \
	X(LK_EDB,      2, "timeline error")                             \
	X(LK_EIO,      2, "i/o error")                                  \
	X(LK_ENOMEM,   2, "out of memory")

enum lk_code {
#define LK_X(name, status, text) name,
	LK_CODES(LK_X)
#undef LK_X
};

#define LK_ERR_MAX 512

struct lk_err {
	enum lk_code code;
	char msg[LK_ERR_MAX];
};

/* Sets err (if not NULL) and returns code, so callers can write
 * "return lk_fail(err, LK_EINPUT, "...", ...);". */
enum lk_code lk_fail(struct lk_err *err, enum lk_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The exit status a command should end with for this code. */
int lk_exit_status(enum lk_code code);

/* A short description of the code itself ("not found"). */
const char *lk_code_text(enum lk_code code);

/* Out of memory is not an error we can report sensibly: we say so and exit. */
_Noreturn void lk_oom(void);
void *lk_xmalloc(size_t n);
void *lk_xcalloc(size_t n, size_t size);
void *lk_xrealloc(void *p, size_t n);
char *lk_xstrdup(const char *s);
char *lk_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
