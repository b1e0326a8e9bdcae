/* TUN mode's packet path (tun_io.c), for tun.c. */
#ifndef DLD_TUN_IO_H
#define DLD_TUN_IO_H

#include <stdint.h>

/* The interface's fd is readable (a dld_loop_fn; arg: the context). */
void dld_tun_on_readable(int fd, uint32_t events, void *arg);

#endif
