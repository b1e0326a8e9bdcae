/* `disklink corosync-link`: print (or apply) the corosync.conf link that
 * disklinkd serves: a loopback ring address per node, a priority below the
 * network links, a privileged port (only root may bind it, so no local
 * user can take the knet end while corosync does not hold it:
 * doc/security.md), and the equivalent `pcs cluster link add` command. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "corosync_conf.h"

#define DEFAULT_CONF "/etc/corosync/corosync.conf"
/* Link N's default port: below net.ipv4.ip_unprivileged_port_start (1024
 * unless lowered), like corosync's 5405 + N without its 5. */
#define DEFAULT_PORT_BASE 405

struct link_opts {
	const char *conf;
	int link;                  /* -1: the lowest free link */
	int priority;              /* -1: below the network links */
	int port;                  /* -1: DEFAULT_PORT_BASE + link */
	int apply;
	int reload;
	int tun;                   /* the nodes' dl0 addresses (disklinkd mode = tun) */
	const char *ipv6;          /* --tun-ipv6: the /64 ULA (tun_ipv6), or NULL */
	uint8_t prefix6[8];
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: disklink corosync-link [--config FILE] [--link N] [--priority P]\n"
		"                              [--port PORT] [--apply [--no-reload]]\n"
		"                              [--tun | --tun-ipv6 PREFIX]\n"
		"Print the corosync.conf link that disklinkd serves (ring address\n"
		"127.77.<id / 256>.<id %% 256> for node id), and the equivalent pcs command.\n"
		"  --config FILE  corosync.conf to read (default " DEFAULT_CONF ")\n"
		"  --link N       knet link number (default: the lowest unused)\n"
		"  --priority P   knet_link_priority (default: below every network link)\n"
		"  --port PORT    the link's UDP port, mcastport (default 405 + N: a port\n"
		"                 below 1024, which only root may bind)\n"
		"  --apply        add the link to FILE (backup in FILE.disklink.bak), then\n"
		"                 run 'corosync-cfgtool -R'; run it on every node, or use pcs\n"
		"  --no-reload    with --apply: do not run corosync-cfgtool -R\n"
		"  --tun          the link on the nodes' dl0 addresses (disklinkd mode = tun:\n"
		"                 169.254.<id / 256>.<id %% 256>, see doc/vnic.md)\n"
		"  --tun-ipv6 PREFIX  the link on the nodes' IPv6 dl0 addresses, PREFIX::<id>\n"
		"                 (PREFIX: disklinkd's tun_ipv6, fdXX:XXXX:XXXX:XXXX::/64)\n");
}

/* The address disklink proposes for a node id: loopback (relay mode) or
 * its dl0 address (TUN mode's plan, daemon/parent/tun_plan.h: IPv4, or
 * prefix::id in tun_ipv6's /64). */
static void link_addr(uint32_t nodeid, const struct link_opts *o, char *out, size_t len)
{
	uint8_t a[16] = { 0 };

	if (o->ipv6) {
		memcpy(a, o->prefix6, sizeof(o->prefix6));
		a[14] = (uint8_t)(nodeid >> 8);
		a[15] = (uint8_t)nodeid;
		inet_ntop(AF_INET6, a, out, (socklen_t)len);
		return;
	}
	snprintf(out, len, "%s.%u.%u", o->tun ? "169.254" : "127.77", nodeid >> 8,
		 nodeid & 0xffu);
}

/* --tun-ipv6's prefix: a /64 in fd00::/8 without host bits.  0 or -1. */
static int parse_prefix6(const char *text, uint8_t prefix[8])
{
	char buf[64];
	const char *slash = strchr(text, '/');
	uint8_t a[16];

	if (!slash || strcmp(slash, "/64") || (size_t)(slash - text) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash - text), text);
	if (inet_pton(AF_INET6, buf, a) != 1 || a[0] != 0xfd)
		return -1;
	for (size_t i = 8; i < 16; i++)
		if (a[i])
			return -1;
	memcpy(prefix, a, 8);
	return 0;
}

/* TUN mode's plan gives no address to id 0, 65535 (the broadcast) and the
 * ids that would land in the lab's 169.254.77.0/24. */
static bool tun_plan_has(uint32_t nodeid)
{
	return nodeid > 0 && nodeid < 65535 && (nodeid >> 8) != 77;
}

static int pick_priority(const struct dl_corosync_conf *cc)
{
	int lowest = 1;     /* corosync's default knet_link_priority */

	for (size_t i = 0; i < cc->n_ifaces; i++)
		if (cc->ifaces[i].priority >= 0 && cc->ifaces[i].priority < lowest)
			lowest = cc->ifaces[i].priority;
	return lowest > 0 ? lowest - 1 : 0;
}

