/* Logging through libqb, one macro a level, with the subsystem named the
 * way libknet's logging.h does it: log_err(DLD_SUB_IO, "...") logs
 * "io: ...".  Messages that could repeat on every poll go through a
 * struct dld_lograte (one rate-limited "log once" helper). */
#ifndef DLD_LOG_H
#define DLD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include <qb/qblog.h>

struct dld_config;

enum dld_subsys {
	DLD_SUB_MAIN = 0,    /* start-up, signals, shutdown: no prefix     */
	DLD_SUB_CONFIG,      /* "config: "                                 */
	DLD_SUB_SOCKETS,     /* "sockets: "                                */
	DLD_SUB_CONTROL,     /* "control: "                                */
	DLD_SUB_CHILD,       /* "child: " the parent's view of the I/O child */
	DLD_SUB_COROSYNC,    /* "corosync mode: "                          */
	DLD_SUB_ROLE,        /* "role: "                                   */
	DLD_SUB_IO,          /* "io: " the I/O child                       */
	DLD_SUB_MAX,
};

const char *dld_subsys_prefix(enum dld_subsys sub);

#define dld_log(level, sub, fmt, ...) \
	qb_log(level, "%s" fmt, dld_subsys_prefix(sub), ##__VA_ARGS__)
#define log_err(sub, fmt, ...)     dld_log(LOG_ERR, sub, fmt, ##__VA_ARGS__)
#define log_warn(sub, fmt, ...)    dld_log(LOG_WARNING, sub, fmt, ##__VA_ARGS__)
#define log_notice(sub, fmt, ...)  dld_log(LOG_NOTICE, sub, fmt, ##__VA_ARGS__)
#define log_info(sub, fmt, ...)    dld_log(LOG_INFO, sub, fmt, ##__VA_ARGS__)
#define log_debug(sub, fmt, ...)   dld_log(LOG_DEBUG, sub, fmt, ##__VA_ARGS__)

/* Rate limiting for a message that a condition would repeat: the first
 * one is logged, a changed one (another key) is logged at once, the same
 * one again only after interval_ns (0: never again until the key
 * changes or dld_lograte_reset).  Zero-initialised means "nothing
 * logged yet". */
struct dld_lograte {
	uint64_t next_ns;
	uint32_t key_hash;
	uint32_t suppressed;           /* held back since the last one logged */
	uint32_t held;                 /* what suppressed was when the last
					* one was let through              */
	bool     logged;
};

/* true: log it now (r->held then says how many were held back before
 * it, for a "(N more)" note). */
bool dld_lograte_ok(struct dld_lograte *r, const char *key, uint64_t now_ns,
		    uint64_t interval_ns);
/* The condition ended: the next occurrence is logged at once. */
void dld_lograte_reset(struct dld_lograte *r);

void dld_log_init(struct dld_config *c);
void dld_log_set_debug(const struct dld_config *c, bool debug);
void dld_log_fini(void);

#endif
