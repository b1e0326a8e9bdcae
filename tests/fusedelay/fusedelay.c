/* fusedelay: a FUSE file system that serves ONE backing file and waits a
 * configured time per read and per write: a block device with an array's
 * latency, for the benchmark (tests/bench/) and for live tests on a slow
 * device.
 *
 *   fusedelay [--delay-us N] [--read-delay-us N] [--write-delay-us N]
 *             [--max-background N] [--name NAME] [-f] [-o FUSE_OPTION...]
 *             BACKING MOUNTPOINT
 *
 * MOUNTPOINT shows one regular file, NAME (default "volume"), whose
 * contents are BACKING's.  Every read and every write of it is served with
 * pread/pwrite on BACKING and answered no earlier than the configured
 * delay after the request arrived (clock_nanosleep to an absolute
 * CLOCK_MONOTONIC deadline: the delay IS the simulated device latency, it
 * is not added to the backing file's own time).  Requests are served by
 * several threads at once (libfuse's multi-threaded loop), as an array
 * serves several I/Os at once (--max-background, default 64, is the queue
 * depth the kernel keeps: its own default of 12 would be a shallow array).
 * The file is opened with direct_io, so the
 * page cache never answers for the "device"; fsync is a no-op.
 *
 * On top of it, a loop device:  losetup --find --show MOUNTPOINT/volume
 * (see doc/performance.md for --direct-io over FUSE).  SIGTERM, SIGINT and
 * SIGHUP end the loop and unmount (libfuse's handlers).  Exit: 0 after a
 * clean unmount, 1 failure, 2 usage.
 */
#define FUSE_USE_VERSION 312
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fd_opts {
	long delay_us;          /* both, unless one of the two below is set */
	long read_delay_us;     /* -1: --delay-us                          */
	long write_delay_us;
	long max_background;    /* requests the kernel keeps in flight      */
	char *name;
	char *backing;
	char *mountpoint;
	int help;
};

struct fd_state {
	int fd;                 /* the backing file                        */
	char path[256];         /* "/" NAME                                */
	uint64_t read_ns;
	uint64_t write_ns;
	unsigned int max_background;
};

/* One context per process: libfuse hands it to every callback. */
static struct fd_state *state(void)
{
	return fuse_get_context()->private_data;
}

static void wait_until(const struct timespec *start, uint64_t delay_ns)
{
	struct timespec t = *start;

	if (!delay_ns)
		return;
	t.tv_sec += (time_t)(delay_ns / 1000000000u);
	t.tv_nsec += (long)(delay_ns % 1000000000u);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

static int fd_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fd_state *s = state();
	struct stat b;

	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, s->path) != 0)
		return -ENOENT;
	if (fstat(s->fd, &b) < 0)
		return -errno;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = b.st_size;
	st->st_blocks = b.st_blocks;
	st->st_blksize = 4096;
	st->st_mtim = b.st_mtim;
	st->st_ctim = b.st_ctim;
	st->st_atim = b.st_atim;
	return 0;
}

static int fd_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, state()->path + 1, NULL, 0, 0);
	return 0;
}

static int fd_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, state()->path) != 0)
		return -ENOENT;
	fi->direct_io = 1;      /* no page cache in front of the "device" */
	fi->keep_cache = 0;
	return 0;
}

static int fd_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct fd_state *s = state();
	struct timespec start;
	size_t done = 0;

	(void)path;
	(void)fi;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (done < size) {
		ssize_t n = pread(s->fd, buf + done, size - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	wait_until(&start, s->read_ns);
	return (int)done;
}

static int fd_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fd_state *s = state();
	struct timespec start;
	size_t done = 0;

	(void)path;
	(void)fi;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (done < size) {
		ssize_t n = pwrite(s->fd, buf + done, size - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	wait_until(&start, s->write_ns);
	return (int)done;
}

static int fd_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)datasync;
	(void)fi;
	return 0;
}

