/* disklinkd's config file: every key, the errors (FILE:LINE: reason, exit
 * status 2), and the command line over the file. */
#include "config.h"

#include "test_config_util.h"

#include "settings.h"

static char conf[64];

static int teardown_file(void **state)
{
	(void)state;
	if (conf[0])
		unlink(conf);
	conf[0] = 0;
	return 0;
}

static int load_file(struct dld_config *c, struct tc_capture *cap, const char *text,
		     const char *const *more)
{
	const char *args[40] = { "--config", conf };
	size_t n = 2;
	bool ex;

	tc_write_file(conf, sizeof(conf), text);
	while (more && *more)
		args[n++] = *more++;
	args[n] = NULL;
	return tc_load(c, cap, &ex, args);
}

static void test_every_key(void **state)
{
	struct dld_config c;
	struct tc_capture cap;

	(void)state;
	assert_int_equal(load_file(&c, &cap,
		"# disklinkd\n"
		"device = /dev/sdq   # the volume\n"
		"\n"
		"  node_id=4\n"
		"node_name = four\n"
		"port = 5406\n"
		"local_addr = 127.0.0.4\n"
		"peer = 5=127.0.0.5\n"
		"peer = 6=127.0.0.6\n"
		"peer_device = 6=/dev/r6\n"
		"cluster = alpha\n"
		"control = /tmp/x.sock\n"
		"log_file = /tmp/x.log\n"
		"pid_file = /tmp/x.pid\r\n", NULL), 0);
	assert_string_equal(cap.text, "");
	assert_string_equal(c.device, "/dev/sdq");
	assert_int_equal(c.node_id, 4);
	assert_string_equal(c.node_name, "four");
	assert_int_equal(c.port, 5406);
	assert_string_equal(c.local_text, "127.0.0.4");
	assert_int_equal(c.peer_count, 2);
	assert_int_equal(c.peers[1].node_id, 6);
	assert_string_equal(c.peers[1].text, "127.0.0.6");
	assert_string_equal(dld_peer_device(&c, 6), "/dev/r6");
	assert_string_equal(c.cluster, "alpha");
	assert_string_equal(c.control, "/tmp/x.sock");
	assert_string_equal(c.log_file, "/tmp/x.log");
	assert_string_equal(c.pid_file, "/tmp/x.pid");
	assert_int_equal(c.link, -1);
	assert_int_equal(c.set, DLD_SET_CONFIG);
	assert_int_equal(c.given & (DLD_SET_NODE_ID | DLD_SET_NODE_NAME | DLD_SET_PORT |
				    DLD_SET_LOCAL | DLD_SET_PEERS | DLD_SET_PEER_DEVS |
				    DLD_SET_CLUSTER),
			 DLD_SET_NODE_ID | DLD_SET_NODE_NAME | DLD_SET_PORT | DLD_SET_LOCAL |
			 DLD_SET_PEERS | DLD_SET_PEER_DEVS | DLD_SET_CLUSTER);
	assert_int_equal(load_file(&c, &cap, "device = UUID=abc\nlink = 7\n", NULL), 0);
	assert_int_equal(c.link, 7);
	assert_string_equal(c.device, "UUID=abc");
}

