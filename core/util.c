#include "util.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

int64_t
lk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
lk_iso8601(int64_t ms, char out[LK_ISO_LEN])
{
	time_t secs = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	/* Years past 9999 are clamped: the format is fixed-width. */
	if (tm.tm_year > 9999 - 1900 || tm.tm_year < -1900)
		tm.tm_year = 9999 - 1900;
	snprintf(out, LK_ISO_LEN, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u, (unsigned)frac % 1000u);
}

static void
lk_buf_grow(struct lk_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;

	if (b->len + need + 1 <= b->cap)
		return;
	while (cap < b->len + need + 1)
		cap *= 2;
	b->s = lk_xrealloc(b->s, cap);
	b->cap = cap;
}

void
lk_buf_add(struct lk_buf *b, const void *p, size_t n)
{
	lk_buf_grow(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
lk_buf_adds(struct lk_buf *b, const char *s)
{
	lk_buf_add(b, s, strlen(s));
}

void
lk_buf_addc(struct lk_buf *b, char c)
{
	lk_buf_add(b, &c, 1);
}

void
lk_buf_printf(struct lk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	lk_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The length of the UTF-8 sequence that byte c starts (0: none can start
 * with it), and the range its second byte must be in. */
static size_t
utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			*lo = 0xa0;		/* overlong */
		else if (c == 0xed)
			*hi = 0x9f;		/* surrogates */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			*lo = 0x90;		/* overlong */
		else if (c == 0xf4)
			*hi = 0x8f;		/* past U+10FFFF */
		return 4;
	}
	return 0;
}

/* How many of the n bytes at p are well-formed so far as the start of
 * one sequence (at most its length). */
static size_t
utf8_valid_prefix(const unsigned char *p, size_t n, size_t *len)
{
	unsigned char lo, hi;
	size_t i;

	*len = utf8_lead(p[0], &lo, &hi);
	if (*len <= 1)
		return *len;
	for (i = 1; i < n && i < *len; i++) {
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf))
			break;
	}
	return i;
}

/* The length of the well-formed UTF-8 sequence at p (at most n bytes
 * long), or 0 if there is none. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, ok = utf8_valid_prefix(p, n, &len);

	return ok == len ? len : 0;
}

void
lk_buf_add_utf8(struct lk_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t start = i, len;

		while (i < n && (len = utf8_seq(p + i, n - i)) > 0)
			i += len;
		lk_buf_add(b, s + start, i - start);
		if (i < n) {
			lk_buf_adds(b, "\xef\xbf\xbd");	/* U+FFFD */
			i++;
		}
	}
}

/* The code point of the well-formed sequence of len bytes at p. */
static uint32_t
utf8_decode(const unsigned char *p, size_t len)
{
	uint32_t c = len == 1 ? p[0] : p[0] & (0x7f >> len);

	for (size_t i = 1; i < len; i++)
		c = c << 6 | (p[i] & 0x3f);
	return c;
}

/*
 * Code points that steer a terminal or the reading of a line rather than
 * show a glyph: C0 and C1 controls (ESC starts every escape sequence, and
 * 0x9b is a one-byte CSI to some terminals), DEL, the line and paragraph
 * separators, and the bidirectional overrides and isolates, which can make
 * a line read as something else than it is.
 */
static bool
steers(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
	    c == 0x2029 || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f ||
	    c == 0x061c;
}

void
lk_buf_add_term(struct lk_buf *b, const char *s, size_t n, bool utf8)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t len = utf8_seq(p + i, n - i);
		uint32_t c;

		if (len == 0) {
			/* Not UTF-8: the byte, written so it shows. */
			lk_buf_printf(b, utf8 ? "\\x%02x" : "?", p[i]);
			i++;
			continue;
		}
		c = utf8_decode(p + i, len);
		if (c == '\t')
			lk_buf_addc(b, ' ');
		else if (c < 0x20 || c == 0x7f)
			lk_buf_printf(b, "^%c", (char)(c ^ 0x40));
		else if (steers(c))
			lk_buf_printf(b, "<U+%04X>", (unsigned)c);
		else if (c >= 0x80 && !utf8)
			lk_buf_addc(b, '?');
		else
			lk_buf_add(b, s + i, len);
		i += len;
	}
}

/* The segment s[0..n) of a line, and the line end that follows it if
 * eol: "\n", or "\r\n" when s ends in a CR. */
static void
term_line(struct lk_term *t, struct lk_buf *out, const char *s, size_t n,
    bool eol)
{
	bool crlf = eol && n > 0 && s[n - 1] == '\r';

	lk_buf_add_term(out, s, n - crlf, t->utf8);
	if (eol)
		lk_buf_adds(out, crlf ? "\r\n" : "\n");
}

