/* The promotion gate's inputs and verdicts (gate.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "text.h"

/* A shell word as `status --shell` writes it ('...' pieces, \x) into
 * out[0..len), truncated: 0, or -1 when a quote is not closed. */
static int unquote(const char *v, char *out, size_t len)
{
	size_t n = 0;

	while (*v && *v != '\n') {
		const char *from = v, *to;

		if (*v == '\'') {
			to = strchr(v + 1, '\'');
			if (!to)
				return -1;
			from = v + 1;
			v = to + 1;
		} else {
			if (*v == '\\' && v[1])
				v++;
			from = v;
			to = ++v;
		}
		for (; from < to; from++)
			if (n + 1 < len)
				out[n++] = *from;
	}
	out[n] = 0;
	return 0;
}

/* src cut to dst[0..len). */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/* status_peerN_KEY = val. */
static void peer_key(struct dl_gate_status *st, const char *k, const char *val)
{
	char *end;
	unsigned long i = strtoul(k, &end, 10);
	struct dl_gate_peer *p;

	if (end == k || *end != '_' || i >= DL_GATE_PEERS)
		return;
	p = &st->peers[i];
	k = end + 1;
	if (!strcmp(k, "node_id"))
		p->node_id = (uint32_t)strtoul(val, NULL, 10);
	else if (!strcmp(k, "role"))
		copy(p->role, sizeof(p->role), val);
	else if (!strcmp(k, "mirror"))
		copy(p->mirror, sizeof(p->mirror), val);
	else if (!strcmp(k, "last_block_age_ms"))
		p->age_ms = *val ? strtoll(val, NULL, 10) : -1;
}

/* One line: 1 for status_format_version, 0 for another key, -1 when it
 * is not an assignment. */
static int status_line(struct dl_gate_status *st, const char *line, char *val, size_t len)
{
	size_t kl = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_");
	char key[64];

	if (!kl || line[kl] != '=' || kl >= sizeof(key) || unquote(line + kl + 1, val, len))
		return -1;
	memcpy(key, line, kl);
	key[kl] = 0;
	if (!strcmp(key, "status_format_version"))
		return 1;
	if (!strcmp(key, "status_role"))
		copy(st->role, sizeof(st->role), val);
	else if (!strcmp(key, "status_uptime_s"))
		st->uptime_s = strtoull(val, NULL, 10);
	else if (!strcmp(key, "status_peer_count"))
		st->peer_count = (uint32_t)strtoul(val, NULL, 10);
	else if (!strncmp(key, "status_peer", 11) && isdigit((unsigned char)key[11]))
		peer_key(st, key + 11, val);
	return 0;
}

int dl_gate_status_read(FILE *in, struct dl_gate_status *st)
{
	char *line = NULL, val[512];
	size_t cap = 0;
	bool versioned = false;
	int bad = 0, r;

	*st = (struct dl_gate_status){ .role = "unknown" };
	for (uint32_t i = 0; i < DL_GATE_PEERS; i++)
		st->peers[i] = (struct dl_gate_peer){ .role = "unknown", .mirror = "unknown",
						      .age_ms = -1 };
	while (getline(&line, &cap, in) > 0) {
		if (line[0] == '\n')
			continue;
		r = status_line(st, line, val, sizeof(val));
		if (r < 0)
			bad = 1;
		else if (r > 0)
			versioned = true;
	}
	free(line);
	if (ferror(in)) {
		errno = EIO;
		return -1;
	}
	if (bad || !versioned) {
		errno = EINVAL;
		return -1;
	}
	if (st->peer_count > DL_GATE_PEERS)
		st->peer_count = DL_GATE_PEERS;
	return 0;
}

