/* store/feed.c: the change feed, with a second handle and a second
 * process appending to the same file. */
#include "fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"

TestSuite(feed, .init = fx_setup, .fini = fx_teardown, .timeout = 30);

/* What a subscriber saw: "seq:kind" words. */
struct seen {
	char log[4096];
	int n;
	int64_t last;
	bool ordered;
	struct store *append_to;	/* append once from the callback */
	int unsub_id;			/* unsubscribe itself on the first call */
	struct store *owner;
};

static int
record(const struct store_event *ev, void *arg)
{
	struct seen *w = arg;
	size_t len = strlen(w->log);

	snprintf(w->log + len, sizeof w->log - len, "%s%lld:%s", len ? " " :
	    "", (long long)ev->seq, ev->kind);
	if (w->n > 0 && ev->seq <= w->last)
		w->ordered = false;
	w->last = ev->seq;
	w->n++;
	if (w->append_to != NULL) {
		struct store_new_event nev = { .kind = "from.callback" };
		struct lk_err err = { 0 };
		struct store *s = w->append_to;

		w->append_to = NULL;
		cr_assert_eq(store_append(s, &nev, NULL, &err), LK_OK, "%s",
		    err.msg);
	}
	if (w->unsub_id != 0) {
		store_unsubscribe(w->owner, w->unsub_id);
		w->unsub_id = 0;
	}
	return 0;
}

static struct store *
second_handle(void)
{
	static const struct store_actor bob = { "bob", NULL, NULL };
	struct store *s = NULL;
	struct lk_err err = { 0 };

	cr_assert_eq(store_open(fx_path, &bob, &s, &err), LK_OK, "%s", err.msg);
	return s;
}

static void
append_on(struct store *s, const char *kind)
{
	struct store_new_event ev = { .kind = kind };
	struct lk_err err = { 0 };

	cr_assert_eq(store_append(s, &ev, NULL, &err), LK_OK, "%s", err.msg);
}

Test(feed, own_events_reach_an_own_subscriber_once_after_commit)
{
	struct seen w = { .ordered = true };
	struct store *b = second_handle();

	fx_append("before", NULL);
	store_subscribe(fx_store, STORE_OWN, record, &w);
	append_on(b, "theirs");
	fx_append("mine.1", NULL);
	fx_append("mine.2", NULL);
	cr_expect_str_eq(w.log, "3:mine.1 4:mine.2");
	store_close(&b);
}

Test(feed, another_handles_events_arrive_on_poll_in_order)
{
	struct seen w = { .ordered = true };
	struct store *b = second_handle();
	struct lk_err err = { 0 };

	fx_append("history", NULL);
	store_subscribe(fx_store, STORE_ALL, record, &w);
	cr_assert_eq(store_poll(fx_store, &err), LK_OK);
	cr_expect_eq(w.n, 0, "history is not replayed: %s", w.log);
	append_on(b, "bob.1");
	append_on(b, "bob.2");
	cr_assert_eq(store_poll(fx_store, &err), LK_OK, "%s", err.msg);
	cr_expect_str_eq(w.log, "2:bob.1 3:bob.2");
	/* Nothing new: nothing again. */
	cr_assert_eq(store_poll(fx_store, &err), LK_OK);
	cr_expect_eq(w.n, 2);
	store_close(&b);
}

Test(feed, an_own_commit_brings_earlier_foreign_events_first)
{
	struct seen w = { .ordered = true };
	struct store *b = second_handle();
	struct lk_err err = { 0 };

	store_subscribe(fx_store, STORE_ALL, record, &w);
	append_on(b, "bob");
	fx_append("alice", NULL);
	cr_assert_eq(store_poll(fx_store, &err), LK_OK);
	cr_expect_str_eq(w.log, "1:bob 2:alice");
	cr_expect(w.ordered);
	store_close(&b);
}

Test(feed, a_callback_that_appends_sees_each_event_once)
{
	struct seen w = { .ordered = true };
	struct store *b = second_handle();
	struct lk_err err = { 0 };

	w.append_to = fx_store;
	store_subscribe(fx_store, STORE_ALL, record, &w);
	append_on(b, "bob.1");
	append_on(b, "bob.2");
	cr_assert_eq(store_poll(fx_store, &err), LK_OK);
	/* bob.1's callback appended 3: it was handed out at its commit,
	 * after bob.2, which came before it in the file. */
	cr_expect_str_eq(w.log, "1:bob.1 2:bob.2 3:from.callback");
	cr_expect(w.ordered);
	store_close(&b);
}

Test(feed, unsubscribing_from_a_callback_stops_it_there)
{
	struct seen w = { .ordered = true }, other = { .ordered = true };
	struct store *b = second_handle();
	struct lk_err err = { 0 };

	w.owner = fx_store;
	w.unsub_id = store_subscribe(fx_store, STORE_ALL, record, &w);
	store_subscribe(fx_store, STORE_ALL, record, &other);
	append_on(b, "one");
	append_on(b, "two");
	cr_assert_eq(store_poll(fx_store, &err), LK_OK);
	cr_expect_str_eq(w.log, "1:one");
	cr_expect_str_eq(other.log, "1:one 2:two");
	store_close(&b);
}

static void
on_event_stop(struct loop *l)
{
	loop_stop(l);
}

struct stopper {
	struct seen seen;
	struct loop *loop;
};

static int
record_and_stop(const struct store_event *ev, void *arg)
{
	struct stopper *st = arg;

	record(ev, &st->seen);
	on_event_stop(st->loop);
	return 0;
}

static long long
give_up(struct loop *l, long long id, void *data)
{
	(void)id;
	*(bool *)data = true;
	loop_stop(l);
	return LOOP_NOMORE;
}

Test(feed, a_second_process_appending_is_seen_from_the_loop)
{
	struct stopper st = { .seen = { .ordered = true } };
	bool timed_out = false;
	pid_t pid;
	int status;

	st.loop = loop_new();
	store_subscribe(fx_store, STORE_ALL, record_and_stop, &st);
	store_watch(fx_store, st.loop, 50);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		static const struct store_actor carol = { "carol", NULL, NULL };
		struct store *c = NULL;
		struct lk_err err = { 0 };
		struct store_new_event ev = { .kind = "incident.note",
		    .message = "from another process" };

		if (store_open(fx_path, &carol, &c, &err) != LK_OK ||
		    store_append(c, &ev, NULL, &err) != LK_OK)
			_exit(1);
		store_close(&c);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	loop_add_timer(st.loop, 5000, give_up, &timed_out);
	loop_run(st.loop);
	cr_expect_not(timed_out, "the event never arrived");
	cr_expect_str_eq(st.seen.log, "1:incident.note");
	store_unwatch(fx_store);
	loop_free(&st.loop);
}
