/* io_uring block I/O for the I/O child (bio_uring.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "bio_uring.h"

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#ifdef HAVE_LIBURING

/* SQEs of one ring: more than one poll's requests (the head area and a
 * read per busy peer, DLD_MAX_PEERS) is queued in several enters. */
#define URING_DEPTH 64u

struct uring {
	struct io_uring ring;
	uint32_t queued;               /* prepared, not handed to the kernel */
};

int dld_uring_probe(void)
{
	struct io_uring ring;
	int rc = io_uring_queue_init(2, &ring, 0);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	io_uring_queue_exit(&ring);
	return 0;
}

static int uring_open(struct dl_bio *bio, const char *path, const struct dl_bio_opts *o)
{
	struct uring *u;
	int rc;

	if (dl_bio_direct_ops.open(bio, path, o))
		return -1;
	u = calloc(1, sizeof(*u));
	if (!u) {
		dl_bio_direct_ops.close(bio);
		errno = ENOMEM;
		return -1;
	}
	rc = io_uring_queue_init(URING_DEPTH, &u->ring, 0);
	if (rc < 0) {
		free(u);
		dl_bio_direct_ops.close(bio);
		errno = -rc;
		return -1;
	}
	bio->priv = u;
	return 0;
}

/* The kernel's ring is torn down once the requests in flight return
 * (at the process's exit, too: a child stuck on a hung device exits
 * when they do, as with pread/pwrite). */
static void uring_close(struct dl_bio *bio)
{
	struct uring *u = bio->priv;

	if (u) {
		io_uring_queue_exit(&u->ring);
		free(u);
	}
	bio->priv = NULL;
	dl_bio_direct_ops.close(bio);
}

static int reap(struct dl_bio *bio, struct uring *u);

/* Hand the queued SQEs over, waiting for wait_nr completions: 0, or -1
 * with errno.  A full completion queue (EBUSY) or the kernel short of
 * memory (EAGAIN) is reaped and retried; *n: requests so completed. */
static int enter(struct dl_bio *bio, struct uring *u, unsigned wait_nr, int *n)
{
	int rc;

	for (;;) {
		rc = wait_nr ? io_uring_submit_and_wait(&u->ring, wait_nr) :
			       io_uring_submit(&u->ring);
		if (rc >= 0)
			break;
		if (rc == -EBUSY || rc == -EAGAIN) {
			*n += reap(bio, u);
			if (*n)
				return 0;
		} else if (rc != -EINTR) {
			errno = -rc;
			return -1;
		}
	}
	u->queued = 0;
	return 0;
}

/* Queued only: the wait hands every queued SQE to the kernel at once. */
static int uring_submit(struct dl_bio *bio, struct dl_bio_req *req)
{
	struct uring *u = bio->priv;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	int n = 0;

	if (!sqe) {                    /* full: hand over what is queued */
		if (enter(bio, u, 0, &n))
			return -1;
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe) {
			errno = EBUSY;
			return -1;
		}
	}
	if (req->op == DL_BIO_READ)
		io_uring_prep_read(sqe, bio->fd, req->buf, (unsigned)req->len, req->off);
	else
		io_uring_prep_write(sqe, bio->fd, req->buf, (unsigned)req->len, req->off);
	io_uring_sqe_set_data(sqe, req);
	u->queued++;
	return 0;
}

/* Complete what the completion queue holds: how many. */
static int reap(struct dl_bio *bio, struct uring *u)
{
	struct io_uring_cqe *cqe;
	int n = 0;

	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct dl_bio_req *req = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		if (res < 0)
			dl_bio_complete(bio, req, -1, -res);
		else                   /* a short transfer is an error */
			dl_bio_complete(bio, req, (size_t)res != req->len ? -1 : 0, EIO);
		n++;
	}
	return n;
}

/* Timeouts other than none are waited for as long as it takes: the
 * parent's watchdog (the deadline word) judges a request that hangs. */
static int uring_wait(struct dl_bio *bio, uint64_t timeout_ns)
{
	struct uring *u = bio->priv;
	int n = reap(bio, u);

	if (n || !bio->in_flight)
		return n;
	if (enter(bio, u, timeout_ns == DL_BIO_NOWAIT ? 0 : 1, &n))
		return -1;
	return n + reap(bio, u);
}

const struct dl_bio_ops dld_bio_uring_ops = {
	.name = "uring",
	.open = uring_open,
	.close = uring_close,
	.submit = uring_submit,
	.wait = uring_wait,
};

#else /* !HAVE_LIBURING */

int dld_uring_probe(void)
{
	errno = ENOSYS;
	return -1;
}

static int uring_open(struct dl_bio *bio, const char *path, const struct dl_bio_opts *o)
{
	(void)bio;
	(void)path;
	(void)o;
	errno = ENOSYS;
	return -1;
}

static void uring_close(struct dl_bio *bio)
{
	(void)bio;
}

static int uring_submit(struct dl_bio *bio, struct dl_bio_req *req)
{
	(void)bio;
	(void)req;
	errno = ENOSYS;
	return -1;
}

static int uring_wait(struct dl_bio *bio, uint64_t timeout_ns)
{
	(void)bio;
	(void)timeout_ns;
	return 0;
}

const struct dl_bio_ops dld_bio_uring_ops = {
	.name = "uring (not built)",
	.open = uring_open,
	.close = uring_close,
	.submit = uring_submit,
	.wait = uring_wait,
};

#endif

/* AUTO is psync (doc/design.md, "I/O engine", "Why auto stays psync"):
 * io_uring measured no gain and was slower for 64 KiB datagrams, and a
 * child killed with io_uring requests in flight exits at once, so on a
 * hung volume without in-flight counters (a file on FUSE or NFS) the
 * parent cannot hold the next child back (supervise.c, inflight.c). */
const struct dl_bio_ops *dld_bio_engine(enum dld_io_engine e)
{
	if (e != DLD_ENGINE_URING)
		return &dl_bio_direct_ops;
	return dld_uring_probe() == 0 ? &dld_bio_uring_ops : NULL;
}
