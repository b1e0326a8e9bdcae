/* The parent's UDP side (daemon/parent/sockets.c) on loopback: two peer
 * sockets bound on 127.77.x addresses, a UDP socket in this test that
 * stands for the local knet, and a shared channel (dld_chan_create) that
 * stands for a ready I/O child.  Received datagrams reach the channel
 * (identical copies to both peers merged), foreign ones are dropped,
 * delivered ones come out of the right peer's socket, and a new peer list
 * keeps, closes and binds sockets.  A knet end bound by nobody (a forked
 * child that setresuid()s, as root) neither sends nor receives through
 * the link, nor does a link the crypto guard refuses: both failed first
 * on the code before the owner check and the guard (20 of 20 datagrams
 * of nobody's were relayed). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctx.h"

static uint32_t port;

static void peer(struct dld_config *c, uint32_t id, const char *addr)
{
	struct dld_peer_conf *p = &c->peers[c->peer_count++];

	p->node_id = id;
	snprintf(p->text, sizeof(p->text), "%s", addr);
	assert_int_equal(dld_addr_parse(addr, c->port, &p->addr, &p->addr_len), 0);
}

/* The local knet: bound on the configuration's local address and port. */
static int knet_socket(struct dld_ctx *ctx)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ctx->cfg.local, ctx->cfg.local_len), 0);
	return fd;
}

static int setup(void **state)
{
	struct dld_ctx *ctx = calloc(1, sizeof(*ctx));

	assert_non_null(ctx);
	dld_ctx_init(ctx);
	/* A port of our own: other tests may run at the same time. */
	port = 30000u + (uint32_t)getpid() % 20000u;
	dld_config_defaults(&ctx->cfg);
	ctx->cfg.port = port;
	snprintf(ctx->cfg.local_text, sizeof(ctx->cfg.local_text), "127.77.1.1");
	assert_int_equal(dld_addr_parse("127.77.1.1", port, &ctx->cfg.local,
					&ctx->cfg.local_len), 0);
	peer(&ctx->cfg, 2, "127.77.1.2");
	peer(&ctx->cfg, 3, "127.77.1.3");
	assert_int_equal(dld_loop_init(&ctx->loop), 0);
	assert_int_equal(dld_sockets_init(ctx), 0);
	assert_int_equal(dld_sockets_open(ctx), 0);
	/* A ready child's channel. */
	assert_int_equal(dld_chan_create(&ctx->chan, 256), 0);
	ctx->child = getpid();
	ctx->child_ready_ns = 1;
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	struct dld_ctx *ctx = *state;

	dld_sockets_close(ctx);
	dld_chan_destroy(&ctx->chan);
	dld_loop_fini(&ctx->loop);
	free(ctx);
	return 0;
}

static void send_to(int fd, const struct dld_peer_conf *p, const char *text)
{
	assert_int_equal(sendto(fd, text, strlen(text), 0, (const struct sockaddr *)&p->addr,
				p->addr_len), (ssize_t)strlen(text));
}

/* Turn the loop (with its after hook: the flush main.c wires) until the
 * child's queue has a message. */
static int turn(struct dld_ctx *ctx, struct dld_qmsg *m, uint64_t *pos)
{
	*pos = dld_q_tail(ctx->chan.tx);
	for (int k = 0; k < 20; k++) {
		if (dld_q_read(ctx->chan.tx, pos, m))
			return 1;
		assert_int_equal(dld_loop_once(&ctx->loop, 50), 0);
	}
	return 0;
}

static void after(void *arg)
{
	dld_sockets_flush(arg, false);
}

/* The local knet, with the flush after each turn and a coalescing wait
 * of us. */
static int knet_waiting(struct dld_ctx *ctx, uint32_t us)
{
	dld_loop_set_after(&ctx->loop, after, ctx);
	ctx->cfg.tun.coalesce_us = us;
	return knet_socket(ctx);
}

/* Send text to peer i, turn the loop once (with the flush): is the
 * coalescing timer armed (the records held)? */
