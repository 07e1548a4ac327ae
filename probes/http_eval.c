#include "http_eval.h"

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

/* A short rendering of a JSON value for a reason. */
static void
json_brief(json_t *v, char *buf, size_t len)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

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
    char *reason, size_t len)
{
	json_error_t jerr;
	json_t *root, *v, *want;
	char got[80], exp[80];
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
		if (v == NULL) {
			snprintf(reason, len, "field %s is missing",
			    c->json_path);
			ok = false;
		} else if (c->json_equals != NULL) {
			want = json_loads(c->json_equals, JSON_DECODE_ANY, NULL);
			if (want == NULL || !json_equal(v, want)) {
				json_brief(v, got, sizeof got);
				snprintf(exp, sizeof exp, "%s", c->json_equals);
				snprintf(reason, len, "field %s is %s (expected "
				    "%s)", c->json_path, got, exp);
				ok = false;
			}
			json_decref(want);
		}
	}
	json_decref(root);
	return ok;
}

bool
http_eval(const struct config_http *c, const struct http_response *r,
    char *reason, size_t len)
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
	if ((c->json || c->json_path != NULL) && !check_json(c, r, reason,
	    len))
		return false;
	if (c->body_contains != NULL && (r->body == NULL ||
	    memmem(r->body, r->len, c->body_contains,
	    strlen(c->body_contains)) == NULL)) {
		snprintf(reason, len, "body does not contain \"%s\"",
		    c->body_contains);
		return false;
	}
	if (c->max_latency_ms >= 0 && r->latency_ms > (double)c->max_latency_ms) {
		snprintf(reason, len, "slow: %.0f ms (max %lld ms)",
		    r->latency_ms, (long long)c->max_latency_ms);
		return false;
	}
	return true;
}
