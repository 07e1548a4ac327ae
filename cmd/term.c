/*
 * What the commands print on a terminal, escaped in one place.
 *
 * Text from outside (names, parameters, notes, reasons, a command's output,
 * runbook progress) reaches stdout and stderr through a hundred printf()s.
 * Escaping each of them would leave the hundred-and-first raw, so when
 * stdout or stderr is a terminal it is replaced by a stdio stream whose
 * every write goes through lk_term_filter(): lines pass, and every control
 * character, bidirectional override and byte that is not UTF-8 shows as
 * text ("^[", "<U+202E>", "\x9b") instead of steering the terminal.  Into a
 * file or a pipe nothing changes: what is stored or piped stays byte for
 * byte what it was.  JSON stays valid on a terminal, since it has no raw
 * control characters to escape.
 */
#include "cli.h"
#include "../core/util.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct term_stream {
	int fd;
	struct lk_term term;
	struct lk_buf buf;
};

static struct term_stream *term_out, *term_err;
static bool term_utf8;

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t
term_write(void *cookie, const char *s, size_t n)
{
	struct term_stream *t = cookie;

	lk_buf_reset(&t->buf);
	lk_term_filter(&t->term, s, n, &t->buf);
	/* All of s is taken, even what the filter holds for the next write. */
	return write_all(t->fd, t->buf.s, t->buf.len) == 0 ? (ssize_t)n : -1;
}

/* The fd belongs to whoever opened it: closing the stream leaves it. */
static int
term_close(void *cookie)
{
	struct term_stream *t = cookie;
	int rc;

	lk_buf_reset(&t->buf);
	lk_term_flush(&t->term, &t->buf);
	rc = write_all(t->fd, t->buf.s, t->buf.len);
	lk_buf_free(&t->buf);
	free(t);
	return rc;
}

static FILE *
term_stream_new(int fd, int mode, struct term_stream **tp)
{
	static const cookie_io_functions_t io = {
		.write = term_write,
		.close = term_close,
	};
	struct term_stream *t = lk_xcalloc(1, sizeof *t);
	FILE *f;

	t->fd = fd;
	t->term.utf8 = term_utf8;
	if ((f = fopencookie(t, "w", io)) == NULL)
		lk_oom();
	setvbuf(f, NULL, mode, BUFSIZ);
	if (tp != NULL)
		*tp = t;
	return f;
}

FILE *
cli_term_open(int fd)
{
	return term_stream_new(fd, _IONBF, NULL);
}

/* What lookout's own exit leaves held (half a UTF-8 sequence at the very
 * end) is written escaped: stdio flushes streams but closes none. */
static void
term_at_exit(void)
{
	struct term_stream *ts[] = { term_out, term_err };

	fflush(NULL);
	for (size_t i = 0; i < 2; i++) {
		if (ts[i] == NULL)
			continue;
		lk_buf_reset(&ts[i]->buf);
		lk_term_flush(&ts[i]->term, &ts[i]->buf);
		(void)write_all(ts[i]->fd, ts[i]->buf.s, ts[i]->buf.len);
	}
}

void
cli_term_setup(void)
{
	const char *codeset;

	/*
	 * The terminal's character set, as the console finds it; only
	 * LC_CTYPE, and only for as long as it takes to ask, so that no
	 * number is ever printed with a decimal comma.
	 */
	if (setlocale(LC_CTYPE, "") != NULL) {
		codeset = nl_langinfo(CODESET);
		term_utf8 = codeset != NULL && strcmp(codeset, "UTF-8") == 0;
		setlocale(LC_CTYPE, "C");
	}
	if (isatty(STDERR_FILENO))
		stderr = term_stream_new(STDERR_FILENO, _IONBF, &term_err);
	atexit(term_at_exit);
}

void
cli_term_stdout(void)
{
	if (isatty(STDOUT_FILENO))
		stdout = term_stream_new(STDOUT_FILENO, _IOLBF, &term_out);
}

bool
cli_term_is(FILE *f)
{
	return (f == stdout && term_out != NULL) ||
	    (f == stderr && term_err != NULL);
}

bool
cli_term_utf8(void)
{
	return term_utf8;
}
