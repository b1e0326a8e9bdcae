/* `disklink show`: the superblock and every slot of a volume. */
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
#include "text.h"

#define CMD "show"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: disklink show DEVICE [--json|--shell] [--cluster NAME]\n"
		"\n"
		"Show a volume's superblock and every slot: owner node id and name,\n"
		"state, role, generation, last header write, last and newest sequence\n"
		"number, and the owner's acknowledgements of its peers' rings.\n"
		"\n"
		"  -j, --json           print JSON\n"
		"      --shell          show_KEY='value' lines, safe to eval (show_slotN_KEY\n"
		"                       for slot N)\n"
		"  -c, --cluster NAME   fail unless the volume belongs to cluster NAME\n"
		"  -h, --help           this help\n"
		"\n"
		"Exit status: 0 shown, 1 usage or I/O error, 2 no usable volume.\n");
}

struct slot_view {
	uint32_t slot;
	int rc;                      /* 0 header valid, -1 not */
	int err;                     /* errno when rc < 0 */
	enum dl_err why_a, why_b;
	struct dl_slot_hdr h;
	int scanned;                 /* ring read */
	struct dl_cli_ring_stats scan;
};

static void load_slot(struct dl_volume *v, uint32_t s, struct slot_view *sv)
{
	memset(sv, 0, sizeof(*sv));
	sv->slot = s;
	sv->rc = dl_volume_read_slot_copies(v, s, &sv->h, &sv->why_a, &sv->why_b);
	sv->err = errno;
	if (sv->rc == 0 && sv->h.state == DL_SLOT_FREE && sv->h.last_seq == 0)
		return;                  /* never used: nothing in the ring */
	sv->scanned = dl_cli_ring_scan(v, s, &sv->scan, NULL, NULL) == 0;
}

static void bad_reason(const struct slot_view *sv, char *buf, size_t len)
{
	if (sv->why_a == DL_OK && sv->why_b == DL_OK)
		snprintf(buf, len, "read error: %s", strerror(sv->err));
	else
		snprintf(buf, len, "copy A: %s; copy B: %s", dl_strerror(sv->why_a),
			 dl_strerror(sv->why_b));
}

static void text_sb(const char *dev, const struct dl_volume *v)
{
	const struct dl_sb *sb = &v->sb;
	char uuid[37], when[96];

	dl_uuid_format(sb->uuid, uuid);
	dl_cli_time(sb->format_time * 1000000000ull, dl_realtime_ns(), when, sizeof(when));
	printf("Volume %s\n", dev);
	printf("  uuid:            %s\n", uuid);
	printf("  cluster:         %s\n", sb->cluster_name);
	printf("  format version:  %" PRIu32 "\n", sb->version);
	printf("  kind:            %s\n", dl_cli_kind_name(sb->volume_kind));
	printf("  block size:      %" PRIu32 " (device sector size %" PRIu32 ")\n",
	       sb->block_size, v->bio.sector_size);
	printf("  slots:           %" PRIu32 "\n", sb->slot_count);
	printf("  ring blocks:     %" PRIu32 "\n", sb->ring_blocks);
	printf("  bytes used:      %" PRIu64 " of %" PRIu64 "\n", sb->volume_bytes,
	       v->bio.size);
	printf("  formatted:       %s\n", when);
}

