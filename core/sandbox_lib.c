/*
 * The library functions the sandbox guards: those that can run long inside
 * C, where the count hook never fires.
 *
 * Pattern matching is the worst of them: Lua's matcher backtracks, and a
 * pattern such as "%b()" over 200 KB of "(" or 3000 "[a]" against 2 MB of
 * "a" ran for 20 and 80 seconds in one call.  No rule about the pattern
 * can tell the costly ones apart (quantifiers, balances, frontiers and
 * back-references all multiply), so string.find, match, gmatch and gsub
 * are replaced here by a matcher that counts its steps and, every
 * MATCH_CHECK_EVERY of them, asks the sandbox whether the slice is over
 * or a signal came (sandbox_check), which raises the stop as a Lua error.
 *
 * The matcher is lookout's own code, written to the semantics of the Lua
 * 5.4 reference manual (section 6.4.1, Patterns) and of the string library
 * it replaces (Lua 5.4.4's lstrlib.c: the same results, captures, errors
 * and messages, gmatch's init and its rule against matching twice at one
 * position, gsub's replacement forms).  A plain search, and a pattern
 * without special characters, use memmem, which is linear.
 *
 * string.rep and table.sort keep Lua's own code; what is guarded is
 * around it (see guarded_rep and guarded_sort).
 */
#include "sandbox.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

/* Steps of the matcher between two looks at the budget (a look reads two
 * clocks, a step takes a few nanoseconds: about 0.1 ms of matching). */
#define MATCH_CHECK_EVERY 10000
/* Bytes compared by one back-reference that count as one step. */
#define MATCH_BYTES_PER_STEP 64
/* Comparisons of table.sort between two looks at the budget. */
#define SORT_CHECK_EVERY 1000

/* As Lua's: captures in one pattern, and how deeply match() recurses. */
#define MAXCAPTURES 32
#define MAXDEPTH 200

#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)

#define ESC '%'
#define SPECIALS "^$*+?.([%-"

struct mstate {
	lua_State *L;
	const char *detail;		/* added to a stop's message */
	const char *src_init;
	const char *src_end;
	const char *p_end;
	int depth;			/* recursion left */
	int level;			/* captures open or closed */
	long work;			/* steps since the last look */
	struct {
		const char *init;
		ptrdiff_t len;		/* or CAP_UNFINISHED, CAP_POSITION */
	} capture[MAXCAPTURES];
};

static const char *match(struct mstate *ms, const char *s, const char *p);

/*
 * Counts n steps of work and, every MATCH_CHECK_EVERY of them, lets the
 * sandbox stop the matching.  The matcher owns no memory that a Lua error
 * would leak: its state lives on the C stack or in a userdata.
 */
static void
work(struct mstate *ms, long n)
{
	ms->work += n;
	if (ms->work >= MATCH_CHECK_EVERY) {
		ms->work = 0;
		sandbox_check(ms->L, ms->detail);
	}
}

static void
mstate_init(struct mstate *ms, lua_State *L, const char *detail,
    const char *s, size_t ls, const char *p, size_t lp)
{
	ms->L = L;
	ms->detail = detail;
	ms->src_init = s;
	ms->src_end = s + ls;
	ms->p_end = p + lp;
	ms->work = 0;
}

/* Before each attempt at a new position. */
static void
mstate_reset(struct mstate *ms)
{
	ms->level = 0;
	ms->depth = MAXDEPTH;
}

static int
check_capture(struct mstate *ms, int l)
{
	l -= '1';
	if (l < 0 || l >= ms->level || ms->capture[l].len == CAP_UNFINISHED)
		return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
	return l;
}

static int
capture_to_close(struct mstate *ms)
{
	int level = ms->level;

	for (level--; level >= 0; level--)
		if (ms->capture[level].len == CAP_UNFINISHED)
			return level;
	return luaL_error(ms->L, "invalid pattern capture");
}

