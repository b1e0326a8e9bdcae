/* Reading a volume for the tool: every block of a ring classified. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"

const char *dl_cli_blk_class_name(enum dl_blk_class c)
{
	switch (c) {
	case DL_BLK_VALID:
		return "valid";
	case DL_BLK_EMPTY:
		return "empty";
	case DL_BLK_TORN:
		return "torn";
	case DL_BLK_INVALID:
		return "invalid";
	case DL_BLK_MISPLACED:
		return "misplaced";
	case DL_BLK_FOREIGN:
		return "foreign";
	}
	return "unknown";
}

static enum dl_blk_class classify(const struct dl_volume *v, uint32_t slot, uint32_t index,
				  const uint8_t *buf, struct dl_block *blk, enum dl_err *why)
{
	if (dl_block_decode(buf, v->sb.block_size, blk, why)) {
		if (*why == DL_E_EMPTY)
			return DL_BLK_EMPTY;
		if (*why == DL_E_CRC)
			return DL_BLK_TORN;
		return DL_BLK_INVALID;
	}
	*why = DL_OK;
	if (blk->slot_index != slot || memcmp(blk->volume_uuid8, v->sb.uuid, 8)) {
		*why = blk->slot_index != slot ? DL_E_SLOT_INDEX : DL_E_UUID;
		return DL_BLK_FOREIGN;
	}
	if (blk->seq % v->sb.ring_blocks != index) {
		*why = DL_E_SEQ;
		return DL_BLK_MISPLACED;
	}
	return DL_BLK_VALID;
}

/* Read the ring in chunks of about 1 MiB. */
#define SCAN_CHUNK (1u << 20)

int dl_cli_ring_scan(struct dl_volume *v, uint32_t slot, struct dl_cli_ring_stats *scan,
		     dl_cli_block_cb cb, void *arg)
{
	const uint32_t bs = v->sb.block_size, ring = v->sb.ring_blocks;
	uint32_t per = SCAN_CHUNK / bs ? SCAN_CHUNK / bs : 1;
	uint8_t *buf;

	memset(scan, 0, sizeof(*scan));
	buf = dl_bio_alloc((size_t)per * bs);
	if (!buf)
		return -1;
	for (uint32_t first = 0; first < ring; first += per) {
		uint32_t n = ring - first < per ? ring - first : per;

		if (dl_volume_read_blocks(v, slot, first, n, buf)) {
			int err = errno;

			free(buf);
			errno = err;
			return -1;
		}
		for (uint32_t k = 0; k < n; k++) {
			struct dl_block blk;
			enum dl_err why = DL_OK;
			enum dl_blk_class cls;

			cls = classify(v, slot, first + k, buf + (size_t)k * bs, &blk, &why);
			scan->count[cls]++;
			if (cls == DL_BLK_VALID)
				dl_ring_newest_add(&scan->newest, first + k, &blk);
			if (cb && cb(arg, first + k, cls,
				     cls == DL_BLK_VALID || cls == DL_BLK_MISPLACED ||
				     cls == DL_BLK_FOREIGN ? &blk : NULL, why)) {
				free(buf);
				return 0;
			}
		}
	}
	free(buf);
	return 0;
}
