/* dlsim: a deterministic simulator of the volume protocol (doc/simulator.md).
 *
 * One process, one thread.  The nodes' real I/O child code (libdld.a,
 * libdisklink.a) runs as ucontext tasks; their block I/O goes through a
 * simulated device (struct dl_bio_ops) and their time through a simulated
 * clock (struct dl_clock), both driven by a scheduler that draws every
 * choice from one seeded PRNG.  The simulator also plays each node's
 * parent (pushes datagrams, reads deliveries) and checks the invariants
 * after every step. */
#ifndef DLSIM_H
#define DLSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <ucontext.h>

#include "bio.h"
#include "dld.h"
#include "io.h"
#include "shm_queue.h"

#define SIM_NODES_MAX  5
#define SIM_SECTOR     512u
#define SIM_REQS_MAX   256u
#define SIM_MS         1000000ull
#define SIM_US         1000ull

/* ---- PRNG (xoshiro256**, seeded by splitmix64) ------------------- */
struct sim_rng {
	uint64_t s[4];
};
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, n) (n > 0). */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* True with probability 1/n. */
bool sim_rng_one_in(struct sim_rng *r, uint64_t n);
/* Log-uniform in [lo, hi]: latencies from µs to seconds. */
uint64_t sim_rng_log(struct sim_rng *r, uint64_t lo, uint64_t hi);

/* ---- scenario: which faults the seed may draw -------------------- */
struct sim_scenario {
	const char *name;
	uint32_t nodes;
	uint32_t eio_one_in;           /* per request; 0 never              */
	uint32_t slow_one_in;          /* per request: latency up to slow_max */
	uint64_t slow_max_ns;
	uint32_t crash_one_in;         /* per scheduler step; 0 never       */
	uint32_t reload_one_in;        /* per step: remove/re-add a node    */
	uint32_t stall_one_in;         /* per step: device stalls a while   */
	uint32_t rdonly_one_in;        /* per step: device read-only a while */
	uint32_t sbflip_one_in;        /* per step: superblock briefly invalid */
	uint32_t gone_one_in;          /* per step: the device disappears a while */
	bool     mirrors;              /* each node reads its peers through a mirror */
	uint32_t mirror_one_in;        /* per step: a mirror lags, freezes, splits */
	uint64_t send_max_ns;          /* parents send every 50 µs .. this  */
	bool     same_instant;         /* nodes start at t=0 together       */
	bool     bound;                /* check the delivery bound (late)   */
	uint64_t restart_all_ns;       /* every node restarted together, at
					* most this long after the last time
					* (sim_restart.c); 0 never           */
	uint32_t ring_blocks;
};
const struct sim_scenario *sim_scenario_find(const char *name);
void sim_scenario_list(void);

/* ---- the simulated device ---------------------------------------- */
struct sim_req {                       /* a request in flight            */
	bool     used;
	uint32_t node, inc;            /* issuer: node index, incarnation   */
	struct dl_bio *bio;            /* NULL once the issuer is gone      */
	struct dl_bio_req *req;
	enum dl_bio_op op;
	uint64_t off;
	uint32_t len;
	uint8_t *data;                 /* a write's data, copied at submit  */
	uint64_t due_ns;               /* completion time                   */
	uint64_t order;                /* tie-break, from the seed          */
	int      error;                /* fails with it (0: succeeds)       */
	uint32_t torn_len;             /* a failed write lands this much    */
	int      mirror;               /* read through mirror K, -1: the store */
};

struct sim_dev {
	uint8_t *store;                /* the backing store                 */
	uint64_t size;
	uint64_t stall_until_ns;       /* nothing completes before          */
	uint64_t rdonly_until_ns;
	uint64_t sbflip_until_ns;      /* reads of sector 0 see garbage     */
	uint64_t gone_until_ns;        /* the device disappeared: ENXIO, no open */
	struct sim_req reqs[SIM_REQS_MAX];
	uint64_t landed, torn, eio;    /* writes landed, torn, failed requests */
};

