/* Record-level coalescing of the datagrams read in one wake-up
 * (coalesce.h; doc/performance.md "Coalescing"). */
#include "config.h"

#include <string.h>

#include "coalesce.h"

static bool has_dst(const struct dld_coal_rec *r, uint16_t node)
{
	for (uint16_t k = 0; k < r->ndst; k++)
		if (r->dst[k] == node)
			return true;
	return false;
}

static bool gone_copy(const struct dld_coal *c, const uint8_t *data, uint32_t len)
{
	return c->gone_len && len == c->gone_len && !memcmp(data, c->gone, len);
}

int dld_coal_add(struct dld_coal *c, uint16_t node, const uint8_t *data, uint32_t len)
{
	struct dld_coal_rec *r;

	/* Newest first, and no further back than node's last record: the
	 * datagram may not overtake one sent to node before it. */
	for (uint32_t i = c->nrec; i-- > 0;) {
		r = &c->rec[i];
		if (has_dst(r, node))
			break;
		if (r->len == len && r->ndst < DLD_MAX_PEERS &&
		    !memcmp(c->buf + r->off, data, len)) {
			r->dst[r->ndst++] = node;
			return 1;
		}
	}
	if (c->nrec == DLD_COAL_RECS || len > DLD_COAL_BYTES - c->used)
		return -1;
	if (gone_copy(c, data, len) && c->gone_first != node) {
		/* The rest of a broadcast whose first copy went alone. */
		c->first = c->gone_first;
		c->first_known = true;
	}
	r = &c->rec[c->nrec++];
	r->off = c->used;
	r->len = len;
	r->ndst = 1;
	r->dst[0] = node;
	memcpy(c->buf + c->used, data, len);
	c->used += len;
	return 0;
}

static bool lone_to_first(const struct dld_coal *c, const struct dld_coal_rec *r)
{
	return c->first_known && r->ndst == 1 && r->dst[0] == c->first;
}

bool dld_coal_partial(const struct dld_coal *c, uint32_t peers)
{
	if (peers < 2)
		return false;
	for (uint32_t i = 0; i < c->nrec; i++) {
		const struct dld_coal_rec *r = &c->rec[i];
		bool gone = gone_copy(c, c->buf + r->off, r->len);
		uint32_t n = r->ndst + (gone ? c->gone_ndst : 0u);

		if ((n >= 2 && n < peers) || (!gone && lone_to_first(c, r)))
			return true;
	}
	return false;
}

void dld_coal_expired(struct dld_coal *c)
{
	for (uint32_t i = 0; i < c->nrec; i++)
		if (lone_to_first(c, &c->rec[i]))
			c->first_known = false;
}

void dld_coal_clear(struct dld_coal *c)
{
	if (c->nrec) {
		const struct dld_coal_rec *r = &c->rec[c->nrec - 1];

		c->gone_len = r->len <= sizeof(c->gone) ? r->len : 0;
		c->gone_ndst = r->ndst;
		c->gone_first = r->dst[0];
		memcpy(c->gone, c->buf + r->off, c->gone_len);
	}
	c->nrec = 0;
	c->used = 0;
}
