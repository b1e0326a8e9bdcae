/* Block I/O behind an ops table, so tests can put a fault-injecting
 * implementation in the place of the real one. */
#ifndef DL_BIO_H
#define DL_BIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dl_bio;

struct dl_bio_opts {
	bool     read_only;
	bool     dsync;                /* O_DSYNC (force unit access) writes */
	uint32_t file_sector_size;     /* for regular files; 0 = 512 */
};

struct dl_bio_ops {
	const char *name;
	/* Fill bio->fd, sector_size, size, is_blockdev, direct. */
	int  (*open)(struct dl_bio *bio, const char *path, const struct dl_bio_opts *opts);
	void (*close)(struct dl_bio *bio);
	/* Transfer exactly len bytes: 0, or -1 with errno (EIO on a short
	 * transfer).  Offsets and lengths are multiples of sector_size. */
	int  (*read)(struct dl_bio *bio, void *buf, size_t len, uint64_t off);
	int  (*write)(struct dl_bio *bio, const void *buf, size_t len, uint64_t off);
};

struct dl_bio {
	const struct dl_bio_ops *ops;
	int      fd;
	uint32_t sector_size;          /* logical block size (BLKSSZGET) */
	uint64_t size;                 /* bytes */
	bool     is_blockdev;
	bool     direct;               /* opened with O_DIRECT */
	bool     read_only;
	void    *priv;                 /* for wrapping implementations */
};

/* The real implementation: O_DIRECT, aligned buffers, BLKSSZGET. */
extern const struct dl_bio_ops dl_bio_direct_ops;

/* Alignment of every I/O buffer. */
#define DL_BIO_ALIGN 4096u

/* Open with ops (NULL: dl_bio_direct_ops).  0, or -1 with errno. */
int dl_bio_open(struct dl_bio *bio, const struct dl_bio_ops *ops, const char *path,
		const struct dl_bio_opts *opts);
void dl_bio_close(struct dl_bio *bio);

/* Checked transfers: alignment and bounds are validated (EINVAL), the
 * ops' error is passed on with errno. */
int dl_bio_read(struct dl_bio *bio, void *buf, size_t len, uint64_t off);
int dl_bio_write(struct dl_bio *bio, const void *buf, size_t len, uint64_t off);

/* An aligned, zeroed buffer for I/O; free with free(). */
void *dl_bio_alloc(size_t len);

#endif
