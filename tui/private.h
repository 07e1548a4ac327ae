/*
 * Internals shared by the files of tui/.  Not part of the public API.
 *
 * The console is a stack of views, each a struct view_ops table as in tig:
 * the overview at the bottom, whatever was opened from it above.  Views
 * never call curses: they draw through draw.c and get keys as the TK_*
 * codes below, so only draw.c and tui.c include <curses.h>.  Nothing draws
 * when something happens: handlers mark the screen dirty and tui.c paints
 * once, before the loop sleeps (tmux's mark-dirty, draw-once).
 */
#ifndef LK_TUI_PRIVATE_H
#define LK_TUI_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tui.h"
#include "../core/util.h"

struct tui;
struct view;
struct store_event;
struct store_incident;
struct probes_change;
struct rb_run;

/* Keys that are not bytes; views see these, never curses' own codes. */
enum {
	TK_ENTER = '\n',
	TK_ESC = 27,
	TK_TAB = '\t',
	TK_BACKSPACE = 0x7f,
	TK_UP = 0x110000,	/* past every code point */
	TK_DOWN,
	TK_LEFT,
	TK_RIGHT,
	TK_PGUP,
	TK_PGDN,
	TK_HOME,
	TK_END,
	TK_DELETE,
};

/*
 * What a piece of text is, not how it looks: draw.c maps roles to colours,
 * or, on a monochrome terminal or with NO_COLOR, to bold and underline.
 * Nothing is told by colour alone: every state also reads as a word or a
 * marker.  ROLE_SEL marks the selected row (reverse video).
 */
enum tui_role {
	R_NORMAL,
	R_HEADER,	/* the top line */
	R_TITLE,	/* column headings, section titles */
	R_DIM,		/* what matters less: timestamps, hints */
	R_OK,
	R_WARN,
	R_BROKEN,
	R_DOWN,
	R_KEY,		/* a key in the footer */
	R_ERROR,	/* a message that something went wrong */
	R_ROLES
};
#define ROLE_SEL 0x100

/* --- views ---------------------------------------------------------------- */

struct view_ops {
	const char *name;
	/* Draws the body, screen rows y0 to y0 + h - 1. */
	void (*draw)(struct tui *t, struct view *v, int y0, int h);
	/* Returns true if the view used the key. */
	bool (*key)(struct tui *t, struct view *v, int key);
	/* Frees v->data (optional). */
	void (*close)(struct tui *t, struct view *v);
	/* Optional: the probes' state changed. */
	void (*probes)(struct tui *t, struct view *v,
	    const struct probes_change *c);
	/* Optional: an event was appended to the timeline (by anyone). */
	void (*event)(struct tui *t, struct view *v,
	    const struct store_event *ev);
	/* The footer: the keys that matter here. */
	const char *keys;
	/* What ? shows, a line per key or command. */
	const char *help;
};

/* A list view's selection and scroll, kept by the generic list keys. */
struct view {
	const struct view_ops *ops;
	void *data;
	size_t sel;
	size_t top;
	size_t nrows;
	int body_h;		/* rows the body had when last drawn */
	struct view *below;	/* the view this one was opened from */
};

/* Opens a view on top of the current one; the tui owns it from now. */
struct view *tui_push(struct tui *t, const struct view_ops *ops, void *data);
/* Closes the top view (never the overview). */
void tui_pop(struct tui *t);
/* Closes every view above the overview. */
void tui_pop_all(struct tui *t);
/* The open view using ops, or NULL. */
struct view *tui_find(struct tui *t, const struct view_ops *ops);

/* j/k, arrows, PgUp/PgDn, g/G over v->nrows rows; true if used. */
bool view_list_key(struct view *v, int key);
/* Scrolls so that the selection is on screen in h rows. */
void view_list_fit(struct view *v, int h);

extern const struct view_ops overview_ops;
extern const struct view_ops detail_ops;
extern const struct view_ops runner_ops;
extern const struct view_ops timeline_ops;
extern const struct view_ops incidents_ops;
extern const struct view_ops runs_ops;
extern const struct view_ops help_ops;
extern const struct view_ops menu_ops;
extern const struct view_ops form_ops;

/* --- the console ------------------------------------------------------------ */

struct prompt;

struct tui {
	struct loop *loop;
	struct store *store;
	struct probes *probes;
	const struct config *cfg;
	const char *lock_dir;
	bool readonly;

	int rows, cols;
	bool utf8;		/* the terminal takes UTF-8 (from the locale) */
	bool color;

	bool dirty;		/* paint before the loop sleeps */
	bool running;
	bool interrupted;	/* SIGHUP, SIGTERM, the terminal gone */
	bool quitting;		/* q: waiting for a run's action to end */
	int exit_status;

	struct view *view;	/* the top of the stack */
	char msg[512];		/* the message line */
	bool msg_error;
	struct prompt *prompt;	/* the line being typed, or NULL */

	/* The incident the console works in: runs, notes and milestones
	 * made here are attached to it.  0: none. */
	int64_t incident_id;
	struct store_incident *incident;

	/* The runbook run in progress (one at a time), or NULL. */
	struct rb_run *run;

	struct lk_identity who;
	char host[64];
	int64_t watch_at;	/* the last heartbeat of a watch, 0: none */
	int store_sub;
	int probes_sub;
	long long tick;
};

