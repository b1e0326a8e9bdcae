/* Helpers shared by the unit tests (header-only: each test is one file). */
#ifndef DL_TEST_UTIL_H
#define DL_TEST_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "superblock.h"

#define TEST_SKIP 77

static inline void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static inline void test_uuid(uint8_t uuid[16], uint8_t seed)
{
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

/* A superblock for tests; asserts it is valid. */
static inline void test_sb(struct dl_sb *sb, uint32_t bs, uint32_t slots, uint32_t ring)
{
	uint8_t uuid[16];
	enum dl_err why;

	test_uuid(uuid, 1);
	assert_int_equal(dl_sb_init(sb, "testcluster", bs, slots, ring, DL_VOLUME_SHARED,
				    uuid, 1700000000, &why), 0);
}

/* Create a sparse temporary file of len bytes; returns its path in buf. */
static inline void make_temp_file(char *buf, size_t buflen, uint64_t len)
{
	int fd;

	snprintf(buf, buflen, "/var/tmp/disklink-test.XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	close(fd);
}

#endif
