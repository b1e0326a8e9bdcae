/* Test helper of the tool's tests: acts as the owner of a slot the way
 * disklinkd does, as far as the volume shows it.  It claims (or reuses)
 * the slot of NODE_ID, writes its header with STATE, then writes COUNT
 * small datagrams (0: until killed), one block every INTERVAL_MS
 * milliseconds, and finally records its last sequence in the header.
 * Killing it leaves the header as a crashed daemon leaves it.
 *
 * Usage: dl_test_writer DEVICE NODE_ID NAME active|stopped COUNT INTERVAL_MS
 *
 * With "slot=K" in place of the state it writes, without the library's
 * claim, a stopped header owned by NODE_ID into slot K (to make a volume
 * where one node owns two slots), and exits. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dl_clock.h"
#include "ring_writer.h"
#include "volume.h"

static int write_one(struct dl_volume *v, struct dl_writer *w, uint32_t slot,
		     uint16_t dst, uint32_t tag, uint8_t *out)
{
	uint8_t data[100];
	struct dl_dgram d = { .dst = &dst, .dst_count = 1, .data = data, .len = sizeof(data) };
	uint64_t first = w->next_seq;
	uint32_t blocks;
	size_t done;

	memset(data, (int)(tag & 0xff), sizeof(data));
	memcpy(data, &tag, sizeof(tag));
	if (dl_writer_pack(w, &d, 1, &done, out, 1, &blocks, dl_realtime_ns()))
		return -1;
	return dl_volume_write_blocks(v, slot, (uint32_t)(first % v->sb.ring_blocks), 1, out);
}

int main(int argc, char **argv)
{
	struct dl_volume v;
	struct dl_slot_hdr h;
	struct dl_writer w;
	enum dl_err why = DL_OK;
	uint32_t slot, node, count, interval_ms;
	uint8_t *ring, *out;
	int active;

	if (argc != 7) {
		fprintf(stderr, "usage: %s DEVICE NODE_ID NAME active|stopped COUNT INTERVAL_MS\n",
			argv[0]);
		return 2;
	}
	node = (uint32_t)strtoul(argv[2], NULL, 10);
	active = !strcmp(argv[4], "active");
	count = (uint32_t)strtoul(argv[5], NULL, 10);
	interval_ms = (uint32_t)strtoul(argv[6], NULL, 10);
	if (dl_volume_open(&v, argv[1], NULL, NULL, &why)) {
		fprintf(stderr, "open %s: %s / %s\n", argv[1], strerror(errno), dl_strerror(why));
		return 1;
	}
	if (!strncmp(argv[4], "slot=", 5)) {
		slot = (uint32_t)strtoul(argv[4] + 5, NULL, 10);
		if (dl_volume_read_slot(&v, slot, &h, &why)) {
			fprintf(stderr, "read slot %u: %s\n", slot, dl_strerror(why));
			return 1;
		}
		h.node_id = node;
		h.state = DL_SLOT_STOPPED;
		snprintf(h.node_name, sizeof(h.node_name), "%s", argv[3]);
		if (dl_volume_write_slot(&v, &h)) {
			fprintf(stderr, "header: %s\n", strerror(errno));
			return 1;
		}
		dl_volume_close(&v);
		return 0;
	}
	if (dl_volume_claim(&v, node, argv[3], &slot, &h)) {
		fprintf(stderr, "claim: %s\n", strerror(errno));
		return 1;
	}
	ring = dl_bio_alloc((size_t)v.sb.ring_blocks * v.sb.block_size);
	out = dl_bio_alloc(v.sb.block_size);
	if (!ring || !out ||
	    dl_volume_read_blocks(&v, slot, 0, v.sb.ring_blocks, ring) ||
	    dl_writer_open(&w, &v.sb, slot, node, &h, ring)) {
		fprintf(stderr, "writer: %s\n", strerror(errno));
		return 1;
	}
	h.generation = w.generation;
	h.state = active ? DL_SLOT_ACTIVE : DL_SLOT_STOPPED;
	if (dl_volume_write_slot(&v, &h)) {
		fprintf(stderr, "header: %s\n", strerror(errno));
		return 1;
	}
	printf("slot %u generation %llu\n", slot, (unsigned long long)w.generation);
	fflush(stdout);
	for (uint32_t i = 0; count == 0 || i < count; i++) {
		struct timespec pause = {
			.tv_sec = interval_ms / 1000u,
			.tv_nsec = (long)(interval_ms % 1000u) * 1000000L,
		};

		if (write_one(&v, &w, slot, node == 1 ? 2 : 1, i, out)) {
			fprintf(stderr, "write: %s\n", strerror(errno));
			return 1;
		}
		if (interval_ms && (count == 0 || i + 1 < count))
			nanosleep(&pause, NULL);
	}
	h.last_seq = w.next_seq - 1;
	if (dl_volume_write_slot(&v, &h)) {
		fprintf(stderr, "header: %s\n", strerror(errno));
		return 1;
	}
	free(ring);
	free(out);
	dl_volume_close(&v);
	return 0;
}
