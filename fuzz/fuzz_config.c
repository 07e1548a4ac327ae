/*
 * Fuzzes the configuration loader: the input is a whole lookout.lua.
 *
 * The loader runs the file in its own sandbox (no io or os, an instruction
 * budget and a 16 MiB allocator cap), so arbitrary Lua is what we want to
 * feed it; the target must not loosen those limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct config_diags diags = { 0 };
	struct lk_err err = { 0 };

	/* Read everything back so a dangling pointer in cfg is touched. */
	if (config_load_buffer("fuzz.lua", (const char *)data, size, &cfg,
	    &diags, &err) == LK_OK) {
		volatile size_t sink = 0;

		for (size_t i = 0; i < config_nservices(cfg); i++) {
			const struct config_service *s = config_service(cfg, i);

			sink += strlen(s->name) + strlen(s->unit);
			if (config_service_find(cfg, s->name) == NULL)
				__builtin_trap();
		}
		for (size_t i = 0; i < config_nqueues(cfg); i++) {
			const struct config_queue *q = config_queue(cfg, i);

			sink += strlen(q->name);
			if (config_queue_find(cfg, q->name) == NULL)
				__builtin_trap();
		}
		for (size_t i = 0; i < config_nrunbook_dirs(cfg); i++)
			sink += strlen(config_runbook_dir(cfg, i));
		(void)sink;
	}
	config_free(&cfg);
	config_diags_free(&diags);
	return 0;
}
