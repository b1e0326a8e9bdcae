/* Timing guards (daemon/parent/timing.c): the default io_timeout_ms is a
 * third of knet_ping_timeout read from cmap and follows its changes,
 * unless the operator set io_timeout_ms; a warning when io_timeout_ms or
 * the measured link latency reaches half of it, in the status too.  The
 * cmap is fake_cmap.h's (corosync's, as corosync 3.1.7 fills it). */
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
#include "status_view.h"

#define PING_KEY "runtime.config.totem.interface.1.knet_ping_timeout"

static int setup(void **state)
{
	struct dld_ctx *ctx = calloc(1, sizeof(*ctx));

	assert_non_null(ctx);
	dld_ctx_init(ctx);
	table_reset();
	kv_set(PING_KEY, KV_U32, NULL, 1500);
	dld_config_defaults(&ctx->cfg);
	ctx->cfg.link = 1;
	assert_int_equal(dld_loop_init(&ctx->loop), 0);
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	struct dld_ctx *ctx = *state;

	dld_timing_stop(ctx);
	dld_loop_fini(&ctx->loop);
	free(ctx);
	return 0;
}

static void test_rules(void **state)
{
	char w[DLD_TIMING_WARN_MAX];

	(void)state;
	assert_int_equal(dld_timing_default_io_timeout(1500), 500);
	assert_int_equal(dld_timing_default_io_timeout(3000), 1000);
	assert_int_equal(dld_timing_default_io_timeout(150), 100);
	/* Today's 2000 ms against knet's 1500 ms. */
	assert_true(dld_timing_check(1500, 2000, 0, w, sizeof(w)));
	assert_non_null(strstr(w, "io_timeout_ms 2000 is not below half of knet_ping_timeout 1500"));
	assert_true(dld_timing_check(1500, 750, 0, w, sizeof(w)));
	assert_false(dld_timing_check(1500, 749, 0, w, sizeof(w)));
	assert_string_equal(w, "");
	assert_true(dld_timing_check(1500, 500, 800000, w, sizeof(w)));
	assert_non_null(strstr(w, "link latency 800 ms is within half of knet_ping_timeout 1500"));
	assert_false(dld_timing_check(1500, 500, 700000, w, sizeof(w)));
	assert_false(dld_timing_check(0, 60000, 1u << 30, w, sizeof(w)));    /* unknown */
}

/* The default derives from cmap's value and follows a corosync reload. */
static void test_derived_and_followed(void **state)
{
	struct dld_ctx *ctx = *state;

	dld_timing_start(ctx);
	assert_true(ctx->timing.connected);
	assert_int_equal(ctx->timing.ping_timeout_ms, 1500);
	assert_int_equal(ctx->cfg.tun.io_timeout_ms, 500);
	assert_string_equal(ctx->timing.warning, "");
	kv_set(PING_KEY, KV_U32, NULL, 3000);
	fake_cmap_notify();
	assert_int_equal(dld_loop_once(&ctx->loop, 1000), 0);
	assert_int_equal(ctx->timing.ping_timeout_ms, 3000);
	assert_int_equal(ctx->cfg.tun.io_timeout_ms, 1000);
	/* SIGHUP set another value: the operator's from now on. */
	ctx->cfg.tun.io_timeout_ms = 700;
	dld_timing_reloaded(ctx);
	kv_set(PING_KEY, KV_U32, NULL, 1200);
	fake_cmap_notify();
	assert_int_equal(dld_loop_once(&ctx->loop, 1000), 0);
	assert_int_equal(ctx->cfg.tun.io_timeout_ms, 700);
	assert_non_null(strstr(ctx->timing.warning, "io_timeout_ms 700 is not below half"));
}

/* io_timeout_ms set in the file: kept, and warned about. */
static void test_given(void **state)
{
	struct dld_ctx *ctx = *state;
	struct dld_status_view *v = malloc(sizeof(*v));

	assert_non_null(v);
	ctx->cfg.given |= DLD_SET_IO_TIMEOUT;
	ctx->cfg.tun.io_timeout_ms = 2000;
	dld_timing_start(ctx);
	assert_int_equal(ctx->cfg.tun.io_timeout_ms, 2000);
	assert_non_null(strstr(ctx->timing.warning, "io_timeout_ms 2000"));
	dld_status_view(ctx, v);
	assert_int_equal(v->knet_ping_timeout_ms, 1500);
	assert_int_equal(v->io_timeout_ms, 2000);
	assert_string_equal(v->timing_warning, ctx->timing.warning);
	free(v);
}

