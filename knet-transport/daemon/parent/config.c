/* disklinkd configuration: the command line, then the config file
 * (key = value lines, # comments) for what the command line left unset;
 * SIGHUP rereads the file's tunables. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <qb/qblog.h>

#include "dld.h"

struct tunable {
	const char *name;
	size_t off;
	uint32_t min, max;
};

#define TUN(n, lo, hi) { .name = #n, .off = offsetof(struct dld_tunables, n), .min = (lo), .max = (hi) }
static const struct tunable tunables[] = {
	TUN(poll_fast_us, 50, 1000000),
	TUN(poll_idle_us, 100, 10000000),
	TUN(fast_window_ms, 0, 60000),
	TUN(header_interval_ms, 100, 60000),
	TUN(io_timeout_ms, 100, 600000),
	TUN(abandon_ms, 0, 3600000),
	TUN(stop_timeout_ms, 100, 60000),
	TUN(restart_min_ms, 10, 600000),
	TUN(restart_max_ms, 10, 3600000),
	TUN(sb_check_ms, 100, 600000),
	TUN(read_ahead, 1, 1024),
	TUN(max_batch_blocks, 1, 65536),
	TUN(torn_limit, 1, 1000),
	TUN(queue_kib, 256, 1048576),
	TUN(coalesce_us, 0, 10000),
	TUN(dsync, 0, 1),
	TUN(debug, 0, 1),
	TUN(lag_warn_ms, 1, 600000),
	TUN(lag_max_ms, 1, 600000),
	TUN(frozen_ms, 0, 600000),
};
#define N_TUNABLES (sizeof(tunables) / sizeof(tunables[0]))

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
		qb_log(LOG_ERR, "%s: %s", s->where, msg);
	else
		fprintf(stderr, "disklinkd: %s: %s\n", s->where, msg);
}

void dld_config_defaults(struct dld_config *c)
{
	struct utsname u;

	memset(c, 0, sizeof(*c));
	c->log_target = -1;
	c->link = -1;
	snprintf(c->control, sizeof(c->control), "%s", DLD_DEFAULT_CONTROL);
	snprintf(c->config_file, sizeof(c->config_file), "%s", DLD_DEFAULT_CONFIG);
	if (uname(&u) == 0) {
		u.nodename[strcspn(u.nodename, ".")] = 0;
		snprintf(c->node_name, sizeof(c->node_name), "%.63s", u.nodename);
	}
	c->tun = (struct dld_tunables){
		.poll_fast_us = 500,
		.poll_idle_us = 5000,
		.fast_window_ms = 10,
		.header_interval_ms = 1000,
		.io_timeout_ms = 2000,
		.abandon_ms = 10000,
		.stop_timeout_ms = 2000,
		.restart_min_ms = 500,
		.restart_max_ms = 30000,
		.sb_check_ms = 5000,
		.read_ahead = 8,
		.max_batch_blocks = 64,
		.torn_limit = 4,
		.queue_kib = 4096,
		.coalesce_us = 100,
		.dsync = 0,
		.debug = 0,
		.lag_warn_ms = 750,
		.lag_max_ms = 1500,
		.frozen_ms = 0,
	};
}

static int parse_u32(const struct sink *s, const char *what, const char *text, uint32_t min,
		     uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
		cfg_err(s, "invalid %s '%s': give a number from %u to %u", what, text, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int dld_addr_parse(const char *text, uint32_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

void dld_addr_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a6->sin6_port));
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(a4->sin_port));
	}
}

static int add_peer(struct dld_config *c, const struct sink *s, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char idtext[16];
	struct dld_peer_conf *p;
	uint32_t id;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(idtext) || !eq[1]) {
		cfg_err(s, "invalid peer '%s': write NODEID=ADDRESS, e.g. 2=127.77.0.2", spec);
		return -1;
	}
	memcpy(idtext, spec, (size_t)(eq - spec));
	idtext[eq - spec] = 0;
	if (parse_u32(s, "peer node id", idtext, 1, DL_NODE_ID_MAX, &id))
		return -1;
	for (uint32_t i = 0; i < c->peer_count; i++)
		if (c->peers[i].node_id == id) {
			cfg_err(s, "peer %u given twice: give each peer node id once", id);
			return -1;
		}
	if (c->peer_count >= DLD_MAX_PEERS) {
		cfg_err(s, "too many peers: at most %u", DLD_MAX_PEERS);
		return -1;
	}
	p = &c->peers[c->peer_count];
	memset(p, 0, sizeof(*p));
	p->node_id = id;
	snprintf(p->text, sizeof(p->text), "%s", eq + 1);
	if (strlen(eq + 1) >= sizeof(p->text) ||
	    dld_addr_parse(p->text, 0, &p->addr, &p->addr_len)) {
		cfg_err(s, "invalid peer address '%s': give an IPv4 or IPv6 address", eq + 1);
		return -1;
	}
	c->peer_count++;
	return 0;
}

/* --peer-device ID=DEV / peer_device = ID=DEV. */
static int add_peer_dev(struct dld_config *c, const struct sink *s, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char idtext[16];
	struct dld_peer_dev *d;
	uint32_t id;

	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(idtext) || !eq[1]) {
		cfg_err(s, "invalid peer device '%s': write NODEID=DEVICE, e.g. 2=/dev/mapper/r2 "
			"or 2=UUID=<volume uuid>", spec);
		return -1;
	}
	memcpy(idtext, spec, (size_t)(eq - spec));
	idtext[eq - spec] = 0;
	if (parse_u32(s, "peer device node id", idtext, 1, DL_NODE_ID_MAX, &id))
		return -1;
	if (strlen(eq + 1) >= DLD_PEER_DEV_MAX) {
		cfg_err(s, "peer device path '%s' is longer than %u bytes: use a shorter path "
			"(e.g. a /dev/disk/by-id link)", eq + 1, DLD_PEER_DEV_MAX - 1);
		return -1;
	}
	for (uint32_t i = 0; i < c->peer_dev_count; i++)
		if (c->peer_devs[i].node_id == id) {
			cfg_err(s, "peer device of node %u given twice: give one device per peer", id);
			return -1;
		}
	if (c->peer_dev_count >= DLD_MAX_PEERS) {
		cfg_err(s, "too many peer devices: at most %u", DLD_MAX_PEERS);
		return -1;
	}
	d = &c->peer_devs[c->peer_dev_count++];
	d->node_id = id;
	snprintf(d->path, sizeof(d->path), "%s", eq + 1);
	return 0;
}

