/*
 * Fuzzes rabbit_parse_queue(): the input is the body of the management
 * API's GET /api/queues/VHOST/NAME, copied into a block of its exact size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rabbit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_sample s;
	char why[128];
	char *body = size > 0 ? malloc(size) : NULL;

	if (size > 0)
		memcpy(body, data, size);
	memset(&s, 0, sizeof s);
	why[0] = '\0';
	if (rabbit_parse_queue(body, size, &s, why, sizeof why) == 0) {
		/* What the queue model relies on. */
		if (s.depth < 0 || s.consumers < -1)
			__builtin_trap();
	} else if (why[0] == '\0') {
		__builtin_trap();	/* a failure always says why */
	}
	free(body);
	return 0;
}
