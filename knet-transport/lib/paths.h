/* Default paths shared by the daemon and the tool. */
#ifndef DL_PATHS_H
#define DL_PATHS_H

/* disklinkd's control socket (its --control option; the tool's --socket). */
#define DL_CONTROL_SOCKET_DEFAULT "/run/disklink/disklinkd.sock"

#endif
