/* The control socket: a client connects, sends one line ("status" for
 * JSON, "status text" for the table, "role ROLE": role.c) and reads the
 * reply until EOF.  The socket is root's and the status group's (0660):
 * a member may read the status, only root may change the role
 * (SO_PEERCRED, SO_PEERGROUPS).  A client that sends no line within
 * DLD_CTL_IDLE_MS is closed, and a reply is sent without blocking, so
 * that silent or slow clients cannot lock the agent's monitor out. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "ctx.h"

static int mkdir_p(const char *path)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = 0;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

static void on_accept(int fd, uint32_t events, void *arg);

/* The status group's gid, or (gid_t)-1 (none configured, or unknown:
 * the socket is then root's only). */
static gid_t status_gid(const struct dld_ctx *ctx)
{
	const struct group *g;

	if (!ctx->cfg.status_group[0])
		return (gid_t)-1;
	g = getgrnam(ctx->cfg.status_group);
	if (!g) {
		log_notice(DLD_SUB_CONTROL, "status group '%s' does not exist: only root may "
			   "read the status (set status_group)", ctx->cfg.status_group);
		return (gid_t)-1;
	}
	return g->gr_gid;
}

/* Root's, and readable and writable by the status group. */
static int set_mode(struct dld_ctx *ctx, const char *path)
{
	ctx->ctl_gid = status_gid(ctx);
	if (ctx->ctl_gid == (gid_t)-1)
		return chmod(path, 0600);
	if (chown(path, (uid_t)-1, ctx->ctl_gid)) {
		if (errno != EPERM)
			return -1;
		/* No CAP_CHOWN (the unit's bounding set lacks it): root only. */
		log_warn(DLD_SUB_CONTROL, "cannot give %s to group '%s' (%s): only root may read "
			 "the status; allow CAP_CHOWN in the unit's CapabilityBoundingSet", path,
			 ctx->cfg.status_group, strerror(errno));
		ctx->ctl_gid = (gid_t)-1;
		return chmod(path, 0600);
	}
	return chmod(path, 0660);
}

