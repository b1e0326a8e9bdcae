/* The block layer's in-flight counters of a volume's device (inflight.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inflight.h"

int dld_inflight_parse(const char *text, uint64_t *n)
{
	unsigned long long r, w;
	int used = 0;

	if (sscanf(text, " %llu %llu %n", &r, &w, &used) != 2 || text[used]) {
		errno = EINVAL;
		return -1;
	}
	*n = (uint64_t)r + w;
	return 0;
}

int dld_inflight_read(const char *path, uint64_t *n)
{
	char sys[64], text[64];
	struct stat st;
	dev_t dev;
	ssize_t len;
	int fd, err;

	if (stat(path, &st))
		return -1;
	if (S_ISBLK(st.st_mode)) {
		dev = st.st_rdev;
	} else if (S_ISREG(st.st_mode)) {
		dev = st.st_dev;
	} else {
		errno = EINVAL;
		return -1;
	}
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/inflight", major(dev), minor(dev));
	fd = open(sys, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = ENODEV;        /* an anonymous device (major 0): none */
		return -1;
	}
	len = read(fd, text, sizeof(text) - 1);
	err = errno;
	close(fd);
	if (len < 0) {
		errno = err;
		return -1;
	}
	text[len] = 0;
	return dld_inflight_parse(text, n);
}
