/* disklinkd's SIGHUP reload (dld_config_reload): tunables are reloaded, a
 * changed setting of the restart class is logged and not applied, a bad
 * file keeps the old tunables.  The log is libqb's stderr target. */
#include "config.h"

#include "test_config_util.h"

#include "settings.h"

static char conf[64];

static int setup(void **state)
{
	(void)state;
	qb_log_init("test_config_reload", LOG_USER, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_format_set(QB_LOG_STDERR, "%p: %b");
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	qb_log_fini();
	return 0;
}

static int teardown_file(void **state)
{
	(void)state;
	if (conf[0])
		unlink(conf);
	conf[0] = 0;
	return 0;
}

static const char base_file[] =
	"device = /dev/null\nnode_id = 1\nport = 5405\nlocal_addr = 127.0.0.1\n"
	"peer = 2=127.0.0.2\npeer_device = 2=/dev/r2\nnode_name = n1\ncluster = c1\n"
	"control = /tmp/ctl\nlog_file = /tmp/log\npid_file = /tmp/pid\n"
	"poll_fast_us = 600\n";

/* The daemon's configuration from base_file (+ more args). */
static void start(struct dld_config *c, const char *const *more)
{
	const char *args[40] = { "--config", conf };
	struct tc_capture cap;
	size_t n = 2;
	bool ex;

	tc_write_file(conf, sizeof(conf), base_file);
	while (more && *more)
		args[n++] = *more++;
	args[n] = NULL;
	assert_int_equal(tc_load(c, &cap, &ex, args), 0);
	assert_string_equal(cap.text, "");
}

/* Rewrite the file to text, reload into *t; the log in cap->text. */
static int reload(const struct dld_config *c, struct dld_tunables *t, const char *text,
		  struct tc_capture *cap)
{
	int rc;

	tc_write_file(conf, sizeof(conf), text);
	tc_capture_start(cap, 2);
	rc = dld_config_reload(c, t);
	tc_capture_end(cap);
	return rc;
}

static void test_unchanged(void **state)
{
	struct dld_config c;
	struct dld_tunables t;
	struct tc_capture cap;

	(void)state;
	start(&c, NULL);
	t = c.tun;
	assert_int_equal(reload(&c, &t, base_file, &cap), 0);
	assert_string_equal(cap.text, "");
	assert_memory_equal(&t, &c.tun, sizeof(t));
}

/* Every tunable is reloaded: each at its maximum. */
static void test_every_tunable_reloads(void **state)
{
	struct dld_config c;
	struct tc_capture cap;

	(void)state;
	start(&c, NULL);
	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];
		struct dld_config after = c;
		char text[1024];

		if (s->reload != DLD_RELOAD_TUNABLE)
			continue;
		snprintf(text, sizeof(text), "%s%s = %u\n", base_file, s->key, s->max);
		assert_int_equal(reload(&c, &after.tun, text, &cap), 0);
		assert_string_equal(cap.text, "");
		assert_int_equal(*(uint32_t *)dld_setting_ptr(s, &after), s->max);
	}
}

static void test_tunable_applied(void **state)
{
	struct dld_config c;
	struct dld_tunables t;
	struct tc_capture cap;
	char text[1024];

	(void)state;
	start(&c, NULL);
	assert_int_equal(c.tun.poll_fast_us, 600);
	t = c.tun;
	snprintf(text, sizeof(text), "%sio_timeout_ms = 4000\npoll_fast_us = 700\n"
		 "restart_min_ms = 60000\n", base_file);
	assert_int_equal(reload(&c, &t, text, &cap), 0);
	assert_int_equal(t.io_timeout_ms, 4000);
	assert_int_equal(t.poll_fast_us, 700);
	assert_int_equal(t.restart_max_ms, 60000);    /* at least restart_min_ms */
	assert_int_equal(t.header_interval_ms, c.tun.header_interval_ms);
	assert_null(strstr(cap.text, "need a restart"));
}

/* Each restart-class key, changed: logged by name, the tunables applied. */
static void test_restart_class(void **state)
{
	static const char *const changes[][3] = {
		{ "device = /dev/null", "device = /dev/zero", "device" },
		{ "node_id = 1", "node_id = 3", "node_id" },
		{ "port = 5405", "port = 5406", "port" },
		{ "local_addr = 127.0.0.1", "local_addr = 127.0.0.9", "local_addr" },
		{ "peer = 2=127.0.0.2", "peer = 2=127.0.0.7", "peer" },
		{ "peer_device = 2=/dev/r2", "peer_device = 2=/dev/r3", "peer_device" },
		{ "node_name = n1", "node_name = n2", "node_name" },
		{ "cluster = c1", "cluster = c2", "cluster" },
		{ "control = /tmp/ctl", "control = /tmp/ctl2", "control" },
		{ "log_file = /tmp/log", "log_file = /tmp/log2", "log_file" },
		{ "pid_file = /tmp/pid", "pid_file = /tmp/pid2", "pid_file" },
		{ "node_id = 1", "node_id = 1\nlink = 0", "link" },
		{ "peer = 2=127.0.0.2", "peer = 2=127.0.0.2\npeer = 3=127.0.0.3", "peer" },
		{ "device = /dev/null\n", "", "device" },
	};
	struct dld_config c;
	struct tc_capture cap;

	(void)state;
	start(&c, NULL);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		struct dld_config before = c;
		struct dld_tunables t = c.tun;
		char text[1024], want[256];
		const char *at = strstr(base_file, changes[i][0]);

		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%spoll_fast_us = 900\n", (int)(at - base_file),
			 base_file, changes[i][1], at + strlen(changes[i][0]));
		assert_int_equal(reload(&c, &t, text, &cap), 0);
		snprintf(want, sizeof(want), "config: %s: %s changes need a restart of disklinkd; "
			 "tunables were reloaded\n", conf, changes[i][2]);
		if (!strstr(cap.text, want))
			fail_msg("case %zu: '%s' not in '%s'", i, want, cap.text);
		assert_non_null(strstr(cap.text, "warning: "));
		assert_int_equal(t.poll_fast_us, 900);
		assert_memory_equal(&before, &c, sizeof(c));
	}
}

