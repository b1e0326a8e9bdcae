/* Finding disklink volumes among the block devices of this host, so that
 * a volume can be named by its uuid rather than by an unstable path. */
#ifndef DL_VOLUME_FIND_H
#define DL_VOLUME_FIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt_error.h"
#include "superblock.h"

/* One device that carries the disklink magic.  sb is NULL when its
 * superblock is unusable (why says why: a newer format version, a
 * checksum, a device smaller than the volume...).  held: the device is
 * a component of another one (a path under a multipath or md device, a
 * dm or md member), which then is the one to use.  Nonzero stops the scan. */
typedef int (*dl_volume_find_cb)(void *arg, const char *path, const struct dl_sb *sb,
				 enum dl_err why, bool held);

/* Visit every block device under /sys/class/block in name order.  Devices
 * that cannot be opened (read-only, O_DIRECT) or hold no disklink magic are
 * skipped silently.  0, or -1 with errno when sysfs cannot be read. */
int dl_volume_find_each(dl_volume_find_cb cb, void *arg);

/* The device path ("/dev/NAME") of the volume with this uuid: devices
 * not held by another are preferred.  0, or -1 with errno ENOENT (none),
 * ENOTUNIQ (several devices: path gets the first), ENAMETOOLONG. */
int dl_volume_find_by_uuid(const uint8_t uuid[16], char *path, size_t len);

#endif
