/*
 * cpg_client -- a CPG traffic checker for the lab tests (tests/lab/).
 *
 * Joins a CPG group, multicasts numbered messages (CPG_TYPE_AGREED) at a
 * steady rate with sizes up to --max-size bytes, and checks every message it
 * receives: per sender (node id + pid), sequence numbers must follow each
 * other with no gap and no duplicate, and the payload must match the
 * pattern its sequence number defines.
 *
 * Virtual synchrony allows exactly one kind of loss: messages that a sender
 * multicast while it was not in our membership.  A sender that a
 * configuration change reports as left or joined is therefore "resynced" at
 * its next message (counted in resyncs/resync_skipped, not in gaps).  A gap
 * while the membership held is an error of the transport underneath.
 *
 * On SIGTERM/SIGINT, or after --duration seconds, it prints a JSON report on
 * stdout (and into --out FILE) and exits 0; with --status FILE the same
 * report is rewritten there (atomically) every second.  Exit 2 when
 * corosync goes away, 1 on usage or setup errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#define MSG_MAGIC 0x444c4350u /* "DLCP" */
#define MAX_SENDERS 64
#define MIN_SIZE ((size_t)sizeof(struct msg_hdr))
#define MAX_SIZE_LIMIT (1024 * 1024)

struct msg_hdr {
	uint32_t magic;
	uint32_t nodeid;
	uint32_t pid;
	uint32_t size; /* whole message, header included */
	uint64_t seq;  /* 1, 2, 3 ... per sender */
};

struct sender {
	uint32_t nodeid;
	uint32_t pid;
	bool need_resync;
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t received;
	uint64_t bytes;
	uint64_t gaps;           /* jumps while the membership held */
	uint64_t missing;        /* messages lost in those jumps */
	uint64_t dups;           /* seq <= last seen (duplicate or reordered) */
	uint64_t corrupt;        /* bad header or payload */
	uint64_t resyncs;        /* jumps across a configuration change */
	uint64_t resync_skipped; /* messages skipped in those */
};

struct opts {
	const char *group;
	unsigned int rate;      /* messages per second */
	size_t max_size;
	unsigned int duration;  /* seconds, 0: until a signal */
	unsigned int wait_members;
	const char *out;
	const char *status;
};

struct client {
	struct opts o;
	cpg_handle_t handle;
	struct cpg_name name;
	uint32_t nodeid;
	uint32_t pid;
	uint64_t next_seq;
	uint64_t sent;
	uint64_t bytes_sent;
	uint64_t try_again;
	uint64_t send_errors;
	uint64_t confchgs;
	size_t n_members;
	uint32_t members[MAX_SENDERS];
	bool sending;          /* --wait-members reached once */
	size_t n_senders;
	struct sender senders[MAX_SENDERS];
	uint64_t unknown_senders; /* more than MAX_SENDERS */
	unsigned char *buf;
	struct timespec start;
};

static double elapsed_s(const struct client *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - c->start.tv_sec) +
	       (double)(now.tv_nsec - c->start.tv_nsec) / 1e9;
}

/* Size of message seq: spread over [MIN_SIZE, max_size], small ones often. */
static size_t msg_size(const struct client *c, uint64_t seq)
{
	size_t span = c->o.max_size - MIN_SIZE + 1;
	uint64_t x = seq * 2654435761u;

	if (seq % 4 != 0)
		span = span < 512 ? span : 512;
	return MIN_SIZE + (size_t)(x % span);
}

static unsigned char pattern_byte(uint32_t nodeid, uint64_t seq, size_t i)
{
	return (unsigned char)((seq * 131u + i * 31u + nodeid) & 0xffu);
}

static struct sender *sender_get(struct client *c, uint32_t nodeid, uint32_t pid)
{
	for (size_t i = 0; i < c->n_senders; i++)
		if (c->senders[i].nodeid == nodeid && c->senders[i].pid == pid)
			return &c->senders[i];
	if (c->n_senders == MAX_SENDERS)
		return NULL;
	struct sender *s = &c->senders[c->n_senders++];
	memset(s, 0, sizeof(*s));
	s->nodeid = nodeid;
	s->pid = pid;
	return s;
}

