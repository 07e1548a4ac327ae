/* core/util: text made safe for JSON. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

TestSuite(util, .timeout = 10);

static const char *
repaired(const char *s, size_t n)
{
	static char out[256];
	struct lk_buf b = { 0 };

	lk_buf_add_utf8(&b, s, n);
	snprintf(out, sizeof out, "%.*s", (int)b.len, b.s ? b.s : "");
	lk_buf_free(&b);
	return out;
}

#define FFFD "\xef\xbf\xbd"

Test(util, well_formed_utf8_passes_unchanged)
{
	const char *s = "ascii, caf\xc3\xa9, \xe2\x82\xac, \xf0\x9f\x98\x80";

	cr_expect_str_eq(repaired(s, strlen(s)), s);
	cr_expect_str_eq(repaired("", 0), "");
}

Test(util, each_bad_byte_becomes_one_replacement)
{
	/* Latin-1 */
	cr_expect_str_eq(repaired("caf\xe9!", 5), "caf" FFFD "!");
	/* an overlong "/" and a lone continuation byte */
	cr_expect_str_eq(repaired("\xc0\xaf" "a\x80", 4), FFFD FFFD "a" FFFD);
	/* a UTF-16 surrogate, and a code point past U+10FFFF */
	cr_expect_str_eq(repaired("\xed\xa0\x80", 3), FFFD FFFD FFFD);
	cr_expect_str_eq(repaired("\xf4\x90\x80\x80", 4),
	    FFFD FFFD FFFD FFFD);
	/* a sequence cut short by the end of the text */
	cr_expect_str_eq(repaired("ok\xe2\x82", 4), "ok" FFFD FFFD);
}

Test(util, json_text_is_never_null_and_always_dumps)
{
	json_t *a = json_array();
	char *dump;

	json_array_append_new(a, lk_json_text("caf\xe9"));
	json_array_append_new(a, lk_json_text("plain"));
	json_array_append_new(a, lk_json_text(NULL));
	dump = json_dumps(a, JSON_COMPACT);
	cr_assert_not_null(dump);
	cr_expect_str_eq(dump, "[\"caf" FFFD "\",\"plain\",null]");
	free(dump);
	json_decref(a);
}

Test(util, sizes_read_as_people_write_them)
{
	char buf[32];

	lk_fmt_size(1 << 20, buf, sizeof buf);
	cr_expect_str_eq(buf, "1 MiB");
	lk_fmt_size(512 * 1024, buf, sizeof buf);
	cr_expect_str_eq(buf, "512 KiB");
	lk_fmt_size(300, buf, sizeof buf);
	cr_expect_str_eq(buf, "300 bytes");
}

static const char *
term(const char *s, size_t n, bool utf8)
{
	static char out[512];
	struct lk_buf b = { 0 };

	lk_buf_add_term(&b, s, n, utf8);
	snprintf(out, sizeof out, "%s", b.s ? b.s : "");
	lk_buf_free(&b);
	return out;
}

Test(util, terminal_text_shows_every_control_and_sends_none)
{
	/* A window title, a screen clear, a bell, a newline. */
	const char *s = "a\x1b]2;pwned\x07" "b\x1b[2Jc\r\nd";

	cr_expect_str_eq(term(s, strlen(s), true), "a^[]2;pwned^Gb^[[2Jc^M^Jd");
	/* C1 CSI, DEL, a bidi override, a tab. */
	cr_expect_str_eq(term("x\xc2\x9b" "1m\x7f\xe2\x80\xae" "y\tz", 12, true),
	    "x<U+009B>1m^?<U+202E>y z");
	cr_expect_str_eq(term("caf\xc3\xa9 \xe2\x82\xac", 9, true),
	    "caf\xc3\xa9 \xe2\x82\xac");
	/* Bytes that are not UTF-8, among them a lone 0x9b (a CSI to some
	 * terminals), are named, not sent. */
	cr_expect_str_eq(term("\x9b" "2J\xff", 4, true), "\\x9b2J\\xff");
}

Test(util, terminal_text_in_ascii_for_lang_c)
{
	cr_expect_str_eq(term("caf\xc3\xa9 \xe2\x82\xac \x1b", 11, false),
	    "caf? ? ^[");
	cr_expect_str_eq(term("\x9b", 1, false), "?");
}

