/* The JSON writer (json.h). */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "json.h"

size_t dl_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range rules out overlong forms, surrogates
	 * and code points past U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static void json_str(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	while (*s) {
		size_t n = dl_utf8_len(s);

		if (n == 0) {
			fputs("\\ufffd", out);
			n = 1;
		} else if (*s == '"' || *s == '\\') {
			fprintf(out, "\\%c", *s);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\u%04x", *s);
		} else {
			fwrite(s, 1, n, out);
		}
		s += n;
	}
	fputc('"', out);
}

void dl_json_init(struct dl_json *j, FILE *out)
{
	*j = (struct dl_json){ .out = out };
}

/* The comma before a value and its key. */
static void member(struct dl_json *j, const char *key)
{
	unsigned d = j->depth < DL_JSON_DEPTH ? j->depth : DL_JSON_DEPTH;

	if (j->more[d])
		fputc(',', j->out);
	j->more[d] = true;
	if (key) {
		json_str(j->out, key);
		fputc(':', j->out);
	}
}

static void open_level(struct dl_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->out);
	j->depth++;
	if (j->depth <= DL_JSON_DEPTH)
		j->more[j->depth] = false;
}

void dl_json_obj(struct dl_json *j, const char *key)
{
	open_level(j, key, '{');
}

void dl_json_arr(struct dl_json *j, const char *key)
{
	open_level(j, key, '[');
}

void dl_json_end(struct dl_json *j, char close)
{
	fputc(close, j->out);
	if (j->depth)
		j->depth--;
}

void dl_json_string(struct dl_json *j, const char *key, const char *s)
{
	member(j, key);
	json_str(j->out, s);
}

void dl_json_u64(struct dl_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->out, "%" PRIu64, v);
}

void dl_json_i64(struct dl_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->out, "%" PRId64, v);
}

void dl_json_bool(struct dl_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->out);
}

void dl_json_null(struct dl_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->out);
}

void dl_json_fixed(struct dl_json *j, const char *key, double v, int decimals)
{
	member(j, key);
	if (isfinite(v))
		fprintf(j->out, "%.*f", decimals, v);
	else
		fputs("null", j->out);
}