/* max_age_ms: knet_ping_timeout itself, followed across corosync
 * reloads, until the operator sets another (SIGHUP); given in the file,
 * kept.  The status shows the one in force. */
static void test_max_age(void **state)
{
	struct dld_ctx *ctx = *state;
	struct dld_status_view *v = malloc(sizeof(*v));

	assert_non_null(v);
	assert_int_equal(ctx->cfg.tun.max_age_ms, DLD_MAX_AGE_DEFAULT_MS);
	kv_set(PING_KEY, KV_U32, NULL, 2400);
	dld_timing_start(ctx);
	assert_int_equal(ctx->cfg.tun.max_age_ms, 2400);
	kv_set(PING_KEY, KV_U32, NULL, 1800);
	fake_cmap_notify();
	assert_int_equal(dld_loop_once(&ctx->loop, 1000), 0);
	assert_int_equal(ctx->cfg.tun.max_age_ms, 1800);
	dld_status_view(ctx, v);
	assert_int_equal(v->max_age_ms, 1800);
	ctx->cfg.tun.max_age_ms = 900;
	dld_timing_reloaded(ctx);
	kv_set(PING_KEY, KV_U32, NULL, 3000);
	fake_cmap_notify();
	assert_int_equal(dld_loop_once(&ctx->loop, 1000), 0);
	assert_int_equal(ctx->cfg.tun.max_age_ms, 900);
	dld_timing_stop(ctx);
	/* Given: never derived. */
	ctx->timing = (struct dld_timing){ .fd = -1 };
	ctx->cfg.given |= DLD_SET_MAX_AGE;
	ctx->cfg.tun.max_age_ms = 5000;
	dld_timing_start(ctx);
	assert_int_equal(ctx->cfg.tun.max_age_ms, 5000);
	free(v);
}

/* The measured latency comes near: a warning; it goes: cleared. */
static void test_latency(void **state)
{
	struct dld_ctx *ctx = *state;

	dld_timing_start(ctx);
	ctx->snap.peer_count = 2;
	ctx->snap.peers[1].latency_us = 900000;
	dld_timing_tick(ctx, dld_mono_ns());
	assert_non_null(strstr(ctx->timing.warning, "link latency 900 ms"));
	ctx->snap.peers[1].latency_us = 2000;
	dld_timing_tick(ctx, dld_mono_ns());
	assert_string_equal(ctx->timing.warning, "");
}

/* corosync goes away: the values stay; it comes back: followed again. */
static void test_reconnect(void **state)
{
	struct dld_ctx *ctx = *state;

	dld_timing_start(ctx);
	dispatch_rc = CS_ERR_LIBRARY;
	fake_cmap_notify();
	assert_int_equal(dld_loop_once(&ctx->loop, 1000), 0);
	assert_false(ctx->timing.connected);
	assert_int_equal(ctx->cfg.tun.io_timeout_ms, 500);
	dispatch_rc = CS_OK;
	kv_set(PING_KEY, KV_U32, NULL, 2400);
	dld_timing_tick(ctx, dld_mono_ns());
	assert_false(ctx->timing.connected);           /* not before the retry */
	dld_timing_tick(ctx, dld_mono_ns() + (DLD_TIMING_RETRY_MS + 1) * 1000000ull);
	assert_true(ctx->timing.connected);
	assert_int_equal(ctx->cfg.tun.io_timeout_ms, 800);
}

/* Explicit mode: no cmap, io_timeout_ms as configured. */
static void test_explicit(void **state)
{
	struct dld_ctx *ctx = *state;

	ctx->cfg.link = -1;
	dld_timing_start(ctx);
	dld_timing_tick(ctx, dld_mono_ns());
	assert_false(ctx->timing.connected);
	assert_int_equal(ctx->cfg.tun.io_timeout_ms, 2000);
	assert_string_equal(ctx->timing.warning, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test_setup_teardown(test_derived_and_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_given, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explicit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
