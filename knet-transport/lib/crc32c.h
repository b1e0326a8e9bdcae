/* CRC32C (Castagnoli), as used by iSCSI and ext4; hardware-accelerated
 * with SSE4.2 where the CPU has it. */
#ifndef DL_CRC32C_H
#define DL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0 for a new buffer. */
uint32_t dl_crc32c(uint32_t crc, const void *buf, size_t len);

/* The CRC of an on-disk record whose 4-byte CRC field sits at crc_off,
 * taken as zero: p[0..crc_off), four zero bytes, then body_len bytes at
 * body_off (the block's and the head's seal). */
uint32_t dl_crc32c_sealed(const void *p, size_t crc_off, size_t body_off, size_t body_len);

/* The portable implementation, exposed so tests can compare both paths. */
uint32_t dl_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* 1 when the hardware path is in use. */
int dl_crc32c_hw_available(void);

#endif
