/* Corosync mode (daemon/parent/corosync_mode.c) driven through the event
 * loop with the FAKE cmap of fake_cmap.h (no libcmap, no libcfg): the
 * first configuration binds the peers' sockets, a reload moves a peer,
 * corosync going away and coming back, corosync not running at start,
 * a link not configured for this node, and a configuration that stops
 * the daemon.  No I/O child is forked: ctx->abandoned names this very
 * process, which stands for a stuck child still alive, so that
 * dld_child_start only schedules a start. */
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

#include "fake_cmap.h"

#include "ctx.h"

static int setup(void **state)
{
	struct dld_ctx *ctx = calloc(1, sizeof(*ctx));
	static char port[8];

	assert_non_null(ctx);
	dld_ctx_init(ctx);
	table_reset();
	/* A port of our own: other tests may bind 127.77.0.x too. */
	snprintf(port, sizeof(port), "%u", 30000u + (unsigned)getpid() % 20000u);
	kv_set("totem.interface.1.mcastport", KV_U16, NULL, (uint32_t)atoi(port));
	dld_config_defaults(&ctx->cfg);
	ctx->cfg.link = 1;
	snprintf(ctx->cfg.device, sizeof(ctx->cfg.device), "/nonexistent/disklink-test");
	ctx->abandoned = getpid();
	assert_int_equal(dld_loop_init(&ctx->loop), 0);
	assert_int_equal(dld_sockets_init(ctx), 0);
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	struct dld_ctx *ctx = *state;

	dld_cs_stop(ctx);
	dld_sockets_close(ctx);
	dld_loop_fini(&ctx->loop);
	free(ctx);
	return 0;
}

/* Turn the loop until cond holds (at most ~5 s). */
#define TURN_UNTIL(ctx, cond)                                                  \
	do {                                                                   \
		for (int k_ = 0; k_ < 50 && !(cond); k_++)                    \
			assert_int_equal(dld_loop_once(&(ctx)->loop, 100), 0); \
		assert_true(cond);                                             \
	} while (0)

static void test_first_configuration(void **state)
{
	struct dld_ctx *ctx = *state;

	assert_int_equal(dld_cs_start(ctx), 0);
	assert_false(ctx->loop.quit);
	assert_int_equal(ctx->cs.state, DLD_CS_CONNECTED);
	assert_string_equal(dld_cs_state_name(&ctx->cs), "connected");
	assert_true(ctx->cs.configured);
	assert_int_equal(ctx->cfg.node_id, 1);
	assert_string_equal(ctx->cfg.node_name, "n1");
	assert_string_equal(ctx->cfg.local_text, "127.77.0.1");
	assert_int_equal(ctx->cfg.peer_count, 2);
	assert_true(ctx->peers[0].fd >= 0);
	assert_true(ctx->peers[1].fd >= 0);
	/* The child start waits for the "stuck" one. */
	assert_int_equal(ctx->child, 0);
	assert_true(ctx->restart_at_ns > 0);
	/* Membership as corosync has it. */
	assert_false(dld_cs_peer_gone(ctx, 2));
	assert_true(dld_cs_peer_gone(ctx, 3));
}

static void test_reload_moves_a_peer(void **state)
{
	struct dld_ctx *ctx = *state;
	int fd2;

	assert_int_equal(dld_cs_start(ctx), 0);
	fd2 = ctx->peers[0].fd;
	kv_set("nodelist.node.2.ring1_addr", KV_STR, "127.77.0.9", 0);
	fake_cmap_notify();
	TURN_UNTIL(ctx, ctx->cs.reloads == 1);
	assert_int_equal(ctx->cfg.peer_count, 2);
	assert_string_equal(ctx->cfg.peers[1].text, "127.77.0.9");
	assert_int_equal(ctx->peers[0].fd, fd2);      /* node 2 kept its socket */
	assert_true(ctx->peers[1].fd >= 0);
	/* A change elsewhere in corosync's configuration is no reload. */
	kv_set("nodelist.node.1.name", KV_STR, "renamed", 0);
	fake_cmap_notify();
	for (int k = 0; k < 8; k++)
		assert_int_equal(dld_loop_once(&ctx->loop, 100), 0);
	assert_int_equal(ctx->cs.reloads, 1);
}

