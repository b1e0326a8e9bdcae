/* Fuzz target: dl_sb_decode.
 *
 * Input: one mode byte, then the superblock bytes (the decoder gets an
 * exact-size copy, so any read past them is caught).  Mode bit 0 asks
 * for the CRC to be recomputed first, so that mutations reach the field
 * checks behind the checksum.
 * Invariants of an accepted superblock: it re-encodes to the same 256
 * bytes, dl_sb_init with its parameters computes the same layout, and
 * every slot's last ring block lies inside volume_bytes. */
#include "config.h"

#include <string.h>

#include "fuzz_util.h"
#include "superblock.h"

#define SB_SIZE sizeof(struct dl_sb_disk)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_sb sb, again;
	enum dl_err why = DL_E_MAX;
	uint8_t enc[SB_SIZE];
	uint8_t *buf;
	size_t len;
	int rc;

	if (size < 1)
		return 0;
	len = size - 1;
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);
	if ((data[0] & 1u) && len >= SB_SIZE)
		fuzz_fix_tail_crc(buf, offsetof(struct dl_sb_disk, crc32c));

	rc = dl_sb_decode(buf, len, &sb, &why);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(why < DL_E_MAX);
	FUZZ_CHECK((rc == 0) == (why == DL_OK));
	FUZZ_CHECK(dl_strerror(why) != NULL);
	if (rc == 0) {
		FUZZ_CHECK(len >= SB_SIZE);
		FUZZ_CHECK(dl_sb_encode(&sb, enc, sizeof(enc)) == 0);
		FUZZ_CHECK(memcmp(enc, buf, SB_SIZE) == 0);
		FUZZ_CHECK(sb.cluster_name[DL_CLUSTER_NAME_MAX - 1] == '\0');
		FUZZ_CHECK(dl_sb_init(&again, sb.cluster_name, sb.block_size, sb.slot_count,
				      sb.ring_blocks, sb.volume_kind, sb.uuid, sb.format_time,
				      &why) == 0);
		FUZZ_CHECK(again.region_bytes == sb.region_bytes);
		FUZZ_CHECK(again.slots_offset == sb.slots_offset);
		FUZZ_CHECK(again.slot_stride == sb.slot_stride);
		FUZZ_CHECK(again.volume_bytes == sb.volume_bytes);
		FUZZ_CHECK(sb.ring_blocks >= dl_sb_min_ring_blocks(sb.block_size));
		FUZZ_CHECK(dl_sb_hdr_offset(&sb, 0, 0) >= SB_SIZE);
		FUZZ_CHECK(dl_sb_block_offset(&sb, sb.slot_count - 1, sb.ring_blocks - 1) +
				   sb.block_size == sb.volume_bytes);
	}
	free(buf);
	return 0;
}
