/*
 * Secrets kept out of text: the one scrubber of every path from a child's
 * output, a reason, a prompt or a parameter to the timeline, a terminal or
 * an export.
 *
 * It works on raw bytes, and must see them before anything transforms
 * them: once a secret holding a quote or a backslash is JSON-escaped, or a
 * URL percent-encodes it, it no longer reads as itself; once a fixed-size
 * buffer or an excerpt cuts it in two, the half that is left does not
 * either.  So text is scrubbed first and escaped, formatted or cut after,
 * and where the text itself is a piece of something longer (the tail of a
 * command's output, what a child kept of it), the caller says which end
 * was cut, and a piece of a secret at that end is scrubbed as a secret: a
 * prefix of one at a cut end, a suffix of one at a cut start.
 *
 * Every byte that belongs to an occurrence of a secret (occurrences may
 * overlap: "aa" in "aaa" covers all three bytes) is replaced, each run of
 * such bytes by one "***".
 */
#ifndef LK_SCRUB_H
#define LK_SCRUB_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* The secrets, owned; lk_scrub_clear() zeroes and frees them. */
struct lk_scrub {
	char **secret;
	size_t *len;
	size_t n;
};

#define LK_SCRUB_MARK "***"

/* The text starts where something before it was cut off. */
#define LK_SCRUB_HEAD	0x1
/* The text ends where something after it was cut off. */
#define LK_SCRUB_TAIL	0x2

/* Adds a copy of the len bytes at secret; an empty one is ignored. */
void lk_scrub_add(struct lk_scrub *sc, const char *secret, size_t len);
void lk_scrub_clear(struct lk_scrub *sc);

/* Appends the n bytes at text to out, scrubbed; cut is LK_SCRUB_*. */
void lk_scrub_buf(const struct lk_scrub *sc, struct lk_buf *out,
    const char *text, size_t n, unsigned cut);
/* text (a C string) scrubbed, as a new string; NULL for NULL. */
char *lk_scrub_str(const struct lk_scrub *sc, const char *text,
    unsigned cut);
/* text scrubbed and then cut to fit buf (size len > 0), never the other
 * way round. */
void lk_scrub_copy(const struct lk_scrub *sc, char *buf, size_t len,
    const char *text);
/* A JSON string of the n bytes at text, scrubbed, then made UTF-8. */
struct json_t *lk_scrub_json(const struct lk_scrub *sc, const char *text,
    size_t n, unsigned cut);

/* Whether the n bytes at text hold a whole secret. */
bool lk_scrub_has(const struct lk_scrub *sc, const char *text, size_t n);
/*
 * How many bytes to drop from the end of text, a piece cut there, before
 * it is handed on to code that will not know of the cut: when the end
 * could be the start of a secret that went on past it, that start and
 * every secret byte just before it (0 when none).
 */
size_t lk_scrub_dangling(const struct lk_scrub *sc, const char *text,
    size_t n);

#endif
