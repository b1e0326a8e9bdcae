/* disklinkd configuration: the command line, then the config file
 * (key = value lines, # comments) for what the command line left unset;
 * SIGHUP rereads the file's tunables.  What the settings are is the
 * table in settings.c; this file reads them. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bio_uring.h"
#include "settings.h"
#include "text.h"

/* Where an error goes: stderr before the daemon runs, the log after. */
struct sink {
	bool log;
	const char *where;             /* "FILE:LINE" or "command line"     */
};

static void __attribute__((format(printf, 2, 3))) cfg_err(const struct sink *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->log)
		log_err(DLD_SUB_CONFIG, "%s: %s", s->where, msg);
	else
		fprintf(stderr, "disklinkd: %s: %s\n", s->where, msg);
}

/* getopt_long's options, from the table: val is 256 + the setting's index,
 * or its short option. */
static void build_options(struct option *opts, char *shorts, size_t shorts_len)
{
	size_t n = 0, k = strlen(shorts);

	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];
		bool flag = s->kind == DLD_K_SWITCH || s->kind == DLD_K_ACTION ||
			    s->kind == DLD_K_BOOL;

		if (!s->opt)
			continue;
		opts[n++] = (struct option){ .name = s->opt,
			.has_arg = flag ? no_argument : required_argument,
			.val = s->short_opt ? s->short_opt : 256 + (int)i };
		if (s->short_opt && k + 1 < shorts_len) {
			shorts[k++] = s->short_opt;
			shorts[k] = 0;
		}
	}
	opts[n] = (struct option){ .name = NULL };
}

static const struct dld_setting *option_setting(int val)
{
	if (val >= 256 && (size_t)(val - 256) < dld_settings_count)
		return &dld_settings[val - 256];
	for (size_t i = 0; i < dld_settings_count; i++)
		if (dld_settings[i].short_opt && dld_settings[i].short_opt == val)
			return &dld_settings[i];
	return NULL;
}

static void run_action(enum dld_action act)
{
	if (act == DLD_ACT_HELP)
		dld_settings_usage(stdout);
	else if (act == DLD_ACT_VERSION)
		printf("disklinkd %s\n", DL_VERSION_STRING);
	else
		dld_settings_man(stdout);
}

static int cmdline(struct dld_config *c, int argc, char **argv, bool *exit_now)
{
	struct sink snk = { .log = false, .where = "command line" };
	struct option opts[DLD_SETTINGS_MAX + 1];
	char shorts[DLD_SETTINGS_MAX + 2] = ":", what[64], err[512];
	int opt;

	build_options(opts, shorts, sizeof(shorts));
	opterr = 0;
	optind = 0;                    /* start over (a test parses many) */
	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		const struct dld_setting *s = option_setting(opt);

		if (opt == ':') {
			cfg_err(&snk, "option '%s' needs a value (see disklinkd --help)",
				argv[optind - 1]);
			return -1;
		}
		if (!s) {
			cfg_err(&snk, "unknown option '%s' (see disklinkd --help)",
				argv[optind - 1]);
			return -1;
		}
		if (s->kind == DLD_K_ACTION) {
			run_action(s->action);
			*exit_now = true;
			return 0;
		}
		snprintf(what, sizeof(what), "--%s", s->opt);
		if (dld_setting_parse(s, c, what, optarg ? optarg : "1", err, sizeof(err))) {
			cfg_err(&snk, "%s", err);
			return -1;
		}
		c->set |= s->set_bit;
	}
	if (optind < argc) {
		cfg_err(&snk, "unexpected argument '%s' (see disklinkd --help)", argv[optind]);
		return -1;
	}
	c->given |= c->set;
	return 0;
}

/* What went wrong in a file: a tunable (or the syntax), or another key. */
enum { BAD_TUNABLE = 1u << 0, BAD_OTHER = 1u << 1 };

/* One key of the config file; settings given on the command line win.  The
 * first line of a list (peer, peer_device) replaces the list. */
