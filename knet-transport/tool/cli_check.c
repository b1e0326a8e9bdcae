/* `disklink check`: validate a whole volume and say what is wrong in the
 * exit status. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"

#define CMD "check"
#define MAX_LISTED 10u               /* bad blocks listed per slot */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: disklink check DEVICE [--cluster NAME] [--quiet]\n"
		"\n"
		"Validate a volume: the superblock, both copies of every slot header,\n"
		"every ring block (valid, empty, torn, invalid, misplaced), every head of\n"
		"the head area (valid, empty, torn, invalid, foreign), and that no\n"
		"node id owns two slots.  Reads only.\n"
		"\n"
		"  -c, --cluster NAME   fail unless the volume belongs to cluster NAME\n"
		"  -q, --quiet          print problems only\n"
		"  -h, --help           this help\n"
		"\n"
		"Exit status (the lowest that applies when several do):\n"
		"  0  the volume is consistent\n"
		"  1  usage error, or the device cannot be opened or read\n"
		"  2  not a disklink volume, or its superblock is unusable\n"
		"  3  slot header problems (a copy or both copies invalid)\n"
		"  4  ring problems (torn, corrupt, misplaced or foreign blocks or heads)\n"
		"  5  one node id owns several slots\n");
}

/* What the owner check needs of each slot. */
struct owner {
	bool     valid;
	uint32_t node_id;              /* 0 when free */
};

struct check_ctx {
	const char *dev;
	uint32_t slot;
	uint32_t listed;
	bool quiet;
};

static int note_block(void *arg, uint32_t index, enum dl_blk_class cls,
		      const struct dl_block *blk, enum dl_err why)
{
	struct check_ctx *c = arg;

	if (cls == DL_BLK_VALID || cls == DL_BLK_EMPTY)
		return 0;
	if (c->listed++ >= MAX_LISTED)
		return 0;
	if (blk)
		printf("slot %" PRIu32 " block %" PRIu32 ": %s: seq %" PRIu64 " (%s)\n", c->slot,
		       index, dl_cli_blk_class_name(cls), blk->seq, dl_strerror(why));
	else
		printf("slot %" PRIu32 " block %" PRIu32 ": %s: %s\n", c->slot, index,
		       dl_cli_blk_class_name(cls), dl_strerror(why));
	return 0;
}

static void worst(int *rc, int code)
{
	if (code != DL_EXIT_OK && (*rc == DL_EXIT_OK || code < *rc))
		*rc = code;
}

/* Header copies of one slot; returns the exit code it implies, or
 * DL_EXIT_ERROR on a read error. */
static int check_header(struct dl_volume *v, struct check_ctx *c, struct dl_slot_hdr *h,
			bool *valid)
{
	enum dl_err wa, wb;
	int r;

	r = dl_volume_read_slot_copies(v, c->slot, h, &wa, &wb);
	*valid = r == 0;
	if (r && wa == DL_OK && wb == DL_OK) {
		dl_cli_err(CMD, "%s: cannot read the header of slot %" PRIu32 ": %s; check the "
			   "device", c->dev, c->slot, strerror(errno));
		return DL_EXIT_ERROR;
	}
	if (r) {
		printf("slot %" PRIu32 ": header INVALID: copy A: %s; copy B: %s\n", c->slot,
		       dl_strerror(wa), dl_strerror(wb));
		return DL_EXIT_SLOT;
	}
	if (wa != DL_OK || wb != DL_OK) {
		printf("slot %" PRIu32 ": header copy %s invalid: %s (copy %s is used)\n",
		       c->slot, wa != DL_OK ? "A" : "B", dl_strerror(wa != DL_OK ? wa : wb),
		       wa != DL_OK ? "B" : "A");
		return DL_EXIT_SLOT;
	}
	return DL_EXIT_OK;
}

/* The slot's head in the head area: a hint, but one that decodes or is
 * empty; a torn, invalid or foreign head counts as a ring problem. */
static int check_head(struct dl_volume *v, struct check_ctx *c)
{
	struct dl_cli_head hd;
	char text[160];
	bool bad;

	if (dl_cli_read_head(v, c->slot, &hd)) {
		dl_cli_err(CMD, "%s: cannot read the head of slot %" PRIu32 ": %s; check the "
			   "device", c->dev, c->slot, strerror(errno));
		return DL_EXIT_ERROR;
	}
	bad = hd.cls != DL_HEAD_VALID && hd.cls != DL_HEAD_EMPTY;
	dl_cli_head_text(&hd, text, sizeof(text));
	dl_cli_head_free(&hd);
	if (!c->quiet || bad)
		printf("slot %" PRIu32 " head: %s\n", c->slot, text);
	return bad ? DL_EXIT_RING : DL_EXIT_OK;
}

