/* Ring reader. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "block.h"
#include "ring_reader.h"
#include "ring_scan.h"

enum step { STEP_CONSUMED, STEP_WAIT, STEP_RESYNC };

int dl_reader_init(struct dl_reader *r, const struct dl_sb *sb, uint32_t slot_index,
		   uint32_t self_id)
{
	memset(r, 0, sizeof(*r));
	if (slot_index >= sb->slot_count || self_id == 0 || self_id > DL_NODE_ID_MAX) {
		errno = EINVAL;
		return -1;
	}
	r->block_size = sb->block_size;
	r->ring_blocks = sb->ring_blocks;
	r->slot_index = slot_index;
	r->self_id = self_id;
	memcpy(r->uuid, sb->uuid, 16);
	r->torn_limit = DL_TORN_LIMIT_DEFAULT;
	r->next_seq = 1;
	return dl_reasm_init(&r->reasm);
}

void dl_reader_free(struct dl_reader *r)
{
	dl_reasm_free(&r->reasm);
}

static void deliver_block(struct dl_reader *r, const struct dl_block *b,
			  dl_deliver_fn deliver, void *ctx)
{
	struct dl_rec rec;
	uint32_t off = 0;

	while (dl_rec_next(b, &off, &rec, NULL) == 1) {
		const uint8_t *data;
		uint32_t len;

		if (!dl_rec_has_dest(&rec, r->self_id))
			continue;
		if (dl_reasm_feed(&r->reasm, &rec, &data, &len) == 1) {
			r->st.dgrams++;
			r->st.bytes += len;
			deliver(ctx, b->node_id, data, len);
		}
	}
	r->st.frag_dropped = r->reasm.dropped;
}

/* A block belongs to this ring when its slot and volume match. */
static int block_ours(const struct dl_reader *r, const struct dl_block *b)
{
	return b->slot_index == r->slot_index && !memcmp(b->volume_uuid8, r->uuid, 8);
}

static void consume(struct dl_reader *r, const struct dl_block *b,
		    dl_deliver_fn deliver, void *ctx)
{
	if (b->generation != r->generation || b->node_id != r->writer_id) {
		/* The writer restarted (or the slot changed hands): whatever
		 * was half-assembled from the old generation is gone. */
		if (r->generation)
			r->st.gen_changes++;
		dl_reasm_reset(&r->reasm);
		r->generation = b->generation;
		r->writer_id = b->node_id;
	}
	r->last_write_time_ns = b->write_time_ns;
	/* A block without records voids a write that failed there
	 * (dl_writer_void): what it held is lost, counted here. */
	if (!b->rec_count) {
		r->st.lost_blocks++;
		dl_reasm_reset(&r->reasm);
	}
	deliver_block(r, b, deliver, ctx);
	r->st.blocks++;
	r->next_seq = b->seq + 1;
	r->torn_polls = 0;
}

/* Given up once torn_limit polls (2 when a later block is valid) found
 * it torn and, with torn_wait_ns, that long has passed since the first of
 * them: a multi-block write can stay half-visible for a while, however
 * fast the reader polls. */
static int torn_given_up(const struct dl_reader *r, int later_valid)
{
	uint32_t polls = later_valid && r->torn_limit > 2 ? 2 : r->torn_limit;

	if (r->torn_polls < polls)
		return 0;
	return !r->torn_wait_ns || r->now_ns - r->torn_since_ns >= r->torn_wait_ns;
}

/* The next block is torn, corrupt or misplaced: retry on the next polls,
 * then give it up (counted) so one bad block never stalls the reader. */
static enum step step_torn(struct dl_reader *r, int later_valid)
{
	if (!r->torn_polls)
		r->torn_since_ns = r->now_ns;
	r->torn_polls++;
	r->st.torn_retries++;
	if (torn_given_up(r, later_valid)) {
		r->st.torn_skipped++;
		dl_reasm_reset(&r->reasm);
		r->next_seq++;
		r->torn_polls = 0;
		return STEP_CONSUMED;
	}
	return STEP_WAIT;
}

