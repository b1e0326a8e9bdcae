/* The volume superblock: host form, layout computation, encode/decode. */
#ifndef DL_SUPERBLOCK_H
#define DL_SUPERBLOCK_H

#include <stddef.h>
#include <stdint.h>

#include <disklink/format.h>

#include "fmt_error.h"

struct dl_sb {
	uint32_t version;
	uint32_t feat_compat;
	uint32_t feat_ro_compat;
	uint32_t feat_incompat;
	uint32_t block_size;
	uint8_t  uuid[16];
	char     cluster_name[DL_CLUSTER_NAME_MAX];
	uint32_t slot_count;
	uint32_t ring_blocks;
	uint32_t volume_kind;
	uint32_t region_bytes;
	uint64_t slots_offset;
	uint64_t slot_stride;
	uint64_t volume_bytes;
	uint64_t format_time;
	uint64_t heads_offset;         /* the head area: slot_count heads */
	uint32_t head_bytes;           /* == block_size */
};

/* Fill a superblock for a new volume and compute its layout.  The uuid
 * is taken from the caller (tools generate it with getrandom()).
 * Returns 0, or -1 with errno EINVAL and *why set. */
int dl_sb_init(struct dl_sb *sb, const char *cluster_name, uint32_t block_size,
	       uint32_t slot_count, uint32_t ring_blocks, uint32_t volume_kind,
	       const uint8_t uuid[16], uint64_t format_time, enum dl_err *why);

/* Encode into buf (len >= 256); bytes beyond 256 are untouched. */
int dl_sb_encode(const struct dl_sb *sb, void *buf, size_t len);

/* Decode and validate every field.  Returns 0, or -1 with errno:
 * EMEDIUMTYPE (not disklink), ENOTSUP (future version or features),
 * EBADMSG (checksum), EINVAL (impossible field); *why names the field. */
int dl_sb_decode(const void *buf, size_t len, struct dl_sb *sb, enum dl_err *why);

/* Smallest ring that holds two datagrams of DL_DGRAM_MAX bytes. */
uint32_t dl_sb_min_ring_blocks(uint32_t block_size);

/* Byte offsets derived from a validated superblock. */
uint64_t dl_sb_hdr_offset(const struct dl_sb *sb, uint32_t slot, unsigned copy);
uint64_t dl_sb_head_offset(const struct dl_sb *sb, uint32_t slot);
uint64_t dl_sb_block_offset(const struct dl_sb *sb, uint32_t slot, uint32_t index);

/* "xxxxxxxx-xxxx-..." into out[37]. */
void dl_uuid_format(const uint8_t uuid[16], char out[37]);
/* Parse a textual uuid; 0 or -1/EINVAL. */
int dl_uuid_parse(const char *text, uint8_t uuid[16]);

#endif
