/* The simulated device: a struct dl_bio_ops over one in-memory backing
 * store.  Each request gets a latency from the seed (µs to seconds),
 * completes at its own time (out of order), may fail with EIO (a failed
 * write may have landed in part, torn at a 512- or 4096-byte boundary),
 * and a write whose issuer was killed still lands.  A read that overlaps
 * a write in flight returns a mix of old and new sectors.  The device may
 * stall (nothing completes for a while), turn read-only (writes fail),
 * disappear (every request fails with ENXIO, opens with ENOENT) or show a
 * broken superblock for a while. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static int sim_open(struct dl_bio *bio, const char *path, const struct dl_bio_opts *opts)
{
	struct sim *s = sim_g;

	unsigned k = 0;

	if (s->dev.gone_until_ns > s->now_ns) {
		errno = ENOENT;
		return -1;
	}
	if (sscanf(path, "sim:mirror-%u", &k) == 1 && k < s->nmirrors) {
		bio->priv = (void *)(uintptr_t)(k + 1);
	} else if (strcmp(path, "sim:main")) {
		errno = ENOENT;
		return -1;
	}
	bio->fd = -1;
	bio->sector_size = SIM_SECTOR;
	bio->size = s->dev.size;
	bio->is_blockdev = true;
	bio->direct = true;
	bio->read_only = (opts && opts->read_only) || bio->priv;
	return 0;
}

static void sim_close(struct dl_bio *bio)
{
	(void)bio;
}

static struct sim_req *req_slot(struct sim_dev *d)
{
	for (uint32_t i = 0; i < SIM_REQS_MAX; i++)
		if (!d->reqs[i].used)
			return &d->reqs[i];
	return NULL;
}

/* Latency, error and tearing, all from the seed. */
static void draw_fate(struct sim *s, struct sim_req *r)
{
	const struct sim_scenario *sc = s->sc;
	uint64_t lat = sim_rng_log(&s->rng, 20 * SIM_US, 2 * SIM_MS);

	if (sc->slow_one_in && sim_rng_one_in(&s->rng, sc->slow_one_in))
		lat = sim_rng_log(&s->rng, 2 * SIM_MS, sc->slow_max_ns);
	r->due_ns = s->now_ns + lat;
	if (s->dev.stall_until_ns > r->due_ns)
		r->due_ns = s->dev.stall_until_ns + sim_rng_log(&s->rng, SIM_US, SIM_MS);
	r->order = sim_rng_next(&s->rng);
	if (sc->eio_one_in && sim_rng_one_in(&s->rng, sc->eio_one_in))
		r->error = EIO;
	if (r->op == DL_BIO_WRITE && s->dev.rdonly_until_ns > s->now_ns)
		r->error = EIO;
	if (s->dev.gone_until_ns > s->now_ns)
		r->error = ENXIO;
	if (r->op == DL_BIO_WRITE && r->error) {
		uint32_t unit = sim_rng_one_in(&s->rng, 2) ? 4096u : SIM_SECTOR;
		uint32_t units = r->len / unit;

		/* Nothing, or a prefix cut at a boundary, lands. */
		r->torn_len = units > 1 ? (uint32_t)sim_rng_below(&s->rng, units) * unit : 0;
		if (r->error == ENXIO)
			r->torn_len = 0;       /* gone: nothing lands */
	}
}

static int sim_submit(struct dl_bio *bio, struct dl_bio_req *req)
{
	struct sim *s = sim_g;
	struct sim_req *r = req_slot(&s->dev);

	if (!r || (!s->cur && !s->sync_io)) {
		errno = EAGAIN;
		return -1;
	}
	*r = (struct sim_req){
		.used = true, .node = s->cur ? (uint32_t)(s->cur - s->nodes) : 0,
		.inc = s->cur ? s->cur->inc : 0,
		.bio = bio, .req = req, .op = req->op, .off = req->off, .len = (uint32_t)req->len,
		.mirror = bio->priv ? (int)((uintptr_t)bio->priv - 1) : -1,
	};
	if (req->op == DL_BIO_WRITE) {
		r->data = malloc(req->len);
		if (!r->data) {
			r->used = false;
			errno = ENOMEM;
			return -1;
		}
		memcpy(r->data, req->buf, req->len);
	}
	if (s->sync_io) {            /* set-up: done at once */
		r->due_ns = s->now_ns;
		sim_dev_complete_due(s);
		return 0;
	}
	draw_fate(s, r);
	return 0;
}