/* Quits, after asking when a run is in progress. */
void tui_quit(struct tui *t);
/* Marks the screen for repainting before the loop sleeps. */
void tui_dirty(struct tui *t);
/* A one-line message under the view (outside text is escaped). */
void tui_msg(struct tui *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tui_error(struct tui *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* In --readonly, says so and returns true: the caller does nothing. */
bool tui_refuse_readonly(struct tui *t, const char *what);

/* Works in incident id from now (0: none); re-reads it. */
void tui_set_incident(struct tui *t, int64_t id);
/* Re-reads the current incident after one of its events. */
void tui_reload_incident(struct tui *t);

/* --- the prompt line (prompt.c) -------------------------------------------------- */

/* Called with what was typed, or NULL when the operator pressed Esc. */
typedef void prompt_done_cb(struct tui *t, const char *text, void *arg);
/*
 * Completes the word that ends at the cursor: returns the candidates
 * (NULL-terminated, the caller frees them with prompt_free_words) for the
 * text typed so far.
 */
typedef char **prompt_complete_cb(struct tui *t, const char *text);

void tui_prompt(struct tui *t, const char *label, const char *initial,
    prompt_done_cb *done, void *arg, prompt_complete_cb *complete);
/* A question answered with one key: y is yes, n or Esc is no. */
typedef void confirm_cb(struct tui *t, bool yes, void *arg);
void tui_confirm(struct tui *t, const char *question, confirm_cb *cb,
    void *arg);
/* Feeds a key to the prompt; false when no prompt is open. */
bool prompt_key(struct tui *t, int key);
/* Draws the prompt on row y; returns the cursor's column. */
int prompt_draw(struct tui *t, int y);
void prompt_close(struct tui *t);
void prompt_free_words(char **words);

/* --- commands (cmds.c) ---------------------------------------------------- */

/* Opens the ':' prompt with initial typed. */
void tui_prompt_command(struct tui *t, const char *initial);
/* Runs a command line typed after ':'. */
void tui_command(struct tui *t, const char *line);
/* The completion of a command line (command names, runbook names). */
char **tui_complete(struct tui *t, const char *text);

/* --- runs (runner.c) --------------------------------------------------------- */

/*
 * Starts runbook with "K=V" params, attached to the current incident, and
 * opens the runner.  Missing required params open the form first.
 */
void tui_run_start(struct tui *t, const char *runbook,
    const char *const *params, size_t nparams);
void tui_run_resume(struct tui *t, int64_t run_id);
/* Opens the form for runbook, prefilled from params. */
void tui_run_form(struct tui *t, const char *runbook,
    const char *const *params, size_t nparams);
/* The run was lost with the terminal: stop after its current action. */
void tui_run_interrupt(struct tui *t);

/*
 * A quick action on service i of the probes (start, stop, restart,
 * enable, disable): asks for confirmation, showing the exact action, then
 * runs it as a one-step runbook, so it is recorded, durably and first,
 * like any runbook action, and can be replayed.
 */
void tui_quick_action(struct tui *t, size_t service, const char *op);

/* --- opening views ------------------------------------------------------------ */

/* The overview's state, for tui_push(t, &overview_ops, overview_new()). */
void *overview_new(void);
/* The state of the incidents and runs lists (either). */
void *lists_new(void);

void detail_open(struct tui *t, size_t service, bool journal);
void timeline_open(struct tui *t, int64_t incident_id);
void menu_open_service(struct tui *t, size_t service);
void menu_open_queue(struct tui *t, size_t queue);
void menu_open_milestones(struct tui *t);
void help_open(struct tui *t);

/* --- drawing (draw.c) ------------------------------------------------------------ */

/* Writes outside text s at (y, x) in at most w columns, escaped (see
 * lk_buf_add_term); returns the columns used. */
int draw_text(struct tui *t, int y, int x, int w, int role, const char *s);
int draw_textf(struct tui *t, int y, int x, int w, int role,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Text padded (or cut) to exactly w columns, right-aligned if right. */
void draw_cell(struct tui *t, int y, int x, int w, int role, bool right,
    const char *s);
/* Fills w columns from (y, x) with blanks in role. */
void draw_fill(struct tui *t, int y, int x, int w, int role);
/* A sparkline of v (oldest first, < 0: unknown) in w columns. */
void draw_spark(struct tui *t, int y, int x, int w, int role,
    const int64_t *v, size_t n);
/* A frame for a popup, rows y..y+h-1, columns x..x+w-1, with a title. */
void draw_box(struct tui *t, int y, int x, int h, int w, const char *title);
/* The display width of outside text once escaped. */
int draw_width(struct tui *t, const char *s);
/* Sets up the colour pairs when t->color. */
void draw_init_colors(struct tui *t);

/*
 * An age as the overview and the header show it, to the minute ("<1m",
 * "5m", "2h 10m"): a clock that ticks every second on every row would
 * repaint the screen every second, over SSH, for nothing an engineer
 * acts on.
 */
void draw_age(int64_t ms, char *buf, size_t len);

/* The role a severity (PROBE_SEV_*) is drawn in, and its marker. */
int role_of_severity(int sev);
const char *marker_of_severity(int sev);

#endif