static int fd_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, state()->path) != 0)
		return -ENOENT;
	return ftruncate(state()->fd, size) < 0 ? -errno : 0;
}

static void *fd_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct fd_state *s = fuse_get_context()->private_data;

	/* Asynchronous direct I/O (a loop device with --direct-io=on) counts
	 * as background requests: the kernel's default of 12 in flight would
	 * make the "array" a queue of depth 12. */
	conn->max_background = s->max_background;
	conn->congestion_threshold = s->max_background * 3 / 4;
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->attr_timeout = 1.0;
	cfg->entry_timeout = 1.0;
	cfg->use_ino = 0;
	return s;
}

static const struct fuse_operations fd_ops = {
	.init = fd_init,
	.getattr = fd_getattr,
	.readdir = fd_readdir,
	.open = fd_open,
	.read = fd_read,
	.write = fd_write,
	.fsync = fd_fsync,
	.truncate = fd_truncate,
};

#define FD_OPT(t, p) { t, offsetof(struct fd_opts, p), 1 }
static const struct fuse_opt fd_optspec[] = {
	FD_OPT("--delay-us=%ld", delay_us),
	FD_OPT("--delay-us %ld", delay_us),
	FD_OPT("--read-delay-us=%ld", read_delay_us),
	FD_OPT("--read-delay-us %ld", read_delay_us),
	FD_OPT("--write-delay-us=%ld", write_delay_us),
	FD_OPT("--write-delay-us %ld", write_delay_us),
	FD_OPT("--max-background=%ld", max_background),
	FD_OPT("--max-background %ld", max_background),
	FD_OPT("--name=%s", name),
	FD_OPT("--name %s", name),
	FD_OPT("-h", help),
	FD_OPT("--help", help),
	FUSE_OPT_END
};

/* The two positional arguments are ours; everything else goes to FUSE. */
static int fd_optproc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct fd_opts *o = data;

	(void)outargs;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (!o->backing) {
		o->backing = strdup(arg);
		return o->backing ? 0 : -1;
	}
	if (!o->mountpoint) {
		o->mountpoint = strdup(arg);
		if (!o->mountpoint)
			return -1;
		return 1;       /* libfuse needs the mount point too */
	}
	fprintf(stderr, "fusedelay: unexpected argument '%s'\n", arg);
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fusedelay [options] BACKING MOUNTPOINT\n"
		"Serve the file BACKING as MOUNTPOINT/NAME, answering every read and\n"
		"write no earlier than the configured delay after it arrived.\n\n"
		"  --delay-us=N        delay of every read and write, in us (default 0)\n"
		"  --read-delay-us=N   delay of a read (default: --delay-us)\n"
		"  --write-delay-us=N  delay of a write (default: --delay-us)\n"
		"  --max-background=N  requests in flight at once, the queue depth\n"
		"                      (default 64; the kernel's own default is 12)\n"
		"  --name=NAME         the file's name under MOUNTPOINT (default volume)\n"
		"  -f                  foreground (otherwise it detaches once mounted)\n"
		"  -s                  one thread (requests one after the other)\n"
		"  -o OPT[,OPT...]     FUSE mount options (e.g. max_threads=64)\n"
		"  -h, --help          this text\n\n"
		"SIGTERM, SIGINT or SIGHUP unmount and exit.  Then, as root:\n"
		"  losetup --find --show MOUNTPOINT/volume\n");
}

