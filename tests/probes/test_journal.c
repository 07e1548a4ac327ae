/*
 * probes/journal.c without a journald of our own: the ring of lines, where
 * a manager journald cannot name keeps its units, why a journal is empty,
 * the arguments, and a one-shot read of whatever journal this machine has.
 * tests/e2e/journal_inner.sh reads a real journald's entries.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "probes.h"
#include "private.h"

TestSuite(journal, .timeout = 20);

/* The ring. */

Test(journal, the_ring_keeps_the_newest_lines_oldest_first)
{
	struct jring r;
	char msg[16];

	jring_init(&r, 3);
	for (int i = 0; i < 5; i++) {
		snprintf(msg, sizeof msg, "line %d", i);
		jring_push(&r, 1000 + i, i % 8, msg, strlen(msg));
	}
	cr_assert_eq(r.n, 3);
	for (size_t i = 0; i < 3; i++) {
		const struct probe_journal_line *ln = jring_get(&r, i);

		snprintf(msg, sizeof msg, "line %zu", i + 2);
		cr_expect_str_eq(ln->text, msg);
		cr_expect_eq(ln->realtime_us, (int64_t)(1002 + i));
		cr_expect_eq(ln->priority, (int)(i + 2));
		cr_expect_not(ln->cut);
	}
	cr_expect_null(jring_get(&r, 3));
	jring_free(&r);
}

Test(journal, a_line_keeps_its_raw_bytes)
{
	static const char raw[] = "a\033[31mred\033[0m\007\0nul\377\r\n";
	struct jring r;
	const struct probe_journal_line *ln;

	jring_init(&r, 2);
	jring_push(&r, 1, 3, raw, sizeof raw - 1);
	ln = jring_get(&r, 0);
	cr_assert_eq(ln->len, sizeof raw - 1);
	cr_expect(memcmp(ln->text, raw, sizeof raw - 1) == 0,
	    "ESC, BEL, NUL, CR, LF and a byte that is not UTF-8 come back "
	    "as they were");
	cr_expect_eq(ln->text[ln->len], '\0');
	jring_free(&r);
}

Test(journal, a_long_line_is_cut_and_says_so)
{
	static char big[5000];
	struct jring r;
	const struct probe_journal_line *ln;

	memset(big, 'x', sizeof big);
	jring_init(&r, 2);
	jring_push(&r, 1, 6, big, PROBE_JOURNAL_LINE_MAX);
	jring_push(&r, 2, 6, big, sizeof big);
	ln = jring_get(&r, 0);
	cr_expect_eq(ln->len, (size_t)PROBE_JOURNAL_LINE_MAX);
	cr_expect_not(ln->cut, "exactly LINE_MAX bytes are not cut");
	ln = jring_get(&r, 1);
	cr_expect_eq(ln->len, (size_t)PROBE_JOURNAL_LINE_MAX);
	cr_expect(ln->cut);
	/* A short line in a slot that held a long one. */
	jring_push(&r, 3, 6, "", 0);
	ln = jring_get(&r, 1);
	cr_expect_eq(ln->len, 0);
	cr_expect_str_eq(ln->text, "");
	cr_expect_not(ln->cut);
	jring_free(&r);
}

/* Where units of managers journald cannot name live. */

static void
learn(struct jplaces *pl, const char *cg)
{
	jplaces_learn(pl, cg, strlen(cg));
}

/* Learns from each of paths (NULL-terminated), then expects unit's
 * matches, joined by spaces. */
static void
expect_matches(const char *const *paths, const char *unit, const char *want)
{
	struct jplaces pl = { .n = 0 };
	char *m[JPLACES_MAX], buf[2048] = "";
	size_t n, off = 0;

	for (; *paths != NULL; paths++)
		learn(&pl, *paths);
	n = jplaces_matches(&pl, unit, m, JPLACES_MAX);
	for (size_t i = 0; i < n; i++) {
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s",
		    i ? " " : "", m[i]);
		free(m[i]);
	}
	cr_expect_str_eq(buf, want);
	jplaces_free(&pl);
	cr_expect_eq(pl.n, 0);
}

Test(journal, a_sandboxed_manager_teaches_where_its_units_live)
{
	/* What the sandbox's journald records (tests/sandbox/sandbox.sh). */
	static const char *const paths[] = {
	    "/lookout-test-1-2.slice/manager/init.scope",
	    "/lookout-test-1-2.slice/manager/app.slice/crasher.service",
	    "/lookout-test-1-2.slice/payload", NULL };

	expect_matches(paths, "ticker.service",
	    "_SYSTEMD_CGROUP=/lookout-test-1-2.slice/manager/ticker.service "
	    "_SYSTEMD_CGROUP=/lookout-test-1-2.slice/manager/app.slice/"
	    "ticker.service");
}