static void text_slot(const struct slot_view *sv, uint64_t now)
{
	const struct dl_slot_hdr *h = &sv->h;
	char when[96], reason[192];

	if (sv->rc) {
		bad_reason(sv, reason, sizeof(reason));
		printf("Slot %" PRIu32 ": INVALID header (%s)\n", sv->slot, reason);
		return;
	}
	if (h->state == DL_SLOT_FREE) {
		printf("Slot %" PRIu32 ": free", sv->slot);
		if (h->last_seq || h->generation)
			printf(" (previously used: generation %" PRIu64 ", last seq %" PRIu64 ")",
			       h->generation, h->last_seq);
		printf("\n");
	} else {
		dl_cli_time(h->update_time_ns, now, when, sizeof(when));
		printf("Slot %" PRIu32 ": node %" PRIu32 " (%s)\n", sv->slot, h->node_id,
		       h->node_name[0] ? h->node_name : "no name");
		printf("  state:           %s\n", dl_slot_state_name(h->state));
		printf("  role:            %s\n", dl_role_name(h->role));
		printf("  generation:      %" PRIu64 "\n", h->generation);
		printf("  last write:      %s\n", when);
		printf("  last seq:        %" PRIu64 "\n", h->last_seq);
		printf("  acknowledges:   ");
		if (!h->ack_count)
			printf(" none");
		for (uint32_t i = 0; i < h->ack_count; i++)
			printf(" node %" PRIu32 " seq %" PRIu64 "%s", h->acks[i].node_id,
			       h->acks[i].seq, i + 1 < h->ack_count ? "," : "");
		printf("\n");
	}
	if (sv->why_a != DL_OK || sv->why_b != DL_OK)
		printf("  header copy %s invalid: %s (the other copy is used)\n",
		       sv->why_a != DL_OK ? "A" : "B",
		       dl_strerror(sv->why_a != DL_OK ? sv->why_a : sv->why_b));
	if (!sv->scanned)
		return;
	if (sv->scan.newest.count > 0) {
		dl_cli_time(sv->scan.newest.write_time_ns, now, when, sizeof(when));
		printf("  newest block:    seq %" PRIu64 " (index %" PRIu32 ", generation %"
		       PRIu64 ", node %" PRIu32 ") written %s\n", sv->scan.newest.seq,
		       sv->scan.newest.index, sv->scan.newest.generation,
		       sv->scan.newest.node_id, when);
	} else if (h->state != DL_SLOT_FREE) {
		printf("  newest block:    none (the ring is empty)\n");
	}
}

static void json_sb(struct dl_json *j, const char *dev, const struct dl_volume *v)
{
	const struct dl_sb *sb = &v->sb;
	char uuid[37];

	dl_uuid_format(sb->uuid, uuid);
	dl_json_obj(j, NULL);
	dl_json_u64(j, "format_version", DL_JSON_FORMAT_VERSION);
	dl_json_string(j, "device", dev);
	dl_json_string(j, "uuid", uuid);
	dl_json_string(j, "cluster", sb->cluster_name);
	dl_json_u64(j, "version", sb->version);
	dl_json_string(j, "kind", dl_cli_kind_name(sb->volume_kind));
	dl_json_u64(j, "block_size", sb->block_size);
	dl_json_u64(j, "sector_size", v->bio.sector_size);
	dl_json_u64(j, "slot_count", sb->slot_count);
	dl_json_u64(j, "ring_blocks", sb->ring_blocks);
	dl_json_u64(j, "volume_bytes", sb->volume_bytes);
	dl_json_u64(j, "device_bytes", v->bio.size);
	dl_json_u64(j, "format_time", sb->format_time);
	dl_json_arr(j, "slots");
}

static void json_slot(struct dl_json *j, const struct slot_view *sv, uint64_t now)
{
	const struct dl_slot_hdr *h = &sv->h;
	char reason[192];

	dl_json_obj(j, NULL);
	dl_json_u64(j, "slot", sv->slot);
	dl_json_bool(j, "valid", !sv->rc);
	if (sv->rc) {
		bad_reason(sv, reason, sizeof(reason));
		dl_json_string(j, "error", reason);
		dl_json_end(j, '}');
		return;
	}
	dl_json_string(j, "state", dl_slot_state_name(h->state));
	dl_json_u64(j, "node_id", h->node_id);
	dl_json_string(j, "node_name", h->node_name);
	dl_json_string(j, "role", dl_role_name(h->role));
	dl_json_u64(j, "generation", h->generation);
	dl_json_u64(j, "last_seq", h->last_seq);
	dl_json_u64(j, "update_time_ns", h->update_time_ns);
	if (h->update_time_ns)
		dl_json_fixed(j, "age_s", ((double)now - (double)h->update_time_ns) / 1e9, 3);
	dl_json_arr(j, "acks");
	for (uint32_t i = 0; i < h->ack_count; i++) {
		dl_json_obj(j, NULL);
		dl_json_u64(j, "node_id", h->acks[i].node_id);
		dl_json_u64(j, "seq", h->acks[i].seq);
		dl_json_end(j, '}');
	}
	dl_json_end(j, ']');
	if (sv->why_a != DL_OK || sv->why_b != DL_OK)
		dl_json_string(j, "copy_error",
			       dl_strerror(sv->why_a != DL_OK ? sv->why_a : sv->why_b));
	if (sv->scanned && sv->scan.newest.count > 0) {
		dl_json_u64(j, "newest_seq", sv->scan.newest.seq);
		dl_json_u64(j, "newest_index", sv->scan.newest.index);
		dl_json_u64(j, "newest_generation", sv->scan.newest.generation);
		dl_json_u64(j, "newest_write_time_ns", sv->scan.newest.write_time_ns);
	}
	dl_json_end(j, '}');
}