const char *dld_peer_device(const struct dld_config *c, uint32_t node_id)
{
	for (uint32_t i = 0; i < c->peer_dev_count; i++)
		if (c->peer_devs[i].node_id == node_id)
			return c->peer_devs[i].path;
	return NULL;
}

static int set_string(const struct sink *s, const char *what, char *dst, size_t len,
		      const char *val)
{
	if (!*val || strlen(val) >= len) {
		cfg_err(s, "invalid %s '%s': empty or longer than %zu bytes", what, val, len - 1);
		return -1;
	}
	snprintf(dst, len, "%s", val);
	return 0;
}

static int set_tunable(struct dld_tunables *t, const struct sink *s, const char *key,
		       const char *val, int *found)
{
	*found = 0;
	for (size_t i = 0; i < N_TUNABLES; i++) {
		if (strcmp(key, tunables[i].name))
			continue;
		*found = 1;
		if (!strcmp(key, "dsync") || !strcmp(key, "debug")) {
			if (!strcmp(val, "yes") || !strcmp(val, "on") || !strcmp(val, "true"))
				val = "1";
			else if (!strcmp(val, "no") || !strcmp(val, "off") || !strcmp(val, "false"))
				val = "0";
		}
		return parse_u32(s, key, val, tunables[i].min, tunables[i].max,
				 (uint32_t *)(void *)((char *)t + tunables[i].off));
	}
	return 0;
}

