/* dl_latency: latency and throughput of a link through two disklinkd
 * instances, measured in ONE process that holds both UDP ends (one clock).
 *
 * Socket A is node 1's knet end (bound to node 1's link address); it
 * sends to the address node 1's disklinkd serves for node 2 (--a-to).
 * Socket B is node 2's knet end; node 2's disklinkd delivers there, and B
 * answers (rtt mode) to the address node 2's disklinkd serves for node 1
 * (--b-to).  Every payload carries a magic, a sequence number and the
 * CLOCK_MONOTONIC send time.
 *
 *   oneway      A -> B at --rate datagrams/s for --count datagrams
 *               (a timerfd paces the sends); latency of each arrival.
 *   rtt         A sends, B echoes at once, A measures the round trip
 *               (knet's ping/pong); --gap-ms (plus a random tenth of
 *               it) between exchanges (0: back to back).  A ping unanswered for 1 s is lost.
 *   throughput  A -> B for --duration s with at most --window datagrams
 *               in flight; 200 ms without an arrival declares what is in
 *               flight lost.  Reports bytes/s and datagrams/s.
 *   broadcast   the same datagram from --a-bind to every --dst, back to
 *               back (as knet sends a broadcast), --count rounds.
 *
 * Output: one JSON object on stdout.  Exit: 0 measured, 1 failure (no
 * datagram came back, socket error), 2 usage.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define BL_MAGIC     0x314c4244u      /* "DBL1" */
#define BL_HDR       24u              /* magic(4) pad(4) seq(8) t_ns(8) */
#define BL_DGRAM_MAX 65507u
#define BL_SNDBUF    (8 << 20)

enum bl_mode { BL_ONEWAY, BL_RTT, BL_THROUGHPUT };

struct bl_opts {
	enum bl_mode mode;
	struct sockaddr_in a_bind, a_to, b_bind, b_to;
	double rate;
	uint64_t count;
	uint32_t size;
	uint32_t gap_ms;
	uint32_t window;
	double duration;
	uint32_t drain_ms;
};

