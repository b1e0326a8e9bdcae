/* The simulator's one source of choices: xoshiro256** seeded through
 * splitmix64, so that a seed replays a run exactly. */
#include "sim.h"

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
	return n ? sim_rng_next(r) % n : 0;
}

bool sim_rng_one_in(struct sim_rng *r, uint64_t n)
{
	return n && sim_rng_below(r, n) == 0;
}

/* Log-uniform, in integer steps (no libm): a power of two scale, then
 * uniform inside it. */
uint64_t sim_rng_log(struct sim_rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t v;
	int bits = 0;

	if (hi <= lo)
		return lo;
	while (bits < 63 && (lo << bits) < hi)
		bits++;
	v = lo << sim_rng_below(r, (uint64_t)bits + 1);
	v += sim_rng_below(r, v);
	return v < hi ? v : hi;
}
