/*
 * What the code under test said, for the tests of watch/: each callback
 * adds one entry ("FIRE bus down P2 @2000"), and a test reads them all,
 * "; " between two, with told().
 */
#ifndef LK_TEST_SAID_H
#define LK_TEST_SAID_H

#include <stdarg.h>
#include <stdio.h>

static char said_buf[8192];
static size_t said_len;

static inline void said(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static inline void
said(const char *fmt, ...)
{
	va_list ap;

	if (said_len > 0 && said_len + 2 < sizeof said_buf)
		said_len += (size_t)snprintf(said_buf + said_len,
		    sizeof said_buf - said_len, "; ");
	va_start(ap, fmt);
	if (said_len < sizeof said_buf)
		said_len += (size_t)vsnprintf(said_buf + said_len,
		    sizeof said_buf - said_len, fmt, ap);
	va_end(ap);
}

/* What was said since the last look, then forgotten. */
static inline const char *
told(void)
{
	static char copy[sizeof said_buf];

	snprintf(copy, sizeof copy, "%s", said_buf);
	said_buf[0] = '\0';
	said_len = 0;
	return copy;
}

#endif
