/* disklinkd's capability drop (doc/security.md). */
#ifndef DLD_PRIVILEGES_H
#define DLD_PRIVILEGES_H

/* Drop every capability but CAP_NET_BIND_SERVICE (bounding, ambient,
 * effective, permitted, inheritable: the bounding set keeps it, effective
 * and permitted keep it if the process had it) and set
 * PR_SET_NO_NEW_PRIVS.  The process keeps uid 0: the device nodes and the
 * control directory are root's (owner bits); the one capability binds
 * a privileged link port.  0, or -1 with errno (logged). */
int dld_privileges_drop(void);

#endif
