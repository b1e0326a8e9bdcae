/* ringstat: count what a node's ring holds, for the relay tests.
 *
 *   ringstat DEVICE NODE_ID
 *
 * Prints one JSON object about the valid blocks of the newest generation
 * in the slot claimed by NODE_ID: how many blocks, records and whole or
 * first-fragment datagrams, and the most records one block carries (a
 * block carrying several datagrams is the mark of group commit). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "volume.h"

struct counts {
	uint64_t generation, blocks, records, dgrams, max_recs, bad;
};

static void count_block(const uint8_t *buf, uint32_t bs, struct counts *c)
{
	struct dl_block blk;
	struct dl_rec rec;
	enum dl_err why;
	uint32_t off = 0, recs = 0;

	if (dl_block_decode(buf, bs, &blk, &why) < 0)
		return;
	if (blk.generation > c->generation)
		*c = (struct counts){ .generation = blk.generation };
	if (blk.generation < c->generation)
		return;
	c->blocks++;
	while (dl_rec_next(&blk, &off, &rec, &why) == 1) {
		recs++;
		if (rec.flags & DL_REC_FIRST)
			c->dgrams++;
	}
	c->records += recs;
	if (recs > c->max_recs)
		c->max_recs = recs;
}

int main(int argc, char **argv)
{
	struct dl_volume v;
	struct dl_slot_hdr h;
	enum dl_err why = DL_OK;
	struct counts c = { 0 };
	uint32_t slot;

	if (argc != 3) {
		fprintf(stderr, "usage: ringstat DEVICE NODE_ID\n");
		return 2;
	}
	struct dl_bio_opts opts = { .read_only = true };
	if (dl_volume_open(&v, argv[1], NULL, &opts, &why) < 0) {
		fprintf(stderr, "ringstat: %s: %s\n", argv[1], why ? dl_strerror(why) : strerror(errno));
		return 1;
	}
	if (dl_volume_find_node(&v, (uint32_t)strtoul(argv[2], NULL, 10), &slot, &h) < 0) {
		fprintf(stderr, "ringstat: node %s has no slot on %s\n", argv[2], argv[1]);
		dl_volume_close(&v);
		return 1;
	}
	uint32_t bs = v.sb.block_size;
	uint8_t *buf = dl_bio_alloc(bs);
	int rc = 0;
	for (uint32_t i = 0; buf && i < v.sb.ring_blocks; i++) {
		if (dl_volume_read_blocks(&v, slot, i, 1, buf) < 0) {
			fprintf(stderr, "ringstat: reading block %u: %s\n", i, strerror(errno));
			rc = 1;
			break;
		}
		count_block(buf, bs, &c);
	}
	free(buf);
	dl_volume_close(&v);
	if (rc == 0)
		printf("{\"slot\":%u,\"generation\":%" PRIu64 ",\"blocks\":%" PRIu64 ",\"records\":%" PRIu64
		       ",\"dgrams\":%" PRIu64 ",\"max_records_per_block\":%" PRIu64 "}\n",
		       slot, c.generation, c.blocks, c.records, c.dgrams, c.max_recs);
	return rc;
}
