/* Why a piece of on-disk data was rejected.  Every decoder reports one of
 * these next to errno, so tools can print a message that names the problem. */
#ifndef DL_FMT_ERROR_H
#define DL_FMT_ERROR_H

enum dl_err {
	DL_OK = 0,
	DL_E_SHORT,          /* buffer smaller than the structure            */
	DL_E_MAGIC,          /* not a disklink structure                     */
	DL_E_VERSION,        /* format version newer than this build         */
	DL_E_FEATURES,       /* unknown incompatible feature flags           */
	DL_E_CRC,            /* checksum mismatch (corrupt or torn)          */
	DL_E_SIZE,           /* recorded structure size impossible           */
	DL_E_BLOCK_SIZE,     /* block size not a power of two in range       */
	DL_E_SLOT_COUNT,     /* slot count out of range                      */
	DL_E_RING_BLOCKS,    /* ring length out of range                     */
	DL_E_KIND,           /* unknown volume kind                          */
	DL_E_LAYOUT,         /* offsets/strides inconsistent                 */
	DL_E_NAME,           /* cluster or node name not NUL-terminated      */
	DL_E_RESERVED,       /* reserved field not zero                      */
	DL_E_UUID,           /* belongs to another volume (reformatted?)     */
	DL_E_SLOT_INDEX,     /* slot index does not match its position       */
	DL_E_NODE_ID,        /* node id 0 or > 65535, or owner mismatch      */
	DL_E_STATE,          /* unknown slot state, or state/owner mismatch  */
	DL_E_ROLE,           /* unknown replication role                     */
	DL_E_ACKS,           /* acknowledgement table invalid                */
	DL_E_SEQ,            /* sequence or generation number invalid        */
	DL_E_PAYLOAD,        /* payload length or record count impossible    */
	DL_E_REC_TYPE,       /* unknown record type                          */
	DL_E_REC_LEN,        /* record length/offset outside the datagram    */
	DL_E_REC_FLAGS,      /* fragment flags contradict offsets            */
	DL_E_REC_DST,        /* destination list empty, too long or invalid  */
	DL_E_EMPTY,          /* never written (all zero)                     */
	DL_E_TRUNCATED,      /* device smaller than the volume's layout      */
	DL_E_SECTOR,         /* block size not a multiple of the device's sector */
	DL_E_SLOT_OWNER,     /* slot claimed by another node                 */
	DL_E_VERSION_OLD,    /* format version older than this build         */
	DL_E_MAX
};

/* A short, fixed English description; never NULL. */
const char *dl_strerror(enum dl_err e);

/* Report a rejection: *why = e (when why is not NULL), errno = err;
 * returns -1, so a decoder can `return dl_fail(why, DL_E_CRC, EBADMSG);`. */
int dl_fail(enum dl_err *why, enum dl_err e, int err);

#endif