static int check_opts(struct fd_opts *o, struct fd_state *s)
{
	long rd = o->read_delay_us >= 0 ? o->read_delay_us : o->delay_us;
	long wr = o->write_delay_us >= 0 ? o->write_delay_us : o->delay_us;

	if (!o->backing || !o->mountpoint) {
		usage(stderr);
		return -1;
	}
	if (o->max_background < 1 || o->max_background > 65535) {
		fprintf(stderr, "fusedelay: --max-background is 1 .. 65535\n");
		return -1;
	}
	if (o->delay_us < 0 || rd < 0 || wr < 0 || rd > 10000000 || wr > 10000000) {
		fprintf(stderr, "fusedelay: a delay is 0 .. 10000000 us\n");
		return -1;
	}
	if (strchr(o->name, '/') || !o->name[0] ||
	    snprintf(s->path, sizeof(s->path), "/%s", o->name) >= (int)sizeof(s->path)) {
		fprintf(stderr, "fusedelay: bad --name '%s'\n", o->name);
		return -1;
	}
	s->read_ns = (uint64_t)rd * 1000u;
	s->write_ns = (uint64_t)wr * 1000u;
	s->max_background = (unsigned int)o->max_background;
	return 0;
}

static int run_loop(struct fuse *f, const struct fuse_cmdline_opts *co)
{
	struct fuse_loop_config *cfg;
	int res;

	if (co->singlethread)
		return fuse_loop(f);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -1;
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned int)co->clone_fd);
	fuse_loop_cfg_set_max_threads(cfg, co->max_threads);
	if (co->max_idle_threads != UINT_MAX)   /* UINT_MAX: not given */
		fuse_loop_cfg_set_idle_threads(cfg, co->max_idle_threads);
	res = fuse_loop_mt(f, cfg);
	fuse_loop_cfg_destroy(cfg);
	return res;
}

/* fuse_main's steps, so that an end by SIGTERM, SIGINT or SIGHUP (the loop
 * returns the signal's number) is a clean exit: 0 once unmounted. */
static int run_fuse(struct fuse_args *args, struct fd_state *s)
{
	struct fuse_cmdline_opts co;
	struct fuse *f;
	int rc = 1, res;

	memset(&co, 0, sizeof(co));
	if (fuse_parse_cmdline(args, &co) != 0)
		return 2;
	f = fuse_new(args, &fd_ops, sizeof(fd_ops), s);
	if (!f)
		goto out;
	if (fuse_mount(f, co.mountpoint) != 0)
		goto out_destroy;
	if (fuse_daemonize(co.foreground) != 0 ||
	    fuse_set_signal_handlers(fuse_get_session(f)) != 0)
		goto out_unmount;
	res = run_loop(f, &co);
	if (res < 0)
		res = -res;
	rc = (res == 0 || res == SIGTERM || res == SIGINT || res == SIGHUP) ? 0 : 1;
	fuse_remove_signal_handlers(fuse_get_session(f));
out_unmount:
	fuse_unmount(f);
out_destroy:
	fuse_destroy(f);
out:
	free(co.mountpoint);
	return rc;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fd_opts o = { .delay_us = 0, .read_delay_us = -1, .write_delay_us = -1,
			     .max_background = 64 };
	struct fd_state s = { .fd = -1 };
	int rc = 2;

	if (fuse_opt_parse(&args, &o, fd_optspec, fd_optproc) < 0)
		goto out;
	if (o.help) {
		usage(stdout);
		rc = 0;
		goto out;
	}
	if (!o.name) {
		o.name = strdup("volume");
		if (!o.name)
			goto out;
	}
	if (check_opts(&o, &s) < 0)
		goto out;
	s.fd = open(o.backing, O_RDWR | O_CLOEXEC);
	if (s.fd < 0) {
		fprintf(stderr, "fusedelay: %s: %s\n", o.backing, strerror(errno));
		rc = 1;
		goto out;
	}
	fprintf(stderr, "fusedelay: %s as %s/%s, read %" PRIu64 " us, write %" PRIu64
		" us, %u in flight\n", o.backing, o.mountpoint, o.name, s.read_ns / 1000u,
		s.write_ns / 1000u, s.max_background);
	rc = run_fuse(&args, &s);
	close(s.fd);
out:
	fuse_opt_free_args(&args);
	free(o.name);
	free(o.backing);
	free(o.mountpoint);
	return rc;
}
