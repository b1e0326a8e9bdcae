/* disklinkd's configuration: every option, every config file key, the
 * command line over the file, the defaults (the settings table), --help,
 * and the errors (message and exit status). */
#include "config.h"

#include "test_config_util.h"

#include <arpa/inet.h>

#include "ring_reader.h"
#include "settings.h"

static char empty_conf[64];

static int setup(void **state)
{
	(void)state;
	empty_conf[0] = 0;
	tc_write_file(empty_conf, sizeof(empty_conf), "# nothing\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(empty_conf);
	return 0;
}

/* The explicit mode's required settings, then more. */
#define BASE "--config", empty_conf, "--device", "/dev/null", "--node-id", "1", "--port", \
	"5405", "--local-addr", "127.0.0.1", "--peer", "2=127.0.0.2", "--node-name", "n1"

static void test_defaults_are_the_table(void **state)
{
	struct dld_config c;

	(void)state;
	dld_config_defaults(&c);
	assert_int_equal(c.tun.torn_limit, DL_TORN_LIMIT_DEFAULT);
	assert_int_equal(c.tun.poll_fast_us, 500);
	assert_int_equal(c.tun.poll_idle_us, 5000);
	assert_int_equal(c.tun.io_timeout_ms, 2000);
	assert_int_equal(c.tun.queue_kib, 4096);
	assert_int_equal(c.tun.lag_warn_ms, 750);
	assert_int_equal(c.tun.lag_max_ms, 1500);
	assert_int_equal(c.tun.frozen_ms, 0);
	assert_int_equal(c.tun.dsync, 0);
	assert_int_equal(c.link, -1);
	assert_int_equal(c.log_target, -1);
	assert_string_equal(c.control, DL_CONTROL_SOCKET_DEFAULT);
	assert_string_equal(c.config_file, DLD_DEFAULT_CONFIG);
	assert_int_equal(c.peer_count, 0);
	assert_int_equal(c.set, 0);
	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];
		const void *p = dld_setting_cptr(s, &c);

		if (s->kind == DLD_K_U32 || s->kind == DLD_K_BOOL)
			assert_int_equal(*(const uint32_t *)p, s->def);
		else if (s->kind == DLD_K_I32)
			assert_int_equal(*(const int32_t *)p, -1);
		else if (s->kind == DLD_K_STRING && s->def_text)
			assert_string_equal((const char *)p, s->def_text);
		if (s->reload == DLD_RELOAD_TUNABLE) {
			assert_true(s->def >= s->min);
			assert_true(s->def <= s->max);
		}
	}
}

/* Table sanity: options and keys are unique, every tunable has a key. */
static void test_table_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];

		for (size_t k = 0; k < i; k++) {
			if (s->opt && dld_settings[k].opt)
				assert_string_not_equal(s->opt, dld_settings[k].opt);
			if (s->short_opt)
				assert_int_not_equal(s->short_opt, dld_settings[k].short_opt);
		}
		if (s->key)
			assert_ptr_equal(dld_setting_by_key(s->key), s);
		if (s->reload == DLD_RELOAD_TUNABLE)
			assert_non_null(s->key);
		if (s->reload == DLD_RELOAD_CMDLINE)
			assert_null(s->key);
	}
	assert_null(dld_setting_by_key("config"));
	assert_null(dld_setting_by_key("nonsense"));
}

