/* Superblock encode/decode and layout. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "le.h"
#include "superblock.h"
#include "text.h"

#define SB_SIZE ((uint32_t)sizeof(struct dl_sb_disk))

static int is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static uint32_t region_bytes_for(uint32_t block_size)
{
	return block_size > DL_REGION_MIN ? block_size : DL_REGION_MIN;
}

/* The head area: one head of block_size bytes per slot, padded to a
 * multiple of region_bytes so the slots stay region-aligned. */
static uint64_t head_area_bytes(uint32_t block_size, uint32_t slot_count)
{
	uint64_t region = region_bytes_for(block_size);
	uint64_t bytes = (uint64_t)slot_count * block_size;

	return (bytes + region - 1) / region * region;
}

static void sb_layout(struct dl_sb *sb)
{
	sb->region_bytes = region_bytes_for(sb->block_size);
	sb->heads_offset = sb->region_bytes;
	sb->head_bytes = sb->block_size;
	sb->slots_offset = sb->heads_offset +
			   head_area_bytes(sb->block_size, sb->slot_count);
	sb->slot_stride = 2ull * sb->region_bytes +
			  (uint64_t)sb->ring_blocks * sb->block_size;
	sb->volume_bytes = sb->slots_offset + (uint64_t)sb->slot_count * sb->slot_stride;
}

/* Checks shared by init and decode: ranges and the derived layout. */
static int sb_check(const struct dl_sb *sb, enum dl_err *why)
{
	struct dl_sb want;

	if (!is_pow2(sb->block_size) || sb->block_size < DL_BLOCK_SIZE_MIN ||
	    sb->block_size > DL_BLOCK_SIZE_MAX)
		return dl_fail(why, DL_E_BLOCK_SIZE, EINVAL);
	if (sb->slot_count < 1 || sb->slot_count > DL_SLOTS_MAX)
		return dl_fail(why, DL_E_SLOT_COUNT, EINVAL);
	if (sb->ring_blocks < DL_RING_BLOCKS_MIN || sb->ring_blocks > DL_RING_BLOCKS_MAX)
		return dl_fail(why, DL_E_RING_BLOCKS, EINVAL);
	if (sb->volume_kind != DL_VOLUME_SHARED && sb->volume_kind != DL_VOLUME_SEND)
		return dl_fail(why, DL_E_KIND, EINVAL);
	/* The ring must hold two of the largest datagrams, or a reader could
	 * never see a whole one. */
	if (is_pow2(sb->block_size) &&
	    (uint64_t)sb->ring_blocks * (sb->block_size - 96u) < 2ull * DL_DGRAM_MAX)
		return dl_fail(why, DL_E_RING_BLOCKS, EINVAL);
	if (!dl_name_field_valid(sb->cluster_name, sizeof(sb->cluster_name), false))
		return dl_fail(why, DL_E_NAME, EINVAL);
	want = *sb;
	sb_layout(&want);
	if (sb->region_bytes != want.region_bytes || sb->heads_offset != want.heads_offset ||
	    sb->head_bytes != want.head_bytes || sb->slots_offset != want.slots_offset ||
	    sb->slot_stride != want.slot_stride || sb->volume_bytes != want.volume_bytes)
		return dl_fail(why, DL_E_LAYOUT, EINVAL);
	return 0;
}

int dl_sb_init(struct dl_sb *sb, const char *cluster_name, uint32_t block_size,
	       uint32_t slot_count, uint32_t ring_blocks, uint32_t volume_kind,
	       const uint8_t uuid[16], uint64_t format_time, enum dl_err *why)
{
	memset(sb, 0, sizeof(*sb));
	if (!cluster_name || strlen(cluster_name) >= sizeof(sb->cluster_name))
		return dl_fail(why, DL_E_NAME, EINVAL);
	sb->version = DL_FORMAT_VERSION;
	sb->block_size = block_size;
	memcpy(sb->uuid, uuid, 16);
	strcpy(sb->cluster_name, cluster_name);
	sb->slot_count = slot_count;
	sb->ring_blocks = ring_blocks;
	sb->volume_kind = volume_kind;
	sb->format_time = format_time;
	if (is_pow2(block_size) && block_size >= DL_BLOCK_SIZE_MIN &&
	    block_size <= DL_BLOCK_SIZE_MAX)
		sb_layout(sb);
	if (sb_check(sb, why))
		return -1;
	if (why)
		*why = DL_OK;
	return 0;
}

