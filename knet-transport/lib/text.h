/* Small text helpers: trimming a line in place and reporting a parse
 * error in a caller's message buffer (the configuration readers), the
 * rule for names stored on disk (superblock, slot headers), and shell
 * words for output meant for eval.  JSON: json.h. */
#ifndef DL_TEXT_H
#define DL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Skip leading white space (isspace) and cut trailing white space in
 * place; returns the first non-space character of s (maybe its NUL). */
char *dl_trim(char *s);

/* Format a message into err[0..errlen) (truncated, always terminated
 * when errlen > 0), set errno = e and return -1. */
int dl_fail_msg(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A name in a fixed on-disk field of `field` bytes: NUL-terminated
 * inside it, printable ASCII (0x20..0x7e), zero padding after the
 * terminator, and not empty unless empty_ok. */
bool dl_name_field_valid(const char *name, size_t field, bool empty_ok);

/* Write s as one single-quoted shell word, safe to eval and on one line:
 * ' as '\'', control characters as '?', bytes that are not UTF-8 as
 * U+FFFD. */
void dl_sh_str(FILE *out, const char *s);

#endif
