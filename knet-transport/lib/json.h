/* One JSON writer for the tool and the daemon: compact output (no
 * spaces), keys in the order written, strings always valid JSON.  Text
 * that is valid UTF-8 passes through as is; a byte that does not start
 * a valid UTF-8 sequence (node names come from the volume: untrusted)
 * comes out as U+FFFD, control characters as \u00XX. */
#ifndef DL_JSON_H
#define DL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The version of the documents the daemon and the tool write (the key
 * "format_version"): raised when a key changes meaning or goes away. */
#define DL_JSON_FORMAT_VERSION 1

/* Nesting deeper than this is a caller's bug: the writer stops adding
 * commas correctly beyond it (the documents here are 3 deep). */
#define DL_JSON_DEPTH 8

struct dl_json {
	FILE *out;
	unsigned depth;                 /* open objects and arrays         */
	bool more[DL_JSON_DEPTH + 1];   /* a value was written at a level  */
};

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the byte
 * at s does not start one (a lone continuation byte, an overlong form,
 * a surrogate, past U+10FFFF, a cut sequence). */
size_t dl_utf8_len(const unsigned char *s);

void dl_json_init(struct dl_json *j, FILE *out);

/* In an object, key names the member; in an array or at the top, key
 * is NULL. */
void dl_json_obj(struct dl_json *j, const char *key);
void dl_json_arr(struct dl_json *j, const char *key);
/* Close the innermost object or array. */
void dl_json_end(struct dl_json *j, char close);
/* s as a JSON string literal (see above). */
void dl_json_string(struct dl_json *j, const char *key, const char *s);
void dl_json_u64(struct dl_json *j, const char *key, uint64_t v);
void dl_json_i64(struct dl_json *j, const char *key, int64_t v);
void dl_json_bool(struct dl_json *j, const char *key, bool v);
void dl_json_null(struct dl_json *j, const char *key);
/* v with `decimals` digits after the point; null when not finite. */
void dl_json_fixed(struct dl_json *j, const char *key, double v, int decimals);

#endif
