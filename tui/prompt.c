/*
 * The prompt line: a command after ':', a filter after '/', a note, an
 * answer to a runbook's question, or a yes/no question answered with one
 * key.  It takes every key while it is open.
 */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROMPT_MAX 1024

struct prompt {
	char label[128];
	char buf[PROMPT_MAX];
	size_t len;
	size_t cur;		/* byte offset of the cursor */
	prompt_done_cb *done;
	void *arg;
	prompt_complete_cb *complete;
	confirm_cb *confirm;	/* a one-key question instead of a line */
};

void
tui_prompt(struct tui *t, const char *label, const char *initial,
    prompt_done_cb *done, void *arg, prompt_complete_cb *complete)
{
	struct prompt *p;

	prompt_close(t);
	p = lk_xcalloc(1, sizeof *p);
	snprintf(p->label, sizeof p->label, "%s", label);
	snprintf(p->buf, sizeof p->buf, "%s", initial ? initial : "");
	p->len = p->cur = strlen(p->buf);
	p->done = done;
	p->arg = arg;
	p->complete = complete;
	t->prompt = p;
	tui_dirty(t);
}

void
tui_confirm(struct tui *t, const char *question, confirm_cb *cb, void *arg)
{
	struct prompt *p;

	prompt_close(t);
	p = lk_xcalloc(1, sizeof *p);
	snprintf(p->label, sizeof p->label, "%s", question);
	p->confirm = cb;
	p->arg = arg;
	t->prompt = p;
	tui_dirty(t);
}

void
prompt_close(struct tui *t)
{
	if (t->prompt == NULL)
		return;
	explicit_bzero(t->prompt->buf, sizeof t->prompt->buf);
	free(t->prompt);
	t->prompt = NULL;
	tui_dirty(t);
}

void
prompt_free_words(char **words)
{
	lk_strv_free(words);
}

/* Ends the prompt and calls its callback with text (NULL: cancelled).
 * The callback may open another prompt. */
static void
finish(struct tui *t, const char *text)
{
	struct prompt *p = t->prompt;
	char buf[PROMPT_MAX];

	t->prompt = NULL;
	tui_dirty(t);
	if (text != NULL) {
		snprintf(buf, sizeof buf, "%s", text);
		text = buf;
	}
	if (p->done != NULL)
		p->done(t, text, p->arg);
	explicit_bzero(p->buf, sizeof p->buf);
	free(p);
	explicit_bzero(buf, sizeof buf);
}

static void
answer(struct tui *t, bool yes)
{
	struct prompt *p = t->prompt;

	t->prompt = NULL;
	tui_dirty(t);
	p->confirm(t, yes, p->arg);
	free(p);
}

/* The start of the UTF-8 character before offset i. */
static size_t
prev_char(const char *s, size_t i)
{
	while (i > 0 && ((unsigned char)s[--i] & 0xc0) == 0x80)
		;
	return i;
}

