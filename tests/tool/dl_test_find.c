/* Test helper: prints the device dl_volume_find_by_uuid() resolves a
 * uuid to.  Exit 0 found, 2 ENOENT, 3 ENOTUNIQ, 1 other errors. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "superblock.h"
#include "volume_find.h"

int main(int argc, char **argv)
{
	uint8_t uuid[16];
	char path[PATH_MAX];

	if (argc != 2 || dl_uuid_parse(argv[1], uuid)) {
		fprintf(stderr, "usage: %s UUID\n", argv[0]);
		return 1;
	}
	if (dl_volume_find_by_uuid(uuid, path, sizeof(path))) {
		int err = errno;

		fprintf(stderr, "%s (%s)\n", err == ENOENT ? "ENOENT" :
			err == ENOTUNIQ ? "ENOTUNIQ" : "error", strerror(err));
		return err == ENOENT ? 2 : err == ENOTUNIQ ? 3 : 1;
	}
	printf("%s\n", path);
	return 0;
}
