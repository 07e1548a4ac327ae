/*
 * Test helper: appends N events to a timeline and prints each sequence number
 * on stdout only after store_append() has returned, i.e. once the store
 * claims the event is durable.  The crash and concurrency tests compare what
 * was printed with what survived.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct store_actor actor = { .user = "appender" };
	struct store *s = NULL;
	struct lk_err err = { 0 };
	long n;
	char tag[64];

	if (argc < 3) {
		fprintf(stderr, "usage: appender DB N [TAG]\n");
		return 2;
	}
	n = strtol(argv[2], NULL, 10);
	snprintf(tag, sizeof tag, "%s", argc > 3 ? argv[3] : "w");
	if (store_open(argv[1], &actor, &s, &err) != LK_OK) {
		fprintf(stderr, "appender: %s\n", err.msg);
		return 2;
	}
	for (long i = 0; i < n; i++) {
		struct store_new_event ev = { .kind = "test.append",
		    .subject = tag };
		char msg[96];
		int64_t seq;

		snprintf(msg, sizeof msg, "%s %ld", tag, i);
		ev.message = msg;
		if (store_append(s, &ev, &seq, &err) != LK_OK) {
			fprintf(stderr, "appender: %s\n", err.msg);
			store_close(&s);
			return 1;
		}
		printf("%lld\n", (long long)seq);
		fflush(stdout);
	}
	store_close(&s);
	return 0;
}
