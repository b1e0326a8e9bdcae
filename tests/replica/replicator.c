/* A test double for a storage array's replication of a send volume:
 * synchronous / metro replication R1 -> R2 (with --lag-ms 0 or a few ms),
 * or asynchronous replication with a cycle lag (--lag-ms N).  It stands
 * for the array in tests/replica/: each node writes its own send volume
 * (R1) and its peers read the mirror (R2) at their site.
 *
 *   replicator --src R1 --dst R2 [--lag-ms N] [--lag-file F]
 *              [--split-file F] [--interval-ms N] [--pid-file F]
 *
 * Every cycle (--interval-ms, default 5) it reads R1 with O_DIRECT,
 * compares it in 4 KiB chunks with its last copy and queues the changed
 * chunks; a queued chunk is written to R2 (O_DIRECT) once it is --lag-ms
 * old, in the order the changes were seen (an array's write order).  The
 * lag can be changed while it runs: --lag-file F holds a number of
 * milliseconds, re-read when it changes (and on SIGUSR1).  While
 * --split-file F exists, nothing is read or copied: the mirror is frozen
 * (an array's link split); once F is gone, what changed meanwhile is
 * copied (resynchronised) with the lag.  The copy covers the volume the
 * R1 superblock describes (volume_bytes) when it has one, else the whole
 * device; at start R1 is copied to R2 at once (the initial sync).
 * SIGTERM/SIGINT end it (exit 0).  It knows nothing of disklink's format
 * beyond the superblock's size field, as an array knows nothing of it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK     4096u
#define QUEUE_MAX 8192u                /* chunks in flight (up to 32 MiB) */

struct pending {
	uint64_t due_ns;               /* seen + lag at the time it was seen */
	uint64_t seen_ns;
	uint32_t chunk;
	uint8_t *data;
};

struct repl {
	const char *src, *dst, *lag_file, *split_file, *pid_file;
	int sfd, dfd;
	uint64_t size;                 /* bytes copied (multiple of CHUNK) */
	uint8_t *cur, *last;           /* this cycle's R1, the last one  */
	uint32_t lag_ms, interval_ms;
	struct timespec lag_mtime;
	struct pending *q;
	uint32_t q_head, q_len;
	uint64_t chunks_copied, chunks_dropped, cycles;
	bool split;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int xfer(int fd, void *buf, size_t len, uint64_t off, bool write_it)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write_it ? pwrite(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done)) :
				       pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static uint64_t dev_size(int fd)
{
	uint64_t sz = 0;
	struct stat st;

	if (ioctl(fd, BLKGETSIZE64, &sz) == 0)
		return sz;
	if (fstat(fd, &st) == 0)
		return (uint64_t)st.st_size;
	return 0;
}

/* volume_bytes (offset 144, little-endian) of a disklink superblock. */
static uint64_t sb_volume_bytes(const uint8_t *b)
{
	uint64_t v = 0;

	if (memcmp(b, "DISKLINK", 8))
		return 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[144 + i];
	return v;
}

static void read_lag(struct repl *r, bool force)
{
	struct stat st;
	char buf[32];
	FILE *f;

	if (!r->lag_file || stat(r->lag_file, &st))
		return;
	if (!force && st.st_mtim.tv_sec == r->lag_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == r->lag_mtime.tv_nsec)
		return;
	r->lag_mtime = st.st_mtim;
	f = fopen(r->lag_file, "re");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		char *end;
		unsigned long v = strtoul(buf, &end, 10);

		if (end != buf && v <= 600000) {
			if (v != r->lag_ms)
				fprintf(stderr, "replicator: lag %u -> %lu ms\n", r->lag_ms, v);
			r->lag_ms = (uint32_t)v;
		}
	}
	fclose(f);
}

static void *alloc_aligned(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 4096))
		return NULL;
	memset(p, 0, len);
	return p;
}

/* Write the chunks that are due (all of them when flush). */
static int apply_due(struct repl *r, uint64_t now)
{
	while (r->q_len) {
		struct pending *p = &r->q[r->q_head];

		/* The lag may have changed since it was queued: due is
		 * judged with the current lag. */
		if (p->seen_ns + (uint64_t)r->lag_ms * 1000000u > now)
			break;
		if (xfer(r->dfd, p->data, CHUNK, (uint64_t)p->chunk * CHUNK, true)) {
			fprintf(stderr, "replicator: writing %s: %s\n", r->dst, strerror(errno));
			return -1;
		}
		r->chunks_copied++;
		r->q_head = (r->q_head + 1) % QUEUE_MAX;
		r->q_len--;
	}
	return 0;
}

static int queue_chunk(struct repl *r, uint32_t chunk, uint64_t now)
{
	struct pending *p;

	if (r->q_len == QUEUE_MAX) {
		/* Full: the oldest goes out now (the lag shrinks, nothing is lost). */
		p = &r->q[r->q_head];
		if (xfer(r->dfd, p->data, CHUNK, (uint64_t)p->chunk * CHUNK, true))
			return -1;
		r->chunks_dropped++;
		r->q_head = (r->q_head + 1) % QUEUE_MAX;
		r->q_len--;
	}
	p = &r->q[(r->q_head + r->q_len) % QUEUE_MAX];
	if (!p->data && !(p->data = alloc_aligned(CHUNK)))	/* O_DIRECT */
		return -1;
	p->chunk = chunk;
	p->seen_ns = now;
	p->due_ns = now + (uint64_t)r->lag_ms * 1000000u;
	memcpy(p->data, r->cur + (size_t)chunk * CHUNK, CHUNK);
	r->q_len++;
	return 0;
}

