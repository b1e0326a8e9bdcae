/* `disklink format`: write a new volume on a device, after making sure
 * that nothing of value is on it. */
#include "config.h"

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"

#define CMD "format"
#define SBD_MAGIC "SBD_SECT"

struct format_args {
	const char *device;
	const char *cluster;
	uint32_t slots;
	uint32_t block_size;
	uint32_t ring_blocks;          /* 0: default */
	uint32_t kind;
	uint32_t sector_size;          /* regular files only; 0: not given */
	bool force;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: disklink format DEVICE --cluster NAME --slots N [OPTIONS]\n"
		"\n"
		"Create a disklink volume on DEVICE (everything on it is overwritten).\n"
		"\n"
		"  -c, --cluster NAME       cluster name (corosync's totem.cluster_name)\n"
		"  -n, --slots N            node slots, 1..%u (one per node, plus spares)\n"
		"  -b, --block-size B       ring block size in bytes (default %u); a power\n"
		"                           of two, a multiple of the device's sector size\n"
		"  -r, --ring-blocks R      blocks per node ring (default %u, minimum\n"
		"                           depends on the block size: 33 for 4096)\n"
		"  -k, --kind shared|send   one shared LUN (default), or a node's send\n"
		"                           volume that an array mirrors to its peers\n"
		"  -s, --sector-size S      sector size of a regular file (512 or 4096)\n"
		"  -f, --force              overwrite a device that holds a disklink volume,\n"
		"                           an sbd header, a file system or a partition table\n"
		"  -h, --help               this help\n"
		"\n"
		"Exit status: 0 created, 1 usage or I/O error, 6 refused (data found:\n"
		"use --force).\n",
		DL_SLOTS_MAX, DL_BLOCK_SIZE_DEFAULT, DL_RING_BLOCKS_DEFAULT);
}

/* --block-size: a power of two in range; 0, or -1 with the error printed. */
static int parse_block_size(const char *text, uint32_t *out)
{
	if (dl_cli_parse_u32(CMD, "--block-size", text, DL_BLOCK_SIZE_MIN, DL_BLOCK_SIZE_MAX,
			     out))
		return -1;
	if (*out & (*out - 1)) {
		dl_cli_err(CMD, "invalid --block-size %" PRIu32 ": give a power "
			   "of two from %u to %u", *out, DL_BLOCK_SIZE_MIN, DL_BLOCK_SIZE_MAX);
		return -1;
	}
	return 0;
}

/* --kind shared|send; 0, or -1 with the error printed. */
static int parse_kind(const char *text, uint32_t *out)
{
	if (!strcmp(text, "shared")) {
		*out = DL_VOLUME_SHARED;
	} else if (!strcmp(text, "send")) {
		*out = DL_VOLUME_SEND;
	} else {
		dl_cli_err(CMD, "invalid --kind '%s': give 'shared' or 'send'", text);
		return -1;
	}
	return 0;
}

/* --sector-size: 512 to 4096, a power of two; 0, or -1 with the error printed. */
static int parse_sector_size(const char *text, uint32_t *out)
{
	if (dl_cli_parse_u32(CMD, "--sector-size", text, 512, 4096, out))
		return -1;
	if (*out & (*out - 1)) {
		dl_cli_err(CMD, "invalid --sector-size %" PRIu32 ": give 512, "
			   "1024, 2048 or 4096", *out);
		return -1;
	}
	return 0;
}

/* The options format cannot do without. */
static int check_required(const struct format_args *a)
{
	if (!a->cluster) {
		dl_cli_err(CMD, "no cluster name: give --cluster NAME "
			   "(corosync's totem.cluster_name)");
		return DL_EXIT_ERROR;
	}
	if (!a->slots) {
		dl_cli_err(CMD, "no slot count: give --slots N (the number of nodes, "
			   "plus spares)");
		return DL_EXIT_ERROR;
	}
	return DL_EXIT_OK;
}

