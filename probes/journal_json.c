/*
 * One line of journalctl -o json, as another host's journal sends it
 * (rjournal.c).  Apart from the reader so that the fuzzer can take it
 * alone: it is the parser of what comes from outside.
 */
#include "private.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

bool
rjournal_parse(const char *s, size_t len, int64_t *realtime_us,
    int *priority, struct lk_buf *msg, char *cursor)
{
	json_error_t e;
	json_t *o = json_loadb(s, len, JSON_ALLOW_NUL, &e), *m, *v;
	const char *ts;

	lk_buf_reset(msg);
	*realtime_us = 0;
	*priority = 6;		/* journalctl's, for an entry without one */
	if (cursor != NULL)
		cursor[0] = '\0';
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return false;
	}
	m = json_object_get(o, "MESSAGE");
	if (json_is_string(m)) {
		lk_buf_add(msg, json_string_value(m), json_string_length(m));
	} else if (json_is_array(m)) {
		size_t i;

		json_array_foreach(m, i, v) {
			json_int_t b = json_is_integer(v) ?
			    json_integer_value(v) : -1;

			if (b < 0 || b > 255) {
				json_decref(o);
				return false;
			}
			lk_buf_addc(msg, (char)b);
		}
	} else if (json_is_null(m)) {
		lk_buf_adds(msg, "[a message of more than 4096 bytes, not "
		    "shown]");
	} else {
		/* Structured data only: journalctl shows nothing either. */
		json_decref(o);
		return false;
	}
	if (msg->s == NULL)
		lk_buf_adds(msg, "");
	v = json_object_get(o, "__REALTIME_TIMESTAMP");
	if ((ts = json_string_value(v)) != NULL)
		*realtime_us = strtoll(ts, NULL, 10);
	v = json_object_get(o, "PRIORITY");
	if ((ts = json_string_value(v)) != NULL && ts[0] >= '0' &&
	    ts[0] <= '7' && ts[1] == '\0')
		*priority = ts[0] - '0';
	/* "s=...;i=...;b=...": it goes back to the host as a word, but
	 * only what a cursor is made of is taken. */
	v = json_object_get(o, "__CURSOR");
	if (cursor != NULL && (ts = json_string_value(v)) != NULL &&
	    json_string_length(v) < RJ_CURSOR_MAX &&
	    strspn(ts, RJ_CURSOR_CHARS) == json_string_length(v))
		memcpy(cursor, ts, json_string_length(v) + 1);
	json_decref(o);
	return true;
}
