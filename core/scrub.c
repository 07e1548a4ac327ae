/*
 * Secrets replaced in raw bytes.  See scrub.h.
 */
#include "scrub.h"
#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
lk_scrub_add(struct lk_scrub *sc, const char *secret, size_t len)
{
	if (len == 0)
		return;
	sc->secret = lk_xrealloc(sc->secret, (sc->n + 1) * sizeof *sc->secret);
	sc->len = lk_xrealloc(sc->len, (sc->n + 1) * sizeof *sc->len);
	sc->secret[sc->n] = lk_xmalloc(len + 1);
	memcpy(sc->secret[sc->n], secret, len);
	sc->secret[sc->n][len] = '\0';
	sc->len[sc->n] = len;
	sc->n++;
}

void
lk_scrub_clear(struct lk_scrub *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		explicit_bzero(sc->secret[i], sc->len[i]);
		free(sc->secret[i]);
	}
	free(sc->secret);
	free(sc->len);
	memset(sc, 0, sizeof *sc);
}

/* Marks the bytes of text[0..n) that belong to secret s (of length l). */
static void
mark_one(const char *s, size_t l, const char *text, size_t n,
    unsigned cut, unsigned char *mask)
{
	const char *p = text, *end = text + n, *hit;
	size_t k, done = 0;

	/* Every occurrence, overlapping ones too. */
	while (p < end && (hit = memmem(p, (size_t)(end - p), s, l)) != NULL) {
		size_t from = (size_t)(hit - text);

		if (from + l > done) {
			k = from > done ? from : done;
			memset(mask + k, 1, from + l - k);
			done = from + l;
		}
		p = hit + 1;
	}
	/* Cut at both ends: the text may lie inside a secret. */
	if ((cut & LK_SCRUB_HEAD) && (cut & LK_SCRUB_TAIL) && n > 0 && n < l &&
	    memmem(s, l, text, n) != NULL) {
		memset(mask, 1, n);
		return;
	}
	/* The longest end of the secret that the text starts with, and the
	 * longest start of it that the text ends with. */
	if (cut & LK_SCRUB_HEAD)
		for (k = l - 1 < n ? l - 1 : n; k > 0; k--)
			if (memcmp(text, s + l - k, k) == 0) {
				memset(mask, 1, k);
				break;
			}
	if (cut & LK_SCRUB_TAIL)
		for (k = l - 1 < n ? l - 1 : n; k > 0; k--)
			if (memcmp(text + n - k, s, k) == 0) {
				memset(mask + n - k, 1, k);
				break;
			}
}

/* Which bytes of text[0..n) belong to a secret (caller frees), or NULL
 * when there are no secrets. */
static unsigned char *
mask_of(const struct lk_scrub *sc, const char *text, size_t n, unsigned cut)
{
	unsigned char *mask;

	if (sc == NULL || sc->n == 0 || n == 0)
		return NULL;
	mask = lk_xcalloc(n, 1);
	for (size_t i = 0; i < sc->n; i++)
		mark_one(sc->secret[i], sc->len[i], text, n, cut, mask);
	return mask;
}

void
lk_scrub_buf(const struct lk_scrub *sc, struct lk_buf *out,
    const char *text, size_t n, unsigned cut)
{
	unsigned char *mask = mask_of(sc, text, n, cut);
	size_t i, start;

	if (mask == NULL) {
		lk_buf_add(out, text, n);
		return;
	}
	for (i = 0; i < n; ) {
		start = i;
		if (mask[i]) {
			while (i < n && mask[i])
				i++;
			lk_buf_adds(out, LK_SCRUB_MARK);
		} else {
			while (i < n && !mask[i])
				i++;
			lk_buf_add(out, text + start, i - start);
		}
	}
	free(mask);
}

char *
lk_scrub_str(const struct lk_scrub *sc, const char *text, unsigned cut)
{
	struct lk_buf b = { 0 };

	if (text == NULL)
		return NULL;
	lk_buf_adds(&b, "");
	lk_scrub_buf(sc, &b, text, strlen(text), cut);
	return b.s;
}

void
lk_scrub_copy(const struct lk_scrub *sc, char *buf, size_t len,
    const char *text)
{
	char *clean = lk_scrub_str(sc, text ? text : "", 0);

	snprintf(buf, len, "%s", clean);
	free(clean);
}

json_t *
lk_scrub_json(const struct lk_scrub *sc, const char *text, size_t n,
    unsigned cut)
{
	struct lk_buf clean = { 0 }, utf8 = { 0 };
	json_t *j;

	lk_scrub_buf(sc, &clean, text, n, cut);
	lk_buf_add_utf8(&utf8, clean.s ? clean.s : "", clean.len);
	j = json_stringn_nocheck(utf8.s ? utf8.s : "", utf8.len);
	lk_buf_free(&clean);
	lk_buf_free(&utf8);
	if (j == NULL)
		lk_oom();
	return j;
}

bool
lk_scrub_has(const struct lk_scrub *sc, const char *text, size_t n)
{
	for (size_t i = 0; sc != NULL && text != NULL && i < sc->n; i++)
		if (memmem(text, n, sc->secret[i], sc->len[i]) != NULL)
			return true;
	return false;
}

size_t
lk_scrub_dangling(const struct lk_scrub *sc, const char *text, size_t n)
{
	unsigned char *cut, *whole;
	size_t k = 0;

	if ((cut = mask_of(sc, text, n, LK_SCRUB_TAIL)) == NULL)
		return 0;
	whole = mask_of(sc, text, n, 0);
	/*
	 * Where the end may be the start of a secret, all the secret bytes
	 * it ends with go: a secret just before that start may overlap the
	 * start of another one, and keeping part of it would leave a piece
	 * no later scrub recognises.
	 */
	if (memcmp(cut, whole, n) != 0)
		while (k < n && cut[n - 1 - k])
			k++;
	free(cut);
	free(whole);
	return k;
}