int dl_sb_encode(const struct dl_sb *sb, void *buf, size_t len)
{
	uint8_t *p = buf;

	if (len < SB_SIZE) {
		errno = EINVAL;
		return -1;
	}
	memset(p, 0, SB_SIZE);
	memcpy(p + offsetof(struct dl_sb_disk, magic), DL_SB_MAGIC, 8);
	dl_put32(p + offsetof(struct dl_sb_disk, version), sb->version);
	dl_put32(p + offsetof(struct dl_sb_disk, sb_size), SB_SIZE);
	dl_put32(p + offsetof(struct dl_sb_disk, feat_compat), sb->feat_compat);
	dl_put32(p + offsetof(struct dl_sb_disk, feat_ro_compat), sb->feat_ro_compat);
	dl_put32(p + offsetof(struct dl_sb_disk, feat_incompat), sb->feat_incompat);
	dl_put32(p + offsetof(struct dl_sb_disk, block_size), sb->block_size);
	memcpy(p + offsetof(struct dl_sb_disk, uuid), sb->uuid, 16);
	memcpy(p + offsetof(struct dl_sb_disk, cluster_name), sb->cluster_name,
	       DL_CLUSTER_NAME_MAX);
	dl_put32(p + offsetof(struct dl_sb_disk, slot_count), sb->slot_count);
	dl_put32(p + offsetof(struct dl_sb_disk, ring_blocks), sb->ring_blocks);
	dl_put32(p + offsetof(struct dl_sb_disk, volume_kind), sb->volume_kind);
	dl_put32(p + offsetof(struct dl_sb_disk, region_bytes), sb->region_bytes);
	dl_put64(p + offsetof(struct dl_sb_disk, slots_offset), sb->slots_offset);
	dl_put64(p + offsetof(struct dl_sb_disk, slot_stride), sb->slot_stride);
	dl_put64(p + offsetof(struct dl_sb_disk, volume_bytes), sb->volume_bytes);
	dl_put64(p + offsetof(struct dl_sb_disk, format_time), sb->format_time);
	dl_put64(p + offsetof(struct dl_sb_disk, heads_offset), sb->heads_offset);
	dl_put32(p + offsetof(struct dl_sb_disk, head_bytes), sb->head_bytes);
	dl_put32(p + offsetof(struct dl_sb_disk, crc32c),
		 dl_crc32c(0, p, offsetof(struct dl_sb_disk, crc32c)));
	return 0;
}

