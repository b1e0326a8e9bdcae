/* Fuzz target: the ring reader (dl_reader_poll, dl_reader_resync) over a
 * ring image that a script from the input changes between polls.
 *
 * Input: 4 header bytes (block size 512/1024, ring length 8..16, slot,
 * reader id, writer id, torn limit), then operations:
 *   poll (daemon style: the blocks from the next index to the ring end,
 *   or fewer, then a resync when asked), resync with a hint, the real
 *   writer packing datagrams (optionally only the first blocks of the
 *   batch land: a write in flight or a crash), a raw block from the input
 *   (CRC optionally fixed up), a bit flip, a tear (sectors zeroed from
 *   the front or the back), a writer restart (new generation recovered
 *   from the ring and from the slot header, as disklinkd opens its writer:
 *   the header with a generation is on disk before any block of it), and
 *   a patched header field with a fixed-up CRC.
 * A restart whose predecessor's header was lost while its blocks were
 * corrupted can reuse a generation and its sequence numbers; the reader
 * cannot tell the two writers apart then.  That is the stuck-predecessor
 * and incarnation work of the protocol (doc/simulator.md), not a case
 * this target claims; its input is kept in the corpus
 * (ring_reader/restart-lost-header) and passes because the header is
 * kept.
 * The ring is an exact-size allocation, so a read past it is caught.
 * Invariants: every delivered datagram is 1..65507 bytes inside the ring
 * or the reassembly buffer, from a valid node id; the bytes delivered
 * never exceed the block bytes that entered the ring; the reader's
 * next sequence never goes back; and while only the real writer (plus
 * bit flips and tears, which a checksum catches) has touched the ring,
 * every datagram delivered is one the writer addressed to this node,
 * byte for byte, in order, none twice. */
#include "config.h"

#include <string.h>

#include "block.h"
#include "fuzz_util.h"
#include "ring_reader.h"
#include "ring_writer.h"

#define MAX_TAGS 4096u
#define SECTOR 512u

struct fz {
	struct dl_sb sb;
	struct dl_reader r;
	struct dl_writer w;
	uint8_t *ring;
	uint8_t *scratch;
	uint32_t bs, R, slot, self, writer;
	int honest;                    /* only the real writer made blocks */
	uint64_t bytes_in;             /* block bytes that entered the ring */
	uint64_t bytes_out;
	uint32_t next_tag;
	uint32_t last_tag;             /* last delivered (honest mode) */
	int have_last;
	struct dl_slot_hdr hdr;        /* the writer's slot header on disk  */
	uint32_t tag_len[MAX_TAGS];
	uint8_t tag_to_self[MAX_TAGS];
};

/* The input, consumed front to back; reads past the end give zeros. */
struct in {
	const uint8_t *p;
	size_t left;
};