int dld_control_open(struct dld_ctx *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = ctx->cfg.control;
	int fd;

	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++)
		ctx->clients[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err(DLD_SUB_CONTROL, "control socket path %s is too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (mkdir_p(path)) {
		log_err(DLD_SUB_CONTROL, "cannot create the directory of %s: %s", path,
			strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A socket someone still answers on belongs to a running daemon. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		log_err(DLD_SUB_CONTROL, "another disklinkd serves %s: stop it, or give this one "
			"its own --control path", path);
		close(fd);
		errno = EADDRINUSE;
		return -1;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || set_mode(ctx, path) ||
	    listen(fd, (int)DLD_CTL_CLIENTS * 2)) {
		log_err(DLD_SUB_CONTROL, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	ctx->ctl_fd = fd;
	if (dld_loop_add(&ctx->loop, fd, EPOLLIN, on_accept, ctx)) {
		log_err(DLD_SUB_CONTROL, "cannot watch %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void client_close(struct dld_ctx *ctx, uint32_t i)
{
	struct dld_ctl_client *c = &ctx->clients[i];

	if (c->fd >= 0) {
		dld_loop_del(&ctx->loop, c->fd);
		close(c->fd);
	}
	c->fd = -1;
	c->have = 0;
	c->role.wait = false;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

static void on_client(int fd, uint32_t events, void *arg);

/* Send what is left of client i's reply without blocking: true when all
 * of it went out, or the client is gone (then it is closed). */
static bool send_some(struct dld_ctx *ctx, uint32_t i)
{
	struct dld_ctl_client *c = &ctx->clients[i];

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	client_close(ctx, i);
	return true;
}

/* Send text to client i and close it; what the socket does not take now
 * is sent when it becomes writable, until the client's deadline.  A
 * reply is at most DLD_CTL_REPLY_MAX bytes. */
static void answer(struct dld_ctx *ctx, uint32_t i, const char *text, size_t len)
{
	struct dld_ctl_client *c = &ctx->clients[i];

	if (len > DLD_CTL_REPLY_MAX)
		len = DLD_CTL_REPLY_MAX;
	c->out = malloc(len ? len : 1);
	if (!c->out) {
		client_close(ctx, i);
		return;
	}
	memcpy(c->out, text, len);
	c->out_len = len;
	c->out_off = 0;
	c->deadline_ns = dld_mono_ns() + DLD_CTL_IDLE_MS * 1000000ull;
	if (send_some(ctx, i))
		return;
	dld_loop_del(&ctx->loop, c->fd);
	if (dld_loop_add(&ctx->loop, c->fd, EPOLLOUT, on_client, ctx))
		client_close(ctx, i);
}

void dld_control_close(struct dld_ctx *ctx)
{
	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++)
		client_close(ctx, i);
	if (ctx->ctl_fd >= 0) {
		dld_loop_del(&ctx->loop, ctx->ctl_fd);
		close(ctx->ctl_fd);
		unlink(ctx->cfg.control);
	}
	ctx->ctl_fd = -1;
}

/* Root may do everything, a member of the status group read the
 * status; anyone else (the socket's mode should have kept them out) is
 * refused. */
static bool peer_allowed(const struct dld_ctx *ctx, int fd, bool *root)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t groups[256];

	*root = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	if (cr.uid == 0 || cr.uid == geteuid()) {
		*root = true;          /* root, or the user a test runs as */
		return true;
	}
	if (ctx->ctl_gid == (gid_t)-1)
		return false;
	if (cr.gid == ctx->ctl_gid)
		return true;
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
		return false;
	for (size_t k = 0; k < len / sizeof(groups[0]); k++)
		if (groups[k] == ctx->ctl_gid)
			return true;
	return false;
}

static void on_accept(int lfd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;
	int fd;

	(void)events;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		uint32_t i;
		bool root;

		if (!peer_allowed(ctx, fd, &root)) {
			static const char no[] = "error: permission denied: the status is for root "
				"and the status group (status_group)\n";

			if (send(fd, no, sizeof(no) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug(DLD_SUB_CONTROL, "refused client gone");
			close(fd);
			continue;
		}
		for (i = 0; i < DLD_CTL_CLIENTS && ctx->clients[i].fd >= 0; i++)
			;
		if (i == DLD_CTL_CLIENTS || dld_loop_add(&ctx->loop, fd, EPOLLIN, on_client, ctx)) {
			close(fd);
			continue;
		}
		ctx->clients[i] = (struct dld_ctl_client){
			.fd = fd,
			.may_role = root,
			.deadline_ns = dld_mono_ns() + DLD_CTL_IDLE_MS * 1000000ull,
		};
	}
}

static void reply(struct dld_ctx *ctx, uint32_t i, const char *cmd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out) {
		client_close(ctx, i);
		return;
	}
	dld_child_snapshot(ctx);
	if (!strcmp(cmd, "status"))
		dld_status_json(ctx, out);
	else if (!strcmp(cmd, "status text"))
		dld_status_text(ctx, out);
	else if (!strcmp(cmd, "status shell"))
		dld_status_shell(ctx, out);
	else
		fprintf(out, "error: unknown command '%.40s' (try 'status')\n", cmd);
	fclose(out);
	answer(ctx, i, text, len);
	free(text);
}

/* One line from client i: its command. */
static void command(struct dld_ctx *ctx, uint32_t i)
{
	struct dld_ctl_client *c = &ctx->clients[i];

	if (!strncmp(c->buf, "role", 4) && (c->buf[4] == ' ' || !c->buf[4])) {
		char text[DLD_ANSWER_MAX];

		if (!c->may_role) {
			snprintf(text, sizeof(text), "error: permission denied: only root may "
				 "change the role\n");
			answer(ctx, i, text, strlen(text));
			return;
		}
		if (dld_role_request(ctx, &c->role, c->buf + 4, text, sizeof(text)))
			answer(ctx, i, text, strlen(text));
		return;
	}
	reply(ctx, i, c->buf);
}

static void on_client(int fd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;
	struct dld_ctl_client *c;
	uint32_t i;
	char *nl;
	ssize_t n;

	for (i = 0; i < DLD_CTL_CLIENTS && ctx->clients[i].fd != fd; i++)
		;
	if (i == DLD_CTL_CLIENTS)
		return;
	c = &ctx->clients[i];
	if (c->out) {
		send_some(ctx, i);
		return;
	}
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		client_close(ctx, i);
		return;
	}
	n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - 1 - c->have, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(ctx, i);
		return;
	}
	c->have += (size_t)n;
	c->buf[c->have] = 0;
	nl = strchr(c->buf, '\n');
	if (!nl && c->have < sizeof(c->buf) - 1)
		return;
	if (nl)
		*nl = 0;
	if (nl && nl > c->buf && nl[-1] == '\r')
		nl[-1] = 0;
	if (c->role.wait)
		return;                /* already asked; the answer comes */
	command(ctx, i);
}

void dld_control_poll(struct dld_ctx *ctx, uint64_t now)
{
	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++) {
		struct dld_ctl_client *c = &ctx->clients[i];
		char text[DLD_ANSWER_MAX];

		if (c->fd >= 0 && c->role.wait &&
		    dld_role_check(ctx, &c->role, now, text, sizeof(text)))
			answer(ctx, i, text, strlen(text));
		else if (c->fd >= 0 && !c->role.wait && now >= c->deadline_ns)
			client_close(ctx, i);  /* silent, or not reading its reply */
	}
}
