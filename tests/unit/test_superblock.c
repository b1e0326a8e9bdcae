/* Superblock round trips and every validation error path. */
#include "test_util.h"

#include "crc32c.h"
#include "le.h"

static uint8_t buf[4096];

static void encode_valid(struct dl_sb *sb)
{
	test_sb(sb, 4096, 16, 256);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(dl_sb_encode(sb, buf, sizeof(buf)), 0);
}

/* Recompute the checksum after a deliberate change to a field. */
static void reseal(void)
{
	dl_put32(buf + offsetof(struct dl_sb_disk, crc32c),
		 dl_crc32c(0, buf, offsetof(struct dl_sb_disk, crc32c)));
}

static void expect(enum dl_err e, int err)
{
	struct dl_sb out;
	enum dl_err why = DL_OK;

	errno = 0;
	assert_int_equal(dl_sb_decode(buf, sizeof(buf), &out, &why), -1);
	assert_int_equal(why, e);
	assert_int_equal(errno, err);
	assert_non_null(dl_strerror(why));
}

static void test_round_trip(void **state)
{
	struct dl_sb sb, out;
	enum dl_err why;
	static const uint32_t sizes[] = { 512, 1024, 4096, 8192, 65536 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t uuid[16];

		test_uuid(uuid, (uint8_t)i);
		assert_int_equal(dl_sb_init(&sb, "c", sizes[i], 3,
					    dl_sb_min_ring_blocks(sizes[i]), DL_VOLUME_SEND,
					    uuid, 42, &why), 0);
		memset(buf, 0, sizeof(buf));
		assert_int_equal(dl_sb_encode(&sb, buf, sizeof(buf)), 0);
		assert_int_equal(dl_sb_decode(buf, sizeof(buf), &out, &why), 0);
		assert_int_equal(why, DL_OK);
		assert_memory_equal(&sb, &out, sizeof(sb));
		assert_int_equal(out.region_bytes, sizes[i] > 4096 ? sizes[i] : 4096);
		assert_int_equal(dl_sb_block_offset(&out, 1, 0),
				 out.slots_offset + out.slot_stride + 2ull * out.region_bytes);
		assert_int_equal(out.heads_offset, out.region_bytes);
		assert_int_equal(out.head_bytes, sizes[i]);
		assert_true(out.slots_offset >= out.heads_offset + 3ull * sizes[i]);
		assert_int_equal(out.slots_offset % out.region_bytes, 0);
		assert_int_equal(dl_sb_head_offset(&out, 2), out.heads_offset + 2ull * sizes[i]);
	}
	encode_valid(&sb);
	assert_memory_equal(buf, DL_SB_MAGIC, 8);
	assert_int_equal(buf[8], DL_FORMAT_VERSION); /* little-endian version */
}

