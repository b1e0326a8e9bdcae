/* A fault-injecting block I/O: see fault_bio.h. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "fault_bio.h"

/* The struct fault_bio whose ops table the bio was opened with. */
static struct fault_bio *fb_of(const struct dl_bio *bio)
{
	return (struct fault_bio *)((const char *)bio->ops - offsetof(struct fault_bio, ops));
}

/* xorshift64*: small, seeded, reproducible. */
static uint64_t rng_next(struct fault_bio *fb)
{
	uint64_t x = fb->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	fb->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void pause_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (ns && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool in_window(const struct fault_bio *fb, size_t len, uint64_t off)
{
	const struct fault_plan *p = &fb->plan;

	if (!p->window_len)
		return true;
	return off < p->window_off + p->window_len && off + len > p->window_off;
}

/* Whether the rule hits this operation (which touches the window). */
static bool rule_fires(struct fault_bio *fb, const struct fault_rule *r, uint64_t *seen,
		       uint64_t *hits)
{
	uint64_t n = (*seen)++;

	if (r->kind == FAULT_NONE || n < r->after)
		return false;
	if (r->count && *hits >= r->count)
		return false;
	if (r->ppm && rng_next(fb) % 1000000u >= r->ppm)
		return false;
	(*hits)++;
	return true;
}

/* Sectors of a partial transfer: at most len - 1 sectors. */
static size_t partial_bytes(const struct dl_bio *bio, const struct fault_rule *r, size_t len)
{
	size_t sectors = len / bio->sector_size;
	size_t k = r->sectors < sectors ? r->sectors : sectors - 1;

	return k * bio->sector_size;
}

static int fault_open(struct dl_bio *bio, const char *path, const struct dl_bio_opts *opts)
{
	struct fault_bio *fb = fb_of(bio);

	bio->priv = fb;
	return fb->real->open(bio, path, opts);
}

static void fault_close(struct dl_bio *bio)
{
	fb_of(bio)->real->close(bio);
}

/* A transfer through the real ops, waited for (a part of a faulted
 * request, or a request the plan lets through). */
static int real_io(struct fault_bio *fb, struct dl_bio *bio, enum dl_bio_op op, void *buf,
		   size_t len, uint64_t off)
{
	struct dl_bio_req r = { .op = op, .buf = buf, .len = len, .off = off };

	bio->in_flight++;
	if (fb->real->submit(bio, &r)) {
		bio->in_flight--;
		return -1;
	}
	while (!r.done)
		if (fb->real->wait(bio, DL_BIO_FOREVER) < 0)
			return -1;
	if (r.result)
		errno = r.error;
	return r.result;
}

/* The outcome of a read: 0, or -1 with errno. */
static int fault_read(struct fault_bio *fb, struct dl_bio *bio, struct dl_bio_req *req)
{
	const struct fault_rule *r = &fb->plan.read;
	size_t part;

	fb->st.reads++;
	pause_ns(fb->plan.read_delay_ns);
	if (!in_window(fb, req->len, req->off) ||
	    !rule_fires(fb, r, &fb->read_seen, &fb->read_hits))
		return real_io(fb, bio, DL_BIO_READ, req->buf, req->len, req->off);
	fb->st.read_faults++;
	if (r->kind == FAULT_SHORT) {
		part = partial_bytes(bio, r, req->len);
		if (part && real_io(fb, bio, DL_BIO_READ, req->buf, part, req->off))
			return -1;
	}
	errno = EIO;
	return -1;
}

/* The outcome of a write: 0, or -1 with errno. */
static int fault_write(struct fault_bio *fb, struct dl_bio *bio, struct dl_bio_req *req)
{
	const struct fault_rule *r = &fb->plan.write;
	size_t part, len = req->len;

	fb->st.writes++;
	pause_ns(fb->plan.write_delay_ns);
	if (!in_window(fb, len, req->off) || !rule_fires(fb, r, &fb->write_seen, &fb->write_hits))
		return real_io(fb, bio, DL_BIO_WRITE, req->buf, len, req->off);
	fb->st.write_faults++;
	if (r->kind == FAULT_SHORT || r->kind == FAULT_TORN) {
		part = partial_bytes(bio, r, len);
		fb->st.sectors_dropped += (len - part) / bio->sector_size;
		if (r->kind == FAULT_SHORT)
			fb->st.short_writes++;
		else
			fb->st.torn++;
		if (part) {
			size_t skip = r->kind == FAULT_TORN && r->torn_tail ? len - part : 0;

			if (real_io(fb, bio, DL_BIO_WRITE, (char *)req->buf + skip, part,
				    req->off + skip))
				return -1;
		}
		if (r->kind == FAULT_TORN && r->torn_success)
			return 0;
	}
	errno = EIO;
	return -1;
}

/* Every request completes inside submit, in order. */
static int fault_submit(struct dl_bio *bio, struct dl_bio_req *req)
{
	struct fault_bio *fb = fb_of(bio);
	int rc = req->op == DL_BIO_READ ? fault_read(fb, bio, req) : fault_write(fb, bio, req);

	dl_bio_complete(bio, req, rc, rc ? errno : 0);
	return 0;
}

static int fault_wait(struct dl_bio *bio, uint64_t timeout_ns)
{
	return fb_of(bio)->real->wait(bio, timeout_ns);
}

void fault_bio_init(struct fault_bio *fb, const struct dl_bio_ops *real)
{
	memset(fb, 0, sizeof(*fb));
	fb->real = real ? real : &dl_bio_direct_ops;
	fb->ops = (struct dl_bio_ops){
		.name = "fault",
		.open = fault_open,
		.close = fault_close,
		.submit = fault_submit,
		.wait = fault_wait,
	};
	fault_bio_clear(fb);
}

void fault_bio_set_plan(struct fault_bio *fb, const struct fault_plan *plan)
{
	fb->plan = *plan;
	fb->rng = plan->seed ? plan->seed : 0x9e3779b97f4a7c15ull;
	fb->read_seen = fb->write_seen = 0;
	fb->read_hits = fb->write_hits = 0;
}

void fault_bio_clear(struct fault_bio *fb)
{
	fault_bio_set_plan(fb, &(struct fault_plan){ .seed = 0 });
}
