/* The parent's record-level coalescing (daemon/parent/coalesce.c), fed
 * datagrams directly: copies of a broadcast merge into one record, a
 * datagram never overtakes an earlier one to the same node, a full set
 * says so, and the flush rule waits only for a broadcast under way or
 * predicted (a unicast to any other peer never waits: issue #19). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coalesce.h"

static int add(struct dld_coal *c, uint16_t node, const char *text)
{
	return dld_coal_add(c, node, (const uint8_t *)text, (uint32_t)strlen(text));
}

static int setup(void **state)
{
	struct dld_coal *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void assert_rec(const struct dld_coal *c, uint32_t i, const char *text, uint16_t ndst,
		       const uint16_t *dst)
{
	const struct dld_coal_rec *r = &c->rec[i];

	assert_true(i < c->nrec);
	assert_int_equal(r->len, strlen(text));
	assert_memory_equal(c->buf + r->off, text, r->len);
	assert_int_equal(r->ndst, ndst);
	assert_memory_equal(r->dst, dst, ndst * sizeof(*dst));
}

/* Copies read socket by socket merge, also past other nodes' datagrams. */
static void test_broadcast_merges(void **state)
{
	struct dld_coal *c = *state;

	assert_int_equal(add(c, 2, "ping-2"), 0);
	assert_int_equal(add(c, 2, "token"), 0);
	assert_int_equal(add(c, 3, "token"), 1);
	assert_int_equal(add(c, 3, "ping-3"), 0);
	assert_int_equal(add(c, 4, "token"), 1);
	assert_int_equal(c->nrec, 3);
	assert_rec(c, 0, "ping-2", 1, (const uint16_t[]){ 2 });
	assert_rec(c, 1, "token", 3, (const uint16_t[]){ 2, 3, 4 });
	assert_rec(c, 2, "ping-3", 1, (const uint16_t[]){ 3 });
}

/* Merging into "a" would put node 3's second datagram before its first;
 * node 2's second "a" may join node 3's (it follows node 2's first). */
static void test_order_per_node(void **state)
{
	struct dld_coal *c = *state;

	assert_int_equal(add(c, 2, "a"), 0);
	assert_int_equal(add(c, 3, "b"), 0);
	assert_int_equal(add(c, 3, "a"), 0);
	assert_int_equal(add(c, 2, "a"), 1);
	assert_int_equal(add(c, 3, "a"), 0);           /* the same node twice */
	assert_int_equal(c->nrec, 4);
	assert_rec(c, 0, "a", 1, (const uint16_t[]){ 2 });
	assert_rec(c, 2, "a", 2, (const uint16_t[]){ 3, 2 });
	assert_rec(c, 3, "a", 1, (const uint16_t[]){ 3 });
}

/* Full: -1, nothing changed; after a clear it fits again. */
static void test_full(void **state)
{
	struct dld_coal *c = *state;
	static uint8_t big[60000];

	for (uint32_t i = 0; i < DLD_COAL_BYTES / sizeof(big); i++) {
		big[0] = (uint8_t)i;
		assert_int_equal(dld_coal_add(c, 2, big, sizeof(big)), 0);
	}
	big[0] = 0xee;
	assert_int_equal(dld_coal_add(c, 2, big, sizeof(big)), -1);
	assert_int_equal(c->nrec, DLD_COAL_BYTES / sizeof(big));
	dld_coal_clear(c);
	for (uint32_t i = 0; i < DLD_COAL_RECS; i++)
		assert_int_equal(add(c, (uint16_t)(2 + i % 2), i % 2 ? "x" : "y"), 0);
	assert_int_equal(add(c, 9, "z"), -1);
	/* A copy still merges into a full set. */
	assert_int_equal(add(c, 9, "x"), 1);
}

/* The flush rule: wait only while a broadcast has reached 2..peers-1. */
static void test_flush_rule(void **state)
{
	struct dld_coal *c = *state;

	assert_false(dld_coal_partial(c, 3));
	add(c, 2, "ping");                             /* a unicast, 3 peers */
	assert_false(dld_coal_partial(c, 3));
	add(c, 2, "bcast");
	add(c, 3, "bcast");
	assert_true(dld_coal_partial(c, 3));           /* node 4's copy to come */
	assert_false(dld_coal_partial(c, 2));          /* complete with 2 peers */
	add(c, 4, "bcast");
	assert_false(dld_coal_partial(c, 3));
	dld_coal_clear(c);
	assert_int_equal(c->nrec, 0);
	assert_false(dld_coal_partial(c, 3));
}

/* The first copy of a broadcast went out alone (its wake-up saw no other):
 * the later copies count it, so 1 + 2 of 4 peers wait for the fourth, and
 * 1 + 3 do not. */
static void test_flush_rule_counts_gone(void **state)
{
	struct dld_coal *c = *state;

	add(c, 2, "bcast");
	assert_false(dld_coal_partial(c, 4));
	dld_coal_clear(c);                             /* queued alone */
	add(c, 3, "bcast");
	assert_true(dld_coal_partial(c, 4));
	add(c, 4, "bcast");
	assert_true(dld_coal_partial(c, 4));
	add(c, 5, "bcast");
	assert_false(dld_coal_partial(c, 4));
	dld_coal_clear(c);
	add(c, 3, "other");                            /* a unicast after it */
	assert_false(dld_coal_partial(c, 4));
}

/* Learned: the rest of a broadcast followed a first copy to node 2 that
 * went alone, so the next lone datagram to node 2 waits (it may be a
 * broadcast's first copy); one to node 3 does not.  A wait in vain
 * forgets node 2. */
static void test_flush_rule_learns_first(void **state)
{
	struct dld_coal *c = *state;

	add(c, 2, "ping-2");
	dld_coal_clear(c);
	add(c, 2, "ping-2b");                          /* nothing learned yet */
	assert_false(dld_coal_partial(c, 2));
	dld_coal_clear(c);
	add(c, 2, "b1");
	dld_coal_clear(c);                             /* b1's first copy alone */
	add(c, 3, "b1");
	assert_false(dld_coal_partial(c, 2));          /* 1 + 1 of 2: complete */
	dld_coal_clear(c);
	add(c, 3, "ping-3");
	assert_false(dld_coal_partial(c, 2));
	dld_coal_clear(c);
	add(c, 2, "b2");
	assert_true(dld_coal_partial(c, 2));           /* predicted */
	add(c, 3, "b2");
	assert_false(dld_coal_partial(c, 2));
	dld_coal_clear(c);
	add(c, 2, "ping-2c");
	assert_true(dld_coal_partial(c, 2));
	dld_coal_expired(c);                           /* no copy came */
	assert_false(dld_coal_partial(c, 2));
	dld_coal_clear(c);
	add(c, 2, "ping-2d");
	assert_false(dld_coal_partial(c, 2));
	assert_false(dld_coal_partial(c, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_broadcast_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_per_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_rule_counts_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_rule_learns_first, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
