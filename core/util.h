/*
 * Small shared helpers: wall-clock time, durations, a growable byte buffer,
 * and the identity of whoever is running lookout.
 */
#ifndef LK_UTIL_H
#define LK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t lk_now_ms(void);

/* Formats ms as UTC ISO 8601 with milliseconds: 2026-11-22T04:00:00.000Z. */
#define LK_ISO_LEN 32
void lk_iso8601(int64_t ms, char out[LK_ISO_LEN]);
/* "90s", "5m", "1h 5m": a short human duration. */
void lk_fmt_duration(int64_t ms, char *buf, size_t len);
/* "1 MiB", "512 KiB", "300 bytes". */
void lk_fmt_size(long long bytes, char *buf, size_t len);
/*
 * Parses a duration: "500ms", "5s", "5m", "1h", "1m30s", or digits alone
 * for milliseconds.  Returns 0 and sets *ms, or -1.  The one parser of
 * durations: the configuration, runbook steps and actions all use it.
 */
int lk_parse_duration(const char *s, int64_t *ms);
/* strerror(errnum) in buf, in lower case as our messages read ("what:
 * detail"): "no such file or directory".  Returns buf. */
const char *lk_strerror(int errnum, char *buf, size_t len);

/*
 * A growable byte buffer, always NUL-terminated.  The buffer owns s; reset
 * keeps the allocation, free releases it.
 */
struct lk_buf {
	char *s;
	size_t len;
	size_t cap;
};

void lk_buf_add(struct lk_buf *b, const void *p, size_t n);
void lk_buf_adds(struct lk_buf *b, const char *s);
void lk_buf_addc(struct lk_buf *b, char c);
void lk_buf_printf(struct lk_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lk_buf_reset(struct lk_buf *b);
/*
 * Replaces every needle in the text b holds by with, left to right; an
 * empty needle replaces nothing.  How secrets are scrubbed ("***"): the
 * runbooks' from their output, the notifiers' from the reasons they
 * record.
 */
void lk_buf_replace(struct lk_buf *b, const char *needle, const char *with);
/*
 * Appends the n bytes at s, each byte that is not part of a well-formed
 * UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF) replaced by U+FFFD.  For text bound for JSON, which must be
 * UTF-8, that may come from anywhere (a config in Latin-1, a body quoted in
 * a reason).
 */
void lk_buf_add_utf8(struct lk_buf *b, const char *s, size_t n);

/*
 * Appends the n bytes at s as text that is safe to send to a terminal and
 * reads as one line: every control character (ESC, BEL, CR, LF, the C1
 * range, DEL) and every code point that reorders a line (bidirectional
 * overrides) is written visibly ("^[", "^G", "<U+202E>"), a tab as a
 * space, and a byte that is not UTF-8 as "\xNN".  Without utf8 (LANG=C,
 * a terminal that is not UTF-8), every non-ASCII character becomes "?".
 * Every path from outside text (names, notes, output, HTTP reasons,
 * journal lines) to a terminal goes through here.
 */
void lk_buf_add_term(struct lk_buf *b, const char *s, size_t n, bool utf8);

/*
 * lk_buf_add_term() for what a command prints on a terminal: many lines,
 * arriving in pieces of any size.  A newline passes, and so does a CR just
 * before one (CSV's line ends); everything else is escaped as
 * lk_buf_add_term() does.  The start of a UTF-8 sequence at the end of a
 * piece, or a CR there, is held until the next piece says what it is.
 */
struct lk_term {
	bool utf8;			/* as for lk_buf_add_term */
	unsigned char held[4];
	size_t nheld;
};
void lk_term_filter(struct lk_term *t, const char *s, size_t n,
    struct lk_buf *out);
/* Escapes what is still held (at the end: there is no next piece). */
void lk_term_flush(struct lk_term *t, struct lk_buf *out);

/* A JSON string of s, or null for NULL, never NULL: what is not UTF-8 in s
 * becomes U+FFFD (json_string() would refuse it, and a string made with
 * json_stringn_nocheck() would make the document fail to dump).  For every
 * text that comes from outside (config, parameters, argv, paths, names):
 * a NULL from json_string() silently drops the value it was to hold. */
struct json_t;
struct json_t *lk_json_text(const char *s);
/* ms as a JSON string in UTC ISO 8601, or null when unknown (0). */
struct json_t *lk_json_time(int64_t ms);
void lk_buf_free(struct lk_buf *b);

/* Frees each string of the NULL-terminated v, then v; NULL is fine. */
void lk_strv_free(char **v);

/* Who is acting: user name, SSH client address (or NULL), tty (or NULL). */
struct lk_identity {
	char user[64];
	char from[64];
	char tty[64];
};

void lk_identity_detect(struct lk_identity *id);

#endif
