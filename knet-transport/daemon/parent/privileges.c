/* The capability drop: once the control socket is open, disklinkd needs
 * one capability, CAP_NET_BIND_SERVICE, for the peer sockets it binds
 * later (corosync mode binds after a reload; a privileged link port is
 * what keeps unprivileged users off the knet end).  It stays uid 0, so that the I/O
 * children it forks later can open the root-owned device nodes (through
 * the owner bits, without CAP_DAC_OVERRIDE); what someone who took the
 * process over could still do is what uid 0 without capabilities can:
 * see doc/security.md.  prctl() and capset() directly, no libcap. */
#include "config.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privileges.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define KEPT CAP_NET_BIND_SERVICE

/* The bounding set first: dropping from it needs CAP_SETPCAP, which the
 * capset() below removes. */
static int drop_bounding(void)
{
	for (unsigned long cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0)              /* EINVAL: past the kernel's last capability */
			break;
		if (r == 1 && cap != KEPT && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
			log_err(DLD_SUB_MAIN, "cannot drop capability %lu from the bounding "
				"set: %s", cap, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Effective and permitted: CAP_NET_BIND_SERVICE if the process had it,
 * nothing else; inheritable: nothing. */
static int clear_sets(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint32_t had;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		memset(data, 0, sizeof(data));
	had = data[CAP_TO_INDEX(KEPT)].permitted & CAP_TO_MASK(KEPT);
	memset(data, 0, sizeof(data));
	data[CAP_TO_INDEX(KEPT)].permitted = had;
	data[CAP_TO_INDEX(KEPT)].effective = had;
	if (syscall(SYS_capset, &hdr, data)) {
		log_err(DLD_SUB_MAIN, "cannot clear the capability sets: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int have_setpcap(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return !!(data[CAP_TO_INDEX(CAP_SETPCAP)].effective & CAP_TO_MASK(CAP_SETPCAP));
}

int dld_privileges_drop(void)
{
	/* Not root (a test, or a user's run): there is nothing to give up
	 * but what the bounding set allows; leave it, clear the rest. */
	if (have_setpcap() && drop_bounding())
		return -1;
	/* Ambient capabilities would survive an execve(): none. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		log_err(DLD_SUB_MAIN, "cannot clear the ambient capabilities: %s", strerror(errno));
		return -1;
	}
	if (clear_sets())
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		log_err(DLD_SUB_MAIN, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	log_info(DLD_SUB_MAIN, "dropped every capability but CAP_NET_BIND_SERVICE (bounding, "
		 "effective, permitted, inheritable, ambient); no_new_privs set");
	return 0;
}
