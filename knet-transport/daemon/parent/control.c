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

#include <qb/qblog.h>

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

int dld_control_open(struct dld_ctx *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = ctx->cfg.control;
	int fd;

	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++)
		ctx->clients[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		qb_log(LOG_ERR, "control socket path %s is too long", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (mkdir_p(path)) {
		qb_log(LOG_ERR, "cannot create the directory of %s: %s", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A socket someone still answers on belongs to a running daemon. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		qb_log(LOG_ERR, "another disklinkd serves %s: stop it, or give this one its own "
		       "--control path", path);
		close(fd);
		return -1;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, 16)) {
		qb_log(LOG_ERR, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	ctx->ctl_fd = fd;
	return dld_epoll_add(ctx, fd, DLD_TAG_CTL, 0);
}

static void client_close(struct dld_ctx *ctx, uint32_t i)
{
	if (ctx->clients[i].fd >= 0)
		close(ctx->clients[i].fd);
	ctx->clients[i].fd = -1;
	ctx->clients[i].have = 0;
	ctx->clients[i].role_wait = false;
}

void dld_control_end(struct dld_ctx *ctx, uint32_t i)
{
	client_close(ctx, i);
}

void dld_control_send(struct dld_ctx *ctx, uint32_t i, const char *text, size_t len)
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
}

void dld_control_close(struct dld_ctx *ctx)
{
	for (uint32_t i = 0; i < DLD_CTL_CLIENTS; i++)
		client_close(ctx, i);
	if (ctx->ctl_fd >= 0) {
		close(ctx->ctl_fd);
		unlink(ctx->cfg.control);
	}
	ctx->ctl_fd = -1;
}

void dld_control_accept(struct dld_ctx *ctx)
{
	int fd;

	while ((fd = accept4(ctx->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		uint32_t i;

		for (i = 0; i < DLD_CTL_CLIENTS && ctx->clients[i].fd >= 0; i++)
			;
		if (i == DLD_CTL_CLIENTS || dld_epoll_add(ctx, fd, DLD_TAG_CLIENT, i)) {
			close(fd);
			continue;
		}
		ctx->clients[i].fd = fd;
		ctx->clients[i].have = 0;
	}
}

static void reply(struct dld_ctx *ctx, uint32_t i, const char *cmd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return;
	dld_child_snapshot(ctx);
	if (!strcmp(cmd, "status"))
		dld_status_json(ctx, out);
	else if (!strcmp(cmd, "status text"))
		dld_status_text(ctx, out);
	else
		fprintf(out, "error: unknown command '%.40s' (try 'status')\n", cmd);
	fclose(out);
	dld_control_send(ctx, i, text, len);
	free(text);
}

void dld_control_client(struct dld_ctx *ctx, uint32_t i)
{
	struct dld_ctl_client *c = &ctx->clients[i];
	char *nl;
	ssize_t n;

	if (i >= DLD_CTL_CLIENTS || c->fd < 0)
		return;
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
	if (c->role_wait)
		return;                /* already asked; the answer comes */
	if (!strncmp(c->buf, "role", 4) && (c->buf[4] == ' ' || !c->buf[4])) {
		dld_role_request(ctx, i, c->buf + 4);
		return;
	}
	reply(ctx, i, c->buf);
	client_close(ctx, i);
}
