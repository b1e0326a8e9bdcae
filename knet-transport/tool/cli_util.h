/* Helpers shared by the volume subcommands of the `disklink` tool: exit
 * statuses, option values, opening a volume with a one-line error, the
 * control socket, time output (JSON: lib/json.h). */
#ifndef DL_CLI_UTIL_H
#define DL_CLI_UTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "block.h"
#include "head.h"
#include "ring_scan.h"
#include "volume.h"

/* Exit statuses of the volume subcommands (doc/disklink.8, EXIT STATUS).
 * Stable: scripts and the resource agent depend on them. */
enum dl_exit {
	DL_EXIT_OK = 0,          /* success                                     */
	DL_EXIT_ERROR = 1,       /* usage error, device or I/O error            */
	DL_EXIT_NOT_VOLUME = 2,  /* no usable disklink volume on the device     */
	DL_EXIT_SLOT = 3,        /* check: slot header problems                 */
	DL_EXIT_RING = 4,        /* check: corrupt, torn or misplaced blocks    */
	DL_EXIT_DUP = 5,         /* check: one node id owns several slots       */
	DL_EXIT_REFUSED = 6,     /* refused to protect data or a live node      */
	DL_EXIT_NOT_FOUND = 7,   /* find/release: nothing matched               */
};

/* Print "disklink CMD: " + message + "\n" on stderr. */
void dl_cli_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The one-line error for an option getopt_long rejected; returns DL_EXIT_ERROR. */
int dl_cli_bad_option(const char *cmd, char **argv, int optind_now, int optopt_now,
		      int c);

/* One step of a subcommand's getopt_long loop (errors are ours: opterr
 * off, shortopts starting with ':'): the next option for the caller's
 * switch (> 0), 0 when the options end, or -1 when the command ends here
 * with *rc: DL_EXIT_OK after -h/--help (usage on stdout), DL_EXIT_ERROR
 * after a rejected option (its one-line error, dl_cli_bad_option). */
int dl_cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
		  const struct option *opts, void (*usage)(FILE *out), int *rc);

/* Parse an unsigned number in [min, max]; prints the error itself. */
int dl_cli_parse_u32(const char *cmd, const char *opt, const char *text,
		     uint32_t min, uint32_t max, uint32_t *out);

/* Exactly one positional DEVICE argument: 0, or -1 with the error printed. */
int dl_cli_one_device(const char *cmd, int argc, char **argv, int first,
		      const char **device);

/* Explain a failed open of a device (errno from dl_bio_open/open). */
void dl_cli_open_error(const char *cmd, const char *path, int err, bool writing);

/* Connect to disklinkd's control socket at path and send the request line
 * req, with timeout_s for sending and for reading the reply.  Returns the
 * connected socket (the caller reads the reply and closes it), or -1
 * after a one-line error "disklink CMD: ...". */
int dl_cli_ctl_request(const char *cmd, const char *path, const char *req, int timeout_s);

/* The path exists and is a block device or regular file: 0, or -1
 * with the error printed. */
int dl_cli_check_path(const char *cmd, const char *path);

/* Is the open device a block device marked read-only (blockdev --setro,
 * losetup -r)?  Some kernels let O_RDWR opens of those succeed. */
bool dl_cli_bio_readonly(const struct dl_bio *bio);

/* Open a volume (read-only unless rw) and print a one-line error when it
 * is not usable; when cluster is not NULL the volume must belong to it.
 * Returns DL_EXIT_OK or the exit status to return. */
int dl_cli_open_volume(const char *cmd, const char *path, bool rw, const char *cluster,
		       struct dl_volume *v);

/* Flush stdout: 0, or -1 after "disklink CMD: cannot write the output: ..."
 * (a full disk, a closed pipe). */
int dl_cli_flush_output(const char *cmd);

/* "2024-05-01 12:00:00.123 UTC (3.2 s ago)", or "never" for 0. */
void dl_cli_time(uint64_t ns, uint64_t now_ns, char *buf, size_t len);

const char *dl_cli_kind_name(uint32_t kind);

/* What one ring block is. */
enum dl_blk_class {
	DL_BLK_VALID,            /* valid, in its place                        */
	DL_BLK_EMPTY,            /* never written                              */
	DL_BLK_TORN,             /* checksum mismatch: torn or corrupt         */
	DL_BLK_INVALID,          /* bad magic or impossible field              */
	DL_BLK_MISPLACED,        /* valid, but seq % ring_blocks != its index  */
	DL_BLK_FOREIGN,          /* valid, but of another slot or volume       */
};

const char *dl_cli_blk_class_name(enum dl_blk_class c);

/* What a scan of one ring found. */
struct dl_cli_ring_stats {
	uint32_t count[DL_BLK_FOREIGN + 1];   /* blocks of each class */
	struct dl_ring_newest newest;  /* of the valid blocks (count 0: none) */
};

/* Called for every block in index order; blk is set for VALID,
 * MISPLACED and FOREIGN, why for the others.  Nonzero stops the scan. */
typedef int (*dl_cli_block_cb)(void *arg, uint32_t index, enum dl_blk_class cls,
			       const struct dl_block *blk, enum dl_err why);

/* Read and classify every block of a slot's ring (cb may be NULL).
 * 0, or -1 with errno on an I/O error. */
int dl_cli_ring_scan(struct dl_volume *v, uint32_t slot, struct dl_cli_ring_stats *scan,
		     dl_cli_block_cb cb, void *arg);

/* What one slot's head in the head area is. */
enum dl_head_class {
	DL_HEAD_VALID,           /* valid, of this slot and volume             */
	DL_HEAD_EMPTY,           /* never written                              */
	DL_HEAD_TORN,            /* checksum mismatch: torn or corrupt         */
	DL_HEAD_INVALID,         /* bad magic or impossible field              */
	DL_HEAD_FOREIGN,         /* valid, but of another slot or volume       */
};

const char *dl_cli_head_class_name(enum dl_head_class c);

struct dl_cli_head {
	enum dl_head_class cls;
	enum dl_err why;               /* for the classes but VALID and EMPTY */
	struct dl_head h;              /* decoded (VALID, FOREIGN) */
	uint8_t *buf;                  /* the head as read; h points into it */
};

/* Read and classify the head of a slot: 0 (free it with
 * dl_cli_head_free), or -1 with errno on an I/O error. */
int dl_cli_read_head(struct dl_volume *v, uint32_t slot, struct dl_cli_head *out);
void dl_cli_head_free(struct dl_cli_head *hd);

/* "node 1 generation 3 seq 42, 1 inline (seq 42..42)", "empty",
 * "torn (checksum mismatch ...)". */
void dl_cli_head_text(const struct dl_cli_head *hd, char *buf, size_t len);

#endif
