/* `disklink dump`: the blocks of one slot's ring, for debugging. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "dl_clock.h"
#include "json.h"
#include "le.h"

#define CMD "dump"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: disklink dump DEVICE (--slot N | --node-id ID) [OPTIONS]\n"
		"\n"
		"Print the blocks of one slot's ring: index, sequence number, generation,\n"
		"writer, write time and records (flags, datagram id, lengths,\n"
		"destinations); torn and invalid blocks with the reason; the slot's head\n"
		"in the head area (its sequence, generation and inline blocks).\n"
		"\n"
		"  -s, --slot N         the slot to dump (0-based, as 'disklink show' numbers)\n"
		"  -n, --node-id ID     the slot owned by node ID\n"
		"  -a, --all            also list empty (never written) blocks\n"
		"  -j, --json           print JSON\n"
		"  -c, --cluster NAME   fail unless the volume belongs to cluster NAME\n"
		"  -h, --help           this help\n"
		"\n"
		"Exit status: 0 dumped, 1 usage or I/O error, 2 no usable volume,\n"
		"7 no slot is owned by node ID.\n");
}

struct dump_ctx {
	const struct dl_volume *v;
	bool json;
	bool all;
	struct dl_json j;            /* with json */
	uint64_t now;
};

static const char *flag_text(uint8_t flags)
{
	switch (flags & (DL_REC_FIRST | DL_REC_LAST)) {
	case DL_REC_FIRST | DL_REC_LAST:
		return "FIRST|LAST";
	case DL_REC_FIRST:
		return "FIRST";
	case DL_REC_LAST:
		return "LAST";
	default:
		return "MIDDLE";
	}
}

static void print_dsts(const struct dl_rec *rec)
{
	for (uint32_t i = 0; i < rec->dst_count; i++)
		printf("%s%u", i ? "," : "", (unsigned)dl_get16(rec->dst + 2 * i));
	if (!rec->dst_count)
		printf("-");
}

static void text_records(const struct dl_block *blk)
{
	struct dl_rec rec;
	uint32_t off = 0, k = 0;
	enum dl_err why = DL_OK;
	int r;

	while ((r = dl_rec_next(blk, &off, &rec, &why)) == 1) {
		printf("      rec %" PRIu32 ": %-10s dgram %" PRIu32 " len %" PRIu32
		       " frag %" PRIu32 "+%" PRIu32 " dst ", k++, flag_text(rec.flags),
		       rec.dgram_id, rec.dgram_len, rec.frag_offset, rec.frag_len);
		print_dsts(&rec);
		printf("\n");
	}
	if (r < 0)
		printf("      bad record: %s\n", dl_strerror(why));
}

static void json_records(struct dl_json *j, const struct dl_block *blk)
{
	struct dl_rec rec;
	uint32_t off = 0;
	enum dl_err why = DL_OK;

	dl_json_arr(j, "records");
	while (dl_rec_next(blk, &off, &rec, &why) == 1) {
		dl_json_obj(j, NULL);
		dl_json_string(j, "flags", flag_text(rec.flags));
		dl_json_u64(j, "dgram_id", rec.dgram_id);
		dl_json_u64(j, "dgram_len", rec.dgram_len);
		dl_json_u64(j, "frag_offset", rec.frag_offset);
		dl_json_u64(j, "frag_len", rec.frag_len);
		dl_json_arr(j, "dst");
		for (uint32_t i = 0; i < rec.dst_count; i++)
			dl_json_u64(j, NULL, dl_get16(rec.dst + 2 * i));
		dl_json_end(j, ']');
		dl_json_end(j, '}');
	}
	dl_json_end(j, ']');
}

static void json_block(struct dl_json *j, uint32_t index, enum dl_blk_class cls,
		       const struct dl_block *blk, enum dl_err why)
{
	dl_json_obj(j, NULL);
	dl_json_u64(j, "index", index);
	dl_json_string(j, "class", dl_cli_blk_class_name(cls));
	if (why != DL_OK)
		dl_json_string(j, "reason", dl_strerror(why));
	if (blk) {
		dl_json_u64(j, "seq", blk->seq);
		dl_json_u64(j, "generation", blk->generation);
		dl_json_u64(j, "node_id", blk->node_id);
		dl_json_u64(j, "slot", blk->slot_index);
		dl_json_u64(j, "write_time_ns", blk->write_time_ns);
		dl_json_u64(j, "payload_len", blk->payload_len);
		json_records(j, blk);
	}
	dl_json_end(j, '}');
}

