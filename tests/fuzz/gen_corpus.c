/* Writes the seed corpus of the fuzz targets: a few small valid inputs
 * per target, made with the library's own encoders (so they follow the
 * format), into DIR/<target>/.  Usage: gen_corpus DIR
 * The seeds are committed under tests/fuzz/corpus/; `make fuzz-corpus`
 * regenerates them (it leaves other files alone: the regress-* seeds are
 * inputs that once found a bug, kept as regression tests). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "block.h"
#include "fuzz_util.h"
#include "head.h"
#include "slot_header.h"
#include "superblock.h"

static const char *dir;

static int put_file(const char *target, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

static int gen_superblock(void)
{
	static const struct {
		const char *name;
		uint32_t bs, slots, ring, kind;
	} v[] = {
		{ "shared-4k", 4096, 16, 256, DL_VOLUME_SHARED },
		{ "shared-512", 512, 4, 400, DL_VOLUME_SHARED },
		{ "send-64k", 65536, 2, 8, DL_VOLUME_SEND },
	};
	uint8_t buf[1 + sizeof(struct dl_sb_disk)];
	uint8_t uuid[16];
	struct dl_sb sb;
	enum dl_err why;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (int k = 0; k < 16; k++)
			uuid[k] = (uint8_t)(i * 16 + (size_t)k);
		if (dl_sb_init(&sb, "corpus-cluster", v[i].bs, v[i].slots, v[i].ring, v[i].kind,
			       uuid, 1700000000, &why)) {
			fprintf(stderr, "superblock %s: %s\n", v[i].name, dl_strerror(why));
			return -1;
		}
		buf[0] = (uint8_t)i;   /* seed 1 asks for the CRC fix-up */
		if (dl_sb_encode(&sb, buf + 1, sizeof(buf) - 1) ||
		    put_file("superblock", v[i].name, buf, sizeof(buf)))
			return -1;
	}
	return 0;
}

static int gen_slot_header(void)
{
	enum { H = sizeof(struct dl_slot_hdr_disk) };
	static uint8_t buf[2 + 2 * H];
	struct dl_slot_hdr a, b;

	/* Copy A: free (hdr_seq 2); copy B: owned and active with acks (3). */
	dl_slot_hdr_init_free(&a, fuzz_slot_uuid, 3, 2);
	b = a;
	b.hdr_seq = 3;
	b.node_id = 7;
	b.state = DL_SLOT_ACTIVE;
	b.role = DL_ROLE_PRIMARY;
	b.generation = 4;
	b.last_seq = 1000;
	b.update_time_ns = 1700000000000000000ull;
	strcpy(b.node_name, "node-seven");
	if (dl_slot_hdr_set_ack(&b, 1, 55) || dl_slot_hdr_set_ack(&b, 2, 66))
		return -1;
	memset(buf, 0, sizeof(buf));
	buf[0] = 0;
	buf[1] = 3;
	if (dl_slot_hdr_encode(&a, buf + 2, H, NULL) ||
	    dl_slot_hdr_encode(&b, buf + 2 + H, H, NULL) ||
	    put_file("slot_header", "free-then-active", buf, sizeof(buf)))
		return -1;
	/* Only copy B valid (A never written); CRC fix-up and uuid from A. */
	memset(buf + 2, 0, H);
	buf[0] = 3;
	return put_file("slot_header", "only-b", buf, sizeof(buf));
}

static void build_block(uint8_t *blk, uint32_t bs, uint64_t seq, int frag)
{
	static const uint16_t d1[] = { 2 }, d3[] = { 1, 2, 3 };
	uint8_t data[600], uuid[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7 };
	struct dl_block_builder bb;

	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = fuzz_pattern(1, i);
	dl_bb_start(&bb, blk, bs);
	if (frag) {
		/* The middle fragment of a bigger datagram, then a small one. */
		dl_bb_add(&bb, d3, 3, data, 600, 2000, 400, 9);
		dl_bb_add(&bb, d1, 1, data, 33, 33, 0, 10);
	} else {
		dl_bb_add(&bb, d1, 1, data, 100, 100, 0, 1);
		dl_bb_add(&bb, d3, 3, data, 17, 17, 0, 2);
	}
	dl_bb_seal(&bb, 0, 1, 1, seq, uuid, 1700000000000000000ull);
}

static int gen_block(void)
{
	uint8_t buf[1 + 1024];

	buf[0] = 0;
	build_block(buf + 1, 512, 1, 0);
	if (put_file("block", "two-records-512", buf, 1 + 512))
		return -1;
	buf[0] = 1 | 4;
	build_block(buf + 1, 1024, 77, 1);
	return put_file("block", "fragment-1024", buf, 1 + 1024);
}

static int gen_record(void)
{
	uint8_t blk[1024];
	uint32_t off = DL_BLOCK_HDR_SIZE;
	struct dl_rec r;
	uint32_t size;

	build_block(blk, 1024, 1, 1);
	for (int i = 0; i < 2; i++) {
		char name[32];

		if (dl_rec_decode(blk + off, 1024 - off, &r, &size, NULL))
			return -1;
		snprintf(name, sizeof(name), "record-%d", i);
		if (put_file("record", name, blk + off, size))
			return -1;
		off += size;
	}
	return 0;
}

