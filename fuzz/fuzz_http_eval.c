/*
 * Fuzzes http_eval(): a response body judged against a check's assertions.
 *
 * The input is a small header choosing the assertions, then the body:
 *
 *	byte 0		flags: 1 json, 2 json_path, 4 json_field.equals,
 *			8 body_contains, 16 max_latency_ms, 32 a NULL body
 *			when it is empty; bits 6-7: accepted codes - 1
 *	bytes 1-8	four accepted status codes, 2 bytes each (100-599)
 *	bytes 9-10	the response's status (any value, 0-65535)
 *	byte 11		max_latency_ms / 10;  byte 12: latency_ms / 10
 *	then		json_path, equals, body_contains, each ended by '\n'
 *	the rest	the body
 *
 * Strings and the body are copied into blocks of their exact size so ASan
 * sees a read past their end.  The config loader only ever gives http_eval
 * codes from 100 to 599, equals as JSON text, and at least one code; any
 * text can reach json_path, equals and body_contains through a config file.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_eval.h"

#define HEADER 13

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next '\n'-ended field as a new string; NULL when the input ran out. */
static char *
next_field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl;
	char *s;

	if (*p >= end)
		return NULL;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL)
		nl = end;
	s = malloc((size_t)(nl - *p) + 1);
	memcpy(s, *p, (size_t)(nl - *p));
	s[nl - *p] = '\0';
	*p = nl < end ? nl + 1 : end;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_http c = { 0 };
	struct http_response r = { 0 };
	const uint8_t *p = data + HEADER, *end = data + size;
	char *path = NULL, *equals = NULL, *contains = NULL, *body = NULL;
	char reason[256];
	int status[4];
	uint8_t flags;

	if (size < HEADER)
		return 0;
	flags = data[0];
	for (size_t i = 0; i < 4; i++)
		status[i] = 100 +
		    ((data[1 + 2 * i] << 8 | data[2 + 2 * i]) % 500);
	c.status = status;
	c.nstatus = (size_t)(flags >> 6) + 1;
	c.json = flags & 1;
	c.max_latency_ms = flags & 16 ? data[11] * 10 : -1;
	c.timeout_ms = 2000;
	c.connect_timeout_ms = -1;
	c.max_body = 1024 * 1024;
	r.status = data[9] << 8 | data[10];
	r.latency_ms = data[12] * 10.0;

	/* The three fields are always consumed, used or not. */
	path = next_field(&p, end);
	equals = next_field(&p, end);
	contains = next_field(&p, end);
	if (flags & 2)
		c.json_path = path;
	if (flags & 4)
		c.json_equals = equals;
	if (flags & 8)
		c.body_contains = contains;

	r.len = (size_t)(end - p);
	if (r.len > 0 || !(flags & 32)) {
		body = malloc(r.len > 0 ? r.len : 1);
		if (r.len > 0)
			memcpy(body, p, r.len);
	}
	r.body = body;

	if (http_eval(&c, &r, reason, sizeof reason) && reason[0] != '\0')
		__builtin_trap();	/* a pass carries no reason */
	if (strlen(reason) >= sizeof reason)
		__builtin_trap();

	free(body);
	free(path);
	free(equals);
	free(contains);
	return 0;
}
