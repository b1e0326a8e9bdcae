/* The datagrams the parent read from the peer sockets in one wake-up,
 * waiting to be queued for the I/O child: identical copies that knet sent
 * to several peers (a broadcast) merge into one record with a destination
 * set.  Pure bookkeeping, no sockets nor timers (sockets.c does those). */
#ifndef DLD_COALESCE_H
#define DLD_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#include "dld.h"

#define DLD_COAL_RECS  64u             /* records held at the most         */
#define DLD_COAL_BYTES (256u << 10)    /* their payload bytes at the most  */
#define DLD_RECV_MAX   65536u          /* one datagram at the most         */

struct dld_coal_rec {
	uint32_t off, len;             /* the payload: buf[off, off + len)  */
	uint16_t ndst;
	uint16_t dst[DLD_MAX_PEERS];
};

struct dld_coal {
	uint32_t nrec, used;
	struct dld_coal_rec rec[DLD_COAL_RECS];
	uint8_t buf[DLD_COAL_BYTES];
	/* The newest record of the last flush (its payload and how many
	 * peers it went to): the first copies of a broadcast whose other
	 * copies come later. */
	uint32_t gone_len;
	uint16_t gone_ndst, gone_first;
	uint8_t gone[DLD_RECV_MAX];
	/* Learned: knet sends a broadcast's copies in one order, so its first
	 * copy goes to the same peer each time.  Set when copies of what went
	 * out followed; forgotten when a wait for them was in vain. */
	bool first_known;
	uint16_t first;
};

/* Add a datagram for node: merged into the newest record with the same
 * payload that node's earlier datagrams do not follow (so every node's
 * datagrams keep their order), or a new record.  1 merged, 0 new, -1 no
 * room (queue the records, clear, add again). */
int dld_coal_add(struct dld_coal *c, uint16_t node, const uint8_t *data, uint32_t len);

/* The flush rule: true when copies of a broadcast are predicted within
 * microseconds, so a short wait makes one record of them: a record has
 * reached two to peers-1 of the peers, counting the copies of the same
 * payload that the last flush queued, or a lone datagram went to the peer
 * that learned broadcasts start with.  Any other unicast and a complete
 * broadcast never wait. */
bool dld_coal_partial(const struct dld_coal *c, uint32_t peers);

/* The wait ended (coalesce_us): a lone datagram to the learned first
 * peer got no copy, so that peer is forgotten. */
void dld_coal_expired(struct dld_coal *c);

/* After the records were queued: empty, the newest one kept as gone. */
void dld_coal_clear(struct dld_coal *c);

#endif