/* ---- mirror paths (sim_mirror.c) --------------------------------- */
#define SIM_MIRROR_Q 1024u
enum sim_mirror_state { MIRROR_HEALTHY = 0, MIRROR_LAGGING, MIRROR_FROZEN, MIRROR_SPLIT };

struct sim_mirror_w {                  /* a write on its way to a mirror   */
	uint64_t off, due_ns;
	uint32_t len;
	uint8_t *data;
};

struct sim_mirror {
	uint8_t *store;
	uint32_t state;                /* enum sim_mirror_state             */
	uint64_t until_ns;             /* the state ends (0: healthy)       */
	uint64_t lag_max_ns;
	uint64_t sbflip_until_ns;
	bool     diverged;             /* writes were lost to it            */
	struct sim_mirror_w q[SIM_MIRROR_Q];
	uint32_t head, tail;
	/* When a sender's incarnation was superseded on this path: its
	 * successor's header reached this mirror (sim_mirror_supersede). */
	struct sim_mirror_sup {
		uint64_t at_ns;        /* 0: not yet                        */
		uint32_t idx;          /* visible once tail passes it       */
		bool     pending;
		bool     on_copy;      /* the header was lost to the mirror:
					* visible with its next full copy   */
	} sup[SIM_NODES_MAX][64];
};

/* ---- nodes --------------------------------------------------------- */
enum sim_task_state { TASK_NONE = 0, TASK_RUN, TASK_SLEEP, TASK_IO, TASK_DONE };

struct sim_node {
	uint32_t id;                   /* node id (index + 1)               */
	struct dld_config cfg;
	struct dld_chan ch;
	struct dld_io *io;             /* the running incarnation's         */
	uint32_t inc;                  /* incarnation (1, 2, ...)           */
	bool     alive;                /* an incarnation is running         */
	bool     attached;             /* its attach succeeded              */
	bool     removed;              /* out of the others' peer tables    */
	int      exit_code;
	uint64_t restart_at_ns;        /* 0: no restart pending             */
	uint64_t readd_at_ns;          /* removed: re-added then            */
	uint64_t restart_plan_ns;      /* asked to stop: restarted then     */
	/* the task */
	ucontext_t uc;
	void    *stack;
	enum sim_task_state state;
	uint64_t wake_ns;
	uint64_t paused_until_ns;      /* stopped (SIGSTOP) until then      */
	bool     kicked;
	uint32_t completions;          /* since its last wait               */
	/* its parent's traffic */
	uint64_t counter;              /* next datagram counter             */
	uint64_t next_send_ns;
	uint64_t failed_writes;        /* of any incarnation, landed in part or not */
	uint64_t late_writes;          /* an older incarnation's, landed while a newer ran */
	uint64_t prev_gen;             /* the parent's: its last child's generation */
	bool     was_attached;         /* the scheduler saw it attached     */
};

struct sim {
	const struct sim_scenario *sc;
	uint64_t seed;
	struct sim_rng rng;
	uint64_t now_ns;
	uint64_t step, max_steps;
	struct dl_clock clock;
	struct sim_dev dev;
	struct dl_sb sb;
	uint32_t nnodes;
	struct sim_node nodes[SIM_NODES_MAX];
	uint32_t nmirrors;
	struct sim_mirror mirrors[SIM_NODES_MAX];
	uint64_t restart_all_at_ns;    /* the next restart of every node    */
	uint64_t stall_kill_at_ns;     /* the writer's kill under stalled readers */
	uint32_t stall_writer;
	ucontext_t sched_uc;
	struct sim_node *cur;          /* the task running, NULL: scheduler */
	bool     sync_io;              /* set-up: requests complete in submit */
	bool     draining;             /* the end: nodes stop, nothing new  */
	bool     idle;                 /* nothing more can happen           */
	int      verbose;
	uint64_t pushed, delivered;    /* datagrams, for the summary        */
	/* the first invariant broken */
	bool     failed;
	char     what[64];
	char     why[400];
	int      hole;                 /* the known protocol hole it shows, 0: none */
	uint64_t fail_ns, fail_step;   /* when                              */
};

