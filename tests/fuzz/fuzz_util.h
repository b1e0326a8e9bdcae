/* Shared by the libFuzzer targets: the entry point's prototype, an
 * invariant check that aborts (libFuzzer reports it as a crash with the
 * input), and checksum fix-ups so that mutated inputs get past the CRC
 * and reach the field validation behind it. */
#ifndef DL_FUZZ_UTIL_H
#define DL_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <disklink/format.h>

#include "crc32c.h"
#include "le.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: invariant violated: %s\n",        \
				__FILE__, __LINE__, #cond);                       \
			abort();                                                  \
		}                                                                 \
	} while (0)

/* Recompute a ring block's CRC (the crc32c field counts as zero). */
static inline void fuzz_fix_block_crc(uint8_t *p, size_t block_size)
{
	static const uint8_t zero[4];
	const size_t at = offsetof(struct dl_block_hdr_disk, crc32c);
	const size_t hdr = sizeof(struct dl_block_hdr_disk);
	uint32_t c;

	c = dl_crc32c(0, p, at);
	c = dl_crc32c(c, zero, sizeof(zero));
	c = dl_crc32c(c, p + hdr, block_size - hdr);
	dl_put32(p + at, c);
}

/* Recompute the trailing CRC of a superblock or slot header copy. */
static inline void fuzz_fix_tail_crc(uint8_t *p, size_t crc_at)
{
	dl_put32(p + crc_at, dl_crc32c(0, p, crc_at));
}

/* The volume uuid the slot header target expects (unless told to take
 * copy A's); gen_corpus writes seeds with it. */
static const uint8_t fuzz_slot_uuid[16] = { 1, 8, 15, 22, 29, 36, 43, 50,
					    57, 64, 71, 78, 85, 92, 99, 106 };

/* A deterministic byte pattern: datagram tag and position. */
static inline uint8_t fuzz_pattern(uint32_t tag, uint32_t pos)
{
	uint32_t x = (tag + 1u) * 2654435761u ^ (pos * 40503u);

	return (uint8_t)(x >> 13);
}

#endif
