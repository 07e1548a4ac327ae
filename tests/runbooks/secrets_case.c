/*
 * The secrets property, one case at a time: a secret never leaves a run,
 * whole or in part, whatever its bytes and wherever it falls in a text on
 * any path to the timeline or a terminal.
 *
 * The input's bytes decide everything (missing bytes read as 0):
 *
 *   1 byte     which variants of the paths to take
 *  32 bytes    a bitmap: the bytes secrets are made of (S); every other
 *              byte, NUL and '*' always among them, is filler (F)
 *   then       1 to 3 secrets, raw bytes of S or UTF-8 made of S; then
 *              1 to 6 segments of filler (one in eight up to 10 KiB,
 *              the others up to 255 bytes), each
 *              followed by one of the secrets or none; then the cut
 *              points, sizes and chunks each path below uses
 *
 * Because filler never holds a byte of S, every byte of S in a text came
 * from a secret, whole or cut.  So the text a perfect scrubber makes is
 * known: every run of S bytes replaced by one "***" (ideal()).  Each path
 * is run twice: on the text with the secrets scrubbed by lookout's code,
 * and on ideal() of the text with nothing to scrub.  They must give the
 * same bytes, so everything the path stores or shows is what it would be
 * had the secrets never been there.  The paths:
 *
 *  - lk_scrub_buf() of a window cut anywhere in the text (head, tail,
 *    both, inside a single secret);
 *  - lk_scrub_copy() into a buffer of any size (a reason in a char[]);
 *  - rb_stream_excerpt(): what a child kept of a stream (cut where the
 *    child stopped keeping), its last RB_EXCERPT bytes, JSON-escaped;
 *  - what the step's function gets of a cut stream (lk_scrub_dangling()):
 *    nothing a later scrub would miss;
 *  - rb_tail_add()/rb_tail_view(): the console's live output, fed in
 *    chunks of any size, read while the command runs and at the end;
 *  - http_eval_scrubbed(): http.check's reasons quoting a JSON value of
 *    the body, the expected value, body_contains and json_path.
 */
#include "secrets_case.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runbooks/private.h"
#include "../../probes/http_eval.h"

struct in {
	const uint8_t *p;
	size_t n, i;
};

static unsigned
byte(struct in *in)
{
	return in->i < in->n ? in->p[in->i++] : 0;
}

/* 0 to max, from two bytes. */
static size_t
upto(struct in *in, size_t max)
{
	size_t v = (size_t)byte(in) << 8;

	v |= byte(in);
	return v % (max + 1);
}

struct gen {
	bool in_s[256];
	uint8_t s[256], f[256];
	size_t ns, nf;
	struct lk_scrub sc;
	struct lk_buf secret[3];
	size_t nsecret;
	struct lk_buf text;
};

static char failure[512];

static const char *
fail(const char *path, const struct lk_buf *got, const struct lk_buf *want)
{
	snprintf(failure, sizeof failure, "%s: got %zu bytes \"%.*s\", want "
	    "%zu bytes \"%.*s\"", path, got->len, (int)(got->len > 150 ? 150 :
	    got->len), got->s ? got->s : "", want->len, (int)(want->len > 150 ?
	    150 : want->len), want->s ? want->s : "");
	return failure;
}

static bool
same(const struct lk_buf *a, const struct lk_buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->s, b->s, a->len) == 0);
}

/* What a perfect scrubber leaves of the n bytes at t. */
static void
ideal(const struct gen *g, const char *t, size_t n, struct lk_buf *out)
{
	size_t i = 0, j;

	lk_buf_reset(out);
	while (i < n) {
		j = i;
		if (g->in_s[(uint8_t)t[i]]) {
			while (j < n && g->in_s[(uint8_t)t[j]])
				j++;
			lk_buf_adds(out, LK_SCRUB_MARK);
		} else {
			while (j < n && !g->in_s[(uint8_t)t[j]])
				j++;
			lk_buf_add(out, t + i, j - i);
		}
		i = j;
	}
}

static void
gen_alphabets(struct gen *g, struct in *in)
{
	uint8_t map[32];

	for (size_t i = 0; i < sizeof map; i++)
		map[i] = (uint8_t)byte(in);
	for (unsigned b = 0; b < 256; b++) {
		g->in_s[b] = b != 0 && b != '*' && (map[b / 8] >> (b % 8) & 1);
		if (g->in_s[b])
			g->s[g->ns++] = (uint8_t)b;
		else
			g->f[g->nf++] = (uint8_t)b;
	}
	if (g->ns == 0) {
		g->in_s['Q'] = true;
		g->s[g->ns++] = 'Q';
		g->nf = 0;
		for (unsigned b = 0; b < 256; b++)
			if (!g->in_s[b])
				g->f[g->nf++] = (uint8_t)b;
	}
}