static int check_conf(const struct dl_corosync_conf *cc, const char *path, int link,
		      const struct link_opts *o)
{
	if (cc->n_nodes == 0) {
		fprintf(stderr, "disklink: %s has no nodelist; add the nodes first\n", path);
		return -1;
	}
	if (cc->transport[0] && strcmp(cc->transport, "knet")) {
		fprintf(stderr, "disklink: %s uses transport '%s'; disklink needs transport: knet\n",
			path, cc->transport);
		return -1;
	}
	for (size_t i = 0; i < cc->n_nodes; i++) {
		if (cc->nodes[i].nodeid > 65535) {
			fprintf(stderr, "disklink: nodeid %u is above knet's limit of 65535\n",
				cc->nodes[i].nodeid);
			return -1;
		}
		if (o->tun && !o->ipv6 && !tun_plan_has(cc->nodes[i].nodeid)) {
			fprintf(stderr, "disklink: nodeid %u has no dl0 address in TUN mode's plan "
				"(doc/vnic.md): give the link's addresses by hand\n",
				cc->nodes[i].nodeid);
			return -1;
		}
	}
	if (dl_cc_link_used(cc, link)) {
		fprintf(stderr, "disklink: link %d already has ring%d_addr entries in %s; "
			"choose another with --link\n", link, link, path);
		return -1;
	}
	return 0;
}

static void print_link(const struct dl_corosync_conf *cc, int link, int prio, int port,
		       const struct link_opts *o)
{
	char addr[INET6_ADDRSTRLEN];
	const int tun = o->tun;

	printf("# disklink: knet link %d through the volume%s. In corosync.conf on every node:\n",
	       link, tun ? ", on the dl0 addresses (disklinkd mode = tun)" : "");
	printf("totem {\n    interface {\n        linknumber: %d\n"
	       "        knet_link_priority: %d\n        mcastport: %d\n    }\n}\n", link, prio,
	       port);
	printf("nodelist {\n");
	for (size_t i = 0; i < cc->n_nodes; i++) {
		link_addr(cc->nodes[i].nodeid, o, addr, sizeof(addr));
		printf("    node {   # nodeid %u%s%s\n        ring%d_addr: %s\n    }\n",
		       cc->nodes[i].nodeid, cc->nodes[i].name[0] ? ", " : "", cc->nodes[i].name,
		       link, addr);
	}
	printf("}\n");
	if (cc->link_mode[0] && strcmp(cc->link_mode, "passive"))
		printf("# note: totem.link_mode is '%s'; with 'passive' traffic uses the disk\n"
		       "# link only when the network links are down\n", cc->link_mode);
	printf("# or, on one node with pcs:\npcs cluster link add");
	for (size_t i = 0; i < cc->n_nodes; i++) {
		link_addr(cc->nodes[i].nodeid, o, addr, sizeof(addr));
		if (cc->nodes[i].name[0])
			printf(" %s=%s", cc->nodes[i].name, addr);
		else
			printf(" nodeid%u=%s", cc->nodes[i].nodeid, addr);
	}
	printf(" options linknumber=%d link_priority=%d mcastport=%d\n", link, prio, port);
	if (port >= 1024)
		printf("# warning: port %d is unprivileged: any local user may bind the knet end\n"
		       "# while corosync does not hold it; prefer a port below 1024\n", port);
}

static int write_file(const char *path, char **lines, size_t n)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.disklink.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[i]);
	if (fflush(f) || fsync(fileno(f))) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	fclose(f);
	return rename(tmp, path);
}

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "r"), *out;
	char buf[4096];
	size_t n;
	int rc = 0;

	if (!in)
		return -1;
	out = fopen(to, "w");
	if (!out) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	fclose(in);
	if (fclose(out))
		rc = -1;
	return rc;
}

/* Insert the interface into totem and a ring address into every node,
 * from the bottom up so earlier line numbers stay valid. */
