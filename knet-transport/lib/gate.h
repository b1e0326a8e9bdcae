/* The promotion gate of the mirror agent (`disklink gate`,
 * doc/replication.md): from the daemon's status (`disklink status
 * --shell`), the membership (`crm_node -l`) and the fence history
 * (fence_history.h), what each peer that is or was primary does now:
 *   fenced   powered off or rebooted after its last block (or, never
 *            seen, since the daemon started),
 *   writing  its ring advances (mirror healthy or lagging),
 *   gone     not a member and its ring judged gone,
 *   present  anything else: it may still write.
 * The agent promotes only when no primary is writing or present. */
#ifndef DL_GATE_H
#define DL_GATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fence_history.h"

#define DL_GATE_PEERS 64
#define DL_GATE_NODES 64
#define DL_GATE_WORD 32

struct dl_gate_peer {
	uint32_t node_id;
	char role[DL_GATE_WORD];       /* of its slot header                */
	char mirror[DL_GATE_WORD];     /* healthy lagging frozen gone unknown */
	int64_t age_ms;                /* last block, -1: never seen        */
};

/* The keys of `disklink status --shell` the gate reads. */
struct dl_gate_status {
	char role[DL_GATE_WORD];       /* our own                           */
	uint64_t uptime_s;
	uint32_t peer_count;
	struct dl_gate_peer peers[DL_GATE_PEERS];
};

struct dl_gate_node {
	uint32_t id;
	char name[DL_FENCE_NAME_MAX];
	bool member;
};

struct dl_gate_nodes {
	uint32_t count;
	struct dl_gate_node nodes[DL_GATE_NODES];
};

/* Read `disklink status --shell` output (status_KEY='value' lines).  0,
 * or -1 with errno: EIO on a read error, EINVAL when a line is not an
 * assignment or the output has no status_format_version. */
int dl_gate_status_read(FILE *in, struct dl_gate_status *st);

/* Read `crm_node -l` output ("ID NAME STATE" lines; other lines are
 * skipped).  0, or -1 with errno on a read error. */
int dl_gate_nodes_read(FILE *in, struct dl_gate_nodes *nodes);

struct dl_gate_in {
	bool gate;                     /* false: only DV_OWN_ROLE and DV_FROZEN_PRIMARY */
	const char *recorded;          /* the primary from the notifications, or "" */
	double now;                    /* epoch seconds                     */
	const struct dl_gate_status *st;
	const struct dl_gate_nodes *nodes;
	const struct dl_fence_history *hist;
};

/* Print the verdicts as shell assignments, safe to eval:
 *   DV_OWN_ROLE        our role in our slot header
 *   DV_FROZEN_PRIMARY  a primary whose ring reads frozen, or ''
 *   DV_VERDICTS        "NAME=VERDICT ..." (gate mode)
 *   DV_DETAILS         one sentence per primary, '; ' between (gate mode)
 * 0, or -1 with errno (no memory) and nothing printed. */
int dl_gate_eval(const struct dl_gate_in *in, FILE *out);

#endif
