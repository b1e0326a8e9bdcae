/* Slot header encode/decode. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "crc32c.h"
#include "le.h"
#include "slot_header.h"
#include "text.h"

#define HDR_SIZE ((uint32_t)sizeof(struct dl_slot_hdr_disk))
#define OFF(f) offsetof(struct dl_slot_hdr_disk, f)

static int hdr_check(const struct dl_slot_hdr *h, enum dl_err *why)
{
	if (h->state != DL_SLOT_FREE && h->state != DL_SLOT_ACTIVE &&
	    h->state != DL_SLOT_STOPPED)
		return dl_fail(why, DL_E_STATE, EINVAL);
	if (h->node_id > DL_NODE_ID_MAX)
		return dl_fail(why, DL_E_NODE_ID, EINVAL);
	if ((h->state == DL_SLOT_FREE) != (h->node_id == 0))
		return dl_fail(why, DL_E_STATE, EINVAL);
	if (h->role > DL_ROLE_SECONDARY)
		return dl_fail(why, DL_E_ROLE, EINVAL);
	/* Printable ASCII; may be empty (a free slot has no name). */
	if (!dl_name_field_valid(h->node_name, DL_NODE_NAME_MAX, true))
		return dl_fail(why, DL_E_NAME, EINVAL);
	if (h->slot_index >= DL_SLOTS_MAX)
		return dl_fail(why, DL_E_SLOT_INDEX, EINVAL);
	if (h->ack_count > DL_ACKS_MAX)
		return dl_fail(why, DL_E_ACKS, EINVAL);
	for (uint32_t i = 0; i < h->ack_count; i++) {
		if (h->acks[i].node_id == 0 || h->acks[i].node_id > DL_NODE_ID_MAX ||
		    h->acks[i].node_id == h->node_id)
			return dl_fail(why, DL_E_ACKS, EINVAL);
		for (uint32_t j = 0; j < i; j++)
			if (h->acks[j].node_id == h->acks[i].node_id)
				return dl_fail(why, DL_E_ACKS, EINVAL);
	}
	return 0;
}

void dl_slot_hdr_init_free(struct dl_slot_hdr *h, const uint8_t uuid[16],
			   uint32_t slot_index, uint64_t hdr_seq)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->volume_uuid, uuid, 16);
	h->slot_index = slot_index;
	h->hdr_seq = hdr_seq;
	h->state = DL_SLOT_FREE;
}

int dl_slot_hdr_encode(const struct dl_slot_hdr *h, void *buf, size_t len,
		       enum dl_err *why)
{
	uint8_t *p = buf;

	if (len < HDR_SIZE)
		return dl_fail(why, DL_E_SHORT, EINVAL);
	if (hdr_check(h, why))
		return -1;
	memset(p, 0, HDR_SIZE);
	dl_put32(p + OFF(magic), DL_SLOT_MAGIC);
	dl_put32(p + OFF(hdr_size), HDR_SIZE);
	memcpy(p + OFF(volume_uuid), h->volume_uuid, 16);
	dl_put64(p + OFF(hdr_seq), h->hdr_seq);
	dl_put32(p + OFF(slot_index), h->slot_index);
	dl_put32(p + OFF(node_id), h->node_id);
	dl_put32(p + OFF(state), h->state);
	dl_put32(p + OFF(role), h->role);
	dl_put64(p + OFF(generation), h->generation);
	dl_put64(p + OFF(last_seq), h->last_seq);
	dl_put64(p + OFF(update_time_ns), h->update_time_ns);
	memcpy(p + OFF(node_name), h->node_name, DL_NODE_NAME_MAX);
	dl_put32(p + OFF(ack_count), h->ack_count);
	for (uint32_t i = 0; i < h->ack_count; i++) {
		uint8_t *a = p + OFF(acks) + i * sizeof(struct dl_ack_disk);

		dl_put32(a + offsetof(struct dl_ack_disk, node_id), h->acks[i].node_id);
		dl_put64(a + offsetof(struct dl_ack_disk, seq), h->acks[i].seq);
	}
	dl_put32(p + OFF(crc32c), dl_crc32c(0, p, OFF(crc32c)));
	if (why)
		*why = DL_OK;
	return 0;
}

