/* Fuzz target: fragment reassembly, a sequence of records fed to
 * dl_reasm_feed.
 *
 * Input: a list of 12-byte record descriptors (flags/kind, datagram id,
 * datagram length, fragment offset, fragment length), or a reset.  Each
 * descriptor is framed into real record bytes filled with a pattern of
 * (datagram id, position), and only records that dl_rec_decode accepts
 * are fed: that is the reassembler's contract.
 * Invariants: a delivered datagram has the length its records announced
 * (<= 65507), its bytes are exactly the pattern of that datagram (no
 * fragment lost, doubled or misplaced), and delivery happens exactly when
 * a reference model of "consecutive fragments of one datagram from
 * offset 0 to the end" says so. */
#include "config.h"

#include <string.h>

#include "block.h"
#include "fuzz_util.h"
#include "reassembly.h"

#define DESC 12u

struct model {
	int active;
	uint32_t id, len, have;
};

static uint8_t recbuf[DL_REC_HDR_SIZE + 8 + DL_DGRAM_MAX + 8];

/* Frame a record: one destination (node 1), data = pattern(id, offset+i). */
static size_t frame(uint32_t id, uint32_t dlen, uint32_t off, uint32_t flen, uint8_t type,
		    uint8_t flags)
{
	uint8_t *p = recbuf;

	memset(p, 0, DL_REC_HDR_SIZE + 8);
	p[0] = type;
	p[1] = flags;
	dl_put16(p + 2, 1);
	dl_put32(p + 4, flen);
	dl_put32(p + 8, dlen);
	dl_put32(p + 12, off);
	dl_put32(p + 16, id);
	dl_put16(p + DL_REC_HDR_SIZE, 1);
	for (uint32_t i = 0; i < flen && DL_REC_HDR_SIZE + 8 + (size_t)i < sizeof(recbuf); i++)
		p[DL_REC_HDR_SIZE + 8 + i] = fuzz_pattern(id, off + i);
	return DL_REC_HDR_SIZE + 8 + DL_ALIGN8(flen > DL_DGRAM_MAX ? 0 : flen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dl_reasm r;
	struct model m = { 0 };
	uint64_t dropped_before;

	if (dl_reasm_init(&r))
		return 0;
	for (size_t at = 0; at + DESC <= size; at += DESC) {
		const uint8_t *d = data + at;
		uint32_t id = d[1];
		uint32_t dlen = dl_get16(d + 2) | (uint32_t)(d[4] & 1u) << 16;
		uint32_t off = dl_get16(d + 5) | (uint32_t)(d[7] & 1u) << 16;
		uint32_t flen = dl_get16(d + 8) | (uint32_t)(d[10] & 1u) << 16;
		uint8_t flags = d[11] & 3u;
		struct dl_rec rec;
		const uint8_t *out = NULL;
		uint32_t out_len = 0, rec_size;
		int expect = 0, got;
		size_t n;

		if ((d[0] & 0x0f) == 0x0f) {
			dl_reasm_reset(&r);
			m.active = 0;
			continue;
		}
		if (d[0] & 0x10) {
			/* Derive consistent flags: mostly-valid records. */
			flags = (off == 0 ? DL_REC_FIRST : 0) |
				(off + (uint64_t)flen == dlen ? DL_REC_LAST : 0);
		}
		if (flen > DL_DGRAM_MAX)
			continue;
		n = frame(id, dlen, off, flen, (d[0] & 0x20) ? 2 : DL_REC_DATAGRAM, flags);
		if (dl_rec_decode(recbuf, n, &rec, &rec_size, NULL))
			continue;
		FUZZ_CHECK(rec_size == n);

		/* Reference model. */
		if (rec.flags & DL_REC_FIRST) {
			m.active = !(rec.flags & DL_REC_LAST);
			m.id = rec.dgram_id;
			m.len = rec.dgram_len;
			m.have = rec.frag_len;
			expect = (rec.flags & DL_REC_LAST) != 0;
		} else if (m.active && m.id == rec.dgram_id && m.len == rec.dgram_len &&
			   m.have == rec.frag_offset) {
			m.have += rec.frag_len;
			if (rec.flags & DL_REC_LAST) {
				m.active = 0;
				expect = 1;
			}
		} else {
			m.active = 0;
		}

		dropped_before = r.dropped;
		got = dl_reasm_feed(&r, &rec, &out, &out_len);
		FUZZ_CHECK(got == 0 || got == 1);
		FUZZ_CHECK(got == expect);
		FUZZ_CHECK(r.dropped >= dropped_before);
		if (got == 1) {
			FUZZ_CHECK(out != NULL);
			FUZZ_CHECK(out_len == rec.dgram_len);
			FUZZ_CHECK(out_len >= 1 && out_len <= DL_DGRAM_MAX);
			for (uint32_t i = 0; i < out_len; i++)
				FUZZ_CHECK(out[i] == fuzz_pattern(rec.dgram_id, i));
		}
	}
	dl_reasm_free(&r);
	return 0;
}
