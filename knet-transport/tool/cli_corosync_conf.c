/* `disklink corosync-conf [--config FILE]`: what corosync.conf says,
 * read with the library's parser (lib/corosync_conf.c), as shell
 * assignments safe to eval: the resource agent asks this instead of
 * parsing the file itself when corosync is not running (with corosync
 * running it asks cmap).
 *   cc_cluster_name='NAME'
 *   cc_node_count='N'
 *   cc_nodeI_nodeid='ID'  cc_nodeI_name='NAME'  cc_nodeI_ringL_addr='ADDR'
 * (I from 0; a ringL_addr line only where the node has that link). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "cli_util.h"
#include "corosync_conf.h"
#include "text.h"

#define CMD "corosync-conf"
#define DEFAULT_CONF "/etc/corosync/corosync.conf"

static void usage(FILE *out)
{
	fprintf(out, "Usage: disklink corosync-conf [--config FILE]\n"
		"Print corosync.conf's cluster name and nodelist as shell assignments\n"
		"(cc_cluster_name, cc_node_count, cc_nodeI_nodeid, cc_nodeI_name,\n"
		"cc_nodeI_ringL_addr), safe to eval.\n\n"
		"  --config FILE  corosync.conf to read (default " DEFAULT_CONF ")\n");
}

static void assign(const char *key, const char *val)
{
	printf("%s=", key);
	dl_sh_str(stdout, val);
	putchar('\n');
}

static void print_conf(const struct dl_corosync_conf *cc)
{
	char key[64];

	assign("cc_cluster_name", cc->cluster_name);
	printf("cc_node_count='%zu'\n", cc->n_nodes);
	for (size_t i = 0; i < cc->n_nodes; i++) {
		const struct dl_cc_node *n = &cc->nodes[i];

		printf("cc_node%zu_nodeid='%u'\n", i, n->nodeid);
		snprintf(key, sizeof(key), "cc_node%zu_name", i);
		assign(key, n->name);
		for (int l = 0; l < DL_CC_MAX_LINKS; l++) {
			if (!n->ring_addr[l][0])
				continue;
			snprintf(key, sizeof(key), "cc_node%zu_ring%d_addr", i, l);
			assign(key, n->ring_addr[l]);
		}
	}
}

int dl_cmd_corosync_conf(int argc, char **argv)
{
	static const struct option opts[] = {
		{ .name = "config", .has_arg = required_argument, .val = 'c' },
		{ .name = "help", .has_arg = no_argument, .val = 'h' },
		{ .name = NULL },
	};
	const char *path = DEFAULT_CONF;
	struct dl_corosync_conf cc;
	char err[256];
	int c, rc;

	optind = 1;
	while ((c = dl_cli_getopt(CMD, argc, argv, ":c:h", opts, usage, &rc)) > 0) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		}
	}
	if (c < 0)
		return rc;
	if (optind < argc) {
		dl_cli_err(CMD, "unexpected argument '%s' (see 'disklink %s --help')",
			   argv[optind], CMD);
		return DL_EXIT_ERROR;
	}
	if (dl_cc_load(&cc, path, err, sizeof(err))) {
		dl_cli_err(CMD, "%s", err);
		return DL_EXIT_ERROR;
	}
	print_conf(&cc);
	dl_cc_free(&cc);
	return dl_cli_flush_output(CMD) ? DL_EXIT_ERROR : DL_EXIT_OK;
}
