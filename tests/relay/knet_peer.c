/* knet_peer: one knet node for the relay tests.
 *
 * It opens a real libknet handle (crypto on by default), adds one UDP
 * link per peer from ADDR:PORT to the peer's link address (which
 * disklinkd serves), waits until every link is connected and PMTUD has
 * settled, then exchanges COUNT verified messages with every peer:
 * each node broadcasts DATA messages (sizes up to KNET_MAX_PACKET_SIZE,
 * so knet fragments the large ones), whose bytes are a function of
 * (source, sequence, length) and are checked byte for byte, in order,
 * by every receiver; receivers return cumulative ACKs.  A lost, damaged,
 * duplicated or reordered DATA message is a failure; control messages
 * (HELLO, ACK, DONE) are idempotent and repeated every tick.
 *
 * Results go to stdout as one JSON object; knet's log goes to stderr.
 * Exit status: 0 success, 1 protocol or knet failure or timeout,
 * 2 usage error.  Every wait is bounded by --timeout.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libknet.h>

#define KP_PEERS_MAX   16
#define KP_MAGIC       0x3154504bu     /* "KPT1" */
#define KP_HDR         24u
#define KP_MARKER_LEN  32u
#define KP_MARKER_STEP 4096u
#define KP_TICK_MS     100
#define KP_LINK_ID     0

enum kp_type { KP_DATA = 1, KP_ACK = 2, KP_DONE = 3, KP_HELLO = 4 };
enum kp_phase { PH_LINK, PH_PMTUD, PH_HELLO, PH_XFER, PH_LINGER, PH_END };

struct kp_opts {
	uint16_t node_id;
	const char *port;
	const char *local_addr;
	const char *crypto;            /* "openssl", "nss" or "none" */
	const char *cipher;
	const char *hash;
	const char *key_file;
	const char *marker;            /* KP_MARKER_LEN bytes or NULL */
	unsigned count;
	unsigned window;
	unsigned max_size;
	unsigned min_mtu;
	unsigned timeout_s;
	unsigned linger_ms;
	unsigned ping_interval_ms;
	unsigned ping_timeout_ms;
	unsigned pong_count;
	unsigned pmtud_interval_s;
	uint8_t log_level;
};

struct kp_peer {
	uint16_t id;
	const char *addr;
	bool up;                        /* link connected (local view) */
	bool heard;                     /* any message received from it */
	bool done;                      /* its DONE received */
	int64_t up_ms;
	uint32_t rx_next;               /* next DATA seq expected from it */
	uint32_t acked;                 /* its cumulative ACK of our DATA */
	uint64_t rx_bytes;
};

