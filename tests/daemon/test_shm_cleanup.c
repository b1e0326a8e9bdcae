/* The stale blackbox files in /dev/shm (daemon/common/shm_cleanup.c), in a
 * directory of the test's own: only our name's pairs of PIDs that are not
 * running and whose header nobody locks are removed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm_cleanup.h"

#define NAME "disklinkd"

static char dir[] = "/tmp/dld-test-shm-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void touch(const char *file)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static bool exists(const char *file)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

static void file_of(char *buf, size_t len, pid_t pid, const char *part)
{
	snprintf(buf, len, "qb-" NAME "-%ld-blackbox-%s", (long)pid, part);
}

static void pair(pid_t pid)
{
	char f[NAME_MAX];

	file_of(f, sizeof(f), pid, "header");
	touch(f);
	file_of(f, sizeof(f), pid, "data");
	touch(f);
}

/* Both files of pid there (true), both gone (false); never one alone. */
static bool pair_left(pid_t pid)
{
	char h[NAME_MAX], d[NAME_MAX];

	file_of(h, sizeof(h), pid, "header");
	file_of(d, sizeof(d), pid, "data");
	assert_int_equal(exists(h), exists(d));
	return exists(h);
}

/* A PID that ran and is reaped: not running (unless reused at once). */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return pid;
}

/* A dead daemon's pair goes; a running one's (the parent's, init) stays. */
static void test_dead_removed_live_kept(void **state)
{
	pid_t dead = dead_pid();

	(void)state;
	pair(dead);
	pair(getppid());
	pair(1);
	assert_int_equal(dld_shm_cleanup(dir, NAME), 2);
	assert_false(pair_left(dead));
	assert_true(pair_left(getppid()));
	assert_true(pair_left(1));
	assert_int_equal(dld_shm_cleanup(dir, NAME), 0);
}

/* Our own PID's pair is stale: ours is not made yet (a daemon that was
 * PID 1 of another namespace). */
static void test_own_pid_stale(void **state)
{
	(void)state;
	pair(getpid());
	assert_int_equal(dld_shm_cleanup(dir, NAME), 2);
	assert_false(pair_left(getpid()));
}

/* A header locked (a daemon of another PID namespace, where its PID is not
 * ours to see) keeps the pair; unlocked, it goes. */
static void test_locked_kept(void **state)
{
	pid_t dead = dead_pid();
	int fd;

	(void)state;
	pair(dead);
	fd = dld_shm_hold(dir, NAME, dead);
	assert_true(fd >= 0);
	assert_int_equal(dld_shm_cleanup(dir, NAME), 0);
	assert_true(pair_left(dead));
	close(fd);
	assert_int_equal(dld_shm_cleanup(dir, NAME), 2);
	assert_false(pair_left(dead));
}

/* The lock passes to a forked child (the I/O child, which maps the files
 * too): it keeps the pair after its parent let go. */
static void test_lock_inherited(void **state)
{
	pid_t dead = dead_pid(), child;
	int fd, p[2];
	char c;

	(void)state;
	pair(dead);
	fd = dld_shm_hold(dir, NAME, dead);
	assert_true(fd >= 0);
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) < 0);
	}
	close(p[0]);
	close(fd);
	assert_int_equal(dld_shm_cleanup(dir, NAME), 0);
	assert_true(pair_left(dead));
	close(p[1]);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(dld_shm_cleanup(dir, NAME), 2);
}

/* The name with '@' replaced by pid. */
static void fill(char *buf, size_t len, const char *tmpl, pid_t pid)
{
	const char *at = strchr(tmpl, '@');

	assert_non_null(at);
	snprintf(buf, len, "%.*s%ld%s", (int)(at - tmpl), tmpl, (long)pid, at + 1);
}

/* Only our name's exact pattern: nothing else in the directory. */
static void test_other_names_kept(void **state)
{
	static const char *const keep[] = {
		"qb-corosync-@-blackbox-header", "qb-" NAME "x-@-blackbox-header",
		"qb-" NAME "-@-blackbox-headerx", "qb-" NAME "-@-blackbox-data.1",
		"qb-" NAME "-0@-blackbox-header", "qb-" NAME "--@-blackbox-data",
		"qb-" NAME "-@1-blackbox-datax", "x-qb-" NAME "-@-blackbox-data",
		"qb-" NAME "-99999999999-blackbox-header@", "qb-" NAME "-@-blackbox-",
	};
	pid_t dead = dead_pid();
	char f[NAME_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		fill(f, sizeof(f), keep[i], dead);
		touch(f);
	}
	assert_int_equal(dld_shm_cleanup(dir, NAME), 0);
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		fill(f, sizeof(f), keep[i], dead);
		assert_true(exists(f));
	}
}

/* A data file without its header goes on the PID alone; a header that is
 * a symbolic link is not followed nor removed. */
static void test_data_alone_and_links(void **state)
{
	pid_t dead = dead_pid(), dead2 = dead_pid();
	char d[NAME_MAX], h[NAME_MAX], path[PATH_MAX];

	(void)state;
	file_of(d, sizeof(d), dead, "data");
	touch(d);
	file_of(d, sizeof(d), getppid(), "data");
	touch(d);
	file_of(h, sizeof(h), dead2, "header");
	snprintf(path, sizeof(path), "%s/%s", dir, h);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(dld_shm_cleanup(dir, NAME), 1);
	file_of(d, sizeof(d), dead, "data");
	assert_false(exists(d));
	file_of(d, sizeof(d), getppid(), "data");
	assert_true(exists(d));
	assert_true(exists(h));
	assert_int_equal(access("/etc/passwd", F_OK), 0);
}

static void test_errors(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(dld_shm_cleanup("/nonexistent/dld-shm", NAME), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dld_shm_hold(dir, NAME, 12345), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dead_removed_live_kept),
		cmocka_unit_test(test_own_pid_stale),
		cmocka_unit_test(test_locked_kept),
		cmocka_unit_test(test_lock_inherited),
		cmocka_unit_test(test_other_names_kept),
		cmocka_unit_test(test_data_alone_and_links),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
