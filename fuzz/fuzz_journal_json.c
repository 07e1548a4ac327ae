/*
 * Fuzzes rjournal_parse(): the input is one line of `journalctl -o json`
 * from another host, copied into a block of its exact size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../probes/private.h"
#include "../core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lk_buf msg = { 0 };
	char *line = size > 0 ? malloc(size) : NULL;
	char cursor[RJ_CURSOR_MAX];
	int64_t us;
	int prio;

	if (size > 0)
		memcpy(line, data, size);
	if (rjournal_parse(line, size, &us, &prio, &msg, cursor)) {
		/* What the ring and the view rely on, and the cursor, which
		 * goes back to the host, only of a cursor's characters. */
		if (prio < 0 || prio > 7 || msg.s == NULL ||
		    strlen(cursor) >= RJ_CURSOR_MAX ||
		    strspn(cursor, RJ_CURSOR_CHARS) != strlen(cursor))
			__builtin_trap();
	}
	lk_buf_free(&msg);
	free(line);
	return 0;
}