static bool payload_ok(const struct msg_hdr *h, const unsigned char *msg)
{
	for (size_t i = sizeof(*h); i < h->size; i++)
		if (msg[i] != pattern_byte(h->nodeid, h->seq, i))
			return false;
	return true;
}

static void on_deliver(cpg_handle_t handle, const struct cpg_name *group,
		       uint32_t nodeid, uint32_t pid, void *msg, size_t len)
{
	struct client *c = NULL;
	struct msg_hdr h;
	struct sender *s;

	(void)group;
	if (cpg_context_get(handle, (void **)&c) != CS_OK || c == NULL)
		return;
	s = sender_get(c, nodeid, pid);
	if (s == NULL) {
		c->unknown_senders++;
		return;
	}
	if (len < sizeof(h)) {
		s->corrupt++;
		return;
	}
	memcpy(&h, msg, sizeof(h));
	if (h.magic != MSG_MAGIC || h.nodeid != nodeid || h.pid != pid ||
	    h.size != len || h.seq == 0 || !payload_ok(&h, msg)) {
		s->corrupt++;
		return;
	}
	s->received++;
	s->bytes += len;
	if (s->first_seq == 0) {
		s->first_seq = h.seq;
	} else if (h.seq <= s->last_seq) {
		s->dups++;
		return;
	} else if (h.seq != s->last_seq + 1) {
		if (s->need_resync) {
			s->resyncs++;
			s->resync_skipped += h.seq - s->last_seq - 1;
		} else {
			s->gaps++;
			s->missing += h.seq - s->last_seq - 1;
			fprintf(stderr, "cpg_client: gap from node %" PRIu32
				" pid %" PRIu32 ": %" PRIu64 " -> %" PRIu64 "\n",
				nodeid, pid, s->last_seq, h.seq);
		}
	}
	s->need_resync = false;
	s->last_seq = h.seq;
}

static void mark_resync(struct client *c, const struct cpg_address *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sender *s = sender_get(c, l[i].nodeid, l[i].pid);

		if (s != NULL)
			s->need_resync = true;
	}
}

static void on_confchg(cpg_handle_t handle, const struct cpg_name *group,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	struct client *c = NULL;

	(void)group;
	if (cpg_context_get(handle, (void **)&c) != CS_OK || c == NULL)
		return;
	c->confchgs++;
	mark_resync(c, left, n_left);
	mark_resync(c, joined, n_joined);
	c->n_members = 0;
	for (size_t i = 0; i < n_members && i < MAX_SENDERS; i++)
		c->members[c->n_members++] = members[i].nodeid;
	if (c->n_members >= c->o.wait_members)
		c->sending = true;
	fprintf(stderr, "cpg_client: %.1fs confchg: %zu members, %zu left, %zu joined\n",
		elapsed_s(c), n_members, n_left, n_joined);
}

static void send_one(struct client *c)
{
	uint64_t seq = c->next_seq;
	size_t size = msg_size(c, seq);
	struct msg_hdr h = {
		.magic = MSG_MAGIC,
		.nodeid = c->nodeid,
		.pid = c->pid,
		.size = (uint32_t)size,
		.seq = seq,
	};
	struct iovec iov = { .iov_base = c->buf, .iov_len = size };
	cs_error_t err;

	memcpy(c->buf, &h, sizeof(h));
	for (size_t i = sizeof(h); i < size; i++)
		c->buf[i] = pattern_byte(c->nodeid, seq, i);
	err = cpg_mcast_joined(c->handle, CPG_TYPE_AGREED, &iov, 1);
	if (err == CS_OK) {
		c->next_seq++;
		c->sent++;
		c->bytes_sent += size;
	} else if (err == CS_ERR_TRY_AGAIN) {
		c->try_again++; /* the same seq goes out at the next tick */
	} else {
		c->send_errors++;
	}
}

