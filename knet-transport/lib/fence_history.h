/* Pacemaker's fence history, as `stonith_admin --history '*'
 * --output-as=xml` (or crm_mon --as-xml) prints it: when was each node
 * last powered off or rebooted successfully.  Read from a stream, so
 * that a history of any size goes through a pipe (never one argument).
 *
 * Only the attributes of <fence_event> elements are read: action,
 * target, status (older versions: state) and completed (older: when).
 * A full XML parser is not needed for that: pacemaker writes these
 * elements with quoted attributes and the five predefined entities,
 * which this reader decodes; anything else (other elements, comments,
 * text) is skipped.  doc/replication.md says why there is no libxml2. */
#ifndef DL_FENCE_HISTORY_H
#define DL_FENCE_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define DL_FENCE_TARGETS 64
#define DL_FENCE_NAME_MAX 256

struct dl_fenced {
	char target[DL_FENCE_NAME_MAX];
	int64_t when;                  /* epoch seconds of the newest success */
};

struct dl_fence_history {
	uint32_t count;
	struct dl_fenced nodes[DL_FENCE_TARGETS];
	uint64_t events;               /* <fence_event> elements read       */
};

/* Read the history from in up to its end into h (zeroed first).  0, or
 * -1 with errno when reading fails; XML it cannot make sense of is
 * skipped, not an error (no history means: nobody was fenced). */
int dl_fence_history_read(FILE *in, struct dl_fence_history *h);

/* The newest successful off/reboot of target: true and *when, or false. */
bool dl_fence_history_last(const struct dl_fence_history *h, const char *target,
			   int64_t *when);

/* A time as pacemaker versions print it, to epoch seconds: digits (epoch);
 * "YYYY-MM-DD HH:MM:SS" or with 'T', optional ".fraction", then a zone
 * "Z", "+HH:MM", "+HHMM", "+HH" (with or without a space before it) or
 * none (local time); ctime's "Wed Dec  2 03:40:00 2026" (local time).
 * 0, or -1 when it is none of those. */
int dl_fence_time(const char *text, int64_t *when);

#endif