extern struct sim *sim_g;              /* the one simulation (ops need it) */

/* sim_dev.c */
extern const struct dl_bio_ops sim_bio_ops;
int sim_dev_init(struct sim *s);
void sim_dev_free(struct sim *s);
/* Earliest completion due (UINT64_MAX: none). */
uint64_t sim_dev_next_due(struct sim *s);
/* Complete the requests due at s->now_ns: how many. */
uint32_t sim_dev_complete_due(struct sim *s);
/* The issuer incarnation is gone: its requests still land, unseen. */
void sim_dev_orphan(struct sim *s, uint32_t node);
/* A write of a gone incarnation of node is still in flight (landing). */
bool sim_dev_orphan_writes(const struct sim *s, uint32_t node);

/* sim_mirror.c */
int sim_mirror_init(struct sim *s);
void sim_mirror_free(struct sim *s);
/* A write landed on the store: on its way to every mirror. */
void sim_mirror_landed(struct sim *s, uint64_t off, const uint8_t *data, uint32_t len);
uint64_t sim_mirror_next_due(const struct sim *s);
void sim_mirror_apply_due(struct sim *s);
/* A mirror changes state (from the seed). */
void sim_mirror_event(struct sim *s);
void sim_mirror_supersede(struct sim *s, uint32_t ni, uint32_t inc);
uint64_t sim_mirror_superseded_at(const struct sim *s, uint32_t k, uint32_t ni, uint32_t inc);
void sim_mirror_read(struct sim *s, uint32_t k, uint64_t off, uint8_t *buf, uint32_t len);

/* sim_node.c */
void sim_node_setup(struct sim *s, struct sim_node *n, uint32_t id);
struct sim_node *sim_node_by_id(struct sim *s, uint32_t id);
int sim_node_start(struct sim *s, struct sim_node *n);
void sim_node_crash(struct sim *s, struct sim_node *n);
void sim_node_free(struct sim *s, struct sim_node *n);
/* Run the task until it blocks. */
void sim_node_resume(struct sim *s, struct sim_node *n);
/* From inside a task: block until woken (I/O, timeout, kick). */
void sim_task_yield(struct sim *s);
/* Publish peer tables: every node's table holds the nodes not removed. */
void sim_peers_publish(struct sim *s);

/* sim_check.c */
void sim_check_reset(void);
void sim_check_push(struct sim *s, struct sim_node *n);
/* A write of node index ni failed: what started in it was dropped. */
void sim_check_write_failed(struct sim *s, uint32_t ni, uint32_t inc, const uint8_t *data,
			    uint32_t len);
/* n's new incarnation attached: its older ones are superseded. */
void sim_check_attached(struct sim *s, struct sim_node *n);
void sim_check_deliveries(struct sim *s, struct sim_node *n);
void sim_check_global(struct sim *s);
void sim_fail(struct sim *s, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* -vv: one line of the run's story, stamped with step and time. */
void sim_trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The known holes of the protocol (doc/simulator.md), issue 17. */
enum sim_hole {
	HOLE_NONE = 0,
	HOLE_LATE_ATTACH,              /* 1: late-attach replay              */
	HOLE_CLAIM_TWICE,              /* 2: a slot claimed twice            */
	HOLE_LATE_WRITE,               /* 3: a stuck predecessor's late write */
	HOLE_SEQ_REUSE,                /* 4: a sequence number reused after a failed write */
};

/* sim_restart.c: the restart scenario's event (every node at once) */
void sim_restart_init(struct sim *s);
uint64_t sim_restart_next(const struct sim *s);
void sim_restart_event(struct sim *s);
/* A child asked to stop ended: when its parent starts the next one. */
uint64_t sim_restart_after_stop(struct sim *s, struct sim_node *n);

/* sim_run.c */
int sim_run(struct sim *s, const struct sim_scenario *sc, uint64_t seed, uint64_t steps,
	    int verbose);

#endif
