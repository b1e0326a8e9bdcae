/* Fuzz target: dl_slot_hdr_decode on each copy and dl_slot_hdr_pick over
 * the two copies of a slot header.
 *
 * Input: mode byte, slot index byte, then copy A and copy B (2304 bytes
 * each; a short input gives short copies, which must be refused).  Mode
 * bit 0/1: recompute the CRC of copy A/B; bit 2: the expected volume uuid
 * is the one in copy A (else a fixed one), so mutations get past the
 * checksum and the uuid check.
 * Invariants: an accepted copy re-encodes to the same bytes up to its
 * last used acknowledgement and decodes again to the same header; pick
 * returns the valid copy with the higher hdr_seq, from the right
 * position (A even, B odd), and fails only when neither copy is valid. */
#include "config.h"

#include <string.h>

#include "fuzz_util.h"
#include "slot_header.h"

#define HDR_SIZE sizeof(struct dl_slot_hdr_disk)
#define OFF(f) offsetof(struct dl_slot_hdr_disk, f)

/* Field by field: struct padding is not part of the value. */
static int hdr_equal(const struct dl_slot_hdr *x, const struct dl_slot_hdr *y)
{
	if (memcmp(x->volume_uuid, y->volume_uuid, 16) || x->hdr_seq != y->hdr_seq ||
	    x->slot_index != y->slot_index || x->node_id != y->node_id ||
	    x->state != y->state || x->role != y->role || x->generation != y->generation ||
	    x->last_seq != y->last_seq || x->update_time_ns != y->update_time_ns ||
	    memcmp(x->node_name, y->node_name, DL_NODE_NAME_MAX) ||
	    x->ack_count != y->ack_count)
		return 0;
	for (uint32_t i = 0; i < x->ack_count; i++)
		if (x->acks[i].node_id != y->acks[i].node_id || x->acks[i].seq != y->acks[i].seq)
			return 0;
	return 1;
}

static void check_copy(const uint8_t *buf, size_t len, const uint8_t uuid[16],
		       uint32_t slot, int rc, const struct dl_slot_hdr *h, enum dl_err why)
{
	static uint8_t enc[HDR_SIZE];
	struct dl_slot_hdr again;
	size_t used;

	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(why < DL_E_MAX);
	FUZZ_CHECK((rc == 0) == (why == DL_OK));
	if (rc)
		return;
	FUZZ_CHECK(len >= HDR_SIZE);
	FUZZ_CHECK(h->slot_index == slot);
	FUZZ_CHECK(memcmp(h->volume_uuid, uuid, 16) == 0);
	FUZZ_CHECK(h->ack_count <= DL_ACKS_MAX);
	FUZZ_CHECK(h->node_id <= DL_NODE_ID_MAX);
	FUZZ_CHECK((h->state == DL_SLOT_FREE) == (h->node_id == 0));
	FUZZ_CHECK(h->node_name[DL_NODE_NAME_MAX - 1] == '\0');
	FUZZ_CHECK(strcmp(dl_slot_state_name(h->state), "invalid") != 0);
	FUZZ_CHECK(strcmp(dl_role_name(h->role), "invalid") != 0);
	for (uint32_t i = 0; i < h->ack_count; i++)
		FUZZ_CHECK(h->acks[i].node_id != 0 && h->acks[i].node_id != h->node_id);
	FUZZ_CHECK(dl_slot_hdr_encode(h, enc, sizeof(enc), NULL) == 0);
	used = OFF(acks) + (size_t)h->ack_count * sizeof(struct dl_ack_disk);
	FUZZ_CHECK(memcmp(enc, buf, used) == 0);
	FUZZ_CHECK(dl_slot_hdr_decode(enc, sizeof(enc), uuid, slot, &again, NULL) == 0);
	FUZZ_CHECK(hdr_equal(&again, h));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_slot_hdr ha, hb, hp;
	enum dl_err ea = DL_E_MAX, eb = DL_E_MAX, pa = DL_E_MAX, pb = DL_E_MAX;
	const uint8_t *uuid = fuzz_slot_uuid;
	uint8_t *a, *b;
	uint32_t slot;
	size_t len;
	int ra, rb, rp;

	if (size < 2)
		return 0;
	slot = data[1] % DL_SLOTS_MAX;
	data += 2;
	size -= 2;
	/* Two copies of equal length, exactly allocated. */
	len = size / 2;
	if (len > HDR_SIZE)
		len = HDR_SIZE;
	a = malloc(len ? len : 1);
	b = malloc(len ? len : 1);
	if (!a || !b) {
		free(a);
		free(b);
		return 0;
	}
	memcpy(a, data, len);
	memcpy(b, data + len, len);
	if (len == HDR_SIZE) {
		if (data[-2] & 1u)
			fuzz_fix_tail_crc(a, OFF(crc32c));
		if (data[-2] & 2u)
			fuzz_fix_tail_crc(b, OFF(crc32c));
		if (data[-2] & 4u)
			uuid = a + OFF(volume_uuid);
	}

	ra = dl_slot_hdr_decode(a, len, uuid, slot, &ha, &ea);
	check_copy(a, len, uuid, slot, ra, &ha, ea);
	rb = dl_slot_hdr_decode(b, len, uuid, slot, &hb, &eb);
	check_copy(b, len, uuid, slot, rb, &hb, eb);

	rp = dl_slot_hdr_pick(a, b, len, uuid, slot, &hp, &pa, &pb);
	FUZZ_CHECK(rp == 0 || rp == -1);
	/* A copy is usable when valid and at the position its hdr_seq names. */
	ra = ra == 0 && (ha.hdr_seq & 1u) == 0 ? 0 : -1;
	rb = rb == 0 && (hb.hdr_seq & 1u) == 1 ? 0 : -1;
	FUZZ_CHECK((pa == DL_OK) == (ra == 0));
	FUZZ_CHECK((pb == DL_OK) == (rb == 0));
	FUZZ_CHECK((rp == 0) == (ra == 0 || rb == 0));
	/* The newer copy by (generation, hdr_seq), as format v2 orders them
	 * (doc/format.md, "Incarnations"). */
	if (ra == 0 && (rb != 0 || ha.generation > hb.generation ||
			(ha.generation == hb.generation && ha.hdr_seq > hb.hdr_seq)))
		FUZZ_CHECK(hdr_equal(&hp, &ha));
	else if (rb == 0)
		FUZZ_CHECK(hdr_equal(&hp, &hb));
	free(a);
	free(b);
	return 0;
}