int dl_slot_hdr_decode(const void *buf, size_t len, const uint8_t uuid[16],
		       uint32_t slot_index, struct dl_slot_hdr *h, enum dl_err *why)
{
	const uint8_t *p = buf;

	memset(h, 0, sizeof(*h));
	if (len < HDR_SIZE)
		return dl_fail(why, DL_E_SHORT, EINVAL);
	if (dl_get32(p + OFF(magic)) != DL_SLOT_MAGIC) {
		if (dl_all_zero(p, HDR_SIZE))
			return dl_fail(why, DL_E_EMPTY, EMEDIUMTYPE);
		return dl_fail(why, DL_E_MAGIC, EMEDIUMTYPE);
	}
	if (dl_get32(p + OFF(hdr_size)) != HDR_SIZE)
		return dl_fail(why, DL_E_SIZE, EINVAL);
	if (dl_get32(p + OFF(crc32c)) != dl_crc32c(0, p, OFF(crc32c)))
		return dl_fail(why, DL_E_CRC, EBADMSG);
	memcpy(h->volume_uuid, p + OFF(volume_uuid), 16);
	if (memcmp(h->volume_uuid, uuid, 16))
		return dl_fail(why, DL_E_UUID, EINVAL);
	h->hdr_seq = dl_get64(p + OFF(hdr_seq));
	h->slot_index = dl_get32(p + OFF(slot_index));
	if (h->slot_index != slot_index)
		return dl_fail(why, DL_E_SLOT_INDEX, EINVAL);
	h->node_id = dl_get32(p + OFF(node_id));
	h->state = dl_get32(p + OFF(state));
	h->role = dl_get32(p + OFF(role));
	h->generation = dl_get64(p + OFF(generation));
	h->last_seq = dl_get64(p + OFF(last_seq));
	h->update_time_ns = dl_get64(p + OFF(update_time_ns));
	memcpy(h->node_name, p + OFF(node_name), DL_NODE_NAME_MAX);
	if (dl_get32(p + OFF(flags)) ||
	    !dl_all_zero(p + OFF(reserved), sizeof(((struct dl_slot_hdr_disk *)0)->reserved)) ||
	    !dl_all_zero(p + OFF(reserved2), sizeof(((struct dl_slot_hdr_disk *)0)->reserved2)))
		return dl_fail(why, DL_E_RESERVED, EINVAL);
	h->ack_count = dl_get32(p + OFF(ack_count));
	if (h->ack_count > DL_ACKS_MAX)
		return dl_fail(why, DL_E_ACKS, EINVAL);
	for (uint32_t i = 0; i < h->ack_count; i++) {
		const uint8_t *a = p + OFF(acks) + i * sizeof(struct dl_ack_disk);

		if (dl_get32(a + offsetof(struct dl_ack_disk, flags)))
			return dl_fail(why, DL_E_RESERVED, EINVAL);
		h->acks[i].node_id = dl_get32(a + offsetof(struct dl_ack_disk, node_id));
		h->acks[i].seq = dl_get64(a + offsetof(struct dl_ack_disk, seq));
	}
	if (hdr_check(h, why))
		return -1;
	if (why)
		*why = DL_OK;
	return 0;
}

int dl_slot_hdr_pick(const void *copy_a, const void *copy_b, size_t len,
		     const uint8_t uuid[16], uint32_t slot_index,
		     struct dl_slot_hdr *h, enum dl_err *why_a, enum dl_err *why_b)
{
	struct dl_slot_hdr a, b;
	enum dl_err ea = DL_OK, eb = DL_OK;
	int ra, rb, err;

	ra = dl_slot_hdr_decode(copy_a, len, uuid, slot_index, &a, &ea);
	err = errno;
	/* A copy must sit where its hdr_seq says it belongs. */
	if (ra == 0 && (a.hdr_seq & 1u) != 0) {
		ra = -1;
		ea = DL_E_SEQ;
		err = EINVAL;
	}
	rb = dl_slot_hdr_decode(copy_b, len, uuid, slot_index, &b, &eb);
	if (rb == 0 && (b.hdr_seq & 1u) != 1) {
		rb = -1;
		eb = DL_E_SEQ;
		errno = EINVAL;
	}
	if (rb < 0)
		err = ra < 0 ? err : errno;
	if (why_a)
		*why_a = ea;
	if (why_b)
		*why_b = eb;
	if (ra < 0 && rb < 0) {
		errno = err;
		return -1;
	}
	/* The newer copy by (generation, hdr_seq): a late header write of
	 * an earlier incarnation never wins over its successor's. */
	if (ra == 0 && (rb < 0 || a.generation > b.generation ||
			(a.generation == b.generation && a.hdr_seq > b.hdr_seq)))
		*h = a;
	else
		*h = b;
	return 0;
}

int dl_slot_hdr_set_ack(struct dl_slot_hdr *h, uint32_t node_id, uint64_t seq)
{
	for (uint32_t i = 0; i < h->ack_count; i++) {
		if (h->acks[i].node_id == node_id) {
			h->acks[i].seq = seq;
			return 0;
		}
	}
	if (h->ack_count >= DL_ACKS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	h->acks[h->ack_count].node_id = node_id;
	h->acks[h->ack_count].seq = seq;
	h->ack_count++;
	return 0;
}

const char *dl_slot_state_name(uint32_t state)
{
	switch (state) {
	case DL_SLOT_FREE:
		return "free";
	case DL_SLOT_ACTIVE:
		return "active";
	case DL_SLOT_STOPPED:
		return "stopped";
	default:
		return "invalid";
	}
}

const char *dl_role_name(uint32_t role)
{
	switch (role) {
	case DL_ROLE_NONE:
		return "none";
	case DL_ROLE_PRIMARY:
		return "primary";
	case DL_ROLE_SECONDARY:
		return "secondary";
	default:
		return "invalid";
	}
}
