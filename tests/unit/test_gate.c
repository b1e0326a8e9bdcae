/* The mirror agent's promotion gate (lib/gate.c, lib/fence_history.c)
 * against the fence-history fixtures in tests/replica/fence-history/
 * (found through $top_srcdir, which `make check` exports, or this
 * file's path), a history larger than 128 KiB (what one argument could
 * not carry) and the verdict table. */
#include "test_util.h"

#include <time.h>

#include "fence_history.h"
#include "gate.h"

#define T0 1796182800       /* 2026-12-02 03:40:00 UTC */

static FILE *fixture(const char *name)
{
	const char *top = getenv("top_srcdir"), *slash = strrchr(__FILE__, '/');
	char path[4096];
	FILE *f;

	/* Without make check's $top_srcdir (valgrind runs): from this
	 * file's directory, tests/unit/. */
	if (top)
		snprintf(path, sizeof(path), "%s/tests/replica/fence-history/%s", top, name);
	else
		snprintf(path, sizeof(path), "%.*s/../replica/fence-history/%s",
			 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("fixture %s: %s", path, strerror(errno));
	return f;
}

static void read_history(const char *name, struct dl_fence_history *h)
{
	FILE *f = fixture(name);

	assert_int_equal(dl_fence_history_read(f, h), 0);
	fclose(f);
}

static void expect(const struct dl_fence_history *h, const char *target, int64_t want)
{
	int64_t when = 0;

	if (!dl_fence_history_last(h, target, &when))
		fail_msg("%s: not in the history", target);
	assert_int_equal(when, want);
}

static void expect_none(const struct dl_fence_history *h, const char *target)
{
	int64_t when;

	assert_false(dl_fence_history_last(h, target, &when));
}

static void test_formats(void **state)
{
	static const char *const same[] = {
		"t-epoch", "t-offset-colon", "t-offset", "t-iso", "t-zulu", "t-usec",
		"t-state", "t-ctime", "t-local", "t&<\xc3\xa9\xe2\x82\xac",
	};
	struct dl_fence_history *h = calloc(1, sizeof(*h));

	(void)state;
	assert_non_null(h);
	read_history("formats.xml", h);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		expect(h, same[i], T0);
	expect_none(h, "t-state-failed");
	expect_none(h, "t-bad-time");
	expect_none(h, "t-no-time");
	assert_int_equal(h->events, 13);
	free(h);
}

/* As pacemaker 2.1.5 prints it (a list element, times in UTC with Z). */
static void test_pacemaker_21(void **state)
{
	struct dl_fence_history *h = calloc(1, sizeof(*h));

	(void)state;
	assert_non_null(h);
	read_history("pcmk-2.1.xml", h);
	expect(h, "dl2", T0);          /* the newest of two */
	expect_none(h, "dl3");         /* failed */
	expect_none(h, "dl4");         /* "on", and a pending reboot */
	assert_int_equal(h->count, 1);
	free(h);
}

/* 3000 failed fencings of dl3 (about 600 KiB) and then dl2's. */
static void test_big_history(void **state)
{
	struct dl_fence_history *h = calloc(1, sizeof(*h));
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(h);
	assert_non_null(f);
	fprintf(f, "<pacemaker-result><fence_history>\n");
	for (int i = 0; i < 3000; i++)
		fprintf(f, "  <fence_event action=\"reboot\" target=\"dl3\" client=\"stonith_admin.%d\" "
			"origin=\"dl1\" status=\"failed\" exit-reason=\"No route to host\" "
			"delegate=\"dl1\" completed=\"2026-12-02 03:%02d:%02d +00:00\"/>\n",
			i, i / 60 % 60, i % 60);
	fprintf(f, "  <fence_event action=\"off\" target=\"dl2\" status=\"success\" "
		"completed=\"2026-12-02 03:40:00 +00:00\"/>\n</fence_history></pacemaker-result>\n");
	assert_int_equal(fclose(f), 0);
	assert_true(len > 128 * 1024);
	f = fmemopen(text, len, "r");
	assert_non_null(f);
	assert_int_equal(dl_fence_history_read(f, h), 0);
	fclose(f);
	assert_int_equal(h->events, 3001);
	expect(h, "dl2", T0);
	expect_none(h, "dl3");
	free(text);
	free(h);
}

static void test_bad_times(void **state)
{
	static const char *const bad[] = {
		"", "  ", "2026-12-02", "2026-12-02 03:40", "2026-12-02 03:40:00 +2",
		"2026-12-02 03:40:00 +25:00", "2026-12-02 03:40:00 CET", "12:00:00",
		"Wed Dec  2 03:40:00", "1796182800x",
	};
	int64_t when;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dl_fence_time(bad[i], &when) == 0)
			fail_msg("'%s' parsed as %lld", bad[i], (long long)when);
	assert_int_equal(dl_fence_time(" 2026-12-02 04:40:00 +01 ", &when), 0);
	assert_int_equal(when, T0);
	assert_int_equal(dl_fence_time("2026-12-02 02:10:00 -01:30", &when), 0);
	assert_int_equal(when, T0);
}

static void read_status(const char *text, struct dl_gate_status *st, int want)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(f);
	assert_int_equal(dl_gate_status_read(f, st), want);
	fclose(f);
}