static void test_every_option(void **state)
{
	struct dld_config c;
	struct tc_capture cap;
	bool ex;
	const char *args[] = { "--config", empty_conf, "--device", "/dev/sdz",
		"--node-id", "7", "--port", "6000", "--local-addr", "127.0.0.7",
		"--peer", "2=127.0.0.2", "--peer", "3=127.0.0.3", "--peer-device", "2=/dev/r2",
		"--node-name", "seven", "--control", "/tmp/ctl.sock", "--log-file", "/tmp/l.log",
		"--pid-file", "/tmp/p.pid", "-f", "--debug", NULL };

	(void)state;
	assert_int_equal(tc_load(&c, &cap, &ex, args), 0);
	assert_string_equal(cap.text, "");
	assert_false(ex);
	assert_string_equal(c.config_file, empty_conf);
	assert_string_equal(c.device, "/dev/sdz");
	assert_int_equal(c.node_id, 7);
	assert_int_equal(c.port, 6000);
	assert_string_equal(c.local_text, "127.0.0.7");
	assert_int_equal(c.peer_count, 2);
	assert_int_equal(c.peers[0].node_id, 2);
	assert_string_equal(c.peers[0].text, "127.0.0.2");
	assert_int_equal(c.peers[1].node_id, 3);
	assert_int_equal(c.peer_dev_count, 1);
	assert_int_equal(c.peer_devs[0].node_id, 2);
	assert_string_equal(dld_peer_device(&c, 2), "/dev/r2");
	assert_null(dld_peer_device(&c, 3));
	assert_string_equal(c.node_name, "seven");
	assert_string_equal(c.control, "/tmp/ctl.sock");
	assert_string_equal(c.log_file, "/tmp/l.log");
	assert_string_equal(c.pid_file, "/tmp/p.pid");
	assert_true(c.foreground);
	assert_int_equal(c.tun.debug, 1);
	assert_int_equal(c.link, -1);
	assert_int_equal(c.set, DLD_SET_CONFIG | DLD_SET_DEVICE | DLD_SET_NODE_ID | DLD_SET_PORT |
			 DLD_SET_LOCAL | DLD_SET_PEERS | DLD_SET_PEER_DEVS | DLD_SET_NODE_NAME |
			 DLD_SET_CONTROL | DLD_SET_LOG_FILE | DLD_SET_PID_FILE | DLD_SET_DEBUG);
	assert_int_equal(c.given & c.set, c.set);
	/* resolved: the port is on every address */
	assert_int_equal(c.local.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&c.local)->sin_port), 6000);
	assert_int_equal(ntohs(((struct sockaddr_in *)&c.peers[1].addr)->sin_port), 6000);
}

static void test_link_option(void **state)
{
	struct dld_config c;
	struct tc_capture cap;
	bool ex;
	const char *args[] = { "--config", empty_conf, "--device", "UUID=x", "--link", "3",
			       "--foreground", NULL };
	const char *no_dev[] = { "--config", empty_conf, "--link", "0", NULL };

	(void)state;
	assert_int_equal(tc_load(&c, &cap, &ex, args), 0);
	assert_int_equal(c.link, 3);
	assert_true(c.set & DLD_SET_LINK);
	assert_true(c.foreground);
	assert_int_equal(c.peer_count, 0);
	assert_int_equal(tc_load(&c, &cap, &ex, no_dev), DLD_EXIT_USAGE);
	assert_non_null(strstr(cap.text, "disklinkd: configuration: missing the device "
			       "(--device): give it on the command line or in"));
}

static void test_ipv6(void **state)
{
	struct dld_config c;
	struct tc_capture cap;
	bool ex;
	const char *args[] = { "--config", empty_conf, "--device", "/dev/null", "--node-id", "1",
		"--port", "5405", "--local-addr", "::1", "--peer", "2=fe80::2", NULL };

	(void)state;
	assert_int_equal(tc_load(&c, &cap, &ex, args), 0);
	assert_int_equal(c.local.ss_family, AF_INET6);
	assert_int_equal(c.peers[0].addr.ss_family, AF_INET6);
}