static void test_init_rejects(void **state)
{
	struct dl_sb sb;
	enum dl_err why;
	uint8_t uuid[16] = { 1 };
	char longname[80];

	(void)state;
	assert_int_equal(dl_sb_init(&sb, "c", 3000, 2, 256, 1, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_BLOCK_SIZE);
	assert_int_equal(dl_sb_init(&sb, "c", 256, 2, 256, 1, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_BLOCK_SIZE);
	assert_int_equal(dl_sb_init(&sb, "c", 4096, 0, 256, 1, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_SLOT_COUNT);
	assert_int_equal(dl_sb_init(&sb, "c", 4096, DL_SLOTS_MAX + 1, 256, 1, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_SLOT_COUNT);
	assert_int_equal(dl_sb_init(&sb, "c", 4096, 2, 4, 1, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_RING_BLOCKS);
	/* Too short to hold two of the largest datagrams. */
	assert_int_equal(dl_sb_init(&sb, "c", 512, 2, 64, 1, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_RING_BLOCKS);
	assert_int_equal(dl_sb_init(&sb, "c", 4096, 2, 256, 9, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_KIND);
	assert_int_equal(dl_sb_init(&sb, "", 4096, 2, 256, 1, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_NAME);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(dl_sb_init(&sb, longname, 4096, 2, 256, 1, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_NAME);
	assert_int_equal(dl_sb_init(&sb, "tab\tname", 4096, 2, 256, 1, uuid, 0, &why), -1);
	assert_int_equal(why, DL_E_NAME);
}

static void test_decode_errors(void **state)
{
	struct dl_sb sb, out;
	enum dl_err why;

	(void)state;
	memset(buf, 0, sizeof(buf));
	expect(DL_E_EMPTY, EMEDIUMTYPE);
	memcpy(buf, "SBD_SECT", 8);
	expect(DL_E_MAGIC, EMEDIUMTYPE);

	encode_valid(&sb);
	assert_int_equal(dl_sb_decode(buf, 100, &out, &why), -1);
	assert_int_equal(why, DL_E_SHORT);

	encode_valid(&sb);
	buf[200] ^= 1;            /* reserved byte flipped: checksum first */
	expect(DL_E_CRC, EBADMSG);
	reseal();
	expect(DL_E_RESERVED, EINVAL);

	encode_valid(&sb);
	dl_put32(buf + offsetof(struct dl_sb_disk, version), DL_FORMAT_VERSION + 1);
	expect(DL_E_VERSION, ENOTSUP);
	/* An older version (checked before the checksum too): reformat. */
	dl_put32(buf + offsetof(struct dl_sb_disk, version), DL_FORMAT_VERSION - 1);
	expect(DL_E_VERSION_OLD, EPROTONOSUPPORT);
	reseal();
	expect(DL_E_VERSION_OLD, EPROTONOSUPPORT);
	dl_put32(buf + offsetof(struct dl_sb_disk, version), 0);
	reseal();
	expect(DL_E_VERSION, EINVAL);

	encode_valid(&sb);
	dl_put32(buf + offsetof(struct dl_sb_disk, feat_incompat), 1);
	reseal();
	expect(DL_E_FEATURES, ENOTSUP);

	encode_valid(&sb);   /* unknown compat flags are fine */
	dl_put32(buf + offsetof(struct dl_sb_disk, feat_compat), 0x80);
	reseal();
	assert_int_equal(dl_sb_decode(buf, sizeof(buf), &out, &why), 0);

	encode_valid(&sb);
	dl_put32(buf + offsetof(struct dl_sb_disk, sb_size), 512);
	reseal();
	expect(DL_E_SIZE, EINVAL);

	encode_valid(&sb);
	dl_put32(buf + offsetof(struct dl_sb_disk, block_size), 4095);
	reseal();
	expect(DL_E_BLOCK_SIZE, EINVAL);

	encode_valid(&sb);
	dl_put32(buf + offsetof(struct dl_sb_disk, slot_count), 100000);
	reseal();
	expect(DL_E_SLOT_COUNT, EINVAL);

	encode_valid(&sb);
	dl_put32(buf + offsetof(struct dl_sb_disk, slot_count), 17);
	reseal();
	expect(DL_E_LAYOUT, EINVAL);

	encode_valid(&sb);
	dl_put32(buf + offsetof(struct dl_sb_disk, ring_blocks), 0xffffffffu);
	reseal();
	expect(DL_E_RING_BLOCKS, EINVAL);

	encode_valid(&sb);
	dl_put32(buf + offsetof(struct dl_sb_disk, volume_kind), 0);
	reseal();
	expect(DL_E_KIND, EINVAL);

	encode_valid(&sb);
	memset(buf + offsetof(struct dl_sb_disk, cluster_name), 'a', DL_CLUSTER_NAME_MAX);
	reseal();
	expect(DL_E_NAME, EINVAL);

	encode_valid(&sb);
	dl_put64(buf + offsetof(struct dl_sb_disk, slot_stride), 1);
	reseal();
	expect(DL_E_LAYOUT, EINVAL);
}

static void test_uuid_text(void **state)
{
	uint8_t u[16], v[16];
	char s[37];

	(void)state;
	test_uuid(u, 9);
	dl_uuid_format(u, s);
	assert_int_equal(strlen(s), 36);
	assert_int_equal(dl_uuid_parse(s, v), 0);
	assert_memory_equal(u, v, 16);
	assert_int_equal(dl_uuid_parse("not-a-uuid", v), -1);
	assert_int_equal(dl_uuid_parse("0123456789abcdef0123456789abcdef0123", v), -1);
	s[35] = 'g';
	assert_int_equal(dl_uuid_parse(s, v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_uuid_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
