/* CRC32C: a table-driven portable path and an SSE4.2 path chosen at run
 * time with the compiler's CPU feature check. */
#include "config.h"

#include "crc32c.h"

#define CRC32C_POLY_REFLECTED 0x82f63b78u

static uint32_t crc32c_table_entry(uint32_t i)
{
	uint32_t c = i;

	for (int k = 0; k < 8; k++)
		c = (c & 1u) ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
	return c;
}

/* The table is a pure function of the polynomial: computed on first use
 * from a constant, so it holds no state. */
static const uint32_t *crc32c_table(void)
{
	static uint32_t table[256];
	static int ready;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (uint32_t i = 0; i < 256; i++)
			table[i] = crc32c_table_entry(i);
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return table;
}

uint32_t dl_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint32_t *t = crc32c_table();
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--)
		crc = t[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
#include <string.h>

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	while (len && ((uintptr_t)p & 7u)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

int dl_crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2");
}

uint32_t dl_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (__builtin_cpu_supports("sse4.2"))
		return crc32c_hw(crc, buf, len);
	return dl_crc32c_sw(crc, buf, len);
}
#else
int dl_crc32c_hw_available(void)
{
	return 0;
}

uint32_t dl_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return dl_crc32c_sw(crc, buf, len);
}
#endif

uint32_t dl_crc32c_sealed(const void *p, size_t crc_off, size_t body_off, size_t body_len)
{
	static const uint8_t zero[4];
	uint32_t c;

	c = dl_crc32c(0, p, crc_off);
	c = dl_crc32c(c, zero, sizeof(zero));
	return dl_crc32c(c, (const uint8_t *)p + body_off, body_len);
}
