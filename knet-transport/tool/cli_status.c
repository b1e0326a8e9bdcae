/* `disklink status [--json|--shell] [--socket PATH]`: asks the running
 * disklinkd over its control socket ("status" gives JSON, "status shell"
 * shell assignments, "status text" a table) and prints the reply. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "paths.h"

static void status_usage(FILE *out)
{
	fprintf(out, "Usage: disklink status [--json|--shell] [--socket PATH]\n"
		"Shows the running disklinkd's device and per-peer link state.\n\n"
		"  --json         the daemon's JSON reply (stable keys, see disklinkd(8))\n"
		"  --shell        the same keys as status_KEY='value' lines, safe to eval\n"
		"  --socket PATH  its control socket (default %s)\n",
		DL_CONTROL_SOCKET_DEFAULT);
}

int dl_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ .name = "json", .has_arg = no_argument, .val = 'j' },
		{ .name = "shell", .has_arg = no_argument, .val = 'S' },
		{ .name = "socket", .has_arg = required_argument, .val = 's' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	const char *path = DL_CONTROL_SOCKET_DEFAULT, *req = "status text\n";
	char buf[4096];
	ssize_t n;
	int opt, fd, got = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			req = "status\n";
			break;
		case 'S':
			req = "status shell\n";
			break;
		case 's':
			path = optarg;
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "disklink status: %s '%s' (see 'disklink status --help')\n",
				opt == ':' ? "option needs a value:" : "unknown option",
				argv[optind - 1]);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "disklink status: unexpected argument '%s' (see 'disklink status "
			"--help')\n", argv[optind]);
		return 1;
	}
	fd = dl_cli_ctl_request("status", path, req, 5);
	if (fd < 0)
		return 1;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		got = 1;
	}
	if (n < 0 || !got) {
		fprintf(stderr, "disklink status: no reply from disklinkd at %s%s%s\n", path,
			n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		close(fd);
		return 1;
	}
	close(fd);
	return fflush(stdout) ? 1 : 0;
}
