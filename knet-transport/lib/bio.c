/* Checked block I/O on top of an ops table: requests are submitted and
 * completed (bio.h); the synchronous transfers wait for their request. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bio.h"

int dl_bio_open(struct dl_bio *bio, const struct dl_bio_ops *ops, const char *path,
		const struct dl_bio_opts *opts)
{
	static const struct dl_bio_opts defaults = { .read_only = false };

	if (!opts)
		opts = &defaults;
	memset(bio, 0, sizeof(*bio));
	bio->fd = -1;
	bio->ops = ops ? ops : &dl_bio_direct_ops;
	bio->clock = opts->clock ? opts->clock : &dl_clock_system;
	if (bio->ops->open(bio, path, opts))
		return -1;
	if (!bio->sector_size || (bio->sector_size & (bio->sector_size - 1)) ||
	    bio->sector_size > DL_BIO_ALIGN) {
		int err = EINVAL;

		bio->ops->close(bio);
		errno = err;
		return -1;
	}
	return 0;
}

void dl_bio_close(struct dl_bio *bio)
{
	if (bio->ops)
		bio->ops->close(bio);
	bio->ops = NULL;
	bio->fd = -1;
}

static int check(const struct dl_bio *bio, const struct dl_bio_req *req)
{
	if (!bio->ops || req->len == 0 || (req->len % bio->sector_size) ||
	    (req->off % bio->sector_size) || ((uintptr_t)req->buf % bio->sector_size)) {
		errno = EINVAL;
		return -1;
	}
	if (req->off > bio->size || req->len > bio->size - req->off) {
		errno = ENOSPC;
		return -1;
	}
	if (req->op == DL_BIO_WRITE && bio->read_only) {
		errno = EROFS;
		return -1;
	}
	if (req->op != DL_BIO_READ && req->op != DL_BIO_WRITE) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int dl_bio_submit(struct dl_bio *bio, struct dl_bio_req *req)
{
	req->done = false;
	req->result = 0;
	req->error = 0;
	req->complete_ns = 0;
	if (check(bio, req))
		return -1;
	req->submit_ns = dl_clock_mono(bio->clock);
	bio->in_flight++;
	if (bio->ops->submit(bio, req)) {
		bio->in_flight--;
		return -1;
	}
	return 0;
}

int dl_bio_wait(struct dl_bio *bio, uint64_t timeout_ns)
{
	return bio->ops->wait(bio, timeout_ns);
}

int dl_bio_wait_req(struct dl_bio *bio, struct dl_bio_req *req)
{
	while (!req->done) {
		int n = bio->ops->wait(bio, DL_BIO_FOREVER);

		if (n < 0)
			return -1;
		if (n == 0 && !req->done && !bio->in_flight) {
			errno = EDEADLK;   /* nothing in flight can complete it */
			return -1;
		}
	}
	return 0;
}

static int transfer(struct dl_bio *bio, enum dl_bio_op op, void *buf, size_t len,
		    uint64_t off)
{
	struct dl_bio_req req = { .op = op, .buf = buf, .len = len, .off = off };

	if (dl_bio_submit(bio, &req) || dl_bio_wait_req(bio, &req))
		return -1;
	if (req.result) {
		errno = req.error;
		return -1;
	}
	return 0;
}

int dl_bio_read(struct dl_bio *bio, void *buf, size_t len, uint64_t off)
{
	return transfer(bio, DL_BIO_READ, buf, len, off);
}

int dl_bio_write(struct dl_bio *bio, const void *buf, size_t len, uint64_t off)
{
	return transfer(bio, DL_BIO_WRITE, (void *)(uintptr_t)buf, len, off);
}

void *dl_bio_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, DL_BIO_ALIGN, len ? len : DL_BIO_ALIGN)) {
		errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, len);
	return p;
}