struct bl_run {
	int a, b;                      /* sockets                           */
	uint8_t *buf;                  /* send buffer                       */
	uint8_t *rbuf;                 /* receive buffer                    */
	uint64_t *lat;                 /* latency per sequence (ns), 0: none */
	uint64_t *fwd;                 /* rtt: the A -> B half, per sequence */
	uint64_t sent, received, dups, foreign, send_errors;
	uint64_t bytes_received;
	uint64_t t_first, t_last;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_addr(const char *text, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int open_sock(const struct sockaddr_in *bind_to)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int sz = BL_SNDBUF;

	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (const struct sockaddr *)bind_to, sizeof(*bind_to)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void put_hdr(uint8_t *p, uint64_t seq, uint64_t t)
{
	uint32_t magic = BL_MAGIC, pad = 0;

	memcpy(p, &magic, 4);
	memcpy(p + 4, &pad, 4);
	memcpy(p + 8, &seq, 8);
	memcpy(p + 16, &t, 8);
}

static bool get_hdr(const uint8_t *p, size_t len, uint64_t *seq, uint64_t *t)
{
	uint32_t magic;

	if (len < BL_HDR)
		return false;
	memcpy(&magic, p, 4);
	if (magic != BL_MAGIC)
		return false;
	memcpy(seq, p + 8, 8);
	memcpy(t, p + 16, 8);
	return true;
}

/* Send one datagram with sequence SEQ from FD to TO; 0 or -1. */
static int send_one(struct bl_run *r, int fd, const struct sockaddr_in *to, uint64_t seq,
		    uint32_t size)
{
	put_hdr(r->buf, seq, now_ns());
	if (sendto(fd, r->buf, size, 0, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		r->send_errors++;
		return -1;
	}
	return 0;
}

/* Record one arrival of SEQ sent at T (latency slot SEQ when tracked). */
static void arrived(struct bl_run *r, const struct bl_opts *o, uint64_t seq, uint64_t t,
		    size_t len)
{
	uint64_t now = now_ns();

	if (r->lat) {
		if (seq >= o->count) {
			r->foreign++;
			return;
		}
		if (r->lat[seq]) {
			r->dups++;
			return;
		}
		r->lat[seq] = now > t ? now - t : 1;
	}
	if (!r->received)
		r->t_first = now;
	r->t_last = now;
	r->received++;
	r->bytes_received += len;
}

/* Drain socket FD; ECHO_TO: send each valid datagram back from FD. */
static int drain(struct bl_run *r, const struct bl_opts *o, int fd,
		 const struct sockaddr_in *echo_to, bool record)
{
	int got = 0;

	for (;;) {
		ssize_t n = recv(fd, r->rbuf, BL_DGRAM_MAX, MSG_DONTWAIT);
		uint64_t seq, t;

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? got : -1;
		if (!get_hdr(r->rbuf, (size_t)n, &seq, &t)) {
			r->foreign++;
			continue;
		}
		if (echo_to && r->fwd && seq < o->count && !r->fwd[seq]) {
			uint64_t now = now_ns();

			r->fwd[seq] = now > t ? now - t : 1;
		}
		if (echo_to)
			(void)sendto(fd, r->rbuf, (size_t)n, 0, (const struct sockaddr *)echo_to,
				     sizeof(*echo_to));
		if (record)
			arrived(r, o, seq, t, (size_t)n);
		got++;
	}
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static double pct(const uint64_t *v, uint64_t n, double p)
{
	uint64_t i;

	if (!n)
		return -1;
	i = (uint64_t)(p / 100.0 * (double)n);
	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1000.0;
}

/* Median of the A -> B half of the round trips (rtt mode), in us. */
static double fwd_median(const struct bl_run *r, const struct bl_opts *o)
{
	uint64_t *v, n = 0;
	double m;

	if (!r->fwd)
		return -1;
	v = calloc(o->count, sizeof(*v));
	if (!v)
		return -1;
	for (uint64_t i = 0; i < o->count; i++)
		if (r->fwd[i])
			v[n++] = r->fwd[i];
	qsort(v, n, sizeof(*v), cmp_u64);
	m = pct(v, n, 50);
	free(v);
	return m;
}

static void print_latency(const struct bl_run *r, const struct bl_opts *o, const char *mode)
{
	uint64_t *v = calloc(r->received ? r->received : 1, sizeof(*v));
	uint64_t n = 0;
	double sum = 0;

	if (!v) {
		perror("dl_latency: calloc");
		exit(1);
	}
	for (uint64_t i = 0; i < o->count; i++)
		if (r->lat[i] && n < r->received) {
			v[n++] = r->lat[i];
			sum += (double)r->lat[i];
		}
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("{\"mode\":\"%s\",\"size\":%u,\"rate\":%.1f,\"gap_ms\":%u,\"sent\":%" PRIu64
	       ",\"received\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"dups\":%" PRIu64
	       ",\"foreign\":%" PRIu64 ",\"send_errors\":%" PRIu64 ",\"p50_us\":%.1f"
	       ",\"p99_us\":%.1f,\"p999_us\":%.1f,\"min_us\":%.1f,\"max_us\":%.1f"
	       ",\"mean_us\":%.1f,\"fwd_p50_us\":%.1f}\n", mode, o->size, o->rate, o->gap_ms, r->sent, n,
	       r->sent - n, r->dups, r->foreign, r->send_errors, pct(v, n, 50), pct(v, n, 99),
	       pct(v, n, 99.9), n ? (double)v[0] / 1000.0 : -1,
	       n ? (double)v[n - 1] / 1000.0 : -1, n ? sum / (double)n / 1000.0 : -1,
	       fwd_median(r, o));
	free(v);
}

static int arm(int tfd, uint64_t first_ns, uint64_t period_ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(first_ns / 1000000000u),
			      .tv_nsec = (long)(first_ns % 1000000000u) },
		.it_interval = { .tv_sec = (time_t)(period_ns / 1000000000u),
				 .tv_nsec = (long)(period_ns % 1000000000u) },
	};

	if (!first_ns)
		its.it_value.tv_nsec = 1;
	return timerfd_settime(tfd, 0, &its, NULL);
}

static int run_oneway(struct bl_run *r, const struct bl_opts *o)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	uint64_t period = (uint64_t)(1e9 / o->rate), end = 0;
	/* Below 100/s each gap is period + U(0, period/10): a period that is a
	 * multiple of a daemon's idle poll period would otherwise hit the same
	 * point of its poll grid every time (one sample, repeated). */
	bool spaced = o->rate < 100;

	if (tfd < 0 || arm(tfd, 1, spaced ? 0 : (period ? period : 1)) < 0)
		return -1;
	for (;;) {
		struct pollfd p[2] = { { .fd = r->b, .events = POLLIN },
				       { .fd = tfd, .events = POLLIN } };
		int timeout = -1;

		if (end) {
			uint64_t now = now_ns();

			if (now >= end || r->received + r->dups >= o->count)
				break;
			timeout = (int)((end - now) / 1000000u) + 1;
		}
		if (poll(p, end ? 1 : 2, timeout) < 0 && errno != EINTR)
			return -1;
		if ((p[0].revents & POLLIN) && drain(r, o, r->b, NULL, true) < 0)
			return -1;
		if (!end && (p[1].revents & POLLIN)) {
			uint64_t ticks = 0;

			if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
				continue;
			for (; ticks && r->sent < o->count; ticks--, r->sent++)
				(void)send_one(r, r->a, &o->a_to, r->sent, o->size);
			if (spaced && r->sent < o->count &&
			    arm(tfd, period + (uint64_t)random() % (period / 10 + 1), 0) < 0)
				return -1;
			if (r->sent >= o->count)
				end = now_ns() + (uint64_t)o->drain_ms * 1000000u;
		}
	}
	close(tfd);
	return 0;
}

/* One exchange: A sends SEQ, B echoes, wait for it at A (at most 1 s). */
static int rtt_once(struct bl_run *r, const struct bl_opts *o, uint64_t seq)
{
	uint64_t deadline = now_ns() + 1000000000u;
	uint64_t before = r->received;

	if (send_one(r, r->a, &o->a_to, seq, o->size) < 0)
		return 0;
	r->sent++;
	while (r->received == before) {
		struct pollfd p[2] = { { .fd = r->a, .events = POLLIN },
				       { .fd = r->b, .events = POLLIN } };
		uint64_t now = now_ns();

		if (now >= deadline)
			return 0;
		if (poll(p, 2, (int)((deadline - now) / 1000000u) + 1) < 0 && errno != EINTR)
			return -1;
		if ((p[1].revents & POLLIN) && drain(r, o, r->b, &o->b_to, false) < 0)
			return -1;
		if ((p[0].revents & POLLIN) && drain(r, o, r->a, NULL, true) < 0)
			return -1;
	}
	return 0;
}

static int run_rtt(struct bl_run *r, const struct bl_opts *o)
{
	for (uint64_t seq = 0; seq < o->count; seq++) {
		if (rtt_once(r, o, seq) < 0)
			return -1;
		if (o->gap_ms) {
			/* gap + U(0, gap/10): a gap that is a multiple of the
			 * daemons' idle poll period would phase-lock with it. */
			uint64_t ns = (uint64_t)o->gap_ms * 1000000u +
				      (uint64_t)random() % ((uint64_t)o->gap_ms * 100000u + 1);
			struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
					       .tv_nsec = (long)(ns % 1000000000u) };

			(void)clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		}
	}
	return 0;
}

