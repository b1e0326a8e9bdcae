/* Reading pacemaker's fence history (fence_history.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fence_history.h"

/* A <fence_event> element is a few hundred bytes; longer tags are other
 * elements, skipped. */
#define TAG_MAX 4096

/* Read up to the '>' that ends a tag (not one inside quotes) into
 * tag[0..len); false when it did not fit (it is consumed all the same)
 * or the stream ended first. */
static bool read_tag(FILE *in, char *tag, size_t len)
{
	size_t n = 0;
	int c, quote = 0;

	while ((c = getc(in)) != EOF) {
		if (quote && c == quote)
			quote = 0;
		else if (!quote && (c == '"' || c == '\''))
			quote = c;
		else if (!quote && c == '>')
			break;
		if (n + 1 < len)
			tag[n] = (char)c;
		n++;
	}
	if (c == EOF || n + 1 > len)
		return false;
	tag[n] = 0;
	return true;
}

static void put_byte(char *out, size_t *n, size_t len, char c)
{
	if (*n + 1 < len)
		out[(*n)++] = c;
}

/* Append code point cp as UTF-8 to out[*n..len). */
static void put_utf8(char *out, size_t *n, size_t len, unsigned long cp)
{
	unsigned char b[4];
	size_t k;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	for (size_t i = 0; i < k; i++)
		put_byte(out, n, len, (char)b[i]);
}

/* One entity at s ("&...;"): its text appended, the length read. */
static size_t entity(const char *s, char *out, size_t *n, size_t len)
{
	static const struct { const char *name; char c; } named[] = {
		{ .name = "&amp;", .c = '&' }, { .name = "&lt;", .c = '<' },
		{ .name = "&gt;", .c = '>' }, { .name = "&quot;", .c = '"' },
		{ .name = "&apos;", .c = '\'' },
	};
	char *end;
	unsigned long cp;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!strncmp(s, named[i].name, strlen(named[i].name))) {
			put_byte(out, n, len, named[i].c);
			return strlen(named[i].name);
		}
	if (s[1] == '#') {
		errno = 0;
		cp = s[2] == 'x' ? strtoul(s + 3, &end, 16) : strtoul(s + 2, &end, 10);
		if (!errno && *end == ';' && cp > 0 && cp <= 0x10ffff &&
		    !(cp >= 0xd800 && cp <= 0xdfff)) {
			put_utf8(out, n, len, cp);
			return (size_t)(end + 1 - s);
		}
	}
	put_byte(out, n, len, '&');
	return 1;
}

/* The value of attribute name in tag (after the element name), entities
 * decoded, in out[0..len): true, or false when the tag has none. */
static bool attr(const char *tag, const char *name, char *out, size_t len)
{
	const char *p = tag + strcspn(tag, " \t\r\n");
	size_t nl = strlen(name);

	while (*p) {
		const char *k;
		size_t kl, n = 0;
		char q;

		p += strspn(p, " \t\r\n");
		k = p;
		kl = strcspn(p, "= \t\r\n/");
		p += kl;
		p += strspn(p, " \t\r\n");
		if (*p != '=')
			return false;
		p++;
		p += strspn(p, " \t\r\n");
		if (*p != '"' && *p != '\'')
			return false;
		q = *p++;
		while (*p && *p != q) {
			if (*p == '&')
				p += entity(p, out, &n, len);
			else
				put_byte(out, &n, len, *p++);
		}
		if (!*p)
			return false;
		p++;
		out[n] = 0;
		if (kl == nl && !strncmp(k, name, nl))
			return true;
	}
	return false;
}

/* The zone after a date and time at p, applied to tm: 0, or -1. */
static int zone(const char *p, struct tm *tm, int64_t *when)
{
	long h = 0, m = 0;
	int sign;

	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	p += strspn(p, " ");
	if (!*p) {
		tm->tm_isdst = -1;
		*when = (int64_t)mktime(tm);
		return 0;
	}
	if (!strcmp(p, "Z")) {
		*when = (int64_t)timegm(tm);
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return -1;
	h = (p[0] - '0') * 10 + (p[1] - '0');
	p += 2;
	if (*p == ':')
		p++;
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
		m = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
	}
	if (*p || h > 23 || m > 59)
		return -1;
	*when = (int64_t)timegm(tm) - sign * (h * 3600 + m * 60);
	return 0;
}

int dl_fence_time(const char *text, int64_t *when)
{
	char buf[80];
	struct tm tm = { .tm_isdst = -1 };
	const char *p;
	char *t = buf, *end;

	snprintf(buf, sizeof(buf), "%s", text);
	t += strspn(t, " \t\r\n");
	for (end = t + strlen(t); end > t && isspace((unsigned char)end[-1]);)
		*--end = 0;
	if (!*t)
		return -1;
	if (strspn(t, "0123456789") == strlen(t)) {
		*when = strtoll(t, NULL, 10);
		return 0;
	}
	p = strptime(t, "%Y-%m-%d", &tm);
	if (p && (*p == ' ' || *p == 'T')) {
		p = strptime(p + 1, "%H:%M:%S", &tm);
		return p ? zone(p, &tm, when) : -1;
	}
	tm = (struct tm){ .tm_isdst = -1 };
	p = strptime(t, "%a %b %d %H:%M:%S %Y", &tm);
	if (!p || *p)
		return -1;
	*when = (int64_t)mktime(&tm);
	return 0;
}

bool dl_fence_history_last(const struct dl_fence_history *h, const char *target,
			   int64_t *when)
{
	for (uint32_t i = 0; i < h->count; i++)
		if (!strcmp(h->nodes[i].target, target)) {
			*when = h->nodes[i].when;
			return true;
		}
	return false;
}

/* One <fence_event>: a successful off or reboot updates its target. */
static void event(struct dl_fence_history *h, const char *tag)
{
	char status[32], action[32], when_text[80], target[DL_FENCE_NAME_MAX];
	int64_t when, prev;

	h->events++;
	if (attr(tag, "status", status, sizeof(status))) {
		if (strcmp(status, "success"))
			return;
	} else if (attr(tag, "state", status, sizeof(status)) && strcmp(status, "success")) {
		return;
	}
	if (!attr(tag, "action", action, sizeof(action)) ||
	    (strcmp(action, "off") && strcmp(action, "reboot")))
		return;
	if (!attr(tag, "completed", when_text, sizeof(when_text)) || !when_text[0])
		if (!attr(tag, "when", when_text, sizeof(when_text)))
			return;
	if (dl_fence_time(when_text, &when) || !attr(tag, "target", target, sizeof(target)))
		return;
	if (dl_fence_history_last(h, target, &prev)) {
		for (uint32_t i = 0; i < h->count; i++)
			if (!strcmp(h->nodes[i].target, target) && when > prev)
				h->nodes[i].when = when;
		return;
	}
	if (h->count < DL_FENCE_TARGETS) {
		snprintf(h->nodes[h->count].target, sizeof(h->nodes[0].target), "%s", target);
		h->nodes[h->count++].when = when;
	}
}

int dl_fence_history_read(FILE *in, struct dl_fence_history *h)
{
	static const char name[] = "fence_event";
	char tag[TAG_MAX];
	int c;

	*h = (struct dl_fence_history){ .count = 0 };
	while ((c = getc(in)) != EOF) {
		if (c != '<' || !read_tag(in, tag, sizeof(tag)))
			continue;
		if (!strncmp(tag, name, sizeof(name) - 1) &&
		    strchr(" \t\r\n/", tag[sizeof(name) - 1]) && tag[sizeof(name) - 1])
			event(h, tag);
	}
	if (ferror(in)) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}