static size_t
next_char(const char *s, size_t len, size_t i)
{
	if (i < len)
		i++;
	while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

static void
insert(struct prompt *p, const char *s, size_t n)
{
	if (p->len + n >= sizeof p->buf)
		return;
	memmove(p->buf + p->cur + n, p->buf + p->cur, p->len - p->cur + 1);
	memcpy(p->buf + p->cur, s, n);
	p->len += n;
	p->cur += n;
}

/* A typed code point, as UTF-8. */
static void
insert_code(struct prompt *p, int c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3f));
		u[2] = (char)(0x80 | (c >> 6 & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	insert(p, u, n);
}

/*
 * Tab: completes the word before the cursor.  One candidate replaces it
 * (with a space after); several extend it to what they share and are
 * listed on the message line.
 */
static void
complete(struct tui *t, struct prompt *p)
{
	char **words, head[PROMPT_MAX];
	size_t start = p->cur, n = 0, common = 0;
	char list[512] = "";

	while (start > 0 && p->buf[start - 1] != ' ')
		start--;
	snprintf(head, sizeof head, "%.*s", (int)p->cur, p->buf);
	if ((words = p->complete(t, head)) == NULL || words[0] == NULL) {
		prompt_free_words(words);
		return;
	}
	for (n = 0; words[n] != NULL; n++)
		;
	common = strlen(words[0]);
	for (size_t i = 1; i < n; i++) {
		size_t k = 0;

		while (k < common && words[i][k] == words[0][k])
			k++;
		common = k;
	}
	if (common > p->cur - start || n == 1) {
		/* Replace the word with the common part. */
		memmove(p->buf + start, p->buf + p->cur, p->len - p->cur + 1);
		p->len -= p->cur - start;
		p->cur = start;
		insert(p, words[0], common);
		if (n == 1)
			insert(p, " ", 1);
	}
	if (n > 1) {
		size_t off = 0;

		for (size_t i = 0; i < n && off < sizeof list; i++)
			off += (size_t)snprintf(list + off, sizeof list - off,
			    "%s%s", i ? "  " : "", words[i]);
		tui_msg(t, "%s", list);
	}
	prompt_free_words(words);
}

bool
prompt_key(struct tui *t, int key)
{
	struct prompt *p = t->prompt;

	if (p == NULL)
		return false;
	tui_dirty(t);
	if (p->confirm != NULL) {
		if (key == 'y' || key == 'Y')
			answer(t, true);
		else if (key == 'n' || key == 'N' || key == TK_ESC ||
		    key == 'q')
			answer(t, false);
		return true;
	}
	switch (key) {
	case TK_ENTER:
		finish(t, p->buf);
		return true;
	case TK_ESC:
		finish(t, NULL);
		return true;
	case TK_BACKSPACE:
		if (p->cur == 0) {
			if (p->len == 0)
				finish(t, NULL);
			return true;
		} else {
			size_t from = prev_char(p->buf, p->cur);

			memmove(p->buf + from, p->buf + p->cur,
			    p->len - p->cur + 1);
			p->len -= p->cur - from;
			p->cur = from;
		}
		return true;
	case TK_DELETE:
		if (p->cur < p->len) {
			size_t to = next_char(p->buf, p->len, p->cur);

			memmove(p->buf + p->cur, p->buf + to, p->len - to + 1);
			p->len -= to - p->cur;
		}
		return true;
	case TK_LEFT:
		p->cur = prev_char(p->buf, p->cur);
		return true;
	case TK_RIGHT:
		p->cur = next_char(p->buf, p->len, p->cur);
		return true;
	case TK_HOME:
	case 1:		/* ^A */
		p->cur = 0;
		return true;
	case TK_END:
	case 5:		/* ^E */
		p->cur = p->len;
		return true;
	case 21:	/* ^U */
		memmove(p->buf, p->buf + p->cur, p->len - p->cur + 1);
		p->len -= p->cur;
		p->cur = 0;
		return true;
	case TK_TAB:
		if (p->complete != NULL)
			complete(t, p);
		return true;
	}
	/* Other controls and keys without a character are not text. */
	if (key >= 0x20 && key != 0x7f && key < TK_UP)
		insert_code(p, key);
	return true;
}

int
prompt_draw(struct tui *t, int y)
{
	struct prompt *p = t->prompt;
	char before[PROMPT_MAX];
	int x, cur, w;

	x = draw_text(t, y, 0, t->cols, R_TITLE, p->label);
	if (p->confirm != NULL)
		return -1;
	if (p->label[0] != ':' || p->label[1] != '\0')
		x += draw_text(t, y, x, t->cols - x, R_NORMAL, " ");
	snprintf(before, sizeof before, "%.*s", (int)p->cur, p->buf);
	/* Keep the cursor on screen: show the end of a long line. */
	w = t->cols - x - 1;
	cur = draw_width(t, before);
	if (cur > w) {
		size_t skip = 0;

		while (cur > w && skip < p->cur) {
			skip = next_char(p->buf, p->len, skip);
			snprintf(before, sizeof before, "%.*s",
			    (int)(p->cur - skip), p->buf + skip);
			cur = draw_width(t, before);
		}
		draw_text(t, y, x, w, R_NORMAL, p->buf + skip);
	} else {
		draw_text(t, y, x, w, R_NORMAL, p->buf);
	}
	return x + cur;
}
