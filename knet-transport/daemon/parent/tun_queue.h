/* TUN mode's bulk queue (doc/vnic.md): a FIFO of the bulk packets that
 * wait for tokens of tun_bulk_kib, as a qdisc's.  Its memory is flat: one
 * byte ring of DLD_TUNQ_BYTES, allocated at the first packet queued (a
 * daemon that never queues, as in relay mode, never pays for it) and
 * freed by dld_tunq_free; each packet is stored with its enqueue time and
 * its destinations. */
#ifndef DLD_TUN_QUEUE_H
#define DLD_TUN_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "dld.h"

#define DLD_TUNQ_BYTES (1u << 20)      /* the ring; a power of two */

struct dld_tunq {
	uint64_t head, tail;           /* bytes in and out; used: head - tail */
	uint32_t count;                /* packets queued                      */
	uint8_t *buf;                  /* DLD_TUNQ_BYTES, or NULL (none yet)  */
};

/* A queued packet's header. */
struct dld_tunq_pkt {
	uint64_t t_ns;                 /* when it was queued                  */
	uint32_t len;                  /* its bytes                           */
	uint16_t ndst;
	uint16_t dst[DLD_MAX_PEERS];   /* the nodes it goes to                */
};

/* Queue a packet (h: its time and destinations; len is data's) when the
 * queue then holds at most cap bytes (records included), or when it is
 * empty and the record fits the ring: a packet larger than cap still
 * goes alone.  0, or -1 with errno ENOSPC (full: the caller drops it) or
 * ENOMEM (no ring). */
int dld_tunq_put(struct dld_tunq *q, uint64_t cap, const struct dld_tunq_pkt *h,
		 const uint8_t *data);
/* The oldest packet's header in h: true, or false (empty). */
bool dld_tunq_peek(const struct dld_tunq *q, struct dld_tunq_pkt *h);
/* Remove the oldest packet (h from dld_tunq_peek), its bytes into data
 * (h->len bytes) unless data is NULL. */
void dld_tunq_pop(struct dld_tunq *q, const struct dld_tunq_pkt *h, uint8_t *data);
/* Empty the queue: the number of packets removed. */
uint32_t dld_tunq_flush(struct dld_tunq *q);
/* Empty the queue and free its ring: the number of packets removed. */
uint32_t dld_tunq_free(struct dld_tunq *q);

#endif