/* Every tunable, by its key, at its maximum (dsync and debug: yes). */
static void test_every_tunable(void **state)
{
	static const char *const named[][2] = {
		{ "poll_fast_us = 777\n", "poll_fast_us" }, { "torn_limit = 9\n", "torn_limit" },
		{ "frozen_ms = 0\n", "frozen_ms" }, { "coalesce_us = 0\n", "coalesce_us" },
	};
	char text[4096] = "device = /dev/null\nlink = 0\n";
	struct dld_config c;
	struct tc_capture cap;

	(void)state;
	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];
		size_t len = strlen(text);

		if (s->reload != DLD_RELOAD_TUNABLE)
			continue;
		if (s->kind == DLD_K_BOOL)
			snprintf(text + len, sizeof(text) - len, "%s = %s\n", s->key,
				 !strcmp(s->key, "debug") ? "on" : "true");
		else
			snprintf(text + len, sizeof(text) - len, "%s = %u\n", s->key, s->max);
	}
	assert_int_equal(load_file(&c, &cap, text, NULL), 0);
	assert_string_equal(cap.text, "");
	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];

		if (s->reload == DLD_RELOAD_TUNABLE)
			assert_int_equal(*(uint32_t *)dld_setting_ptr(s, &c), s->max);
	}
	/* the fields by name, not through the table */
	assert_int_equal(c.tun.poll_idle_us, 10000000);
	assert_int_equal(c.tun.abandon_ms, 3600000);
	assert_int_equal(c.tun.queue_kib, 1048576);
	assert_int_equal(c.tun.max_batch_blocks, 65536);
	assert_int_equal(c.tun.dsync, 1);
	assert_int_equal(c.tun.debug, 1);
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		char t[128];

		snprintf(t, sizeof(t), "device = d\nlink = 1\n%s", named[i][0]);
		assert_int_equal(load_file(&c, &cap, t, NULL), 0);
	}
	assert_int_equal(c.tun.coalesce_us, 0);
	assert_int_equal(load_file(&c, &cap, "device = d\nlink = 1\ntorn_limit = 9\n"
				   "dsync = yes\ndebug = off\n", NULL), 0);
	assert_int_equal(c.tun.torn_limit, 9);
	assert_int_equal(c.tun.dsync, 1);
	assert_int_equal(c.tun.debug, 0);
}

/* restart_max_ms is at least restart_min_ms, lag_max_ms at least lag_warn_ms. */
static void test_bounds(void **state)
{
	struct dld_config c;
	struct tc_capture cap;

	(void)state;
	assert_int_equal(load_file(&c, &cap, "device = d\nlink = 1\nrestart_min_ms = 9000\n"
				   "restart_max_ms = 100\nlag_warn_ms = 3000\n", NULL), 0);
	assert_int_equal(c.tun.restart_max_ms, 9000);
	assert_int_equal(c.tun.lag_max_ms, 3000);
}

struct bad_line {
	const char *line;
	const char *msg;
};

static const struct bad_line bad_lines[] = {
	{ "port = 0", ":3: invalid port '0': give a number from 1 to 65535" },
	{ "node_id = 70000", ":3: invalid node_id '70000': give a number from 1 to 65535" },
	{ "link = 8", ":3: invalid link '8': give a number from 0 to 7" },
	{ "poll_fast_us = 49", ":3: invalid poll_fast_us '49': give a number from 50 to 1000000" },
	{ "queue_kib = 255", "invalid queue_kib '255': give a number from 256 to 1048576" },
	{ "torn_limit = 0", "invalid torn_limit '0': give a number from 1 to 1000" },
	{ "dsync = maybe", "invalid dsync 'maybe': give a number from 0 to 1" },
	{ "debug = 2", "invalid debug '2': give a number from 0 to 1" },
	{ "node_name = ", ":3: invalid node_name '': empty or longer than 63 bytes" },
	{ "cluster = 0123456789012345678901234567890123456789012345678901234567890123",
	  "invalid cluster '0123456789012345678901234567890123456789012345678901234567890123'"
	  ": empty or longer than 63 bytes" },
	{ "peer = 2", "invalid peer '2': write NODEID=ADDRESS" },
	{ "peer = 2=127.0.0.2\npeer = 2=127.0.0.3", ":4: peer 2 given twice" },
	{ "peer_device = 2=/a\npeer_device = 2=/b", ":4: peer device of node 2 given twice" },
	{ "nonsense", ":3: expected 'key = value', got 'nonsense'" },
	{ "no_such_key = 1", ":3: unknown key 'no_such_key': see disklinkd(8) for the keys" },
	{ "config = /etc/x", "unknown key 'config'" },
	{ "foreground = yes", "unknown key 'foreground'" },
};

static void test_bad_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		struct dld_config c;
		struct tc_capture cap;
		char text[512], want[256];

		snprintf(text, sizeof(text), "device = /dev/null\nlink = 0\n%s\n", bad_lines[i].line);
		assert_int_equal(load_file(&c, &cap, text, NULL), DLD_EXIT_USAGE);
		snprintf(want, sizeof(want), "disklinkd: %s", conf);
		assert_ptr_equal(strstr(cap.text, want), cap.text);
		if (!strstr(cap.text, bad_lines[i].msg))
			fail_msg("case %zu: '%s' not in '%s'", i, bad_lines[i].msg, cap.text);
	}
}