/* The bytes of S in [lo, hi]. */
static size_t
s_between(const struct gen *g, unsigned lo, unsigned hi, uint8_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < g->ns; i++)
		if (g->s[i] >= lo && g->s[i] <= hi)
			out[n++] = g->s[i];
	return n;
}

static void
gen_secrets(struct gen *g, struct in *in)
{
	uint8_t lead[256], cont[256], ascii[256];
	size_t nlead = s_between(g, 0xc2, 0xdf, lead);
	size_t ncont = s_between(g, 0x80, 0xbf, cont);
	size_t nascii = s_between(g, 0x01, 0x7f, ascii);

	g->nsecret = 1 + byte(in) % 3;
	for (size_t k = 0; k < g->nsecret; k++) {
		struct lk_buf *s = &g->secret[k];
		unsigned mode = byte(in);
		size_t len = mode & 0x80 ? 1 + upto(in, 299) : 1 + byte(in) % 40;

		while (s->len < len) {
			unsigned b = byte(in);

			/* UTF-8 text: two-byte characters and ASCII. */
			if ((mode & 1) && (b & 1) && nlead && ncont) {
				lk_buf_addc(s, (char)lead[byte(in) % nlead]);
				lk_buf_addc(s, (char)cont[byte(in) % ncont]);
			} else if ((mode & 1) && nascii) {
				lk_buf_addc(s, (char)ascii[b % nascii]);
			} else {
				lk_buf_addc(s, (char)g->s[b % g->ns]);
			}
		}
		lk_scrub_add(&g->sc, s->s, s->len);
	}
}

static void
gen_text(struct gen *g, struct in *in)
{
	size_t nseg = 1 + byte(in) % 6;

	for (size_t k = 0; k < nseg; k++) {
		unsigned size = byte(in), pick;
		/* One segment in eight is long: past the timeline's excerpt,
		 * the console's tail, the child's cap if several are. */
		size_t len = (size & 7) == 7 ? (size_t)size * 40 : size;
		uint32_t x = (uint32_t)upto(in, 0xffff) * 2654435761u + 1;

		/* Filler from a small generator: 10 KiB of it need not come
		 * from 10 KiB of input. */
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			lk_buf_addc(&g->text, (char)g->f[x % g->nf]);
		}
		pick = byte(in);
		if (pick % 4 != 3) {
			const struct lk_buf *s = &g->secret[pick % g->nsecret];

			lk_buf_add(&g->text, s->s, s->len);
		}
	}
}

static void
buf_take(struct lk_buf *b, char *s)
{
	lk_buf_reset(b);
	if (s != NULL)
		lk_buf_adds(b, s);
	free(s);
}

static void
json_take(struct lk_buf *b, json_t *j)
{
	buf_take(b, json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT));
	json_decref(j);
}

/* A window cut anywhere, scrubbed as the cut says. */
static const char *
path_window(struct gen *g, struct in *in, struct lk_buf *got,
    struct lk_buf *want)
{
	size_t n = g->text.len, a = upto(in, n), b = a + upto(in, n - a);
	unsigned cut = (a > 0 ? LK_SCRUB_HEAD : 0) | (b < n ? LK_SCRUB_TAIL :
	    0);

	lk_buf_reset(got);
	lk_scrub_buf(&g->sc, got, g->text.s + a, b - a, cut);
	ideal(g, g->text.s + a, b - a, want);
	return same(got, want) ? NULL : fail("lk_scrub_buf", got, want);
}

/* A C string of the text cut into a fixed-size buffer. */
static const char *
path_copy(struct gen *g, struct in *in, struct lk_buf *got,
    struct lk_buf *want)
{
	size_t size = 1 + upto(in, 700);
	/* Whole: it ends at the text's end or at a NUL, filler. */
	char *text = strndup(g->text.s, g->text.len);
	char *buf = malloc(size), *ref = malloc(size);
	bool ok;

	lk_scrub_copy(&g->sc, buf, size, text);
	ideal(g, text, strlen(text), want);
	snprintf(ref, size, "%s", want->s ? want->s : "");
	ok = strcmp(buf, ref) == 0;
	buf_take(got, buf);
	buf_take(want, ref);
	free(text);
	return ok ? NULL : fail("lk_scrub_copy", got, want);
}

