/*
 * Other hosts: the systemd managers lookout reaches through ssh, one
 * connection per host and scope (probes/systemd.c, core/busio.h), and the
 * /proc sanity of their units, which no bus can tell: one ssh a cycle per
 * host runs a fixed, read-only script over the cgroups of its running
 * units, every cgroup passed as a quoted argument (core/ssh.h), and
 * reports each process's cwd and binary.  Nothing is installed there.
 */
#include "private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../core/child.h"
#include "../core/loop.h"
#include "../core/ssh.h"
#include "../core/util.h"
#include "procfs.h"
#include "systemd.h"

/*
 * For each cgroup given: each process in it, as five NUL-terminated
 * fields: the cgroup, the pid, its comm, where it runs and what it runs
 * (readlink keeps the kernel's " (deleted)").  The cgroup2 tree is looked
 * for where a hybrid host keeps it, then a pure one, then systemd's own
 * v1 tree, as probes/procfs.c does here.
 */
static const char procs_script[] =
    "for r in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/systemd; "
    "do [ -e \"$r/cgroup.procs\" ] && break; done; "
    "for cg in \"$@\"; do n=0; "
    "[ -r \"$r$cg/cgroup.procs\" ] || continue; "
    "while read -r p && [ $n -lt 256 ]; do n=$((n + 1)); "
    "printf '%s\\0%s\\0%s\\0%s\\0%s\\0' \"$cg\" \"$p\" "
    "\"$(cat /proc/$p/comm 2>/dev/null)\" "
    "\"$(readlink /proc/$p/cwd 2>/dev/null)\" "
    "\"$(readlink /proc/$p/exe 2>/dev/null)\"; "
    "done < \"$r$cg/cgroup.procs\"; done";

struct rproc {
	char cgroup[512];
	struct probe_proc proc;
};

struct phost {
	struct phosts *set;
	char *name;
	struct sysd *sd[2];	/* user, system; NULL until used */
	struct child *check;	/* the /proc check on its way */
	bool again;		/* another check is due when it is back */
	struct lk_buf asked;	/* the cgroups the last one was asked */
	struct rproc *procs;	/* what the last one found */
	size_t nprocs;
};

struct phosts {
	struct probes *owner;
	struct loop *loop;
	const char *ssh_config;
	int64_t timeout_ms;
	struct phost *v;
	size_t n;
};

enum lk_code
phosts_new(struct probes *p, const struct config *cfg, struct phosts **out,
    struct lk_err *err)
{
	struct phosts *h;
	size_t n = 0;

	*out = NULL;
	for (size_t i = 0; cfg != NULL && i < config_nservices(cfg); i++)
		n += config_service(cfg, i)->host != NULL;
	for (size_t i = 0; cfg != NULL && i < config_nqueues(cfg); i++)
		n += config_queue(cfg, i)->host != NULL;
	if (n == 0)
		return LK_OK;
	/* ssh reads it as the invoker, unchecked, and it can run anything. */
	if (config_ssh_config(cfg) != NULL &&
	    lk_ssh_config_check(config_ssh_config(cfg), err) != LK_OK)
		return err->code;
	h = lk_xcalloc(1, sizeof *h);
	h->owner = p;
	h->loop = probes_loop(p);
	h->ssh_config = config_ssh_config(cfg);
	h->timeout_ms = config_ssh_timeout_ms(cfg);
	/* One slot per service at most: the array never moves. */
	h->v = lk_xcalloc(n, sizeof *h->v);
	*out = h;
	return LK_OK;
}

void
phosts_free(struct phosts **hp)
{
	struct phosts *h = hp ? *hp : NULL;

	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++) {
		child_abandon(&h->v[i].check);
		sysd_free(&h->v[i].sd[0]);
		sysd_free(&h->v[i].sd[1]);
		free(h->v[i].procs);
		free(h->v[i].name);
		lk_buf_free(&h->v[i].asked);
	}
	free(h->v);
	free(h);
	*hp = NULL;
}

struct sysd *
phosts_manager(struct phosts *h, const char *host, bool user,
    void (*cb)(struct sysd *, void *), void *data, struct lk_err *err)
{
	struct phost *ph = NULL;
	struct sysd **slot;

	for (size_t i = 0; i < h->n && ph == NULL; i++)
		if (strcmp(h->v[i].name, host) == 0)
			ph = &h->v[i];
	if (ph == NULL) {
		ph = &h->v[h->n++];
		ph->set = h;
		ph->name = lk_xstrdup(host);
	}
	slot = &ph->sd[user ? 0 : 1];
	if (*slot == NULL && sysd_new_remote(h->loop, h->ssh_config, host,
	    user, cb, data, slot, err) != LK_OK)
		return NULL;
	sysd_set_answer_ms(*slot, h->timeout_ms);
	return *slot;
}