static uint64_t inflight(const struct bl_run *r, uint64_t declared)
{
	return r->received + declared >= r->sent ? 0 : r->sent - r->received - declared;
}

static int run_throughput(struct bl_run *r, const struct bl_opts *o)
{
	uint64_t start = now_ns(), stop = start + (uint64_t)(o->duration * 1e9);
	uint64_t declared = 0, stalls = 0, t0 = 0;

	for (;;) {
		struct pollfd p = { .fd = r->b, .events = POLLIN };
		uint64_t now = now_ns();
		int n;

		while (now < stop && inflight(r, declared) < o->window) {
			if (send_one(r, r->a, &o->a_to, r->sent, o->size) < 0)
				break;
			if (!t0)
				t0 = now_ns();
			r->sent++;
		}
		if (now >= stop && !inflight(r, declared))
			break;
		n = poll(&p, 1, 200);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n == 0) {
			if (now_ns() >= stop)
				break;
			declared = r->sent - r->received;
			stalls++;
			continue;
		}
		if (drain(r, o, r->b, NULL, true) < 0)
			return -1;
	}
	{
		double secs = r->received > 1 ? (double)(r->t_last - t0) / 1e9 : 0;

		printf("{\"mode\":\"throughput\",\"size\":%u,\"window\":%u,\"sent\":%" PRIu64
		       ",\"received\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"stalls\":%" PRIu64
		       ",\"send_errors\":%" PRIu64 ",\"seconds\":%.3f,\"mb_per_s\":%.2f"
		       ",\"dgrams_per_s\":%.1f}\n", o->size, o->window, r->sent, r->received,
		       r->sent - r->received, stalls, r->send_errors, secs,
		       secs > 0 ? (double)r->bytes_received / secs / 1e6 : 0,
		       secs > 0 ? (double)r->received / secs : 0);
	}
	return 0;
}