static int apply(struct dl_corosync_conf *cc, const char *path, int link, int prio, int port,
		 const struct link_opts *o)
{
	size_t extra = cc->n_nodes + 5, n = 0;
	char **out = calloc(cc->n_lines + extra, sizeof(*out));
	char bak[4096];
	int rc = -1;

	if (!out)
		return -1;
	for (size_t ln = 0; ln < cc->n_lines; ln++) {
		for (size_t i = 0; i < cc->n_nodes; i++) {
			char addr[INET6_ADDRSTRLEN];

			if (cc->nodes[i].close_line != ln)
				continue;
			link_addr(cc->nodes[i].nodeid, o, addr, sizeof(addr));
			if (asprintf(&out[n++], "%sring%d_addr: %s", cc->nodes[i].indent, link,
				     addr) < 0)
				goto done;
		}
		out[n++] = strdup(cc->lines[ln]);
		if (ln == cc->totem_line) {
			const char *in = cc->totem_indent;

			if (asprintf(&out[n++], "%sinterface {", in) < 0 ||
			    asprintf(&out[n++], "%s%slinknumber: %d", in, in, link) < 0 ||
			    asprintf(&out[n++], "%s%sknet_link_priority: %d", in, in, prio) < 0 ||
			    asprintf(&out[n++], "%s%smcastport: %d", in, in, port) < 0 ||
			    asprintf(&out[n++], "%s}", in) < 0)
				goto done;
		}
	}
	snprintf(bak, sizeof(bak), "%s.disklink.bak", path);
	if (copy_file(path, bak)) {
		fprintf(stderr, "disklink: cannot back up %s to %s: %s\n", path, bak, strerror(errno));
		goto done;
	}
	if (write_file(path, out, n)) {
		fprintf(stderr, "disklink: cannot write %s: %s\n", path, strerror(errno));
		goto done;
	}
	printf("disklink: added link %d to %s (backup: %s)\n", link, path, bak);
	rc = 0;
done:
	for (size_t i = 0; i < n; i++)
		free(out[i]);
	free(out);
	return rc;
}

static int reload_corosync(void)
{
	int status = system("corosync-cfgtool -R");

	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "disklink: 'corosync-cfgtool -R' failed; is corosync running? "
			"The file was changed: reload later with corosync-cfgtool -R\n");
		return -1;
	}
	return 0;
}

/* The command line into o: -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct link_opts *o)
{
	static const struct option longopts[] = {
		{ .name = "config", .has_arg = required_argument, .val = 'c' },
		{ .name = "link", .has_arg = required_argument, .val = 'l' },
		{ .name = "priority", .has_arg = required_argument, .val = 'p' },
		{ .name = "port", .has_arg = required_argument, .val = 'P' },
		{ .name = "apply", .has_arg = no_argument, .val = 'a' },
		{ .name = "no-reload", .has_arg = no_argument, .val = 'n' },
		{ .name = "tun", .has_arg = no_argument, .val = 't' },
		{ .name = "tun-ipv6", .has_arg = required_argument, .val = '6' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->conf = optarg;
			break;
		case 'l':
			o->link = atoi(optarg);
			if (o->link < 0 || o->link >= DL_CC_MAX_LINKS) {
				fprintf(stderr, "disklink: --link must be 0 to %d\n", DL_CC_MAX_LINKS - 1);
				return 2;
			}
			break;
		case 'p':
			o->priority = atoi(optarg);
			break;
		case 'P':
			o->port = atoi(optarg);
			if (o->port < 1 || o->port > 65535) {
				fprintf(stderr, "disklink: --port must be 1 to 65535\n");
				return 2;
			}
			break;
		case 'a':
			o->apply = 1;
			break;
		case 'n':
			o->reload = 0;
			break;
		case 't':
			o->tun = 1;
			break;
		case '6':
			o->tun = 1;
			o->ipv6 = optarg;
			if (parse_prefix6(optarg, o->prefix6)) {
				fprintf(stderr, "disklink: --tun-ipv6 '%s' is not a unique local /64 "
					"prefix: give fdXX:XXXX:XXXX:XXXX::/64 (RFC 4193)\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

int dl_cmd_corosync_link(int argc, char **argv)
{
	struct link_opts o = { .conf = DEFAULT_CONF, .link = -1, .priority = -1, .port = -1,
			       .reload = 1 };
	struct dl_corosync_conf cc;
	char err[256];
	int rc = parse_opts(argc, argv, &o);

	if (rc >= 0)
		return rc;
	rc = 1;
	if (dl_cc_load(&cc, o.conf, err, sizeof(err))) {
		fprintf(stderr, "disklink: %s: %s\n", o.conf, err);
		return 1;
	}
	if (o.link < 0)
		o.link = dl_cc_free_link(&cc);
	if (o.link < 0) {
		fprintf(stderr, "disklink: every knet link number is in use in %s\n", o.conf);
		goto out;
	}
	if (o.priority < 0)
		o.priority = pick_priority(&cc);
	if (o.port < 0)
		o.port = DEFAULT_PORT_BASE + o.link;
	if (check_conf(&cc, o.conf, o.link, &o))
		goto out;
	if (!o.apply) {
		print_link(&cc, o.link, o.priority, o.port, &o);
		rc = 0;
		goto out;
	}
	if (apply(&cc, o.conf, o.link, o.priority, o.port, &o))
		goto out;
	rc = o.reload && reload_corosync() ? 1 : 0;
out:
	dl_cc_free(&cc);
	return rc;
}