/* One key of the config file; settings given on the command line win. */
static int file_key(struct dld_config *c, const struct sink *s, const char *key,
		    const char *val, bool *peers_cleared, bool *devs_cleared)
{
	int found;

	if (set_tunable(&c->tun, s, key, val, &found))
		return -1;
	if (found) {
		if (c->set & DLD_SET_DEBUG)
			c->tun.debug = 1;
		return 0;
	}
	if (!strcmp(key, "device"))
		return (c->set & DLD_SET_DEVICE) ? 0 :
		       set_string(s, key, c->device, sizeof(c->device), val);
	if (!strcmp(key, "link")) {
		uint32_t link;

		if (c->set & DLD_SET_LINK)
			return 0;
		if (parse_u32(s, key, val, 0, 7, &link))
			return -1;
		c->link = (int32_t)link;
		return 0;
	}
	if (!strcmp(key, "node_id")) {
		if (c->set & DLD_SET_NODE_ID)
			return 0;
		c->given |= DLD_SET_NODE_ID;
		return parse_u32(s, key, val, 1, DL_NODE_ID_MAX, &c->node_id);
	}
	if (!strcmp(key, "node_name")) {
		if (c->set & DLD_SET_NODE_NAME)
			return 0;
		c->given |= DLD_SET_NODE_NAME;
		return set_string(s, key, c->node_name, sizeof(c->node_name), val);
	}
	if (!strcmp(key, "port")) {
		if (c->set & DLD_SET_PORT)
			return 0;
		c->given |= DLD_SET_PORT;
		return parse_u32(s, key, val, 1, 65535, &c->port);
	}
	if (!strcmp(key, "local_addr")) {
		if (c->set & DLD_SET_LOCAL)
			return 0;
		c->given |= DLD_SET_LOCAL;
		return set_string(s, key, c->local_text, sizeof(c->local_text), val);
	}
	if (!strcmp(key, "peer")) {
		if (c->set & DLD_SET_PEERS)
			return 0;
		if (!*peers_cleared) {
			c->peer_count = 0;
			*peers_cleared = true;
		}
		c->given |= DLD_SET_PEERS;
		return add_peer(c, s, val);
	}
	if (!strcmp(key, "peer_device")) {
		if (c->set & DLD_SET_PEER_DEVS)
			return 0;
		if (!*devs_cleared) {
			c->peer_dev_count = 0;
			*devs_cleared = true;
		}
		c->given |= DLD_SET_PEER_DEVS;
		return add_peer_dev(c, s, val);
	}
	if (!strcmp(key, "cluster")) {
		c->given |= DLD_SET_CLUSTER;
		return set_string(s, key, c->cluster, sizeof(c->cluster), val);
	}
	if (!strcmp(key, "control"))
		return (c->set & DLD_SET_CONTROL) ? 0 :
		       set_string(s, key, c->control, sizeof(c->control), val);
	if (!strcmp(key, "log_file"))
		return (c->set & DLD_SET_LOG_FILE) ? 0 :
		       set_string(s, key, c->log_file, sizeof(c->log_file), val);
	if (!strcmp(key, "pid_file"))
		return (c->set & DLD_SET_PID_FILE) ? 0 :
		       set_string(s, key, c->pid_file, sizeof(c->pid_file), val);
	cfg_err(s, "unknown key '%s': see disklinkd(8) for the keys", key);
	return -1;
}

static char *trim(char *p)
{
	char *e;

	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return p;
}

/* Read the file into c, or, when tun is given, its tunables into tun alone.  missing_ok: a
 * file that does not exist is no error. */
