/* Who owns the local knet end: the kernel's socket diagnostics
 * (inet_diag over AF_NETLINK, NETLINK_SOCK_DIAG) tell the uid and inode
 * of the UDP socket bound on an exact local address and port.  The
 * relay trusts the knet end only when every socket that could send from
 * it, or receive what is sent to it, belongs to the expected uid
 * (doc/security.md). */
#ifndef DLD_OWNER_H
#define DLD_OWNER_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct dld_owner {
	uid_t uid;                     /* of the first socket not owned by  */
	uint64_t inode;                /* the expected uid, else of the first */
	uint32_t count;                /* sockets on that address and port  */
};

/* Look up the UDP sockets bound on addr (its address and port, or the
 * wildcard address on that port).  0 with *o filled (o->count may be 0:
 * nothing holds it); -1 with errno (netlink failed).  want: the expected
 * uid; o->uid is that of the first socket owned by another uid, if any. */
int dld_owner_lookup(const struct sockaddr_storage *addr, uid_t want, struct dld_owner *o);

#endif