static int cycle(struct repl *r)
{
	uint64_t now = mono_ns();
	bool split = r->split_file && access(r->split_file, F_OK) == 0;
	uint8_t *t;

	if (split != r->split) {
		fprintf(stderr, "replicator: %s\n", split ? "split: mirror frozen" :
			"split ended: resynchronising");
		r->split = split;
	}
	if (split)
		return 0;
	read_lag(r, false);
	if (xfer(r->sfd, r->cur, r->size, 0, false)) {
		fprintf(stderr, "replicator: reading %s: %s\n", r->src, strerror(errno));
		return -1;
	}
	for (uint32_t c = 0; c < r->size / CHUNK; c++)
		if (memcmp(r->cur + (size_t)c * CHUNK, r->last + (size_t)c * CHUNK, CHUNK) &&
		    queue_chunk(r, c, now))
			return -1;
	t = r->last;
	r->last = r->cur;
	r->cur = t;
	r->cycles++;
	return apply_due(r, now);
}

static int setup(struct repl *r)
{
	uint8_t *sb = alloc_aligned(CHUNK);
	uint64_t ssz, dsz, vb;

	if (!sb)
		return -1;
	r->sfd = open(r->src, O_RDONLY | O_DIRECT | O_CLOEXEC);
	r->dfd = open(r->dst, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (r->sfd < 0 || r->dfd < 0) {
		fprintf(stderr, "replicator: cannot open %s: %s\n", r->sfd < 0 ? r->src : r->dst,
			strerror(errno));
		free(sb);
		return -1;
	}
	ssz = dev_size(r->sfd);
	dsz = dev_size(r->dfd);
	if (xfer(r->sfd, sb, CHUNK, 0, false)) {
		fprintf(stderr, "replicator: reading %s: %s\n", r->src, strerror(errno));
		free(sb);
		return -1;
	}
	vb = sb_volume_bytes(sb);
	free(sb);
	r->size = vb && vb <= ssz ? vb : ssz;
	r->size = (r->size + CHUNK - 1) / CHUNK * CHUNK;
	if (r->size > ssz)
		r->size = ssz / CHUNK * CHUNK;
	if (!r->size || dsz < r->size) {
		fprintf(stderr, "replicator: %s (%" PRIu64 " bytes) is smaller than the %" PRIu64
			" bytes to copy from %s\n", r->dst, dsz, r->size, r->src);
		return -1;
	}
	r->cur = alloc_aligned(r->size);
	r->last = alloc_aligned(r->size);
	r->q = calloc(QUEUE_MAX, sizeof(*r->q));
	if (!r->cur || !r->last || !r->q)
		return -1;
	/* Initial synchronisation: R2 = R1. */
	if (xfer(r->sfd, r->last, r->size, 0, false) || xfer(r->dfd, r->last, r->size, 0, true)) {
		fprintf(stderr, "replicator: initial copy: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: replicator --src R1 --dst R2 [--lag-ms N] [--lag-file F] "
		"[--split-file F] [--interval-ms N] [--pid-file F]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "lag-ms", required_argument, NULL, 'l' },
		{ "lag-file", required_argument, NULL, 'L' },
		{ "split-file", required_argument, NULL, 'S' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct repl r = { .sfd = -1, .dfd = -1, .interval_ms = 5 };
	struct timespec ts;
	sigset_t set;
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': r.src = optarg; break;
		case 'd': r.dst = optarg; break;
		case 'l': r.lag_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'L': r.lag_file = optarg; break;
		case 'S': r.split_file = optarg; break;
		case 'i': r.interval_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'p': r.pid_file = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!r.src || !r.dst || optind != argc || !r.interval_ms) {
		usage(stderr);
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	read_lag(&r, true);
	if (setup(&r)) {
		rc = 1;
		goto out;
	}
	if (r.pid_file) {
		FILE *f = fopen(r.pid_file, "we");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			fprintf(stderr, "replicator: cannot write %s\n", r.pid_file);
			rc = 1;
			goto out;
		}
	}
	fprintf(stderr, "replicator: %s -> %s, %" PRIu64 " bytes, lag %u ms\n", r.src, r.dst,
		r.size, r.lag_ms);
	ts.tv_sec = r.interval_ms / 1000u;
	ts.tv_nsec = (long)(r.interval_ms % 1000u) * 1000000L;
	for (;;) {
		/* The cycle's sleep is the wait for a signal. */
		int sig = sigtimedwait(&set, NULL, &ts);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGUSR1)
			read_lag(&r, true);
		if (cycle(&r)) {
			rc = 1;
			break;
		}
	}
	fprintf(stderr, "replicator: %" PRIu64 " cycles, %" PRIu64 " chunks copied, %" PRIu64
		" forced out early\n", r.cycles, r.chunks_copied, r.chunks_dropped);
out:
	if (r.q)
		for (uint32_t i = 0; i < QUEUE_MAX; i++)
			free(r.q[i].data);
	free(r.q);
	free(r.cur);
	free(r.last);
	if (r.sfd >= 0)
		close(r.sfd);
	if (r.dfd >= 0)
		close(r.dfd);
	return rc;
}
