/* Volumes on a regular file: format round trip, slot claim/release by
 * node id, header copies on disk, truncated and foreign devices. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_small_to_format, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