/* The end of the single-character class at p. */
static const char *
class_end(struct mstate *ms, const char *p)
{
	if (*p++ == ESC) {
		if (p == ms->p_end)
			luaL_error(ms->L, "malformed pattern (ends with '%%')");
		return p + 1;
	}
	if (p[-1] == '[') {
		if (*p == '^')
			p++;
		/* The first ']' of a set is a member, not its end. */
		do {
			if (p == ms->p_end)
				luaL_error(ms->L, "malformed pattern (missing "
				    "']')");
			if (*p++ == ESC && p < ms->p_end)
				p++;
		} while (*p != ']');
		return p + 1;
	}
	return p;
}

static int
match_class(int c, int cl)
{
	int res;

	switch (tolower(cl)) {
	case 'a': res = isalpha(c); break;
	case 'c': res = iscntrl(c); break;
	case 'd': res = isdigit(c); break;
	case 'g': res = isgraph(c); break;
	case 'l': res = islower(c); break;
	case 'p': res = ispunct(c); break;
	case 's': res = isspace(c); break;
	case 'u': res = isupper(c); break;
	case 'w': res = isalnum(c); break;
	case 'x': res = isxdigit(c); break;
	default: return cl == c;
	}
	if (isupper(cl))
		res = !res;
	return res;
}

/* Whether c is in the set [...] from p (its '[') to ec (its ']'). */
static int
match_set(int c, const char *p, const char *ec)
{
	int sig = 1;

	if (p[1] == '^') {
		sig = 0;
		p++;
	}
	while (++p < ec) {
		if (*p == ESC) {
			p++;
			if (match_class(c, (unsigned char)*p))
				return sig;
		} else if (p[1] == '-' && p + 2 < ec) {
			p += 2;
			if ((unsigned char)p[-2] <= c &&
			    c <= (unsigned char)*p)
				return sig;
		} else if ((unsigned char)*p == c) {
			return sig;
		}
	}
	return !sig;
}

/* Whether the character at s matches the class from p to ep. */
static int
single_match(struct mstate *ms, const char *s, const char *p, const char *ep)
{
	int c;

	if (s >= ms->src_end)
		return 0;
	c = (unsigned char)*s;
	switch (*p) {
	case '.':
		return 1;
	case ESC:
		return match_class(c, (unsigned char)p[1]);
	case '[':
		return match_set(c, p, ep - 1);
	default:
		return (unsigned char)*p == c;
	}
}

/* %bxy: from s, a balanced run that opens with x and closes with y. */
static const char *
match_balance(struct mstate *ms, const char *s, const char *p)
{
	int open, close, depth = 1;

	if (p >= ms->p_end - 1)
		luaL_error(ms->L, "malformed pattern (missing arguments to "
		    "'%%b')");
	if (s >= ms->src_end || *s != *p)
		return NULL;
	open = *p;
	close = p[1];
	while (++s < ms->src_end) {
		work(ms, 1);
		if (*s == close) {
			if (--depth == 0)
				return s + 1;
		} else if (*s == open) {
			depth++;
		}
	}
	return NULL;
}

/* x* and x+: as many as possible, then fewer until the rest matches. */
static const char *
max_expand(struct mstate *ms, const char *s, const char *p, const char *ep)
{
	ptrdiff_t i = 0;
	const char *res;

	while (single_match(ms, s + i, p, ep)) {
		i++;
		work(ms, 1);
	}
	for (; i >= 0; i--)
		if ((res = match(ms, s + i, ep + 1)) != NULL)
			return res;
	return NULL;
}

/* x-: as few as possible, then more until the rest matches. */
static const char *
min_expand(struct mstate *ms, const char *s, const char *p, const char *ep)
{
	const char *res;

	for (;;) {
		if ((res = match(ms, s, ep + 1)) != NULL)
			return res;
		if (!single_match(ms, s, p, ep))
			return NULL;
		s++;
	}
}