#define BL_DST_MAX 127

/* broadcast: the same datagram from --a-bind to every --dst, as knet
 * sends a broadcast (one sendto per destination, back to back); --count
 * rounds at --rate rounds/s, a fresh payload each round. */
static int run_broadcast(int argc, char **argv)
{
	struct sockaddr_in from, dst[BL_DST_MAX];
	uint32_t ndst = 0, size = 160;
	uint64_t count = 100, sent = 0;
	double rate = 100;
	uint8_t buf[BL_DGRAM_MAX];
	bool have_from = false;
	int fd, tfd;

	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--a-bind") && !parse_addr(argv[i + 1], &from))
			have_from = true;
		else if (!strcmp(argv[i], "--dst") && ndst < BL_DST_MAX &&
			 !parse_addr(argv[i + 1], &dst[ndst]))
			ndst++;
		else if (!strcmp(argv[i], "--count"))
			count = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--rate"))
			rate = strtod(argv[i + 1], NULL);
		else if (!strcmp(argv[i], "--size"))
			size = (uint32_t)strtoul(argv[i + 1], NULL, 10);
		else
			return 2;
	}
	if (!have_from || !ndst || size < BL_HDR || size > BL_DGRAM_MAX || rate <= 0 ||
	    rate > 1e5 || argc % 2)
		return 2;
	fd = open_sock(&from);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fd < 0 || tfd < 0 || arm(tfd, 1, (uint64_t)(1e9 / rate)) < 0) {
		fprintf(stderr, "dl_latency: broadcast: %s\n", strerror(errno));
		return 1;
	}
	for (uint64_t n = 0; n < count; n++) {
		uint64_t ticks;

		if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
			break;
		for (uint32_t i = 0; i < size; i++)
			buf[i] = (uint8_t)random();
		put_hdr(buf, n, now_ns());
		for (uint32_t d = 0; d < ndst; d++)
			if (sendto(fd, buf, size, 0, (const struct sockaddr *)&dst[d],
				   sizeof(dst[d])) == (ssize_t)size)
				sent++;
	}
	printf("{\"mode\":\"broadcast\",\"size\":%u,\"rounds\":%" PRIu64 ",\"destinations\":%u"
	       ",\"sent\":%" PRIu64 "}\n", size, count, ndst, sent);
	close(fd);
	close(tfd);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: dl_latency oneway|rtt|throughput --a-bind A:P --a-to A:P "
		"--b-bind A:P --b-to A:P\n"
		"  [--rate R] [--count N] [--size BYTES] [--gap-ms MS] [--window W]\n"
		"  [--duration S] [--drain-ms MS]\n"
		"       dl_latency broadcast --a-bind A:P --dst A:P [--dst A:P ...] [--count N]\n"
		"  [--rate R] [--size BYTES]\n");
}

