/* Logging through libqb, one macro a level, with the subsystem named the
 * way libknet's logging.h does it: log_err(DLD_SUB_IO, "...") logs
 * "io: ...".  Messages that could repeat on every poll go through a
 * struct dld_lograte (one rate-limited "log once" helper). */
#ifndef DLD_LOG_H
#define DLD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include <qb/qblog.h>

struct dld_config;

/* The blackbox's directory without systemd's StateDirectory=disklink. */
#define DLD_STATE_DIR "/var/lib/disklink"

enum dld_subsys {
	DLD_SUB_MAIN = 0,    /* start-up, signals, shutdown: no prefix     */
	DLD_SUB_CONFIG,      /* "config: "                                 */
	DLD_SUB_SOCKETS,     /* "sockets: "                                */
	DLD_SUB_CONTROL,     /* "control: "                                */
	DLD_SUB_CHILD,       /* "child: " the parent's view of the I/O child */
	DLD_SUB_COROSYNC,    /* "corosync mode: "                          */
	DLD_SUB_ROLE,        /* "role: "                                   */
	DLD_SUB_IO,          /* "io: " the I/O child                       */
	DLD_SUB_TUN,         /* "tun: " TUN mode's interface (doc/vnic.md)  */
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

/* Syslog; stderr with --foreground unless stderr is the journal; the log
 * file; the blackbox (dumped on SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL
 * to $STATE_DIRECTORY/fdata-disklinkd-PID, as corosync's fdata). */
void dld_log_init(struct dld_config *c);
/* SIGHUP: reopen the log file (after logrotate moved it). */
void dld_log_reopen(const struct dld_config *c);
/* Is fd the journal's stream?  journal_stream: $JOURNAL_STREAM, "DEV:INO"
 * of the stream systemd connected (NULL: not under systemd). */
bool dld_log_fd_is_journal(int fd, const char *journal_stream);
/* The blackbox's dump file in state_dir (NULL or empty: DLD_STATE_DIR; a
 * ':'-separated list: its first).  0, or -1 when it does not fit. */
int dld_log_blackbox_path(char *buf, size_t len, const char *state_dir, long pid);
void dld_log_set_debug(const struct dld_config *c, bool debug);
void dld_log_fini(void);

#endif
