/* Logging through libqb, like corosync: syslog, stderr in the foreground
 * (unless stderr is the journal, which syslog already reaches: no line
 * twice), a log file on request (reopened on SIGHUP, for logrotate), and
 * the blackbox, dumped on a fatal signal. */
#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "dld.h"
#include "shm_cleanup.h"

#define DLD_LOG_NAME "disklinkd"

/* Where a fatal signal dumps the blackbox: made at start-up, since the
 * handler may only call what is async-signal-safe enough (as corosync's). */
static char blackbox_path[PATH_MAX];
/* The shared lock that marks our blackbox's files in use (shm_cleanup.h). */
static int blackbox_lock = -1;

bool dld_log_fd_is_journal(int fd, const char *journal_stream)
{
	unsigned long long dev, ino;
	struct stat st;

	if (!journal_stream || sscanf(journal_stream, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(fd, &st))
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int dld_log_blackbox_path(char *buf, size_t len, const char *state_dir, long pid)
{
	int n;

	if (!state_dir || !state_dir[0])
		state_dir = DLD_STATE_DIR;
	/* StateDirectory= may list several, separated by ':': the first. */
	n = snprintf(buf, len, "%.*s/fdata-disklinkd-%ld", (int)strcspn(state_dir, ":"),
		     state_dir, pid);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static void on_fatal_signal(int sig)
{
	qb_log_blackbox_write_to_file(blackbox_path);
	/* SA_RESETHAND: the default action (a core) follows. */
	raise(sig);
}

static void blackbox_init(void)
{
	static const int fatal[] = { SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL };
	struct sigaction sa = { .sa_handler = on_fatal_signal, .sa_flags = SA_RESETHAND };
	int removed;

	/* What killed daemons left in /dev/shm, before our own files exist. */
	removed = dld_shm_cleanup(DLD_SHM_DIR, DLD_LOG_NAME);
	if (removed > 0)
		log_info(DLD_SUB_MAIN, "removed %d blackbox files of stopped daemons from %s",
			 removed, DLD_SHM_DIR);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, 256 * 1024);
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE);
	if (blackbox_lock >= 0)
		close(blackbox_lock);
	blackbox_lock = dld_shm_hold(DLD_SHM_DIR, DLD_LOG_NAME, getpid());
	if (dld_log_blackbox_path(blackbox_path, sizeof(blackbox_path),
				  getenv("STATE_DIRECTORY"), (long)getpid()))
		return;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
#ifdef __SANITIZE_ADDRESS__
		/* An ASan build keeps ASan's own report of a bad access. */
		if (fatal[i] != SIGABRT)
			continue;
#endif
		sigaction(fatal[i], &sa, NULL);
	}
}

static void set_level(int32_t target, int level)
{
	qb_log_filter_ctl(target, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
}

void dld_log_init(struct dld_config *c)
{
	int level = c->tun.debug ? LOG_DEBUG : LOG_INFO;

	qb_log_init(DLD_LOG_NAME, LOG_DAEMON, level);
	qb_log_format_set(QB_LOG_SYSLOG, "%b");
	set_level(QB_LOG_SYSLOG, level);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_TRUE);
	/* Under systemd stderr is the journal, which syslog reaches too. */
	if (c->foreground && !dld_log_fd_is_journal(STDERR_FILENO, getenv("JOURNAL_STREAM"))) {
		qb_log_format_set(QB_LOG_STDERR, "%t %N[%P] %p: %b");
		set_level(QB_LOG_STDERR, level);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	if (c->log_file[0]) {
		c->log_target = qb_log_file_open(c->log_file);
		if (c->log_target < 0) {
			qb_log(LOG_WARNING, "cannot open log file %s: %s (logging to syslog only)",
			       c->log_file, strerror(-c->log_target));
			c->log_target = -1;
		} else {
			qb_log_format_set(c->log_target, "%t %N[%P] %p: %b");
			set_level(c->log_target, level);
			qb_log_ctl(c->log_target, QB_LOG_CONF_ENABLED, QB_TRUE);
		}
	}
	blackbox_init();
}

void dld_log_reopen(const struct dld_config *c)
{
	if (c->log_target < 0)
		return;
	if (qb_log_file_reopen(c->log_target, NULL) < 0)
		qb_log(LOG_WARNING, "cannot reopen the log file %s", c->log_file);
}

void dld_log_set_debug(const struct dld_config *c, bool debug)
{
	int level = debug ? LOG_DEBUG : LOG_INFO;

	set_level(QB_LOG_SYSLOG, level);
	set_level(QB_LOG_STDERR, level);
	if (c->log_target >= 0)
		set_level(c->log_target, level);
}

void dld_log_fini(void)
{
	qb_log_fini();
	if (blackbox_lock >= 0)
		close(blackbox_lock);
	blackbox_lock = -1;
}

static const char *const subsys_prefix[DLD_SUB_MAX] = {
	[DLD_SUB_MAIN] = "",
	[DLD_SUB_CONFIG] = "config: ",
	[DLD_SUB_SOCKETS] = "sockets: ",
	[DLD_SUB_CONTROL] = "control: ",
	[DLD_SUB_CHILD] = "child: ",
	[DLD_SUB_COROSYNC] = "corosync mode: ",
	[DLD_SUB_ROLE] = "role: ",
	[DLD_SUB_IO] = "io: ",
	[DLD_SUB_TUN] = "tun: ",
};

const char *dld_subsys_prefix(enum dld_subsys sub)
{
	return (unsigned)sub < DLD_SUB_MAX ? subsys_prefix[sub] : "";
}

static uint32_t key_hash(const char *key)
{
	uint32_t h = 2166136261u;      /* FNV-1a */

	for (; key && *key; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return h;
}

bool dld_lograte_ok(struct dld_lograte *r, const char *key, uint64_t now_ns,
		    uint64_t interval_ns)
{
	uint32_t h = key_hash(key);

	if (r->logged && h == r->key_hash &&
	    (interval_ns == 0 || now_ns < r->next_ns)) {
		r->suppressed++;
		return false;
	}
	r->held = r->suppressed;
	r->suppressed = 0;
	r->logged = true;
	r->key_hash = h;
	r->next_ns = now_ns + interval_ns;
	return true;
}

void dld_lograte_reset(struct dld_lograte *r)
{
	*r = (struct dld_lograte){ .logged = false };
}
