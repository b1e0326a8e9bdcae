/* TUN mode in corosync mode (doc/vnic.md): the link's configuration from
 * the FAKE cmap of fake_cmap.h (corosync 3.1.7's cmap for a 3-node
 * cluster; linked instead of libcmap and libcfg) when link 1 is on the
 * nodes' dl0 addresses: the addresses are checked (dl0 addresses, each
 * node's own in the IPv6 prefix), a contradiction with disklink's
 * configuration gets its one-line error, a reload takes the new peers
 * and keeps this node's address, tun_ipv6 is checked, and what
 * `disklink corosync-link --tun` (or --tun-ipv6) prints is what the daemon
 * accepts (the tool run on a corosync.conf, its ring1_addr lines put into
 * cmap). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmap_config.h"
#include "corosync_mode.h"
#include "ctx.h"
#include "tun_plan.h"

#include "fake_cmap.h"

struct fix {
	struct dld_cmap_link l;
	struct dld_config given, out;
	char err[256];
};

static const char *const ring1[] = {
	"nodelist.node.0.ring1_addr", "nodelist.node.1.ring1_addr", "nodelist.node.2.ring1_addr",
};

/* Link 1 on addresses a1, a2, a3 of nodes 1, 2, 3. */
static void link1(const char *a1, const char *a2, const char *a3)
{
	kv_set(ring1[0], KV_STR, a1, 0);
	kv_set(ring1[1], KV_STR, a2, 0);
	kv_set(ring1[2], KV_STR, a3, 0);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	table_reset();
	link1("169.254.0.1", "169.254.0.2", "169.254.0.3");
	dld_config_defaults(&f->given);
	f->given.link = 1;
	snprintf(f->given.mode, sizeof(f->given.mode), "tun");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* What apply() does (corosync_mode.c): load the link, complete the
 * configuration, check it for TUN mode.  0, or -1 (f->err). */
static int load(struct fix *f, uint32_t id)
{
	bool tun = !strcmp(f->given.mode, "tun");

	f->err[0] = 0;
	if (dld_cmap_load_mode(1, id, 1, tun, &f->l, f->err, sizeof(f->err)))
		return -1;
	if (dld_config_corosync(&f->given, &f->l, &f->out, f->err, sizeof(f->err)))
		return -1;
	return dld_tun_corosync_check(&f->out, f->err, sizeof(f->err));
}

static void test_dl0_link(void **state)
{
	struct fix *f = *state;
	char err[256];

	assert_int_equal(dld_tun_config_check(&f->given, err, sizeof(err)), 0);
	assert_int_equal(load(f, 2), 0);
	assert_int_equal(f->out.node_id, 2);
	assert_string_equal(f->out.local_text, "169.254.0.2");
	assert_int_equal(f->out.port, 5420);
	assert_int_equal(f->out.peer_count, 2);
	assert_string_equal(f->out.peers[0].text, "169.254.0.1");
	assert_int_equal(dld_tun_v4_of(&f->out.local, 2), 0xa9fe0002u);
	/* Relay mode refuses the same link: not loopback addresses. */
	snprintf(f->given.mode, sizeof(f->given.mode), "relay");
	assert_int_equal(load(f, 2), -1);
	assert_non_null(strstr(f->err, "not a loopback address"));
}

static void test_not_dl0(void **state)
{
	struct fix *f = *state;

	/* The relay link's loopback addresses. */
	link1("127.77.0.1", "127.77.0.2", "127.77.0.3");
	assert_int_equal(load(f, 1), -1);
	assert_string_equal(f->err, "link 1 of node 1 has address 127.77.0.1, not a dl0 "
			    "address: in TUN mode the link is on the interface (see 'disklink "
			    "corosync-link --tun')");
	/* IPv6 on the link: each node's own address in tun_ipv6's prefix. */
	link1("fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::5", "fd5a:1b2c:3d4e:1::3");
	snprintf(f->given.tun_ipv6, sizeof(f->given.tun_ipv6), "fd5a:1b2c:3d4e:1::/64");
	assert_int_equal(load(f, 1), -1);
	assert_string_equal(f->err, "TUN mode: corosync.conf gives node 2 ring1_addr "
			    "fd5a:1b2c:3d4e:1::5, not its dl0 address (in 169.254.0.0/16, or "
			    "prefix::node id in fd5a:1b2c:3d4e:1::/64): put link 1 on the dl0 "
			    "addresses (disklink corosync-link --tun --link 1)");
	link1("fd5a:1b2c:3d4e:1::1", "fd5a:1b2c:3d4e:1::2", "fd5a:1b2c:3d4e:1::3");
	assert_int_equal(load(f, 1), 0);
	assert_int_equal(dld_tun_v4_of(&f->out.local, 1), 0xa9fe0001u);  /* from the plan */
	/* Without tun_ipv6, IPv6 addresses are not dl0 addresses. */
	f->given.tun_ipv6[0] = 0;
	assert_int_equal(load(f, 1), -1);
	assert_non_null(strstr(f->err, "corosync.conf gives node 1 ring1_addr"));
}

static void test_contradiction(void **state)
{
	struct fix *f = *state;

	snprintf(f->given.local_text, sizeof(f->given.local_text), "169.254.0.9");
	f->given.given |= DLD_SET_LOCAL;
	assert_int_equal(load(f, 1), -1);
	assert_string_equal(f->err, "local address 169.254.0.9 given in the config file "
			    "contradicts corosync's ring1_addr 169.254.0.1 of node 1: drop the "
			    "setting or fix it");
}

static void test_config_checks(void **state)
{
	struct fix *f = *state;
	char err[256];

	snprintf(f->given.tun_ipv6, sizeof(f->given.tun_ipv6), "fd5a:1b2c:3d4e:1::/48");
	assert_int_equal(dld_tun_config_check(&f->given, err, sizeof(err)), -1);
	assert_string_equal(err, "TUN mode: tun_ipv6 'fd5a:1b2c:3d4e:1::/48' is not a unique "
			    "local /64 prefix: give fdXX:XXXX:XXXX:XXXX::/64 (RFC 4193, "
			    "doc/vnic.md)");
	snprintf(f->given.tun_ipv6, sizeof(f->given.tun_ipv6), "fd5a:1b2c:3d4e:1::/64");
	assert_int_equal(dld_tun_config_check(&f->given, err, sizeof(err)), 0);
	/* Corosync mode: no address from the plan before corosync gives the id. */
	assert_string_equal(f->given.local_text, "");
}

static void test_reload(void **state)
{
	struct fix *f = *state;
	struct dld_ctx *ctx = calloc(1, sizeof(*ctx));
	char err[256];

	assert_non_null(ctx);
	assert_int_equal(load(f, 1), 0);
	ctx->cfg = f->out;
	/* Node 3 leaves, node 4 comes: the peers follow. */
	kv_set("nodelist.node.2.nodeid", KV_U32, NULL, 4);
	kv_set(ring1[2], KV_STR, "169.254.0.4", 0);
	assert_int_equal(load(f, 1), 0);
	assert_int_equal(dld_tun_update(ctx, &f->out, err, sizeof(err)), 0);
	assert_int_equal(ctx->cfg.peer_count, 2);
	assert_int_equal(ctx->cfg.peers[1].node_id, 4);
	assert_string_equal(ctx->cfg.peers[1].text, "169.254.0.4");
	/* This node's address moves: kept, with the reason. */
	kv_set(ring1[0], KV_STR, "169.254.0.11", 0);
	assert_int_equal(load(f, 1), 0);
	assert_int_equal(dld_tun_update(ctx, &f->out, err, sizeof(err)), -1);
	assert_string_equal(err, "corosync.conf now gives this node ring1_addr 169.254.0.11, "
			    "not 169.254.0.1: the interface keeps 169.254.0.1 until disklinkd "
			    "restarts");
	assert_string_equal(ctx->cfg.local_text, "169.254.0.1");
	free(ctx);
}

/* `disklink corosync-link opt` on a corosync.conf of nodes 1, 2, 258:
 * its ring1_addr lines into cmap, then the daemon's checks as node 258.
 * 0, or -1 (f->err). */
static int round_trip(struct fix *f, const char *opt)
{
	static char addrs[3][64];
	const char *top = getenv("top_builddir");
	char path[] = "/tmp/dl-tun-cs.XXXXXX", cmd[600], line[256];
	const uint32_t ids[3] = { 1, 2, 258 };
	unsigned n = 0, port = 0;
	FILE *c, *p;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	c = fdopen(fd, "w");
	assert_non_null(c);
	fprintf(c, "totem {\n    version: 2\n    cluster_name: lab\n    transport: knet\n}\n"
		"nodelist {\n");
	for (unsigned i = 0; i < 3; i++)
		fprintf(c, "    node {\n        ring0_addr: 10.0.0.%u\n        nodeid: %u\n"
			"        name: n%u\n    }\n", i + 1, ids[i], ids[i]);
	fprintf(c, "}\n");
	fclose(c);
	snprintf(cmd, sizeof(cmd), "%s/knet-transport/disklink corosync-link --config %s %s",
		 top, path, opt);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (n < 3 && sscanf(line, " ring1_addr: %63s", addrs[n]) == 1)
			n++;
		sscanf(line, " mcastport: %u", &port);
	}
	assert_int_equal(pclose(p), 0);
	unlink(path);
	assert_int_equal(n, 3);
	kv_set("nodelist.node.2.nodeid", KV_U32, NULL, 258);
	link1(addrs[0], addrs[1], addrs[2]);
	kv_set("totem.interface.1.mcastport", KV_U16, NULL, port);
	if (load(f, 258))
		return -1;
	assert_int_equal(f->out.port, port);
	assert_int_equal(f->out.peer_count, 2);
	return 0;
}

static void test_corosync_link_round_trip(void **state)
{
	struct fix *f = *state;

	if (!getenv("top_builddir"))
		skip();
	assert_int_equal(round_trip(f, "--tun"), 0);
	assert_string_equal(f->out.local_text, "169.254.1.2");
	/* IPv6: the daemon with the same prefix accepts it, without refuses. */
	snprintf(f->given.tun_ipv6, sizeof(f->given.tun_ipv6), "fd5a:1b2c:3d4e:1::/64");
	assert_int_equal(round_trip(f, "--tun-ipv6 fd5a:1b2c:3d4e:1::/64"), 0);
	assert_string_equal(f->out.local_text, "fd5a:1b2c:3d4e:1::102");
	snprintf(f->given.tun_ipv6, sizeof(f->given.tun_ipv6), "fd5a:1b2c:3d4e:2::/64");
	assert_int_equal(round_trip(f, "--tun-ipv6 fd5a:1b2c:3d4e:1::/64"), -1);
	assert_non_null(strstr(f->err, "not its dl0 address"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dl0_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_dl0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contradiction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corosync_link_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
