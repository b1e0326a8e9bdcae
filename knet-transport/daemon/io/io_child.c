/* The disk I/O child as a process: set-up (no sockets, dies with the
 * parent), attach, then the loop (io_loop.c), which the simulator also
 * runs (tests/sim). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bio_uring.h"
#include "io.h"

/* Close every socket this process inherited but the AF_UNIX ones (the
 * syslog connection): a child stuck in uninterruptible I/O must keep no
 * UDP port bound. */
static void close_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name), dom = 0;
		socklen_t len = sizeof(dom);
		struct stat st;

		if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) || !S_ISSOCK(st.st_mode))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 && dom == AF_UNIX)
			continue;
		close(fd);
	}
	closedir(d);
}

static void io_free(struct dld_io *io)
{
	dld_io_peers_free(io);
	dld_io_batch_free(io);
	dld_dev_close(&io->dev);
}

/* The device I/O of io_engine (bio_uring.h): NULL when uring is asked
 * for and the kernel refuses it (logged). */
static const struct dl_bio_ops *engine_ops(const struct dld_config *cfg)
{
	enum dld_io_engine e = DLD_ENGINE_AUTO;
	const struct dl_bio_ops *ops;

	dld_engine_parse(cfg->io_engine, &e);  /* checked with the config */
	ops = dld_bio_engine(e);
	if (!ops)
		log_err(DLD_SUB_IO, "io_engine = uring, but io_uring is not available here "
			"(%s): set io_engine = auto or psync", strerror(errno));
	else
		log_info(DLD_SUB_IO, "device I/O through %s", ops == &dl_bio_direct_ops ?
			 "pread/pwrite (psync)" : "io_uring");
	return ops;
}

static struct dld_io *io_new(const struct dld_config *cfg, struct dld_chan *ch)
{
	const struct dl_bio_ops *ops = engine_ops(cfg);
	struct dld_io *io = ops ? calloc(1, sizeof(*io)) : NULL;

	if (!io)
		return NULL;
	io->cfg = cfg;
	io->ch = ch;
	io->shm = ch->shm;
	io->tun = ch->shm->tun;
	io->tun_seq = atomic_load(&ch->shm->tun_seq);
	io->st.slot = -1;
	io->st.device_state = DLD_DEV_STARTING;
	/* The daemon's devices: O_DIRECT, the system's clock. */
	dld_dev_init(&io->dev, &dl_clock_system, ops, &ch->shm->io_start_ns,
		     &io->st);
	dld_sched_init(&io->sched, cfg->node_id, &io->tun);
	return io;
}

int dld_io_child_main(const struct dld_config *cfg, struct dld_chan *ch, pid_t parent)
{
	struct dld_io *io;
	sigset_t all;
	int rc = DLD_EXIT_OK;

	/* Die with the parent (once any I/O in progress returns).  It may
	 * have died before the death signal was set: then this process was
	 * given another parent.  Compared with the pid that forked it, not
	 * with 1: disklinkd may be PID 1 itself (a container). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return DLD_EXIT_RUNTIME;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);      /* the parent asks through the shm */
	close_sockets();
	prctl(PR_SET_NAME, "disklinkd-io");

	io = io_new(cfg, ch);
	if (!io)
		return DLD_EXIT_RUNTIME;
	if (dld_io_attach(io, &rc))
		goto out;
	rc = dld_io_serve(io);
out:
	dld_status_publish(io->shm, &io->st);
	io_free(io);
	free(io);
	return rc;
}
