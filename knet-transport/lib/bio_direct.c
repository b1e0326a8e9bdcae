/* The real block I/O: O_DIRECT so that peers read the medium, not our
 * page cache; O_DSYNC on request.  A regular file (tests) is opened with
 * O_DIRECT where its filesystem supports it, else buffered, with a
 * stated sector size.  Every request is transferred (pread/pwrite) and
 * completed inside submit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bio.h"

static int direct_open(struct dl_bio *bio, const char *path, const struct dl_bio_opts *o)
{
	int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int fd, err;

	if (o->dsync)
		flags |= O_DSYNC;
	fd = open(path, flags | O_DIRECT);
	if (fd >= 0) {
		bio->direct = true;
	} else if (errno == EINVAL) {
		/* Filesystems without O_DIRECT (tmpfs): only regular files. */
		fd = open(path, flags);
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
	} else {
		return -1;
	}
	if (fstat(fd, &st))
		goto fail;
	if (S_ISBLK(st.st_mode)) {
		int ssz = 0;
		uint64_t bytes = 0;

		if (ioctl(fd, BLKSSZGET, &ssz) || ioctl(fd, BLKGETSIZE64, &bytes))
			goto fail;
		bio->sector_size = (uint32_t)ssz;
		bio->size = bytes;
		bio->is_blockdev = true;
	} else if (S_ISREG(st.st_mode)) {
		bio->sector_size = o->file_sector_size ? o->file_sector_size : 512u;
		bio->size = (uint64_t)st.st_size;
	} else {
		errno = ENOTBLK;
		goto fail;
	}
	bio->fd = fd;
	bio->read_only = o->read_only;
	return 0;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static void direct_close(struct dl_bio *bio)
{
	if (bio->fd >= 0)
		close(bio->fd);
	bio->fd = -1;
}

/* One whole transfer: a short one is an error (EIO), never ignored. */
static int transfer(struct dl_bio *bio, void *rbuf, const void *wbuf, size_t len,
		    uint64_t off)
{
	ssize_t n;

	do {
		n = rbuf ? pread(bio->fd, rbuf, len, (off_t)off)
			 : pwrite(bio->fd, wbuf, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* The transfer happens here: the request completes before submit
 * returns. */
static int direct_submit(struct dl_bio *bio, struct dl_bio_req *req)
{
	int rc = req->op == DL_BIO_READ ? transfer(bio, req->buf, NULL, req->len, req->off)
					: transfer(bio, NULL, req->buf, req->len, req->off);

	dl_bio_complete(bio, req, rc, rc ? errno : 0);
	return 0;
}

/* Nothing is ever left in flight. */
static int direct_wait(struct dl_bio *bio, uint64_t timeout_ns)
{
	(void)bio;
	(void)timeout_ns;
	return 0;
}

const struct dl_bio_ops dl_bio_direct_ops = {
	.name = "direct",
	.open = direct_open,
	.close = direct_close,
	.submit = direct_submit,
	.wait = direct_wait,
};