static int read_file(const char *path, struct dld_config *c, struct dld_tunables *tun,
		     bool log, bool missing_ok)
{
	char line[1024], where[PATH_MAX + 32];
	struct sink s = { .log = log, .where = where };
	bool peers_cleared = false, devs_cleared = false;
	unsigned n = 0;
	int rc = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(where, sizeof(where), "%s", path);
		cfg_err(&s, "cannot read the config file: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p, *eq, *key, *val;

		n++;
		snprintf(where, sizeof(where), "%s:%u", path, n);
		p = strchr(line, '#');
		if (p)
			*p = 0;
		p = trim(line);
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			cfg_err(&s, "expected 'key = value', got '%s'", p);
			rc = -1;
			continue;
		}
		*eq = 0;
		key = trim(p);
		val = trim(eq + 1);
		if (tun) {
			int found;

			if (set_tunable(tun, &s, key, val, &found))
				rc = -1;
			continue;
		}
		if (file_key(c, &s, key, val, &peers_cleared, &devs_cleared))
			rc = -1;
	}
	fclose(f);
	return rc;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: disklinkd --device DEV --link N [OPTIONS]          (corosync mode)\n"
		"       disklinkd --device DEV --node-id N --port P --local-addr ADDR\n"
		"                 --peer ID=ADDR [--peer ID=ADDR ...] [OPTIONS]\n"
		"Carries a knet UDP link through a disklink volume.\n\n"
		"  --device DEV        the volume: a device path or UUID=<volume uuid>\n"
		"  --link N            corosync mode: serve knet link N (0..7); node id,\n"
		"                      addresses, port and cluster come from corosync\n"
		"  --node-id N         this node's knet node id (1..65535)\n"
		"  --port P            the link's UDP port\n"
		"  --local-addr ADDR   the local knet's link address (it binds ADDR:P)\n"
		"  --peer ID=ADDR      a peer's node id and link address (bound here)\n"
		"  --peer-device ID=DEV  read peer ID's ring from DEV (its mirror, R2)\n"
		"                      instead of --device; repeatable\n"
		"  --node-name NAME    written into the slot header (default: hostname)\n"
		"  --control PATH      status socket (default %s)\n"
		"  --config FILE       config file (default %s)\n"
		"  --log-file FILE     also log to FILE\n"
		"  --pid-file FILE     write the daemon's pid to FILE\n"
		"  -f, --foreground    stay in the foreground, log to stderr\n"
		"  --debug             debug logging\n"
		"  -h, --help, --version\n",
		DLD_DEFAULT_CONTROL, DLD_DEFAULT_CONFIG);
}

enum {
	OPT_DEVICE = 256, OPT_NODE_ID, OPT_PORT, OPT_LOCAL, OPT_PEER, OPT_CONTROL, OPT_CONFIG,
	OPT_NODE_NAME, OPT_LOG_FILE, OPT_DEBUG, OPT_PID_FILE, OPT_VERSION, OPT_LINK,
	OPT_PEER_DEV,
};

