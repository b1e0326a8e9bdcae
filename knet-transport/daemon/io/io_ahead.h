/* The I/O child's side of polling ahead (doc/design.md, "Polling ahead
 * of pings"): what each peer sent us at each poll feeds its phase
 * learner (ping_phase.h), what we send asks for an answer, and both
 * set the poll schedule (poll_sched.h). */
#ifndef DLD_IO_AHEAD_H
#define DLD_IO_AHEAD_H

#include <stdbool.h>
#include <stdint.h>

struct dld_io;

/* A write that needs no answer: it follows a datagram from the same
 * peer within this (knet's pong to its ping). */
#define DLD_AHEAD_REPLY_NS 5000000ull
/* A peer that sent us nothing for this long is quiet: it does not keep
 * the schedule on the idle grid (longer than knet's ping interval). */
#define DLD_AHEAD_QUIET_NS 10000000000ull

/* Before the tx queue is drained at now: each destination of what is
 * queued owes an answer (unless the datagram is a reply); true when
 * one does. */
bool dld_ahead_sent(struct dld_io *io, uint64_t now);
/* After a poll (the poll before it began at prev):
 * arrivals into the learners, answers received, the prediction into
 * the schedule.  fast_before: the schedule's fast_until_ns before the
 * poll; a poll whose arrivals were all expected or answers does not
 * make the schedule fast once every peer is learned. */
void dld_ahead_polled(struct dld_io *io, uint64_t prev, uint64_t fast_before);
/* The parent's word that the disk carries totem (shm disk_totem). */
void dld_ahead_forced(struct dld_io *io);

#endif
