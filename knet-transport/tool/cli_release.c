/* `disklink release`: free the slot of a node that left the cluster,
 * unless that node still looks alive on the volume. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_util.h"
#include "dl_clock.h"

#define CMD "release"
/* A header of an active slot written less than this long ago means the
 * owner's daemon is probably running. */
#define RECENT_S 60u
#define INTERVAL_DEFAULT_S 3u

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: disklink release DEVICE --node-id ID [--force] [OPTIONS]\n"
		"\n"
		"Free the slot of node ID, a node that left the cluster for good.  Refused\n"
		"while the node looks alive: its slot is active and its header was written\n"
		"less than %u s ago, or its ring or header advances while disklink watches\n"
		"it for --interval seconds.\n"
		"\n"
		"  -n, --node-id ID       the node whose slot to free\n"
		"  -i, --interval S       how long to watch for writes (default %u s, 1..60)\n"
		"  -f, --force            release without these checks (the node is gone)\n"
		"  -c, --cluster NAME     fail unless the volume belongs to cluster NAME\n"
		"  -h, --help             this help\n"
		"\n"
		"Exit status: 0 released, 1 usage or I/O error, 2 no usable volume,\n"
		"6 refused (the node looks alive: stop its disklinkd, or use --force),\n"
		"7 no slot is owned by node ID.\n",
		RECENT_S, INTERVAL_DEFAULT_S);
}

struct watch {
	uint64_t hdr_seq;
	bool have_newest;
	uint64_t newest_seq;
};

static int look(struct dl_volume *v, uint32_t slot, struct watch *w, struct dl_slot_hdr *h)
{
	struct dl_cli_ring_stats scan;

	if (dl_volume_read_slot(v, slot, h, NULL))
		return -1;
	if (dl_cli_ring_scan(v, slot, &scan, NULL, NULL))
		return -1;
	w->hdr_seq = h->hdr_seq;
	w->have_newest = scan.newest.count > 0;
	w->newest_seq = scan.newest.seq;
	return 0;
}

/* DL_EXIT_OK when the node looks gone, else the status to return. */
static int node_alive(struct dl_volume *v, const char *dev, uint32_t node, uint32_t slot,
		      const struct dl_slot_hdr *h0, uint32_t interval)
{
	uint64_t now = dl_realtime_ns();
	struct timespec pause = { .tv_sec = (time_t)interval };
	struct watch before, after;
	struct dl_slot_hdr h;

	if (h0->state == DL_SLOT_ACTIVE &&
	    (h0->update_time_ns > now ||
	     now - h0->update_time_ns < (uint64_t)RECENT_S * 1000000000ull)) {
		char when[96];

		dl_cli_time(h0->update_time_ns, now, when, sizeof(when));
		dl_cli_err(CMD, "node %" PRIu32 " is active on %s (header written %s): its "
			   "disklinkd seems to be running; stop it, or use --force if the node "
			   "is gone", node, dev, when);
		return DL_EXIT_REFUSED;
	}
	if (look(v, slot, &before, &h))
		goto io_error;
	while (nanosleep(&pause, &pause) && errno == EINTR)
		;
	if (look(v, slot, &after, &h))
		goto io_error;
	if (after.hdr_seq != before.hdr_seq || h.node_id != node) {
		dl_cli_err(CMD, "node %" PRIu32 " rewrote its slot header on %s while disklink "
			   "watched it: its disklinkd is running; stop it, or use --force if the "
			   "node is gone", node, dev);
		return DL_EXIT_REFUSED;
	}
	if (after.have_newest && (!before.have_newest || after.newest_seq != before.newest_seq)) {
		dl_cli_err(CMD, "node %" PRIu32 " is still writing on %s (its ring advanced "
			   "from seq %" PRIu64 " to %" PRIu64 " in %" PRIu32 " s); stop its "
			   "disklinkd, or use --force if the node is gone", node, dev,
			   before.newest_seq, after.newest_seq, interval);
		return DL_EXIT_REFUSED;
	}
	return DL_EXIT_OK;
io_error:
	dl_cli_err(CMD, "%s: cannot read slot %" PRIu32 ": %s; check the device", dev, slot,
		   strerror(errno));
	return DL_EXIT_ERROR;
}

int dl_cmd_release(int argc, char **argv)
{
	static const struct option opts[] = {
		{ .name = "node-id", .has_arg = required_argument, .val = 'n' },
		{ .name = "interval", .has_arg = required_argument, .val = 'i' },
		{ .name = "force", .has_arg = no_argument, .val = 'f' },
		{ .name = "cluster", .has_arg = required_argument, .val = 'c' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	const char *dev, *cluster = NULL;
	uint32_t node = 0, slot, interval = INTERVAL_DEFAULT_S;
	struct dl_volume v;
	struct dl_slot_hdr h, check;
	bool force = false;
	int c, rc;

	while ((c = dl_cli_getopt(CMD, argc, argv, ":n:i:fc:h", opts, usage, &rc)) > 0) {
		switch (c) {
		case 'n':
			if (dl_cli_parse_u32(CMD, "--node-id", optarg, 1, DL_NODE_ID_MAX, &node))
				return DL_EXIT_ERROR;
			break;
		case 'i':
			if (dl_cli_parse_u32(CMD, "--interval", optarg, 1, 60, &interval))
				return DL_EXIT_ERROR;
			break;
		case 'f':
			force = true;
			break;
		case 'c':
			cluster = optarg;
			break;
		}
	}
	if (c < 0)
		return rc;
	if (dl_cli_one_device(CMD, argc, argv, optind, &dev))
		return DL_EXIT_ERROR;
	if (!node) {
		dl_cli_err(CMD, "no node given: give --node-id ID (the node that left)");
		return DL_EXIT_ERROR;
	}
	rc = dl_cli_open_volume(CMD, dev, true, cluster, &v);
	if (rc)
		return rc;
	if (dl_volume_find_node(&v, node, &slot, &h)) {
		dl_cli_err(CMD, "no slot of %s is owned by node %" PRIu32 "; 'disklink show' "
			   "lists the owners", dev, node);
		dl_volume_close(&v);
		return DL_EXIT_NOT_FOUND;
	}
	if (!force)
		rc = node_alive(&v, dev, node, slot, &h, interval);
	else if (h.state == DL_SLOT_ACTIVE)
		fprintf(stderr, "disklink release: node %" PRIu32 " is marked active: "
			"releasing anyway (--force)\n", node);
	if (rc == DL_EXIT_OK && dl_volume_release(&v, slot)) {
		dl_cli_err(CMD, "%s: cannot write the header of slot %" PRIu32 ": %s; check the "
			   "device", dev, slot, strerror(errno));
		rc = DL_EXIT_ERROR;
	}
	if (rc == DL_EXIT_OK &&
	    (dl_volume_read_slot(&v, slot, &check, NULL) || check.state != DL_SLOT_FREE)) {
		dl_cli_err(CMD, "%s: slot %" PRIu32 " does not read back as free (another "
			   "writer?); check with 'disklink show'", dev, slot);
		rc = DL_EXIT_ERROR;
	}
	dl_volume_close(&v);
	if (rc == DL_EXIT_OK)
		printf("Released slot %" PRIu32 " of node %" PRIu32 " (%s) on %s\n", slot, node,
		       h.node_name, dev);
	return rc;
}
