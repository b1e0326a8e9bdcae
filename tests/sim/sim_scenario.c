/* The scenarios: which faults a seed may draw.  Rates are per request
 * (I/O faults) or per scheduler step (node and device events). */
#include <stdio.h>
#include <string.h>

#include "sim.h"

#define S(x) (x * SIM_MS)

static const struct sim_scenario scenarios[] = {
	{ .name = "healthy", .nodes = 3, .bound = true, .ring_blocks = 64,
	  .send_max_ns = S(50) },
	{ .name = "start", .nodes = 4, .same_instant = true, .slow_one_in = 3,
	  .slow_max_ns = S(40), .crash_one_in = 4000, .ring_blocks = 64, .send_max_ns = S(50) },
	{ .name = "eio", .nodes = 3, .eio_one_in = 300, .slow_one_in = 50, .slow_max_ns = S(500),
	  .ring_blocks = 40, .send_max_ns = S(20) },
	{ .name = "crash", .nodes = 3, .crash_one_in = 3000, .slow_one_in = 30,
	  .slow_max_ns = S(1000), .ring_blocks = 64, .send_max_ns = S(50) },
	{ .name = "stuck", .nodes = 3, .slow_one_in = 400, .slow_max_ns = S(30000),
	  .stall_one_in = 50000, .ring_blocks = 64, .send_max_ns = S(50) },
	{ .name = "reload", .nodes = 3, .reload_one_in = 5000, .ring_blocks = 256,
	  .send_max_ns = S(50) },
	{ .name = "mirror", .nodes = 3, .mirrors = true, .mirror_one_in = 3000,
	  .crash_one_in = 20000, .slow_one_in = 100, .slow_max_ns = S(500), .ring_blocks = 64,
	  .send_max_ns = S(50) },
	{ .name = "chaos", .nodes = 4, .eio_one_in = 2000, .slow_one_in = 100,
	  .slow_max_ns = S(3000), .crash_one_in = 20000, .reload_one_in = 20000,
	  .stall_one_in = 30000, .rdonly_one_in = 30000, .sbflip_one_in = 30000,
	  .gone_one_in = 30000,
	  .ring_blocks = 64, .send_max_ns = S(30) },
	{ .name = "restart", .nodes = 3, .bound = true, .restart_all_ns = S(6000),
	  .ring_blocks = 256, .send_max_ns = S(50) },
};

const struct sim_scenario *sim_scenario_find(const char *name)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}

void sim_scenario_list(void)
{
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		printf("%s%s", i ? " " : "", scenarios[i].name);
	printf("\n");
}
