/* The status view (daemon/parent/status_view.c), the replies that print
 * it (status_json.c, status_shell.c, status_text.c) and the mirror
 * states they show (mirror_status.c), from a context whose snapshot this
 * test fills as a running I/O child would publish it.  The JSON must
 * parse (python3's json module reads it when python3 is there) and
 * carry the pinned keys; the shell output must survive `sh -c eval`. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctx.h"
#include "mirror_status.h"
#include "slot_header.h"
#include "status_view.h"

static void peer(struct dld_config *c, uint32_t id, const char *addr)
{
	struct dld_peer_conf *p = &c->peers[c->peer_count++];

	p->node_id = id;
	snprintf(p->text, sizeof(p->text), "%s", addr);
}

static int setup(void **state)
{
	struct dld_ctx *ctx = calloc(1, sizeof(*ctx));
	struct dld_status *s;

	assert_non_null(ctx);
	dld_ctx_init(ctx);
	dld_config_defaults(&ctx->cfg);
	ctx->cfg.node_id = 1;
	snprintf(ctx->cfg.node_name, sizeof(ctx->cfg.node_name), "n\"1");   /* to escape */
	snprintf(ctx->cfg.device, sizeof(ctx->cfg.device), "/dev/vol");
	snprintf(ctx->cfg.local_text, sizeof(ctx->cfg.local_text), "127.77.0.1");
	ctx->cfg.port = 5406;
	peer(&ctx->cfg, 2, "127.77.0.2");
	peer(&ctx->cfg, 3, "127.77.0.3");
	ctx->cfg.tun.lag_warn_ms = 50;
	ctx->cfg.tun.lag_max_ms = 500;
	ctx->start_ns = dld_mono_ns();
	/* A ready child's snapshot: peer 3 first (another order than ours). */
	ctx->child = 4242;
	ctx->children = 2;
	ctx->child_ready_ns = 1;
	s = &ctx->snap;
	s->device_state = DLD_DEV_OK;
	snprintf(s->volume_uuid, sizeof(s->volume_uuid), "0123-4567");
	snprintf(s->cluster, sizeof(s->cluster), "lab");
	s->slot = 0;
	s->role = DL_ROLE_PRIMARY;
	s->generation = 7;
	s->io.writes = 11;
	s->peer_count = 2;
	s->peers[0] = (struct dld_peer_status){ .node_id = 3, .slot = 2, .state = DLD_PEER_DOWN,
						.mirror = DLD_MIRROR_FROZEN, .lag_ms = -1 };
	s->peers[1] = (struct dld_peer_status){ .node_id = 2, .slot = 1, .state = DLD_PEER_UP,
						.mirror = DLD_MIRROR_LAGGING, .lag_ms = 70,
						.role = DL_ROLE_SECONDARY };
	s->peers[1].rs.dgrams = 5;
	ctx->peers[0].dgrams_out = 9;
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Not inlined: gcc would see its memstream buffer as a dangling local. */
__attribute__((noinline))
static char *render(struct dld_ctx *ctx, void (*fn)(struct dld_ctx *, FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	fn(ctx, out);
	fclose(out);
	return text;
}

/* 0: it parses; 1: it does not; -1: no python3 to tell. */
static int json_parses(const char *text)
{
	FILE *p = popen("python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null", "w");
	int st;

	if (!p)
		return -1;
	fputs(text, p);
	st = pclose(p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 127)
		return -1;
	return WEXITSTATUS(st) ? 1 : 0;
}

static void test_json(void **state)
{
	struct dld_ctx *ctx = *state;
	char *j = render(ctx, dld_status_json);

	/* The checker itself tells good from bad (with python3). */
	if (json_parses("{}") == 0)
		assert_int_equal(json_parses("{\"a\":}"), 1);
	assert_int_not_equal(json_parses(j), 1);
	assert_non_null(strstr(j, "\"node_name\":\"n\\\"1\""));
	assert_non_null(strstr(j, "\"device_state\":\"ok\""));
	assert_non_null(strstr(j, "\"volume_uuid\":\"0123-4567\""));
	assert_non_null(strstr(j, "\"role\":\"primary\""));
	assert_non_null(strstr(j, "\"io_pid\":4242,\"io_restarts\":1"));
	assert_non_null(strstr(j, "\"corosync\":\"off\""));
	/* Peers in the parent's order, matched by node id. */
	assert_non_null(strstr(j, "\"peers\":[{\"node_id\":2,\"addr\":\"127.77.0.2\","
			       "\"state\":\"up\",\"slot\":1"));
	assert_non_null(strstr(j, "\"dgrams_out\":9"));
	assert_non_null(strstr(j, "\"mirror\":\"lagging\",\"lag_ms\":70,\"lag_warn\":true,"
			       "\"lag_max_exceeded\":false,\"role\":\"secondary\""));
	/* Frozen: not in corosync mode, corosync cannot call it gone. */
	assert_non_null(strstr(j, "{\"node_id\":3,\"addr\":\"127.77.0.3\",\"state\":\"down\""));
	assert_non_null(strstr(j, "\"mirror\":\"frozen\",\"lag_ms\":null"));
	free(j);
}

static void test_json_without_child(void **state)
{
	struct dld_ctx *ctx = *state;
	char *j;

	ctx->child = 0;
	snprintf(ctx->error, sizeof(ctx->error), "cannot open /dev/vol: No such file");
	j = render(ctx, dld_status_json);
	assert_int_not_equal(json_parses(j), 1);
	assert_non_null(strstr(j, "\"device_state\":\"failed\",\"device_error\":\"cannot open "
			       "/dev/vol: No such file\""));
	assert_non_null(strstr(j, "\"slot\":-1"));
	assert_non_null(strstr(j, "\"state\":\"unknown\""));
	assert_non_null(strstr(j, "\"mirror\":\"unknown\""));
	free(j);
}

static void test_text(void **state)
{
	struct dld_ctx *ctx = *state;
	char *t = render(ctx, dld_status_text);

	assert_non_null(strstr(t, "node 1 (n\"1), link 127.77.0.1:5406\n"));
	assert_non_null(strstr(t, "device /dev/vol: ok\n"));
	assert_non_null(strstr(t, "volume 0123-4567, cluster 'lab', slot 0, generation 7, "
			       "role primary\n"));
	assert_non_null(strstr(t, "io: 11 writes"));
	assert_non_null(strstr(t, "2      127.77.0.2       up"));
	assert_non_null(strstr(t, "2      lagging   70ms!    secondary  /dev/vol\n"));
	assert_non_null(strstr(t, "3      frozen    -        none       /dev/vol\n"));
	assert_null(strstr(t, "corosync link"));
	free(t);
}

#define STALLED "device /dev/vol: stalled: an I/O request has been pending for "

static void test_text_stalled_corosync(void **state)
{
	struct dld_ctx *ctx = *state;
	char *t, nl = 0;
	unsigned long ms = 99999;

	ctx->stalled = true;
	ctx->stalled_since_ns = dld_mono_ns();
	ctx->cfg.link = 1;
	ctx->cs.state = DLD_CS_WAITING;
	snprintf(ctx->cs.why, sizeof(ctx->cs.why), "corosync is not running");
	t = render(ctx, dld_status_text);
	assert_non_null(strstr(t, "corosync link 1: waiting: corosync is not running\n"));
	/* Pending since just now: well under a second, even under valgrind. */
	assert_non_null(strstr(t, STALLED));
	assert_int_equal(sscanf(strstr(t, STALLED), STALLED "%lu ms%c", &ms, &nl), 2);
	assert_true(ms < 1000);
	assert_int_equal(nl, '\n');
	assert_non_null(strstr(t, "2      127.77.0.2       unknown"));
	free(t);
}

static void test_view(void **state)
{
	struct dld_ctx *ctx = *state;
	struct dld_status_view v;

	dld_status_view(ctx, &v);
	assert_int_equal(v.node_id, 1);
	assert_string_equal(v.device_state, "ok");
	assert_string_equal(v.role, "primary");
	assert_int_equal(v.slot, 0);
	assert_int_equal(v.io_pid, 4242);
	assert_int_equal(v.io_restarts, 1);
	assert_int_equal(v.peer_count, 2);
	/* The parent's order, the child's data matched by node id. */
	assert_int_equal(v.peers[0].node_id, 2);
	assert_string_equal(v.peers[0].state, "up");
	assert_string_equal(v.peers[0].mirror, "lagging");
	assert_true(v.peers[0].lag_known && v.peers[0].lag_warn);
	assert_false(v.peers[0].lag_max_exceeded);
	assert_int_equal(v.peers[0].lag_ms, 70);
	assert_int_equal(v.peers[0].dgrams_out, 9);
	assert_string_equal(v.peers[0].path, "/dev/vol");
	assert_int_equal(v.peers[1].node_id, 3);
	assert_false(v.peers[1].lag_known);
	assert_string_equal(v.peers[1].role, "none");
	/* Without a child: nothing is live. */
	ctx->child = 0;
	dld_status_view(ctx, &v);
	assert_int_equal(v.slot, -1);
	assert_string_equal(v.peers[0].state, "unknown");
	assert_string_equal(v.peers[0].mirror, "unknown");
	assert_false(v.peers[0].lag_known);
}

/* A node name that is not UTF-8 (Latin-1 "é", a lone continuation
 * byte) next to one that is ("€"): valid JSON, and U+FFFD for the
 * invalid bytes only. */
static void test_invalid_utf8(void **state)
{
	struct dld_ctx *ctx = *state;
	char *j, *t;

	snprintf(ctx->cfg.node_name, sizeof(ctx->cfg.node_name), "n\xe9\x80-\xe2\x82\xac");
	snprintf(ctx->cfg.peers[0].text, sizeof(ctx->cfg.peers[0].text), "a\x01\xff");
	j = render(ctx, dld_status_json);
	assert_int_not_equal(json_parses(j), 1);
	assert_non_null(strstr(j, "\"node_name\":\"n\\ufffd\\ufffd-\xe2\x82\xac\""));
	assert_non_null(strstr(j, "\"addr\":\"a\\u0001\\ufffd\""));
	assert_non_null(strstr(j, "{\"format_version\":1,"));
	free(j);
	/* The table prints the name as it is (people read it). */
	t = render(ctx, dld_status_text);
	assert_non_null(strstr(t, "node 1 (n\xe9\x80-\xe2\x82\xac)"));
	free(t);
}

/* Run `sh -c 'eval "$(cat file)"; printf ...'` and return its output. */
static char *eval_in_sh(const char *assignments, const char *print)
{
	char path[] = "/tmp/test_status.XXXXXX";
	char cmd[512], *buf = calloc(1, 4096);
	int fd = mkstemp(path);
	FILE *p;
	size_t n;

	assert_true(fd >= 0);
	assert_non_null(buf);
	assert_int_equal(write(fd, assignments, strlen(assignments)), (ssize_t)strlen(assignments));
	close(fd);
	snprintf(cmd, sizeof(cmd), "sh -c 'set -eu; eval \"$(cat %s)\"; %s'", path, print);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, 4095, p);
	buf[n] = 0;
	assert_int_equal(pclose(p), 0);
	unlink(path);
	return buf;
}