struct bad_case {
	const char *args[12];
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ { "--port", "0" }, "command line: invalid --port '0': give a number from 1 to 65535" },
	{ { "--port", "65536" }, "invalid --port '65536': give a number from 1 to 65535" },
	{ { "--port", "-1" }, "invalid --port '-1'" },
	{ { "--port", "5x" }, "invalid --port '5x'" },
	{ { "--node-id", "0" }, "invalid --node-id '0': give a number from 1 to 65535" },
	{ { "--link", "8" }, "invalid --link '8': give a number from 0 to 7" },
	{ { "--device", "" }, "invalid --device '': empty or longer than 4095 bytes" },
	{ { "--node-name", "" }, "invalid --node-name '': empty or longer than 63 bytes" },
	{ { "--peer", "2" }, "invalid peer '2': write NODEID=ADDRESS, e.g. 2=127.77.0.2" },
	{ { "--peer", "=1.2.3.4" }, "invalid peer '=1.2.3.4'" },
	{ { "--peer", "0=127.0.0.9" }, "invalid peer node id '0': give a number from 1 to 65535" },
	{ { "--peer", "3=nowhere" }, "invalid peer address 'nowhere': give an IPv4 or IPv6" },
	{ { "--peer", "2=127.0.0.3" }, "peer 2 given twice: give each peer node id once" },
	{ { "--peer-device", "2" }, "invalid peer device '2': write NODEID=DEVICE" },
	{ { "--peer-device", "x=/dev/a" }, "invalid peer device node id 'x'" },
	{ { "--peer-device", "2=/a", "--peer-device", "2=/b" },
	  "peer device of node 2 given twice: give one device per peer" },
	{ { "--peer-device", "3=/dev/a" }, "peer device 3=/dev/a names no peer: give --peer "
	  "3=ADDR too, or drop the device" },
	{ { "--port" }, "option '--port' needs a value (see disklinkd --help)" },
	{ { "--bogus" }, "unknown option '--bogus' (see disklinkd --help)" },
	{ { "-x" }, "unknown option '-x' (see disklinkd --help)" },
	{ { "extra" }, "unexpected argument 'extra' (see disklinkd --help)" },
	{ { "--peer", "3=127.0.0.1" }, "configuration: peer 3 address 127.0.0.1 is the local "
	  "address: each needs its own" },
	{ { "--peer", "3=127.0.0.2" }, "peers 2 and 3 have the same address 127.0.0.2" },
	{ { "--peer", "3=::3" }, "peer 3 address ::3 is not of the local address's family" },
	{ { "--peer", "1=127.0.0.9" }, "peer 1 is this node's own id: list only the other nodes" },
	{ { "--config", "/nonexistent/dld.conf" },
	  "/nonexistent/dld.conf: cannot read the config file: No such file or directory" },
};

static void test_bad_options(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const char *args[40] = { BASE };
		size_t n = 0;
		struct dld_config c;
		struct tc_capture cap;
		bool ex;

		while (args[n])
			n++;
		for (size_t k = 0; bad_cases[i].args[k]; k++)
			args[n++] = bad_cases[i].args[k];
		assert_int_equal(tc_load(&c, &cap, &ex, args), DLD_EXIT_USAGE);
		if (!strstr(cap.text, bad_cases[i].msg))
			fail_msg("case %zu: '%s' not in '%s'", i, bad_cases[i].msg, cap.text);
		assert_non_null(strstr(cap.text, "disklinkd: "));
		assert_non_null(strchr(cap.text, '\n'));
		assert_ptr_equal(strchr(cap.text, '\n') + 1, cap.text + strlen(cap.text));
	}
}