static int dump_block(void *arg, uint32_t index, enum dl_blk_class cls,
		      const struct dl_block *blk, enum dl_err why)
{
	struct dump_ctx *d = arg;
	char when[96];

	if (cls == DL_BLK_EMPTY && !d->all)
		return 0;
	if (d->json) {
		json_block(&d->j, index, cls, blk, why);
		return 0;
	}
	if (!blk) {
		printf("%6" PRIu32 "  %-9s %s\n", index, dl_cli_blk_class_name(cls),
		       dl_strerror(why));
		return 0;
	}
	dl_cli_time(blk->write_time_ns, d->now, when, sizeof(when));
	printf("%6" PRIu32 "  %-9s seq %" PRIu64 " gen %" PRIu64 " node %" PRIu32
	       " written %s, %" PRIu32 " records, %" PRIu32 " payload bytes", index,
	       dl_cli_blk_class_name(cls), blk->seq, blk->generation, blk->node_id, when,
	       blk->rec_count, blk->payload_len);
	if (cls == DL_BLK_MISPLACED)
		printf(" (seq %% %" PRIu32 " = %" PRIu64 ", not its index)",
		       d->v->sb.ring_blocks, blk->seq % d->v->sb.ring_blocks);
	else if (cls == DL_BLK_FOREIGN)
		printf(" (%s)", why == DL_E_SLOT_INDEX ? "written for another slot" :
		       "written for another volume");
	printf("\n");
	text_records(blk);
	return 0;
}

/* Resolve --slot / --node-id into a slot index. */
static int pick_slot(struct dl_volume *v, bool by_node, uint32_t id, uint32_t *slot,
		     struct dl_slot_hdr *h, bool *hdr_ok)
{
	if (by_node) {
		if (dl_volume_find_node(v, id, slot, h)) {
			dl_cli_err(CMD, "no slot of this volume is owned by node %" PRIu32
				   "; 'disklink show' lists the owners", id);
			return DL_EXIT_NOT_FOUND;
		}
		*hdr_ok = true;
		return DL_EXIT_OK;
	}
	if (id >= v->sb.slot_count) {
		dl_cli_err(CMD, "--slot %" PRIu32 " does not exist: the volume has slots 0 to %"
			   PRIu32, id, v->sb.slot_count - 1);
		return DL_EXIT_ERROR;
	}
	*slot = id;
	*hdr_ok = dl_volume_read_slot(v, id, h, NULL) == 0;
	return DL_EXIT_OK;
}

/* The command line of `disklink dump`. */
struct dump_args {
	const char *dev;
	const char *cluster;
	uint32_t id;                 /* slot index or node id */
	bool by_node;
	bool all;
	bool json;
};

