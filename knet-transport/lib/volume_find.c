/* Scan /sys/class/block for disklink volumes. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "volume.h"
#include "volume_find.h"

#define SYS_BLOCK "/sys/class/block"

/* Size of a block device in bytes from sysfs (512-byte units). */
static uint64_t sys_size(const char *name)
{
	char p[PATH_MAX];
	unsigned long long sectors = 0;
	FILE *f;

	snprintf(p, sizeof(p), SYS_BLOCK "/%s/size", name);
	f = fopen(p, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &sectors) != 1)
		sectors = 0;
	fclose(f);
	return (uint64_t)sectors * 512u;
}

/* Does another device hold this one (multipath, md, dm)? */
static bool sys_held(const char *name)
{
	char p[PATH_MAX];
	struct dirent *e;
	bool held = false;
	DIR *d;

	snprintf(p, sizeof(p), SYS_BLOCK "/%s/holders", name);
	d = opendir(p);
	if (!d)
		return false;
	while (!held && (e = readdir(d)))
		held = e->d_name[0] != '.';
	closedir(d);
	return held;
}

static int not_dot(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Open one device read-only and decode its superblock.  1 when it
 * carries the disklink magic (sb valid or not), 0 when not. */
static int probe(const char *path, struct dl_sb *sb, enum dl_err *why)
{
	struct dl_bio_opts opts = { .read_only = true };
	struct dl_volume v;

	*why = DL_OK;
	if (dl_volume_open(&v, path, NULL, &opts, why) == 0) {
		*sb = v.sb;
		dl_volume_close(&v);
		return 1;
	}
	/* Device errors and foreign data are not ours to report. */
	if (*why == DL_OK || *why == DL_E_EMPTY || *why == DL_E_MAGIC)
		return 0;
	return 1;
}

int dl_volume_find_each(dl_volume_find_cb cb, void *arg)
{
	struct dirent **names = NULL;
	int n, stop = 0;

	n = scandir(SYS_BLOCK, &names, not_dot, alphasort);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[PATH_MAX];
		struct stat st;
		struct dl_sb sb;
		enum dl_err why;

		if (stop || sys_size(name) < DL_REGION_MIN)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", name);
		if (stat(path, &st) || !S_ISBLK(st.st_mode))
			continue;
		if (probe(path, &sb, &why))
			stop = cb(arg, path, why == DL_OK ? &sb : NULL, why, sys_held(name));
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}

struct by_uuid {
	const uint8_t *uuid;
	char first_free[PATH_MAX];     /* first match not held by another device */
	char first_held[PATH_MAX];
	unsigned n_free, n_held;
};

static int match_uuid(void *arg, const char *path, const struct dl_sb *sb, enum dl_err why,
		      bool held)
{
	struct by_uuid *b = arg;

	(void)why;
	if (!sb || memcmp(sb->uuid, b->uuid, 16))
		return 0;
	if (held) {
		if (!b->n_held++)
			snprintf(b->first_held, sizeof(b->first_held), "%s", path);
	} else {
		if (!b->n_free++)
			snprintf(b->first_free, sizeof(b->first_free), "%s", path);
	}
	return 0;
}

int dl_volume_find_by_uuid(const uint8_t uuid[16], char *path, size_t len)
{
	struct by_uuid *b;
	const char *found;
	unsigned count;
	int rc = 0;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	b->uuid = uuid;
	if (dl_volume_find_each(match_uuid, b)) {
		int err = errno;

		free(b);
		errno = err;
		return -1;
	}
	found = b->n_free ? b->first_free : b->first_held;
	count = b->n_free ? b->n_free : b->n_held;
	if (count == 0) {
		free(b);
		errno = ENOENT;
		return -1;
	}
	if (strlen(found) >= len) {
		free(b);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(path, found);
	if (count > 1) {
		errno = ENOTUNIQ;
		rc = -1;
	}
	free(b);
	return rc;
}