static int parse(int argc, char **argv, struct bl_opts *o)
{
	static const struct option lo[] = {
		{ "a-bind", required_argument, NULL, 'a' }, { "a-to", required_argument, NULL, 'A' },
		{ "b-bind", required_argument, NULL, 'b' }, { "b-to", required_argument, NULL, 'B' },
		{ "rate", required_argument, NULL, 'r' }, { "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' }, { "gap-ms", required_argument, NULL, 'g' },
		{ "window", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "drain-ms", required_argument, NULL, 'D' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, have = 0;

	if (argc < 2)
		return -1;
	if (!strcmp(argv[1], "oneway"))
		o->mode = BL_ONEWAY;
	else if (!strcmp(argv[1], "rtt"))
		o->mode = BL_RTT;
	else if (!strcmp(argv[1], "throughput"))
		o->mode = BL_THROUGHPUT;
	else
		return -1;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'a': have |= parse_addr(optarg, &o->a_bind) ? 0x10 : 1; break;
		case 'A': have |= parse_addr(optarg, &o->a_to) ? 0x10 : 2; break;
		case 'b': have |= parse_addr(optarg, &o->b_bind) ? 0x10 : 4; break;
		case 'B': have |= parse_addr(optarg, &o->b_to) ? 0x10 : 8; break;
		case 'r': o->rate = strtod(optarg, NULL); break;
		case 'n': o->count = strtoull(optarg, NULL, 10); break;
		case 's': o->size = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'g': o->gap_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'w': o->window = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'd': o->duration = strtod(optarg, NULL); break;
		case 'D': o->drain_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (have != 15 || optind != argc || o->size < BL_HDR || o->size > BL_DGRAM_MAX ||
	    o->rate <= 0 || o->rate > 1e6 || !o->count || !o->window || o->duration <= 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bl_opts o = { .rate = 1000, .count = 1000, .size = 64, .window = 8,
			     .duration = 5, .drain_ms = 1000 };
	struct bl_run r = { .a = -1, .b = -1 };
	int rc;

	srandom((unsigned)now_ns());
	if (argc > 1 && !strcmp(argv[1], "broadcast")) {
		rc = run_broadcast(argc, argv);
		if (rc == 2)
			usage(stderr);
		return rc;
	}
	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "dl_latency: bad arguments: all four addresses (ADDR:PORT) are "
			"needed, size %u..%u\n", BL_HDR, BL_DGRAM_MAX);
		usage(stderr);
		return 2;
	}
	r.buf = calloc(1, BL_DGRAM_MAX);
	r.rbuf = calloc(1, BL_DGRAM_MAX);
	if (o.mode != BL_THROUGHPUT)
		r.lat = calloc(o.count, sizeof(*r.lat));
	if (o.mode == BL_RTT)
		r.fwd = calloc(o.count, sizeof(*r.fwd));
	if (!r.buf || !r.rbuf || (o.mode != BL_THROUGHPUT && !r.lat) ||
	    (o.mode == BL_RTT && !r.fwd)) {
		perror("dl_latency: calloc");
		return 1;
	}
	for (uint32_t i = BL_HDR; i < o.size; i++)
		r.buf[i] = (uint8_t)(i * 7u);
	r.a = open_sock(&o.a_bind);
	r.b = r.a < 0 ? -1 : open_sock(&o.b_bind);
	if (r.a < 0 || r.b < 0) {
		fprintf(stderr, "dl_latency: cannot bind the knet ends: %s\n", strerror(errno));
		return 1;
	}
	if (o.mode == BL_ONEWAY)
		rc = run_oneway(&r, &o);
	else if (o.mode == BL_RTT)
		rc = run_rtt(&r, &o);
	else
		rc = run_throughput(&r, &o);
	if (rc < 0)
		fprintf(stderr, "dl_latency: %s\n", strerror(errno));
	else if (o.mode != BL_THROUGHPUT)
		print_latency(&r, &o, o.mode == BL_ONEWAY ? "oneway" : "rtt");
	if (!rc && !r.received) {
		fprintf(stderr, "dl_latency: nothing came back through the link\n");
		rc = -1;
	}
	close(r.a);
	close(r.b);
	free(r.buf);
	free(r.rbuf);
	free(r.lat);
	free(r.fwd);
	return rc < 0 ? 1 : 0;
}