int dl_sb_decode(const void *buf, size_t len, struct dl_sb *sb, enum dl_err *why)
{
	const uint8_t *p = buf;
	uint32_t sb_size;

	memset(sb, 0, sizeof(*sb));
	if (len < SB_SIZE)
		return dl_fail(why, DL_E_SHORT, EINVAL);
	if (memcmp(p, DL_SB_MAGIC, 8)) {
		if (dl_all_zero(p, SB_SIZE))
			return dl_fail(why, DL_E_EMPTY, EMEDIUMTYPE);
		return dl_fail(why, DL_E_MAGIC, EMEDIUMTYPE);
	}
	/* The version is checked before the checksum: a future version may
	 * checksum differently, and "too new" is the useful message. */
	sb->version = dl_get32(p + offsetof(struct dl_sb_disk, version));
	if (sb->version > DL_FORMAT_VERSION)
		return dl_fail(why, DL_E_VERSION, ENOTSUP);
	if (sb->version == 0)
		return dl_fail(why, DL_E_VERSION, EINVAL);
	/* An older format is never read or written: reformat it. */
	if (sb->version < DL_FORMAT_VERSION)
		return dl_fail(why, DL_E_VERSION_OLD, EPROTONOSUPPORT);
	sb_size = dl_get32(p + offsetof(struct dl_sb_disk, sb_size));
	if (sb_size != SB_SIZE)
		return dl_fail(why, DL_E_SIZE, EINVAL);
	if (dl_get32(p + offsetof(struct dl_sb_disk, crc32c)) !=
	    dl_crc32c(0, p, offsetof(struct dl_sb_disk, crc32c)))
		return dl_fail(why, DL_E_CRC, EBADMSG);
	sb->feat_compat = dl_get32(p + offsetof(struct dl_sb_disk, feat_compat));
	sb->feat_ro_compat = dl_get32(p + offsetof(struct dl_sb_disk, feat_ro_compat));
	sb->feat_incompat = dl_get32(p + offsetof(struct dl_sb_disk, feat_incompat));
	if (sb->feat_incompat & ~DL_FEAT_INCOMPAT_KNOWN)
		return dl_fail(why, DL_E_FEATURES, ENOTSUP);
	sb->block_size = dl_get32(p + offsetof(struct dl_sb_disk, block_size));
	memcpy(sb->uuid, p + offsetof(struct dl_sb_disk, uuid), 16);
	memcpy(sb->cluster_name, p + offsetof(struct dl_sb_disk, cluster_name),
	       DL_CLUSTER_NAME_MAX);
	sb->slot_count = dl_get32(p + offsetof(struct dl_sb_disk, slot_count));
	sb->ring_blocks = dl_get32(p + offsetof(struct dl_sb_disk, ring_blocks));
	sb->volume_kind = dl_get32(p + offsetof(struct dl_sb_disk, volume_kind));
	sb->region_bytes = dl_get32(p + offsetof(struct dl_sb_disk, region_bytes));
	sb->slots_offset = dl_get64(p + offsetof(struct dl_sb_disk, slots_offset));
	sb->slot_stride = dl_get64(p + offsetof(struct dl_sb_disk, slot_stride));
	sb->volume_bytes = dl_get64(p + offsetof(struct dl_sb_disk, volume_bytes));
	sb->format_time = dl_get64(p + offsetof(struct dl_sb_disk, format_time));
	sb->heads_offset = dl_get64(p + offsetof(struct dl_sb_disk, heads_offset));
	sb->head_bytes = dl_get32(p + offsetof(struct dl_sb_disk, head_bytes));
	if (!dl_all_zero(p + offsetof(struct dl_sb_disk, reserved),
			 sizeof(((struct dl_sb_disk *)0)->reserved)))
		return dl_fail(why, DL_E_RESERVED, EINVAL);
	if (sb_check(sb, why))
		return -1;
	if (why)
		*why = DL_OK;
	return 0;
}

uint32_t dl_sb_min_ring_blocks(uint32_t block_size)
{
	uint64_t room = block_size - 96u;
	uint64_t n = (2ull * DL_DGRAM_MAX + room - 1) / room;

	return n < DL_RING_BLOCKS_MIN ? DL_RING_BLOCKS_MIN : (uint32_t)n;
}

static uint64_t slot_offset(const struct dl_sb *sb, uint32_t slot)
{
	return sb->slots_offset + (uint64_t)slot * sb->slot_stride;
}

uint64_t dl_sb_hdr_offset(const struct dl_sb *sb, uint32_t slot, unsigned copy)
{
	return slot_offset(sb, slot) + (uint64_t)(copy & 1u) * sb->region_bytes;
}

uint64_t dl_sb_head_offset(const struct dl_sb *sb, uint32_t slot)
{
	return sb->heads_offset + (uint64_t)slot * sb->head_bytes;
}

uint64_t dl_sb_block_offset(const struct dl_sb *sb, uint32_t slot, uint32_t index)
{
	return slot_offset(sb, slot) + 2ull * sb->region_bytes +
	       (uint64_t)index * sb->block_size;
}

void dl_uuid_format(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
		 u[11], u[12], u[13], u[14], u[15]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dl_uuid_parse(const char *text, uint8_t uuid[16])
{
	size_t n = 0;

	for (const char *s = text; *s; s++) {
		int hi, lo;

		if (*s == '-' && (s - text == 8 || s - text == 13 || s - text == 18 ||
				  s - text == 23))
			continue;
		hi = hexval(s[0]);
		lo = s[1] ? hexval(s[1]) : -1;
		if (hi < 0 || lo < 0 || n >= 16) {
			errno = EINVAL;
			return -1;
		}
		uuid[n++] = (uint8_t)(hi << 4 | lo);
		s++;
	}
	if (n != 16 || strlen(text) != 36) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}
