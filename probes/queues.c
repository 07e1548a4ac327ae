/*
 * Queue sources: Redis (hiredis async, every queue on a server read in one
 * pipelined round), RabbitMQ (its management HTTP API) and a command that
 * prints a number.  Each read ends in a queue_sample for the queue model.
 */
#include "private.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../config/config.h"
#include "../core/loop.h"
#include "../core/ssh.h"
#include "../core/util.h"
#include "../core/curldl.h"
#include "../core/http.h"
#include "queue_model.h"
#include "../store/store.h"
#include "rabbit.h"

/* How long one Redis round may take before its queues count as stale. */
#define REDIS_TIMEOUT_MS 1000
#define RABBIT_TIMEOUT_MS 2000
#define COMMAND_MAX_OUTPUT 4096

struct redis_conn;
struct qset;

struct pqueue {
	struct qset *set;
	const struct config_queue *cfg;
	struct probes *owner;
	struct queue_model model;
	struct queue_limits lim;
	struct probe_queue st;
	bool busy;
	bool read_once;
	struct redis_conn *conn;	/* redis: shared per server */
	pid_t pid;			/* command: the running child */
	int out_fd;
	struct lk_buf out;
	long long kill_timer;
	int64_t started_ms;
};

/*
 * One connection per Redis server (URL without the key).  A round sends
 * one EVAL per queue; a deadline timer turns a server that stops answering
 * (SIGSTOP, a full network buffer) into "stale" instead of a hang.
 */
struct redis_conn {
	struct qset *set;
	struct loop *loop;
	char *url;
	redisAsyncContext *ac;
	int fd;
	int mask;
	int outstanding;
	long long deadline;
	struct redis_conn *next;
};

/* The queues of one probes instance and the Redis servers they share. */
struct qset {
	struct probes *owner;
	struct loop *loop;
	struct redis_conn *conns;
	bool freeing;		/* callbacks during teardown report nothing */
	const char *ssh_config;	/* for command queues on other hosts */
	int64_t ssh_timeout_ms;
	size_t n;
	struct pqueue q[];
};

/*
 * The depth of a queue whatever its key's type, a fingerprint of its oldest
 * message, and whether the paused flag exists.  KEYS: the configured key
 * (or ""), the paused key (or ""), then the usual layouts tried when no key
 * is configured: queues:NAME, queue:NAME.  Returns the key it read too.
 */
static const char depth_script[] =
"local k = KEYS[1]\n"
"if k == '' then\n"
"  k = KEYS[3]\n"
"  if redis.call('EXISTS', k) == 0 and redis.call('EXISTS', KEYS[4]) == 1 then k = KEYS[4] end\n"
"end\n"
"local t = redis.call('TYPE', k).ok\n"
"local d, h = 0, ''\n"
"if t == 'list' then\n"
"  d = redis.call('LLEN', k); h = redis.call('LINDEX', k, 0) or ''\n"
"elseif t == 'zset' then\n"
"  d = redis.call('ZCARD', k); h = redis.call('ZRANGE', k, 0, 0)[1] or ''\n"
"elseif t == 'stream' then\n"
"  d = redis.call('XLEN', k)\n"
"  local r = redis.call('XRANGE', k, '-', '+', 'COUNT', 1)\n"
"  if r[1] then h = r[1][1] end\n"
"elseif t ~= 'none' then\n"
"  return redis.error_reply('key ' .. k .. ' holds a ' .. t .. ', not a list, sorted set or stream')\n"
"end\n"
"local p = 0\n"
"if KEYS[2] ~= '' then p = redis.call('EXISTS', KEYS[2]) end\n"
"return {t, d, redis.sha1hex(h), p, k}\n";

static void
sample_done(struct pqueue *q, struct queue_sample *s)
{
	s->ts_ms = lk_now_ms();
	queue_model_add(&q->model, s);
	q->busy = false;
	q->read_once = true;
	probes_changed(q->owner);
}

