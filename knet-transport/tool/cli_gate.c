/* `disklink gate`: the mirror agent's promotion gate (lib/gate.h,
 * doc/replication.md).  Reads the running daemon's status (or a saved
 * `disklink status --shell`), the membership as `crm_node -l` prints it
 * and the fence history as `stonith_admin --history '*' --output-as=xml`
 * prints it (through a pipe or a file: a history of any size), and
 * prints the verdicts as shell assignments. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "gate.h"
#include "paths.h"

struct gate_opts {
	bool gate;
	const char *primary, *socket, *status, *nodes, *history;
	double now;                    /* 0: the clock's                    */
};

static void gate_usage(FILE *out)
{
	fprintf(out, "Usage: disklink gate [--score] [--primary NAME] [--socket PATH | --status FILE]\n"
		"                     [--nodes FILE] [--history FILE]\n"
		"The mirror agent's promotion gate: what each primary peer does now\n"
		"(fenced, writing, gone, present), as shell assignments DV_*.\n\n"
		"  --score          only DV_OWN_ROLE and DV_FROZEN_PRIMARY (no history)\n"
		"  --primary NAME   the primary Pacemaker's notifications named\n"
		"  --socket PATH    disklinkd's control socket (default %s)\n"
		"  --status FILE    a saved 'disklink status --shell' instead ('-': stdin)\n"
		"  --nodes FILE     'crm_node -l' output ('-': stdin)\n"
		"  --history FILE   'stonith_admin --history * --output-as=xml' output\n"
		"                   ('-': stdin)\n",
		DL_CONTROL_SOCKET_DEFAULT);
}

static int parse_opts(int argc, char **argv, struct gate_opts *o)
{
	static const struct option opts[] = {
		{ .name = "score", .has_arg = no_argument, .val = 'S' },
		{ .name = "primary", .has_arg = required_argument, .val = 'p' },
		{ .name = "socket", .has_arg = required_argument, .val = 's' },
		{ .name = "status", .has_arg = required_argument, .val = 't' },
		{ .name = "nodes", .has_arg = required_argument, .val = 'n' },
		{ .name = "history", .has_arg = required_argument, .val = 'H' },
		{ .name = "now", .has_arg = required_argument, .val = 'N' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			o->gate = false;
			break;
		case 'p':
			o->primary = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 't':
			o->status = optarg;
			break;
		case 'n':
			o->nodes = optarg;
			break;
		case 'H':
			o->history = optarg;
			break;
		case 'N':      /* for tests: the time, epoch seconds */
			o->now = strtod(optarg, NULL);
			break;
		case 'h':
			gate_usage(stdout);
			return 1;
		default:
			dl_cli_bad_option("gate", argv, optind, optopt, opt);
			return -1;
		}
	}
	if (optind < argc) {
		dl_cli_err("gate", "unexpected argument '%s' (see 'disklink gate --help')",
			   argv[optind]);
		return -1;
	}
	return 0;
}

static int is_stdin(const char *path)
{
	return path && !strcmp(path, "-");
}

/* FILE or '-' for stdin; NULL after the error. */
static FILE *open_input(const char *what, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;

	if (!f)
		dl_cli_err("gate", "cannot read the %s from %s: %s", what, path, strerror(errno));
	return f;
}

static void close_input(FILE *f)
{
	if (f && f != stdin)
		fclose(f);
}

static int read_status(const struct gate_opts *o, struct dl_gate_status *st)
{
	FILE *f;
	int fd = -1, r;

	if (o->status) {
		f = open_input("status", o->status);
	} else {
		fd = dl_cli_ctl_request("gate", o->socket, "status shell\n", 5);
		if (fd < 0)
			return -1;
		f = fdopen(fd, "r");
		if (!f)
			close(fd);
	}
	if (!f)
		return -1;
	r = dl_gate_status_read(f, st);
	if (r)
		dl_cli_err("gate", "%s: %s", errno == EINVAL ? "not a 'disklink status --shell' "
			   "reply (an older disklinkd?)" : "cannot read the status",
			   strerror(errno));
	if (f != stdin)
		fclose(f);
	return r;
}

static int read_inputs(const struct gate_opts *o, struct dl_gate_nodes *nodes,
		       struct dl_fence_history *hist)
{
	FILE *f;
	int r;

	*nodes = (struct dl_gate_nodes){ .count = 0 };
	*hist = (struct dl_fence_history){ .count = 0 };
	if (o->nodes) {
		f = open_input("membership", o->nodes);
		if (!f)
			return -1;
		r = dl_gate_nodes_read(f, nodes);
		close_input(f);
		if (r) {
			dl_cli_err("gate", "cannot read the membership: %s", strerror(errno));
			return -1;
		}
	}
	if (o->gate && o->history) {
		f = open_input("fence history", o->history);
		if (!f)
			return -1;
		r = dl_fence_history_read(f, hist);
		close_input(f);
		if (r) {
			dl_cli_err("gate", "cannot read the fence history: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

int dl_cmd_gate(int argc, char **argv)
{
	struct gate_opts o = { .gate = true, .primary = "", .socket = DL_CONTROL_SOCKET_DEFAULT };
	struct dl_gate_status *st = calloc(1, sizeof(*st));
	struct dl_gate_nodes *nodes = calloc(1, sizeof(*nodes));
	struct dl_fence_history *hist = calloc(1, sizeof(*hist));
	struct timespec ts;
	int r = parse_opts(argc, argv, &o), ret = DL_EXIT_ERROR;

	if (r > 0)
		ret = DL_EXIT_OK;
	if (r || !st || !nodes || !hist)
		goto out;
	if (is_stdin(o.status) + is_stdin(o.nodes) + is_stdin(o.history) > 1) {
		dl_cli_err("gate", "only one of --status, --nodes and --history can be '-'");
		goto out;
	}
	if (read_inputs(&o, nodes, hist) || read_status(&o, st))
		goto out;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (dl_gate_eval(&(struct dl_gate_in){ .gate = o.gate, .recorded = o.primary,
			 .now = o.now > 0 ? o.now : (double)ts.tv_sec + (double)ts.tv_nsec / 1e9,
			 .st = st, .nodes = nodes, .hist = hist }, stdout)) {
		dl_cli_err("gate", "%s", strerror(errno));
		goto out;
	}
	ret = dl_cli_flush_output("gate") ? DL_EXIT_ERROR : DL_EXIT_OK;
out:
	free(st);
	free(nodes);
	free(hist);
	return ret;
}