Test(journal, paths_journald_names_teach_nothing)
{
	struct jplaces pl = { .n = 0 };

	learn(&pl, "/user.slice/user-1000.slice/user@1000.service/app.slice/"
	    "crasher.service");
	learn(&pl, "/system.slice/message-bus.service");
	learn(&pl, "/init.scope");
	learn(&pl, "/");
	learn(&pl, "");
	learn(&pl, "/a.slice/b.slice");
	learn(&pl, "/lookout-test-1-2.slice/payload");
	cr_expect_eq(pl.n, 0, "%zu places, first %s", pl.n,
	    pl.n ? pl.dir[0] : "");
	jplaces_free(&pl);
}

Test(journal, nested_slices_and_escaped_names)
{
	static const char *const paths[] = {
	    "/ci/manager/app.slice/app-web.slice/_cpu.service", NULL };

	expect_matches(paths, "cpu.service",
	    "_SYSTEMD_CGROUP=/ci/manager/app.slice/app-web.slice/_cpu.service "
	    "_SYSTEMD_CGROUP=/ci/manager/_cpu.service "
	    "_SYSTEMD_CGROUP=/ci/manager/app.slice/_cpu.service");
}

/* Why a journal is empty. */

static char base[64];

static void
mkbase(void)
{
	snprintf(base, sizeof base, "/tmp/lookout-journal.XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	chmod(base, 0755);
}

static void
rmbase(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	(void)system(cmd);
}

/* A journal directory as journald makes one: base/TOP/MACHINE-ID/
 * system.journal, the last two of the modes given; their paths in the
 * struct. */
struct jtree {
	char top[128], dir[192], file[256];
};

static void
jtree(struct jtree *t, const char *top, mode_t dir_mode, mode_t file_mode)
{
	int fd;

	snprintf(t->top, sizeof t->top, "%s/%s", base, top);
	snprintf(t->dir, sizeof t->dir, "%s/0123abcd", t->top);
	snprintf(t->file, sizeof t->file, "%s/system.journal", t->dir);
	cr_assert_eq(mkdir(t->top, 0755), 0);
	cr_assert_eq(mkdir(t->dir, 0755), 0);
	fd = open(t->file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "%s", t->file);
	close(fd);
	cr_assert_eq(chmod(t->file, file_mode), 0);
	cr_assert_eq(chmod(t->dir, dir_mode), 0);
}

Test(journal, no_journal_files_is_said, .init = mkbase, .fini = rmbase)
{
	char a[128], b[128], out[512], want[512];
	const char *dirs[] = { a, b, NULL };

	snprintf(a, sizeof a, "%s/run", base);
	snprintf(b, sizeof b, "%s/var", base);
	mkdir(a, 0755);
	journal_why_empty(dirs, "crasher.service", out, sizeof out);
	snprintf(want, sizeof want, "journal of crasher.service: no journal "
	    "files in %s or %s (is systemd-journald running?)", a, b);
	cr_expect_str_eq(out, want);
}

Test(journal, readable_files_without_the_unit_mean_no_entries,
    .init = mkbase, .fini = rmbase)
{
	struct jtree t;
	char out[512];
	const char *dirs[] = { t.top, NULL };

	jtree(&t, "run", 0755, 0640);
	journal_why_empty(dirs, "crasher.service", out, sizeof out);
	cr_expect_str_eq(out, "journal of crasher.service: no entries");
}

/* journal_why_empty() as nobody (root reads everything), in a child;
 * returns the sentence. */
static void
why_empty_as_nobody(const char *dir, char *out, size_t len)
{
	const char *dirs[] = { dir, NULL };
	int p[2];
	pid_t pid;
	ssize_t n;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(1);
		journal_why_empty(dirs, "crasher.service", out, len);
		(void)!write(p[1], out, strlen(out));
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, len - 1);
	close(p[0]);
	waitpid(pid, NULL, 0);
	cr_assert_gt(n, 0);
	out[n] = '\0';
}

static void
expect_may_not_read(const char *out, const char *what)
{
	char want[512];

	cr_expect(strncmp(out, "journal of crasher.service: ", 28) == 0, "%s",
	    out);
	snprintf(want, sizeof want, " may not read %s (the groups "
	    "systemd-journal and adm may)", what);
	cr_expect(strlen(out) > strlen(want) &&
	    strcmp(out + strlen(out) - strlen(want), want) == 0, "%s", out);
}

/* Builds the tree with those modes, and checks that nobody is told the
 * directory or the file they may not read. */
static void
may_not_read(const char *top, mode_t dir_mode, mode_t file_mode,
    bool dir_named)
{
	struct jtree t;
	char out[512] = "";

	jtree(&t, top, dir_mode, file_mode);
	why_empty_as_nobody(t.top, out, sizeof out);
	expect_may_not_read(out, dir_named ? t.dir : t.file);
}