static const char *
start_capture(struct mstate *ms, const char *s, const char *p, int what)
{
	const char *res;
	int level = ms->level;

	if (level >= MAXCAPTURES)
		luaL_error(ms->L, "too many captures");
	ms->capture[level].init = s;
	ms->capture[level].len = what;
	ms->level = level + 1;
	if ((res = match(ms, s, p)) == NULL)
		ms->level--;
	return res;
}

static const char *
end_capture(struct mstate *ms, const char *s, const char *p)
{
	int l = capture_to_close(ms);
	const char *res;

	ms->capture[l].len = s - ms->capture[l].init;
	if ((res = match(ms, s, p)) == NULL)
		ms->capture[l].len = CAP_UNFINISHED;
	return res;
}

/* %1 to %9: the text of that capture again. */
static const char *
match_capture(struct mstate *ms, const char *s, int l)
{
	size_t len;

	l = check_capture(ms, l);
	len = (size_t)ms->capture[l].len;
	work(ms, (long)(len / MATCH_BYTES_PER_STEP));
	if ((size_t)(ms->src_end - s) >= len &&
	    memcmp(ms->capture[l].init, s, len) == 0)
		return s + len;
	return NULL;
}

/*
 * Matches the pattern from p against the subject from s: the end of the
 * match, or NULL.  Recursion is for what may backtrack; the rest loops
 * ("goto again"), counting a step each time round.
 */
static const char *
match(struct mstate *ms, const char *s, const char *p)
{
	const char *ep, *res;
	char previous;

	if (ms->depth-- == 0)
		luaL_error(ms->L, "pattern too complex");
again:
	work(ms, 1);
	if (p == ms->p_end)
		goto out;
	switch (*p) {
	case '(':
		if (p[1] == ')')
			s = start_capture(ms, s, p + 2, CAP_POSITION);
		else
			s = start_capture(ms, s, p + 1, CAP_UNFINISHED);
		goto out;
	case ')':
		s = end_capture(ms, s, p + 1);
		goto out;
	case '$':
		if (p + 1 != ms->p_end)
			break;		/* a plain '$' */
		s = s == ms->src_end ? s : NULL;
		goto out;
	case ESC:
		switch (p[1]) {
		case 'b':
			s = match_balance(ms, s, p + 2);
			if (s != NULL) {
				p += 4;
				goto again;
			}
			goto out;
		case 'f':
			p += 2;
			if (*p != '[')
				luaL_error(ms->L, "missing '[' after '%%f' in "
				    "pattern");
			ep = class_end(ms, p);
			previous = s == ms->src_init ? '\0' : s[-1];
			if (!match_set((unsigned char)previous, p, ep - 1) &&
			    match_set(s < ms->src_end ? (unsigned char)*s : 0,
			    p, ep - 1)) {
				p = ep;
				goto again;
			}
			s = NULL;
			goto out;
		case '0': case '1': case '2': case '3': case '4':
		case '5': case '6': case '7': case '8': case '9':
			s = match_capture(ms, s, (unsigned char)p[1]);
			if (s != NULL) {
				p += 2;
				goto again;
			}
			goto out;
		}
		break;
	}

	/* A single-character class, perhaps with a quantifier after it. */
	ep = class_end(ms, p);
	if (!single_match(ms, s, p, ep)) {
		if (*ep == '*' || *ep == '?' || *ep == '-') {
			p = ep + 1;	/* it may match nothing */
			goto again;
		}
		s = NULL;
		goto out;
	}
	switch (*ep) {
	case '?':
		if ((res = match(ms, s + 1, ep + 1)) != NULL) {
			s = res;
		} else {
			p = ep + 1;
			goto again;
		}
		break;
	case '+':
		s = max_expand(ms, s + 1, p, ep);
		break;
	case '*':
		s = max_expand(ms, s, p, ep);
		break;
	case '-':
		s = min_expand(ms, s, p, ep);
		break;
	default:
		s++;
		p = ep;
		goto again;
	}
out:
	ms->depth++;
	return s;
}