/* What the timeline keeps of a stream a child may have cut short, and
 * what the step's function gets of it. */
static const char *
path_excerpt(struct gen *g, struct in *in, unsigned flags,
    struct lk_buf *got, struct lk_buf *want)
{
	size_t m = flags & 2 ? upto(in, g->text.len) : g->text.len, keep;
	bool truncated = m < g->text.len;
	struct lk_buf ref = { 0 };

	json_take(got, rb_stream_excerpt(&g->sc, g->text.s, m, truncated));
	ideal(g, g->text.s, m, &ref);
	json_take(want, rb_stream_excerpt(NULL, ref.s, ref.len, false));
	lk_buf_free(&ref);
	if (!same(got, want))
		return fail("rb_stream_excerpt", got, want);
	if (!truncated)
		return NULL;
	/* Handed on, it must scrub whole without being told of the cut. */
	keep = m - lk_scrub_dangling(&g->sc, g->text.s, m);
	lk_buf_reset(got);
	lk_scrub_buf(&g->sc, got, g->text.s, keep, 0);
	ideal(g, g->text.s, keep, want);
	return same(got, want) ? NULL : fail("lk_scrub_dangling", got, want);
}

/* The console's live output, in chunks, read as they come. */
static const char *
path_tail(struct gen *g, struct in *in, unsigned flags, struct lk_buf *got,
    struct lk_buf *want)
{
	size_t max = flags & 4 ? RB_OUTPUT_TAIL : 1 + upto(in, 200);
	struct rb_tail t = { 0 };
	const char *why = NULL;
	size_t pos = 0, n = g->text.len;

	for (int views = 0; pos < n && why == NULL; views++) {
		size_t chunk = views < 24 ? 1 + upto(in, n - pos - 1) : n - pos;
		size_t from;
		bool running;

		rb_tail_add(&t, g->text.s + pos, chunk, max);
		pos += chunk;
		running = pos < n || (flags & 8);
		/* A C string for the console: it ends at a NUL, if any. */
		buf_take(got, rb_tail_view(&t, &g->sc, running));
		from = pos > max ? pos - max : 0;
		ideal(g, g->text.s + from, pos - from, want);
		if (want->len > 0)
			want->len = strnlen(want->s, want->len);
		if (!same(got, want))
			why = fail(running ? "rb_tail_view (running)" :
			    "rb_tail_view", got, want);
	}
	lk_buf_free(&t.buf);
	return why;
}

static bool
valid_utf8(const char *s, size_t n)
{
	struct lk_buf b = { 0 };
	bool ok;

	lk_buf_add_utf8(&b, s, n);
	ok = b.len == n && (n == 0 || memcmp(b.s, s, n) == 0);
	lk_buf_free(&b);
	return ok && memchr(s, '\0', n) == NULL;
}

