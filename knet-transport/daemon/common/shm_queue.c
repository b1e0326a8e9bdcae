/* Shared memory between disklinkd and its I/O child: SPSC queues with
 * C11 atomics, the status sequence lock, eventfd wake-ups. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "shm_queue.h"

/* A message in the queue: this header, ndst ids, the data, padded to 16.
 * The bytes after the header follow from ndst and len (msg_size). */
struct dld_qhdr {
	uint64_t t_ns;                 /* enqueue time (CLOCK_MONOTONIC)    */
	uint32_t len;
	uint16_t node;
	uint16_t ndst;                 /* QWRAP: skip to the start of the queue */
};

#define QHDR ((uint32_t)sizeof(struct dld_qhdr))
#define QWRAP 0xffffu
_Static_assert(sizeof(struct dld_qhdr) == 16, "the header is one alignment unit");

/* Messages start at multiples of 16 (the header's size) so a wrap marker
 * always fits. */
static uint32_t msg_size(uint16_t ndst, uint32_t len)
{
	return (uint32_t)(((size_t)ndst * 2u + len + 15u) & ~(size_t)15u);
}

int dld_q_push(struct dld_q *q, uint16_t node, const uint16_t *dst, uint16_t ndst,
	       const uint8_t *data, uint32_t len)
{
	return dld_q_push_at(q, dld_mono_ns(), node, dst, ndst, data, len);
}

int dld_q_push_at(struct dld_q *q, uint64_t t_ns, uint16_t node, const uint16_t *dst,
		  uint16_t ndst, const uint8_t *data, uint32_t len)
{
	uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	uint32_t body = msg_size(ndst, len);
	uint64_t at = head & (q->cap - 1);
	uint64_t need = QHDR + body, to_end = q->cap - at;
	struct dld_qhdr h = { .t_ns = t_ns, .len = len, .node = node, .ndst = ndst };

	if (ndst == QWRAP) {
		errno = EINVAL;
		return -1;
	}
	/* A message never wraps: when it does not fit before the end, a
	 * wrap marker sends the consumer back to the start. */
	if (to_end < need)
		need += to_end;
	if (need > q->cap - (head - tail)) {
		errno = ENOBUFS;
		return -1;
	}
	if (to_end < QHDR + body) {
		struct dld_qhdr w = { .ndst = QWRAP };

		memcpy(q->data + at, &w, sizeof(w));
		head += to_end;
		at = 0;
	}
	memcpy(q->data + at, &h, sizeof(h));
	if (ndst)
		memcpy(q->data + at + QHDR, dst, (size_t)ndst * 2u);
	memcpy(q->data + at + QHDR + (size_t)ndst * 2u, data, len);
	atomic_store_explicit(&q->head, head + QHDR + body, memory_order_release);
	return 0;
}

uint64_t dld_q_tail(struct dld_q *q)
{
	return atomic_load_explicit(&q->tail, memory_order_relaxed);
}

int dld_q_read(struct dld_q *q, uint64_t *pos, struct dld_qmsg *m)
{
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	struct dld_qhdr h;
	uint64_t at;

	if (*pos == head)
		return 0;
	at = *pos & (q->cap - 1);
	memcpy(&h, q->data + at, sizeof(h));
	if (h.ndst == QWRAP) {
		*pos += q->cap - at;
		if (*pos == head)
			return 0;
		at = 0;
		memcpy(&h, q->data, sizeof(h));
	}
	m->node = h.node;
	m->ndst = h.ndst;
	m->dst = (const uint16_t *)(const void *)(q->data + at + QHDR);
	m->data = q->data + at + QHDR + (size_t)h.ndst * 2u;
	m->len = h.len;
	m->t_ns = h.t_ns;
	*pos += QHDR + msg_size(h.ndst, h.len);
	return 1;
}

void dld_q_release(struct dld_q *q, uint64_t pos)
{
	atomic_store_explicit(&q->tail, pos, memory_order_release);
}

int dld_q_empty(struct dld_q *q)
{
	return atomic_load_explicit(&q->head, memory_order_acquire) ==
	       atomic_load_explicit(&q->tail, memory_order_relaxed);
}

static size_t round_up(size_t x, size_t a)
{
	return (x + a - 1) / a * a;
}