static void test_shell(void **state)
{
	struct dld_ctx *ctx = *state;
	char *o, *e;

	/* Quotes, a command substitution, a newline and invalid UTF-8. */
	snprintf(ctx->cfg.node_name, sizeof(ctx->cfg.node_name), "it's $(false)`x`\n\xff");
	o = render(ctx, dld_status_shell);
	assert_non_null(strstr(o, "status_format_version='1'\n"));
	assert_non_null(strstr(o, "status_node_id='1'\n"));
	assert_non_null(strstr(o, "status_io_writes='11'\n"));
	assert_non_null(strstr(o, "status_peer_count='2'\n"));
	assert_non_null(strstr(o, "status_peer0_node_id='2'\n"));
	assert_non_null(strstr(o, "status_peer0_lag_warn='true'\n"));
	assert_non_null(strstr(o, "status_peer1_lag_ms=''\n"));
	assert_non_null(strstr(o, "status_peer1_mirror='frozen'\n"));
	/* One key a line: every line is NAME='...'. */
	for (char *l = o; *l; l = strchr(l, '\n') + 1) {
		assert_non_null(strchr(l, '\n'));
		assert_int_equal(strncmp(l, "status_", 7), 0);
	}
	e = eval_in_sh(o, "printf \"%s|%s|%s|%s\" \"$status_node_name\" \"$status_peer_count\" "
		       "\"$status_peer1_node_id\" \"$status_device_state\"");
	assert_string_equal(e, "it's $(false)`x`?\xef\xbf\xbd|2|3|ok");
	free(e);
	free(o);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dld_peer_state_name(DLD_PEER_UP), "up");
	assert_string_equal(dld_peer_state_name(DLD_PEER_STALE), "stale");
	assert_string_equal(dld_peer_state_name(DLD_PEER_DOWN), "down");
	assert_string_equal(dld_peer_state_name(99), "unknown");
	assert_string_equal(dld_mirror_name(DLD_MIRROR_HEALTHY), "healthy");
	assert_string_equal(dld_mirror_name(DLD_MIRROR_GONE), "gone");
	assert_string_equal(dld_mirror_name(99), "unknown");
}

static void test_mirror_of(void **state)
{
	struct dld_ctx *ctx = *state;
	struct dld_peer_status ps = { .node_id = 3, .mirror = DLD_MIRROR_FROZEN };

	assert_int_equal(dld_mirror_of(ctx, &ps, true), DLD_MIRROR_FROZEN);
	assert_int_equal(dld_mirror_of(ctx, &ps, false), DLD_MIRROR_UNKNOWN);
	ps.node_id = 0;
	assert_int_equal(dld_mirror_of(ctx, &ps, true), DLD_MIRROR_UNKNOWN);
	/* Corosync mode but not connected: corosync's view is not asked. */
	ctx->cfg.link = 1;
	ps.node_id = 3;
	assert_int_equal(dld_mirror_of(ctx, &ps, true), DLD_MIRROR_FROZEN);
	/* The snapshot's peer by node id, or none. */
	assert_int_equal(dld_peer_snap(ctx, 0)->node_id, 2);
	assert_int_equal(dld_peer_snap(ctx, 1)->node_id, 3);
	ctx->cfg.peers[1].node_id = 9;
	assert_int_equal(dld_peer_snap(ctx, 1)->slot, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_without_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_stalled_corosync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror_of, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