/* Parse the command line: DL_EXIT_OK, -1 after --help, or the exit status. */
static int parse_args(int argc, char **argv, struct dump_args *a)
{
	static const struct option opts[] = {
		{ .name = "slot", .has_arg = required_argument, .val = 's' },
		{ .name = "node-id", .has_arg = required_argument, .val = 'n' },
		{ .name = "all", .has_arg = no_argument, .val = 'a' },
		{ .name = "json", .has_arg = no_argument, .val = 'j' },
		{ .name = "cluster", .has_arg = required_argument, .val = 'c' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	bool have_slot = false;
	int c, rc;

	while ((c = dl_cli_getopt(CMD, argc, argv, ":s:n:ajc:h", opts, usage, &rc)) > 0) {
		switch (c) {
		case 's':
			if (dl_cli_parse_u32(CMD, "--slot", optarg, 0, DL_SLOTS_MAX - 1, &a->id))
				return DL_EXIT_ERROR;
			have_slot = true;
			break;
		case 'n':
			if (dl_cli_parse_u32(CMD, "--node-id", optarg, 1, DL_NODE_ID_MAX, &a->id))
				return DL_EXIT_ERROR;
			a->by_node = true;
			break;
		case 'a':
			a->all = true;
			break;
		case 'j':
			a->json = true;
			break;
		case 'c':
			a->cluster = optarg;
			break;
		}
	}
	if (c < 0)
		return rc == DL_EXIT_OK ? -1 : rc;
	if (dl_cli_one_device(CMD, argc, argv, optind, &a->dev))
		return DL_EXIT_ERROR;
	if (have_slot == a->by_node) {
		dl_cli_err(CMD, "give exactly one of --slot N and --node-id ID");
		return DL_EXIT_ERROR;
	}
	return DL_EXIT_OK;
}

/* The slot's head in the head area, as a JSON object. */
static void json_slot_head(struct dl_json *j, const struct dl_cli_head *hd)
{
	dl_json_obj(j, "head");
	dl_json_string(j, "class", dl_cli_head_class_name(hd->cls));
	if (hd->cls == DL_HEAD_VALID) {
		dl_json_u64(j, "node_id", hd->h.node_id);
		dl_json_u64(j, "generation", hd->h.generation);
		dl_json_u64(j, "seq", hd->h.seq);
		dl_json_u64(j, "gen_blocks", hd->h.gen_blocks);
		dl_json_u64(j, "inline_seq", hd->h.inline_seq);
		dl_json_u64(j, "inline_count", hd->h.inline_count);
		dl_json_u64(j, "write_time_ns", hd->h.write_time_ns);
	} else if (hd->cls != DL_HEAD_EMPTY) {
		dl_json_string(j, "error", dl_strerror(hd->why));
	}
	dl_json_end(j, '}');
}

/* What comes before the blocks: the slot, its owner, the ring's shape,
 * the slot's head. */
static void print_head(const struct dump_args *a, struct dl_json *j,
		       const struct dl_volume *v, uint32_t slot, const struct dl_slot_hdr *h,
		       bool hdr_ok, const struct dl_cli_head *hd)
{
	char text[160];

	if (a->json) {
		dl_json_obj(j, NULL);
		dl_json_u64(j, "format_version", DL_JSON_FORMAT_VERSION);
		dl_json_string(j, "device", a->dev);
		dl_json_u64(j, "slot", slot);
		dl_json_u64(j, "block_size", v->sb.block_size);
		dl_json_u64(j, "ring_blocks", v->sb.ring_blocks);
		if (hdr_ok) {
			dl_json_u64(j, "node_id", h->node_id);
			dl_json_string(j, "state", dl_slot_state_name(h->state));
		}
		json_slot_head(j, hd);
		dl_json_arr(j, "blocks");
		return;
	}
	printf("Slot %" PRIu32 " of %s: ", slot, a->dev);
	if (!hdr_ok)
		printf("header invalid");
	else if (h->state == DL_SLOT_FREE)
		printf("free");
	else
		printf("node %" PRIu32 " (%s), %s", h->node_id, h->node_name,
		       dl_slot_state_name(h->state));
	printf("; ring of %" PRIu32 " blocks of %" PRIu32 " bytes\n",
	       v->sb.ring_blocks, v->sb.block_size);
	dl_cli_head_text(hd, text, sizeof(text));
	printf("Head: %s\n", text);
}

/* What comes after the blocks: how many of each class. */
static void print_counts(struct dump_ctx *d, const struct dl_cli_ring_stats *scan)
{
	if (d->json) {
		dl_json_end(&d->j, ']');
		dl_json_obj(&d->j, "counts");
		for (int c = DL_BLK_VALID; c <= DL_BLK_FOREIGN; c++)
			dl_json_u64(&d->j, dl_cli_blk_class_name((enum dl_blk_class)c),
				    scan->count[c]);
		dl_json_end(&d->j, '}');
		dl_json_end(&d->j, '}');
		putchar('\n');
	} else {
		printf("Blocks: %" PRIu32 " valid, %" PRIu32 " empty, %" PRIu32 " torn, %"
		       PRIu32 " invalid, %" PRIu32 " misplaced, %" PRIu32 " foreign\n",
		       scan->count[DL_BLK_VALID], scan->count[DL_BLK_EMPTY],
		       scan->count[DL_BLK_TORN], scan->count[DL_BLK_INVALID],
		       scan->count[DL_BLK_MISPLACED], scan->count[DL_BLK_FOREIGN]);
	}
}

int dl_cmd_dump(int argc, char **argv)
{
	struct dump_args a = { .dev = NULL };
	struct dump_ctx d = { .json = false };
	struct dl_volume v;
	struct dl_slot_hdr h;
	struct dl_cli_ring_stats scan;
	struct dl_cli_head hd;
	uint32_t slot = 0;
	bool hdr_ok = false;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? DL_EXIT_OK : rc;
	rc = dl_cli_open_volume(CMD, a.dev, false, a.cluster, &v);
	if (rc)
		return rc;
	rc = pick_slot(&v, a.by_node, a.id, &slot, &h, &hdr_ok);
	if (rc) {
		dl_volume_close(&v);
		return rc;
	}
	if (dl_cli_read_head(&v, slot, &hd)) {
		dl_cli_err(CMD, "%s: cannot read the head of slot %" PRIu32 ": %s; check the "
			   "device", a.dev, slot, strerror(errno));
		dl_volume_close(&v);
		return DL_EXIT_ERROR;
	}
	d.v = &v;
	d.json = a.json;
	d.all = a.all;
	d.now = dl_realtime_ns();
	dl_json_init(&d.j, stdout);
	print_head(&a, &d.j, &v, slot, &h, hdr_ok, &hd);
	dl_cli_head_free(&hd);
	if (dl_cli_ring_scan(&v, slot, &scan, dump_block, &d)) {
		int err = errno;

		if (d.json) {
			dl_json_end(&d.j, ']');
			dl_json_end(&d.j, '}');
			putchar('\n');
		}
		fflush(stdout);
		dl_cli_err(CMD, "%s: cannot read the ring of slot %" PRIu32 ": %s; check the "
			   "device", a.dev, slot, strerror(err));
		dl_volume_close(&v);
		return DL_EXIT_ERROR;
	}
	print_counts(&d, &scan);
	dl_volume_close(&v);
	if (dl_cli_flush_output(CMD))
		return DL_EXIT_ERROR;
	return DL_EXIT_OK;
}
