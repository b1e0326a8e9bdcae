/* Stale libqb blackbox files in /dev/shm (the rule: shm_cleanup.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm_cleanup.h"

enum bb_part { BB_NONE, BB_HEADER, BB_DATA };

/* "qb-NAME-PID-blackbox-header|data": which part, and the PID. */
static enum bb_part bb_parse(const char *file, const char *name, pid_t *pid)
{
	size_t nlen = strlen(name);
	const char *p = file + 3, *end;
	long v = 0;

	if (strncmp(file, "qb-", 3) || strncmp(p, name, nlen) || p[nlen] != '-')
		return BB_NONE;
	p += nlen + 1;
	for (end = p; *end >= '0' && *end <= '9'; end++) {
		v = v * 10 + (*end - '0');
		if (v > INT_MAX)
			return BB_NONE;
	}
	if (end == p || v == 0)
		return BB_NONE;
	*pid = (pid_t)v;
	if (!strcmp(end, "-blackbox-header"))
		return BB_HEADER;
	if (!strcmp(end, "-blackbox-data"))
		return BB_DATA;
	return BB_NONE;
}

/* Not running in our namespace; our own PID's pair is not made yet. */
static bool pid_gone(pid_t pid)
{
	return pid == getpid() || (kill(pid, 0) && errno == ESRCH);
}

static void bb_name(char *buf, size_t len, const char *name, pid_t pid, const char *part)
{
	snprintf(buf, len, "qb-%s-%ld-blackbox-%s", name, (long)pid, part);
}

/* pid's pair, if its header is locked by nobody: 0..2 files removed. */
static int remove_pair(int dfd, const char *name, pid_t pid)
{
	char header[NAME_MAX + 1], data[NAME_MAX + 1];
	struct stat st, now;
	int fd, n = 0;

	bb_name(header, sizeof(header), name, pid, "header");
	bb_name(data, sizeof(data), name, pid, "data");
	fd = openat(dfd, header, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || flock(fd, LOCK_EX | LOCK_NB) ||
	    fstatat(dfd, header, &now, AT_SYMLINK_NOFOLLOW) ||
	    now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
		close(fd);
		return 0;
	}
	if (unlinkat(dfd, data, 0) == 0)
		n++;
	if (unlinkat(dfd, header, 0) == 0)
		n++;
	close(fd);                     /* releases the lock */
	return n;
}

/* A data file whose header is gone. */
static int remove_data(int dfd, const char *name, pid_t pid)
{
	char header[NAME_MAX + 1], data[NAME_MAX + 1];
	struct stat st;

	bb_name(header, sizeof(header), name, pid, "header");
	bb_name(data, sizeof(data), name, pid, "data");
	if (fstatat(dfd, header, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return 0;
	if (fstatat(dfd, data, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
		return 0;
	return unlinkat(dfd, data, 0) == 0;
}

int dld_shm_cleanup(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		pid_t pid;

		switch (bb_parse(e->d_name, name, &pid)) {
		case BB_HEADER:
			if (pid_gone(pid))
				n += remove_pair(dirfd(d), name, pid);
			break;
		case BB_DATA:
			if (pid_gone(pid))
				n += remove_data(dirfd(d), name, pid);
			break;
		case BB_NONE:
			break;
		}
	}
	closedir(d);
	return n;
}

int dld_shm_hold(const char *dir, const char *name, pid_t pid)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/qb-%s-%ld-blackbox-header", dir, name,
		     (long)pid) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_SH | LOCK_NB)) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
