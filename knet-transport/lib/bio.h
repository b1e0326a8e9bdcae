/* Block I/O behind an ops table, so that tests, a fault-injecting
 * implementation or a simulator can take the place of the real one.
 *
 * The shape is asynchronous-capable: a transfer is a request
 * (struct dl_bio_req) that is SUBMITTED, and COMPLETES later:
 *
 *     struct dl_bio_req r = { .op = DL_BIO_READ, .buf = b, .len = n, .off = o };
 *     dl_bio_submit(bio, &r);            // 0: in flight (or done already)
 *     while (!r.done)
 *             dl_bio_wait(bio, timeout); // completes what has finished
 *     if (r.result) ... r.error ...
 *
 * An implementation completes a request by calling dl_bio_complete(),
 * which records the result, the completion time and `done`, then calls
 * the request's `complete` callback if it has one.  Requests may complete
 * in any order, and inside submit (the O_DIRECT implementation does the
 * transfer there: its wait has nothing to wait for).  A simulator (a
 * clock of its own, per-request latency, out-of-order completion, torn
 * writes) completes them from its wait; an io_uring backend would queue
 * an SQE in submit and reap CQEs in wait.
 *
 * Time stamps come from the bio's clock (struct dl_clock, given in the
 * open options; the system's by default).
 *
 * The synchronous dl_bio_read/dl_bio_write are submit-then-wait wrappers,
 * so the library and the tool see the same calls as before. */
#ifndef DL_BIO_H
#define DL_BIO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dl_clock.h"

struct dl_bio;

struct dl_bio_opts {
	bool     read_only;
	bool     dsync;                /* O_DSYNC (force unit access) writes */
	uint32_t file_sector_size;     /* for regular files; 0 = 512 */
	const struct dl_clock *clock;  /* request time stamps; NULL: the system's */
};

enum dl_bio_op { DL_BIO_READ = 0, DL_BIO_WRITE };

/* One transfer.  The caller fills op, buf, len, off (and user, complete
 * if it wants them) and keeps the request alive until done. */
struct dl_bio_req {
	enum dl_bio_op op;
	void    *buf;                  /* read into / written from (not modified) */
	size_t   len;
	uint64_t off;
	void    *user;                 /* the caller's                      */
	void   (*complete)(struct dl_bio_req *req);  /* optional: at completion */
	/* set by dl_bio_submit / dl_bio_complete */
	uint64_t submit_ns, complete_ns;   /* the bio's clock              */
	int      result;               /* 0, or -1 with error               */
	int      error;                /* errno of a failed transfer         */
	bool     done;
	void    *priv;                 /* the implementation's              */
};

/* Wait timeouts: poll, or wait as long as it takes. */
#define DL_BIO_NOWAIT  0ull
#define DL_BIO_FOREVER UINT64_MAX

struct dl_bio_ops {
	const char *name;
	/* Fill bio->fd, sector_size, size, is_blockdev, direct. */
	int  (*open)(struct dl_bio *bio, const char *path, const struct dl_bio_opts *opts);
	void (*close)(struct dl_bio *bio);
	/* Start a checked request (aligned, in bounds, writable): 0, the
	 * request then completes through dl_bio_complete (maybe before
	 * submit returns), or -1 with errno when it could not be started
	 * (it then never completes).  A transfer moves exactly len bytes: a
	 * short one completes with EIO. */
	int  (*submit)(struct dl_bio *bio, struct dl_bio_req *req);
	/* Complete the requests that have finished, waiting up to
	 * timeout_ns (the bio's clock) for at least one when none has:
	 * how many completed (0 on timeout or with nothing in flight), or
	 * -1 with errno. */
	int  (*wait)(struct dl_bio *bio, uint64_t timeout_ns);
};

struct dl_bio {
	const struct dl_bio_ops *ops;
	const struct dl_clock *clock;  /* never NULL once open              */
	int      fd;
	uint32_t sector_size;          /* logical block size (BLKSSZGET) */
	uint64_t size;                 /* bytes */
	bool     is_blockdev;
	bool     direct;               /* opened with O_DIRECT */
	bool     read_only;
	uint32_t in_flight;            /* submitted, not completed           */
	void    *priv;                 /* for wrapping implementations */
};

/* For implementations: req finished with result (0, or -1 with err):
 * record it, stamp it, call its callback.  Inline, so that an
 * implementation depends on no code of bio.c. */
static inline void dl_bio_complete(struct dl_bio *bio, struct dl_bio_req *req, int result,
				   int err)
{
	req->result = result ? -1 : 0;
	req->error = result ? (err ? err : EIO) : 0;
	req->complete_ns = dl_clock_mono(bio->clock);
	req->done = true;
	if (bio->in_flight)
		bio->in_flight--;
	if (req->complete)
		req->complete(req);
}

/* The real implementation: O_DIRECT, aligned buffers, BLKSSZGET; every
 * request completes inside submit. */
extern const struct dl_bio_ops dl_bio_direct_ops;

/* Alignment of every I/O buffer. */
#define DL_BIO_ALIGN 4096u

/* Open with ops (NULL: dl_bio_direct_ops).  0, or -1 with errno. */
int dl_bio_open(struct dl_bio *bio, const struct dl_bio_ops *ops, const char *path,
		const struct dl_bio_opts *opts);
void dl_bio_close(struct dl_bio *bio);

/* Submit a request: alignment and bounds are validated (EINVAL, ENOSPC),
 * writes to a read-only bio refused (EROFS); submit_ns is stamped.  0, or
 * -1 with errno (the request is then not in flight). */
int dl_bio_submit(struct dl_bio *bio, struct dl_bio_req *req);
/* The ops' wait: how many requests completed, or -1 with errno. */
int dl_bio_wait(struct dl_bio *bio, uint64_t timeout_ns);
/* Wait until req is done (submitted on bio): 0 once done, -1 with errno
 * when the ops' wait failed or nothing more can complete (EDEADLK). */
int dl_bio_wait_req(struct dl_bio *bio, struct dl_bio_req *req);

/* Checked synchronous transfers (submit, then wait): 0, or -1 with errno. */
int dl_bio_read(struct dl_bio *bio, void *buf, size_t len, uint64_t off);
int dl_bio_write(struct dl_bio *bio, const void *buf, size_t len, uint64_t off);

/* An aligned, zeroed buffer for I/O; free with free(). */
void *dl_bio_alloc(size_t len);

#endif
