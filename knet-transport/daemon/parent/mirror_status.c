/* Mirror health per peer for the status replies: the I/O child judges
 * the path it reads (healthy, lagging, frozen, gone, unknown); in
 * corosync mode the parent adds corosync's view, which tells a frozen
 * mirror (corosync still has the peer) from a peer that is gone
 * (corosync removed it) when the ring stands still.  See
 * doc/replication.md. */
#include "config.h"

#include "ctx.h"
#include "mirror_status.h"

const char *dld_mirror_name(uint32_t m)
{
	switch (m) {
	case DLD_MIRROR_HEALTHY:
		return "healthy";
	case DLD_MIRROR_LAGGING:
		return "lagging";
	case DLD_MIRROR_FROZEN:
		return "frozen";
	case DLD_MIRROR_GONE:
		return "gone";
	default:
		return "unknown";
	}
}

uint32_t dld_mirror_of(struct dld_ctx *ctx, const struct dld_peer_status *ps, bool live)
{
	if (!live || ps->node_id == 0)
		return DLD_MIRROR_UNKNOWN;
	/* Only a ring that stands still is judged with corosync's view: a
	 * ring that advances is a peer that writes, whatever corosync says
	 * (a primary cut off from the membership must not look gone). */
	if (ps->mirror == DLD_MIRROR_FROZEN && dld_cs_peer_gone(ctx, ps->node_id))
		return DLD_MIRROR_GONE;
	return ps->mirror;
}
