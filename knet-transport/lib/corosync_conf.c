/* corosync.conf reader (the subset of corosync's syntax that its own
 * parser accepts: "name {", "}", "key: value", "#" comments). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corosync_conf.h"
#include "text.h"

#define MAX_DEPTH 8

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

static int split_lines(struct dl_corosync_conf *cc, const char *text)
{
	const char *p = text;
	size_t cap = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (cc->n_lines == cap) {
			char **grown;

			cap = cap ? 2 * cap : 64;
			grown = realloc(cc->lines, cap * sizeof(*grown));
			if (!grown)
				return -1;
			cc->lines = grown;
		}
		cc->lines[cc->n_lines] = strndup(p, n);
		if (!cc->lines[cc->n_lines])
			return -1;
		cc->n_lines++;
		p += n + (nl ? 1 : 0);
	}
	return 0;
}

/* Apply "key: value" inside the section path. */
static int apply_key(struct dl_corosync_conf *cc, char sect[][32], int depth,
		     const char *key, const char *val, char *err, size_t errlen, size_t line)
{
	if (depth == 1 && !strcmp(sect[0], "totem")) {
		if (!strcmp(key, "cluster_name"))
			copy(cc->cluster_name, sizeof(cc->cluster_name), val);
		else if (!strcmp(key, "link_mode"))
			copy(cc->link_mode, sizeof(cc->link_mode), val);
		else if (!strcmp(key, "transport"))
			copy(cc->transport, sizeof(cc->transport), val);
	} else if (depth == 2 && !strcmp(sect[0], "totem") && !strcmp(sect[1], "interface")) {
		struct dl_cc_iface *i = &cc->ifaces[cc->n_ifaces - 1];

		if (!strcmp(key, "linknumber"))
			i->linknumber = atoi(val);
		else if (!strcmp(key, "knet_link_priority"))
			i->priority = atoi(val);
	} else if (depth == 2 && !strcmp(sect[0], "nodelist") && !strcmp(sect[1], "node")) {
		struct dl_cc_node *n = &cc->nodes[cc->n_nodes - 1];
		int link;

		if (!strcmp(key, "nodeid")) {
			char *end;
			unsigned long id = strtoul(val, &end, 10);

			if (*end || id == 0 || id > 0xffffffffUL)
				return fail(err, errlen, EINVAL, "line %zu: invalid nodeid '%s'",
					    line + 1, val);
			n->nodeid = (uint32_t)id;
		} else if (!strcmp(key, "name")) {
			copy(n->name, sizeof(n->name), val);
		} else if (sscanf(key, "ring%d_addr", &link) == 1 && link >= 0 &&
			   link < DL_CC_MAX_LINKS) {
			copy(n->ring_addr[link], sizeof(n->ring_addr[link]), val);
		}
	}
	return 0;
}

static void indent_of(const char *line, char *out, size_t len)
{
	size_t n = strspn(line, " \t");

	if (n >= len)
		n = len - 1;
	memcpy(out, line, n);
	out[n] = 0;
}

