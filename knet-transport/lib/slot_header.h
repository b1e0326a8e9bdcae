/* Slot headers: host form, encode/decode, and the choice between the two
 * copies that protect a slot header against a torn write. */
#ifndef DL_SLOT_HEADER_H
#define DL_SLOT_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include <disklink/format.h>

#include "fmt_error.h"

struct dl_ack {
	uint32_t node_id;
	uint64_t seq;
};

struct dl_slot_hdr {
	uint8_t  volume_uuid[16];
	uint64_t hdr_seq;
	uint32_t slot_index;
	uint32_t node_id;
	uint32_t state;
	uint32_t role;
	uint64_t generation;
	uint64_t last_seq;
	uint64_t update_time_ns;
	char     node_name[DL_NODE_NAME_MAX];
	uint32_t ack_count;
	struct dl_ack acks[DL_ACKS_MAX];
};

/* A free header for a slot of a new volume. */
void dl_slot_hdr_init_free(struct dl_slot_hdr *h, const uint8_t uuid[16],
			   uint32_t slot_index, uint64_t hdr_seq);

/* Encode into buf (len >= sizeof(struct dl_slot_hdr_disk)); the region
 * beyond the structure is untouched.  Validates first: -1/EINVAL. */
int dl_slot_hdr_encode(const struct dl_slot_hdr *h, void *buf, size_t len,
		       enum dl_err *why);

/* Decode and validate one copy.  uuid and slot_index are what the
 * position on the volume implies.  -1 with errno EBADMSG (checksum),
 * EMEDIUMTYPE (magic, or never written: DL_E_EMPTY), EINVAL (field). */
int dl_slot_hdr_decode(const void *buf, size_t len, const uint8_t uuid[16],
		       uint32_t slot_index, struct dl_slot_hdr *h, enum dl_err *why);

/* Pick the newest valid of the two copies.  why_a and why_b say what was
 * wrong with each copy (DL_OK when it was valid).  -1 when neither is. */
int dl_slot_hdr_pick(const void *copy_a, const void *copy_b, size_t len,
		     const uint8_t uuid[16], uint32_t slot_index,
		     struct dl_slot_hdr *h, enum dl_err *why_a, enum dl_err *why_b);

/* Set or add the acknowledgement for a peer; -1/ENOSPC when full. */
int dl_slot_hdr_set_ack(struct dl_slot_hdr *h, uint32_t node_id, uint64_t seq);

const char *dl_slot_state_name(uint32_t state);
const char *dl_role_name(uint32_t role);

#endif
