#include "http_eval.h"
#include "../core/scrub.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
expected_statuses(const struct config_http *c, char *buf, size_t len)
{
	size_t off = 0;

	for (size_t i = 0; i < c->nstatus && off < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == c->nstatus ? " or " :
		    ", ";

		off += (size_t)snprintf(buf + off, len - off, "%s%d", sep,
		    c->status[i]);
	}
}

/* Follows "a.b.0.c" through objects and arrays; NULL when absent. */
static json_t *
json_walk(json_t *root, const char *path)
{
	char *copy = strdup(path), *save = NULL, *seg;
	json_t *cur = root;

	for (seg = strtok_r(copy, ".", &save); seg != NULL && cur != NULL;
	    seg = strtok_r(NULL, ".", &save)) {
		char *end;
		long idx;

		if (json_is_object(cur)) {
			cur = json_object_get(cur, seg);
			continue;
		}
		idx = strtol(seg, &end, 10);
		cur = json_is_array(cur) && *end == '\0' && idx >= 0 ?
		    json_array_get(cur, (size_t)idx) : NULL;
	}
	free(copy);
	return cur;
}

/*
 * A copy of v whose strings, keys included, are scrubbed: the raw text of
 * each, before json_dumps() escapes it.
 */
static json_t *
scrubbed_value(json_t *v, const struct lk_scrub *sc)
{
	json_t *copy, *item;
	const char *key;
	size_t i;

	if (json_is_string(v))
		return lk_scrub_json(sc, json_string_value(v),
		    json_string_length(v), 0);
	if (json_is_array(v)) {
		copy = json_array();
		json_array_foreach(v, i, item)
			json_array_append_new(copy, scrubbed_value(item, sc));
		return copy;
	}
	if (json_is_object(v)) {
		copy = json_object();
		json_object_foreach(v, key, item) {
			json_t *k = lk_scrub_json(sc, key, strlen(key), 0);

			json_object_set_new(copy, json_string_value(k),
			    scrubbed_value(item, sc));
			json_decref(k);
		}
		return copy;
	}
	return json_incref(v);
}

/* A short rendering of a JSON value for a reason, scrubbed before it is
 * dumped and shortened. */
static void
json_brief(json_t *v, const struct lk_scrub *sc, char *buf, size_t len)
{
	json_t *clean = v ? scrubbed_value(v, sc) : NULL;
	char *s = clean ? json_dumps(clean, JSON_COMPACT | JSON_ENCODE_ANY) :
	    NULL;

	json_decref(clean);
	if (s == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	if (strlen(s) > 60)
		snprintf(buf, len, "%.57s...", s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
}

static bool
check_json(const struct config_http *c, const struct http_response *r,
    const struct lk_scrub *sc, char *reason, size_t len)
{
	json_error_t jerr;
	json_t *root, *v, *want;
	char got[80], exp[80];
	char *path;
	bool ok = true;

	root = json_loadb(r->body ? r->body : "", r->len, JSON_DECODE_ANY,
	    &jerr);
	if (root == NULL) {
		snprintf(reason, len, "invalid JSON at byte %d",
		    jerr.position);
		return false;
	}
	if (c->json_path != NULL) {
		v = json_walk(root, c->json_path);
		path = lk_scrub_str(sc, c->json_path, 0);
		if (v == NULL) {
			snprintf(reason, len, "field %s is missing", path);
			ok = false;
		} else if (c->json_equals != NULL) {
			want = json_loads(c->json_equals, JSON_DECODE_ANY, NULL);
			if (want == NULL || !json_equal(v, want)) {
				json_brief(v, sc, got, sizeof got);
				json_brief(want, sc, exp, sizeof exp);
				snprintf(reason, len, "field %s is %s (expected "
				    "%s)", path, got, exp);
				ok = false;
			}
			json_decref(want);
		}
		free(path);
	}
	json_decref(root);
	return ok;
}

bool
http_eval(const struct config_http *c, const struct http_response *r,
    char *reason, size_t len)
{
	return http_eval_scrubbed(c, r, NULL, reason, len);
}

bool
http_eval_scrubbed(const struct config_http *c, const struct http_response *r,
    const struct lk_scrub *sc, char *reason, size_t len)
{
	bool status_ok = false;
	char exp[64];

	reason[0] = '\0';
	for (size_t i = 0; i < c->nstatus; i++)
		if (r->status == c->status[i])
			status_ok = true;
	if (!status_ok) {
		expected_statuses(c, exp, sizeof exp);
		snprintf(reason, len, "HTTP %ld%s (expected %s)", r->status,
		    r->len == 0 ? " with an empty body" : "", exp);
		return false;
	}
	if ((c->json || c->json_path != NULL) && !check_json(c, r, sc, reason,
	    len))
		return false;
	if (c->body_contains != NULL && (r->body == NULL ||
	    memmem(r->body, r->len, c->body_contains,
	    strlen(c->body_contains)) == NULL)) {
		char *want = lk_scrub_str(sc, c->body_contains, 0);

		snprintf(reason, len, "body does not contain \"%s\"", want);
		free(want);
		return false;
	}
	if (c->max_latency_ms >= 0 && r->latency_ms > (double)c->max_latency_ms) {
		snprintf(reason, len, "slow: %.0f ms (max %lld ms)",
		    r->latency_ms, (long long)c->max_latency_ms);
		return false;
	}
	return true;
}
