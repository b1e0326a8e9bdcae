/* disklinkd's capability drop (doc/security.md). */
#ifndef DLD_PRIVILEGES_H
#define DLD_PRIVILEGES_H

/* Drop every capability (bounding, ambient, effective, permitted,
 * inheritable) and set PR_SET_NO_NEW_PRIVS.  The process keeps uid 0,
 * which is all it needs afterwards: the device nodes and the control
 * directory are root's (owner bits), and the link's UDP ports are
 * unprivileged.  0, or -1 with errno (logged). */
int dld_privileges_drop(void);

#endif
