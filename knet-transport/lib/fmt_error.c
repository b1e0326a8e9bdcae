#include "config.h"

#include <errno.h>

#include "fmt_error.h"

static const char *const dl_err_text[DL_E_MAX] = {
	[DL_OK] = "no error",
	[DL_E_SHORT] = "buffer too short for the structure",
	[DL_E_MAGIC] = "bad magic: not disklink data",
	[DL_E_VERSION] = "format version newer than this disklink",
	[DL_E_VERSION_OLD] = "format version older than this disklink",
	[DL_E_FEATURES] = "unknown incompatible feature flags",
	[DL_E_CRC] = "checksum mismatch (corrupt or torn write)",
	[DL_E_SIZE] = "recorded structure size impossible",
	[DL_E_BLOCK_SIZE] = "block size not a power of two between 512 and 65536",
	[DL_E_SLOT_COUNT] = "slot count out of range",
	[DL_E_RING_BLOCKS] = "ring length out of range",
	[DL_E_KIND] = "unknown volume kind",
	[DL_E_LAYOUT] = "volume layout inconsistent",
	[DL_E_NAME] = "name empty, unterminated or not printable",
	[DL_E_RESERVED] = "reserved field not zero",
	[DL_E_UUID] = "belongs to another volume (reformatted?)",
	[DL_E_SLOT_INDEX] = "slot index does not match its position",
	[DL_E_NODE_ID] = "node id invalid or not the slot's owner",
	[DL_E_STATE] = "slot state invalid",
	[DL_E_ROLE] = "replication role invalid",
	[DL_E_ACKS] = "acknowledgement table invalid",
	[DL_E_SEQ] = "sequence or generation number invalid",
	[DL_E_PAYLOAD] = "payload length or record count impossible",
	[DL_E_REC_TYPE] = "unknown record type",
	[DL_E_REC_LEN] = "record length or offset outside its datagram",
	[DL_E_REC_FLAGS] = "fragment flags contradict the offsets",
	[DL_E_REC_DST] = "record destination list invalid",
	[DL_E_EMPTY] = "never written",
	[DL_E_TRUNCATED] = "device smaller than the volume (truncated or wrong device)",
	[DL_E_SECTOR] = "block size not a multiple of the device's logical sector size",
	[DL_E_SLOT_OWNER] = "slot claimed by another node",
};

const char *dl_strerror(enum dl_err e)
{
	if ((unsigned)e >= DL_E_MAX || !dl_err_text[e])
		return "unknown error";
	return dl_err_text[e];
}

int dl_fail(enum dl_err *why, enum dl_err e, int err)
{
	if (why)
		*why = e;
	errno = err;
	return -1;
}
