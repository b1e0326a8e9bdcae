/* dlsim: run seeds of the deterministic simulator (doc/simulator.md).
 *   dlsim [--scenario X|all] [--seed N] [--seeds K] [--steps M]
 *         [--known-holes] [--expect VIOLATION [--search]] [-v...]
 * A failing seed prints the one line that replays it.  --known-holes: a
 * seed that shows one of the known protocol holes (sim.h) is counted, not
 * failed.  With --expect, a seed that breaks that invariant is an
 * expected failure (exit 0), one that passes is reported XPASS (exit 1);
 * --search tries K seeds for one that breaks it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qb/qblog.h>

#include "sim.h"

struct opts {
	const char *scenario, *expect;
	uint64_t seed, seeds, steps;
	bool search, known;
	int verbose;
};

static struct sim the_sim;

static int usage(void)
{
	fprintf(stderr, "usage: dlsim [--scenario NAME|all] [--seed N] [--seeds K] "
		"[--steps M] [--known-holes] [--expect VIOLATION [--search]] [-v]\n"
		"scenarios: ");
	fflush(stderr);
	sim_scenario_list();
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "scenario", required_argument, NULL, 'S' },
		{ "seed", required_argument, NULL, 's' },
		{ "seeds", required_argument, NULL, 'n' },
		{ "steps", required_argument, NULL, 't' },
		{ "expect", required_argument, NULL, 'e' },
		{ "search", no_argument, NULL, 'f' },
		{ "known-holes", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .scenario = "all", .seed = 1, .seeds = 1, .steps = 100000 };
	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case 'S': o->scenario = optarg; break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'n': o->seeds = strtoull(optarg, NULL, 0); break;
		case 't': o->steps = strtoull(optarg, NULL, 0); break;
		case 'e': o->expect = optarg; break;
		case 'f': o->search = true; break;
		case 'k': o->known = true; break;
		case 'v': o->verbose++; break;
		default: return -1;
		}
	}
	return optind == argc && o->seeds && o->steps ? 0 : -1;
}

static const char *const all[] = { "healthy", "start", "eio", "crash", "stuck", "reload",
				   "mirror", "chaos", "restart" };

/* The scenario of a seed: the one named, or (all) one per seed in turn. */
static const struct sim_scenario *scenario_of(const struct opts *o, uint64_t seed)
{
	if (strcmp(o->scenario, "all"))
		return sim_scenario_find(o->scenario);
	return sim_scenario_find(all[seed % (sizeof(all) / sizeof(all[0]))]);
}

static const char *const hole_names[] = {
	"none", "late-attach replay", "a slot claimed twice", "a stuck predecessor's late write",
	"a sequence number reused after a failed write",
};
static uint64_t holes_seen[5];

static void report(const struct sim *s, const char *tag)
{
	printf("%s seed %llu scenario %s: %s at step %llu (t=%llu ms): %s\n", tag,
	       (unsigned long long)s->seed, s->sc->name, s->what,
	       (unsigned long long)s->fail_step, (unsigned long long)(s->fail_ns / SIM_MS), s->why);
	if (s->hole)
		printf("  known hole %d: %s\n", s->hole, hole_names[s->hole]);
	printf("  replay: tests/sim/dlsim --seed %llu --steps %llu --scenario %s\n",
	       (unsigned long long)s->seed, (unsigned long long)s->fail_step + 1, s->sc->name);
}

static int one(const struct opts *o, uint64_t seed, uint64_t *steps)
{
	const struct sim_scenario *sc = scenario_of(o, seed);
	struct sim *s = &the_sim;
	bool hit;

	if (!sc)
		return usage();
	sim_run(s, sc, seed, o->steps, o->verbose);
	*steps += s->step;
	hit = s->failed && o->expect && !strcmp(s->what, o->expect);
	if (o->expect) {
		if (hit)
			report(s, "XFAIL (expected)");
		else if (!o->search)
			printf("XPASS seed %llu scenario %s: %s not found in %llu steps%s%s\n",
			       (unsigned long long)seed, sc->name, o->expect,
			       (unsigned long long)s->step, s->failed ? "; instead: " : "",
			       s->failed ? s->why : "");
		return hit ? 0 : 1;
	}
	if (s->failed && s->hole)
		holes_seen[s->hole]++;
	if (s->failed && s->hole && o->known) {
		if (o->verbose)
			report(s, "known");
		return 0;
	}
	if (s->failed)
		report(s, "FAIL");
	else if (o->verbose)
		printf("ok seed %llu scenario %s: %llu steps, %llu ms simulated, %llu datagrams "
		       "sent, %llu delivered; %llu writes landed, %llu torn, %llu requests "
		       "failed\n", (unsigned long long)seed, sc->name, (unsigned long long)s->step,
		       (unsigned long long)(s->now_ns / SIM_MS), (unsigned long long)s->pushed,
		       (unsigned long long)s->delivered, (unsigned long long)s->dev.landed,
		       (unsigned long long)s->dev.torn, (unsigned long long)s->dev.eio);
	return s->failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct timespec t0, t1;
	uint64_t steps = 0, ran = 0;
	bool found = false;
	int rc = 0;

	if (parse(argc, argv, &o))
		return usage();
	if (o.verbose >= 2) {          /* the daemon's own log, with the trace */
		qb_log_init("dlsim", LOG_DAEMON, LOG_DEBUG);
		qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
		qb_log_filter_ctl(QB_LOG_STDOUT, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
				  o.verbose >= 3 ? LOG_DEBUG : LOG_INFO);
		qb_log_format_set(QB_LOG_STDOUT, "  log: %b");
		qb_log_ctl(QB_LOG_STDOUT, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t k = 0; k < o.seeds; k++) {
		int r = one(&o, o.seed + k, &steps);

		ran++;
		if (r == 2)
			return 2;
		if (o.search && r == 0) {
			found = true;
			break;
		}
		if (!o.search && r)
			rc = 1;
	}
	if (o.search && !found)
		rc = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (o.verbose >= 2)
		qb_log_fini();
	printf("dlsim: %llu seeds, %llu steps in %.1f s", (unsigned long long)ran,
	       (unsigned long long)steps,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (int h = 1; h < 5; h++)
		if (holes_seen[h])
			printf("; known hole %d in %llu seeds", h,
			       (unsigned long long)holes_seen[h]);
	printf("\n");
	return rc;
}