static int sim_wait(struct dl_bio *bio, uint64_t timeout_ns)
{
	struct sim *s = sim_g;
	struct sim_node *n = s->cur;
	uint32_t c;

	(void)bio;
	if (!n)
		return 0;          /* set-up: everything completed in submit */
	if (!n->completions && timeout_ns != DL_BIO_NOWAIT) {
		n->state = TASK_IO;
		n->wake_ns = timeout_ns == DL_BIO_FOREVER ? UINT64_MAX : s->now_ns + timeout_ns;
		sim_task_yield(s);
	}
	c = n->completions;
	n->completions = 0;
	return (int)c;
}

const struct dl_bio_ops sim_bio_ops = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.submit = sim_submit,
	.wait = sim_wait,
};

int sim_dev_init(struct sim *s)
{
	s->dev.size = s->sb.volume_bytes;
	s->dev.store = calloc(1, s->dev.size);
	return s->dev.store ? 0 : -1;
}

void sim_dev_free(struct sim *s)
{
	for (uint32_t i = 0; i < SIM_REQS_MAX; i++)
		free(s->dev.reqs[i].data);
	free(s->dev.store);
	/* the counters stay, for the summary */
	s->dev = (struct sim_dev){ .landed = s->dev.landed, .torn = s->dev.torn,
				   .eio = s->dev.eio };
}

uint64_t sim_dev_next_due(struct sim *s)
{
	uint64_t t = UINT64_MAX;

	for (uint32_t i = 0; i < SIM_REQS_MAX; i++)
		if (s->dev.reqs[i].used && s->dev.reqs[i].due_ns < t)
			t = s->dev.reqs[i].due_ns;
	return t;
}

/* A read sees the store, and each sector a write in flight covers is
 * new or old at random: the write is landing sector by sector. */
static void read_mix(struct sim *s, const struct sim_req *r, uint8_t *buf)
{
	memcpy(buf, s->dev.store + r->off, r->len);
	for (uint32_t i = 0; i < SIM_REQS_MAX; i++) {
		const struct sim_req *w = &s->dev.reqs[i];

		if (!w->used || w->op != DL_BIO_WRITE || w->off >= r->off + r->len ||
		    r->off >= w->off + w->len)
			continue;
		for (uint64_t o = w->off; o < w->off + w->len; o += SIM_SECTOR)
			if (o >= r->off && o < r->off + r->len && sim_rng_one_in(&s->rng, 2))
				memcpy(buf + (o - r->off), w->data + (o - w->off), SIM_SECTOR);
	}
	if (r->off == 0 && s->dev.sbflip_until_ns > s->now_ns)
		buf[8] ^= 0x5a;        /* the superblock does not decode */
}

/* Where an offset is, for the trace: "sb", "head S", "slot S hdr C",
 * "slot S block B". */
static const char *where(const struct sim *s, uint64_t off, char *buf, size_t len)
{
	const struct dl_sb *sb = &s->sb;
	uint64_t in;
	uint32_t slot;

	if (off < sb->heads_offset)
		return "sb";
	if (off < sb->slots_offset) {
		snprintf(buf, len, "head %llu",
			 (unsigned long long)((off - sb->heads_offset) / sb->head_bytes));
		return buf;
	}
	slot = (uint32_t)((off - sb->slots_offset) / sb->slot_stride);
	in = (off - sb->slots_offset) % sb->slot_stride;
	if (in < 2ull * sb->region_bytes)
		snprintf(buf, len, "slot %u hdr %llu", slot,
			 (unsigned long long)(in / sb->region_bytes));
	else
		snprintf(buf, len, "slot %u block %llu", slot,
			 (unsigned long long)((in - 2ull * sb->region_bytes) / sb->block_size));
	return buf;
}