/*
 * Capture i of a match from s to e (the whole match when the pattern has
 * no captures): its text and length, or CAP_POSITION with the position
 * pushed.
 */
static ptrdiff_t
get_capture(struct mstate *ms, int i, const char *s, const char *e,
    const char **cap)
{
	ptrdiff_t len;

	if (i >= ms->level) {
		if (i != 0)
			luaL_error(ms->L, "invalid capture index %%%d", i + 1);
		*cap = s;
		return e - s;
	}
	len = ms->capture[i].len;
	*cap = ms->capture[i].init;
	if (len == CAP_UNFINISHED)
		luaL_error(ms->L, "unfinished capture");
	else if (len == CAP_POSITION)
		lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) +
		    1);
	return len;
}

static void
push_capture(struct mstate *ms, int i, const char *s, const char *e)
{
	const char *cap;
	ptrdiff_t len = get_capture(ms, i, s, e, &cap);

	if (len != CAP_POSITION)
		lua_pushlstring(ms->L, cap, (size_t)len);
}

static int
push_captures(struct mstate *ms, const char *s, const char *e)
{
	int n = ms->level == 0 && s != NULL ? 1 : ms->level;

	luaL_checkstack(ms->L, n, "too many captures");
	for (int i = 0; i < n; i++)
		push_capture(ms, i, s, e);
	return n;
}

/* Whether the pattern has no special characters (it may hold NULs). */
static int
no_specials(const char *p, size_t lp)
{
	size_t upto = 0;

	do {
		if (strpbrk(p + upto, SPECIALS) != NULL)
			return 0;
		upto += strlen(p + upto) + 1;
	} while (upto <= lp);
	return 1;
}

/* A relative start position (negative from the end) as 1 to len + 1. */
static size_t
start_at(lua_Integer pos, size_t len)
{
	if (pos > 0)
		return (size_t)pos;
	if (pos == 0 || pos < -(lua_Integer)len)
		return 1;
	return len + (size_t)pos + 1;
}

static int
find_or_match(lua_State *L, int find)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_at(luaL_optinteger(L, 3, 1), ls) - 1;
	struct mstate ms;
	const char *s1, *res;
	int anchor;

	if (init > ls) {
		luaL_pushfail(L);
		return 1;
	}
	if (find && (lua_toboolean(L, 4) || no_specials(p, lp))) {
		/* memmem is linear: no budget needed. */
		s1 = memmem(s + init, ls - init, p, lp);
		if (s1 != NULL) {
			lua_pushinteger(L, (s1 - s) + 1);
			lua_pushinteger(L, (lua_Integer)((s1 - s) + lp));
			return 2;
		}
		luaL_pushfail(L);
		return 1;
	}
	s1 = s + init;
	anchor = *p == '^';
	if (anchor) {
		p++;
		lp--;
	}
	mstate_init(&ms, L, find ? "in string.find: the pattern is too "
	    "costly for its subject" : "in string.match: the pattern is too "
	    "costly for its subject", s, ls, p, lp);
	do {
		mstate_reset(&ms);
		if ((res = match(&ms, s1, p)) != NULL) {
			if (!find)
				return push_captures(&ms, s1, res);
			lua_pushinteger(L, (s1 - s) + 1);
			lua_pushinteger(L, res - s);
			return push_captures(&ms, NULL, 0) + 2;
		}
	} while (s1++ < ms.src_end && !anchor);
	luaL_pushfail(L);
	return 1;
}

static int
str_find(lua_State *L)
{
	return find_or_match(L, 1);
}

static int
str_match(lua_State *L)
{
	return find_or_match(L, 0);
}

/* gmatch's iterator state, a userdata kept by the iterator. */
struct gmatch {
	const char *src;		/* where the next search starts */
	const char *p;
	const char *lastmatch;		/* end of the last match */
	struct mstate ms;
};

