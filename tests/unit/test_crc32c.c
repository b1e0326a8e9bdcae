/* CRC32C against published test vectors (RFC 3720 B.4), hardware and
 * software paths agreeing, incremental use, and the seal of an on-disk
 * record (its CRC field taken as zero). */
#include "test_util.h"

#include "crc32c.h"

static void test_vectors(void **state)
{
	uint8_t buf[48];

	(void)state;
	assert_int_equal(dl_crc32c(0, "123456789", 9), 0xe3069283u);
	memset(buf, 0, 32);
	assert_int_equal(dl_crc32c(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, 32);
	assert_int_equal(dl_crc32c(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(dl_crc32c(0, buf, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(dl_crc32c(0, buf, 32), 0x113fdb5cu);
	assert_int_equal(dl_crc32c_sw(0, "123456789", 9), 0xe3069283u);
}

static void test_hw_matches_sw(void **state)
{
	static uint8_t buf[70000];

	(void)state;
	fill_pattern(buf, sizeof(buf), 7);
	for (size_t len = 0; len < 100; len++)
		for (size_t off = 0; off < 9; off++)
			assert_int_equal(dl_crc32c(0, buf + off, len), dl_crc32c_sw(0, buf + off, len));
	assert_int_equal(dl_crc32c(0, buf, sizeof(buf)), dl_crc32c_sw(0, buf, sizeof(buf)));
	print_message("hardware crc32c: %s\n", dl_crc32c_hw_available() ? "yes" : "no");
}

static void test_incremental(void **state)
{
	static uint8_t buf[4096];
	uint32_t c;

	(void)state;
	fill_pattern(buf, sizeof(buf), 3);
	c = dl_crc32c(0, buf, 1000);
	c = dl_crc32c(c, buf + 1000, sizeof(buf) - 1000);
	assert_int_equal(c, dl_crc32c(0, buf, sizeof(buf)));
}

/* A record whose CRC field (bytes 8-11) holds anything seals as if it
 * were zero: 32 bytes of zeros is RFC 3720's 0x8a9136aa. */
static void test_sealed(void **state)
{
	uint8_t buf[32];

	(void)state;
	memset(buf, 0, sizeof(buf));
	memset(buf + 8, 0xff, 4);
	assert_int_equal(dl_crc32c_sealed(buf, 8, 12, 20), 0x8a9136aau);
	buf[31] = 1;                   /* the body counts, to body_len only */
	assert_int_not_equal(dl_crc32c_sealed(buf, 8, 12, 20), 0x8a9136aau);
	memset(buf + 8, 0, 4);
	assert_int_equal(dl_crc32c_sealed(buf, 8, 12, 19), dl_crc32c(0, buf, 31));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_hw_matches_sw),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_sealed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
