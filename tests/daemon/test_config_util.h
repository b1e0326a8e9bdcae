/* Helpers of the config tests (test_config*.c): temporary config files,
 * an argv from a list, and the text a call writes to stdout or stderr. */
#ifndef TEST_CONFIG_UTIL_H
#define TEST_CONFIG_UTIL_H

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dld.h"

/* A temporary file with text in it; its path in path. */
static inline void tc_write_file(char *path, size_t len, const char *text)
{
	int fd;

	if (!path[0]) {
		snprintf(path, len, "/tmp/dld-test-config-XXXXXX");
		fd = mkstemp(path);
	} else {
		fd = open(path, O_WRONLY | O_TRUNC);
	}
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* What fd (1 or 2) gets between tc_capture_start and tc_capture_end. */
struct tc_capture {
	int fd, saved;
	FILE *tmp;
	char text[16384];
};

static inline void tc_capture_start(struct tc_capture *cap, int fd)
{
	fflush(stdout);
	fflush(stderr);
	cap->fd = fd;
	cap->tmp = tmpfile();
	assert_non_null(cap->tmp);
	cap->saved = dup(fd);
	assert_true(cap->saved >= 0);
	assert_true(dup2(fileno(cap->tmp), fd) >= 0);
}

static inline const char *tc_capture_end(struct tc_capture *cap)
{
	size_t n;

	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(cap->saved, cap->fd) >= 0);
	close(cap->saved);
	rewind(cap->tmp);
	n = fread(cap->text, 1, sizeof(cap->text) - 1, cap->tmp);
	cap->text[n] = 0;
	fclose(cap->tmp);
	return cap->text;
}

#define TC_MAX_ARGS 300

/* dld_config_load on defaults and "disklinkd" + the NULL-terminated args;
 * stderr is captured into cap->text. */
static inline int tc_load(struct dld_config *c, struct tc_capture *cap, bool *exit_now,
			  const char *const *args)
{
	char *argv[TC_MAX_ARGS + 2];
	int argc = 0, rc;

	argv[argc++] = strdup("disklinkd");
	for (; *args && argc <= TC_MAX_ARGS; args++)
		argv[argc++] = strdup(*args);
	argv[argc] = NULL;
	dld_config_defaults(c);
	tc_capture_start(cap, 2);
	rc = dld_config_load(c, argc, argv, exit_now);
	tc_capture_end(cap);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return rc;
}

#endif
