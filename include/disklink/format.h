/*
 * disklink on-disk format, version 2 (doc/format.md: what changed, the
 * version policy).
 *
 * Every multi-byte integer is little-endian.  The structures below document
 * the exact byte layout; code never reads them by casting a device buffer,
 * it goes through the encode/decode functions of libdisklink, which convert
 * each field and validate it before use.
 *
 * Volume layout (all offsets are multiples of the block size):
 *
 *   [ superblock region : region_bytes                                ]
 *   [ head area : slot_count heads of head_bytes, padded to region    ]
 *   [ slot 0 : header copy A | header copy B | ring of ring_blocks    ]
 *   [ slot 1 : ...                                                    ]
 *   ...
 *
 * region_bytes = max(4096, block_size).  A slot header is written only by the
 * node that owns the slot, alternately into copy A and B (hdr_seq odd/even),
 * so a torn header write never destroys the last good header; the copy
 * read is the valid one with the highest (generation, hdr_seq), so a late
 * write of a superseded incarnation never wins (version 2).  A block of a
 * generation below its slot header's is such a late write, never data.  Ring blocks
 * are written only by the slot's owner.  The write of a block is its commit:
 * a block with sequence s lives at ring index s % ring_blocks.
 *
 * The head area holds one head per slot (head_bytes = block_size), written
 * only by the slot's owner after each ring commit: its newest committed
 * sequence and, inline, copies of its newest blocks' records, so a reader
 * reads every peer's news with one read of the area.  A head is a hint:
 * a torn, missing or older-generation head sends the reader to the ring.
 */
#ifndef DISKLINK_FORMAT_H
#define DISKLINK_FORMAT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define DL_SB_MAGIC            "DISKLINK"     /* 8 bytes, no NUL on disk */
#define DL_FORMAT_VERSION      2u
#define DL_SLOT_MAGIC          0x4c534c44u    /* "DLSL" */
#define DL_BLOCK_MAGIC         0x4b424c44u    /* "DLBK" */
#define DL_HEAD_MAGIC          0x44484c44u    /* "DLHD" */

#define DL_REGION_MIN          4096u          /* superblock / slot header region */
#define DL_BLOCK_SIZE_MIN      512u
#define DL_BLOCK_SIZE_MAX      65536u
#define DL_BLOCK_SIZE_DEFAULT  4096u
#define DL_RING_BLOCKS_MIN     8u
#define DL_RING_BLOCKS_MAX     (1u << 20)
#define DL_RING_BLOCKS_DEFAULT 256u
#define DL_SLOTS_MAX           128u
#define DL_ACKS_MAX            (DL_SLOTS_MAX - 1u)
#define DL_CLUSTER_NAME_MAX    64u            /* bytes on disk, incl. NUL */
#define DL_NODE_NAME_MAX       64u            /* bytes on disk, incl. NUL */
#define DL_NODE_ID_MAX         65535u         /* knet node ids are 16-bit */
#define DL_DGRAM_MAX           65507u         /* largest UDP payload over IPv4 */
#define DL_DEST_MAX            DL_SLOTS_MAX

/* Feature flags.  A reader must refuse a volume with an unknown incompat
 * flag, may only read one with an unknown ro_compat flag, and may ignore
 * unknown compat flags. */
#define DL_FEAT_COMPAT_KNOWN     0u
#define DL_FEAT_RO_COMPAT_KNOWN  0u
#define DL_FEAT_INCOMPAT_KNOWN   0u

/* Volume kinds. */
#define DL_VOLUME_SHARED   1u  /* one LUN read and written by every node   */
#define DL_VOLUME_SEND     2u  /* one node's send volume (R1) or its mirror */

/* Slot states. */
#define DL_SLOT_FREE       0u
#define DL_SLOT_ACTIVE     1u  /* owner's daemon is running (or crashed)   */
#define DL_SLOT_STOPPED    2u  /* owner's daemon stopped cleanly           */

/* Replication roles written in the slot header. */
#define DL_ROLE_NONE       0u
#define DL_ROLE_PRIMARY    1u
#define DL_ROLE_SECONDARY  2u

