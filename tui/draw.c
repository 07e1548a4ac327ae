/*
 * Drawing: the one place the views' text meets curses.
 *
 * Every string drawn here may come from outside (a unit name, a note, a
 * journal line), so each goes through lk_buf_add_term() first: no control
 * character reaches the terminal, and what was there still shows.  Widths
 * are counted in columns, not bytes, so a wide character never pushes a
 * line past the edge of the screen.
 */
#include "private.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "../probes/probes.h"

/* Colour pairs, for terminals that have colour and no NO_COLOR. */
enum { PAIR_RED = 1, PAIR_YELLOW, PAIR_GREEN, PAIR_CYAN };

static attr_t
attr_of(const struct tui *t, int role)
{
	attr_t a = A_NORMAL;

	switch (role & ~ROLE_SEL) {
	case R_HEADER:
		a = A_REVERSE;
		break;
	case R_TITLE:
	case R_KEY:
		a = A_BOLD;
		break;
	case R_DIM:
		a = t->color ? COLOR_PAIR(PAIR_CYAN) : A_NORMAL;
		break;
	case R_OK:
		a = t->color ? COLOR_PAIR(PAIR_GREEN) : A_NORMAL;
		break;
	case R_WARN:
		a = t->color ? COLOR_PAIR(PAIR_YELLOW) : A_UNDERLINE;
		break;
	case R_BROKEN:
		a = t->color ? COLOR_PAIR(PAIR_RED) : A_BOLD;
		break;
	case R_DOWN:
	case R_ERROR:
		a = A_BOLD | (t->color ? COLOR_PAIR(PAIR_RED) : A_UNDERLINE);
		break;
	}
	if (role & ROLE_SEL)
		a |= A_REVERSE;
	return a;
}

void
draw_init_colors(struct tui *t)
{
	if (!t->color)
		return;
	start_color();
	use_default_colors();
	init_pair(PAIR_RED, COLOR_RED, -1);
	init_pair(PAIR_YELLOW, COLOR_YELLOW, -1);
	init_pair(PAIR_GREEN, COLOR_GREEN, -1);
	init_pair(PAIR_CYAN, COLOR_CYAN, -1);
}

/*
 * The escaped text as wide characters that fit in w columns.  Returns how
 * many characters, and the columns they take in *cols.
 */
static size_t
fit_wide(const char *s, size_t len, int w, wchar_t *out, size_t max, int *cols)
{
	mbstate_t st;
	size_t n = 0, i = 0;

	memset(&st, 0, sizeof st);
	*cols = 0;
	while (i < len && n < max) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, len - i, &st);
		int cw;

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			/* Escaped text is valid UTF-8; in any other locale
			 * it is ASCII.  Should it not be, show a '?'. */
			memset(&st, 0, sizeof st);
			wc = L'?';
			k = 1;
		}
		cw = wcwidth(wc);
		if (cw < 0) {
			wc = L'?';
			cw = 1;
		}
		if (*cols + cw > w)
			break;
		out[n++] = wc;
		*cols += cw;
		i += k;
	}
	return n;
}

int
draw_text(struct tui *t, int y, int x, int w, int role, const char *s)
{
	struct lk_buf b = { 0 };
	int used = 0;

	if (s == NULL || y < 0 || y >= t->rows || x < 0 || x >= t->cols)
		return 0;
	if (w > t->cols - x)
		w = t->cols - x;
	if (w <= 0)
		return 0;
	lk_buf_add_term(&b, s, strlen(s), t->utf8);
	attrset(attr_of(t, role));
	if (b.len > 0 && t->utf8) {
		wchar_t ws[512];
		size_t n = fit_wide(b.s, b.len, w, ws, 512, &used);

		mvaddnwstr(y, x, ws, (int)n);
	} else if (b.len > 0) {
		used = b.len < (size_t)w ? (int)b.len : w;
		mvaddnstr(y, x, b.s, used);
	}
	attrset(A_NORMAL);
	lk_buf_free(&b);
	return used;
}

int
draw_textf(struct tui *t, int y, int x, int w, int role, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return draw_text(t, y, x, w, role, buf);
}

void
draw_fill(struct tui *t, int y, int x, int w, int role)
{
	if (y < 0 || y >= t->rows || x < 0 || x >= t->cols)
		return;
	if (w > t->cols - x)
		w = t->cols - x;
	attrset(attr_of(t, role));
	for (int i = 0; i < w; i++)
		mvaddch(y, x + i, ' ');
	attrset(A_NORMAL);
}

