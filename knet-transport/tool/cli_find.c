/* `disklink find`: the block devices of this host that hold volumes. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "json.h"
#include "volume_find.h"

#define CMD "find"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: disklink find [--cluster NAME] [--uuid UUID] [--json]\n"
		"\n"
		"List the block devices of this host that hold disklink volumes (each is\n"
		"opened read-only with O_DIRECT; devices that cannot be opened are\n"
		"skipped).  A device marked 'held' is a component of another device (a\n"
		"path under multipath, an md member): use the device that holds it.\n"
		"\n"
		"  -c, --cluster NAME   only volumes of cluster NAME\n"
		"  -u, --uuid UUID      only the volume with this uuid\n"
		"  -j, --json           print JSON\n"
		"  -h, --help           this help\n"
		"\n"
		"Exit status: 0 found, 1 usage error or /sys unreadable, 7 no volume\n"
		"matched.\n");
}

struct find_ctx {
	const char *cluster;
	const uint8_t *uuid;
	bool json;
	struct dl_json j;              /* with json */
	unsigned found;
};

static int show_one(void *arg, const char *path, const struct dl_sb *sb, enum dl_err why,
		    bool held)
{
	struct find_ctx *f = arg;
	char uuid[37];

	if (!sb) {
		/* Carries our magic but cannot be used: say so, it may be the
		 * one the operator looks for. */
		if (!f->uuid && !f->cluster)
			fprintf(stderr, "disklink find: %s: disklink volume not usable (%s)%s\n",
				path, dl_strerror(why), why == DL_E_VERSION || why == DL_E_FEATURES ?
				"; upgrade disklink" : why == DL_E_VERSION_OLD ?
				"; reformat it with 'disklink format --force'" : "");
		return 0;
	}
	if (f->cluster && strcmp(f->cluster, sb->cluster_name))
		return 0;
	if (f->uuid && memcmp(f->uuid, sb->uuid, 16))
		return 0;
	dl_uuid_format(sb->uuid, uuid);
	if (f->json) {
		dl_json_obj(&f->j, NULL);
		dl_json_string(&f->j, "device", path);
		dl_json_string(&f->j, "uuid", uuid);
		dl_json_string(&f->j, "cluster", sb->cluster_name);
		dl_json_string(&f->j, "kind", dl_cli_kind_name(sb->volume_kind));
		dl_json_u64(&f->j, "slot_count", sb->slot_count);
		dl_json_u64(&f->j, "block_size", sb->block_size);
		dl_json_u64(&f->j, "ring_blocks", sb->ring_blocks);
		dl_json_bool(&f->j, "held", held);
		dl_json_end(&f->j, '}');
	} else {
		if (!f->found)
			printf("%-20s %-36s %-6s %5s %s\n", "DEVICE", "UUID", "KIND", "SLOTS",
			       "CLUSTER");
		printf("%-20s %-36s %-6s %5" PRIu32 " %s%s\n", path, uuid,
		       dl_cli_kind_name(sb->volume_kind), sb->slot_count, sb->cluster_name,
		       held ? " (held)" : "");
	}
	f->found++;
	return 0;
}

int dl_cmd_find(int argc, char **argv)
{
	static const struct option opts[] = {
		{ .name = "cluster", .has_arg = required_argument, .val = 'c' },
		{ .name = "uuid", .has_arg = required_argument, .val = 'u' },
		{ .name = "json", .has_arg = no_argument, .val = 'j' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	struct find_ctx f = { .json = false };
	uint8_t uuid[16];
	int c, rc;

	while ((c = dl_cli_getopt(CMD, argc, argv, ":c:u:jh", opts, usage, &rc)) > 0) {
		switch (c) {
		case 'c':
			f.cluster = optarg;
			break;
		case 'u':
			if (dl_uuid_parse(optarg, uuid)) {
				dl_cli_err(CMD, "invalid --uuid '%s': give it as "
					   "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", optarg);
				return DL_EXIT_ERROR;
			}
			f.uuid = uuid;
			break;
		case 'j':
			f.json = true;
			break;
		}
	}
	if (c < 0)
		return rc;
	if (optind < argc) {
		dl_cli_err(CMD, "unexpected argument '%s': find takes no DEVICE "
			   "(see 'disklink find --help')", argv[optind]);
		return DL_EXIT_ERROR;
	}
	if (f.json) {
		dl_json_init(&f.j, stdout);
		dl_json_arr(&f.j, NULL);
	}
	if (dl_volume_find_each(show_one, &f)) {
		int err = errno;

		if (f.json) {
			dl_json_end(&f.j, ']');
			putchar('\n');
		}
		fflush(stdout);
		dl_cli_err(CMD, "cannot list block devices in /sys/class/block: %s; is sysfs "
			   "mounted?", strerror(err));
		return DL_EXIT_ERROR;
	}
	if (f.json) {
		dl_json_end(&f.j, ']');
		putchar('\n');
	}
	if (dl_cli_flush_output(CMD))
		return DL_EXIT_ERROR;
	if (!f.found) {
		if (!f.json)
			fprintf(stderr, "disklink find: no disklink volume%s found on this host's "
				"block devices\n", f.uuid || f.cluster ? " matching" : "");
		return DL_EXIT_NOT_FOUND;
	}
	return DL_EXIT_OK;
}