static enum step step_one(struct dl_reader *r, const uint8_t *buf, int later_valid,
			  dl_deliver_fn deliver, void *ctx)
{
	struct dl_block b;
	enum dl_err why;

	if (dl_block_decode(buf, r->block_size, &b, &why)) {
		/* Never written: nothing new yet.  With later blocks there,
		 * this write was lost (or only its tail landed): given up
		 * after torn_limit polls, not 2, as a write in flight may
		 * land after the blocks behind it. */
		if (why == DL_E_EMPTY)
			return later_valid ? step_torn(r, 0) : STEP_WAIT;
		/* A wrong magic where a block is due is the tail of a write
		 * whose first sector did not land. */
		if (why != DL_E_CRC && why != DL_E_MAGIC)
			r->st.invalid++;
		return step_torn(r, later_valid);
	}
	if (!block_ours(r, &b)) {
		r->st.stale++;
		return STEP_WAIT;
	}
	if (b.generation < r->min_generation && b.seq >= r->next_seq) {
		/* A superseded incarnation's late write (doc/format.md
		 * "Incarnations"): never delivered.  With later blocks valid
		 * it landed over one of its successor's: given up as torn.
		 * (Below next_seq it is only an older lap, nothing new: the
		 * successor continues the sequence, and its predecessor's
		 * blocks wait there to be overwritten.) */
		r->st.stale++;
		return later_valid ? step_torn(r, 0) : STEP_WAIT;
	}
	if (b.seq % r->ring_blocks != r->next_seq % r->ring_blocks) {
		r->st.invalid++;
		return step_torn(r, later_valid);
	}
	if (b.seq < r->next_seq) {
		/* An older lap of the ring: nothing new yet, unless a new
		 * generation restarted lower, which only a resync sorts out. */
		if (b.generation > r->generation && b.node_id == r->writer_id)
			return STEP_RESYNC;
		/* The old lap still there while later blocks landed: this
		 * write was lost (as above). */
		return later_valid ? step_torn(r, 0) : STEP_WAIT;
	}
	if (b.seq > r->next_seq)
		return STEP_RESYNC;
	if (b.generation < r->generation) {
		r->st.stale++;
		return STEP_WAIT;
	}
	consume(r, &b, deliver, ctx);
	return STEP_CONSUMED;
}

static int block_valid_ours(const struct dl_reader *r, const uint8_t *buf, uint64_t seq)
{
	struct dl_block b;

	return !dl_block_decode(buf, r->block_size, &b, NULL) && block_ours(r, &b) &&
	       b.seq == seq && b.generation >= r->min_generation;
}

uint32_t dl_reader_poll(struct dl_reader *r, const uint8_t *blocks, uint32_t n,
			dl_deliver_fn deliver, void *ctx, int *resync)
{
	uint32_t k;

	*resync = !r->synced;
	if (!r->synced)
		return 0;
	for (k = 0; k < n; k++) {
		const uint8_t *buf = blocks + (size_t)k * r->block_size;
		uint64_t seq = r->next_seq;
		int later = 0;
		enum step s;

		for (uint32_t j = k + 1; j < n && !later; j++)
			later = block_valid_ours(r, blocks + (size_t)j * r->block_size,
						 seq + (j - k));
		s = step_one(r, buf, later, deliver, ctx);
		if (s == STEP_RESYNC) {
			*resync = 1;
			break;
		}
		if (s == STEP_WAIT)
			break;
	}
	return k;
}

static uint64_t block_gen(const struct dl_reader *r, const uint8_t *buf)
{
	struct dl_block b;

	return dl_block_decode(buf, r->block_size, &b, NULL) ? 0 : b.generation;
}

/* The first resync of a reader with attach_gen: the writer started after
 * we began looking, deliver its generation from the beginning, nothing
 * older and nothing at or below attach_after_seq (what this node read
 * before it re-attached); a gap after that is counted. */