/* A machine's directory we may not list (the sandbox's /run/log/journal). */
Test(journal, a_journal_directory_this_user_may_not_read_is_said,
    .init = mkbase, .fini = rmbase)
{
	may_not_read("run", 0700, 0640, true);
}

/* A directory we may list, a file we may not read (a host's
 * /var/log/journal/ID/system.journal, 0640 root:systemd-journal). */
Test(journal, a_journal_file_this_user_may_not_read_is_said,
    .init = mkbase, .fini = rmbase)
{
	may_not_read("var", 0755, 0600, false);
}

/* The API. */

static void
expect_input_error(const char *unit, const char *scope, size_t lines,
    const char *msg)
{
	struct loop *loop = loop_new();
	struct probe_journal *pj = (struct probe_journal *)1;
	struct lk_err err = { 0 };

	cr_expect_eq(probe_journal_follow(loop, unit, scope, lines, NULL, NULL,
	    &pj, &err), LK_EINPUT, "%s", unit ? unit : "(null)");
	cr_expect_null(pj);
	cr_expect_str_eq(err.msg, msg);
	loop_free(&loop);
}

Test(journal, bad_arguments_are_refused_with_a_sentence)
{
	expect_input_error("crasher", "user", 10,
	    "journal: \"crasher\" is not a unit name");
	expect_input_error("", "user", 10, "journal: \"\" is not a unit name");
	expect_input_error(NULL, "user", 10, "journal: \"\" is not a unit name");
	expect_input_error("a b.service", "user", 10,
	    "journal: \"a b.service\" is not a unit name");
	expect_input_error("x.service", "session", 10,
	    "journal of x.service: scope \"session\" is neither user nor "
	    "system");
	expect_input_error("x.service", "user", 0,
	    "journal of x.service: 0 lines is not between 1 and 100000");
	expect_input_error("x.service", "user", PROBE_JOURNAL_LINES_MAX + 1,
	    "journal of x.service: 100001 lines is not between 1 and 100000");
}

Test(journal, opened_and_freed_without_running)
{
	struct loop *loop = loop_new();
	struct probe_journal *pj = NULL;
	struct lk_err err = { 0 };

	cr_assert_eq(probe_journal_follow(loop, "x.service", "system", 10,
	    NULL, NULL, &pj, &err), LK_OK, "%s", err.msg);
	cr_expect_eq(probe_journal_count(pj), 0);
	cr_expect_not(probe_journal_caught_up(pj), "nothing is read before "
	    "the loop runs");
	cr_expect_null(probe_journal_status(pj));
	probe_journal_free(&pj);
	cr_expect_null(pj);
	loop_free(&loop);
}

struct once {
	struct probe_journal *pj;
	int calls;
	bool caught_up;
	size_t count;
	char status[LK_ERR_MAX];
};

static void
on_once(struct probe_journal *pj, size_t added, void *data)
{
	struct once *o = data;
	const char *st = probe_journal_status(pj);

	(void)added;
	o->calls++;
	o->caught_up = probe_journal_caught_up(pj);
	o->count = probe_journal_count(pj);
	snprintf(o->status, sizeof o->status, "%s", st ? st : "");
	/* As `watch` does: take the evidence, then free from the callback. */
	probe_journal_free(&o->pj);
}

/*
 * Whatever journal this machine has (none, one we may not read, or a
 * host's), a unit that never ran has no line: the one-shot read ends with
 * one callback and a sentence, not an error.
 */
Test(journal, a_unit_that_never_logged_gets_a_sentence_not_an_error)
{
	struct loop *loop = loop_new();
	struct once o = { 0 };
	struct lk_err err = { 0 };
	char unit[64], prefix[96];
	long long until = loop_now_ms() + 15000;

	snprintf(unit, sizeof unit, "lookout-never-%ld.service",
	    (long)getpid());
	cr_assert_eq(probe_journal_last(loop, unit, "user", 5, on_once, &o,
	    &o.pj, &err), LK_OK, "%s", err.msg);
	while (o.calls == 0 && loop_now_ms() < until)
		loop_run_once(loop, 100);
	cr_assert_eq(o.calls, 1);
	cr_expect_null(o.pj, "freed from its callback");
	cr_expect(o.caught_up);
	cr_expect_eq(o.count, 0);
	snprintf(prefix, sizeof prefix, "journal of %s: ", unit);
	cr_expect(strncmp(o.status, prefix, strlen(prefix)) == 0, "%s",
	    o.status);
	/* Nothing runs after the free. */
	loop_run_once(loop, 50);
	cr_expect_eq(o.calls, 1);
	loop_free(&loop);
}