static int file_key(struct dld_config *c, const struct sink *snk, const char *key,
		    const char *val, uint32_t *cleared, unsigned *bad)
{
	const struct dld_setting *s = dld_setting_by_key(key);
	bool tunable;
	uint32_t saved = 0;
	char err[512];

	if (!s) {
		cfg_err(snk, "unknown key '%s': see disklinkd(8) for the keys", key);
		*bad |= BAD_OTHER;
		return -1;
	}
	tunable = s->reload == DLD_RELOAD_TUNABLE;
	if (!tunable && (c->set & s->set_bit))
		return 0;
	if (s->kind == DLD_K_PEERS && !(*cleared & s->set_bit))
		c->peer_count = 0;
	if (s->kind == DLD_K_PEER_DEVS && !(*cleared & s->set_bit))
		c->peer_dev_count = 0;
	*cleared |= s->set_bit;
	if (tunable)
		saved = *(uint32_t *)dld_setting_ptr(s, c);
	if (dld_setting_parse(s, c, key, val, err, sizeof(err))) {
		cfg_err(snk, "%s", err);
		*bad |= tunable ? BAD_TUNABLE : BAD_OTHER;
		return -1;
	}
	if (tunable && (c->set & s->set_bit))      /* --debug: stays on */
		*(uint32_t *)dld_setting_ptr(s, c) = saved;
	else
		c->given |= s->set_bit;
	return 0;
}

/* One line: blank, a comment, or key = value. */
static void file_line(struct dld_config *c, const struct sink *snk, char *line,
		      uint32_t *cleared, unsigned *bad)
{
	char *p = strchr(line, '#'), *eq;

	if (p)
		*p = 0;
	p = dl_trim(line);
	if (!*p)
		return;
	eq = strchr(p, '=');
	if (!eq) {
		cfg_err(snk, "expected 'key = value', got '%s'", p);
		*bad |= BAD_TUNABLE;
		return;
	}
	*eq = 0;
	file_key(c, snk, dl_trim(p), dl_trim(eq + 1), cleared, bad);
}

/* Read the file into c; every bad line is reported (bad: what was bad).
 * missing_ok: a file that does not exist is no error.  0 or -1. */
static int read_file(const char *path, struct dld_config *c, bool log, bool missing_ok,
		     unsigned *bad)
{
	char line[1024], where[PATH_MAX + 32];
	struct sink snk = { .log = log, .where = where };
	uint32_t cleared = 0;
	unsigned n = 0;
	FILE *f;

	*bad = 0;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(where, sizeof(where), "%s", path);
		cfg_err(&snk, "cannot read the config file: %s", strerror(errno));
		*bad = BAD_TUNABLE;
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		snprintf(where, sizeof(where), "%s:%u", path, ++n);
		file_line(c, &snk, line, &cleared, bad);
	}
	fclose(f);
	return *bad ? -1 : 0;
}

/* Settings that bound others: restart_max_ms >= restart_min_ms,
 * lag_max_ms >= lag_warn_ms. */
static void tunables_fix(struct dld_tunables *t)
{
	if (t->restart_max_ms < t->restart_min_ms)
		t->restart_max_ms = t->restart_min_ms;
	if (t->lag_max_ms < t->lag_warn_ms)
		t->lag_max_ms = t->lag_warn_ms;
}

/* Corosync mode: the device is needed; what is given of the rest is only
 * checked against corosync later (config_corosync.c). */
static int check_corosync_mode(struct dld_config *c, const struct sink *s)
{
	if (!c->device[0]) {
		cfg_err(s, "missing the device (--device): give it on the command line or in %s",
			c->config_file);
		return -1;
	}
	if (c->local_text[0]) {
		struct sockaddr_storage ss;
		socklen_t len;

		if (dld_addr_parse(c->local_text, 0, &ss, &len)) {
			cfg_err(s, "invalid local address '%s': give an IPv4 or IPv6 address",
				c->local_text);
			return -1;
		}
	}
	return 0;
}