void
lk_term_filter(struct lk_term *t, const char *s, size_t n, struct lk_buf *out)
{
	struct lk_buf in = { 0 };
	const unsigned char *p;
	size_t keep = 0, len, start = 0;

	/* What was held back comes first. */
	if (t->nheld > 0) {
		lk_buf_add(&in, t->held, t->nheld);
		lk_buf_add(&in, s, n);
		s = in.s;
		n = in.len;
		t->nheld = 0;
	}
	p = (const unsigned char *)s;
	/*
	 * Hold back what may be completed by the next write: the start of a
	 * UTF-8 sequence, or a CR that a LF may follow.  Both are escaped
	 * differently from what they become once complete.
	 */
	for (size_t k = 1; k < 4 && k <= n && keep == 0; k++)
		if (p[n - k] >= 0xc0 &&
		    utf8_valid_prefix(p + n - k, k, &len) == k && len > k)
			keep = k;
	if (keep == 0 && n > 0 && p[n - 1] == '\r')
		keep = 1;
	memcpy(t->held, s + n - keep, keep);
	t->nheld = keep;
	n -= keep;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		term_line(t, out, s + start, i - start, true);
		start = i + 1;
	}
	term_line(t, out, s + start, n - start, false);
	lk_buf_free(&in);
}

void
lk_term_flush(struct lk_term *t, struct lk_buf *out)
{
	lk_buf_add_term(out, (const char *)t->held, t->nheld, t->utf8);
	t->nheld = 0;
}

json_t *
lk_json_time(int64_t ms)
{
	char iso[LK_ISO_LEN];

	if (ms <= 0)
		return json_null();
	lk_iso8601(ms, iso);
	return json_string(iso);
}

json_t *
lk_json_text(const char *s)
{
	json_t *j;
	struct lk_buf b = { 0 };

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	lk_buf_add_utf8(&b, s, strlen(s));
	j = json_stringn(b.s ? b.s : "", b.len);
	lk_buf_free(&b);
	return j;
}

void
lk_fmt_size(long long bytes, char *buf, size_t len)
{
	if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
		snprintf(buf, len, "%lld MiB", bytes / (1024 * 1024));
	else if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(buf, len, "%lld KiB", bytes / 1024);
	else
		snprintf(buf, len, "%lld bytes", bytes);
}

const char *
lk_strerror(int errnum, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(errnum));
	/* "No such file", but not "EOF" or "I/O error". */
	if (buf[0] != '\0' && isupper((unsigned char)buf[0]) &&
	    !isupper((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

void
lk_fmt_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (s < 120)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 2 * 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, len, "%lldh %lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
}

int
lk_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	int64_t total = 0, mult;
	long long v;
	char *end;
	size_t n;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0)
			return -1;
		s = end;
		mult = 0;
		if (*s == '\0' && total == 0) {
			mult = 1;	/* digits alone: milliseconds */
		} else {
			for (size_t i = 0; i < 4; i++) {
				n = strlen(units[i].unit);
				if (strncmp(s, units[i].unit, n) == 0 &&
				    !isalpha((unsigned char)s[n])) {
					mult = units[i].ms;
					s += n;
					break;
				}
			}
		}
		if (mult == 0 || v > (INT64_MAX - total) / mult)
			return -1;
		total += v * mult;
	}
	*ms = total;
	return 0;
}

void
lk_buf_reset(struct lk_buf *b)
{
	b->len = 0;
	if (b->s != NULL)
		b->s[0] = '\0';
}

void
lk_buf_replace(struct lk_buf *b, const char *needle, const char *with)
{
	size_t n = strlen(needle);
	struct lk_buf o = { 0 };
	const char *p, *hit;

	if (n == 0 || b->s == NULL || strstr(b->s, needle) == NULL)
		return;
	for (p = b->s; (hit = strstr(p, needle)) != NULL; p = hit + n) {
		lk_buf_add(&o, p, (size_t)(hit - p));
		lk_buf_adds(&o, with);
	}
	lk_buf_adds(&o, p);
	lk_buf_free(b);
	*b = o;
}

void
lk_buf_free(struct lk_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void
lk_strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void
lk_identity_detect(struct lk_identity *id)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *ssh = getenv("SSH_CONNECTION");
	const char *tty = NULL;

	memset(id, 0, sizeof *id);
	if (pw != NULL && pw->pw_name != NULL)
		snprintf(id->user, sizeof id->user, "%s", pw->pw_name);
	else
		snprintf(id->user, sizeof id->user, "uid:%ld", (long)geteuid());

	/* SSH_CONNECTION is "client_ip client_port server_ip server_port". */
	if (ssh != NULL && *ssh != '\0') {
		size_t n = strcspn(ssh, " ");

		if (n >= sizeof id->from)
			n = sizeof id->from - 1;
		memcpy(id->from, ssh, n);
		id->from[n] = '\0';
	}

	for (int fd = 0; fd <= 2 && tty == NULL; fd++)
		tty = ttyname(fd);
	if (tty != NULL)
		snprintf(id->tty, sizeof id->tty, "%s", tty);
}
