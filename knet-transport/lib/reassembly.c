/* Fragment reassembly: fragments of one datagram are consecutive records
 * of one writer, so one partial datagram per writer is enough. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <disklink/format.h>

#include "reassembly.h"

int dl_reasm_init(struct dl_reasm *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(DL_DGRAM_MAX);
	if (!r->buf) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void dl_reasm_free(struct dl_reasm *r)
{
	free(r->buf);
	r->buf = NULL;
}

void dl_reasm_reset(struct dl_reasm *r)
{
	if (r->active)
		r->dropped++;
	r->active = 0;
	r->have = 0;
}

int dl_reasm_feed(struct dl_reasm *r, const struct dl_rec *rec,
		  const uint8_t **data, uint32_t *len)
{
	if (rec->flags & DL_REC_FIRST) {
		dl_reasm_reset(r);
		if (rec->flags & DL_REC_LAST) {
			*data = rec->data;
			*len = rec->frag_len;
			return 1;
		}
		r->active = 1;
		r->dgram_id = rec->dgram_id;
		r->dgram_len = rec->dgram_len;
		memcpy(r->buf, rec->data, rec->frag_len);
		r->have = rec->frag_len;
		return 0;
	}
	if (!r->active || rec->dgram_id != r->dgram_id ||
	    rec->dgram_len != r->dgram_len || rec->frag_offset != r->have) {
		/* A continuation without its beginning: count and drop. */
		if (!r->active)
			r->dropped++;
		dl_reasm_reset(r);
		return 0;
	}
	memcpy(r->buf + r->have, rec->data, rec->frag_len);
	r->have += rec->frag_len;
	if (!(rec->flags & DL_REC_LAST))
		return 0;
	r->active = 0;
	*data = r->buf;
	*len = r->dgram_len;
	return 1;
}