size_t
phosts_nmanagers(const struct phosts *h)
{
	return h != NULL ? 2 * h->n : 0;
}

struct sysd *
phosts_manager_at(const struct phosts *h, size_t i)
{
	return h != NULL && i / 2 < h->n ? h->v[i / 2].sd[i % 2] : NULL;
}

int64_t
phosts_timeout_ms(const struct phosts *h)
{
	return h != NULL ? h->timeout_ms : 0;
}

static const struct phost *
host_of(const struct phosts *h, const struct sysd *sd)
{
	for (size_t i = 0; h != NULL && sd != NULL && i < h->n; i++)
		if (h->v[i].sd[0] == sd || h->v[i].sd[1] == sd)
			return &h->v[i];
	return NULL;
}

/* --- /proc over ssh --------------------------------------------------- */

/* Splits the check's output into processes: five fields each. */
static void
parse_procs(struct phost *ph, const char *out, size_t len)
{
	const char *f[5], *p = out, *end = out + len;
	size_t cap = 0;

	ph->nprocs = 0;
	while (p < end) {
		struct rproc *r;
		int k;

		for (k = 0; k < 5 && p < end; k++) {
			const char *z = memchr(p, '\0', (size_t)(end - p));

			if (z == NULL)
				return;
			f[k] = p;
			p = z + 1;
		}
		if (k < 5)
			return;
		if (ph->nprocs == cap) {
			cap = cap ? 2 * cap : 16;
			ph->procs = lk_xrealloc(ph->procs, cap *
			    sizeof *ph->procs);
		}
		r = &ph->procs[ph->nprocs++];
		memset(r, 0, sizeof *r);
		snprintf(r->cgroup, sizeof r->cgroup, "%s", f[0]);
		r->proc.pid = strtol(f[1], NULL, 10);
		snprintf(r->proc.comm, sizeof r->proc.comm, "%s", f[2]);
		snprintf(r->proc.cwd, sizeof r->proc.cwd, "%s", f[3]);
		snprintf(r->proc.exe, sizeof r->proc.exe, "%s", f[4]);
		r->proc.cwd_deleted = procfs_strip_deleted(r->proc.cwd);
		r->proc.exe_deleted = procfs_strip_deleted(r->proc.exe);
	}
}

static void read_host(struct phost *ph);

static void
on_procs(const struct child_result *r, void *data)
{
	struct phost *ph = data;

	ph->check = NULL;
	/* What cannot be read is not known: no flags rather than old ones. */
	if (r->spawn_error == NULL && r->exit_status == 0 && !r->timed_out) {
		parse_procs(ph, r->out, r->out_len);
	} else {
		ph->nprocs = 0;
	}
	if (ph->again) {
		ph->again = false;
		read_host(ph);
	}
	for (int k = 0; k < 2; k++)
		if (ph->sd[k] != NULL)
			probes_procs_arrived(ph->set->owner, ph->sd[k]);
}

/* Adds the cgroups of sd's running units to argv. */
static void
add_cgroups(const struct sysd *sd, const char ***argv, size_t *n, size_t *cap)
{
	for (size_t i = 0; sd != NULL && i < sysd_count(sd); i++) {
		const struct sysd_unit *u = sysd_unit(sd, i);

		if (u->cgroup[0] != '/' || (strcmp(u->active, "active") != 0 &&
		    strcmp(u->active, "reloading") != 0))
			continue;
		if (*n + 2 >= *cap) {
			*cap = *cap ? 2 * *cap : 16;
			*argv = lk_xrealloc(*argv, *cap * sizeof **argv);
		}
		(*argv)[(*n)++] = u->cgroup;
	}
}

/*
 * The cgroups of ph's running units, in *argv (the caller frees it), and
 * one a line in key: what a check is asked, and what tells that the
 * running units changed since.
 */
static size_t
running_cgroups(const struct phost *ph, const char ***argv,
    struct lk_buf *key)
{
	size_t n = 0, cap = 0;

	*argv = NULL;
	add_cgroups(ph->sd[0], argv, &n, &cap);
	add_cgroups(ph->sd[1], argv, &n, &cap);
	lk_buf_reset(key);
	for (size_t i = 0; i < n; i++) {
		lk_buf_adds(key, (*argv)[i]);
		lk_buf_addc(key, '\n');
	}
	return n;
}