static void test_status_input(void **state)
{
	struct dl_gate_status *st = calloc(1, sizeof(*st));
	FILE *f;

	(void)state;
	assert_non_null(st);
	f = fixture("status-primary-dl2.sh");
	assert_int_equal(dl_gate_status_read(f, st), 0);
	fclose(f);
	assert_string_equal(st->role, "secondary");
	assert_int_equal(st->uptime_s, 600);
	assert_int_equal(st->peer_count, 2);
	assert_int_equal(st->peers[1].node_id, 2);
	assert_string_equal(st->peers[1].mirror, "frozen");
	assert_int_equal(st->peers[1].age_ms, 600000);
	/* Quotes as the daemon writes them; a null age is "never seen". */
	read_status("status_format_version='1'\nstatus_role='it'\\''s'\n"
		    "status_peer0_last_block_age_ms=''\nstatus_peer_count='1'\n", st, 0);
	assert_string_equal(st->role, "it's");
	assert_int_equal(st->peers[0].age_ms, -1);
	/* Not the shell output: refused, not read as "no primary". */
	read_status("{\"node_id\":1}\n", st, -1);
	assert_int_equal(errno, EINVAL);
	read_status("status_role='primary'\n", st, -1);
	read_status("status_format_version='1'\nstatus_role='open\n", st, -1);
	free(st);
}

struct gate_fixture {
	struct dl_gate_status st;
	struct dl_gate_nodes nodes;
	struct dl_fence_history hist;
};

static int gate_setup(void **state)
{
	struct gate_fixture *g = calloc(1, sizeof(*g));
	FILE *f;

	assert_non_null(g);
	f = fixture("status-primary-dl2.sh");
	assert_int_equal(dl_gate_status_read(f, &g->st), 0);
	fclose(f);
	f = fixture("crm-node.txt");
	assert_int_equal(dl_gate_nodes_read(f, &g->nodes), 0);
	fclose(f);
	assert_int_equal(g->nodes.count, 3);
	*state = g;
	return 0;
}

static int gate_teardown(void **state)
{
	free(*state);
	return 0;
}

static char *eval(struct gate_fixture *g, bool gate, const char *recorded, double now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(dl_gate_eval(&(struct dl_gate_in){ .gate = gate, .recorded = recorded,
					.now = now, .st = &g->st, .nodes = &g->nodes,
					.hist = &g->hist }, out), 0);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void check_verdict(struct gate_fixture *g, const char *want)
{
	char *o = eval(g, true, "", T0 + 200);

	if (!strstr(o, want))
		fail_msg("want %s in:\n%s", want, o);
	free(o);
}

static void test_verdicts(void **state)
{
	struct gate_fixture *g = *state;
	char *o;

	/* dl2: frozen, lost, no fencing: it may still write. */
	check_verdict(g, "DV_VERDICTS='dl2=present'\n");
	o = eval(g, false, "", T0 + 200);
	assert_string_equal(o, "DV_OWN_ROLE='secondary'\nDV_FROZEN_PRIMARY='dl2'\n"
			    "DV_VERDICTS=''\nDV_DETAILS=''\n");
	free(o);
	/* Fenced after its last block (600 s before now): fenced. */
	read_history("pcmk-2.1.xml", &g->hist);
	o = eval(g, true, "", T0 + 200);
	assert_non_null(strstr(o, "DV_VERDICTS='dl2=fenced'\n"));
	assert_non_null(strstr(o, "DV_DETAILS='dl2 (node 2): role primary, disk ring frozen, "
			       "not a member, last block 600.0s ago, fenced 200s ago'\n"));
	free(o);
	/* Fenced before it wrote its last block: that fencing says nothing. */
	g->st.peers[1].age_ms = 100;
	check_verdict(g, "DV_VERDICTS='dl2=present'\n");
	/* Its ring judged gone and not a member: gone; a member: present. */
	snprintf(g->st.peers[1].mirror, sizeof(g->st.peers[1].mirror), "gone");
	check_verdict(g, "DV_VERDICTS='dl2=gone'\n");
	g->nodes.nodes[1].member = true;
	check_verdict(g, "DV_VERDICTS='dl2=present'\n");
	/* A ring that advances: writing, whatever the membership says. */
	snprintf(g->st.peers[1].mirror, sizeof(g->st.peers[1].mirror), "lagging");
	check_verdict(g, "DV_VERDICTS='dl2=writing'\n");
	/* Never seen: fenced counts from the daemon's start (600 s ago). */
	g->st.peers[1].age_ms = -1;
	check_verdict(g, "DV_VERDICTS='dl2=fenced'\n");
	check_verdict(g, "last block never seen, fenced 200s ago'");
}

static void test_recorded_primary(void **state)
{
	struct gate_fixture *g = *state;
	char *o;

	/* dl2's header says nothing (unknown): only the notifications'
	 * primary counts; a secondary never does. */
	snprintf(g->st.peers[1].role, sizeof(g->st.peers[1].role), "unknown");
	o = eval(g, true, "", T0);
	assert_non_null(strstr(o, "DV_VERDICTS=''\n"));
	assert_non_null(strstr(o, "DV_FROZEN_PRIMARY=''\n"));
	free(o);
	o = eval(g, true, "dl2", T0);
	assert_non_null(strstr(o, "DV_VERDICTS='dl2=present'\n"));
	free(o);
	o = eval(g, true, "dl1", T0);
	assert_non_null(strstr(o, "DV_VERDICTS=''\n"));
	free(o);
	/* A node crm_node does not list goes by its id. */
	g->nodes.count = 0;
	o = eval(g, true, "2", T0);
	assert_non_null(strstr(o, "DV_VERDICTS='2=present'\n"));
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_pacemaker_21),
		cmocka_unit_test(test_big_history),
		cmocka_unit_test(test_bad_times),
		cmocka_unit_test(test_status_input),
		cmocka_unit_test_setup_teardown(test_verdicts, gate_setup, gate_teardown),
		cmocka_unit_test_setup_teardown(test_recorded_primary, gate_setup, gate_teardown),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
