/* The values of disklinkd's settings (settings.h): parsing a setting's
 * text into struct dld_config, comparing and copying it.  Errors are one
 * line in the caller's buffer; config.c says where they come from. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

static int __attribute__((format(printf, 3, 4))) fail(char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

static int parse_u32(const char *what, const char *text, uint32_t min, uint32_t max,
		     uint32_t *out, char *err, size_t errlen)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < min || v > max)
		return fail(err, errlen, "invalid %s '%s': give a number from %u to %u", what,
			    text, min, max);
	*out = (uint32_t)v;
	return 0;
}

static int parse_bool(const char *what, const char *text, uint32_t *out, char *err,
		      size_t errlen)
{
	if (!strcmp(text, "yes") || !strcmp(text, "on") || !strcmp(text, "true"))
		text = "1";
	else if (!strcmp(text, "no") || !strcmp(text, "off") || !strcmp(text, "false"))
		text = "0";
	return parse_u32(what, text, 0, 1, out, err, errlen);
}

static int set_string(const char *what, char *dst, size_t len, const char *val, char *err,
		      size_t errlen)
{
	if (!*val || strlen(val) >= len)
		return fail(err, errlen, "invalid %s '%s': empty or longer than %zu bytes", what,
			    val, len - 1);
	snprintf(dst, len, "%s", val);
	return 0;
}

/* "ID=REST": the id (1..DL_NODE_ID_MAX) and REST, or -1 (bad: err untouched,
 * the caller names the form; bad id: err set). */
static int split_id(const char *spec, const char *what, uint32_t *id, const char **rest,
		    char *err, size_t errlen, bool *bad_form)
{
	const char *eq = strchr(spec, '=');
	char idtext[16];

	*bad_form = !eq || eq == spec || (size_t)(eq - spec) >= sizeof(idtext) || !eq[1];
	if (*bad_form)
		return -1;
	memcpy(idtext, spec, (size_t)(eq - spec));
	idtext[eq - spec] = 0;
	*rest = eq + 1;
	return parse_u32(what, idtext, 1, DL_NODE_ID_MAX, id, err, errlen);
}

/* --peer ID=ADDR / peer = ID=ADDR. */
static int add_peer(struct dld_config *c, const char *spec, char *err, size_t errlen)
{
	struct dld_peer_conf *p;
	const char *addr;
	uint32_t id;
	bool bad_form;

	if (split_id(spec, "peer node id", &id, &addr, err, errlen, &bad_form))
		return bad_form ? fail(err, errlen, "invalid peer '%s': write NODEID=ADDRESS, "
				       "e.g. 2=127.77.0.2", spec) : -1;
	for (uint32_t i = 0; i < c->peer_count; i++)
		if (c->peers[i].node_id == id)
			return fail(err, errlen, "peer %u given twice: give each peer node id "
				    "once", id);
	if (c->peer_count >= DLD_MAX_PEERS)
		return fail(err, errlen, "too many peers: at most %u", DLD_MAX_PEERS);
	p = &c->peers[c->peer_count];
	memset(p, 0, sizeof(*p));
	p->node_id = id;
	snprintf(p->text, sizeof(p->text), "%s", addr);
	if (strlen(addr) >= sizeof(p->text) || dld_addr_parse(p->text, 0, &p->addr, &p->addr_len))
		return fail(err, errlen, "invalid peer address '%s': give an IPv4 or IPv6 "
			    "address", addr);
	c->peer_count++;
	return 0;
}