static int parse_args(int argc, char **argv, struct format_args *a)
{
	static const struct option opts[] = {
		{ .name = "cluster", .has_arg = required_argument, .val = 'c' },
		{ .name = "slots", .has_arg = required_argument, .val = 'n' },
		{ .name = "block-size", .has_arg = required_argument, .val = 'b' },
		{ .name = "ring-blocks", .has_arg = required_argument, .val = 'r' },
		{ .name = "kind", .has_arg = required_argument, .val = 'k' },
		{ .name = "sector-size", .has_arg = required_argument, .val = 's' },
		{ .name = "force", .has_arg = no_argument, .val = 'f' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	int c, rc;

	memset(a, 0, sizeof(*a));
	a->block_size = DL_BLOCK_SIZE_DEFAULT;
	a->kind = DL_VOLUME_SHARED;
	while ((c = dl_cli_getopt(CMD, argc, argv, ":c:n:b:r:k:s:fh", opts, usage, &rc)) > 0) {
		switch (c) {
		case 'c':
			a->cluster = optarg;
			break;
		case 'n':
			if (dl_cli_parse_u32(CMD, "--slots", optarg, 1, DL_SLOTS_MAX, &a->slots))
				return DL_EXIT_ERROR;
			break;
		case 'b':
			if (parse_block_size(optarg, &a->block_size))
				return DL_EXIT_ERROR;
			break;
		case 'r':
			if (dl_cli_parse_u32(CMD, "--ring-blocks", optarg, DL_RING_BLOCKS_MIN,
					     DL_RING_BLOCKS_MAX, &a->ring_blocks))
				return DL_EXIT_ERROR;
			break;
		case 'k':
			if (parse_kind(optarg, &a->kind))
				return DL_EXIT_ERROR;
			break;
		case 's':
			if (parse_sector_size(optarg, &a->sector_size))
				return DL_EXIT_ERROR;
			break;
		case 'f':
			a->force = true;
			break;
		}
	}
	if (c < 0)
		return rc == DL_EXIT_OK ? -1 : rc;
	if (dl_cli_one_device(CMD, argc, argv, optind, &a->device))
		return DL_EXIT_ERROR;
	return check_required(a);
}

/* A cluster name must fit its field and be printable ASCII. */
static int cluster_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= DL_CLUSTER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
			return 0;
	return 1;
}

/* What libblkid recognises on the device: a file system, RAID member,
 * partition table...  Writes its type into what; returns 1 when found,
 * 0 when nothing, -1 when the probe failed. */
static int blkid_find(const char *path, char *what, size_t len)
{
	blkid_probe pr;
	const char *val = NULL;
	int fd, rc;

	/* libblkid reads through the page cache: drop what it holds of this
	 * device first, so that what another node wrote is seen. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	pr = blkid_new_probe();
	if (!pr || blkid_probe_set_device(pr, fd, 0, 0)) {
		if (pr)
			blkid_free_probe(pr);
		close(fd);
		return -1;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	rc = blkid_do_safeprobe(pr);
	if (rc == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &val, NULL) == 0 && val)
			snprintf(what, len, "a file system or signature of type %s", val);
		else if (blkid_probe_lookup_value(pr, "PTTYPE", &val, NULL) == 0 && val)
			snprintf(what, len, "a partition table of type %s", val);
		else
			snprintf(what, len, "a signature libblkid recognises");
		rc = 1;
	} else if (rc == -2) {
		snprintf(what, len, "several conflicting signatures");
		rc = 1;
	} else if (rc == 1) {
		rc = 0;
	} else {
		rc = -1;
	}
	blkid_free_probe(pr);
	close(fd);
	return rc;
}

/* Refuse (without --force) a device that holds anything we recognise.
 * Returns DL_EXIT_OK to go on, else the exit status. */
static int check_blank(const struct format_args *a, struct dl_bio *bio)
{
	char what[160] = "";
	uint8_t *buf;
	struct dl_sb old;
	enum dl_err why;
	int found = 0, r;

	buf = dl_bio_alloc(DL_REGION_MIN);
	if (!buf) {
		dl_cli_err(CMD, "out of memory");
		return DL_EXIT_ERROR;
	}
	if (dl_bio_read(bio, buf, DL_REGION_MIN, 0)) {
		int err = errno;

		free(buf);
		dl_cli_err(CMD, "%s: cannot read the first block: %s; check the device",
			   a->device, strerror(err));
		return DL_EXIT_ERROR;
	}
	if (!memcmp(buf, DL_SB_MAGIC, 8)) {
		found = 1;
		if (dl_sb_decode(buf, DL_REGION_MIN, &old, &why) == 0) {
			char uuid[37];

			dl_uuid_format(old.uuid, uuid);
			snprintf(what, sizeof(what), "a disklink volume (uuid %s, cluster '%s')",
				 uuid, old.cluster_name);
		} else {
			snprintf(what, sizeof(what), "a disklink volume (%s)", dl_strerror(why));
		}
	} else if (!memcmp(buf, SBD_MAGIC, 8)) {
		found = 1;
		snprintf(what, sizeof(what), "an sbd header (a fencing device of a cluster)");
	}
	free(buf);
	if (!found) {
		r = blkid_find(a->device, what, sizeof(what));
		if (r < 0 && !a->force) {
			dl_cli_err(CMD, "%s: cannot probe the device for existing data; "
				   "use --force to format anyway", a->device);
			return DL_EXIT_REFUSED;
		}
		found = r > 0;
	}
	if (!found)
		return DL_EXIT_OK;
	if (!a->force) {
		dl_cli_err(CMD, "%s holds %s; nothing was written: check the device name, "
			   "or use --force to overwrite it", a->device, what);
		return DL_EXIT_REFUSED;
	}
	fprintf(stderr, "disklink format: %s holds %s: overwriting (--force)\n",
		a->device, what);
	return DL_EXIT_OK;
}

/* Nobody else may hold the block device exclusively (mounted file
 * system, md/dm member). */
static int blockdev_busy(const char *path, const struct dl_bio *bio)
{
	int fd;

	if (!bio->is_blockdev)
		return 0;
	fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0)
		return errno == EBUSY;
	close(fd);
	return 0;
}

static int new_uuid(uint8_t uuid[16])
{
	size_t got = 0;

	while (got < 16) {
		ssize_t n = getrandom(uuid + got, 16 - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);     /* RFC 4122 version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);     /* variant */
	return 0;
}

static int make_sb(const struct format_args *a, const struct dl_bio *bio, struct dl_sb *sb)
{
	uint32_t min_ring = dl_sb_min_ring_blocks(a->block_size);
	uint32_t ring = a->ring_blocks;
	uint8_t uuid[16];
	enum dl_err why = DL_OK;

	if (a->block_size % bio->sector_size) {
		dl_cli_err(CMD, "block size %" PRIu32 " is not a multiple of %s's logical "
			   "sector size %" PRIu32 "; use --block-size %" PRIu32 " or larger",
			   a->block_size, a->device, bio->sector_size, bio->sector_size);
		return DL_EXIT_ERROR;
	}
	if (!ring)
		ring = DL_RING_BLOCKS_DEFAULT > min_ring ? DL_RING_BLOCKS_DEFAULT : min_ring;
	if (ring < min_ring) {
		dl_cli_err(CMD, "--ring-blocks %" PRIu32 " is too small for %" PRIu32
			   "-byte blocks (a ring must hold two 64 KiB datagrams); use "
			   "--ring-blocks %" PRIu32 " or more", ring, a->block_size, min_ring);
		return DL_EXIT_ERROR;
	}
	if (new_uuid(uuid)) {
		dl_cli_err(CMD, "cannot generate a uuid: %s", strerror(errno));
		return DL_EXIT_ERROR;
	}
	if (dl_sb_init(sb, a->cluster, a->block_size, a->slots, ring, a->kind, uuid,
		       (uint64_t)time(NULL), &why)) {
		dl_cli_err(CMD, "invalid volume parameters: %s", dl_strerror(why));
		return DL_EXIT_ERROR;
	}
	if (sb->volume_bytes > bio->size) {
		dl_cli_err(CMD, "%s is too small: it has %" PRIu64 " bytes, the volume needs %"
			   PRIu64 " (%" PRIu32 " slots of %" PRIu32 " blocks of %" PRIu32
			   " bytes); use a larger device, fewer --slots or fewer --ring-blocks",
			   a->device, bio->size, sb->volume_bytes, a->slots, ring,
			   a->block_size);
		return DL_EXIT_ERROR;
	}
	return DL_EXIT_OK;
}

static int open_device(const struct format_args *a, struct dl_bio *bio)
{
	struct dl_bio_opts opts = { .read_only = false, .file_sector_size = a->sector_size };

	if (dl_cli_check_path(CMD, a->device))
		return DL_EXIT_ERROR;
	if (dl_bio_open(bio, NULL, a->device, &opts)) {
		dl_cli_open_error(CMD, a->device, errno, true);
		return DL_EXIT_ERROR;
	}
	if (bio->is_blockdev && a->sector_size) {
		dl_cli_err(CMD, "--sector-size applies to regular files only; %s is a block "
			   "device with %" PRIu32 "-byte sectors: drop the option",
			   a->device, bio->sector_size);
		goto fail;
	}
	if (dl_cli_bio_readonly(bio)) {
		dl_cli_open_error(CMD, a->device, EROFS, true);
		goto fail;
	}
	if (blockdev_busy(a->device, bio)) {
		dl_cli_open_error(CMD, a->device, EBUSY, true);
		goto fail;
	}
	if (bio->size < DL_REGION_MIN) {
		dl_cli_err(CMD, "%s is too small (%" PRIu64 " bytes); a volume needs several "
			   "MiB: use a larger device", a->device, bio->size);
		goto fail;
	}
	return DL_EXIT_OK;
fail:
	dl_bio_close(bio);
	return DL_EXIT_ERROR;
}

static void report(const struct format_args *a, const struct dl_sb *sb)
{
	char uuid[37];

	dl_uuid_format(sb->uuid, uuid);
	printf("Created disklink volume on %s\n", a->device);
	printf("  uuid:         %s\n", uuid);
	printf("  cluster:      %s\n", sb->cluster_name);
	printf("  kind:         %s\n", dl_cli_kind_name(sb->volume_kind));
	printf("  slots:        %" PRIu32 "\n", sb->slot_count);
	printf("  block size:   %" PRIu32 "\n", sb->block_size);
	printf("  ring blocks:  %" PRIu32 "\n", sb->ring_blocks);
	printf("  bytes used:   %" PRIu64 " of %s\n", sb->volume_bytes, a->device);
}

/* Read the new volume back through a fresh open: what peers will see. */
static int verify(const struct format_args *a, const struct dl_sb *sb)
{
	struct dl_bio_opts ro = { .read_only = true, .file_sector_size = a->sector_size };
	struct dl_volume v;
	enum dl_err why = DL_OK;
	int same;

	if (dl_volume_open(&v, a->device, NULL, &ro, &why)) {
		dl_cli_err(CMD, "%s: the new volume does not read back (%s); check the device",
			   a->device, why == DL_OK ? strerror(errno) : dl_strerror(why));
		return DL_EXIT_ERROR;
	}
	same = !memcmp(v.sb.uuid, sb->uuid, 16);
	dl_volume_close(&v);
	if (!same) {
		dl_cli_err(CMD, "%s: another volume reads back (a concurrent format?); "
			   "check the device", a->device);
		return DL_EXIT_ERROR;
	}
	return DL_EXIT_OK;
}

int dl_cmd_format(int argc, char **argv)
{
	struct format_args a;
	struct dl_bio bio;
	struct dl_sb sb;
	enum dl_err why = DL_OK;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc < 0)
		return DL_EXIT_OK;              /* --help */
	if (rc)
		return rc;
	if (!cluster_name_ok(a.cluster)) {
		dl_cli_err(CMD, "invalid cluster name '%s': use 1 to %u printable characters "
			   "without spaces", a.cluster, DL_CLUSTER_NAME_MAX - 1);
		return DL_EXIT_ERROR;
	}
	rc = open_device(&a, &bio);
	if (rc)
		return rc;
	rc = make_sb(&a, &bio, &sb);
	if (rc == DL_EXIT_OK)
		rc = check_blank(&a, &bio);
	if (rc == DL_EXIT_OK && dl_volume_format(&bio, &sb, &why)) {
		int err = errno;

		if (why != DL_OK)
			dl_cli_err(CMD, "%s: cannot format: %s", a.device, dl_strerror(why));
		else
			dl_cli_err(CMD, "%s: write failed: %s; the device is not a usable "
				   "volume, check it and format again", a.device, strerror(err));
		rc = DL_EXIT_ERROR;
	}
	dl_bio_close(&bio);
	if (rc)
		return rc;
	rc = verify(&a, &sb);
	if (rc)
		return rc;
	report(&a, &sb);
	return DL_EXIT_OK;
}