/* --shell: a few keys of the JSON as show_KEY='value' lines (the
 * resource agent reads them; doc/disklink.8). */
static void shell_sb(const char *dev, const struct dl_volume *v)
{
	char uuid[37];

	dl_uuid_format(v->sb.uuid, uuid);
	printf("show_format_version='%d'\nshow_device=", DL_JSON_FORMAT_VERSION);
	dl_sh_str(stdout, dev);
	printf("\nshow_uuid='%s'\nshow_cluster=", uuid);
	dl_sh_str(stdout, v->sb.cluster_name);
	printf("\nshow_slot_count='%" PRIu32 "'\n", v->sb.slot_count);
}

static void shell_slot(const struct slot_view *sv, uint64_t now)
{
	const struct dl_slot_hdr *h = &sv->h;
	uint32_t s = sv->slot;

	printf("show_slot%" PRIu32 "_valid='%s'\n", s, sv->rc ? "false" : "true");
	if (sv->rc)
		return;
	printf("show_slot%" PRIu32 "_state='%s'\nshow_slot%" PRIu32 "_node_id='%" PRIu32
	       "'\nshow_slot%" PRIu32 "_node_name=", s, dl_slot_state_name(h->state), s,
	       h->node_id, s);
	dl_sh_str(stdout, h->node_name);
	printf("\nshow_slot%" PRIu32 "_role='%s'\nshow_slot%" PRIu32 "_age_s='", s,
	       dl_role_name(h->role), s);
	if (h->update_time_ns)
		printf("%.3f", ((double)now - (double)h->update_time_ns) / 1e9);
	printf("'\n");
}

int dl_cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ .name = "json", .has_arg = no_argument, .val = 'j' },
		{ .name = "shell", .has_arg = no_argument, .val = 'S' },
		{ .name = "cluster", .has_arg = required_argument, .val = 'c' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	const char *dev, *cluster = NULL;
	struct dl_volume v;
	struct dl_json j;
	bool json = false, shell = false;
	uint64_t now;
	int c, rc;

	while ((c = dl_cli_getopt(CMD, argc, argv, ":jc:h", opts, usage, &rc)) > 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'S':
			shell = true;
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
	rc = dl_cli_open_volume(CMD, dev, false, cluster, &v);
	if (rc)
		return rc;
	now = dl_realtime_ns();
	if (shell) {
		json = false;
		shell_sb(dev, &v);
	} else if (json) {
		dl_json_init(&j, stdout);
		json_sb(&j, dev, &v);
	} else {
		text_sb(dev, &v);
	}
	for (uint32_t s = 0; s < v.sb.slot_count; s++) {
		struct slot_view sv;

		load_slot(&v, s, &sv);
		if (shell) {
			shell_slot(&sv, now);
		} else if (json) {
			json_slot(&j, &sv, now);
		} else {
			text_slot(&sv, now);
		}
	}
	if (json) {
		dl_json_end(&j, ']');
		dl_json_end(&j, '}');
		putchar('\n');
	}
	dl_volume_close(&v);
	if (dl_cli_flush_output(CMD))
		return DL_EXIT_ERROR;
	return DL_EXIT_OK;
}