static void report(const struct client *c, FILE *f)
{
	fprintf(f, "{\"nodeid\": %" PRIu32 ", \"pid\": %" PRIu32
		", \"group\": \"%s\", \"elapsed_s\": %.3f, \"sent\": %" PRIu64
		", \"bytes_sent\": %" PRIu64 ", \"try_again\": %" PRIu64
		", \"send_errors\": %" PRIu64 ", \"confchgs\": %" PRIu64
		", \"unknown_senders\": %" PRIu64 ", \"members\": [",
		c->nodeid, c->pid, c->o.group, elapsed_s(c), c->sent, c->bytes_sent,
		c->try_again, c->send_errors, c->confchgs, c->unknown_senders);
	for (size_t i = 0; i < c->n_members; i++)
		fprintf(f, "%s%" PRIu32, i ? ", " : "", c->members[i]);
	fprintf(f, "], \"senders\": [");
	for (size_t i = 0; i < c->n_senders; i++) {
		const struct sender *s = &c->senders[i];

		fprintf(f, "%s\n  {\"nodeid\": %" PRIu32 ", \"pid\": %" PRIu32
			", \"received\": %" PRIu64 ", \"bytes\": %" PRIu64
			", \"first_seq\": %" PRIu64 ", \"last_seq\": %" PRIu64
			", \"gaps\": %" PRIu64 ", \"missing\": %" PRIu64
			", \"dups\": %" PRIu64 ", \"corrupt\": %" PRIu64
			", \"resyncs\": %" PRIu64 ", \"resync_skipped\": %" PRIu64 "}",
			i ? "," : "", s->nodeid, s->pid, s->received, s->bytes,
			s->first_seq, s->last_seq, s->gaps, s->missing, s->dups,
			s->corrupt, s->resyncs, s->resync_skipped);
	}
	fprintf(f, "]}\n");
}

static int write_report(const struct client *c, const char *path)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	report(c, f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cpg_client [--group NAME] [--rate N] [--max-size BYTES]\n"
		"                  [--duration S] [--wait-members N] [--out FILE]\n"
		"                  [--status FILE]\n"
		"Multicasts numbered CPG messages and checks that every sender's\n"
		"arrive in order with no gap; JSON report on SIGTERM or after S s.\n"
		"  --group NAME       CPG group (default dllab-cpg)\n"
		"  --rate N           messages per second (default 20)\n"
		"  --max-size BYTES   largest message (default 20000)\n"
		"  --duration S       stop after S seconds (default 0: at SIGTERM)\n"
		"  --wait-members N   start sending once the group has N members\n"
		"  --out FILE         also write the final report to FILE\n"
		"  --status FILE      rewrite the report to FILE every second\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || *v > max) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "rate", required_argument, NULL, 'r' },
		{ "max-size", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "wait-members", required_argument, NULL, 'w' },
		{ "out", required_argument, NULL, 'o' },
		{ "status", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int ch;

	*o = (struct opts){ .group = "dllab-cpg", .rate = 20, .max_size = 20000 };
	while ((ch = getopt_long(argc, argv, "g:r:s:d:w:o:S:h", lopts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			if (strlen(optarg) >= CPG_MAX_NAME_LENGTH) {
				fprintf(stderr, "cpg_client: group name too long (max %d)\n",
					CPG_MAX_NAME_LENGTH - 1);
				return -1;
			}
			o->group = optarg;
			break;
		case 'r':
			if (parse_uint(optarg, 10000, &v) < 0 || v == 0)
				goto bad;
			o->rate = (unsigned int)v;
			break;
		case 's':
			if (parse_uint(optarg, MAX_SIZE_LIMIT, &v) < 0 || v < MIN_SIZE)
				goto bad;
			o->max_size = v;
			break;
		case 'd':
			if (parse_uint(optarg, 86400, &v) < 0)
				goto bad;
			o->duration = (unsigned int)v;
			break;
		case 'w':
			if (parse_uint(optarg, MAX_SENDERS, &v) < 0)
				goto bad;
			o->wait_members = (unsigned int)v;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'S':
			o->status = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cpg_client: unexpected argument '%s'; see --help\n",
			argv[optind]);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "cpg_client: bad value '%s' for an option; see --help\n", optarg);
	return -1;
}

static int setup_fds(const struct client *c, int *sfd, int *tfd)
{
	sigset_t mask;
	long ns = 1000000000L / c->o.rate;
	struct itimerspec its = {
		.it_interval = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L },
		.it_value = { .tv_sec = 0, .tv_nsec = 1000000 },
	};

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	*sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (*sfd < 0)
		return -1;
	*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*tfd < 0 || timerfd_settime(*tfd, 0, &its, NULL) < 0) {
		close(*sfd);
		if (*tfd >= 0)
			close(*tfd);
		return -1;
	}
	return 0;
}