static void finish(struct sim *s, struct sim_req *r)
{
	char at[48];

	struct sim_node *n = &s->nodes[r->node];

	if (r->op == DL_BIO_WRITE) {
		uint32_t land = r->error ? r->torn_len : r->len;

		memcpy(s->dev.store + r->off, r->data, land);
		if (land)
			sim_mirror_landed(s, r->off, r->data, land);
		s->dev.landed++;
		if (r->error && land)
			s->dev.torn++;
	} else if (r->bio && !r->error && r->mirror >= 0) {
		sim_mirror_read(s, (uint32_t)r->mirror, r->off, r->req->buf, r->len);
	} else if (r->bio && !r->error) {
		read_mix(s, r, r->req->buf);
	}
	if (r->error)
		s->dev.eio++;
	if (r->error && r->op == DL_BIO_WRITE) {
		n->failed_writes++;
		/* A head's inline copies are not the datagrams' only write:
		 * only a failed ring write excuses a loss. */
		if (r->off >= s->sb.slots_offset)
			sim_check_write_failed(s, r->node, r->inc, r->data, r->len);
	}
	if (r->op == DL_BIO_WRITE && !r->bio && n->alive && n->inc > r->inc)
		n->late_writes++;
	sim_trace(s, "%s of node %u/%u at %s len %u%s%s (landed %u)%s",
		  r->op == DL_BIO_WRITE ? "write" : "read", s->nodes[r->node].id, r->inc,
		  where(s, r->off, at, sizeof(at)), r->len, r->error ? " failed" : "",
		  r->error ? strerror(r->error) : "", r->op == DL_BIO_WRITE ?
		  (r->error ? r->torn_len : r->len) : 0, r->bio ? "" : " (issuer gone)");
	if (r->bio && s->sync_io) {
		dl_bio_complete(r->bio, r->req, 0, 0);
	} else if (r->bio && n->alive && n->inc == r->inc) {
		dl_bio_complete(r->bio, r->req, r->error ? -1 : 0, r->error);
		n->completions++;
	}
	free(r->data);
	*r = (struct sim_req){ .used = false };
}

uint32_t sim_dev_complete_due(struct sim *s)
{
	uint32_t done = 0;

	for (;;) {
		struct sim_req *best = NULL;

		for (uint32_t i = 0; i < SIM_REQS_MAX; i++) {
			struct sim_req *r = &s->dev.reqs[i];

			if (r->used && r->due_ns <= s->now_ns &&
			    (!best || r->due_ns < best->due_ns ||
			     (r->due_ns == best->due_ns && r->order < best->order)))
				best = r;
		}
		if (!best)
			return done;
		finish(s, best);
		done++;
	}
}

void sim_dev_orphan(struct sim *s, uint32_t node)
{
	for (uint32_t i = 0; i < SIM_REQS_MAX; i++) {
		struct sim_req *r = &s->dev.reqs[i];

		if (!r->used || r->node != node)
			continue;
		if (r->op == DL_BIO_READ) {
			*r = (struct sim_req){ .used = false };
			continue;
		}
		r->bio = NULL;         /* lands later, unseen: a stuck write */
		r->req = NULL;
	}
}

bool sim_dev_orphan_writes(const struct sim *s, uint32_t node)
{
	for (uint32_t i = 0; i < SIM_REQS_MAX; i++) {
		const struct sim_req *r = &s->dev.reqs[i];

		if (r->used && r->node == node && r->op == DL_BIO_WRITE && !r->bio)
			return true;
	}
	return false;
}
