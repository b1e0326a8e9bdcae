/* `disklink role [--socket PATH] primary|secondary|none`: asks the running
 * disklinkd to write this node's replication role into its slot header
 * (so every node sees through the disk who claims the primary role).
 * The daemon answers when the header is on disk: "ok role ROLE", or an
 * "error: ..." line; exit 0, or 1 (doc/disklink.8). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "paths.h"

static void role_usage(FILE *out)
{
	fprintf(out, "Usage: disklink role [--socket PATH] primary|secondary|none\n"
		"Writes this node's replication role into its slot header through the\n"
		"running disklinkd; returns when the header is on disk.\n\n"
		"  --socket PATH  its control socket (default %s)\n",
		DL_CONTROL_SOCKET_DEFAULT);
}

int dl_cmd_role(int argc, char **argv)
{
	static const struct option opts[] = {
		{ .name = "socket", .has_arg = required_argument, .val = 's' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	const char *path = DL_CONTROL_SOCKET_DEFAULT, *role;
	char req[64], buf[512];
	size_t have = 0;
	ssize_t n;
	int opt, fd;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'h':
			role_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "disklink role: %s '%s' (see 'disklink role --help')\n",
				opt == ':' ? "option needs a value:" : "unknown option",
				argv[optind - 1]);
			return 1;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "disklink role: %s (see 'disklink role --help')\n",
			optind == argc ? "give the role: primary, secondary or none" :
			"give one role");
		return 1;
	}
	role = argv[optind];
	if (strcmp(role, "primary") && strcmp(role, "secondary") && strcmp(role, "none")) {
		fprintf(stderr, "disklink role: unknown role '%s': give primary, secondary or "
			"none\n", role);
		return 1;
	}
	snprintf(req, sizeof(req), "role %s\n", role);
	fd = dl_cli_ctl_request("role", path, req, 10);
	if (fd < 0)
		return 1;
	while (have < sizeof(buf) - 1 && (n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0)) > 0)
		have += (size_t)n;
	close(fd);
	buf[have] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (!strncmp(buf, "ok ", 3)) {
		printf("%s\n", buf + 3);
		return 0;
	}
	if (!have) {
		fprintf(stderr, "disklink role: no answer from disklinkd at %s (an older daemon, "
			"or the device does not answer)\n", path);
		return 1;
	}
	fprintf(stderr, "disklink role: %s\n", !strncmp(buf, "error: ", 7) ? buf + 7 : buf);
	return 1;
}