static bool send_turn(struct dld_ctx *ctx, int knet, uint32_t i, const char *text)
{
	send_to(knet, &ctx->cfg.peers[i], text);
	assert_int_equal(dld_loop_once(&ctx->loop, 1000), 0);
	return ctx->pend.armed;
}

static void test_copies_merge(void **state)
{
	struct dld_ctx *ctx = *state;
	int knet = knet_socket(ctx);
	struct dld_qmsg m;
	uint64_t pos;

	dld_loop_set_after(&ctx->loop, after, ctx);
	send_to(knet, &ctx->cfg.peers[0], "totem");
	send_to(knet, &ctx->cfg.peers[1], "totem");
	assert_int_equal(turn(ctx, &m, &pos), 1);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.data, "totem", 5);
	assert_int_equal(m.ndst, 2);
	assert_int_equal(m.dst[0] + m.dst[1], 5);
	dld_q_release(ctx->chan.tx, pos);
	assert_int_equal(ctx->coalesced, 1);
	assert_int_equal(ctx->peers[0].dgrams_out, 1);
	assert_int_equal(ctx->peers[1].bytes_out, 5);
	close(knet);
}

/* A unicast is queued at the end of the wake-up that read it: no
 * coalescing timer, however long coalesce_us (issue #19: it waited for
 * the timer with two or more peers). */
static void test_unicast_no_wait(void **state)
{
	struct dld_ctx *ctx = *state;
	int knet = knet_waiting(ctx, 10000);
	struct dld_qmsg m;
	uint64_t pos = dld_q_tail(ctx->chan.tx);

	assert_false(send_turn(ctx, knet, 1, "unicast"));
	assert_true(dld_q_read(ctx->chan.tx, &pos, &m));
	assert_int_equal(m.ndst, 1);
	assert_int_equal(m.dst[0], 3);
	dld_q_release(ctx->chan.tx, pos);
	close(knet);
}

/* A copy that reached another peer's socket after the wake-up began is
 * read before the flush and merges (the flush sweeps every socket). */
static void test_flush_sweeps(void **state)
{
	struct dld_ctx *ctx = *state;
	int knet = knet_socket(ctx);
	struct dld_qmsg m;
	uint64_t pos = dld_q_tail(ctx->chan.tx);

	ctx->cfg.tun.coalesce_us = 10000;
	send_to(knet, &ctx->cfg.peers[0], "totem");
	assert_int_equal(dld_loop_once(&ctx->loop, 1000), 0);   /* no after hook */
	assert_int_equal(ctx->pend.set.nrec, 1);
	send_to(knet, &ctx->cfg.peers[1], "totem");
	dld_sockets_flush(ctx, false);
	assert_false(ctx->pend.armed);
	assert_true(dld_q_read(ctx->chan.tx, &pos, &m));
	assert_int_equal(m.ndst, 2);
	assert_int_equal(ctx->coalesced, 1);
	dld_q_release(ctx->chan.tx, pos);
	close(knet);
}

/* Three peers: a broadcast seen on two of them waits (up to coalesce_us)
 * for the third copy; the timer queues what came. */
static void test_partial_broadcast_waits(void **state)
{
	struct dld_ctx *ctx = *state;
	struct dld_config *nc = malloc(sizeof(*nc));
	struct dld_qmsg m;
	uint64_t pos;
	int knet;

	assert_non_null(nc);
	*nc = ctx->cfg;
	peer(nc, 4, "127.77.1.4");
	assert_int_equal(dld_sockets_update(ctx, nc), 0);
	free(nc);
	knet = knet_waiting(ctx, 2000);
	send_to(knet, &ctx->cfg.peers[0], "bcast");
	send_to(knet, &ctx->cfg.peers[1], "bcast");
	pos = dld_q_tail(ctx->chan.tx);
	assert_int_equal(dld_loop_once(&ctx->loop, 1000), 0);
	assert_true(ctx->pend.armed);
	assert_false(dld_q_read(ctx->chan.tx, &pos, &m));
	assert_int_equal(turn(ctx, &m, &pos), 1);
	assert_int_equal(m.ndst, 2);
	assert_false(ctx->pend.armed);
	dld_q_release(ctx->chan.tx, pos);
	/* All three copies: queued at once. */
	for (uint32_t i = 0; i < 3; i++)
		send_to(knet, &ctx->cfg.peers[i], "all");
	pos = dld_q_tail(ctx->chan.tx);
	assert_int_equal(dld_loop_once(&ctx->loop, 1000), 0);
	assert_false(ctx->pend.armed);
	assert_true(dld_q_read(ctx->chan.tx, &pos, &m));
	assert_int_equal(m.ndst, 3);
	dld_q_release(ctx->chan.tx, pos);
	close(knet);
}