/* --peer-device ID=DEV / peer_device = ID=DEV. */
static int add_peer_dev(struct dld_config *c, const char *spec, char *err, size_t errlen)
{
	struct dld_peer_dev *d;
	const char *path;
	uint32_t id;
	bool bad_form;

	if (split_id(spec, "peer device node id", &id, &path, err, errlen, &bad_form))
		return bad_form ? fail(err, errlen, "invalid peer device '%s': write "
				       "NODEID=DEVICE, e.g. 2=/dev/mapper/r2 or "
				       "2=UUID=<volume uuid>", spec) : -1;
	if (strlen(path) >= DLD_PEER_DEV_MAX)
		return fail(err, errlen, "peer device path '%s' is longer than %u bytes: use a "
			    "shorter path (e.g. a /dev/disk/by-id link)", path,
			    DLD_PEER_DEV_MAX - 1);
	for (uint32_t i = 0; i < c->peer_dev_count; i++)
		if (c->peer_devs[i].node_id == id)
			return fail(err, errlen, "peer device of node %u given twice: give one "
				    "device per peer", id);
	if (c->peer_dev_count >= DLD_MAX_PEERS)
		return fail(err, errlen, "too many peer devices: at most %u", DLD_MAX_PEERS);
	d = &c->peer_devs[c->peer_dev_count++];
	d->node_id = id;
	snprintf(d->path, sizeof(d->path), "%s", path);
	return 0;
}

int dld_setting_parse(const struct dld_setting *s, struct dld_config *c, const char *what,
		      const char *text, char *err, size_t errlen)
{
	void *p = dld_setting_ptr(s, c);
	uint32_t v;

	switch (s->kind) {
	case DLD_K_U32:
		return parse_u32(what, text, s->min, s->max, p, err, errlen);
	case DLD_K_BOOL:
		return parse_bool(what, text, p, err, errlen);
	case DLD_K_I32:
		if (parse_u32(what, text, s->min, s->max, &v, err, errlen))
			return -1;
		*(int32_t *)p = (int32_t)v;
		return 0;
	case DLD_K_STRING:
	case DLD_K_ADDR:
		return set_string(what, p, s->size, text, err, errlen);
	case DLD_K_PEERS:
		return add_peer(c, text, err, errlen);
	case DLD_K_PEER_DEVS:
		return add_peer_dev(c, text, err, errlen);
	case DLD_K_SWITCH:
		*(bool *)p = true;
		return 0;
	case DLD_K_ACTION:
		break;
	}
	return 0;
}

static bool peers_equal(const struct dld_config *a, const struct dld_config *b)
{
	if (a->peer_count != b->peer_count)
		return false;
	for (uint32_t i = 0; i < a->peer_count; i++)
		if (a->peers[i].node_id != b->peers[i].node_id ||
		    strcmp(a->peers[i].text, b->peers[i].text))
			return false;
	return true;
}

static bool peer_devs_equal(const struct dld_config *a, const struct dld_config *b)
{
	if (a->peer_dev_count != b->peer_dev_count)
		return false;
	for (uint32_t i = 0; i < a->peer_dev_count; i++)
		if (a->peer_devs[i].node_id != b->peer_devs[i].node_id ||
		    strcmp(a->peer_devs[i].path, b->peer_devs[i].path))
			return false;
	return true;
}

bool dld_setting_equal(const struct dld_setting *s, const struct dld_config *a,
		       const struct dld_config *b)
{
	switch (s->kind) {
	case DLD_K_STRING:
	case DLD_K_ADDR:
		return !strcmp(dld_setting_cptr(s, a), dld_setting_cptr(s, b));
	case DLD_K_PEERS:
		return peers_equal(a, b);
	case DLD_K_PEER_DEVS:
		return peer_devs_equal(a, b);
	default:
		return !memcmp(dld_setting_cptr(s, a), dld_setting_cptr(s, b), s->size);
	}
}

void dld_setting_copy(const struct dld_setting *s, struct dld_config *dst,
		      const struct dld_config *src)
{
	memcpy(dld_setting_ptr(s, dst), dld_setting_cptr(s, src), s->size);
	if (s->kind == DLD_K_PEERS)
		dst->peer_count = src->peer_count;
	else if (s->kind == DLD_K_PEER_DEVS)
		dst->peer_dev_count = src->peer_dev_count;
}
