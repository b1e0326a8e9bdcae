/* Logging (daemon/common/log.c): stderr is left out when it is the
 * journal (no line twice), the log file is reopened after a rotation,
 * and a fatal signal dumps libqb's blackbox into the state directory. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dld.h"

static char dir[] = "/tmp/dld-test-log-XXXXXX";

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

static bool file_has(const char *path, const char *text)
{
	char buf[8192];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return memmem(buf, n, text, strlen(text)) != NULL;
}

/* $JOURNAL_STREAM names the stream by device and inode. */
static void test_journal_stream(void **state)
{
	char path[PATH_MAX], env[64];
	struct stat st;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/stream", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	assert_true(dld_log_fd_is_journal(fd, env));
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	assert_false(dld_log_fd_is_journal(fd, env));
	assert_false(dld_log_fd_is_journal(fd, NULL));
	assert_false(dld_log_fd_is_journal(fd, "garbage"));
	assert_false(dld_log_fd_is_journal(-1, "1:2"));
	close(fd);
}

static void test_blackbox_path(void **state)
{
	char buf[PATH_MAX];

	(void)state;
	assert_int_equal(dld_log_blackbox_path(buf, sizeof(buf), "/var/lib/x:/var/lib/y", 42), 0);
	assert_string_equal(buf, "/var/lib/x/fdata-disklinkd-42");
	assert_int_equal(dld_log_blackbox_path(buf, sizeof(buf), NULL, 7), 0);
	assert_string_equal(buf, DLD_STATE_DIR "/fdata-disklinkd-7");
	assert_int_equal(dld_log_blackbox_path(buf, 8, "/var/lib/x", 42), -1);
}

/* logrotate moves the file, then sends SIGHUP: the next lines go to a
 * new file of the old name. */
static void test_reopen(void **state)
{
	struct dld_config *c = calloc(1, sizeof(*c));
	char moved[PATH_MAX];

	(void)state;
	assert_non_null(c);
	c->log_target = -1;
	snprintf(c->log_file, sizeof(c->log_file), "%s/disklinkd.log", dir);
	snprintf(moved, sizeof(moved), "%s/disklinkd.log.1", dir);
	dld_log_init(c);
	assert_true(c->log_target >= 0);
	log_notice(DLD_SUB_MAIN, "before the rotation");
	assert_int_equal(rename(c->log_file, moved), 0);
	dld_log_reopen(c);
	log_notice(DLD_SUB_MAIN, "after the rotation");
	dld_log_fini();
	assert_true(file_has(moved, "before the rotation"));
	assert_false(file_has(moved, "after the rotation"));
	assert_true(file_has(c->log_file, "after the rotation"));
	free(c);
}

/* A process that aborts leaves its blackbox in $STATE_DIRECTORY. */
static void test_blackbox_on_abort(void **state)
{
	char path[PATH_MAX];
	int st;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { .rlim_cur = 0, .rlim_max = 0 };
		struct dld_config c = { .log_target = -1 };

		setrlimit(RLIMIT_CORE, &no_core);
		setenv("STATE_DIRECTORY", dir, 1);
		dld_log_init(&c);
		log_debug(DLD_SUB_IO, "the last words before the abort");
		abort();
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	assert_int_equal(dld_log_blackbox_path(path, sizeof(path), dir, (long)pid), 0);
	assert_int_equal(access(path, R_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_stream),
		cmocka_unit_test(test_blackbox_path),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_blackbox_on_abort),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
