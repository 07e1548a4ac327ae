#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	int status;
	const char *text;
} codes[] = {
#define LK_X(name, status, text) { status, text },
	LK_CODES(LK_X)
#undef LK_X
};

enum lk_code
lk_fail(struct lk_err *err, enum lk_code code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

int
lk_exit_status(enum lk_code code)
{
	if ((size_t)code >= sizeof codes / sizeof codes[0])
		return 2;
	return codes[code].status;
}

const char *
lk_code_text(enum lk_code code)
{
	if ((size_t)code >= sizeof codes / sizeof codes[0])
		return "unknown error";
	return codes[code].text;
}

_Noreturn void
lk_oom(void)
{
	fputs("lookout: out of memory\n", stderr);
	abort();
}

void *
lk_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		lk_oom();
	return p;
}

void *
lk_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		lk_oom();
	return p;
}

void *
lk_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		lk_oom();
	return q;
}

char *
lk_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		lk_oom();
	return p;
}

char *
lk_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		lk_oom();
	return s;
}