static void attach_generation(struct dl_reader *r, const uint8_t *ring, uint64_t head,
			      dl_deliver_fn deliver, void *ctx)
{
	const uint32_t R = r->ring_blocks;
	uint64_t start = head;
	struct dl_block b;

	r->synced = 1;
	if (head <= r->attach_after_seq) {
		/* Nothing new since: wait for what comes after. */
		dl_block_decode(ring + (size_t)(head % R) * r->block_size, r->block_size, &b,
				NULL);
		r->generation = b.generation;
		r->writer_id = b.node_id;
		r->next_seq = r->attach_after_seq + 1;
		return;
	}
	while (start > 1 && start - 1 > r->attach_after_seq && head - start < R - 1 &&
	       block_valid_ours(r, ring + (size_t)((start - 1) % R) * r->block_size,
				start - 1) &&
	       block_gen(r, ring + (size_t)((start - 1) % R) * r->block_size) >= r->attach_gen)
		start--;
	if (r->attach_after_seq && start > r->attach_after_seq + 1)
		r->st.lost_blocks += start - r->attach_after_seq - 1;
	r->next_seq = start;
	for (uint64_t s = start; s <= head; s++) {
		dl_block_decode(ring + (size_t)(s % R) * r->block_size, r->block_size, &b, NULL);
		consume(r, &b, deliver, ctx);
	}
}

void dl_reader_resync(struct dl_reader *r, const uint8_t *ring, uint64_t hint_seq,
		      dl_deliver_fn deliver, void *ctx)
{
	const uint32_t R = r->ring_blocks;
	const struct dl_ring_filter f = {
		.block_size = r->block_size,
		.ring_blocks = R,
		.slot_index = r->slot_index,
		.uuid = r->uuid,
		.in_place = true,
		.min_generation = r->min_generation,
	};
	struct dl_ring_newest newest = { .count = 0 };
	uint64_t head, start;
	struct dl_block b;

	dl_ring_newest_scan(ring, 0, R, &f, &newest);
	head = newest.seq;
	if (!r->synced && r->attach_gen && head) {
		attach_generation(r, ring, head, deliver, ctx);
		return;
	}
	if (!r->synced) {
		uint64_t last = head > hint_seq ? head : hint_seq;

		/* What the writer wrote after the last block this node read
		 * before it restarted is not delivered: count it. */
		if (r->resume_seq && r->resume_seq <= last)
			r->st.lost_blocks += last + 1 - r->resume_seq;
		r->synced = 1;
		r->next_seq = last + 1;
		if (head) {
			r->generation = newest.generation;
			r->writer_id = newest.node_id;
			r->last_write_time_ns = newest.write_time_ns;
		}
		return;
	}
	if (head < r->next_seq) {
		/* Nothing of the writer's generation past us, and its header
		 * shows a newer one than we consumed: it has written nothing
		 * yet and starts after hint_seq.  What its predecessor left
		 * there that we had not read is never delivered (doc/format.md,
		 * "Incarnations"): counted stale.  Else the reader would wait
		 * at the first of those blocks, counting it stale, for a lap. */
		if (r->min_generation > r->generation && hint_seq >= r->next_seq) {
			r->st.stale += hint_seq + 1 - r->next_seq;
			dl_reasm_reset(&r->reasm);
			r->next_seq = hint_seq + 1;
		}
		return;
	}
	/* Walk back from the newest block over an unbroken run. */
	start = head;
	while (start > r->next_seq &&
	       block_valid_ours(r, ring + (size_t)((start - 1) % R) * r->block_size, start - 1))
		start--;
	if (start > r->next_seq) {
		r->st.lost_blocks += start - r->next_seq;
		r->st.overruns++;
		dl_reasm_reset(&r->reasm);
		r->next_seq = start;
	}
	for (uint64_t s = start; s <= head; s++) {
		dl_block_decode(ring + (size_t)(s % R) * r->block_size, r->block_size, &b, NULL);
		consume(r, &b, deliver, ctx);
	}
}
