/*
 * Fuzzes the runbook loader: the input is a whole runbook file, run once
 * in the runbooks' sandbox (allow-listed globals, a 64 MiB allocator cap,
 * a time slice) and checked.  The target must not loosen those limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rb_book *b = NULL;
	struct lk_err err = { 0 };
	char *diag = NULL;

	if (rb_book_load_source("fuzz.lua", (const char *)data, size, &b, &diag,
	    &err) == LK_OK) {
		volatile size_t sink = strlen(rb_book_name(b));

		/* Read everything back so a dangling pointer is touched. */
		for (size_t i = 0; i < rb_book_nparams(b); i++)
			sink += strlen(rb_book_param(b, i)->name);
		for (size_t i = 0; i < rb_book_nsteps(b); i++)
			sink += strlen(rb_book_step_name(b, i));
		(void)sink;
	} else if (err.msg[0] == '\0') {
		__builtin_trap();	/* every failure says why */
	}
	free(diag);
	rb_book_free(&b);
	return 0;
}