static void test_missing(void **state)
{
	static const char *const missing[][2] = {
		{ "--device", "the device (--device)" }, { "--node-id", "the node id (--node-id)" },
		{ "--port", "the port (--port)" },
		{ "--local-addr", "the local address (--local-addr)" },
		{ "--peer", "the peers (--peer ID=ADDR)" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		const char *base[] = { BASE, NULL }, *args[40];
		size_t n = 0;
		struct dld_config c;
		struct tc_capture cap;
		bool ex;
		char want[128];

		for (size_t k = 0; base[k]; k += 2)
			if (strcmp(base[k], missing[i][0])) {
				args[n++] = base[k];
				args[n++] = base[k + 1];
			}
		args[n] = NULL;
		assert_int_equal(tc_load(&c, &cap, &ex, args), DLD_EXIT_USAGE);
		snprintf(want, sizeof(want), "configuration: missing %s: give it", missing[i][1]);
		assert_non_null(strstr(cap.text, want));
	}
}

static void test_too_many_peers(void **state)
{
	static char specs[DLD_MAX_PEERS + 1][32];
	const char *args[TC_MAX_ARGS] = { "--config", empty_conf, "--device", "/dev/null",
		"--node-id", "1", "--port", "9", "--local-addr", "127.0.0.1" };
	size_t n = 10;
	struct dld_config c;
	struct tc_capture cap;
	bool ex;
	char want[64];

	(void)state;
	for (uint32_t i = 0; i <= DLD_MAX_PEERS; i++) {
		snprintf(specs[i], sizeof(specs[i]), "%u=127.1.%u.%u", i + 2, i / 200, i % 200 + 1);
		args[n++] = "--peer";
		args[n++] = specs[i];
	}
	args[n] = NULL;
	assert_true(n < TC_MAX_ARGS);
	assert_int_equal(tc_load(&c, &cap, &ex, args), DLD_EXIT_USAGE);
	snprintf(want, sizeof(want), "too many peers: at most %u", DLD_MAX_PEERS);
	assert_non_null(strstr(cap.text, want));
	args[n - 2] = NULL;            /* one fewer: the most there can be */
	assert_int_equal(tc_load(&c, &cap, &ex, args), 0);
	assert_int_equal(c.peer_count, DLD_MAX_PEERS);
}

static void test_help(void **state)
{
	struct dld_config c;
	struct tc_capture cap, out;
	const char *args[] = { "--port", "1", "--help", NULL };
	const char *ver[] = { "--version", NULL };
	bool ex;

	(void)state;
	tc_capture_start(&out, 1);
	assert_int_equal(tc_load(&c, &cap, &ex, args), 0);
	tc_capture_end(&out);
	assert_true(ex);
	assert_string_equal(cap.text, "");
	assert_non_null(strstr(out.text, "Usage: disklinkd --device DEV --link N"));
	assert_non_null(strstr(out.text, "--control PATH      status socket (default "
			       DL_CONTROL_SOCKET_DEFAULT ")"));
	assert_non_null(strstr(out.text, "  -f, --foreground    stay in the foreground"));
	assert_non_null(strstr(out.text, "  -h, --help"));
	assert_null(strstr(out.text, "help-man"));
	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];
		char want[64];

		if (s->opt && s->help) {
			snprintf(want, sizeof(want), "--%s%s%s  ", s->opt, s->arg ? " " : "",
				 s->arg ? s->arg : "");
			if (!strstr(out.text, want))
				fail_msg("--help lacks '%s'", want);
		}
		if (s->key) {
			snprintf(want, sizeof(want), " %s", s->key);
			assert_non_null(strstr(out.text, want));
		}
	}
	tc_capture_start(&out, 1);
	assert_int_equal(tc_load(&c, &cap, &ex, ver), 0);
	tc_capture_end(&out);
	assert_true(ex);
	assert_string_equal(out.text, "disklinkd " DL_VERSION_STRING "\n");
}

static void test_addr(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[80];

	(void)state;
	assert_int_equal(dld_addr_parse("127.77.0.2", 5405, &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	dld_addr_format(&ss, buf, sizeof(buf));
	assert_string_equal(buf, "127.77.0.2:5405");
	assert_int_equal(dld_addr_parse("fe80::1", 7, &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	dld_addr_format(&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80::1]:7");
	errno = 0;
	assert_int_equal(dld_addr_parse("127.0.0.256", 1, &ss, &len), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dld_addr_parse("host.example", 1, &ss, &len), -1);
	assert_int_equal(dld_addr_parse("", 1, &ss, &len), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_table),
		cmocka_unit_test(test_table_unique),
		cmocka_unit_test(test_every_option),
		cmocka_unit_test(test_link_option),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_too_many_peers),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_addr),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
