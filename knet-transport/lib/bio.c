/* Checked block I/O on top of an ops table. */
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

	memset(bio, 0, sizeof(*bio));
	bio->fd = -1;
	bio->ops = ops ? ops : &dl_bio_direct_ops;
	if (bio->ops->open(bio, path, opts ? opts : &defaults))
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

static int check(const struct dl_bio *bio, const void *buf, size_t len, uint64_t off)
{
	if (!bio->ops || len == 0 || (len % bio->sector_size) || (off % bio->sector_size) ||
	    ((uintptr_t)buf % bio->sector_size)) {
		errno = EINVAL;
		return -1;
	}
	if (off > bio->size || len > bio->size - off) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

int dl_bio_read(struct dl_bio *bio, void *buf, size_t len, uint64_t off)
{
	if (check(bio, buf, len, off))
		return -1;
	return bio->ops->read(bio, buf, len, off);
}

int dl_bio_write(struct dl_bio *bio, const void *buf, size_t len, uint64_t off)
{
	if (check(bio, buf, len, off))
		return -1;
	if (bio->read_only) {
		errno = EROFS;
		return -1;
	}
	return bio->ops->write(bio, buf, len, off);
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
