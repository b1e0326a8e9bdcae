/* Shared helpers of the volume subcommands. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"

void dl_cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "disklink %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int dl_cli_bad_option(const char *cmd, char **argv, int optind_now, int optopt_now,
		      int c)
{
	const char *arg = optind_now > 0 ? argv[optind_now - 1] : "?";

	if (c == ':')
		dl_cli_err(cmd, "option '%s' needs a value (see 'disklink %s --help')",
			   arg, cmd);
	else if (optopt_now && strncmp(arg, "--", 2))
		dl_cli_err(cmd, "unknown option '-%c' (see 'disklink %s --help')",
			   optopt_now, cmd);
	else
		dl_cli_err(cmd, "unknown option '%s' (see 'disklink %s --help')", arg, cmd);
	return DL_EXIT_ERROR;
}

int dl_cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
		  const struct option *opts, void (*usage)(FILE *out), int *rc)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, opts, NULL);
	switch (c) {
	case -1:
		return 0;
	case 'h':
		usage(stdout);
		*rc = DL_EXIT_OK;
		return -1;
	case ':':
	case '?':
		*rc = dl_cli_bad_option(cmd, argv, optind, optopt, c);
		return -1;
	default:
		return c;
	}
}

int dl_cli_parse_u32(const char *cmd, const char *opt, const char *text,
		     uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!text[0] || text[0] == '-' || text[0] == '+')
		goto bad;
	v = strtoull(text, &end, 0);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	dl_cli_err(cmd, "invalid %s '%s': give a number from %" PRIu32 " to %" PRIu32,
		   opt, text, min, max);
	return -1;
}

int dl_cli_one_device(const char *cmd, int argc, char **argv, int first,
		      const char **device)
{
	if (first >= argc) {
		dl_cli_err(cmd, "no DEVICE given (see 'disklink %s --help')", cmd);
		return -1;
	}
	if (argc - first > 1) {
		dl_cli_err(cmd, "unexpected argument '%s': give one DEVICE "
			   "(see 'disklink %s --help')", argv[first + 1], cmd);
		return -1;
	}
	*device = argv[first];
	return 0;
}

void dl_cli_open_error(const char *cmd, const char *path, int err, bool writing)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		dl_cli_err(cmd, "%s: no such device; check the path "
			   "('disklink find' lists the volumes this host sees)", path);
		break;
	case EROFS:
		dl_cli_err(cmd, "%s is read-only; make it writable "
			   "(blockdev --setrw, or the array's write access) or use another device",
			   path);
		break;
	case EACCES:
	case EPERM:
		if (writing)
			dl_cli_err(cmd, "%s: permission denied for writing (read-only device, "
				   "or not root); run as root on a writable device", path);
		else
			dl_cli_err(cmd, "%s: permission denied; run as root", path);
		break;
	case ENOTBLK:
	case EISDIR:
		dl_cli_err(cmd, "%s is not a block device or regular file; name the volume's "
			   "block device", path);
		break;
	case EBUSY:
		dl_cli_err(cmd, "%s is in use (mounted, or held exclusively by another "
			   "program); stop that user first", path);
		break;
	case ENOMEDIUM:
		dl_cli_err(cmd, "%s has no medium; name another device", path);
		break;
	case EINVAL:
		dl_cli_err(cmd, "%s cannot be opened for direct I/O (unsupported sector "
			   "size or file system); use a block device", path);
		break;
	default:
		dl_cli_err(cmd, "%s: %s; check the device and the kernel log", path,
			   strerror(err));
		break;
	}
}

int dl_cli_check_path(const char *cmd, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		dl_cli_open_error(cmd, path, errno, false);
		return -1;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		dl_cli_open_error(cmd, path, ENOTBLK, false);
		return -1;
	}
	return 0;
}

static int sb_error(const char *cmd, const char *path, const struct dl_volume *v,
		    enum dl_err why, int err)
{
	switch (why) {
	case DL_OK:
		dl_cli_open_error(cmd, path, err, false);
		return DL_EXIT_ERROR;
	case DL_E_EMPTY:
	case DL_E_MAGIC:
		dl_cli_err(cmd, "%s holds no disklink volume (no disklink superblock at its "
			   "start); check the device name, or create one with 'disklink format'",
			   path);
		return DL_EXIT_NOT_VOLUME;
	case DL_E_VERSION:
		if (err == ENOTSUP && v->sb.version > DL_FORMAT_VERSION)
			dl_cli_err(cmd, "%s was created by a newer disklink (format version %"
				   PRIu32 ", this one reads up to %u); upgrade disklink",
				   path, v->sb.version, DL_FORMAT_VERSION);
		else
			dl_cli_err(cmd, "%s: superblock has an invalid format version; the "
				   "volume is damaged, reformat it ('disklink format --force')",
				   path);
		return DL_EXIT_NOT_VOLUME;
	case DL_E_VERSION_OLD:
		dl_cli_err(cmd, "%s was created by an older disklink (format version %" PRIu32
			   ", this one uses %u); nothing was written: reformat it with "
			   "'disklink format --force' once no node uses it", path,
			   v->sb.version, DL_FORMAT_VERSION);
		return DL_EXIT_NOT_VOLUME;
	case DL_E_FEATURES:
		dl_cli_err(cmd, "%s was created by a newer disklink (it uses features this "
			   "one does not know); upgrade disklink", path);
		return DL_EXIT_NOT_VOLUME;
	case DL_E_TRUNCATED:
		if (v->sb.volume_bytes)
			dl_cli_err(cmd, "%s is smaller (%" PRIu64 " bytes) than the volume its "
				   "superblock describes (%" PRIu64 " bytes): truncated, or the "
				   "wrong device; check the device and its size", path,
				   v->bio.size, v->sb.volume_bytes);
		else
			dl_cli_err(cmd, "%s is too small (%" PRIu64 " bytes) to hold a disklink "
				   "volume; check the device name", path, v->bio.size);
		return DL_EXIT_NOT_VOLUME;
	case DL_E_SECTOR:
		dl_cli_err(cmd, "%s: the volume's block size %" PRIu32 " is not a multiple of "
			   "the device's logical sector size %" PRIu32 "; the volume was made "
			   "for another device, reformat it for this one", path,
			   v->sb.block_size, v->bio.sector_size);
		return DL_EXIT_NOT_VOLUME;
	default:
		dl_cli_err(cmd, "%s: unreadable disklink superblock (%s); the volume is "
			   "damaged: reformat it ('disklink format --force')", path,
			   dl_strerror(why));
		return DL_EXIT_NOT_VOLUME;
	}
}

bool dl_cli_bio_readonly(const struct dl_bio *bio)
{
	int ro = 0;

	if (!bio->is_blockdev || ioctl(bio->fd, BLKROGET, &ro))
		return false;
	return ro != 0;
}

int dl_cli_open_volume(const char *cmd, const char *path, bool rw, const char *cluster,
		       struct dl_volume *v)
{
	struct dl_bio_opts opts = { .read_only = !rw };
	enum dl_err why = DL_OK;
	int rc;

	if (dl_cli_check_path(cmd, path))
		return DL_EXIT_ERROR;
	if (dl_volume_open(v, path, NULL, &opts, &why)) {
		int err = errno;

		if (why == DL_OK && rw && (err == EROFS || err == EACCES)) {
			dl_cli_open_error(cmd, path, err, true);
			return DL_EXIT_ERROR;
		}
		rc = sb_error(cmd, path, v, why, err);
		return rc;
	}
	if (rw && dl_cli_bio_readonly(&v->bio)) {
		dl_cli_open_error(cmd, path, EROFS, true);
		dl_volume_close(v);
		return DL_EXIT_ERROR;
	}
	if (cluster && strcmp(cluster, v->sb.cluster_name)) {
		dl_cli_err(cmd, "%s belongs to cluster '%s', not '%s'; check the device name",
			   path, v->sb.cluster_name, cluster);
		dl_volume_close(v);
		return DL_EXIT_NOT_VOLUME;
	}
	return DL_EXIT_OK;
}

int dl_cli_flush_output(const char *cmd)
{
	if (fflush(stdout) || ferror(stdout)) {
		dl_cli_err(cmd, "cannot write the output: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void dl_cli_time(uint64_t ns, uint64_t now_ns, char *buf, size_t len)
{
	time_t secs;
	struct tm tm;
	char when[40];
	double age;

	if (ns == 0) {
		snprintf(buf, len, "never");
		return;
	}
	secs = (time_t)(ns / 1000000000ull);
	if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(when, sizeof(when), "@%" PRIu64, (uint64_t)(ns / 1000000000u));
	if (now_ns >= ns) {
		age = (double)(now_ns - ns) / 1e9;
		snprintf(buf, len, "%s.%03u UTC (%.1f s ago)", when,
			 (unsigned)(ns % 1000000000ull / 1000000u), age);
	} else {
		age = (double)(ns - now_ns) / 1e9;
		snprintf(buf, len, "%s.%03u UTC (%.1f s in the future: clocks differ)", when,
			 (unsigned)(ns % 1000000000ull / 1000000u), age);
	}
}

const char *dl_cli_kind_name(uint32_t kind)
{
	switch (kind) {
	case DL_VOLUME_SHARED:
		return "shared";
	case DL_VOLUME_SEND:
		return "send";
	default:
		return "unknown";
	}
}

int dl_cli_ctl_request(const char *cmd, const char *path, const char *req, int timeout_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	size_t len = strlen(req);
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "disklink %s: socket path too long: %s\n", cmd, path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "disklink %s: cannot reach disklinkd at %s: %s (is it running? "
			"give its --control path with --socket)\n", cmd, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		fprintf(stderr, "disklink %s: cannot send to %s: %s\n", cmd, path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
