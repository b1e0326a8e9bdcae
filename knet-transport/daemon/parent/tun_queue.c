/* TUN mode's bulk queue (tun_queue.h): a byte ring of records, each a
 * fixed part (time, length, destination count), the destinations, then
 * the packet; a record may wrap around the ring's end. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tun_queue.h"

#define FIXED (sizeof(uint64_t) + sizeof(uint32_t) + sizeof(uint16_t))

static uint64_t record_len(const struct dld_tunq_pkt *h)
{
	return FIXED + (uint64_t)h->ndst * sizeof(uint16_t) + h->len;
}

/* Copy n bytes in at ring offset *pos (wrapping); *pos moves past them. */
static void ring_in(struct dld_tunq *q, uint64_t *pos, const void *src, size_t n)
{
	size_t off = (size_t)(*pos & (DLD_TUNQ_BYTES - 1)), first = DLD_TUNQ_BYTES - off;

	if (first > n)
		first = n;
	memcpy(q->buf + off, src, first);
	memcpy(q->buf, (const uint8_t *)src + first, n - first);
	*pos += n;
}

/* Copy n bytes out from ring offset *pos (wrapping); *pos moves past them. */
static void ring_out(const struct dld_tunq *q, uint64_t *pos, void *dst, size_t n)
{
	size_t off = (size_t)(*pos & (DLD_TUNQ_BYTES - 1)), first = DLD_TUNQ_BYTES - off;

	if (first > n)
		first = n;
	memcpy(dst, q->buf + off, first);
	memcpy((uint8_t *)dst + first, q->buf, n - first);
	*pos += n;
}

int dld_tunq_put(struct dld_tunq *q, uint64_t cap, const struct dld_tunq_pkt *h,
		 const uint8_t *data)
{
	uint64_t used = q->head - q->tail, need = record_len(h), pos = q->head;

	if (h->ndst > DLD_MAX_PEERS || used + need > DLD_TUNQ_BYTES ||
	    (q->count && used + need > cap)) {
		errno = ENOSPC;
		return -1;
	}
	if (!q->buf && !(q->buf = malloc(DLD_TUNQ_BYTES)))
		return -1;
	ring_in(q, &pos, &h->t_ns, sizeof(h->t_ns));
	ring_in(q, &pos, &h->len, sizeof(h->len));
	ring_in(q, &pos, &h->ndst, sizeof(h->ndst));
	ring_in(q, &pos, h->dst, h->ndst * sizeof(uint16_t));
	ring_in(q, &pos, data, h->len);
	q->head = pos;
	q->count++;
	return 0;
}

bool dld_tunq_peek(const struct dld_tunq *q, struct dld_tunq_pkt *h)
{
	uint64_t pos = q->tail;

	if (!q->count)
		return false;
	ring_out(q, &pos, &h->t_ns, sizeof(h->t_ns));
	ring_out(q, &pos, &h->len, sizeof(h->len));
	ring_out(q, &pos, &h->ndst, sizeof(h->ndst));
	ring_out(q, &pos, h->dst, h->ndst * sizeof(uint16_t));
	return true;
}

void dld_tunq_pop(struct dld_tunq *q, const struct dld_tunq_pkt *h, uint8_t *data)
{
	uint64_t n = record_len(h), pos = q->tail + n - h->len;

	if (data)
		ring_out(q, &pos, data, h->len);
	q->tail += n;
	q->count--;
}

uint32_t dld_tunq_flush(struct dld_tunq *q)
{
	uint32_t n = q->count;

	q->tail = q->head;
	q->count = 0;
	return n;
}

uint32_t dld_tunq_free(struct dld_tunq *q)
{
	uint32_t n = dld_tunq_flush(q);

	free(q->buf);
	q->buf = NULL;
	return n;
}
