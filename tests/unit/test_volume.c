/* Volumes on a regular file: format round trip, slot claim/release by
 * node id, the slot owner search, header copies on disk and each copy's
 * reason, truncated and foreign devices. */
#include "test_util.h"

#include "volume.h"

static char path[64];

static int setup(void **state)
{
	(void)state;
	make_temp_file(path, sizeof(path), 8u << 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void format_file(uint32_t slots)
{
	struct dl_bio bio;
	struct dl_sb sb;
	enum dl_err why;

	test_sb(&sb, 4096, slots, 64);
	assert_int_equal(dl_bio_open(&bio, NULL, path, NULL), 0);
	assert_int_equal(dl_volume_format(&bio, &sb, &why), 0);
	dl_bio_close(&bio);
}

static void test_format_open(void **state)
{
	struct dl_volume v;
	struct dl_slot_hdr h;
	enum dl_err why;

	(void)state;
	format_file(4);
	assert_int_equal(dl_volume_open(&v, path, NULL, NULL, &why), 0);
	assert_string_equal(v.sb.cluster_name, "testcluster");
	assert_int_equal(v.sb.slot_count, 4);
	for (uint32_t s = 0; s < 4; s++) {
		assert_int_equal(dl_volume_read_slot(&v, s, &h, &why), 0);
		assert_int_equal(h.state, DL_SLOT_FREE);
		assert_int_equal(h.hdr_seq, 1);
	}
	dl_volume_close(&v);
}

static void test_claim_release(void **state)
{
	struct dl_volume v;
	struct dl_slot_hdr h;
	enum dl_err why;
	uint32_t slot, slot2;

	(void)state;
	format_file(3);
	assert_int_equal(dl_volume_open(&v, path, NULL, NULL, &why), 0);
	/* Node ids need not be contiguous: 65535 and 40000. */
	assert_int_equal(dl_volume_claim(&v, 65535, "big", &slot, &h), 0);
	assert_int_equal(h.node_id, 65535);
	assert_int_equal(h.state, DL_SLOT_STOPPED);
	assert_int_equal(dl_volume_claim(&v, 40000, "other", &slot2, &h), 0);
	assert_int_not_equal(slot, slot2);
	/* Claiming again returns the same slot. */
	assert_int_equal(dl_volume_claim(&v, 65535, "big", &slot2, &h), 0);
	assert_int_equal(slot2, slot);
	assert_int_equal(dl_volume_claim(&v, 1, "one", &slot2, &h), 0);
	assert_int_equal(dl_volume_claim(&v, 2, "two", &slot2, &h), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(dl_volume_claim(&v, 0, "zero", &slot2, &h), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dl_volume_claim(&v, 65536, "big", &slot2, &h), -1);
	/* Header writes alternate copies and survive a reopen. */
	assert_int_equal(dl_volume_find_node(&v, 65535, &slot2, &h), 0);
	h.generation = 9;
	h.last_seq = 77;
	h.state = DL_SLOT_ACTIVE;
	assert_int_equal(dl_volume_write_slot(&v, &h), 0);
	dl_volume_close(&v);
	assert_int_equal(dl_volume_open(&v, path, NULL, NULL, &why), 0);
	assert_int_equal(dl_volume_read_slot(&v, slot, &h, &why), 0);
	assert_int_equal(h.generation, 9);
	assert_int_equal(h.last_seq, 77);
	/* Release keeps the sequence for the next owner. */
	assert_int_equal(dl_volume_release(&v, slot), 0);
	assert_int_equal(dl_volume_read_slot(&v, slot, &h, &why), 0);
	assert_int_equal(h.state, DL_SLOT_FREE);
	assert_int_equal(h.last_seq, 77);
	assert_int_equal(dl_volume_find_node(&v, 65535, &slot2, &h), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dl_volume_claim(&v, 2, "two", &slot2, &h), 0);
	assert_int_equal(slot2, slot);
	dl_volume_close(&v);
}

/* The two-step claim: ids 1 and 5 prefer slot 0 of 4.  Both write their
 * intent before either reads back (a slow device): the later write wins,
 * the earlier claimer's confirm fails with EBUSY and its next intent
 * takes another slot.  A node that owns a slot gets it back unwritten. */
static void test_claim_race(void **state)
{
	struct dl_volume a, b;
	struct dl_slot_hdr h;
	enum dl_err why;
	uint32_t sa, sb;
	int owned;

	(void)state;
	format_file(4);
	assert_int_equal(dl_volume_open(&a, path, NULL, NULL, &why), 0);
	assert_int_equal(dl_volume_open(&b, path, NULL, NULL, &why), 0);
	assert_int_equal(dl_volume_claim_intent(&a, 1, "one", &sa, &h, &owned), 0);
	assert_int_equal(owned, 0);
	assert_int_equal(sa, 0);
	/* Node 5 read slot 0 free before node 1's intent landed: its own
	 * intent lands after it. */
	sb = 0;
	h.node_id = 5;
	strcpy(h.node_name, "five");
	assert_int_equal(dl_volume_write_slot(&b, &h), 0);
	assert_int_equal(dl_volume_claim_confirm(&a, sa, 1, &h), -1);
	assert_int_equal(errno, EBUSY);
	assert_int_equal(h.node_id, 5);
	assert_int_equal(dl_volume_claim_confirm(&b, sb, 5, &h), 0);
	assert_int_equal(dl_volume_claim_intent(&a, 1, "one", &sa, &h, &owned), 0);
	assert_int_equal(owned, 0);
	assert_int_not_equal(sa, sb);
	assert_int_equal(dl_volume_claim_confirm(&a, sa, 1, &h), 0);
	assert_int_equal(dl_volume_claim_intent(&b, 5, "five", &sb, &h, &owned), 0);
	assert_int_equal(owned, 1);
	assert_int_equal(sb, 0);
	dl_volume_close(&a);
	dl_volume_close(&b);
}

static void test_bad_devices(void **state)
{
	struct dl_volume v;
	enum dl_err why;
	int fd;
	char buf[4096];

	(void)state;
	/* Never formatted. */
	assert_int_equal(dl_volume_open(&v, path, NULL, NULL, &why), -1);
	assert_int_equal(why, DL_E_EMPTY);
	/* Garbage. */
	fd = open(path, O_WRONLY);
	fill_pattern((uint8_t *)buf, sizeof(buf), 1);
	assert_int_equal(pwrite(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	close(fd);
	assert_int_equal(dl_volume_open(&v, path, NULL, NULL, &why), -1);
	assert_int_equal(why, DL_E_MAGIC);
	/* Truncated after format. */
	format_file(4);
	assert_int_equal(truncate(path, 1u << 20), 0);
	assert_int_equal(dl_volume_open(&v, path, NULL, NULL, &why), -1);
	assert_int_equal(why, DL_E_TRUNCATED);
	/* Missing. */
	assert_int_equal(dl_volume_open(&v, "/nonexistent/disklink", NULL, NULL, &why), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(why, DL_OK);
}

static void test_too_small_to_format(void **state)
{
	struct dl_bio bio;
	struct dl_sb sb;
	enum dl_err why;

	(void)state;
	assert_int_equal(truncate(path, 1u << 20), 0);
	test_sb(&sb, 4096, 16, 256);
	assert_int_equal(dl_bio_open(&bio, NULL, path, NULL), 0);
	assert_int_equal(dl_volume_format(&bio, &sb, &why), -1);
	assert_int_equal(why, DL_E_TRUNCATED);
	dl_bio_close(&bio);
}

/* A fake slot table for dl_slot_find_owner (stands for a volume's slot
 * headers read through some path): per slot, what the read returns. */
struct fake_slots {
	int rc[4];                     /* 0 read, 1 unreadable, -1 path failed */
	uint32_t node[4];              /* owner, 0: free */
	uint32_t reads;
};

static int fake_read(void *arg, uint32_t slot, struct dl_slot_hdr *h)
{
	struct fake_slots *f = arg;

	f->reads++;
	memset(h, 0, sizeof(*h));
	h->slot_index = slot;
	h->node_id = f->node[slot];
	h->state = f->node[slot] ? DL_SLOT_ACTIVE : DL_SLOT_FREE;
	if (f->rc[slot] < 0)
		errno = EIO;
	return f->rc[slot];
}

static void test_find_owner(void **state)
{
	struct fake_slots f = { .node = { 0, 7, 9, 7 } };
	struct dl_slot_hdr h;
	uint32_t slot = 99;

	(void)state;
	/* The first slot owned by the node, in slot order. */
	assert_int_equal(dl_slot_find_owner(4, 7, fake_read, &f, &slot, &h), 0);
	assert_int_equal(slot, 1);
	assert_int_equal(h.node_id, 7);
	assert_int_equal(f.reads, 2);
	assert_int_equal(dl_slot_find_owner(4, 9, fake_read, &f, &slot, &h), 0);
	assert_int_equal(slot, 2);
	/* An unreadable slot is skipped. */
	f.rc[1] = 1;
	assert_int_equal(dl_slot_find_owner(4, 7, fake_read, &f, &slot, &h), 0);
	assert_int_equal(slot, 3);
	/* Nobody: ENOENT, every slot looked at; a free slot never matches 0. */
	f.reads = 0;
	assert_int_equal(dl_slot_find_owner(4, 5, fake_read, &f, &slot, &h), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(f.reads, 4);
	assert_int_equal(dl_slot_find_owner(4, 0, fake_read, &f, &slot, &h), -1);
	/* The reader stops the search: its errno. */
	f.rc[2] = -1;
	f.reads = 0;
	assert_int_equal(dl_slot_find_owner(4, 7, fake_read, &f, &slot, &h), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(f.reads, 3);
}

static void test_read_slot_copies(void **state)
{
	struct dl_volume v;
	struct dl_slot_hdr h;
	enum dl_err why, wa, wb;
	uint8_t junk[512], *zero;
	int fd;

	(void)state;
	format_file(2);
	assert_int_equal(dl_volume_open(&v, path, NULL, NULL, &why), 0);
	assert_int_equal(dl_volume_read_slot_copies(&v, 1, &h, &wa, &wb), 0);
	assert_int_equal(wa, DL_OK);
	assert_int_equal(wb, DL_OK);
	/* Copy A of slot 1 corrupted: B is used, A's reason said. */
	memset(junk, 0x5a, sizeof(junk));
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), (off_t)dl_sb_hdr_offset(&v.sb, 1, 0)),
			 (ssize_t)sizeof(junk));
	assert_int_equal(dl_volume_read_slot_copies(&v, 1, &h, &wa, &wb), 0);
	assert_int_equal(wa, DL_E_MAGIC);
	assert_int_equal(wb, DL_OK);
	assert_int_equal(h.slot_index, 1);
	assert_int_equal(dl_volume_read_slot_copies(&v, 1, &h, NULL, NULL), 0);
	assert_int_equal(dl_volume_read_slot(&v, 1, &h, &why), 0);
	assert_int_equal(why, DL_OK);
	/* Both copies bad (B never written): -1 with both reasons;
	 * read_slot gives A's. */
	zero = calloc(1, v.sb.region_bytes);
	assert_non_null(zero);
	assert_int_equal(pwrite(fd, zero, v.sb.region_bytes,
				(off_t)dl_sb_hdr_offset(&v.sb, 1, 1)), (ssize_t)v.sb.region_bytes);
	free(zero);
	close(fd);
	assert_int_equal(dl_volume_read_slot_copies(&v, 1, &h, &wa, &wb), -1);
	assert_int_equal(wa, DL_E_MAGIC);
	assert_int_equal(wb, DL_E_EMPTY);
	assert_int_equal(dl_volume_read_slot(&v, 1, &h, &why), -1);
	assert_int_equal(why, DL_E_MAGIC);
	/* No such slot: EINVAL, no reason. */
	assert_int_equal(dl_volume_read_slot_copies(&v, 2, &h, &wa, &wb), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wa, DL_OK);
	assert_int_equal(wb, DL_OK);
	dl_volume_close(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_small_to_format, setup, teardown),
		cmocka_unit_test(test_find_owner),
		cmocka_unit_test_setup_teardown(test_read_slot_copies, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
