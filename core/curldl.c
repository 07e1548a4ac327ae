/*
 * dlopen() of libcurl and the table of its functions: see curldl.h.
 *
 * The state is process-wide, like the library itself.  lookout runs one
 * thread (core/loop.h), so the first call needs no lock.
 */
#include "curldl.h"

#include <dlfcn.h>
#include <stdbool.h>

#define CURLDL_NEEDED "HTTP checks and RabbitMQ queues need it " \
	"(Debian package libcurl4)"

static struct curldl table;
static bool tried;
static struct lk_err failure;

static enum lk_code
load(struct lk_err *err)
{
	struct curldl t;
	void *h;

	/*
	 * RTLD_NOW: a libcurl too old for a function we call fails here, in
	 * one sentence, not in the middle of a request.  RTLD_LOCAL: curl's
	 * symbols, and those of the thirty libraries behind it, do not join
	 * the global namespace where a later library could bind to them.
	 */
	h = dlopen(CURLDL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return lk_fail(err, LK_EIO, "cannot load %s: %s; %s",
		    CURLDL_SONAME, dlerror(), CURLDL_NEEDED);
#define CURLDL_SYM(name)						\
	t.name = (__typeof__(t.name))dlsym(h, "curl_" #name);		\
	if (t.name == NULL)						\
		goto missing;
	CURLDL_FUNCTIONS(CURLDL_SYM)
#undef CURLDL_SYM
	if (t.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		dlclose(h);
		return lk_fail(err, LK_EIO, "cannot start %s: "
		    "curl_global_init failed; %s", CURLDL_SONAME,
		    CURLDL_NEEDED);
	}
	/*
	 * The handle is kept for the life of the process and never
	 * dlclose()d: curl_global_cleanup() is not called either, and the
	 * memory both hold is still reachable at exit, not leaked.
	 */
	table = t;
	return LK_OK;
missing:
	/* dlerror() names the symbol; read it before dlclose() resets it. */
	lk_fail(err, LK_EIO, "cannot load %s: %s; %s", CURLDL_SONAME,
	    dlerror(), CURLDL_NEEDED);
	dlclose(h);
	return err->code;
}

enum lk_code
curldl_load(const struct curldl **out, struct lk_err *err)
{
	/*
	 * A failure is remembered: every check of every cycle would otherwise
	 * search the library path again only to print the same sentence.
	 */
	if (!tried) {
		tried = true;
		load(&failure);
	}
	if (failure.code != LK_OK) {
		*out = NULL;
		return lk_fail(err, failure.code, "%s", failure.msg);
	}
	*out = &table;
	return LK_OK;
}
