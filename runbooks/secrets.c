/*
 * What of a run's text may leave it: the secrets a run was given are
 * scrubbed from every text on its way to the timeline, a terminal or an
 * export, from raw bytes and before anything escapes, formats or cuts it
 * (core/scrub.h).  Kept apart from the engine and the actions so that the
 * property test and the fuzz target (tests/runbooks/secrets_case.c) run
 * exactly this code.
 */
#include "private.h"

#include <jansson.h>
#include <string.h>

bool
rb_has_secret(const struct rb_run *run, const char *text)
{
	return text != NULL && lk_scrub_has(&run->secrets, text, strlen(text));
}

char *
rb_scrub(const struct rb_run *run, const char *text)
{
	return lk_scrub_str(&run->secrets, text, 0);
}

void
rb_tail_add(struct rb_tail *t, const char *buf, size_t len, size_t max)
{
	struct lk_buf *o = &t->buf;

	lk_buf_add(o, buf, len);
	if (o->len > max) {
		size_t cut = o->len - max;

		memmove(o->s, o->s + cut, o->len - cut + 1);
		o->len -= cut;
		t->cut = true;
	}
}

char *
rb_tail_view(const struct rb_tail *t, const struct lk_scrub *sc, bool running)
{
	struct lk_buf b = { 0 };

	if (t->buf.len == 0)
		return NULL;
	/* What was dropped may have held the start of a secret whose end
	 * the tail starts with; what is still to come, the end of one whose
	 * start it ends with. */
	lk_scrub_buf(sc, &b, t->buf.s, t->buf.len, (t->cut ? LK_SCRUB_HEAD :
	    0) | (running ? LK_SCRUB_TAIL : 0));
	return b.s;
}

json_t *
rb_stream_excerpt(const struct lk_scrub *sc, const char *out, size_t len,
    bool truncated)
{
	struct lk_buf clean = { 0 };
	size_t from;
	json_t *j;

	/*
	 * The whole of what the child kept is scrubbed first, then cut: a
	 * cut can then only go through a "***", never through a secret.
	 * Where the child dropped the rest, the end is a cut already.
	 */
	lk_scrub_buf(sc, &clean, out ? out : "", out ? len : 0,
	    truncated ? LK_SCRUB_TAIL : 0);
	from = clean.len > RB_EXCERPT ? clean.len - RB_EXCERPT : 0;
	j = lk_scrub_json(NULL, clean.s ? clean.s + from : "", clean.len - from,
	    0);
	lk_buf_free(&clean);
	return j;
}