/* A first copy that went alone and its copy that followed teach the
 * parent the peer broadcasts start with: the next lone datagram to it
 * waits for its copy (one record), a lone one to the other peer does not. */
static void test_learned_first_copy(void **state)
{
	struct dld_ctx *ctx = *state;
	int knet = knet_waiting(ctx, 10000);
	struct dld_qmsg m;
	uint64_t pos = dld_q_tail(ctx->chan.tx);

	assert_false(send_turn(ctx, knet, 0, "b1"));       /* nothing learned */
	assert_false(send_turn(ctx, knet, 1, "b1"));
	assert_false(send_turn(ctx, knet, 1, "to-3"));
	assert_true(send_turn(ctx, knet, 0, "b2"));        /* predicted */
	assert_false(send_turn(ctx, knet, 1, "b2"));
	for (int k = 0; k < 3; k++) {
		assert_true(dld_q_read(ctx->chan.tx, &pos, &m));
		dld_q_release(ctx->chan.tx, pos);
	}
	assert_true(dld_q_read(ctx->chan.tx, &pos, &m));
	assert_int_equal(m.len, 2);
	assert_memory_equal(m.data, "b2", 2);
	assert_int_equal(m.ndst, 2);
	dld_q_release(ctx->chan.tx, pos);
	close(knet);
}

static void test_foreign_dropped(void **state)
{
	struct dld_ctx *ctx = *state;
	int other = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct dld_qmsg m;
	uint64_t pos;

	assert_true(other >= 0);
	send_to(other, &ctx->cfg.peers[0], "intruder");
	send_to(other, &ctx->cfg.peers[0], "intruder");
	assert_int_equal(turn(ctx, &m, &pos), 0);
	assert_int_equal(ctx->foreign_drops, 2);
	assert_int_equal(ctx->peers[0].dgrams_out, 0);
	close(other);
}

/* No ready child: counted as queue drops. */
static void test_no_child_drops(void **state)
{
	struct dld_ctx *ctx = *state;
	int knet = knet_socket(ctx);
	struct dld_qmsg m;
	uint64_t pos;

	ctx->child_ready_ns = 0;
	send_to(knet, &ctx->cfg.peers[0], "lost");
	assert_int_equal(turn(ctx, &m, &pos), 0);
	assert_int_equal(ctx->tx_queue_drops, 1);
	close(knet);
}