static int
gmatch_next(lua_State *L)
{
	struct gmatch *gm = lua_touserdata(L, lua_upvalueindex(3));
	const char *src, *e;

	gm->ms.L = L;
	for (src = gm->src; src <= gm->ms.src_end; src++) {
		mstate_reset(&gm->ms);
		/* Never the same empty match twice at one place. */
		if ((e = match(&gm->ms, src, gm->p)) != NULL &&
		    e != gm->lastmatch) {
			gm->src = gm->lastmatch = e;
			return push_captures(&gm->ms, src, e);
		}
	}
	return 0;
}

static int
str_gmatch(lua_State *L)
{
	size_t ls, lp;
	const char *s = luaL_checklstring(L, 1, &ls);
	const char *p = luaL_checklstring(L, 2, &lp);
	size_t init = start_at(luaL_optinteger(L, 3, 1), ls) - 1;
	struct gmatch *gm;

	/* The strings stay alive as the iterator's upvalues. */
	lua_settop(L, 2);
	gm = lua_newuserdatauv(L, sizeof *gm, 0);
	if (init > ls)
		init = ls + 1;
	mstate_init(&gm->ms, L, "in string.gmatch: the pattern is too costly "
	    "for its subject", s, ls, p, lp);
	gm->src = s + init;
	gm->p = p;
	gm->lastmatch = NULL;
	lua_pushcclosure(L, gmatch_next, 3);
	return 1;
}

/* Adds the replacement string (argument 3) for the match from s to e. */
static void
add_string(struct mstate *ms, luaL_Buffer *b, const char *s, const char *e)
{
	lua_State *L = ms->L;
	size_t l;
	const char *news = lua_tolstring(L, 3, &l), *p, *cap;
	ptrdiff_t len;

	while ((p = memchr(news, ESC, l)) != NULL) {
		luaL_addlstring(b, news, (size_t)(p - news));
		p++;
		if (*p == ESC) {
			luaL_addchar(b, *p);
		} else if (*p == '0') {
			luaL_addlstring(b, s, (size_t)(e - s));
		} else if (isdigit((unsigned char)*p)) {
			len = get_capture(ms, *p - '1', s, e, &cap);
			if (len == CAP_POSITION)
				luaL_addvalue(b);
			else
				luaL_addlstring(b, cap, (size_t)len);
		} else {
			luaL_error(L, "invalid use of '%c' in replacement "
			    "string", ESC);
		}
		l -= (size_t)(p + 1 - news);
		news = p + 1;
	}
	luaL_addlstring(b, news, l);
}

/* Adds the replacement for the match from s to e; 1 if it changed it. */
static int
add_value(struct mstate *ms, luaL_Buffer *b, const char *s, const char *e,
    int type)
{
	lua_State *L = ms->L;

	switch (type) {
	case LUA_TFUNCTION:
		lua_pushvalue(L, 3);
		lua_call(L, push_captures(ms, s, e), 1);
		break;
	case LUA_TTABLE:
		push_capture(ms, 0, s, e);
		lua_gettable(L, 3);
		break;
	default:
		add_string(ms, b, s, e);
		return 1;
	}
	if (!lua_toboolean(L, -1)) {
		/* false or nil: the match stays as it was */
		lua_pop(L, 1);
		luaL_addlstring(b, s, (size_t)(e - s));
		return 0;
	}
	if (!lua_isstring(L, -1))
		return luaL_error(L, "invalid replacement value (a %s)",
		    luaL_typename(L, -1));
	luaL_addvalue(b);
	return 1;
}

