/* corosync.conf reader: nodelist, interfaces, link numbers, errors. */
#include "test_util.h"

#include "corosync_conf.h"

static const char conf[] =
	"# a comment\n"
	"totem {\n"
	"    cluster_name: demo   # trailing comment\n"
	"    transport: knet\n"
	"    interface {\n"
	"        linknumber: 0\n"
	"        knet_link_priority: 2\n"
	"    }\n"
	"}\n"
	"nodelist {\n"
	"    node {\n"
	"        ring0_addr: 169.254.77.1\n"
	"        name: a\n"
	"        nodeid: 1\n"
	"    }\n"
	"    node {\n"
	"        ring0_addr: 169.254.77.2\n"
	"        ring2_addr: 127.77.0.2\n"
	"        nodeid: 40000\n"
	"    }\n"
	"}\n";

static void test_parse(void **state)
{
	struct dl_corosync_conf cc;
	char err[128];

	(void)state;
	assert_int_equal(dl_cc_parse(&cc, conf, err, sizeof(err)), 0);
	assert_string_equal(cc.cluster_name, "demo");
	assert_string_equal(cc.transport, "knet");
	assert_int_equal(cc.n_nodes, 2);
	assert_int_equal(cc.nodes[0].nodeid, 1);
	assert_string_equal(cc.nodes[0].name, "a");
	assert_string_equal(cc.nodes[0].ring_addr[0], "169.254.77.1");
	assert_int_equal(cc.nodes[1].nodeid, 40000);
	assert_string_equal(cc.nodes[1].ring_addr[2], "127.77.0.2");
	assert_int_equal(cc.nodes[0].close_line, 14);
	assert_string_equal(cc.nodes[0].indent, "        ");
	assert_int_equal(cc.totem_line, 1);
	assert_int_equal(cc.n_ifaces, 1);
	assert_int_equal(cc.ifaces[0].priority, 2);
	assert_true(dl_cc_link_used(&cc, 2));
	assert_false(dl_cc_link_used(&cc, 1));
	assert_int_equal(dl_cc_free_link(&cc), 1);
	dl_cc_free(&cc);
}

static void expect_error(const char *text, const char *needle)
{
	struct dl_corosync_conf cc;
	char err[128] = "";

	assert_int_equal(dl_cc_parse(&cc, text, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	dl_cc_free(&cc);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("totem {\n", "unterminated");
	expect_error("}\n", "unbalanced");
	expect_error("totem {\n  what\n}\n", "key: value");
	expect_error("nodelist {\n node {\n nodeid: 0\n }\n}\n", "invalid nodeid");
	expect_error("nodelist {\n node {\n name: x\n }\n}\n", "no nodeid");
	expect_error("nodelist {\n node {\n nodeid: 3\n }\n node {\n nodeid: 3\n }\n}\n",
		     "twice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
