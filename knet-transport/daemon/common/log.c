/* Logging through libqb, like corosync: syslog always, stderr in the
 * foreground, and a log file on request. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

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

static const char *const subsys_prefix[DLD_SUB_MAX] = {
	[DLD_SUB_MAIN] = "",
	[DLD_SUB_CONFIG] = "config: ",
	[DLD_SUB_SOCKETS] = "sockets: ",
	[DLD_SUB_CONTROL] = "control: ",
	[DLD_SUB_CHILD] = "child: ",
	[DLD_SUB_COROSYNC] = "corosync mode: ",
	[DLD_SUB_ROLE] = "role: ",
	[DLD_SUB_IO] = "io: ",
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
