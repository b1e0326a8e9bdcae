/* Corosync mode's link extraction (daemon/parent/cmap_config.c and
 * config_corosync.c) from the FAKE cmap of fake_cmap.h, linked instead of
 * corosync's libcmap and libcfg (this test's LDADD has neither): corosync
 * 3.1.7's cmap for a 3-node cluster with knet link 0 on the network and
 * link 1 on 127.77.0.x; each test changes it where it needs to. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmap_config.h"
#include "corosync_mode.h"

#include "fake_cmap.h"

/* ---- the tests ---- */

static int setup(void **state)
{
	struct dld_cmap_link *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	table_reset();
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static const struct dld_cmap_node *node(const struct dld_cmap_link *l, uint32_t id)
{
	for (uint32_t i = 0; i < l->n_nodes; i++)
		if (l->nodes[i].node_id == id)
			return &l->nodes[i];
	return NULL;
}

static void test_link1_of_three_nodes(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	assert_int_equal(dld_cmap_load_handle(1, 2, 1, l, err, sizeof(err)), 0);
	assert_int_equal(l->link, 1);
	assert_int_equal(l->local_id, 2);
	assert_int_equal(l->port, 5420);
	assert_string_equal(l->cluster, "lab");
	assert_int_equal(l->n_nodes, 3);
	assert_string_equal(node(l, 1)->addr, "127.77.0.1");
	assert_string_equal(node(l, 2)->addr, "127.77.0.2");
	assert_string_equal(node(l, 3)->addr, "127.77.0.3");
	assert_string_equal(node(l, 3)->name, "n3");
}

static void test_local_id_from_cfg(void **state)
{
	uint32_t id = 0;
	char err[256] = "";

	(void)state;
	local_id = 3;
	assert_int_equal(dld_cmap_local_id(&id, err, sizeof(err)), 0);
	assert_int_equal(id, 3);
	local_id = 0;                  /* corosync not running */
	assert_int_equal(dld_cmap_local_id(&id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is corosync running?"));
}

/* Link 0 is the network: not a disklink link. */
static void test_network_link_refused(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	assert_int_equal(dld_cmap_load_handle(1, 1, 0, l, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "has address 169.254.0.1, not a loopback address"));
}

static void test_node_without_the_link(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	kv_set("nodelist.node.2.ring1_addr", KV_END, NULL, 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), 0);
	assert_int_equal(l->n_nodes, 2);
	assert_null(node(l, 3));
	/* This node itself without it: the link is not configured here. */
	assert_int_equal(dld_cmap_load_handle(1, 3, 1, l, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "this node (id 3) has no ring1_addr"));
	/* No node with link 2 at all. */
	assert_int_equal(dld_cmap_load_handle(1, 1, 2, l, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "no ring2_addr for any node"));
}

static void test_ipv6_address(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	kv_set("nodelist.node.1.ring1_addr", KV_STR, "::1", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), 0);
	assert_string_equal(node(l, 2)->addr, "::1");
	kv_set("nodelist.node.1.ring1_addr", KV_STR, "fe80::2", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has address fe80::2, not a loopback address"));
}

/* Without mcastport (corosync 3 with knet) the port is corosync's
 * default for the link; knet_transport is not needed. */
static void test_missing_port_and_transport(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	kv_set("totem.interface.1.mcastport", KV_END, NULL, 0);
	kv_set("totem.interface.1.knet_transport", KV_END, NULL, 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), 0);
	assert_int_equal(l->port, 5406);
	kv_set("totem.cluster_name", KV_END, NULL, 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), 0);
	assert_string_equal(l->cluster, "");
}

static void test_bad_nodelists(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	kv_set("nodelist.node.2.ring1_addr", KV_STR, "127.77.0.2", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "nodes 2 and 3 both have link 1 address 127.77.0.2"));
	table_reset();
	kv_set("nodelist.node.2.nodeid", KV_U32, NULL, 70000);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has node id 70000"));
	table_reset();
	kv_set("nodelist.node.2.nodeid", KV_U32, NULL, 2);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "node id 2 appears twice"));
}

static void test_config_from_link(void **state)
{
	struct dld_cmap_link *l = *state;
	struct dld_config *given = calloc(1, sizeof(*given)), *out = calloc(1, sizeof(*out));
	char err[256] = "";

	assert_non_null(given);
	assert_non_null(out);
	dld_config_defaults(given);
	given->link = 1;
	assert_int_equal(dld_cmap_load_handle(1, 2, 1, l, err, sizeof(err)), 0);
	assert_int_equal(dld_config_corosync(given, l, out, err, sizeof(err)), 0);
	assert_int_equal(out->node_id, 2);
	assert_string_equal(out->node_name, "n2");
	assert_int_equal(out->port, 5420);
	assert_string_equal(out->local_text, "127.77.0.2");
	assert_string_equal(out->cluster, "lab");
	assert_int_equal(out->peer_count, 2);
	assert_int_equal(out->peers[0].node_id, 1);
	assert_string_equal(out->peers[0].text, "127.77.0.1");
	assert_int_equal(out->peers[1].node_id, 3);
	assert_string_equal(out->peers[1].text, "127.77.0.3");
	/* A setting given explicitly that contradicts corosync. */
	given->node_id = 7;
	given->given |= DLD_SET_NODE_ID;
	given->set |= DLD_SET_NODE_ID;
	assert_int_equal(dld_config_corosync(given, l, out, err, sizeof(err)), DLD_EXIT_USAGE);
	assert_non_null(strstr(err, "node id 7 given on the command line contradicts "
				    "corosync's local node id 2"));
	/* One that agrees is fine. */
	given->node_id = 2;
	assert_int_equal(dld_config_corosync(given, l, out, err, sizeof(err)), 0);
	free(given);
	free(out);
}

static void test_link_differs(void **state)
{
	struct dld_cmap_link *a = *state, *b = calloc(1, sizeof(*b));
	char err[256] = "";

	assert_non_null(b);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, a, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 0);
	/* A node's name is not the link. */
	kv_set("nodelist.node.1.name", KV_STR, "renamed", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 0);
	kv_set("nodelist.node.1.ring1_addr", KV_STR, "127.77.0.9", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 1);
	table_reset();
	kv_set("nodelist.node.2.ring1_addr", KV_END, NULL, 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 1);
	table_reset();
	kv_set("totem.interface.1.mcastport", KV_U16, NULL, 5421);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 1);
	free(b);
}

static void test_watch_and_membership(void **state)
{
	struct dld_cmap_watch w;
	char err[256] = "";

	(void)state;
	assert_int_equal(dld_cmap_watch_start(&w, err, sizeof(err)), 0);
	assert_int_equal(w.changed, 0);
	assert_int_equal(dld_cmap_watch_dispatch(&w), 0);
	assert_int_equal(w.changed, 1);
	assert_false(dld_cmap_member_gone(&w, 2));
	assert_true(dld_cmap_member_gone(&w, 3));      /* left */
	assert_true(dld_cmap_member_gone(&w, 4));      /* never joined */
	dispatch_rc = CS_ERR_LIBRARY;                   /* corosync went away */
	assert_int_equal(dld_cmap_watch_dispatch(&w), -1);
	assert_int_equal(errno, ENOTCONN);
	dld_cmap_watch_stop(&w);
	assert_int_equal(w.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link1_of_three_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_id_from_cfg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_link_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_without_the_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_port_and_transport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_nodelists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_from_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_differs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_and_membership, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