static int check_slot(struct dl_volume *v, struct check_ctx *c, struct owner *o)
{
	struct dl_slot_hdr hdr, *h = &hdr;
	bool ok = false, *valid = &ok;
	struct dl_cli_ring_stats scan;
	uint32_t bad;
	int rc = DL_EXIT_OK, r;

	r = check_header(v, c, h, valid);
	if (r == DL_EXIT_ERROR)
		return r;
	o->valid = ok;
	o->node_id = ok && h->state != DL_SLOT_FREE ? h->node_id : 0;
	worst(&rc, r);
	c->listed = 0;
	if (dl_cli_ring_scan(v, c->slot, &scan, note_block, c)) {
		dl_cli_err(CMD, "%s: cannot read the ring of slot %" PRIu32 ": %s; check the "
			   "device", c->dev, c->slot, strerror(errno));
		return DL_EXIT_ERROR;
	}
	bad = scan.count[DL_BLK_TORN] + scan.count[DL_BLK_INVALID] +
	      scan.count[DL_BLK_MISPLACED] + scan.count[DL_BLK_FOREIGN];
	if (c->listed > MAX_LISTED)
		printf("slot %" PRIu32 ": ... and %" PRIu32 " more bad blocks\n", c->slot,
		       c->listed - MAX_LISTED);
	if (bad)
		worst(&rc, DL_EXIT_RING);
	if (!c->quiet || bad) {
		printf("slot %" PRIu32 ": ", c->slot);
		if (!*valid)
			printf("header invalid");
		else if (h->state == DL_SLOT_FREE)
			printf("free");
		else
			printf("node %" PRIu32 " (%s) %s", h->node_id, h->node_name,
			       dl_slot_state_name(h->state));
		printf("; ring: %" PRIu32 " valid, %" PRIu32 " empty, %" PRIu32 " torn, %"
		       PRIu32 " invalid, %" PRIu32 " misplaced, %" PRIu32 " foreign",
		       scan.count[DL_BLK_VALID], scan.count[DL_BLK_EMPTY],
		       scan.count[DL_BLK_TORN], scan.count[DL_BLK_INVALID],
		       scan.count[DL_BLK_MISPLACED], scan.count[DL_BLK_FOREIGN]);
		if (scan.newest.count > 0)
			printf("; newest seq %" PRIu64, scan.newest.seq);
		printf("\n");
	}
	r = check_head(v, c);
	if (r == DL_EXIT_ERROR)
		return r;
	worst(&rc, r);
	return rc;
}

/* Node ids that own several slots. */
static int check_owners(const struct owner *o, uint32_t n)
{
	int rc = DL_EXIT_OK;

	for (uint32_t i = 0; i < n; i++) {
		if (!o[i].valid || !o[i].node_id)
			continue;
		for (uint32_t j = i + 1; j < n; j++) {
			if (!o[j].valid || o[j].node_id != o[i].node_id)
				continue;
			printf("node %" PRIu32 " owns slots %" PRIu32 " and %" PRIu32
			       ": release one ('disklink release' frees a node's slot)\n",
			       o[i].node_id, i, j);
			rc = DL_EXIT_DUP;
		}
	}
	return rc;
}

static const char *verdict(int rc)
{
	switch (rc) {
	case DL_EXIT_OK:
		return "the volume is consistent";
	case DL_EXIT_SLOT:
		return "slot header problems";
	case DL_EXIT_RING:
		return "ring problems (torn, corrupt or misplaced blocks)";
	case DL_EXIT_DUP:
		return "a node owns several slots";
	default:
		return "errors";
	}
}

int dl_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ .name = "cluster", .has_arg = required_argument, .val = 'c' },
		{ .name = "quiet", .has_arg = no_argument, .val = 'q' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	struct owner owners[DL_SLOTS_MAX];
	struct check_ctx ctx = { .quiet = false };
	const char *cluster = NULL;
	struct dl_volume v;
	char uuid[37];
	int c, rc;

	while ((c = dl_cli_getopt(CMD, argc, argv, ":c:qh", opts, usage, &rc)) > 0) {
		switch (c) {
		case 'c':
			cluster = optarg;
			break;
		case 'q':
			ctx.quiet = true;
			break;
		}
	}
	if (c < 0)
		return rc;
	if (dl_cli_one_device(CMD, argc, argv, optind, &ctx.dev))
		return DL_EXIT_ERROR;
	rc = dl_cli_open_volume(CMD, ctx.dev, false, cluster, &v);
	if (rc)
		return rc;
	dl_uuid_format(v.sb.uuid, uuid);
	if (!ctx.quiet)
		printf("superblock: ok: uuid %s, cluster '%s', %" PRIu32 " slots of %" PRIu32
		       " blocks of %" PRIu32 " bytes\n", uuid, v.sb.cluster_name,
		       v.sb.slot_count, v.sb.ring_blocks, v.sb.block_size);
	for (ctx.slot = 0; ctx.slot < v.sb.slot_count; ctx.slot++) {
		int r = check_slot(&v, &ctx, &owners[ctx.slot]);

		if (r == DL_EXIT_ERROR) {
			dl_volume_close(&v);
			return r;
		}
		worst(&rc, r);
	}
	worst(&rc, check_owners(owners, v.sb.slot_count));
	dl_volume_close(&v);
	if (!ctx.quiet || rc)
		printf("%s: %s (exit status %d)\n", ctx.dev, verdict(rc), rc);
	fflush(stdout);
	return rc;
}