int dl_gate_nodes_read(FILE *in, struct dl_gate_nodes *nodes)
{
	char *line = NULL;
	size_t cap = 0;

	*nodes = (struct dl_gate_nodes){ .count = 0 };
	while (getline(&line, &cap, in) > 0 && nodes->count < DL_GATE_NODES) {
		char id[24], name[DL_FENCE_NAME_MAX], state[32];
		struct dl_gate_node *n = &nodes->nodes[nodes->count];

		if (sscanf(line, "%23s %255s %31s", id, name, state) != 3 ||
		    strspn(id, "0123456789") != strlen(id))
			continue;
		n->id = (uint32_t)strtoul(id, NULL, 10);
		copy(n->name, sizeof(n->name), name);
		n->member = !strcmp(state, "member");
		nodes->count++;
	}
	free(line);
	if (ferror(in)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static const struct dl_gate_node *node(const struct dl_gate_nodes *nodes, uint32_t id)
{
	for (uint32_t i = 0; i < nodes->count; i++)
		if (nodes->nodes[i].id == id)
			return &nodes->nodes[i];
	return NULL;
}

/* The verdict on primary p named name (gate.h), its sentence appended
 * to details. */
static const char *verdict(const struct dl_gate_in *in, const struct dl_gate_peer *p,
			   const char *name, bool member, FILE *details)
{
	double last_write = p->age_ms >= 0 ? in->now - (double)p->age_ms / 1000.0 :
			    in->now - (double)in->st->uptime_s;
	int64_t fenced;
	bool was_fenced = dl_fence_history_last(in->hist, name, &fenced);
	char seen[48] = "never seen";

	if (p->age_ms >= 0)
		snprintf(seen, sizeof(seen), "%.1fs ago", (double)p->age_ms / 1000.0);
	fprintf(details, "%s (node %u): role %s, disk ring %s, %s, last block %s", name,
		p->node_id, p->role, p->mirror, member ? "member" : "not a member", seen);
	if (was_fenced && (double)fenced >= last_write) {
		fprintf(details, ", fenced %.0fs ago", in->now - (double)fenced);
		return "fenced";
	}
	if (!strcmp(p->mirror, "healthy") || !strcmp(p->mirror, "lagging"))
		return "writing";
	if (!member && !strcmp(p->mirror, "gone"))
		return "gone";
	return "present";
}

static void assign(FILE *out, const char *key, const char *val)
{
	fprintf(out, "%s=", key);
	dl_sh_str(out, val);
	fputc('\n', out);
}

int dl_gate_eval(const struct dl_gate_in *in, FILE *out)
{
	char *vtext = NULL, *dtext = NULL, frozen[DL_FENCE_NAME_MAX] = "";
	size_t vlen = 0, dlen = 0;
	FILE *verdicts = open_memstream(&vtext, &vlen);
	FILE *details = open_memstream(&dtext, &dlen);
	int n = 0, ret = 0;

	if (!verdicts || !details) {
		ret = -1;
		goto out;
	}
	for (uint32_t i = 0; i < in->st->peer_count; i++) {
		const struct dl_gate_peer *p = &in->st->peers[i];
		const struct dl_gate_node *nd = node(in->nodes, p->node_id);
		char name[DL_FENCE_NAME_MAX];

		if (nd)
			copy(name, sizeof(name), nd->name);
		else
			snprintf(name, sizeof(name), "%u", p->node_id);
		if (strcmp(p->role, "primary") &&
		    !(!strcmp(name, in->recorded) && !strcmp(p->role, "unknown")))
			continue;
		if (!strcmp(p->mirror, "frozen"))
			copy(frozen, sizeof(frozen), name);
		if (!in->gate)
			continue;
		if (n++) {
			fputc(' ', verdicts);
			fputs("; ", details);
		}
		fprintf(verdicts, "%s=%s", name,
			verdict(in, p, name, nd && nd->member, details));
	}
	if (fclose(verdicts) | fclose(details)) {
		verdicts = details = NULL;
		ret = -1;
		goto out;
	}
	verdicts = details = NULL;
	assign(out, "DV_OWN_ROLE", in->st->role);
	assign(out, "DV_FROZEN_PRIMARY", frozen);
	assign(out, "DV_VERDICTS", vtext);
	assign(out, "DV_DETAILS", dtext);
out:
	if (verdicts)
		fclose(verdicts);
	if (details)
		fclose(details);
	free(vtext);
	free(dtext);
	return ret;
}
