/* TUN mode's packet path (tun_io.c), for tun.c. */
#ifndef DLD_TUN_IO_H
#define DLD_TUN_IO_H

#include <stdint.h>

struct dld_ctx;

/* The interface's fd is readable (a dld_loop_fn; arg: the context). */
void dld_tun_on_readable(int fd, uint32_t events, void *arg);

/* Send the queued bulk as tun_bulk_kib's tokens and the tx queue allow,
 * oldest first, dropping (bulk_drops) what is over a second old or whose
 * peer is no longer up; the release timer wakes it again for the rest.
 * (The timer runs it; a test calls it after moving vnic.clock.) */
void dld_tun_bulk_release(struct dld_ctx *ctx);
/* Stop: the queued bulk is dropped (counted) and the timer closed. */
void dld_tun_io_stop(struct dld_ctx *ctx);

#endif
