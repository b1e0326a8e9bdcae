/* The owner of the local knet end (daemon/parent/owner.c) against real
 * sockets: UDP sockets bound on 127.77.9.x by this test (root) and by
 * children that became nobody (setresuid, as `setpriv --reuid=nobody`
 * does), looked up through the kernel's inet_diag.  Without root the
 * children cannot change uid: those cases are skipped.
 * Failed first on the code before the owner check: owner.c did not exist. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "owner.h"

#define NOBODY 65534u

static uint16_t test_port(uint16_t k)
{
	return (uint16_t)(20000u + (uint32_t)getpid() % 20000u + k);
}

static struct sockaddr_storage addr4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss = { .ss_family = AF_INET };
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	a->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return ss;
}

static int bound(const struct sockaddr_storage *ss)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (const struct sockaddr *)ss, sizeof(struct sockaddr_in)), 0);
	return fd;
}

/* A child that becomes nobody, binds ss, says so on the pipe and waits
 * for its end; its pid, or 0 when this test cannot change uid. */
static pid_t nobody_binds(const struct sockaddr_storage *ss, int *hold)
{
	int ready[2], stop[2];
	pid_t pid;
	char c = 0;

	if (geteuid() != 0)
		return 0;
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(stop), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		close(ready[0]);
		close(stop[1]);
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(2);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, (const struct sockaddr *)ss, sizeof(struct sockaddr_in)))
			_exit(3);
		if (write(ready[1], "x", 1) != 1 || read(stop[0], &c, 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(ready[1]);
	close(stop[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*hold = stop[1];
	return pid;
}

static void reap(pid_t pid, int hold)
{
	int st = 0;

	close(hold);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_own_socket(void **state)
{
	struct sockaddr_storage ss = addr4("127.77.9.1", test_port(0));
	struct dld_owner o;
	struct stat st;
	int fd = bound(&ss);

	(void)state;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(dld_owner_lookup(&ss, geteuid(), &o), 0);
	assert_int_equal(o.count, 1);
	assert_int_equal(o.uid, geteuid());
	assert_int_equal(o.inode, (uint64_t)st.st_ino);
	close(fd);
}

static void test_nothing_bound(void **state)
{
	struct sockaddr_storage ss = addr4("127.77.9.2", test_port(1));
	struct dld_owner o;

	(void)state;
	assert_int_equal(dld_owner_lookup(&ss, 0, &o), 0);
	assert_int_equal(o.count, 0);
}

/* Another address on the same port is not the knet end. */
static void test_other_address(void **state)
{
	struct sockaddr_storage ss = addr4("127.77.9.3", test_port(2));
	struct sockaddr_storage other = addr4("127.77.9.4", test_port(2));
	struct dld_owner o;
	int fd = bound(&other);

	(void)state;
	assert_int_equal(dld_owner_lookup(&ss, 0, &o), 0);
	assert_int_equal(o.count, 0);
	close(fd);
}

static void test_nobody(void **state)
{
	struct sockaddr_storage ss = addr4("127.77.9.5", test_port(3));
	struct dld_owner o;
	int hold = -1;
	pid_t pid = nobody_binds(&ss, &hold);

	(void)state;
	if (!pid)
		skip();
	assert_int_equal(dld_owner_lookup(&ss, 0, &o), 0);
	assert_int_equal(o.count, 1);
	assert_int_equal(o.uid, NOBODY);
	reap(pid, hold);
	assert_int_equal(dld_owner_lookup(&ss, 0, &o), 0);
	assert_int_equal(o.count, 0);
}

/* A wildcard socket on the port could send from the knet end's address
 * (IP_PKTINFO): it counts, and its owner is reported. */
static void test_nobody_wildcard(void **state)
{
	struct sockaddr_storage ss = addr4("127.77.9.6", test_port(4));
	struct sockaddr_storage any = addr4("0.0.0.0", test_port(4));
	struct dld_owner o;
	int hold = -1;
	pid_t pid = nobody_binds(&any, &hold);

	(void)state;
	if (!pid)
		skip();
	assert_int_equal(dld_owner_lookup(&ss, 0, &o), 0);
	assert_int_equal(o.count, 1);
	assert_int_equal(o.uid, NOBODY);
	reap(pid, hold);
}

static void test_bad_family(void **state)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNIX };
	struct dld_owner o;

	(void)state;
	assert_int_equal(dld_owner_lookup(&ss, 0, &o), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_socket),
		cmocka_unit_test(test_nothing_bound),
		cmocka_unit_test(test_other_address),
		cmocka_unit_test(test_nobody),
		cmocka_unit_test(test_nobody_wildcard),
		cmocka_unit_test(test_bad_family),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