/* Descriptor as fuzz_reassembly reads it (12 bytes). */
static void desc(uint8_t *d, uint8_t kind, uint8_t id, uint32_t dlen, uint32_t off,
		 uint32_t flen)
{
	memset(d, 0, 12);
	d[0] = kind;
	d[1] = id;
	dl_put16(d + 2, (uint16_t)dlen);
	d[4] = (uint8_t)(dlen >> 16);
	dl_put16(d + 5, (uint16_t)off);
	d[7] = (uint8_t)(off >> 16);
	dl_put16(d + 8, (uint16_t)flen);
	d[10] = (uint8_t)(flen >> 16);
}

static int gen_reassembly(void)
{
	uint8_t buf[12 * 8];
	uint8_t *d = buf;

	/* 3 fragments of 3000, a single, a lost middle, the largest datagram. */
	desc(d, 0x10, 1, 3000, 0, 1000), d += 12;
	desc(d, 0x10, 1, 3000, 1000, 1000), d += 12;
	desc(d, 0x10, 1, 3000, 2000, 1000), d += 12;
	desc(d, 0x10, 2, 50, 0, 50), d += 12;
	desc(d, 0x10, 3, 900, 0, 300), d += 12;
	desc(d, 0x10, 3, 900, 600, 300), d += 12;
	desc(d, 0x10, 4, DL_DGRAM_MAX, 0, 40000), d += 12;
	desc(d, 0x10, 4, DL_DGRAM_MAX, 40000, DL_DGRAM_MAX - 40000), d += 12;
	return put_file("reassembly", "sequences", buf, (size_t)(d - buf));
}

static int gen_ring_reader(void)
{
	/* Header: 1024-byte blocks, 8 blocks, slot 0, reader 2, writer 1,
	 * torn limit 4; then polls, writes, a tear, a restart. */
	static const uint8_t script_a[] = {
		1, 0, 0x01, 3,
		0, 0,                            /* poll: attach             */
		2, 0, 100, 0, 0x02,              /* write 1 dgram of 104 to 2 */
		0, 0,                            /* poll                     */
		2, 1, 0xd0, 0x07, 0x03, 40, 0, 0x02, /* 2 dgrams: 2004 and 44 */
		0, 0, 0, 0,
		2, 0, 200, 0, 0x06,              /* to 2 and 3               */
		5, 2, 0x00,                      /* tear block 2's tail      */
		0, 0, 0, 0, 0, 0, 0, 0,
		6,                               /* writer restart           */
		2, 0, 10, 0, 0x02,
		0, 0, 0, 0,
	};
	/* Many writes without a poll: the writer laps the reader. */
	static uint8_t script_b[4 + 2 + 12 * 5 + 4];
	size_t n = 0;

	if (put_file("ring_reader", "write-tear-restart", script_a, sizeof(script_a)))
		return -1;
	script_b[n++] = 1;   /* 1024-byte blocks */
	script_b[n++] = 1;   /* 9 blocks */
	script_b[n++] = 0x01;
	script_b[n++] = 0;
	script_b[n++] = 0;
	script_b[n++] = 0;
	for (int i = 0; i < 12; i++) {
		script_b[n++] = 2;
		script_b[n++] = 0;
		script_b[n++] = (uint8_t)(100 + i);
		script_b[n++] = 1;
		script_b[n++] = 0x02;
	}
	script_b[n++] = 0;
	script_b[n++] = 0;
	script_b[n++] = 0;
	script_b[n++] = 0;
	return put_file("ring_reader", "overrun", script_b, n);
}

/* A 512-byte head with nothing inline, a 4 KiB head with both seed
 * blocks inline. */
static int gen_head(void)
{
	static uint8_t blk[2][1024], buf[1 + 4096];
	struct dl_head h = {
		.slot_index = 0, .node_id = 1, .generation = 1, .seq = 78, .gen_blocks = 5,
		.volume_uuid8 = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7 },
		.write_time_ns = 1700000000000000000ull,
	};
	struct dl_block b[2];

	build_block(blk[0], 1024, 77, 1);
	build_block(blk[1], 1024, 78, 0);
	if (dl_block_decode(blk[0], 1024, &b[0], NULL) ||
	    dl_block_decode(blk[1], 1024, &b[1], NULL))
		return -1;
	buf[0] = 0;
	if (dl_head_encode(buf + 1, 512, &h, b, 0, NULL) != 0 ||
	    put_file("head", "no-inline-512", buf, 1 + 512))
		return -1;
	buf[0] = 3;
	if (dl_head_encode(buf + 1, 4096, &h, b, 2, NULL) != 2)
		return -1;
	return put_file("head", "two-inline-4k", buf, 1 + 4096);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	if (gen_superblock() || gen_slot_header() || gen_block() || gen_record() ||
	    gen_reassembly() || gen_ring_reader() || gen_head())
		return 1;
	return 0;
}
