/* Corosync mode's link states (link_state.c): the stats keys it reads
 * (stats.knet.nodeX.linkY.connected) and the verdict "the disk carries
 * totem": some peer connected through the disk link and through no
 * other; a peer down on every link (gone) or up on the network is not;
 * the local node's own entries do not count. */
#include "../unit/test_util.h"

#include "link_state.h"

static void test_keys(void **state)
{
	uint32_t n = 0, l = 0;

	(void)state;
	assert_int_equal(dld_link_key("stats.knet.node3.link1.connected", &n, &l), 0);
	assert_int_equal(n, 3);
	assert_int_equal(l, 1);
	assert_int_equal(dld_link_key("stats.knet.node12.link0.connected", &n, &l), 0);
	assert_int_equal(n, 12);
	assert_int_equal(l, 0);
	assert_int_equal(dld_link_key("stats.knet.node3.link1.latency_ave", &n, &l), -1);
	assert_int_equal(dld_link_key("stats.knet.node3.link1.connectedx", &n, &l), -1);
	assert_int_equal(dld_link_key("stats.knet.node3.link9.connected", &n, &l), -1);
	assert_int_equal(dld_link_key("stats.knet.handle.tx", &n, &l), -1);
}

static bool verdict(const char *const *keys, const bool *up, uint32_t nk)
{
	struct dld_link_obs obs[8];
	uint32_t n = 0;

	for (uint32_t i = 0; i < nk; i++) {
		uint32_t node, link;

		assert_int_equal(dld_link_key(keys[i], &node, &link), 0);
		dld_link_note(obs, &n, 8, node, link, up[i]);
	}
	return dld_link_disk_totem(obs, n, 1, 1);      /* we are node 1, disk link 1 */
}

static void test_verdict(void **state)
{
	static const char *const k[] = {
		"stats.knet.node1.link0.connected", "stats.knet.node1.link1.connected",
		"stats.knet.node2.link0.connected", "stats.knet.node2.link1.connected",
		"stats.knet.node3.link0.connected", "stats.knet.node3.link1.connected",
	};
	bool all[] = { 1, 1, 1, 1, 1, 1 };
	bool net_down_2[] = { 1, 1, 0, 1, 1, 1 };
	bool gone_2[] = { 1, 1, 0, 0, 1, 1 };
	bool disk_down[] = { 1, 1, 1, 0, 1, 0 };
	bool local_only[] = { 0, 1, 1, 1, 1, 1 };

	(void)state;
	assert_false(verdict(k, all, 6));
	assert_true(verdict(k, net_down_2, 6));
	assert_false(verdict(k, gone_2, 6));
	assert_false(verdict(k, disk_down, 6));
	assert_false(verdict(k, local_only, 6));
	/* The disk as the only link of a peer. */
	assert_true(verdict(k + 3, all, 1));
	/* More nodes than room: the rest are not recorded. */
	{
		struct dld_link_obs obs[1];
		uint32_t n = 0;

		dld_link_note(obs, &n, 1, 2, 0, true);
		dld_link_note(obs, &n, 1, 3, 1, true);
		assert_int_equal(n, 1);
		assert_int_equal(obs[0].node_id, 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