/* One pass of the event loop; returns 1 to go on, 0 to stop, -1 on error. */
static int loop_once(struct client *c, struct pollfd *pfd, double *next_status)
{
	int n = poll(pfd, 3, 1000);

	if (n < 0)
		return errno == EINTR ? 1 : -1;
	if (pfd[0].revents) {
		struct signalfd_siginfo si;

		if (read(pfd[0].fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			return 0;
	}
	if (pfd[1].revents) {
		uint64_t ticks;

		if (read(pfd[1].fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks) &&
		    c->sending)
			send_one(c); /* one per tick at most: a steady rate, no bursts */
	}
	if (pfd[2].revents) {
		cs_error_t err = cpg_dispatch(c->handle, CS_DISPATCH_ALL);

		if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
			fprintf(stderr, "cpg_client: cpg_dispatch: error %d (corosync gone?)\n",
				err);
			return -1;
		}
	}
	if (c->o.duration && elapsed_s(c) >= c->o.duration)
		return 0;
	if (c->o.status && elapsed_s(c) >= *next_status) {
		*next_status = elapsed_s(c) + 1.0;
		if (write_report(c, c->o.status) < 0)
			fprintf(stderr, "cpg_client: %s: %s\n", c->o.status, strerror(errno));
	}
	return 1;
}

static int cpg_setup(struct client *c)
{
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = on_deliver,
		.cpg_confchg_fn = on_confchg,
		.cpg_totem_confchg_fn = NULL,
		.flags = 0,
	};
	cs_error_t err;
	unsigned int nodeid;

	err = cpg_model_initialize(&c->handle, CPG_MODEL_V1,
				   (cpg_model_data_t *)&model, c);
	if (err != CS_OK) {
		fprintf(stderr, "cpg_client: cpg_model_initialize: error %d "
			"(is corosync running here?)\n", err);
		return -1;
	}
	if (cpg_local_get(c->handle, &nodeid) != CS_OK) {
		fprintf(stderr, "cpg_client: cpg_local_get failed\n");
		return -1;
	}
	c->nodeid = nodeid;
	c->pid = (uint32_t)getpid();
	c->name.length = (uint32_t)strlen(c->o.group);
	memcpy(c->name.value, c->o.group, c->name.length);
	for (int tries = 0;; tries++) {
		err = cpg_join(c->handle, &c->name);
		if (err != CS_ERR_TRY_AGAIN || tries == 100)
			break;
		poll(NULL, 0, 100);
	}
	if (err != CS_OK) {
		fprintf(stderr, "cpg_client: cpg_join: error %d\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct client *c = calloc(1, sizeof(*c));
	struct pollfd pfd[3];
	int sfd = -1, tfd = -1, cfd = -1, r = 1, rc = 1;
	double next_status = 0;

	if (c == NULL)
		return 1;
	if (parse_opts(argc, argv, &c->o) < 0)
		goto out;
	c->next_seq = 1;
	c->sending = c->o.wait_members == 0;
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	c->buf = malloc(c->o.max_size);
	if (c->buf == NULL || setup_fds(c, &sfd, &tfd) < 0) {
		fprintf(stderr, "cpg_client: setup: %s\n", strerror(errno));
		goto out;
	}
	if (cpg_setup(c) < 0 || cpg_fd_get(c->handle, &cfd) != CS_OK)
		goto out;
	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = tfd, .events = POLLIN };
	pfd[2] = (struct pollfd){ .fd = cfd, .events = POLLIN };
	while ((r = loop_once(c, pfd, &next_status)) > 0)
		;
	rc = r == 0 ? 0 : 2;
	if (r == 0)
		cpg_dispatch(c->handle, CS_DISPATCH_ALL); /* what already arrived */
	report(c, stdout);
	fflush(stdout);
	if (c->o.out && write_report(c, c->o.out) < 0) {
		fprintf(stderr, "cpg_client: %s: %s\n", c->o.out, strerror(errno));
		rc = 1;
	}
	if (c->o.status)
		write_report(c, c->o.status);
	cpg_leave(c->handle, &c->name);
out:
	if (c->handle)
		cpg_finalize(c->handle);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	free(c->buf);
	free(c);
	return rc;
}