static void
read_host(struct phost *ph)
{
	struct phosts *h = ph->set;
	struct child_opts o = { 0 };
	struct lk_buf cmd = { 0 }, in = { 0 };
	struct lk_err err = { 0 };
	const char **argv = NULL;
	size_t n;
	char **ssh;

	if (ph->check != NULL)
		return;
	for (int k = 0; k < 2; k++)
		if (ph->sd[k] != NULL && sysd_down(ph->sd[k]))
			return;
	n = running_cgroups(ph, &argv, &ph->asked);
	if (n == 0) {
		free(argv);
		ph->nprocs = 0;
		return;
	}
	/* sh -c SCRIPT lookout CGROUP...: each a word of its own, quoted. */
	argv = lk_xrealloc(argv, (n + 5) * sizeof *argv);
	memmove(argv + 4, argv, n * sizeof *argv);
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = procs_script;
	argv[3] = "lookout";
	argv[n + 4] = NULL;
	if (lk_ssh_remote_command(&cmd, &in, argv, NULL, NULL, NULL, 0,
	    &err) == LK_OK) {
		ssh = lk_ssh_argv(h->ssh_config, ph->name, cmd.s);
		o.argv = (const char *const *)ssh;
		o.env = lk_ssh_env;
		o.no_tty = true;
		o.timeout_ms = h->timeout_ms;
		o.grace_ms = 300;
		o.max_output = 256 * 1024;
		if (child_start(h->loop, &o, on_procs, ph, &ph->check, &err) !=
		    LK_OK)
			ph->nprocs = 0;
		lk_ssh_argv_free(ssh);
	}
	lk_buf_free(&cmd);
	lk_buf_free(&in);
	free(argv);
}

void
phosts_units_changed(struct phosts *h, const struct sysd *sd)
{
	struct phost *ph = NULL;
	struct lk_buf now = { 0 };
	const char **argv;
	bool same;

	for (size_t i = 0; h != NULL && i < h->n && ph == NULL; i++)
		if (h->v[i].sd[0] == sd || h->v[i].sd[1] == sd)
			ph = &h->v[i];
	if (ph == NULL)
		return;
	/* Not before every answer of a refresh is in: a unit's cgroup comes
	 * after its main pid, and a check on half of them would need a
	 * second login for the rest. */
	for (int k = 0; k < 2; k++)
		if (ph->sd[k] != NULL && !sysd_idle(ph->sd[k]))
			return;
	/* Only when the running units are not those last asked about: a
	 * unit started or stopped.  The cycle checks the rest. */
	running_cgroups(ph, &argv, &now);
	same = now.len == ph->asked.len && (now.len == 0 ||
	    memcmp(now.s, ph->asked.s, now.len) == 0);
	free(argv);
	lk_buf_free(&now);
	if (same)
		return;
	if (ph->check != NULL)
		ph->again = true;
	else
		read_host(ph);
}

bool
phosts_settled(const struct phosts *h)
{
	for (size_t i = 0; h != NULL && i < h->n; i++)
		if (h->v[i].check != NULL)
			return false;
	return true;
}

void
phosts_read_procs(struct phosts *h)
{
	for (size_t i = 0; h != NULL && i < h->n; i++)
		read_host(&h->v[i]);
}


size_t
phosts_procs(const struct phosts *h, const struct sysd *sd,
    const char *cgroup, struct probe_proc *out, size_t max)
{
	const struct phost *ph = host_of(h, sd);
	size_t k = 0;

	for (size_t i = 0; ph != NULL && i < ph->nprocs && k < max; i++)
		if (strcmp(ph->procs[i].cgroup, cgroup) == 0)
			out[k++] = ph->procs[i].proc;
	return k;
}

unsigned
phosts_proc_flags(const struct phosts *h, const struct sysd *sd,
    const char *cgroup, char *detail, size_t len)
{
	const struct phost *ph = host_of(h, sd);
	unsigned flags = 0;
	char one[1200];

	if (len > 0)
		detail[0] = '\0';
	/* What the last check found, read in place: no copy per cycle. */
	for (size_t i = 0; ph != NULL && i < ph->nprocs; i++) {
		unsigned f;

		if (strcmp(ph->procs[i].cgroup, cgroup) != 0)
			continue;
		f = procfs_procs_deleted(&ph->procs[i].proc, 1, one,
		    sizeof one);
		if (f != 0 && flags == 0 && len > 0)
			snprintf(detail, len, "%s", one);
		flags |= f;
	}
	return flags;
}