int dl_cc_parse(struct dl_corosync_conf *cc, const char *text, char *err, size_t errlen)
{
	char sect[MAX_DEPTH][32];
	int depth = 0;

	memset(cc, 0, sizeof(*cc));
	if (split_lines(cc, text))
		return fail(err, errlen, ENOMEM, "out of memory");
	for (size_t ln = 0; ln < cc->n_lines; ln++) {
		char buf[1024], *s, *hash, *colon;

		copy(buf, sizeof(buf), cc->lines[ln]);
		hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		s = dl_trim(buf);
		if (!*s)
			continue;
		if (s[strlen(s) - 1] == '{') {
			s[strlen(s) - 1] = 0;
			s = dl_trim(s);
			if (depth == MAX_DEPTH)
				return fail(err, errlen, EINVAL, "line %zu: sections nested too deep",
					    ln + 1);
			copy(sect[depth], sizeof(sect[depth]), s);
			depth++;
			if (depth == 1 && !strcmp(s, "totem")) {
				cc->totem_line = ln;
				if (ln + 1 < cc->n_lines)
					indent_of(cc->lines[ln + 1], cc->totem_indent,
						  sizeof(cc->totem_indent));
			} else if (depth == 2 && !strcmp(sect[0], "totem") && !strcmp(s, "interface")) {
				if (cc->n_ifaces == DL_CC_MAX_LINKS)
					return fail(err, errlen, EINVAL, "line %zu: too many interfaces",
						    ln + 1);
				cc->ifaces[cc->n_ifaces++] = (struct dl_cc_iface){
					.linknumber = 0, .priority = -1 };
			} else if (depth == 2 && !strcmp(sect[0], "nodelist") && !strcmp(s, "node")) {
				if (cc->n_nodes == DL_CC_MAX_NODES)
					return fail(err, errlen, EINVAL, "line %zu: too many nodes",
						    ln + 1);
				cc->n_nodes++;
				if (ln + 1 < cc->n_lines)
					indent_of(cc->lines[ln + 1], cc->nodes[cc->n_nodes - 1].indent,
						  sizeof(cc->nodes[0].indent));
			}
			continue;
		}
		if (!strcmp(s, "}")) {
			if (depth == 0)
				return fail(err, errlen, EINVAL, "line %zu: unbalanced '}'", ln + 1);
			if (depth == 2 && !strcmp(sect[0], "nodelist") && !strcmp(sect[1], "node"))
				cc->nodes[cc->n_nodes - 1].close_line = ln;
			depth--;
			continue;
		}
		colon = strchr(s, ':');
		if (!colon)
			return fail(err, errlen, EINVAL, "line %zu: expected 'key: value'", ln + 1);
		*colon = 0;
		if (apply_key(cc, sect, depth, dl_trim(s), dl_trim(colon + 1), err, errlen, ln))
			return -1;
	}
	if (depth)
		return fail(err, errlen, EINVAL, "unterminated section '%s'", sect[depth - 1]);
	for (size_t i = 0; i < cc->n_nodes; i++) {
		if (!cc->nodes[i].nodeid)
			return fail(err, errlen, EINVAL, "node %zu in the nodelist has no nodeid", i + 1);
		for (size_t j = 0; j < i; j++)
			if (cc->nodes[j].nodeid == cc->nodes[i].nodeid)
				return fail(err, errlen, EINVAL, "nodeid %u appears twice in the nodelist",
					    cc->nodes[i].nodeid);
	}
	return 0;
}

int dl_cc_load(struct dl_corosync_conf *cc, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(cc, 0, sizeof(*cc));
	if (!f)
		return fail(err, errlen, errno, "cannot open %s: %s", path, strerror(errno));
	{
		FILE *m = open_memstream(&text, &len);
		char buf[4096];
		size_t n;

		if (!m) {
			fclose(f);
			return fail(err, errlen, ENOMEM, "out of memory");
		}
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, m);
		fclose(m);
	}
	fclose(f);
	rc = dl_cc_parse(cc, text, err, errlen);
	free(text);
	return rc;
}

void dl_cc_free(struct dl_corosync_conf *cc)
{
	for (size_t i = 0; i < cc->n_lines; i++)
		free(cc->lines[i]);
	free(cc->lines);
	cc->lines = NULL;
	cc->n_lines = 0;
}

int dl_cc_link_used(const struct dl_corosync_conf *cc, int link)
{
	for (size_t i = 0; i < cc->n_nodes; i++)
		if (cc->nodes[i].ring_addr[link][0])
			return 1;
	return 0;
}

int dl_cc_free_link(const struct dl_corosync_conf *cc)
{
	for (int l = 0; l < DL_CC_MAX_LINKS; l++) {
		int used = dl_cc_link_used(cc, l);

		for (size_t i = 0; i < cc->n_ifaces && !used; i++)
			used = cc->ifaces[i].linknumber == l;
		if (!used)
			return l;
	}
	return -1;
}