static int check_peer_devs(const struct dld_config *c, const struct sink *s)
{
	for (uint32_t i = 0; i < c->peer_dev_count; i++) {
		uint32_t id = c->peer_devs[i].node_id, k;

		for (k = 0; k < c->peer_count && c->peers[k].node_id != id; k++)
			;
		if (k == c->peer_count) {
			cfg_err(s, "peer device %u=%s names no peer: give --peer %u=ADDR too, or "
				"drop the device", id, c->peer_devs[i].path, id);
			return -1;
		}
	}
	return 0;
}

static int check_complete(struct dld_config *c)
{
	struct sink s = { .log = false, .where = "configuration" };
	char err[256];

	tunables_fix(&c->tun);
	if (dld_engine_parse(c->io_engine, &(enum dld_io_engine){ 0 })) {
		cfg_err(&s, "invalid io_engine '%s': give auto, uring or psync", c->io_engine);
		return -1;
	}
	if (dld_tun_config_check(c, err, sizeof(err))) {
		cfg_err(&s, "%s", err);
		return -1;
	}
	if (c->link >= 0)
		return check_corosync_mode(c, &s);
	if (!c->device[0] || !c->node_id || !c->port || !c->local_text[0] || !c->peer_count) {
		cfg_err(&s, "missing %s: give it on the command line or in %s (or use --link N "
			"to take them from corosync)",
			!c->device[0] ? "the device (--device)" :
			!c->node_id ? "the node id (--node-id)" :
			!c->port ? "the port (--port)" :
			!c->local_text[0] ? "the local address (--local-addr)" :
			"the peers (--peer ID=ADDR)", c->config_file);
		return -1;
	}
	if (!c->node_name[0]) {
		cfg_err(&s, "no node name: give --node-name");
		return -1;
	}
	if (dld_config_resolve(c, err, sizeof(err))) {
		cfg_err(&s, "%s", err);
		return -1;
	}
	return check_peer_devs(c, &s);
}

int dld_config_load(struct dld_config *c, int argc, char **argv, bool *exit_now)
{
	unsigned bad;

	*exit_now = false;
	if (cmdline(c, argc, argv, exit_now))
		return DLD_EXIT_USAGE;
	if (*exit_now)
		return 0;
	if (read_file(c->config_file, c, false, !(c->set & DLD_SET_CONFIG), &bad))
		return DLD_EXIT_USAGE;
	if (check_complete(c))
		return DLD_EXIT_USAGE;
	return 0;
}

/* Names the restart-class keys whose value in fresh differs from c's:
 * "device, port and peer" (empty: none). */
static void restart_changes(const struct dld_config *c, const struct dld_config *fresh,
			    char *buf, size_t len)
{
	const char *names[DLD_SETTINGS_MAX];
	size_t n = 0, used = 0;

	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];

		if (s->key && s->reload == DLD_RELOAD_RESTART && !dld_setting_equal(s, c, fresh))
			names[n++] = s->key;
	}
	buf[0] = 0;
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i == 0 ? "" : i + 1 == n ? " and " : ", ", names[i]);
}

int dld_config_reload(const struct dld_config *c, struct dld_tunables *tun)
{
	struct dld_config *fresh = malloc(sizeof(*fresh));
	char changed[512];
	unsigned bad;

	if (!fresh)
		return -1;
	/* The file on top of the command line, and of the tunables in force. */
	dld_config_defaults(fresh);
	for (size_t i = 0; i < dld_settings_count; i++)
		if (c->set & dld_settings[i].set_bit)
			dld_setting_copy(&dld_settings[i], fresh, c);
	fresh->set = c->set;
	fresh->tun = *tun;
	if (read_file(c->config_file, fresh, true, true, &bad) && (bad & BAD_TUNABLE)) {
		free(fresh);
		return -1;
	}
	tunables_fix(&fresh->tun);
	*tun = fresh->tun;
	if (!bad) {
		/* TUN mode's default address, as at start (not a change). */
		dld_tun_config_check(fresh, changed, sizeof(changed));
		restart_changes(c, fresh, changed, sizeof(changed));
		if (changed[0])
			log_warn(DLD_SUB_CONFIG, "%s: %s changes need a restart of disklinkd; "
				 "tunables were reloaded", c->config_file, changed);
	}
	free(fresh);
	return 0;
}