/* Every bad line is reported, not only the first. */
static void test_every_error_reported(void **state)
{
	struct dld_config c;
	struct tc_capture cap;

	(void)state;
	assert_int_equal(load_file(&c, &cap, "port = 0\nbogus = 1\nread_ahead = 0\n", NULL),
			 DLD_EXIT_USAGE);
	assert_non_null(strstr(cap.text, ":1: invalid port"));
	assert_non_null(strstr(cap.text, ":2: unknown key 'bogus'"));
	assert_non_null(strstr(cap.text, ":3: invalid read_ahead"));
}

static void test_command_line_wins(void **state)
{
	static const char *const args[] = { "--device", "/dev/cmd", "--port", "2222",
		"--peer", "3=127.0.0.3", "--peer-device", "3=/dev/c3", "--node-name", "cmd",
		"--control", "/tmp/c.sock", "--log-file", "/tmp/c.log", "--pid-file", "/tmp/c.pid",
		"--local-addr", "127.0.0.9", "--node-id", "9", "--debug", NULL };
	struct dld_config c;
	struct tc_capture cap;

	(void)state;
	assert_int_equal(load_file(&c, &cap,
		"device = /dev/file\nport = 1111\npeer = 2=127.0.0.2\npeer = 4=127.0.0.4\n"
		"peer_device = 2=/dev/f2\nnode_name = file\ncontrol = /tmp/f.sock\n"
		"log_file = /tmp/f.log\npid_file = /tmp/f.pid\nlocal_addr = 127.0.0.8\n"
		"node_id = 8\ndebug = no\nio_timeout_ms = 3000\n", args), 0);
	assert_string_equal(cap.text, "");
	assert_string_equal(c.device, "/dev/cmd");
	assert_int_equal(c.port, 2222);
	assert_int_equal(c.peer_count, 1);
	assert_int_equal(c.peers[0].node_id, 3);
	assert_int_equal(c.peer_dev_count, 1);
	assert_string_equal(dld_peer_device(&c, 3), "/dev/c3");
	assert_string_equal(c.node_name, "cmd");
	assert_string_equal(c.control, "/tmp/c.sock");
	assert_string_equal(c.log_file, "/tmp/c.log");
	assert_string_equal(c.pid_file, "/tmp/c.pid");
	assert_string_equal(c.local_text, "127.0.0.9");
	assert_int_equal(c.node_id, 9);
	assert_int_equal(c.tun.debug, 1);            /* --debug wins over debug = no */
	assert_int_equal(c.tun.io_timeout_ms, 3000); /* the file still sets the rest */
	/* the file's link and its bad values are still read */
	static const char *const link_args[] = { "--link", "2", "--device", "d", NULL };

	assert_int_equal(load_file(&c, &cap, "link = 5\n", link_args), 0);
	assert_int_equal(c.link, 2);
	assert_int_equal(load_file(&c, &cap, "debug = maybe\n", link_args + 2), DLD_EXIT_USAGE);
}

/* A missing default config file is no error, a missing --config file is. */
static void test_missing_file(void **state)
{
	struct dld_config c;
	struct tc_capture cap;
	bool ex;
	char *argv[] = { (char *)"disklinkd", (char *)"--link", (char *)"1", (char *)"--device",
			 (char *)"d", NULL };

	(void)state;
	dld_config_defaults(&c);
	snprintf(c.config_file, sizeof(c.config_file), "/nonexistent/disklink.conf");
	tc_capture_start(&cap, 2);
	assert_int_equal(dld_config_load(&c, 5, argv, &ex), 0);
	tc_capture_end(&cap);
	assert_string_equal(cap.text, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_every_key, teardown_file),
		cmocka_unit_test_teardown(test_every_tunable, teardown_file),
		cmocka_unit_test_teardown(test_bounds, teardown_file),
		cmocka_unit_test_teardown(test_bad_lines, teardown_file),
		cmocka_unit_test_teardown(test_every_error_reported, teardown_file),
		cmocka_unit_test_teardown(test_command_line_wins, teardown_file),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
