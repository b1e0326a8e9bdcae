/* Logging through libqb, like corosync: syslog always, stderr in the
 * foreground, and a log file on request. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <qb/qblog.h>

#include "dld.h"

static void set_level(int32_t target, int level)
{
	qb_log_filter_ctl(target, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", level);
}

void dld_log_init(struct dld_config *c)
{
	int level = c->tun.debug ? LOG_DEBUG : LOG_INFO;

	qb_log_init("disklinkd", LOG_DAEMON, level);
	qb_log_format_set(QB_LOG_SYSLOG, "%b");
	set_level(QB_LOG_SYSLOG, level);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_TRUE);
	if (c->foreground) {
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
}

uint64_t dld_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t dld_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
