/*
 * Fuzzes the secrets property: the input chooses the bytes secrets are
 * made of, the secrets, the text around them and where every path cuts
 * it, and tests/runbooks/secrets_case.c checks that every path (scrubbed
 * windows, fixed-size copies, the timeline's excerpts, what a step gets
 * of a cut stream, the console's live tail, http.check's reasons) leaves
 * exactly what it would had the secrets never been there.  The property
 * test in tests/runbooks/test_secrets.c runs the same cases from random
 * inputs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "secrets_case.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = secrets_case(data, size);

	if (why != NULL) {
		fprintf(stderr, "secret leaked: %s\n", why);
		__builtin_trap();
	}
	return 0;
}
