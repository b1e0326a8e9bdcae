/* Text helpers. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "text.h"

char *dl_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int dl_fail_msg(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

bool dl_name_field_valid(const char *name, size_t field, bool empty_ok)
{
	size_t n = strnlen(name, field);

	if (n == field || (n == 0 && !empty_ok))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e)
			return false;
	for (size_t i = n; i < field; i++)
		if (name[i])
			return false;
	return true;
}

void dl_sh_str(FILE *out, const char *str)
{
	const unsigned char *p = (const unsigned char *)str;

	fputc('\'', out);
	while (*p) {
		size_t n = dl_utf8_len(p);

		if (n == 0) {
			fputs("\xef\xbf\xbd", out);
			n = 1;
		} else if (*p == '\'') {
			fputs("'\\''", out);
		} else if (*p < 0x20 || *p == 0x7f) {
			fputc('?', out);
		} else {
			fwrite(p, 1, n, out);
		}
		p += n;
	}
	fputc('\'', out);
}