/* Record types and fragment flags. */
#define DL_REC_DATAGRAM    1u
#define DL_REC_FIRST       0x01u
#define DL_REC_LAST        0x02u

/* ---------------------------------------------------------------- */
/* Superblock: at byte 0 of the volume, 256 bytes, CRC32C at the end */
struct dl_sb_disk {
	uint8_t  magic[8];            /*   0 "DISKLINK"                       */
	uint32_t version;             /*   8 DL_FORMAT_VERSION                */
	uint32_t sb_size;             /*  12 sizeof(struct dl_sb_disk)        */
	uint32_t feat_compat;         /*  16                                  */
	uint32_t feat_ro_compat;      /*  20                                  */
	uint32_t feat_incompat;       /*  24                                  */
	uint32_t block_size;          /*  28 bytes, power of two              */
	uint8_t  uuid[16];            /*  32 volume identity                  */
	char     cluster_name[DL_CLUSTER_NAME_MAX]; /* 48 NUL-terminated      */
	uint32_t slot_count;          /* 112                                  */
	uint32_t ring_blocks;         /* 116                                  */
	uint32_t volume_kind;         /* 120 DL_VOLUME_*                      */
	uint32_t region_bytes;        /* 124 max(4096, block_size)            */
	uint64_t slots_offset;        /* 128 heads_offset + head area, padded
	                               *     to a multiple of region_bytes   */
	uint64_t slot_stride;         /* 136 2*region_bytes + ring bytes      */
	uint64_t volume_bytes;        /* 144 bytes the layout uses            */
	uint64_t format_time;         /* 152 unix seconds                     */
	uint64_t heads_offset;        /* 160 == region_bytes                  */
	uint32_t head_bytes;          /* 168 == block_size                    */
	uint8_t  reserved[80];        /* 172 zero                             */
	uint32_t crc32c;              /* 252 over bytes 0..251                */
};
static_assert(sizeof(struct dl_sb_disk) == 256, "superblock size");
static_assert(offsetof(struct dl_sb_disk, cluster_name) == 48, "sb layout");
static_assert(offsetof(struct dl_sb_disk, slots_offset) == 128, "sb layout");
static_assert(offsetof(struct dl_sb_disk, heads_offset) == 160, "sb layout");
static_assert(offsetof(struct dl_sb_disk, head_bytes) == 168, "sb layout");
static_assert(offsetof(struct dl_sb_disk, crc32c) == 252, "sb layout");

/* ---------------------------------------------------------------- */
/* Slot header copy: two per slot, each at the start of a region.     */
struct dl_ack_disk {
	uint32_t node_id;             /* peer whose ring this node reads     */
	uint32_t flags;               /* reserved, zero                      */
	uint64_t seq;                 /* last block of that peer read here   */
};
static_assert(sizeof(struct dl_ack_disk) == 16, "ack size");

struct dl_slot_hdr_disk {
	uint32_t magic;               /*   0 DL_SLOT_MAGIC                   */
	uint32_t hdr_size;            /*   4 sizeof(struct dl_slot_hdr_disk) */
	uint8_t  volume_uuid[16];     /*   8 the superblock's uuid           */
	uint64_t hdr_seq;             /*  24 +1 per header write; copy = hdr_seq & 1 */
	uint32_t slot_index;          /*  32                                 */
	uint32_t node_id;             /*  36 owner, 0 when free              */
	uint32_t state;               /*  40 DL_SLOT_*                       */
	uint32_t role;                /*  44 DL_ROLE_*                       */
	uint64_t generation;          /*  48 +1 at every open by the owner   */
	uint64_t last_seq;            /*  56 last block seq when written     */
	uint64_t update_time_ns;      /*  64 CLOCK_REALTIME of this write    */
	char     node_name[DL_NODE_NAME_MAX]; /* 72 NUL-terminated           */
	uint32_t flags;               /* 136 reserved, zero                  */
	uint32_t ack_count;           /* 140 entries used in acks[]          */
	uint8_t  reserved[112];       /* 144 zero                            */
	struct dl_ack_disk acks[DL_ACKS_MAX]; /* 256                         */
	uint8_t  reserved2[12];       /* 2288                                */
	uint32_t crc32c;              /* 2300 over bytes 0..2299             */
};
static_assert(sizeof(struct dl_slot_hdr_disk) == 2304, "slot header size");
static_assert(offsetof(struct dl_slot_hdr_disk, acks) == 256, "slot layout");
static_assert(offsetof(struct dl_slot_hdr_disk, crc32c) == 2300, "slot layout");
static_assert(sizeof(struct dl_slot_hdr_disk) <= DL_REGION_MIN, "fits region");