Test(util, durations)
{
	int64_t ms;

	cr_assert_eq(lk_parse_duration("500ms", &ms), 0);
	cr_assert_eq(ms, 500);
	cr_assert_eq(lk_parse_duration("5s", &ms), 0);
	cr_assert_eq(ms, 5000);
	cr_assert_eq(lk_parse_duration("5m", &ms), 0);
	cr_assert_eq(ms, 300000);
	cr_assert_eq(lk_parse_duration("1h", &ms), 0);
	cr_assert_eq(ms, 3600000);
	cr_assert_eq(lk_parse_duration("1m30s", &ms), 0);
	cr_assert_eq(ms, 90000);
	cr_assert_eq(lk_parse_duration("250", &ms), 0);
	cr_assert_eq(ms, 250);
	cr_assert_eq(lk_parse_duration("", &ms), -1);
	cr_assert_eq(lk_parse_duration("5", &ms), 0);
	cr_assert_eq(lk_parse_duration("5x", &ms), -1);
	cr_assert_eq(lk_parse_duration("-5s", &ms), -1);
	cr_assert_eq(lk_parse_duration("1s500", &ms), -1);
	cr_assert_eq(lk_parse_duration("5 s", &ms), -1);
	cr_assert_eq(lk_parse_duration("99999999999999999999h", &ms), -1);
}

/* Feeds s to a terminal filter in pieces of size step; returns the output,
 * which the caller frees. */
static char *
term_in_pieces(const char *s, size_t step)
{
	struct lk_term t = { .utf8 = true };
	struct lk_buf b = { 0 };
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i += step)
		lk_term_filter(&t, s + i, n - i < step ? n - i : step, &b);
	lk_term_flush(&t, &b);
	lk_buf_addc(&b, '\0');
	return b.s;
}

Test(util, terminal_stream_passes_lines_and_escapes_the_rest_in_any_pieces)
{
	const char *in = "title \x1b]2;pwned\x07 caf\xc3\xa9 \xe2\x82\xac\n"
	    "\x1b[2Jcleared?\r\nrow\r\n\xe2\x80\xae" "evil\rover\n\xff";
	const char *want = "title ^[]2;pwned^G caf\xc3\xa9 \xe2\x82\xac\n"
	    "^[[2Jcleared?\r\nrow\r\n<U+202E>evil^Mover\n\\xff";

	/* Every split, one byte at a time included: a UTF-8 sequence or a
	 * CRLF cut in two is escaped as it would be whole. */
	for (size_t step = 1; step <= strlen(in); step++) {
		char *out = term_in_pieces(in, step);

		cr_expect_str_eq(out, want, "in pieces of %zu", step);
		free(out);
	}
}

Test(util, terminal_stream_escapes_what_ends_cut_short)
{
	char *out = term_in_pieces("ok \xe2\x82", 2);

	cr_expect_str_eq(out, "ok \\xe2\\x82");
	free(out);
	out = term_in_pieces("tail\r", 3);
	cr_expect_str_eq(out, "tail^M");
	free(out);
}

static void
expect_replaced(const char *text, const char *needle, const char *with,
    const char *want)
{
	struct lk_buf b = { 0 };

	lk_buf_adds(&b, text);
	lk_buf_replace(&b, needle, with);
	cr_expect_str_eq(b.s, want);
	cr_expect_eq(b.len, strlen(want));
	lk_buf_free(&b);
}

Test(util, replace_every_occurrence)
{
	expect_replaced("tok and tok,tok", "tok", "***", "*** and ***,***");
	expect_replaced("tootok", "tok", "t", "toot");
	expect_replaced("aaaa", "aa", "b", "bb");
	expect_replaced("nothing here", "tok", "***", "nothing here");
	expect_replaced("an empty needle", "", "***", "an empty needle");
	expect_replaced("", "tok", "***", "");
}

Test(util, strv_free_takes_null)
{
	char **v = calloc(3, sizeof *v);

	v[0] = strdup("a");
	v[1] = strdup("b");
	lk_strv_free(v);
	lk_strv_free(NULL);
}
