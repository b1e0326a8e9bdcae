/* The capability drop (daemon/parent/privileges.c), in a forked process
 * so that this test keeps its own: afterwards no capability but
 * CAP_NET_BIND_SERVICE is left in any set (inheritable and ambient: none),
 * a privileged port can still be bound, and no_new_privs is set.
 * The kept capability failed first on the code that dropped them all. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "privileges.h"

/* The child's verdict, as its exit status. */
enum { OK = 0, DROP_FAILED = 10, CAPS_LEFT, NO_NNP, AMBIENT_LEFT, BOUNDING_LEFT, BIND_FAILED };

/* A privileged port on a 127.x address: CAP_NET_BIND_SERVICE at work. */
static bool bind_privileged(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(0) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	if (fd < 0)
		return false;
	a.sin_addr.s_addr = htonl(0x7f4d0901u);      /* 127.77.9.1 */
	for (uint16_t p = 900; p < 1000 && !ok; p++) {
		a.sin_port = htons(p);
		ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	}
	close(fd);
	return ok;
}

static int check_dropped(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (dld_privileges_drop())
		return DROP_FAILED;
	memset(data, 0xff, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return CAPS_LEFT;
	data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].effective &= ~CAP_TO_MASK(CAP_NET_BIND_SERVICE);
	data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].permitted &= ~CAP_TO_MASK(CAP_NET_BIND_SERVICE);
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return CAPS_LEFT;
	if (geteuid() == 0 && !bind_privileged())
		return BIND_FAILED;
	if (geteuid() == 0 && prctl(PR_CAPBSET_READ, CAP_NET_BIND_SERVICE, 0, 0, 0) != 1)
		return BIND_FAILED;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return NO_NNP;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_ADMIN, 0, 0) == 1)
		return AMBIENT_LEFT;
	/* As root with CAP_SETPCAP the bounding set is emptied too. */
	if (geteuid() == 0 && prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == 1)
		return BOUNDING_LEFT;
	return OK;
}

static void test_drop(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(check_dropped());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