/* ---------------------------------------------------------------- */
/* Ring block: 64-byte header, then records, CRC32C over the whole    */
/* block with the crc32c field taken as zero.                         */
struct dl_block_hdr_disk {
	uint32_t magic;               /*   0 DL_BLOCK_MAGIC                  */
	uint32_t slot_index;          /*   4                                 */
	uint32_t node_id;             /*   8 writer                          */
	uint32_t flags;               /*  12 reserved, zero                  */
	uint64_t generation;          /*  16                                 */
	uint64_t seq;                 /*  24 >= 1, monotonic over generations */
	uint8_t  volume_uuid[8];      /*  32 first 8 bytes of the volume uuid */
	uint32_t payload_len;         /*  40 bytes of records after header   */
	uint32_t rec_count;           /*  44                                 */
	uint64_t write_time_ns;       /*  48 CLOCK_REALTIME at encode        */
	uint32_t reserved;            /*  56 zero                            */
	uint32_t crc32c;              /*  60                                 */
};
static_assert(sizeof(struct dl_block_hdr_disk) == 64, "block header size");

/* ---------------------------------------------------------------- */
/* Head: one per slot in the head area, head_bytes (= block_size)     */
/* each.  A 64-byte header, then inline_len bytes of inline blocks:   */
/* the blocks inline_seq .. seq, oldest first, each an 8-byte entry   */
/* header then its records exactly as in the ring block.  CRC32C over */
/* the header and the inline bytes, the crc32c field taken as zero.   */
struct dl_head_disk {
	uint32_t magic;               /*   0 DL_HEAD_MAGIC                   */
	uint32_t slot_index;          /*   4                                 */
	uint32_t node_id;             /*   8 writer, the slot's owner        */
	uint32_t gen_blocks;          /*  12 blocks committed by this
	                               *     generation, up to seq (saturates
	                               *     at 2^32-1); 0: none yet         */
	uint64_t generation;          /*  16 writer's incarnation            */
	uint64_t seq;                 /*  24 newest committed block, 0: none */
	uint8_t  volume_uuid[8];      /*  32 first 8 bytes of the volume uuid */
	uint64_t write_time_ns;       /*  40 CLOCK_REALTIME of this write    */
	uint64_t inline_seq;          /*  48 first inline block, 0: none     */
	uint32_t inline_len;          /*  56 bytes of entries after header   */
	uint32_t crc32c;              /*  60                                 */
};
static_assert(sizeof(struct dl_head_disk) == 64, "head header size");

struct dl_head_entry_disk {
	uint32_t payload_len;         /*  0 bytes of records that follow     */
	uint32_t rec_count;           /*  4 records; 0: a void block         */
};
static_assert(sizeof(struct dl_head_entry_disk) == 8, "head entry size");

/* Record: 24-byte header, dst_count 16-bit node ids padded to 8 bytes,
 * frag_len bytes of data padded to 8 bytes.  A datagram larger than the
 * room left in a block continues as the first record of the next block. */
struct dl_rec_hdr_disk {
	uint8_t  type;                /*  0 DL_REC_DATAGRAM                  */
	uint8_t  flags;               /*  1 DL_REC_FIRST | DL_REC_LAST       */
	uint16_t dst_count;           /*  2 1..DL_DEST_MAX                   */
	uint32_t frag_len;            /*  4 data bytes in this record        */
	uint32_t dgram_len;           /*  8 whole datagram                   */
	uint32_t frag_offset;         /* 12 offset of this fragment          */
	uint32_t dgram_id;            /* 16 writer's datagram counter        */
	uint32_t reserved;            /* 20 zero                             */
};
static_assert(sizeof(struct dl_rec_hdr_disk) == 24, "record header size");

#define DL_ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

#endif /* DISKLINK_FORMAT_H */