static const struct option options[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "link", required_argument, NULL, OPT_LINK },
	{ "node-id", required_argument, NULL, OPT_NODE_ID },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "local-addr", required_argument, NULL, OPT_LOCAL },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "peer-device", required_argument, NULL, OPT_PEER_DEV },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "node-name", required_argument, NULL, OPT_NODE_NAME },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "pid-file", required_argument, NULL, OPT_PID_FILE },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "foreground", no_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int cmdline(struct dld_config *c, int argc, char **argv, bool *exit_now)
{
	struct sink s = { .log = false, .where = "command line" };
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":fh", options, NULL)) != -1) {
		int rc = 0;

		switch (opt) {
		case OPT_DEVICE:
			rc = set_string(&s, "device", c->device, sizeof(c->device), optarg);
			c->set |= DLD_SET_DEVICE;
			break;
		case OPT_LINK: {
			uint32_t link = 0;

			rc = parse_u32(&s, "--link", optarg, 0, 7, &link);
			c->link = (int32_t)link;
			c->set |= DLD_SET_LINK;
			break;
		}
		case OPT_NODE_ID:
			rc = parse_u32(&s, "--node-id", optarg, 1, DL_NODE_ID_MAX, &c->node_id);
			c->set |= DLD_SET_NODE_ID;
			break;
		case OPT_PORT:
			rc = parse_u32(&s, "--port", optarg, 1, 65535, &c->port);
			c->set |= DLD_SET_PORT;
			break;
		case OPT_LOCAL:
			rc = set_string(&s, "--local-addr", c->local_text, sizeof(c->local_text),
					optarg);
			c->set |= DLD_SET_LOCAL;
			break;
		case OPT_PEER:
			rc = add_peer(c, &s, optarg);
			c->set |= DLD_SET_PEERS;
			break;
		case OPT_PEER_DEV:
			rc = add_peer_dev(c, &s, optarg);
			c->set |= DLD_SET_PEER_DEVS;
			break;
		case OPT_CONTROL:
			rc = set_string(&s, "--control", c->control, sizeof(c->control), optarg);
			c->set |= DLD_SET_CONTROL;
			break;
		case OPT_CONFIG:
			rc = set_string(&s, "--config", c->config_file, sizeof(c->config_file),
					optarg);
			c->config_explicit = true;
			break;
		case OPT_NODE_NAME:
			rc = set_string(&s, "--node-name", c->node_name, sizeof(c->node_name),
					optarg);
			c->set |= DLD_SET_NODE_NAME;
			break;
		case OPT_LOG_FILE:
			rc = set_string(&s, "--log-file", c->log_file, sizeof(c->log_file), optarg);
			c->set |= DLD_SET_LOG_FILE;
			break;
		case OPT_PID_FILE:
			rc = set_string(&s, "--pid-file", c->pid_file, sizeof(c->pid_file), optarg);
			c->set |= DLD_SET_PID_FILE;
			break;
		case OPT_DEBUG:
			c->tun.debug = 1;
			c->set |= DLD_SET_DEBUG;
			break;
		case 'f':
			c->foreground = true;
			break;
		case 'h':
			usage(stdout);
			*exit_now = true;
			return 0;
		case OPT_VERSION:
			printf("disklinkd %s\n", DL_VERSION_STRING);
			*exit_now = true;
			return 0;
		case ':':
			cfg_err(&s, "option '%s' needs a value (see disklinkd --help)",
				argv[optind - 1]);
			return -1;
		default:
			cfg_err(&s, "unknown option '%s' (see disklinkd --help)", argv[optind - 1]);
			return -1;
		}
		if (rc)
			return -1;
	}
	if (optind < argc) {
		cfg_err(&s, "unexpected argument '%s' (see disklinkd --help)", argv[optind]);
		return -1;
	}
	c->given |= c->set;
	return 0;
}