static void
sample_fail(struct pqueue *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
sample_fail(struct pqueue *q, const char *fmt, ...)
{
	struct queue_sample s;
	va_list ap;

	queue_sample_init(&s, 0, false);
	va_start(ap, fmt);
	vsnprintf(s.error, sizeof s.error, fmt, ap);
	va_end(ap);
	sample_done(q, &s);
}

/* --- Redis --------------------------------------------------------------- */

static void redis_drop(struct redis_conn *c);

static void
redis_io(struct loop *l, int fd, int mask, void *data)
{
	struct redis_conn *c = data;

	(void)l;
	(void)fd;
	if (c->ac != NULL && (mask & LOOP_READABLE))
		redisAsyncHandleRead(c->ac);
	if (c->ac != NULL && (mask & LOOP_WRITABLE))
		redisAsyncHandleWrite(c->ac);
}

/* hiredis's event hooks: it asks, the loop watches. */
static void
ev_add(struct redis_conn *c, int bit)
{
	if (c->ac == NULL || (c->mask & bit))
		return;
	c->mask |= bit;
	loop_add_fd(c->loop, c->fd, bit, redis_io, c);
}

static void
ev_del(struct redis_conn *c, int bit)
{
	if (c->ac == NULL || !(c->mask & bit))
		return;
	c->mask &= ~bit;
	loop_del_fd(c->loop, c->fd, bit);
}

static void ev_add_read(void *d) { ev_add(d, LOOP_READABLE); }
static void ev_del_read(void *d) { ev_del(d, LOOP_READABLE); }
static void ev_add_write(void *d) { ev_add(d, LOOP_WRITABLE); }
static void ev_del_write(void *d) { ev_del(d, LOOP_WRITABLE); }

static void
ev_cleanup(void *d)
{
	struct redis_conn *c = d;

	if (c->mask)
		loop_del_fd(c->loop, c->fd, c->mask);
	c->mask = 0;
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis_conn *c = ac->ev.data;

	(void)status;
	/* hiredis frees the context itself after this callback. */
	if (c != NULL && c->ac == ac) {
		ev_cleanup(c);
		c->ac = NULL;
	}
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	(void)ac;
	(void)status;
	/* A failed connect shows up as error replies to the queued EVALs. */
}

struct redis_url {
	char host[256];
	int port;
	char socket[256];
	int db;
};

static int
parse_redis_url(const char *url, struct redis_url *u)
{
	const char *p;

	memset(u, 0, sizeof *u);
	u->port = 6379;
	if (strncmp(url, "unix://", 7) == 0) {
		const char *q = strchr(url + 7, '?');
		size_t len = q ? (size_t)(q - url - 7) : strlen(url + 7);

		if (len == 0 || len >= sizeof u->socket)
			return -1;
		memcpy(u->socket, url + 7, len);
		if (q != NULL && strncmp(q, "?db=", 4) == 0)
			u->db = atoi(q + 4);
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return -1;
	p = url + 8;
	if (strchr(p, '@') != NULL)
		p = strchr(p, '@') + 1;
	size_t hl = strcspn(p, ":/");

	if (hl == 0 || hl >= sizeof u->host)
		return -1;
	memcpy(u->host, p, hl);
	p += hl;
	if (*p == ':') {
		u->port = atoi(p + 1);
		p += 1 + strspn(p + 1, "0123456789");
	}
	if (*p == '/' && p[1] != '\0')
		u->db = atoi(p + 1);
	return 0;
}

static struct redis_conn *
redis_conn_get(struct qset *set, const char *url)
{
	struct redis_conn *c;

	for (c = set->conns; c != NULL; c = c->next)
		if (strcmp(c->url, url) == 0)
			return c;
	c = lk_xcalloc(1, sizeof *c);
	c->set = set;
	c->loop = set->loop;
	c->url = lk_xstrdup(url);
	c->fd = -1;
	c->next = set->conns;
	set->conns = c;
	return c;
}

static int
redis_connect(struct redis_conn *c, char *err, size_t len)
{
	struct redis_url u;
	redisAsyncContext *ac;

	if (parse_redis_url(c->url, &u) != 0) {
		snprintf(err, len, "invalid Redis URL");
		return -1;
	}
	ac = u.socket[0] ? redisAsyncConnectUnix(u.socket) :
	    redisAsyncConnect(u.host, u.port);
	if (ac == NULL || ac->err) {
		snprintf(err, len, "cannot connect to Redis: %s",
		    ac ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		return -1;
	}
	c->ac = ac;
	c->fd = ac->c.fd;
	ac->ev.data = c;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (u.db != 0)
		redisAsyncCommand(ac, NULL, NULL, "SELECT %d", u.db);
	return 0;
}

static void
on_depth(redisAsyncContext *ac, void *r, void *data)
{
	struct pqueue *q = data;
	struct redis_conn *c = q->conn;
	redisReply *reply = r;
	struct queue_sample s;

	queue_sample_init(&s, 0, true);
	c->outstanding--;
	if (c->outstanding == 0 && c->deadline) {
		loop_del_timer(c->loop, c->deadline);
		c->deadline = 0;
	}
	if (!q->busy || c->set->freeing)
		return;		/* already reported by the deadline */
	if (reply == NULL) {
		sample_fail(q, "%s", ac->errstr[0] ? ac->errstr :
		    "connection to Redis lost");
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		sample_fail(q, "Redis: %s", reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 5 ||
	    reply->element[1]->type != REDIS_REPLY_INTEGER) {
		sample_fail(q, "Redis: unexpected reply");
		return;
	}
	s.depth = reply->element[1]->integer;
	if (reply->element[2]->type == REDIS_REPLY_STRING && s.depth > 0)
		s.head = strtoull(reply->element[2]->str + 24, NULL, 16) | 1;
	s.paused = reply->element[3]->type == REDIS_REPLY_INTEGER &&
	    reply->element[3]->integer > 0;
	sample_done(q, &s);
}

/* Frees the connection; pending callbacks run with a NULL reply, and
 * their queues were already reported, so they only count down. */
static void
redis_drop(struct redis_conn *c)
{
	redisAsyncContext *ac = c->ac;

	if (ac == NULL)
		return;
	redisAsyncFree(ac);
	ev_cleanup(c);
	c->ac = NULL;
	c->outstanding = 0;
}

static long long
redis_deadline(struct loop *l, long long id, void *data)
{
	struct redis_conn *c = data;

	(void)l;
	(void)id;
	c->deadline = 0;
	for (size_t i = 0; i < c->set->n; i++) {
		struct pqueue *q = &c->set->q[i];

		if (q->conn == c && q->busy)
			sample_fail(q, "Redis did not answer within %d ms",
			    REDIS_TIMEOUT_MS);
	}
	/* A server that stopped answering gets a fresh connection next
	 * cycle rather than a longer and longer backlog. */
	redis_drop(c);
	return LOOP_NOMORE;
}

static void
redis_read(struct pqueue *q)
{
	struct redis_conn *c = q->conn;
	const char *paused = q->cfg->redis.paused_key;
	char err[256];

	q->busy = true;
	if (c->ac == NULL && redis_connect(c, err, sizeof err) != 0) {
		sample_fail(q, "%s", err);
		return;
	}
	if (redisAsyncCommand(c->ac, on_depth, q, "EVAL %s 4 %s %s queues:%s "
	    "queue:%s", depth_script, q->cfg->redis.key ? q->cfg->redis.key :
	    "", paused ? paused : "", q->cfg->name, q->cfg->name) !=
	    REDIS_OK) {
		sample_fail(q, "Redis: %s", c->ac && c->ac->errstr[0] ?
		    c->ac->errstr : "cannot send");
		return;
	}
	c->outstanding++;
	if (!c->deadline)
		c->deadline = loop_add_timer(c->loop, REDIS_TIMEOUT_MS,
		    redis_deadline, c);
}

/* --- RabbitMQ ------------------------------------------------------------ */

static void
on_rabbit(const struct http_reply *r, void *data)
{
	struct pqueue *q = data;
	struct queue_sample s;
	char why[128];

	if (q->set->freeing)
		return;
	queue_sample_init(&s, 0, true);
	if (r->error != NULL) {
		sample_fail(q, "RabbitMQ API: %s", r->error);
		return;
	}
	if (r->status == 401) {
		sample_fail(q, "RabbitMQ refused the credentials of user %s",
		    q->cfg->rabbitmq.user);
		return;
	}
	if (r->status == 404) {
		sample_fail(q, "RabbitMQ has no queue %s in vhost %s",
		    q->cfg->rabbitmq.name, q->cfg->rabbitmq.vhost);
		return;
	}
	if (r->status != 200) {
		sample_fail(q, "RabbitMQ API answered HTTP %ld", r->status);
		return;
	}
	if (rabbit_parse_queue(r->body, r->len, &s, why, sizeof why) != 0) {
		sample_fail(q, "RabbitMQ API: %s", why);
		return;
	}
	sample_done(q, &s);
}

static void
rabbit_read(struct pqueue *q)
{
	const char *api = q->cfg->rabbitmq.api;
	size_t alen = strlen(api);
	struct http_request req = { .timeout_ms = RABBIT_TIMEOUT_MS,
	    .connect_timeout_ms = -1, .max_body = 1 << 20,
	    .user = q->cfg->rabbitmq.user };
	const struct curldl *curl;
	struct lk_err err = { 0 };
	char *vhost, *name, *url;

	q->busy = true;
	/* Loaded already, with the HTTP pool this request goes through. */
	if (curldl_load(&curl, &err) != LK_OK) {
		sample_fail(q, "%s", err.msg);
		return;
	}
	/* "/" is the default vhost and must travel as %2F. */
	vhost = curl->easy_escape(NULL, q->cfg->rabbitmq.vhost, 0);
	name = curl->easy_escape(NULL, q->cfg->rabbitmq.name, 0);
	if (vhost == NULL || name == NULL) {
		curl->free(vhost);
		curl->free(name);
		sample_fail(q, "out of memory");
		return;
	}
	url = lk_xasprintf("%.*s/api/queues/%s/%s",
	    (int)(alen && api[alen - 1] == '/' ? alen - 1 : alen), api, vhost,
	    name);
	req.url = url;
	if (q->cfg->rabbitmq.password_env != NULL)
		req.password = getenv(q->cfg->rabbitmq.password_env);
	http_start(probes_http(q->owner), &req, on_rabbit, q);
	free(url);
	curl->free(vhost);
	curl->free(name);
}

/* --- command ------------------------------------------------------------- */

/* On another host, ssh's time to connect (ssh_timeout) comes first. */
static int64_t
command_timeout_ms(const struct pqueue *q)
{
	return q->cfg->command.timeout_ms + (q->cfg->host != NULL ?
	    q->set->ssh_timeout_ms : 0);
}

static void
command_output(struct loop *l, int fd, int mask, void *data)
{
	struct pqueue *q = data;
	char buf[512];
	ssize_t n = read(fd, buf, sizeof buf);

	(void)mask;
	if (n > 0) {
		if (q->out.len + (size_t)n <= COMMAND_MAX_OUTPUT)
			lk_buf_add(&q->out, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	loop_del_fd(l, fd, LOOP_READABLE);
	close(fd);
	q->out_fd = -1;
}

static void
command_exit(struct loop *l, pid_t pid, int wstatus, void *data)
{
	struct pqueue *q = data;
	struct queue_sample s;
	char *end;
	long long v;

	(void)pid;
	queue_sample_init(&s, 0, true);
	q->pid = 0;
	if (q->kill_timer) {
		loop_del_timer(l, q->kill_timer);
		q->kill_timer = 0;
	}
	if (q->out_fd >= 0) {
		/* Drain what is left; the child is gone, so this cannot block
		 * for long, and the fd is non-blocking anyway. */
		char buf[512];
		ssize_t n;

		while ((n = read(q->out_fd, buf, sizeof buf)) > 0)
			if (q->out.len + (size_t)n <= COMMAND_MAX_OUTPUT)
				lk_buf_add(&q->out, buf, (size_t)n);
		loop_del_fd(l, q->out_fd, LOOP_READABLE);
		close(q->out_fd);
		q->out_fd = -1;
	}
	if (q->set->freeing)
		return;
	if (WIFSIGNALED(wstatus)) {
		sample_fail(q, WTERMSIG(wstatus) == SIGKILL && q->started_ms &&
		    lk_now_ms() - q->started_ms >= command_timeout_ms(q) ?
		    "command timed out after %lld ms" :
		    "command killed by a signal (%lld ms)",
		    (long long)command_timeout_ms(q));
		return;
	}
	/* 255 is ssh's own failure: the host, not the command. */
	if (q->cfg->host != NULL && WIFEXITED(wstatus) &&
	    WEXITSTATUS(wstatus) == 255) {
		sample_fail(q, "%s: ssh failed (status 255): unreachable, or "
		    "the key refused", q->cfg->host);
		return;
	}
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		sample_fail(q, "command exited with status %d",
		    WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
		return;
	}
	v = strtoll(q->out.s ? q->out.s : "", &end, 10);
	while (end && (*end == '\n' || *end == ' ' || *end == '\r'))
		end++;
	if (q->out.s == NULL || end == q->out.s || *end != '\0' || v < 0) {
		sample_fail(q, "command printed no number");
		return;
	}
	s.depth = v;
	sample_done(q, &s);
}

static long long
command_timeout(struct loop *l, long long id, void *data)
{
	struct pqueue *q = data;

	(void)l;
	(void)id;
	q->kill_timer = 0;
	if (q->pid > 0)
		kill(-q->pid, SIGKILL);
	return LOOP_NOMORE;
}

/*
 * The argv that runs a command queue's command: itself, or on another
 * host ssh with the command as shell text, every word quoted
 * (core/ssh.h).  NULL, with err set, for a command ssh cannot carry.
 */
static char **
command_argv(const struct pqueue *q, struct lk_err *err)
{
	struct lk_buf cmd = { 0 }, in = { 0 };
	char **argv = NULL;

	if (q->cfg->host == NULL)
		return q->cfg->command.argv;
	if (lk_ssh_remote_command(&cmd, &in,
	    (const char *const *)q->cfg->command.argv, NULL, NULL, NULL, 0,
	    err) == LK_OK)
		argv = lk_ssh_argv(q->set->ssh_config, q->cfg->host, cmd.s);
	lk_buf_free(&cmd);
	lk_buf_free(&in);
	return argv;
}

static void
command_read(struct pqueue *q)
{
	struct lk_err err = { 0 };
	char **argv;
	int fds[2];
	pid_t pid;

	q->busy = true;
	lk_buf_reset(&q->out);
	if ((argv = command_argv(q, &err)) == NULL) {
		sample_fail(q, "cannot run command: %s", err.msg);
		return;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
		sample_fail(q, "cannot run command: %s", strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		sample_fail(q, "cannot run command: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		/*
		 * Its own process group, so a timeout kills all of it; for
		 * ssh its own session too, with no terminal to ask for a
		 * password or a host key on: it fails instead.
		 */
		if (q->cfg->host != NULL) {
			setsid();
			for (size_t i = 0; lk_ssh_env[i] != NULL; i++)
				putenv((char *)lk_ssh_env[i]);
		} else {
			setpgid(0, 0);
		}
		dup2(devnull, 0);
		dup2(fds[1], 1);
		dup2(devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (q->cfg->host == NULL)
		setpgid(pid, pid);
	close(fds[1]);
	q->pid = pid;
	q->out_fd = fds[0];
	q->started_ms = lk_now_ms();
	loop_add_fd(probes_loop(q->owner), fds[0], LOOP_READABLE,
	    command_output, q);
	loop_add_child(probes_loop(q->owner), pid, command_exit, q);
	q->kill_timer = loop_add_timer(probes_loop(q->owner),
	    command_timeout_ms(q), command_timeout, q);
done:
	if (argv != q->cfg->command.argv)
		lk_ssh_argv_free(argv);
}

/* --- the set ------------------------------------------------------------- */

/* How much history a queue's model is primed with from the timeline. */
#define PRIME_WINDOW_MS (5 * 60 * 1000)

static void
prime_one(const struct store_sample *v, void *arg)
{
	struct pqueue *q = arg;
	struct queue_sample s;

	/* A stored sample keeps the depth and the state, not the details. */
	queue_sample_init(&s, v->ts_ms, v->value >= 0 &&
	    strcmp(v->state, "unknown") != 0);
	s.depth = s.ok ? (int64_t)v->value : -1;
	s.paused = strcmp(v->state, "paused") == 0;
	if (!s.ok)
		snprintf(s.error, sizeof s.error, "no answer at an earlier "
		    "reading");
	queue_model_add(&q->model, &s);
}

/*
 * A one-shot command (status, a headless run) starts with the history the
 * timeline kept, so "none consumed for 5 minutes" does not need a process
 * that has watched for five minutes.  The samples are the queue's changes
 * (probes_record_now), so the window starts with the one in effect when it
 * opens: a depth that has not moved for an hour was written an hour ago,
 * and pulses since, and none of that means a message was consumed.
 */
static void
prime_from_store(struct pqueue *q, struct store *store)
{
	int64_t window = q->lim.stall_after_ms > PRIME_WINDOW_MS ?
	    q->lim.stall_after_ms : PRIME_WINDOW_MS;
	struct lk_err err = { 0 };

	store_samples_series(store, "queue", q->cfg->name, lk_now_ms() -
	    window - q->lim.interval_ms, PROBES_SAMPLE_REPEAT_MS +
	    q->lim.interval_ms, prime_one, q, &err);
}

struct pqueue *
probe_queues_new(struct probes *p, const struct config *cfg, size_t *n)
{
	size_t count = config_nqueues(cfg);
	struct qset *set;

	*n = 0;
	if (count == 0)
		return NULL;
	set = lk_xcalloc(1, sizeof *set + count * sizeof set->q[0]);

	set->owner = p;
	set->loop = probes_loop(p);
	set->ssh_config = config_ssh_config(cfg);
	set->ssh_timeout_ms = config_ssh_timeout_ms(cfg);
	set->n = count;
	for (size_t i = 0; i < count; i++) {
		struct pqueue *q = &set->q[i];
		const struct config_queue *c = config_queue(cfg, i);

		q->set = set;
		q->owner = p;
		q->cfg = c;
		q->out_fd = -1;
		q->st.name = c->name;
		q->st.host = c->host;
		q->st.source = c->source == CONFIG_QUEUE_REDIS ? "redis" :
		    c->source == CONFIG_QUEUE_RABBITMQ ? "rabbitmq" : "command";
		q->lim.warn = c->warn;
		q->lim.crit = c->crit;
		q->lim.stall_after_ms = c->stall_after_ms;
		q->lim.interval_ms = config_interval_ms(cfg);
		queue_model_init(&q->model);
		if (probes_store(p) != NULL)
			prime_from_store(q, probes_store(p));
		queue_model_derive(&q->model, &q->lim, lk_now_ms(), &q->st);
		if (c->source == CONFIG_QUEUE_REDIS)
			q->conn = redis_conn_get(set, c->redis.url);
	}
	*n = count;
	return set->q;
}

void
probe_queues_free(struct pqueue *qs, size_t n)
{
	struct qset *set;
	struct redis_conn *c, *next;

	if (qs == NULL)
		return;
	set = qs->set;
	set->freeing = true;
	for (c = set->conns; c != NULL; c = next) {
		next = c->next;
		if (c->deadline)
			loop_del_timer(c->loop, c->deadline);
		redis_drop(c);
		free(c->url);
		free(c);
	}
	for (size_t i = 0; i < n; i++) {
		struct pqueue *q = &qs[i];

		/* Forgotten by the loop first: the loop may go on after us
		 * (a watcher reloading its configuration), and its callback
		 * would find q freed. */
		if (q->pid > 0) {
			loop_del_child(set->loop, q->pid);
			kill(-q->pid, SIGKILL);
			waitpid(q->pid, NULL, 0);
		}
		if (q->out_fd >= 0) {
			loop_del_fd(set->loop, q->out_fd, LOOP_READABLE);
			close(q->out_fd);
		}
		if (q->kill_timer)
			loop_del_timer(set->loop, q->kill_timer);
		lk_buf_free(&q->out);
	}
	free(set);
}

void
probe_queues_read(struct pqueue *qs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pqueue *q = &qs[i];

		if (q->busy)
			continue;
		switch (q->cfg->source) {
		case CONFIG_QUEUE_REDIS:
			redis_read(q);
			break;
		case CONFIG_QUEUE_RABBITMQ:
			rabbit_read(q);
			break;
		case CONFIG_QUEUE_COMMAND:
			command_read(q);
			break;
		}
	}
}

void
probe_queues_derive(struct pqueue *qs, size_t n)
{
	int64_t now = lk_now_ms();

	for (size_t i = 0; i < n; i++)
		queue_model_derive(&qs[i].model, &qs[i].lim, now, &qs[i].st);
}

bool
probe_queues_settled(const struct pqueue *qs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!qs[i].read_once)
			return false;
	return true;
}

int64_t
probe_queues_max_wait(const struct pqueue *qs, size_t n, int64_t floor)
{
	int64_t max = floor;

	for (size_t i = 0; i < n; i++) {
		int64_t t = qs[i].cfg->source == CONFIG_QUEUE_REDIS ?
		    REDIS_TIMEOUT_MS : qs[i].cfg->source ==
		    CONFIG_QUEUE_RABBITMQ ? RABBIT_TIMEOUT_MS :
		    command_timeout_ms(&qs[i]);

		if (t > max)
			max = t;
	}
	return max;
}

size_t
probe_queue_history(const struct pqueue *q, size_t n, size_t i,
    int64_t *depths, size_t max)
{
	return i < n ? queue_model_history(&q[i].model, depths, max) : 0;
}

const struct probe_queue *
probe_queue_state(const struct pqueue *qs, size_t n, size_t i)
{
	return i < n ? &qs[i].st : NULL;
}