struct kp {
	struct kp_opts o;
	struct kp_peer peers[KP_PEERS_MAX];
	size_t npeers;
	knet_handle_t h;
	int logfd[2];
	int evfd;
	int datafd;
	int8_t channel;
	enum kp_phase phase;
	int64_t t0, phase_deadline, linger_end;
	int64_t pmtud_ms;
	uint32_t tx_next;               /* next DATA seq to send */
	uint64_t tx_bytes;
	unsigned data_mtu;
	bool sock_error;
	char fail[256];
	uint8_t *rxbuf, *txbuf, *expbuf;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void kp_failf(struct kp *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void kp_failf(struct kp *k, const char *fmt, ...)
{
	va_list ap;

	if (k->fail[0])
		return;                 /* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(k->fail, sizeof(k->fail), fmt, ap);
	va_end(ap);
	fprintf(stderr, "knet_peer %u: FAIL: %s\n", k->o.node_id, k->fail);
}

/* ---- message encoding ------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void kp_header(uint8_t *p, uint8_t type, uint16_t src, uint16_t dst,
		      uint32_t seq, uint32_t len)
{
	memset(p, 0, KP_HDR);
	put32(p, KP_MAGIC);
	p[4] = type;
	put16(p + 6, src);
	put16(p + 8, dst);
	put32(p + 12, seq);
	put32(p + 16, len);
}

/* The whole DATA message is a function of (src, seq, len, marker). */
static void kp_fill(const struct kp *k, uint8_t *p, uint16_t src, uint32_t seq, uint32_t len)
{
	uint32_t x = 0x9e3779b9u ^ ((uint32_t)src << 16) ^ (seq * 2654435761u) ^ len;

	kp_header(p, KP_DATA, src, 0, seq, len);
	for (uint32_t i = KP_HDR; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	if (!k->o.marker)
		return;
	for (uint32_t off = KP_HDR; off + KP_MARKER_LEN <= len; off += KP_MARKER_STEP)
		memcpy(p + off, k->o.marker, KP_MARKER_LEN);
}

static const uint32_t kp_sizes[] = {
	KP_HDR + KP_MARKER_LEN, 100, 333, 1024, 1400, 1473, 4096, 9000,
	16384, 32768, 60000, 65000, KNET_MAX_PACKET_SIZE,
};

static uint32_t kp_size_of(const struct kp *k, uint32_t seq)
{
	uint32_t s = kp_sizes[seq % (sizeof(kp_sizes) / sizeof(kp_sizes[0]))];

	return s > k->o.max_size ? k->o.max_size : s;
}

/* ---- knet callbacks (knet threads: only flag and wake) ---------------- */

static void kp_wake(int evfd)
{
	uint64_t one = 1;

	if (write(evfd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow in practice; nothing to do */
	}
}

static void kp_sock_notify(void *priv, int datafd, int8_t channel, uint8_t tx_rx,
			   int error, int errorno)
{
	struct kp *k = priv;

	(void)datafd; (void)channel; (void)tx_rx; (void)error; (void)errorno;
	k->sock_error = true;
	kp_wake(k->evfd);
}

static void kp_host_notify(void *priv, knet_node_id_t host_id, uint8_t reachable,
			   uint8_t remote, uint8_t external)
{
	struct kp *k = priv;

	(void)host_id; (void)reachable; (void)remote; (void)external;
	kp_wake(k->evfd);
}

static void kp_pmtud_notify(void *priv, unsigned int data_mtu)
{
	struct kp *k = priv;

	(void)data_mtu;
	kp_wake(k->evfd);
}

/* ---- setup and teardown ---------------------------------------------- */

static int kp_load_key(const struct kp *k, struct knet_handle_crypto_cfg *cfg)
{
	if (!k->o.key_file) {
		/* A fixed test key: both ends derive the same bytes. */
		for (unsigned i = 0; i < 256; i++)
			cfg->private_key[i] = (unsigned char)(i * 7 + 3);
		cfg->private_key_len = 256;
		return 0;
	}
	FILE *f = fopen(k->o.key_file, "rb");
	if (!f) {
		fprintf(stderr, "knet_peer: cannot open key file %s: %s\n", k->o.key_file, strerror(errno));
		return -1;
	}
	size_t n = fread(cfg->private_key, 1, KNET_MAX_KEY_LEN, f);
	fclose(f);
	if (n < KNET_MIN_KEY_LEN) {
		fprintf(stderr, "knet_peer: key file %s holds %zu bytes; knet needs at least %d\n",
			k->o.key_file, n, KNET_MIN_KEY_LEN);
		return -1;
	}
	cfg->private_key_len = (unsigned)n;
	return 0;
}

static int kp_setup_crypto(struct kp *k)
{
	struct knet_handle_crypto_cfg cfg;

	if (strcmp(k->o.crypto, "none") == 0)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.crypto_model, sizeof(cfg.crypto_model), "%s", k->o.crypto);
	snprintf(cfg.crypto_cipher_type, sizeof(cfg.crypto_cipher_type), "%s", k->o.cipher);
	snprintf(cfg.crypto_hash_type, sizeof(cfg.crypto_hash_type), "%s", k->o.hash);
	if (kp_load_key(k, &cfg) < 0)
		return -1;
	int rc = knet_handle_crypto_set_config(k->h, &cfg, 1);
	if (rc != 0) {
		fprintf(stderr, "knet_peer: crypto %s/%s/%s failed (rc %d): %s; is libknet's %s plugin installed?\n",
			k->o.crypto, k->o.cipher, k->o.hash, rc, rc == -1 ? strerror(errno) : "plugin init",
			k->o.crypto);
		return -1;
	}
	if (knet_handle_crypto_use_config(k->h, 1) < 0 ||
	    knet_handle_crypto_rx_clear_traffic(k->h, KNET_CRYPTO_RX_DISALLOW_CLEAR_TRAFFIC) < 0) {
		fprintf(stderr, "knet_peer: enabling crypto: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int kp_setup_link(struct kp *k, struct kp_peer *p)
{
	struct sockaddr_storage src, dst;

	if (knet_strtoaddr(k->o.local_addr, k->o.port, &src, sizeof(src)) != 0 ||
	    knet_strtoaddr(p->addr, k->o.port, &dst, sizeof(dst)) != 0) {
		fprintf(stderr, "knet_peer: bad address %s or %s (port %s)\n",
			k->o.local_addr, p->addr, k->o.port);
		return -1;
	}
	if (knet_host_add(k->h, p->id) < 0 ||
	    knet_link_set_config(k->h, p->id, KP_LINK_ID, KNET_TRANSPORT_UDP, &src, &dst, 0) < 0 ||
	    knet_link_set_ping_timers(k->h, p->id, KP_LINK_ID, k->o.ping_interval_ms,
				      k->o.ping_timeout_ms, 2048) < 0 ||
	    knet_link_set_pong_count(k->h, p->id, KP_LINK_ID, (uint8_t)k->o.pong_count) < 0 ||
	    knet_link_set_enable(k->h, p->id, KP_LINK_ID, 1) < 0) {
		fprintf(stderr, "knet_peer: link to node %u (%s:%s -> %s:%s): %s\n", p->id,
			k->o.local_addr, k->o.port, p->addr, k->o.port, strerror(errno));
		return -1;
	}
	return 0;
}

static int kp_setup(struct kp *k)
{
	uint64_t flags = geteuid() == 0 ? KNET_HANDLE_FLAG_PRIVILEGED : 0;

	if (pipe2(k->logfd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	k->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (k->evfd < 0)
		return -1;
	k->h = knet_handle_new_ex(k->o.node_id, k->logfd[1], k->o.log_level, flags);
	if (!k->h) {
		fprintf(stderr, "knet_peer: knet_handle_new: %s\n", strerror(errno));
		return -1;
	}
	if (knet_handle_enable_sock_notify(k->h, k, kp_sock_notify) < 0 ||
	    knet_host_enable_status_change_notify(k->h, k, kp_host_notify) < 0 ||
	    knet_handle_enable_pmtud_notify(k->h, k, kp_pmtud_notify) < 0 ||
	    knet_handle_pmtud_setfreq(k->h, k->o.pmtud_interval_s) < 0) {
		fprintf(stderr, "knet_peer: handle setup: %s\n", strerror(errno));
		return -1;
	}
	k->datafd = 0;
	k->channel = -1;
	if (knet_handle_add_datafd(k->h, &k->datafd, &k->channel) < 0) {
		fprintf(stderr, "knet_peer: knet_handle_add_datafd: %s\n", strerror(errno));
		return -1;
	}
	if (kp_setup_crypto(k) < 0)
		return -1;
	for (size_t i = 0; i < k->npeers; i++)
		if (kp_setup_link(k, &k->peers[i]) < 0)
			return -1;
	if (knet_handle_setfwd(k->h, 1) < 0) {
		fprintf(stderr, "knet_peer: knet_handle_setfwd: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void kp_drain_log(struct kp *k)
{
	struct knet_log_msg msg;

	while (read(k->logfd[0], &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
		msg.msg[sizeof(msg.msg) - 1] = '\0';
		fprintf(stderr, "[%" PRId64 " ms] node %u knet %s %s: %s\n", now_ms() - k->t0,
			k->o.node_id, knet_log_get_loglevel_name(msg.msglevel),
			knet_log_get_subsystem_name(msg.subsystem), msg.msg);
	}
}

static void kp_teardown(struct kp *k)
{
	if (k->h) {
		knet_handle_setfwd(k->h, 0);
		for (size_t i = 0; i < k->npeers; i++) {
			knet_link_set_enable(k->h, k->peers[i].id, KP_LINK_ID, 0);
			knet_link_clear_config(k->h, k->peers[i].id, KP_LINK_ID);
			knet_host_remove(k->h, k->peers[i].id);
		}
		if (k->datafd > 0)
			knet_handle_remove_datafd(k->h, k->datafd);
		knet_handle_free(k->h);
		k->h = NULL;
	}
	if (k->logfd[0] > 0) {
		kp_drain_log(k);
		close(k->logfd[0]);
		close(k->logfd[1]);
	}
	if (k->evfd > 0)
		close(k->evfd);
}

/* ---- the exchange ---------------------------------------------------- */

static struct kp_peer *kp_peer_by_id(struct kp *k, uint16_t id)
{
	for (size_t i = 0; i < k->npeers; i++)
		if (k->peers[i].id == id)
			return &k->peers[i];
	return NULL;
}

/* Send one message; 1 sent, 0 would block, -1 error. */
static int kp_send(struct kp *k, const uint8_t *buf, uint32_t len)
{
	ssize_t n = knet_send(k->h, (const char *)buf, len, k->channel);

	if (n == (ssize_t)len)
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
		return 0;
	kp_failf(k, "knet_send of %u bytes: %s", len, n < 0 ? strerror(errno) : "short write");
	return -1;
}

static void kp_send_ctl(struct kp *k, uint8_t type, uint16_t dst, uint32_t seq)
{
	uint8_t m[KP_HDR];

	kp_header(m, type, k->o.node_id, dst, seq, KP_HDR);
	(void)kp_send(k, m, KP_HDR);   /* idempotent, repeated every tick */
}

static void kp_rx_data(struct kp *k, struct kp_peer *p, uint32_t seq, uint32_t len, ssize_t n)
{
	if (seq != p->rx_next) {
		kp_failf(k, "DATA from node %u: seq %u, expected %u (%s)", p->id, seq, p->rx_next,
			 seq < p->rx_next ? "duplicate or reordered" : "lost datagram");
		return;
	}
	if (len < KP_HDR + KP_MARKER_LEN || len > KNET_MAX_PACKET_SIZE || (ssize_t)len != n) {
		kp_failf(k, "DATA from node %u seq %u: header length %u, received %zd", p->id, seq, len, n);
		return;
	}
	kp_fill(k, k->expbuf, p->id, seq, len);
	if (memcmp(k->expbuf, k->rxbuf, len) != 0) {
		uint32_t at = 0;
		while (at < len && k->expbuf[at] == k->rxbuf[at])
			at++;
		kp_failf(k, "DATA from node %u seq %u (%u bytes) damaged at byte %u", p->id, seq, len, at);
		return;
	}
	p->rx_next++;
	p->rx_bytes += len;
	kp_send_ctl(k, KP_ACK, p->id, p->rx_next);
}

static void kp_rx_one(struct kp *k, ssize_t n)
{
	const uint8_t *m = k->rxbuf;

	if (n < (ssize_t)KP_HDR || get32(m) != KP_MAGIC) {
		kp_failf(k, "received a %zd-byte message that is not ours", n);
		return;
	}
	uint8_t type = m[4];
	uint16_t src = get16(m + 6), dst = get16(m + 8);
	uint32_t seq = get32(m + 12), len = get32(m + 16);
	struct kp_peer *p = kp_peer_by_id(k, src);

	if (!p) {
		kp_failf(k, "message from unknown node %u", src);
		return;
	}
	p->heard = true;
	if (dst != 0 && dst != k->o.node_id)
		return;
	switch (type) {
	case KP_DATA:
		kp_rx_data(k, p, seq, len, n);
		break;
	case KP_ACK:
		if (seq > k->tx_next)
			kp_failf(k, "node %u acknowledged %u messages, only %u sent", src, seq, k->tx_next);
		else if (seq > p->acked)
			p->acked = seq;
		break;
	case KP_DONE:
		if (seq != p->rx_next)
			kp_failf(k, "node %u is done after %u messages, %u received", src, seq, p->rx_next);
		else
			p->done = true;
		break;
	case KP_HELLO:
		break;
	default:
		kp_failf(k, "message of unknown type %u from node %u", type, src);
	}
}

static void kp_receive(struct kp *k)
{
	for (;;) {
		ssize_t n = knet_recv(k->h, (char *)k->rxbuf, KNET_MAX_PACKET_SIZE, k->channel);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				kp_failf(k, "knet_recv: %s", strerror(errno));
			return;
		}
		if (n == 0)
			return;
		kp_rx_one(k, n);
		if (k->fail[0])
			return;
	}
}

static uint32_t kp_min_acked(const struct kp *k)
{
	uint32_t m = UINT32_MAX;

	for (size_t i = 0; i < k->npeers; i++)
		if (k->peers[i].acked < m)
			m = k->peers[i].acked;
	return m;
}

/* Send DATA while the window allows; true when a send would block. */
static bool kp_send_data(struct kp *k)
{
	while (k->tx_next < k->o.count && k->tx_next - kp_min_acked(k) < k->o.window) {
		uint32_t len = kp_size_of(k, k->tx_next);
		kp_fill(k, k->txbuf, k->o.node_id, k->tx_next, len);
		int rc = kp_send(k, k->txbuf, len);
		if (rc <= 0)
			return rc == 0;
		k->tx_next++;
		k->tx_bytes += len;
	}
	return false;
}

static bool kp_all_heard(const struct kp *k)
{
	for (size_t i = 0; i < k->npeers; i++)
		if (!k->peers[i].heard)
			return false;
	return true;
}

static bool kp_all_done(const struct kp *k)
{
	for (size_t i = 0; i < k->npeers; i++)
		if (!k->peers[i].done)
			return false;
	return true;
}

/* Refresh link state; true when every link is connected. */
static bool kp_poll_links(struct kp *k, unsigned *min_mtu)
{
	bool all = true;

	*min_mtu = UINT_MAX;
	for (size_t i = 0; i < k->npeers; i++) {
		struct kp_peer *p = &k->peers[i];
		struct knet_link_status st;
		memset(&st, 0, sizeof(st));
		if (knet_link_get_status(k->h, p->id, KP_LINK_ID, &st, sizeof(st)) < 0) {
			kp_failf(k, "knet_link_get_status(node %u): %s", p->id, strerror(errno));
			return false;
		}
		if (st.connected && !p->up) {
			p->up = true;
			p->up_ms = now_ms() - k->t0;
		}
		if (!st.connected)
			all = false;
		if (st.mtu < *min_mtu)
			*min_mtu = st.mtu;
	}
	return all;
}

static void kp_enter(struct kp *k, enum kp_phase ph)
{
	static const char *const names[] = { "link", "pmtud", "hello", "transfer", "linger", "end" };

	k->phase = ph;
	k->phase_deadline = now_ms() + (int64_t)k->o.timeout_s * 1000;
	fprintf(stderr, "[%" PRId64 " ms] node %u: phase %s\n", now_ms() - k->t0, k->o.node_id, names[ph]);
}

/* Advance the phase machine as far as the state allows. */
static void kp_advance(struct kp *k)
{
	unsigned mtu;
	bool links = kp_poll_links(k, &mtu);

	if (k->fail[0])
		return;
	if (k->phase == PH_LINK && links)
		kp_enter(k, PH_PMTUD);
	if (k->phase == PH_PMTUD && links && (k->o.min_mtu == 0 || mtu >= k->o.min_mtu)) {
		k->pmtud_ms = now_ms() - k->t0;
		knet_handle_pmtud_get(k->h, &k->data_mtu);
		kp_enter(k, PH_HELLO);
	}
	if (k->phase == PH_HELLO && kp_all_heard(k))
		kp_enter(k, PH_XFER);
	if (k->phase == PH_XFER && k->tx_next == k->o.count && kp_min_acked(k) == k->o.count &&
	    kp_all_done(k)) {
		kp_enter(k, PH_LINGER);
		k->linger_end = now_ms() + k->o.linger_ms;
	}
	if (k->phase == PH_LINGER && now_ms() >= k->linger_end)
		k->phase = PH_END;
}

/* Control messages repeated every tick (all idempotent). */
static void kp_tick(struct kp *k)
{
	if (k->phase < PH_HELLO)
		return;
	kp_send_ctl(k, KP_HELLO, 0, 0);
	for (size_t i = 0; i < k->npeers; i++)
		if (k->peers[i].rx_next > 0)
			kp_send_ctl(k, KP_ACK, k->peers[i].id, k->peers[i].rx_next);
	if (k->tx_next == k->o.count && kp_min_acked(k) == k->o.count)
		kp_send_ctl(k, KP_DONE, 0, k->o.count);
}

static const char *kp_phase_wait(enum kp_phase ph)
{
	switch (ph) {
	case PH_LINK: return "link up";
	case PH_PMTUD: return "PMTUD to reach --min-mtu";
	case PH_HELLO: return "hearing from every peer";
	case PH_XFER: return "transfer (acks or peers' DONE)";
	default: return "end";
	}
}

static int kp_run(struct kp *k)
{
	int64_t next_tick = now_ms() + KP_TICK_MS;
	bool blocked = false;

	kp_enter(k, PH_LINK);
	while (k->phase != PH_END && !k->fail[0]) {
		struct pollfd pfd[3] = {
			{ .fd = k->logfd[0], .events = POLLIN },
			{ .fd = k->evfd, .events = POLLIN },
			{ .fd = k->datafd, .events = POLLIN | (blocked ? POLLOUT : 0) },
		};
		int64_t now = now_ms();
		int64_t wait = next_tick - now;
		if (poll(pfd, 3, wait > 0 ? (int)wait : 0) < 0 && errno != EINTR) {
			kp_failf(k, "poll: %s", strerror(errno));
			break;
		}
		uint64_t ev;
		if (read(k->evfd, &ev, sizeof(ev)) < 0 && errno != EAGAIN)
			kp_failf(k, "eventfd: %s", strerror(errno));
		kp_drain_log(k);
		if (k->sock_error)
			kp_failf(k, "knet reported an error on the data socket");
		kp_receive(k);
		kp_advance(k);
		if (k->phase == PH_XFER)
			blocked = kp_send_data(k);
		now = now_ms();
		if (now >= next_tick) {
			kp_tick(k);
			next_tick = now + KP_TICK_MS;
		}
		if (k->phase != PH_END && k->phase != PH_LINGER && now > k->phase_deadline)
			kp_failf(k, "timed out after %u s waiting for %s", k->o.timeout_s,
				 kp_phase_wait(k->phase));
	}
	return k->fail[0] ? -1 : 0;
}

/* ---- results --------------------------------------------------------- */

static void kp_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void kp_report(struct kp *k)
{
	unsigned long long rx_msgs = 0;

	printf("{\"node_id\":%u,\"crypto\":", k->o.node_id);
	kp_json_string(k->o.crypto);
	printf(",\"result\":\"%s\",\"error\":", k->fail[0] ? "fail" : "ok");
	kp_json_string(k->fail);
	printf(",\"pmtud_ms\":%" PRId64 ",\"data_mtu\":%u,\"messages_sent\":%u,\"bytes_sent\":%" PRIu64
	       ",\"messages_acked\":%u,\"peers\":[",
	       k->pmtud_ms, k->data_mtu, k->tx_next, k->tx_bytes, kp_min_acked(k));
	for (size_t i = 0; i < k->npeers; i++) {
		struct kp_peer *p = &k->peers[i];
		struct knet_link_status st;
		memset(&st, 0, sizeof(st));
		if (k->h)
			knet_link_get_status(k->h, p->id, KP_LINK_ID, &st, sizeof(st));
		rx_msgs += p->rx_next;
		printf("%s{\"node_id\":%u,\"link_up_ms\":%" PRId64 ",\"connected\":%u,\"link_mtu\":%u,"
		       "\"latency_ave_us\":%u,\"latency_samples\":%u,\"down_count\":%u,"
		       "\"messages_received\":%u,\"bytes_received\":%" PRIu64 ",\"acked\":%u,\"done\":%s}",
		       i ? "," : "", p->id, p->up ? p->up_ms : -1, st.connected, st.mtu,
		       st.stats.latency_ave, st.stats.latency_samples, st.stats.down_count,
		       p->rx_next, p->rx_bytes, p->acked, p->done ? "true" : "false");
	}
	printf("],\"messages_received\":%llu}\n", rx_msgs);
	fflush(stdout);
}

/* ---- options --------------------------------------------------------- */

static void kp_usage(FILE *f)
{
	fprintf(f,
		"usage: knet_peer --node-id N --port P --local-addr ADDR --peer ID=ADDR [--peer ...]\n"
		"  [--crypto openssl|nss|none] [--cipher aes256] [--hash sha256] [--key-file F]\n"
		"  [--count N] [--window W] [--max-size BYTES] [--marker 32CHARS]\n"
		"  [--min-mtu M (0: do not wait for PMTUD)] [--timeout SECONDS per phase]\n"
		"  [--linger-ms MS] [--ping-interval MS] [--ping-timeout MS] [--pong-count N]\n"
		"  [--pmtud-interval S] [--log-level error|warning|info|debug]\n");
}

static int kp_num(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int kp_add_peer(struct kp *k, char *arg)
{
	char *eq = strchr(arg, '=');
	unsigned long id;

	if (!eq || k->npeers == KP_PEERS_MAX)
		return -1;
	*eq = '\0';
	if (kp_num(arg, 1, 65535, &id) < 0 || !eq[1])
		return -1;
	k->peers[k->npeers].id = (uint16_t)id;
	k->peers[k->npeers].addr = eq + 1;
	k->npeers++;
	return 0;
}

static int kp_parse(struct kp *k, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "node-id", 1, NULL, 'n' }, { "port", 1, NULL, 'p' },
		{ "local-addr", 1, NULL, 'l' }, { "peer", 1, NULL, 'P' },
		{ "crypto", 1, NULL, 'c' }, { "cipher", 1, NULL, 'C' },
		{ "hash", 1, NULL, 'H' }, { "key-file", 1, NULL, 'k' },
		{ "count", 1, NULL, 'N' }, { "window", 1, NULL, 'w' },
		{ "max-size", 1, NULL, 's' }, { "marker", 1, NULL, 'm' },
		{ "min-mtu", 1, NULL, 'M' }, { "timeout", 1, NULL, 't' },
		{ "linger-ms", 1, NULL, 'L' }, { "ping-interval", 1, NULL, 'i' },
		{ "ping-timeout", 1, NULL, 'T' }, { "pong-count", 1, NULL, 'o' },
		{ "pmtud-interval", 1, NULL, 'u' }, { "log-level", 1, NULL, 'v' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	unsigned long v = 0;
	int c;

	k->o = (struct kp_opts){
		.port = "5406", .crypto = "openssl", .cipher = "aes256", .hash = "sha256",
		.count = 100, .window = 4, .max_size = KNET_MAX_PACKET_SIZE, .min_mtu = 60000,
		.timeout_s = 30, .linger_ms = 500, .ping_interval_ms = 750,
		.ping_timeout_ms = 1500, .pong_count = 2, .pmtud_interval_s = 30,
		.log_level = KNET_LOG_WARN,
	};
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'n': bad = kp_num(optarg, 1, 65535, &v); k->o.node_id = (uint16_t)v; break;
		case 'p': bad = kp_num(optarg, 1, 65535, &v); k->o.port = optarg; break;
		case 'l': k->o.local_addr = optarg; break;
		case 'P': bad = kp_add_peer(k, optarg); break;
		case 'c': k->o.crypto = optarg; break;
		case 'C': k->o.cipher = optarg; break;
		case 'H': k->o.hash = optarg; break;
		case 'k': k->o.key_file = optarg; break;
		case 'N': bad = kp_num(optarg, 0, 1000000, &v); k->o.count = (unsigned)v; break;
		case 'w': bad = kp_num(optarg, 1, 1024, &v); k->o.window = (unsigned)v; break;
		case 's': bad = kp_num(optarg, KP_HDR + KP_MARKER_LEN, KNET_MAX_PACKET_SIZE, &v);
			k->o.max_size = (unsigned)v; break;
		case 'm': k->o.marker = optarg; bad = strlen(optarg) != KP_MARKER_LEN; break;
		case 'M': bad = kp_num(optarg, 0, 65535, &v); k->o.min_mtu = (unsigned)v; break;
		case 't': bad = kp_num(optarg, 1, 3600, &v); k->o.timeout_s = (unsigned)v; break;
		case 'L': bad = kp_num(optarg, 0, 60000, &v); k->o.linger_ms = (unsigned)v; break;
		case 'i': bad = kp_num(optarg, 10, 60000, &v); k->o.ping_interval_ms = (unsigned)v; break;
		case 'T': bad = kp_num(optarg, 20, 120000, &v); k->o.ping_timeout_ms = (unsigned)v; break;
		case 'o': bad = kp_num(optarg, 1, 255, &v); k->o.pong_count = (unsigned)v; break;
		case 'u': bad = kp_num(optarg, 1, 86400, &v); k->o.pmtud_interval_s = (unsigned)v; break;
		case 'v': k->o.log_level = knet_log_get_loglevel_id(optarg); break;
		case 'h': kp_usage(stdout); exit(0);
		default: bad = 1;
		}
		if (bad) {
			const char *name = "?";
			for (size_t i = 0; lo[i].name; i++)
				if (lo[i].val == c)
					name = lo[i].name;
			fprintf(stderr, "knet_peer: bad or missing value for --%s: '%s' (see --help)\n",
				name, optarg && c != '?' ? optarg : "");
			return -1;
		}
	}
	if (optind != argc || !k->o.node_id || !k->o.local_addr || !k->npeers) {
		fprintf(stderr, "knet_peer: --node-id, --local-addr and at least one --peer are required\n");
		kp_usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kp *k = calloc(1, sizeof(*k));
	int rc = 2;

	if (!k)
		return 1;
	k->t0 = now_ms();
	k->logfd[0] = k->logfd[1] = k->evfd = -1;
	if (kp_parse(k, argc, argv) < 0)
		goto out;
	rc = 1;
	k->rxbuf = malloc(KNET_MAX_PACKET_SIZE);
	k->txbuf = malloc(KNET_MAX_PACKET_SIZE);
	k->expbuf = malloc(KNET_MAX_PACKET_SIZE);
	if (!k->rxbuf || !k->txbuf || !k->expbuf)
		goto out;
	if (kp_setup(k) < 0) {
		kp_failf(k, "setup failed (see above)");
		kp_report(k);
		goto out;
	}
	rc = kp_run(k) < 0 ? 1 : 0;
	kp_report(k);
out:
	kp_teardown(k);
	free(k->rxbuf);
	free(k->txbuf);
	free(k->expbuf);
	free(k);
	return rc;
}