int dld_config_resolve(struct dld_config *c, char *err, size_t errlen)
{
	if (dld_addr_parse(c->local_text, c->port, &c->local, &c->local_len)) {
		snprintf(err, errlen, "invalid local address '%s': give an IPv4 or IPv6 address",
			 c->local_text);
		return -1;
	}
	for (uint32_t i = 0; i < c->peer_count; i++) {
		struct dld_peer_conf *p = &c->peers[i];

		if (p->node_id == c->node_id) {
			snprintf(err, errlen, "peer %u is this node's own id: list only the other "
				 "nodes", p->node_id);
			return -1;
		}
		if (dld_addr_parse(p->text, c->port, &p->addr, &p->addr_len)) {
			snprintf(err, errlen, "invalid address '%s' of peer %u: give an IPv4 or "
				 "IPv6 address", p->text, p->node_id);
			return -1;
		}
		if (p->addr.ss_family != c->local.ss_family) {
			snprintf(err, errlen, "peer %u address %s is not of the local address's "
				 "family", p->node_id, p->text);
			return -1;
		}
		if (!memcmp(&p->addr, &c->local, c->local_len)) {
			snprintf(err, errlen, "peer %u address %s is the local address: each needs "
				 "its own", p->node_id, p->text);
			return -1;
		}
		for (uint32_t j = 0; j < i; j++)
			if (!memcmp(&p->addr, &c->peers[j].addr, p->addr_len)) {
				snprintf(err, errlen, "peers %u and %u have the same address %s",
					 c->peers[j].node_id, p->node_id, p->text);
				return -1;
			}
	}
	return 0;
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

static int check_complete(struct dld_config *c)
{
	struct sink s = { .log = false, .where = "configuration" };
	char err[256];

	if (c->tun.restart_max_ms < c->tun.restart_min_ms)
		c->tun.restart_max_ms = c->tun.restart_min_ms;
	if (c->tun.lag_max_ms < c->tun.lag_warn_ms)
		c->tun.lag_max_ms = c->tun.lag_warn_ms;
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
	for (uint32_t i = 0; i < c->peer_dev_count; i++) {
		uint32_t id = c->peer_devs[i].node_id, k;

		for (k = 0; k < c->peer_count && c->peers[k].node_id != id; k++)
			;
		if (k == c->peer_count) {
			cfg_err(&s, "peer device %u=%s names no peer: give --peer %u=ADDR too, or "
				"drop the device", id, c->peer_devs[i].path, id);
			return -1;
		}
	}
	return 0;
}

int dld_config_load(struct dld_config *c, int argc, char **argv, bool *exit_now)
{
	*exit_now = false;
	if (cmdline(c, argc, argv, exit_now))
		return DLD_EXIT_USAGE;
	if (*exit_now)
		return 0;
	if (read_file(c->config_file, c, NULL, false, !c->config_explicit))
		return DLD_EXIT_USAGE;
	if (check_complete(c))
		return DLD_EXIT_USAGE;
	return 0;
}

int dld_config_reload(const struct dld_config *c, struct dld_tunables *tun)
{
	struct dld_config fresh;
	struct dld_tunables t = *tun;

	/* Tunables only; settings that need a restart are compared and named. */
	if (read_file(c->config_file, NULL, &t, true, true))
		return -1;
	if (c->set & DLD_SET_DEBUG)
		t.debug = 1;
	if (t.restart_max_ms < t.restart_min_ms)
		t.restart_max_ms = t.restart_min_ms;
	if (t.lag_max_ms < t.lag_warn_ms)
		t.lag_max_ms = t.lag_warn_ms;
	*tun = t;
	dld_config_defaults(&fresh);
	fresh.set = c->set;
	fresh.link = c->link;
	snprintf(fresh.device, sizeof(fresh.device), "%s", c->device);
	fresh.node_id = c->node_id;
	fresh.port = c->port;
	snprintf(fresh.local_text, sizeof(fresh.local_text), "%s", c->local_text);
	fresh.peer_count = c->peer_count;
	memcpy(fresh.peers, c->peers, sizeof(fresh.peers));
	fresh.peer_dev_count = c->peer_dev_count;
	memcpy(fresh.peer_devs, c->peer_devs, sizeof(fresh.peer_devs));
	snprintf(fresh.config_file, sizeof(fresh.config_file), "%s", c->config_file);
	if (read_file(c->config_file, &fresh, NULL, true, true) == 0) {
		bool peers_same = fresh.peer_count == c->peer_count;

		for (uint32_t i = 0; peers_same && i < c->peer_count; i++)
			peers_same = fresh.peers[i].node_id == c->peers[i].node_id &&
				     !strcmp(fresh.peers[i].text, c->peers[i].text);
		peers_same = peers_same && fresh.peer_dev_count == c->peer_dev_count;
		for (uint32_t i = 0; peers_same && i < c->peer_dev_count; i++)
			peers_same = fresh.peer_devs[i].node_id == c->peer_devs[i].node_id &&
				     !strcmp(fresh.peer_devs[i].path, c->peer_devs[i].path);
		if (strcmp(fresh.device, c->device) || fresh.link != c->link ||
		    fresh.node_id != c->node_id ||
		    fresh.port != c->port || strcmp(fresh.local_text, c->local_text) ||
		    !peers_same)
			qb_log(LOG_WARNING, "%s: device, link, node_id, port, local_addr, peer and "
			       "peer_device changes need a restart of disklinkd; tunables were reloaded",
			       c->config_file);
	}
	return 0;
}