/* {"k": value} as a body, value as JSON text, or NULL. */
static char *
json_of(const char *key, const char *value, size_t len)
{
	struct lk_buf fixed = { 0 };
	json_t *v, *o;
	char *s;

	lk_buf_add_utf8(&fixed, value ? value : "", value ? len : 0);
	v = json_stringn_nocheck(fixed.s ? fixed.s : "", fixed.len);
	o = key ? json_pack("{s:o}", key, v) : v;
	s = json_dumps(o, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(o);
	lk_buf_free(&fixed);
	return s;
}

/* One http.check, with the secrets scrubbed, against the same with the
 * secrets never there. */
static const char *
http_pair(struct gen *g, const char *what, struct config_http *c,
    struct config_http *ref, const char *body, const char *ref_body,
    size_t len, struct lk_buf *got, struct lk_buf *want)
{
	struct http_response r = { .status = 200, .body = body,
	    .len = body ? strlen(body) : 0 };
	char *a = calloc(1, len), *b = calloc(1, len);
	bool ok;

	http_eval_scrubbed(c, &r, &g->sc, a, len);
	r.body = ref_body;
	r.len = ref_body ? strlen(ref_body) : 0;
	http_eval(ref, &r, b, len);
	ok = strcmp(a, b) == 0;
	buf_take(got, a);
	buf_take(want, b);
	return ok ? NULL : fail(what, got, want);
}

static const char *
path_http(struct gen *g, struct in *in, struct lk_buf *got,
    struct lk_buf *want)
{
	size_t n = g->text.len, a = upto(in, n), b = a + upto(in, n - a);
	size_t len = 1 + upto(in, 300);
	int status = 200;
	struct config_http c = { .status = &status, .nstatus = 1,
	    .max_latency_ms = -1 }, ref = c;
	struct lk_buf clean = { 0 };
	char *v, *body, *ref_body, *rv, key[2] = "", key_body[16];
	const char *why;

	/* A value in a body is whole: no secret is cut at its ends. */
	while (a > 0 && a < n && g->in_s[(uint8_t)g->text.s[a]] &&
	    g->in_s[(uint8_t)g->text.s[a - 1]])
		a--;
	while (b > a && b < n && g->in_s[(uint8_t)g->text.s[b]] &&
	    g->in_s[(uint8_t)g->text.s[b - 1]])
		b++;
	/* A body is UTF-8: the filler's other bytes are left out. */
	for (size_t i = a; i < b; i++) {
		uint8_t ch = (uint8_t)g->text.s[i];

		if (g->in_s[ch] || (ch >= 0x01 && ch <= 0x7f))
			lk_buf_addc(&clean, (char)ch);
	}
	if (clean.len == 0 || !valid_utf8(clean.s, clean.len)) {
		lk_buf_free(&clean);
		return NULL;
	}
	v = lk_xstrdup(clean.s);
	ideal(g, v, strlen(v), &clean);
	rv = lk_xstrdup(clean.s);

	/*
	 * The key the check reads is the operator's, not a secret: a letter
	 * of the filler (a key that is a secret is scrubbed where it is
	 * quoted, as it should be, which the reference could not know).
	 */
	for (const char *k = "kjqxzKJQXZabcdefghilmnoprstuvwy"; *k != '\0'; k++)
		if (!g->in_s[(uint8_t)*k]) {
			key[0] = *k;
			break;
		}
	snprintf(key_body, sizeof key_body, "{\"%s\":null}", key);

	/* A value of the body quoted in the reason. */
	why = NULL;
	c.json = ref.json = 1;
	c.json_path = ref.json_path = key;
	c.json_equals = ref.json_equals = "null";
	body = json_of(key, v, strlen(v));
	ref_body = json_of(key, rv, strlen(rv));
	if (key[0] != '\0')
		why = http_pair(g, "http_eval (field)", &c, &ref, body, ref_body,
		    len, got, want);
	free(body);
	free(ref_body);
	/* The value the check expected. */
	c.json_equals = json_of(NULL, v, strlen(v));
	ref.json_equals = json_of(NULL, rv, strlen(rv));
	if (why == NULL && key[0] != '\0')
		why = http_pair(g, "http_eval (expected)", &c, &ref,
		    key_body, key_body, len, got, want);
	free(c.json_equals);
	free(ref.json_equals);
	c.json_equals = ref.json_equals = NULL;
	/* A path that is not there. */
	c.json_path = v;
	ref.json_path = rv;
	if (why == NULL)
		why = http_pair(g, "http_eval (path)", &c, &ref, "{}", "{}", len,
		    got, want);
	/* What the body should have held. */
	c.json = ref.json = 0;
	c.json_path = ref.json_path = NULL;
	c.body_contains = v;
	ref.body_contains = rv;
	if (why == NULL)
		why = http_pair(g, "http_eval (body_contains)", &c, &ref, NULL,
		    NULL, len, got, want);
	lk_buf_free(&clean);
	free(rv);
	free(v);
	return why;
}

const char *
secrets_case(const uint8_t *data, size_t size)
{
	struct in in = { data, size, 0 };
	struct gen g = { 0 };
	struct lk_buf got = { 0 }, want = { 0 };
	unsigned flags = byte(&in);
	const char *why;

	gen_alphabets(&g, &in);
	gen_secrets(&g, &in);
	gen_text(&g, &in);
	lk_buf_adds(&g.text, "");
	why = path_window(&g, &in, &got, &want);
	if (why == NULL)
		why = path_copy(&g, &in, &got, &want);
	if (why == NULL)
		why = path_excerpt(&g, &in, flags, &got, &want);
	if (why == NULL)
		why = path_tail(&g, &in, flags, &got, &want);
	if (why == NULL)
		why = path_http(&g, &in, &got, &want);
	lk_buf_free(&got);
	lk_buf_free(&want);
	lk_buf_free(&g.text);
	for (size_t k = 0; k < g.nsecret; k++)
		lk_buf_free(&g.secret[k]);
	lk_scrub_clear(&g.sc);
	return why;
}
