/*
 * Test helper: reads a unit's journal through probes/journal.c on a real
 * loop and prints what the API gives, for the end-to-end tests:
 *
 *   journal_tail [-f [-c CALLBACKS]] [-n LINES] [-t MS] [-s user|system] UNIT
 *
 * Without -f: the last LINES lines up to now (probe_journal_last), and
 * exits once they are read, freeing the journal from its callback as
 * `watch` would.  With -f: follows for MS milliseconds (default 2000), or
 * until the CALLBACKS-th callback, so that a test waits no longer than it
 * must.
 * It prints, for each callback,
 *
 *   CB MONO_MS added=N count=N caught_up=0|1
 *
 * then each added line,
 *
 *   L REALTIME_US PRIORITY LEN CUT TEXT
 *
 * TEXT with every byte outside printable ASCII, and the backslash, as
 * \xHH, so that the tests can see exactly which bytes came back; and at
 * the end "STATUS sentence" if the journal has one.  Exits 0, or 2 if the
 * journal could not be opened (the error on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "probes.h"

static long long t0;
static bool follow;
static int callbacks;		/* -c: stop after this many; 0: never */
static bool done;		/* the callback has seen enough */
static struct probe_journal *journal;	/* the callback frees it, once */
static char status[LK_ERR_MAX];

static void
print_line(const struct probe_journal_line *ln)
{
	printf("L %lld %d %zu %d ", (long long)ln->realtime_us, ln->priority,
	    ln->len, ln->cut ? 1 : 0);
	for (size_t i = 0; i < ln->len; i++) {
		unsigned char c = (unsigned char)ln->text[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('\n');
}

static void
on_lines(struct probe_journal *pj, size_t added, void *data)
{
	size_t n = probe_journal_count(pj);
	const char *st;

	(void)data;
	printf("CB %lld added=%zu count=%zu caught_up=%d\n",
	    loop_now_ms() - t0, added, n, probe_journal_caught_up(pj) ? 1 : 0);
	for (size_t i = n - added; i < n; i++)
		print_line(probe_journal_line(pj, i));
	fflush(stdout);
	st = probe_journal_status(pj);
	snprintf(status, sizeof status, "%s", st ? st : "");
	if (!follow) {
		probe_journal_free(&journal);
		done = true;
	} else if (callbacks > 0 && --callbacks == 0)
		done = true;
}

int
main(int argc, char **argv)
{
	struct loop *loop;
	struct lk_err err = { 0 };
	const char *scope = "user";
	long long ms = 2000, until, left;
	size_t lines = 1000;
	enum lk_code rc;
	int c;

	while ((c = getopt(argc, argv, "fc:n:t:s:")) != -1) {
		switch (c) {
		case 'f':
			follow = true;
			break;
		case 'c':
			callbacks = atoi(optarg);
			break;
		case 'n':
			lines = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			ms = atoll(optarg);
			break;
		case 's':
			scope = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	loop = loop_new();
	t0 = loop_now_ms();
	rc = (follow ? probe_journal_follow : probe_journal_last)(loop,
	    argv[optind], scope, lines, on_lines, NULL, &journal, &err);
	if (rc != LK_OK) {
		fprintf(stderr, "journal_tail: %s\n", err.msg);
		loop_free(&loop);
		return 2;
	}
	/* Following ends after ms; a one-shot read ends in its callback, or
	 * after ms if it never comes. */
	until = loop_now_ms() + ms;
	while (!done && (left = until - loop_now_ms()) > 0)
		loop_run_once(loop, left);
	if (follow) {
		const char *st = probe_journal_status(journal);

		snprintf(status, sizeof status, "%s", st ? st : "");
		probe_journal_free(&journal);
	} else if (journal != NULL) {
		/* The callback never came: a one-shot read that hung. */
		printf("TIMEOUT\n");
		probe_journal_free(&journal);
	}
	if (status[0] != '\0')
		printf("STATUS %s\n", status);
	loop_free(&loop);
	return 0;

usage:
	fprintf(stderr, "usage: journal_tail [-f [-c CALLBACKS]] [-n LINES] "
	    "[-t MS] [-s user|system] UNIT\n");
	return 2;
}