static uint8_t take(struct in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint32_t take16(struct in *in)
{
	uint32_t lo = take(in);

	return lo | (uint32_t)take(in) << 8;
}

static void deliver(void *ctx, uint32_t src, const uint8_t *data, uint32_t len)
{
	struct fz *f = ctx;
	const uint8_t *ring_end = f->ring + (size_t)f->R * f->bs;
	uint32_t tag, sum = 0;

	FUZZ_CHECK(len >= 1 && len <= DL_DGRAM_MAX);
	FUZZ_CHECK(src >= 1 && src <= DL_NODE_ID_MAX);
	FUZZ_CHECK((data >= f->ring && data + len <= ring_end) ||
		   (data >= f->r.reasm.buf && data + len <= f->r.reasm.buf + DL_DGRAM_MAX));
	for (uint32_t i = 0; i < len; i++)
		sum += data[i];
	(void)sum;
	f->bytes_out += len;
	if (!f->honest)
		return;
	FUZZ_CHECK(src == f->writer);
	FUZZ_CHECK(len >= 4);
	tag = dl_get32(data);
	FUZZ_CHECK(tag < f->next_tag);
	FUZZ_CHECK(f->tag_to_self[tag]);
	FUZZ_CHECK(f->tag_len[tag] == len);
	for (uint32_t i = 4; i < len; i++)
		FUZZ_CHECK(data[i] == fuzz_pattern(tag, i));
	FUZZ_CHECK(!f->have_last || tag > f->last_tag);
	f->last_tag = tag;
	f->have_last = 1;
}

static void do_poll(struct fz *f, uint8_t arg)
{
	uint32_t idx = dl_reader_next_index(&f->r);
	uint32_t avail = f->R - idx;
	uint32_t n = (arg & 0x80) ? 1u + arg % avail : avail;
	uint32_t k;
	int resync = 0;

	k = dl_reader_poll(&f->r, f->ring + (size_t)idx * f->bs, n, deliver, f, &resync);
	FUZZ_CHECK(k <= n);
	FUZZ_CHECK(resync == 0 || resync == 1);
	if (resync)
		dl_reader_resync(&f->r, f->ring, 0, deliver, f);
}

/* The real writer packs 1..3 datagrams; only the first `land` blocks of
 * the batch may reach the ring. */
static void do_write(struct fz *f, struct in *in)
{
	struct dl_dgram d[3];
	uint16_t dst[3][4];
	static uint8_t data[3][4 * 1024 + 4];
	uint8_t ctl = take(in);
	uint32_t nd = 1 + ctl % 3, blocks, land;
	uint64_t first = f->w.next_seq;
	size_t done;

	for (uint32_t i = 0; i < nd; i++) {
		uint32_t len = 4 + take16(in) % (4 * 1024);
		uint8_t mask = take(in) & 0x0f;
		uint32_t tag = f->next_tag + i, nd_ = 0;

		if (tag >= MAX_TAGS)
			return;
		if (!mask)
			mask = (uint8_t)(1u << (f->self - 1));
		for (uint32_t id = 1; id <= 4; id++)
			if (mask & (1u << (id - 1)))
				dst[i][nd_++] = (uint16_t)id;
		dl_put32(data[i], tag);
		for (uint32_t k = 4; k < len; k++)
			data[i][k] = fuzz_pattern(tag, k);
		d[i] = (struct dl_dgram){ .dst = dst[i], .dst_count = nd_, .data = data[i],
					  .len = len };
	}
	if (dl_writer_pack(&f->w, d, nd, &done, f->scratch, f->R, &blocks, first))
		return;
	FUZZ_CHECK(done >= 1 && done <= nd && blocks >= 1 && blocks <= f->R);
	FUZZ_CHECK(f->w.next_seq == first + blocks);
	for (size_t i = 0; i < done; i++) {
		uint32_t tag = f->next_tag++;

		f->tag_len[tag] = d[i].len;
		for (uint32_t k = 0; k < d[i].dst_count; k++)
			if (d[i].dst[k] == f->self)
				f->tag_to_self[tag] = 1;
	}
	land = (ctl & 0x80) ? (uint32_t)(ctl >> 3) % (blocks + 1) : blocks;
	for (uint32_t k = 0; k < land; k++)
		memcpy(f->ring + ((first + k) % f->R) * f->bs, f->scratch + (size_t)k * f->bs,
		       f->bs);
	f->bytes_in += (uint64_t)land * f->bs;
}

static uint8_t *block_at(struct fz *f, uint8_t idx)
{
	return f->ring + (size_t)(idx % f->R) * f->bs;
}

static void do_raw(struct fz *f, struct in *in, int fix)
{
	uint8_t *b = block_at(f, take(in));
	size_t n = in->left < f->bs ? in->left : f->bs;

	memset(b, 0, f->bs);
	memcpy(b, in->p, n);
	in->p += n;
	in->left -= n;
	if (fix)
		fuzz_fix_block_crc(b, f->bs);
	f->bytes_in += f->bs;
	f->honest = 0;
}

static void do_flip(struct fz *f, struct in *in)
{
	uint8_t *b = block_at(f, take(in));
	uint32_t pos = take16(in) % f->bs;
	uint8_t x = take(in);

	b[pos] ^= x ? x : 1;
	f->bytes_in += f->bs;
}

static void do_tear(struct fz *f, struct in *in)
{
	uint8_t *b = block_at(f, take(in));
	uint8_t arg = take(in);
	uint32_t sectors = f->bs / SECTOR, k = arg % sectors;

	if (arg & 0x80)
		memset(b, 0, (size_t)(k + 1) * SECTOR);          /* the head did not land */
	else
		memset(b + (size_t)(k + 1) * SECTOR, 0, f->bs - (k + 1) * SECTOR); /* the tail */
	f->bytes_in += f->bs;
}

/* Rewrite a header field of a block, keeping its records, and fix the CRC. */
static void do_patch(struct fz *f, struct in *in)
{
	uint8_t *b = block_at(f, take(in));
	uint8_t field = take(in);
	uint64_t v = 0;
	int64_t delta = (int8_t)take(in);

	switch (field % 5) {
	case 0:
		v = dl_get64(b + offsetof(struct dl_block_hdr_disk, seq)) + (uint64_t)delta;
		dl_put64(b + offsetof(struct dl_block_hdr_disk, seq), v);
		break;
	case 1:
		v = dl_get64(b + offsetof(struct dl_block_hdr_disk, generation)) + (uint64_t)delta;
		dl_put64(b + offsetof(struct dl_block_hdr_disk, generation), v);
		break;
	case 2:
		dl_put32(b + offsetof(struct dl_block_hdr_disk, node_id), 1u + (uint32_t)(delta & 7));
		break;
	case 3:
		dl_put32(b + offsetof(struct dl_block_hdr_disk, slot_index), (uint32_t)(delta & 1));
		break;
	default:
		dl_put64(b + offsetof(struct dl_block_hdr_disk, seq), f->r.next_seq + (uint64_t)delta);
		break;
	}
	fuzz_fix_block_crc(b, f->bs);
	f->bytes_in += f->bs;
	f->honest = 0;
}

/* Open (or restart) the writer as disklinkd does: from its ring and its
 * slot header, whose new generation is written before any block. */
static void writer_open(struct fz *f)
{
	FUZZ_CHECK(dl_writer_open(&f->w, &f->sb, f->slot, f->writer, &f->hdr, f->ring) == 0);
	f->hdr.generation = f->w.generation;
	f->hdr.last_seq = f->w.next_seq - 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	struct in in = { .p = data, .left = size };
	uint8_t h0, h1, h2, h3;
	uint64_t prev_next;

	if (size < 4)
		return 0;
	memset(&f, 0, sizeof(f));
	h0 = take(&in);
	h1 = take(&in);
	h2 = take(&in);
	h3 = take(&in);
	f.bs = DL_BLOCK_SIZE_MIN << (h0 & 1u);
	f.R = DL_RING_BLOCKS_MIN + h1 % 9u;
	f.slot = (h2 >> 6) & 1u;
	f.self = 1u + (h2 & 3u);
	f.writer = 1u + ((h2 >> 2) & 3u);
	f.honest = 1;
	/* The reader needs only these fields; the ring is shorter than a
	 * real volume allows, to keep inputs small. */
	f.sb.block_size = f.bs;
	f.sb.ring_blocks = f.R;
	f.sb.slot_count = 2;
	for (int i = 0; i < 16; i++)
		f.sb.uuid[i] = (uint8_t)(0xa0 + i);
	f.ring = calloc(f.R, f.bs);
	f.scratch = calloc(f.R, f.bs);
	FUZZ_CHECK(f.ring && f.scratch);
	FUZZ_CHECK(dl_reader_init(&f.r, &f.sb, f.slot, f.self) == 0);
	f.r.torn_limit = 1u + h3 % 8u;
	writer_open(&f);

	while (in.left) {
		uint8_t op = take(&in);

		prev_next = f.r.next_seq;
		switch (op % 9) {
		case 0:
		case 8:
			do_poll(&f, take(&in));
			break;
		case 1:
			dl_reader_resync(&f.r, f.ring, take(&in), deliver, &f);
			break;
		case 2:
			do_write(&f, &in);
			break;
		case 3:
			do_raw(&f, &in, op & 0x80);
			break;
		case 4:
			do_flip(&f, &in);
			break;
		case 5:
			do_tear(&f, &in);
			break;
		case 6:
			writer_open(&f);
			break;
		case 7:
			do_patch(&f, &in);
			break;
		}
		FUZZ_CHECK(f.r.next_seq >= prev_next);
		FUZZ_CHECK(f.bytes_out <= f.bytes_in);
		FUZZ_CHECK(f.r.st.bytes == f.bytes_out);
		FUZZ_CHECK(dl_reader_next_index(&f.r) < f.R);
	}
	dl_reader_free(&f.r);
	free(f.ring);
	free(f.scratch);
	return 0;
}
