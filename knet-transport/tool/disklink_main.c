/* The `disklink` tool: dispatches to one subcommand per file. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

struct dl_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct dl_command commands[] = {
	{ .name = "format", .run = dl_cmd_format, .summary = "create a volume on a device" },
	{ .name = "show", .run = dl_cmd_show, .summary = "show a volume's superblock and slots" },
	{ .name = "dump", .run = dl_cmd_dump, .summary = "dump a slot's ring blocks" },
	{ .name = "check", .run = dl_cmd_check, .summary = "validate a whole volume" },
	{ .name = "release", .run = dl_cmd_release, .summary = "free the slot of a node that left" },
	{ .name = "find", .run = dl_cmd_find, .summary = "list the devices that hold volumes" },
	{ .name = "status", .run = dl_cmd_status, .summary = "show the running daemon's links" },
	{ .name = "role", .run = dl_cmd_role,
	  .summary = "write this node's replication role (through the daemon)" },
	{ .name = "gate", .run = dl_cmd_gate,
	  .summary = "the mirror agent's promotion gate (fence history, disk ring)" },
	{ .name = "corosync-link", .run = dl_cmd_corosync_link,
	  .summary = "print or add the corosync.conf link disklinkd serves" },
	{ .name = "corosync-conf", .run = dl_cmd_corosync_conf,
	  .summary = "corosync.conf's cluster name and nodes, for eval" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: disklink COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'disklink COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 1;	/* usage error: exit statuses in doc/disklink.8 */
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("disklink %s\n", DL_VERSION_STRING);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "disklink: unknown command '%s' (see 'disklink --help')\n", argv[1]);
	return 1;
}
