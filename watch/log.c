/*
 * The watcher's log: one line per event on stderr, which systemd connects
 * to the journal.  There, a line that starts with "<N>" is recorded at
 * priority N (sd-daemon(3)), so `journalctl -p warning` finds incidents
 * and not state changes; anywhere else the line starts with the time.
 * Whether stderr is the journal is what $JOURNAL_STREAM says: the device
 * and inode of the stream systemd gave us, which stderr still is unless it
 * was redirected since.
 */
#include "private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/util.h"

static bool to_journal;

void
wlog_init(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	to_journal = e != NULL && sscanf(e, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev ==
	    dev && (unsigned long long)st.st_ino == ino;
}

void
wlog(int level, const char *fmt, ...)
{
	struct lk_buf line = { 0 };
	char *text = NULL, iso[LK_ISO_LEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		lk_oom();
	if (to_journal) {
		lk_buf_printf(&line, "<%d>", level);
	} else {
		lk_iso8601(lk_now_ms(), iso);
		lk_buf_printf(&line, "%s ", iso);
	}
	/* Names, reasons and journal lines come from outside: a line stays
	 * one line, and cannot steer a terminal that shows it. */
	lk_buf_add_term(&line, text, (size_t)n, true);
	lk_buf_addc(&line, '\n');
	fwrite(line.s, 1, line.len, stderr);
	fflush(stderr);
	free(text);
	lk_buf_free(&line);
}