static void test_deliver_from_peer_address(void **state)
{
	struct dld_ctx *ctx = *state;
	int knet = knet_socket(ctx);
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	char buf[64], who[32];
	ssize_t n;

	assert_int_equal(dld_q_push(ctx->chan.rx, 3, NULL, 0, (const uint8_t *)"from-3", 6), 0);
	assert_int_equal(dld_q_push(ctx->chan.rx, 9, NULL, 0, (const uint8_t *)"nobody", 6), 0);
	dld_sockets_deliver(ctx);
	n = recvfrom(knet, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "from-3", 6);
	inet_ntop(AF_INET, &from.sin_addr, who, sizeof(who));
	assert_string_equal(who, "127.77.1.3");
	assert_int_equal(ntohs(from.sin_port), port);
	assert_int_equal(ctx->peers[1].dgrams_in, 1);
	assert_int_equal(ctx->peers[1].bytes_in, 6);
	/* The unknown node's datagram went nowhere. */
	assert_int_equal(recv(knet, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_true(dld_q_empty(ctx->chan.rx));
	close(knet);
}

/* The delivery path's age rule: what waited in the queue from the I/O
 * child longer than half of max_age is dropped and counted; 0: no limit. */
static void test_deliver_aged(void **state)
{
	struct dld_ctx *ctx = *state;
	int knet = knet_socket(ctx);
	uint64_t now = dld_mono_ns();
	char buf[64];

	ctx->cfg.tun.max_age_ms = 1500;
	assert_int_equal(dld_q_push_at(ctx->chan.rx, now - 800000000ull, 3, NULL, 0,
				       (const uint8_t *)"old", 3), 0);
	assert_int_equal(dld_q_push_at(ctx->chan.rx, now - 100000000ull, 3, NULL, 0,
				       (const uint8_t *)"new", 3), 0);
	dld_sockets_deliver(ctx);
	assert_int_equal(recv(knet, buf, sizeof(buf), 0), 3);
	assert_memory_equal(buf, "new", 3);
	assert_int_equal(recv(knet, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(ctx->aged_drops, 1);
	ctx->cfg.tun.max_age_ms = 0;
	assert_int_equal(dld_q_push_at(ctx->chan.rx, now - 800000000ull, 3, NULL, 0,
				       (const uint8_t *)"any", 3), 0);
	dld_sockets_deliver(ctx);
	assert_int_equal(recv(knet, buf, sizeof(buf), 0), 3);
	assert_int_equal(ctx->aged_drops, 1);
	close(knet);
}

/* corosync reload: node 2 stays, node 3 goes, node 4 comes. */
static void test_update(void **state)
{
	struct dld_ctx *ctx = *state;
	struct dld_config *nc = malloc(sizeof(*nc));
	int fd2 = ctx->peers[0].fd;
	int knet;
	struct dld_qmsg m;
	uint64_t pos;

	assert_non_null(nc);
	*nc = ctx->cfg;
	nc->peer_count = 0;
	peer(nc, 4, "127.77.1.4");
	peer(nc, 2, "127.77.1.2");
	assert_int_equal(dld_sockets_update(ctx, nc), 0);
	assert_int_equal(ctx->cfg.peer_count, 2);
	assert_int_equal(ctx->cfg.peers[1].node_id, 2);
	assert_int_equal(ctx->peers[1].fd, fd2);    /* kept, at its new index */
	assert_true(ctx->peers[0].fd >= 0);
	/* The kept socket still reaches the channel, under its new index. */
	dld_loop_set_after(&ctx->loop, after, ctx);
	ctx->cfg.tun.coalesce_us = 0;
	knet = knet_socket(ctx);
	send_to(knet, &ctx->cfg.peers[1], "after");
	assert_int_equal(turn(ctx, &m, &pos), 1);
	assert_int_equal(m.dst[0], 2);
	dld_q_release(ctx->chan.tx, pos);
	send_to(knet, &ctx->cfg.peers[0], "new");
	assert_int_equal(turn(ctx, &m, &pos), 1);
	assert_int_equal(m.dst[0], 4);
	dld_q_release(ctx->chan.tx, pos);
	close(knet);
	free(nc);
}

/* An address another socket holds is refused at open. */
static void test_bind_conflict(void **state)
{
	struct dld_ctx *ctx = *state, *other = calloc(1, sizeof(*other));

	assert_non_null(other);
	dld_ctx_init(other);
	other->cfg = ctx->cfg;
	assert_int_equal(dld_loop_init(&other->loop), 0);
	assert_int_equal(dld_sockets_open(other), -1);
	assert_int_equal(errno, EADDRINUSE);
	dld_sockets_close(other);
	dld_loop_fini(&other->loop);
	free(other);
}

/* A child that becomes nobody, binds the knet end, sends "intruder" to
 * peer 0 and holds the socket until hold is closed. */
static pid_t nobody_knet(struct dld_ctx *ctx, int *hold)
{
	int ready[2], stop[2];
	pid_t pid;
	char c = 0;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(stop), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		close(ready[0]);
		close(stop[1]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&ctx->cfg.local, ctx->cfg.local_len))
			_exit(3);
		for (int k = 0; k < 20; k++)
			if (sendto(fd, "intruder", 8, 0, (struct sockaddr *)&ctx->cfg.peers[0].addr,
				   ctx->cfg.peers[0].addr_len) != 8)
				_exit(4);
		if (write(ready[1], "x", 1) != 1 || read(stop[0], &c, 1) < 0)
			_exit(5);
		_exit(0);
	}
	close(ready[1]);
	close(stop[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*hold = stop[1];
	return pid;
}

static void test_knet_end_of_nobody(void **state)
{
	struct dld_ctx *ctx = *state;
	struct dld_qmsg m;
	uint64_t pos;
	int hold, st;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	dld_loop_set_after(&ctx->loop, after, ctx);
	pid = nobody_knet(ctx, &hold);
	assert_int_equal(turn(ctx, &m, &pos), 0);
	assert_int_equal(ctx->foreign_drops, 20);
	assert_int_equal(ctx->owner_drops, 20);
	assert_int_equal(ctx->knet.uid, 65534);
	assert_int_equal(ctx->peers[0].dgrams_out, 0);
	/* Nothing is delivered to it either. */
	assert_int_equal(dld_q_push(ctx->chan.rx, 2, NULL, 0, (const uint8_t *)"secret", 6), 0);
	dld_sockets_deliver(ctx);
	assert_int_equal(ctx->peers[0].dgrams_in, 0);
	assert_int_equal(ctx->peers[0].send_drops, 1);
	close(hold);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Root's knet end after nobody's: looked up again (a change), relayed. */
static void test_knet_end_changes_hands(void **state)
{
	struct dld_ctx *ctx = *state;
	struct dld_qmsg m;
	uint64_t pos;
	int hold, st, knet;
	pid_t pid;

	if (geteuid() != 0)
		skip();
	dld_loop_set_after(&ctx->loop, after, ctx);
	pid = nobody_knet(ctx, &hold);
	assert_int_equal(turn(ctx, &m, &pos), 0);
	close(hold);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	knet = knet_socket(ctx);
	dld_sockets_recheck(ctx);
	send_to(knet, &ctx->cfg.peers[0], "totem");
	assert_int_equal(turn(ctx, &m, &pos), 1);
	assert_memory_equal(m.data, "totem", 5);
	close(knet);
}

/* Corosync mode without crypto_hash: refused unless allow_plaintext. */
static void test_crypto_guard(void **state)
{
	struct dld_ctx *ctx = *state;
	int knet = knet_socket(ctx);
	struct dld_qmsg m;
	uint64_t pos;

	dld_loop_set_after(&ctx->loop, after, ctx);
	ctx->cfg.link = 1;
	dld_crypto_guard(ctx, "none", "none");
	assert_int_equal(ctx->crypto, DLD_CRYPTO_REFUSED);
	assert_non_null(strstr(ctx->refused, "allow_plaintext = yes"));
	send_to(knet, &ctx->cfg.peers[0], "plain");
	assert_int_equal(turn(ctx, &m, &pos), 0);
	assert_int_equal(ctx->refused_drops, 1);
	assert_int_equal(ctx->foreign_drops, 0);
	/* A reload turns crypto on: relayed. */
	dld_crypto_guard(ctx, "aes256", "sha256");
	assert_int_equal(ctx->crypto, DLD_CRYPTO_ON);
	assert_string_equal(ctx->refused, "");
	send_to(knet, &ctx->cfg.peers[0], "crypt");
	assert_int_equal(turn(ctx, &m, &pos), 1);
	dld_q_release(ctx->chan.tx, pos);
	/* Off again, but the operator allows it. */
	ctx->cfg.allow_plaintext = 1;
	dld_crypto_guard(ctx, NULL, NULL);
	assert_int_equal(ctx->crypto, DLD_CRYPTO_PLAIN);
	send_to(knet, &ctx->cfg.peers[0], "plain");
	assert_int_equal(turn(ctx, &m, &pos), 1);
	close(knet);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copies_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unicast_no_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_sweeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_broadcast_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_learned_first_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_child_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deliver_from_peer_address, setup, teardown),
cmocka_unit_test_setup_teardown(test_deliver_aged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_knet_end_of_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_knet_end_changes_hands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crypto_guard, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