static void test_corosync_away_and_back(void **state)
{
	struct dld_ctx *ctx = *state;

	assert_int_equal(dld_cs_start(ctx), 0);
	dispatch_rc = CS_ERR_LIBRARY;
	fake_cmap_notify();
	TURN_UNTIL(ctx, ctx->cs.state == DLD_CS_DISCONNECTED);
	assert_false(ctx->cs.connected);
	assert_false(dld_cs_peer_gone(ctx, 3));        /* no view: not gone */
	assert_int_equal(ctx->cfg.peer_count, 2);       /* the last one is kept */
	dispatch_rc = CS_OK;
	TURN_UNTIL(ctx, ctx->cs.state == DLD_CS_CONNECTED);
	assert_true(ctx->cs.connected);
	/* corosync may have restarted with another configuration: it is
	 * applied again. */
	assert_int_equal(ctx->cs.reloads, 1);
	assert_int_equal(ctx->cfg.peer_count, 2);
}

static void test_corosync_not_running_at_start(void **state)
{
	struct dld_ctx *ctx = *state;

	local_id = 0;
	assert_int_equal(dld_cs_start(ctx), 0);
	assert_int_equal(ctx->cs.state, DLD_CS_WAITING);
	assert_non_null(strstr(ctx->cs.why, "corosync is not running"));
	assert_false(ctx->cs.configured);
	local_id = 1;
	TURN_UNTIL(ctx, ctx->cs.configured);
	assert_int_equal(ctx->cs.state, DLD_CS_CONNECTED);
	assert_string_equal(ctx->cs.why, "");
}

/* Not configured for this node: the daemon waits, and says it serves. */
static void test_link_not_configured(void **state)
{
	struct dld_ctx *ctx = *state;

	kv_set("nodelist.node.0.ring1_addr", KV_END, NULL, 0);
	assert_int_equal(dld_cs_start(ctx), 0);
	assert_false(ctx->loop.quit);
	assert_false(ctx->cs.configured);
	assert_int_equal(ctx->cs.state, DLD_CS_WAITING);
	assert_non_null(strstr(ctx->cs.why, "this node (id 1) has no ring1_addr"));
	assert_true(ctx->notified);
	/* Added: the next change applies it. */
	kv_set("nodelist.node.0.ring1_addr", KV_STR, "127.77.0.1", 0);
	fake_cmap_notify();
	TURN_UNTIL(ctx, ctx->cs.configured);
	assert_int_equal(ctx->cfg.peer_count, 2);
}

/* A link that is not a disklink link stops the daemon at start. */
static void test_bad_link_stops(void **state)
{
	struct dld_ctx *ctx = *state;

	kv_set("nodelist.node.1.ring1_addr", KV_STR, "169.254.7.7", 0);
	assert_int_equal(dld_cs_start(ctx), -1);
	assert_true(ctx->loop.quit);
	assert_int_equal(ctx->exit_code, DLD_EXIT_USAGE);
	assert_non_null(strstr(ctx->error, "not a loopback address"));
}

/* After the start, a bad reload keeps the last configuration. */
static void test_bad_reload_kept(void **state)
{
	struct dld_ctx *ctx = *state;

	assert_int_equal(dld_cs_start(ctx), 0);
	kv_set("nodelist.node.1.ring1_addr", KV_STR, "169.254.7.7", 0);
	fake_cmap_notify();
	for (int k = 0; k < 8; k++)
		assert_int_equal(dld_loop_once(&ctx->loop, 100), 0);
	assert_false(ctx->loop.quit);
	assert_int_equal(ctx->cs.reloads, 0);
	assert_string_equal(ctx->cfg.peers[0].text, "127.77.0.2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_configuration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_moves_a_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corosync_away_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corosync_not_running_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_not_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_link_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_reload_kept, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