int dld_chan_create(struct dld_chan *ch, uint32_t queue_kib)
{
	size_t cap = 256u * 1024u, qbytes, len;
	uint8_t *base;

	memset(ch, 0, sizeof(*ch));
	ch->tx_efd = ch->rx_efd = -1;
	/* Room for at least a few of the largest datagrams. */
	while (cap < (size_t)queue_kib * 1024u)
		cap <<= 1;
	qbytes = round_up(sizeof(struct dld_q) + cap, 4096);
	len = round_up(sizeof(struct dld_shm), 4096) + 2 * qbytes;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	ch->shm = (struct dld_shm *)(void *)base;
	ch->shm->map_len = len;
	ch->shm->tx_off = round_up(sizeof(struct dld_shm), 4096);
	ch->shm->rx_off = ch->shm->tx_off + qbytes;
	ch->tx = (struct dld_q *)(void *)(base + ch->shm->tx_off);
	ch->rx = (struct dld_q *)(void *)(base + ch->shm->rx_off);
	ch->tx->cap = cap;
	ch->rx->cap = cap;
	ch->shm->st.slot = -1;
	ch->tx_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ch->rx_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ch->tx_efd < 0 || ch->rx_efd < 0) {
		int err = errno;

		dld_chan_destroy(ch);
		errno = err;
		return -1;
	}
	return 0;
}

void dld_chan_destroy(struct dld_chan *ch)
{
	if (ch->tx_efd >= 0)
		close(ch->tx_efd);
	if (ch->rx_efd >= 0)
		close(ch->rx_efd);
	if (ch->shm)
		munmap(ch->shm, ch->shm->map_len);
	memset(ch, 0, sizeof(*ch));
	ch->tx_efd = ch->rx_efd = -1;
}

void dld_efd_kick(int efd)
{
	uint64_t one = 1;

	/* EAGAIN only when the counter is saturated: already signalled. */
	if (write(efd, &one, sizeof(one)) < 0)
		return;
}

void dld_efd_drain(int efd)
{
	uint64_t v;

	if (read(efd, &v, sizeof(v)) < 0)
		return;
}

int dld_chan_wait_tx(struct dld_chan *ch, uint64_t timeout_ns)
{
	struct pollfd p = { .fd = ch->tx_efd, .events = POLLIN };
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / 1000000000u),
		.tv_nsec = (long)(timeout_ns % 1000000000u),
	};

	if (ppoll(&p, 1, &ts, NULL) < 0 && errno != EINTR)
		return -1;
	if (p.revents & POLLIN)
		dld_efd_drain(ch->tx_efd);
	return 0;
}

bool dld_chan_stop_asked(struct dld_chan *ch)
{
	return atomic_load_explicit(&ch->shm->stop, memory_order_acquire) != 0;
}

void dld_status_publish(struct dld_shm *shm, const struct dld_status *st)
{
	uint32_t s = atomic_load_explicit(&shm->st_seq, memory_order_relaxed);
	size_t len = offsetof(struct dld_status, peers) +
		     (size_t)st->peer_count * sizeof(st->peers[0]);

	atomic_store_explicit(&shm->st_seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&shm->st, st, len);
	atomic_store_explicit(&shm->st_seq, s + 2, memory_order_release);
}

int dld_status_snapshot(struct dld_shm *shm, struct dld_status *out)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t s1 = atomic_load_explicit(&shm->st_seq, memory_order_acquire);
		uint32_t s2;

		if (s1 & 1u)
			continue;
		memcpy(out, &shm->st, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&shm->st_seq, memory_order_relaxed);
		if (s1 == s2) {
			if (out->peer_count > DLD_MAX_PEERS)
				out->peer_count = DLD_MAX_PEERS;
			return 0;
		}
	}
	memcpy(out, &shm->st, sizeof(*out));
	if (out->peer_count > DLD_MAX_PEERS)
		out->peer_count = DLD_MAX_PEERS;
	return -1;
}

void dld_peers_publish(struct dld_shm *shm, const uint32_t *ids, uint32_t n)
{
	uint32_t s = atomic_load_explicit(&shm->peers_seq, memory_order_relaxed);

	if (n > DLD_MAX_PEERS)
		n = DLD_MAX_PEERS;
	atomic_store_explicit(&shm->peers_seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	shm->peer_count = n;
	memcpy(shm->peer_ids, ids, (size_t)n * sizeof(ids[0]));
	atomic_store_explicit(&shm->peers_seq, s + 2, memory_order_release);
}

int dld_peers_read(struct dld_shm *shm, uint32_t *seq, uint32_t *ids, uint32_t *n)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint32_t s1 = atomic_load_explicit(&shm->peers_seq, memory_order_acquire);
		uint32_t s2, count;

		if (s1 == *seq)
			return 0;
		if (s1 & 1u)
			continue;
		count = shm->peer_count;
		if (count > DLD_MAX_PEERS)
			count = DLD_MAX_PEERS;
		memcpy(ids, shm->peer_ids, (size_t)count * sizeof(ids[0]));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&shm->peers_seq, memory_order_relaxed);
		if (s1 == s2) {
			*n = count;
			*seq = s1;
			return 1;
		}
	}
	return 0;                      /* mid-update: next turn */
}