void
draw_cell(struct tui *t, int y, int x, int w, int role, bool right,
    const char *s)
{
	int sw;

	if (w <= 0)
		return;
	draw_fill(t, y, x, w, role);
	sw = draw_width(t, s);
	if (right && sw < w)
		x += w - sw;
	draw_text(t, y, x, w, role, s);
}

int
draw_width(struct tui *t, const char *s)
{
	struct lk_buf b = { 0 };
	int cols = 0;

	if (s == NULL)
		return 0;
	lk_buf_add_term(&b, s, strlen(s), t->utf8);
	if (b.len > 0 && t->utf8) {
		wchar_t ws[512];

		fit_wide(b.s, b.len, 4096, ws, 512, &cols);
	} else {
		cols = (int)b.len;
	}
	lk_buf_free(&b);
	return cols;
}

void
draw_spark(struct tui *t, int y, int x, int w, int role, const int64_t *v,
    size_t n)
{
	static const char *const blocks[] = { "\u2581", "\u2582", "\u2583",
	    "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = "_.-=+*#@";
	int64_t lo = -1, hi = -1;
	size_t from = n > (size_t)w ? n - (size_t)w : 0;
	char buf[8 * 64 + 1] = "";
	size_t off = 0;

	if (w > 64)
		w = 64;
	for (size_t i = from; i < n; i++) {
		if (v[i] < 0)
			continue;
		if (lo < 0 || v[i] < lo)
			lo = v[i];
		if (v[i] > hi)
			hi = v[i];
	}
	for (size_t i = from; i < n; i++) {
		int level = 0;

		if (v[i] >= 0 && hi > lo)
			level = (int)((v[i] - lo) * 7 / (hi - lo));
		if (v[i] < 0)
			buf[off++] = '?';
		else if (t->utf8)
			off += (size_t)snprintf(buf + off, sizeof buf - off,
			    "%s", blocks[level]);
		else
			buf[off++] = ascii[level];
		buf[off] = '\0';
	}
	draw_fill(t, y, x, w, role);
	draw_text(t, y, x, w, role, buf);
}

void
draw_box(struct tui *t, int y, int x, int h, int w, const char *title)
{
	if (h < 2 || w < 2)
		return;
	for (int r = y; r < y + h; r++)
		draw_fill(t, r, x, w, R_NORMAL);
	mvaddch(y, x, ACS_ULCORNER);
	mvaddch(y, x + w - 1, ACS_URCORNER);
	mvaddch(y + h - 1, x, ACS_LLCORNER);
	mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
	for (int c = x + 1; c < x + w - 1; c++) {
		mvaddch(y, c, ACS_HLINE);
		mvaddch(y + h - 1, c, ACS_HLINE);
	}
	for (int r = y + 1; r < y + h - 1; r++) {
		mvaddch(r, x, ACS_VLINE);
		mvaddch(r, x + w - 1, ACS_VLINE);
	}
	if (title != NULL) {
		draw_text(t, y, x + 2, 1, R_NORMAL, " ");
		draw_text(t, y, x + 3 + draw_text(t, y, x + 3, w - 6, R_TITLE,
		    title), 1, R_NORMAL, " ");
	}
}

void
draw_age(int64_t ms, char *buf, size_t len)
{
	long long m = ms / 60000;

	if (m < 1)
		snprintf(buf, len, "<1m");
	else if (m < 120)
		snprintf(buf, len, "%lldm", m);
	else
		snprintf(buf, len, "%lldh %lldm", m / 60, m % 60);
}

int
role_of_severity(int sev)
{
	switch (sev) {
	case PROBE_SEV_DOWN:
		return R_DOWN;
	case PROBE_SEV_BROKEN:
		return R_BROKEN;
	case PROBE_SEV_WARN:
		return R_WARN;
	case PROBE_SEV_UNKNOWN:
		return R_DIM;
	}
	return R_OK;
}

/* A marker in the first column, so a state never shows by colour alone. */
const char *
marker_of_severity(int sev)
{
	switch (sev) {
	case PROBE_SEV_DOWN:
		return "!!";
	case PROBE_SEV_BROKEN:
		return "! ";
	case PROBE_SEV_WARN:
		return "~ ";
	case PROBE_SEV_UNKNOWN:
		return "? ";
	}
	return "  ";
}
