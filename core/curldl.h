/*
 * libcurl, loaded the first time a request needs it rather than at start-up.
 *
 * Linking libcurl costs every lookout command about 5 ms before main(): on
 * Debian it pulls in some thirty libraries (GnuTLS, Kerberos, LDAP,
 * libssh2...) and several of them run constructors.  Most commands never
 * make a request, so the HTTP code dlopen()s libcurl on first use and calls
 * it through the table below, the way systemd reaches its optional
 * libraries.  The binary is not linked with libcurl (probes/meson.build), so
 * a direct curl_* call anywhere fails to link instead of quietly bringing
 * the cost back.
 */
#ifndef LK_CURLDL_H
#define LK_CURLDL_H

#include <curl/curl.h>

#include "err.h"

/* The soname of Debian's libcurl4 package. */
#define CURLDL_SONAME "libcurl.so.4"

/* Every libcurl function lookout calls, named without "curl_". */
#define CURLDL_FUNCTIONS(X)						\
	X(global_init)							\
	X(easy_init)							\
	X(easy_cleanup)							\
	X(easy_reset)							\
	X(easy_setopt)							\
	X(easy_getinfo)							\
	X(easy_strerror)						\
	X(easy_escape)							\
	X(free)								\
	X(multi_init)							\
	X(multi_cleanup)						\
	X(multi_setopt)							\
	X(multi_add_handle)						\
	X(multi_remove_handle)						\
	X(multi_socket_action)						\
	X(multi_info_read)						\
	X(slist_append)							\
	X(slist_free_all)						\
	X(url)								\
	X(url_set)							\
	X(url_get)							\
	X(url_cleanup)

/*
 * Each pointer has the type of the function <curl/curl.h> declares, so
 * every call is checked against the real prototype.  What the table cannot
 * keep is curl's typecheck-gcc.h: easy_setopt and easy_getinfo are plain
 * variadic calls here, so each value must already have the type the option
 * documents (a long, not an int; a curl_off_t for *_LARGE).
 */
struct curldl {
#define CURLDL_FIELD(name) __typeof__(curl_##name) *name;
	CURLDL_FUNCTIONS(CURLDL_FIELD)
#undef CURLDL_FIELD
};

/*
 * Loads libcurl and runs curl_global_init(), once per process: later calls
 * return the same table, or the same error, without trying again.  Sets
 * *out to the table, which stays valid until exit.  On failure returns
 * LK_EIO with one sentence naming the library and the Debian package.
 */
enum lk_code curldl_load(const struct curldl **out, struct lk_err *err);

#endif