static void test_restart_list(void **state)
{
	struct dld_config c;
	struct dld_tunables t;
	struct tc_capture cap;

	(void)state;
	start(&c, NULL);
	t = c.tun;
	assert_int_equal(reload(&c, &t, "device = /dev/zero\nnode_id = 1\nport = 1\n"
				"local_addr = 127.0.0.1\npeer = 2=127.0.0.2\n"
				"peer_device = 2=/dev/r2\nnode_name = n1\ncluster = c1\n"
				"control = /tmp/ctl\nlog_file = /tmp/log\n", &cap), 0);
	assert_non_null(strstr(cap.text, ": device, port and pid_file changes need a restart "
			       "of disklinkd; tunables were reloaded"));
	assert_int_equal(t.poll_fast_us, c.tun.poll_fast_us);   /* as it was: 600 */
}

/* A bad tunable or a syntax error: -1, logged, the old tunables stay. */
static void test_bad_file_keeps_tunables(void **state)
{
	static const char *const bad[][2] = {
		{ "io_timeout_ms = 5\n", "config: " },
		{ "garbage line\n", "expected 'key = value', got 'garbage line'" },
	};
	struct dld_config c;
	struct tc_capture cap;

	(void)state;
	start(&c, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dld_tunables t = c.tun;
		char text[1024];

		snprintf(text, sizeof(text), "%spoll_fast_us = 900\n%s", base_file, bad[i][0]);
		assert_int_equal(reload(&c, &t, text, &cap), -1);
		assert_memory_equal(&t, &c.tun, sizeof(t));
		assert_non_null(strstr(cap.text, bad[i][1]));
		assert_non_null(strstr(cap.text, "error: config: "));
	}
}

/* A bad value of another key: logged; the tunables are applied, nothing is
 * said about a restart.  A file that is gone: the tunables stay. */
static void test_bad_other_key(void **state)
{
	struct dld_config c;
	struct dld_tunables t;
	struct tc_capture cap;
	char text[1024];

	(void)state;
	start(&c, NULL);
	t = c.tun;
	snprintf(text, sizeof(text), "%sport = 0\nunknown_key = 1\npoll_fast_us = 900\n",
		 base_file);
	assert_int_equal(reload(&c, &t, text, &cap), 0);
	assert_int_equal(t.poll_fast_us, 900);
	assert_non_null(strstr(cap.text, "invalid port '0'"));
	assert_non_null(strstr(cap.text, "unknown key 'unknown_key'"));
	assert_null(strstr(cap.text, "need a restart"));
	unlink(conf);
	t = c.tun;
	tc_capture_start(&cap, 2);
	assert_int_equal(dld_config_reload(&c, &t), 0);
	tc_capture_end(&cap);
	assert_memory_equal(&t, &c.tun, sizeof(t));
}

/* Settings of the command line: not compared, --debug stays on. */
static void test_command_line_kept(void **state)
{
	static const char *const args[] = { "--port", "2222", "--debug", NULL };
	struct dld_config c;
	struct dld_tunables t;
	struct tc_capture cap;
	char text[1024];

	(void)state;
	start(&c, args);
	assert_int_equal(c.port, 2222);
	t = c.tun;
	snprintf(text, sizeof(text), "%sport = 7777\ndebug = no\n", base_file);
	assert_int_equal(reload(&c, &t, text, &cap), 0);
	assert_string_equal(cap.text, "");
	assert_int_equal(t.debug, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_unchanged, teardown_file),
		cmocka_unit_test_teardown(test_every_tunable_reloads, teardown_file),
		cmocka_unit_test_teardown(test_tunable_applied, teardown_file),
		cmocka_unit_test_teardown(test_restart_class, teardown_file),
		cmocka_unit_test_teardown(test_restart_list, teardown_file),
		cmocka_unit_test_teardown(test_bad_file_keeps_tunables, teardown_file),
		cmocka_unit_test_teardown(test_bad_other_key, teardown_file),
		cmocka_unit_test_teardown(test_command_line_kept, teardown_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