static int
str_gsub(lua_State *L)
{
	size_t srcl, lp;
	const char *src = luaL_checklstring(L, 1, &srcl);
	const char *p = luaL_checklstring(L, 2, &lp);
	const char *lastmatch = NULL, *e;
	int type = lua_type(L, 3);
	lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
	lua_Integer n = 0;
	int anchor = *p == '^', changed = 0;
	struct mstate ms;
	luaL_Buffer b;

	luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING ||
	    type == LUA_TFUNCTION || type == LUA_TTABLE, 3,
	    "string/function/table");
	luaL_buffinit(L, &b);
	if (anchor) {
		p++;
		lp--;
	}
	mstate_init(&ms, L, "in string.gsub: the pattern is too costly for "
	    "its subject", src, srcl, p, lp);
	while (n < max_n) {
		mstate_reset(&ms);
		if ((e = match(&ms, src, p)) != NULL && e != lastmatch) {
			n++;
			changed = add_value(&ms, &b, src, e, type) | changed;
			src = lastmatch = e;
		} else if (src < ms.src_end) {
			luaL_addchar(&b, *src++);
		} else {
			break;
		}
		if (anchor)
			break;
	}
	if (!changed) {
		lua_pushvalue(L, 1);
	} else {
		luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
		luaL_pushresult(&b);
	}
	lua_pushinteger(L, n);
	return 2;
}

/*
 * string.rep builds its result with one copy per repetition, so its time
 * follows the result's size, which the memory cap bounds, with one
 * exception: an empty string and an empty separator make an empty result
 * from any number of (empty) copies.  string.rep("", 2^53) looped for
 * hours.  The original (upvalue 1) does everything else.
 */
static int
guarded_rep(lua_State *L)
{
	size_t l, lsep;
	lua_Integer n;

	luaL_checklstring(L, 1, &l);
	n = luaL_checkinteger(L, 2);
	luaL_optlstring(L, 3, "", &lsep);
	if (n > 0 && l == 0 && lsep == 0) {
		lua_pushliteral(L, "");
		return 1;
	}
	/* Lua's own limit, raised here so that the message says where. */
	if (n > 0 && (l + lsep < l || l + lsep > (size_t)INT_MAX / (size_t)n))
		return luaL_error(L, "resulting string too large");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

void
sandbox_open_string(lua_State *L, int idx)
{
	static const luaL_Reg fns[] = {
		{ "find", str_find },
		{ "match", str_match },
		{ "gmatch", str_gmatch },
		{ "gsub", str_gsub },
		{ NULL, NULL }
	};

	idx = lua_absindex(L, idx);
	lua_pushvalue(L, idx);
	luaL_setfuncs(L, fns, 0);
	lua_getfield(L, idx, "rep");
	lua_pushcclosure(L, guarded_rep, 1);
	lua_setfield(L, idx, "rep");
	lua_pushnil(L);
	lua_setfield(L, idx, "dump");	/* no bytecode out */
	lua_pop(L, 1);
}

/*
 * The comparison table.sort makes, through which the budget is checked.
 * Upvalue 1 is the sort's own comparison function, or nil for "<"; upvalue
 * 2 counts the calls.
 */
static int
sort_compare(lua_State *L)
{
	lua_Integer calls = lua_tointeger(L, lua_upvalueindex(2)) + 1;

	if (calls >= SORT_CHECK_EVERY) {
		calls = 0;
		sandbox_check(L, "in table.sort");
	}
	lua_pushinteger(L, calls);
	lua_replace(L, lua_upvalueindex(2));
	if (lua_isnil(L, lua_upvalueindex(1))) {
		lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
		return 1;
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, 1);
	return 1;
}

/*
 * table.sort compares in C: by default with "<", which never leaves C,
 * and with a C function as the comparison (table.sort(t, rawequal)) no
 * Lua instruction runs either.  Sorting a few million numbers, built over
 * several slices, took seconds in one call.  The original sort (upvalue
 * 1) now always calls sort_compare, which checks the budget as it goes
 * (and costs a function call per comparison: sorting a table of a
 * thousand takes microseconds more).
 */
static int
guarded_sort(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_settop(L, 2);
	lua_pushinteger(L, 0);
	lua_pushcclosure(L, sort_compare, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, 0);
	return 0;
}

void
sandbox_open_table(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	lua_getfield(L, idx, "sort");
	lua_pushcclosure(L, guarded_sort, 1);
	lua_setfield(L, idx, "sort");
}
