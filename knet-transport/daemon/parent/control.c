/* The control socket: a client connects, sends one line ("status" for
 * JSON, "status text" for the table, "role ROLE": role.c) and reads the
 * reply until EOF. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

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
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, 16)) {
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
}

/* Send text to client i (blocking, 1 s timeout) and close it. */
static void answer(struct dld_ctx *ctx, uint32_t i, const char *text, size_t len)
{
	struct timeval tv = { .tv_sec = 1 };
	int fd = ctx->clients[i].fd;
	size_t off = 0;

	/* The reply is small; a client that does not read gets 1 s. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
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

static void on_client(int fd, uint32_t events, void *arg);

static void on_accept(int lfd, uint32_t events, void *arg)
{
	struct dld_ctx *ctx = arg;
	int fd;

	(void)events;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		uint32_t i;

		for (i = 0; i < DLD_CTL_CLIENTS && ctx->clients[i].fd >= 0; i++)
			;
		if (i == DLD_CTL_CLIENTS || dld_loop_add(&ctx->loop, fd, EPOLLIN, on_client, ctx)) {
			close(fd);
			continue;
		}
		ctx->clients[i].fd = fd;
		ctx->clients[i].have = 0;
		ctx->clients[i].role.wait = false;
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

	(void)events;
	for (i = 0; i < DLD_CTL_CLIENTS && ctx->clients[i].fd != fd; i++)
		;
	if (i == DLD_CTL_CLIENTS)
		return;
	c = &ctx->clients[i];
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
	}
}
