/* libqb's blackbox files that crashed daemons left in /dev/shm.
 *
 * libqb keeps the blackbox (log.c) in a ring buffer mapped from two files,
 * DIR/qb-NAME-PID-blackbox-header and -data (NAME: qb_log_init's, PID:
 * getpid() when it was enabled).  libqb removes them at qb_log_fini(); a
 * daemon killed with SIGKILL leaves them behind, and restarts fill /dev/shm.
 * Since libqb creates them O_EXCL, a stale pair also costs the blackbox of
 * the next daemon given that PID (every daemon that is its namespace's
 * init is PID 1).
 *
 * The rule, safe when daemons in other PID namespaces share /dev/shm (the
 * tests do; a PID in a file name may be another namespace's):
 * - a daemon holds a shared flock(2) on its header for its whole life
 *   (dld_shm_hold); its I/O child inherits it, so the lock lasts while
 *   any process that maps the files lives;
 * - at start-up (before its own pair exists) a daemon removes a pair when
 *   the name is exactly qb-NAME-<digits>-blackbox-header|data, that PID is
 *   not running in its own namespace (kill(PID, 0) fails with ESRCH; its
 *   own PID counts as not running: its pair does not exist yet), AND an
 *   exclusive flock on the header is granted at once (no daemon of any
 *   namespace holds it).  A data file without its header goes on the
 *   PID's word alone.  The lock is held while both are removed, data
 *   first, and only if the header's name still is the inode locked.
 * Scanning /proc/PID/maps would not see other namespaces' processes.  The
 * one window left, between libqb creating a daemon's pair and that daemon
 * locking it, costs nothing: a removed pair stays mapped and the blackbox
 * still dumps from memory. */
#ifndef DLD_SHM_CLEANUP_H
#define DLD_SHM_CLEANUP_H

#include <sys/types.h>

#define DLD_SHM_DIR "/dev/shm"          /* where libqb puts them on Linux */

/* Remove the stale blackbox files of daemons called name in dir (the rule
 * above).  The number of files removed, or -1 with errno when dir cannot
 * be read. */
int dld_shm_cleanup(const char *dir, const char *name);
/* Mark pid's blackbox in dir as in use: the shared lock on its header,
 * held on the returned fd (close-on-exec, inherited by fork) until it is
 * closed.  The fd, or -1 with errno. */
int dld_shm_hold(const char *dir, const char *name, pid_t pid);

#endif
