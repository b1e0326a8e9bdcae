/* Reading the head area for the tool: one slot's head, classified. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"

const char *dl_cli_head_class_name(enum dl_head_class c)
{
	switch (c) {
	case DL_HEAD_VALID:
		return "valid";
	case DL_HEAD_EMPTY:
		return "empty";
	case DL_HEAD_TORN:
		return "torn";
	case DL_HEAD_INVALID:
		return "invalid";
	case DL_HEAD_FOREIGN:
		return "foreign";
	}
	return "unknown";
}

static enum dl_head_class classify(const struct dl_volume *v, uint32_t slot,
				   const uint8_t *buf, struct dl_head *h, enum dl_err *why)
{
	if (dl_head_decode(buf, v->sb.head_bytes, h, why)) {
		if (*why == DL_E_EMPTY)
			return DL_HEAD_EMPTY;
		if (*why == DL_E_CRC)
			return DL_HEAD_TORN;
		return DL_HEAD_INVALID;
	}
	*why = DL_OK;
	if (h->slot_index != slot || memcmp(h->volume_uuid8, v->sb.uuid, 8)) {
		*why = h->slot_index != slot ? DL_E_SLOT_INDEX : DL_E_UUID;
		return DL_HEAD_FOREIGN;
	}
	return DL_HEAD_VALID;
}

int dl_cli_read_head(struct dl_volume *v, uint32_t slot, struct dl_cli_head *out)
{
	memset(out, 0, sizeof(*out));
	out->buf = dl_bio_alloc(v->sb.head_bytes);
	if (!out->buf)
		return -1;
	if (dl_bio_read(&v->bio, out->buf, v->sb.head_bytes, dl_sb_head_offset(&v->sb, slot))) {
		int err = errno;

		dl_cli_head_free(out);
		errno = err;
		return -1;
	}
	out->cls = classify(v, slot, out->buf, &out->h, &out->why);
	return 0;
}

void dl_cli_head_free(struct dl_cli_head *hd)
{
	free(hd->buf);
	hd->buf = NULL;
}

void dl_cli_head_text(const struct dl_cli_head *hd, char *buf, size_t len)
{
	const struct dl_head *h = &hd->h;

	if (hd->cls == DL_HEAD_EMPTY) {
		snprintf(buf, len, "empty");
		return;
	}
	if (hd->cls != DL_HEAD_VALID) {
		snprintf(buf, len, "%s (%s)", dl_cli_head_class_name(hd->cls),
			 dl_strerror(hd->why));
		return;
	}
	if (h->inline_count)
		snprintf(buf, len, "node %" PRIu32 " generation %" PRIu64 " seq %" PRIu64
			 ", %" PRIu32 " inline (seq %" PRIu64 "..%" PRIu64 ")", h->node_id,
			 h->generation, h->seq, h->inline_count, h->inline_seq, h->seq);
	else
		snprintf(buf, len, "node %" PRIu32 " generation %" PRIu64 " seq %" PRIu64
			 ", none inline", h->node_id, h->generation, h->seq);
}
