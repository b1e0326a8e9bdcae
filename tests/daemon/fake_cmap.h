/* A FAKE of corosync's libcmap and libcfg for the daemon's unit tests:
 * the cmap_* and corosync_cfg_* functions that cmap_config.c calls,
 * defined here and linked instead of the libraries (a test that includes
 * this file has no $(CMAP_LIBS) nor $(CFG_LIBS) in its LDADD; include it
 * in one .c per program).  The table stands for corosync's cmap as
 * corosync 3.1.7 fills it for a 3-node cluster with knet link 0 on the
 * network (169.254.0.x) and link 1 on 127.77.0.x, the disklink link; a
 * test changes it with kv_set() and puts it back with table_reset().
 * local_id stands for corosync_cfg_local_get (0: corosync is not
 * running).  Include it after <cmocka.h>. */
#ifndef DLD_TEST_FAKE_CMAP_H
#define DLD_TEST_FAKE_CMAP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <corosync/cfg.h>
#include <corosync/cmap.h>

enum kv_type { KV_END = 0, KV_STR, KV_U32, KV_U16, KV_U8 };

struct kv {
	const char *key;
	enum kv_type type;
	const char *s;
	uint32_t u;
};

#define MAX_KV 64

static const struct kv cluster3[] = {
	{ "totem.cluster_name", KV_STR, "lab", 0 },
	{ "totem.transport", KV_STR, "knet", 0 },
	{ "totem.interface.0.linknumber", KV_U8, NULL, 0 },
	{ "totem.interface.1.linknumber", KV_U8, NULL, 1 },
	{ "totem.interface.1.knet_transport", KV_STR, "udp", 0 },
	{ "totem.interface.1.mcastport", KV_U16, NULL, 5420 },
	{ "nodelist.local_node_pos", KV_U32, NULL, 0 },
	{ "nodelist.node.0.name", KV_STR, "n1", 0 },
	{ "nodelist.node.0.nodeid", KV_U32, NULL, 1 },
	{ "nodelist.node.0.ring0_addr", KV_STR, "169.254.0.1", 0 },
	{ "nodelist.node.0.ring1_addr", KV_STR, "127.77.0.1", 0 },
	{ "nodelist.node.1.name", KV_STR, "n2", 0 },
	{ "nodelist.node.1.nodeid", KV_U32, NULL, 2 },
	{ "nodelist.node.1.ring0_addr", KV_STR, "169.254.0.2", 0 },
	{ "nodelist.node.1.ring1_addr", KV_STR, "127.77.0.2", 0 },
	{ "nodelist.node.2.name", KV_STR, "n3", 0 },
	{ "nodelist.node.2.nodeid", KV_U32, NULL, 3 },
	{ "nodelist.node.2.ring0_addr", KV_STR, "169.254.0.3", 0 },
	{ "nodelist.node.2.ring1_addr", KV_STR, "127.77.0.3", 0 },
	{ "runtime.members.1.status", KV_STR, "joined", 0 },
	{ "runtime.members.2.status", KV_STR, "joined", 0 },
	{ "runtime.members.3.status", KV_STR, "left", 0 },
	{ NULL, KV_END, NULL, 0 },
};

static struct kv table[MAX_KV];
static unsigned local_id = 1;          /* what cfg says               */
static cs_error_t dispatch_rc = CS_OK; /* CS_ERR_LIBRARY: corosync gone */
static cmap_notify_fn_t tracked;
static void *tracked_arg;

static inline void table_reset(void)
{
	memset(table, 0, sizeof(table));
	memcpy(table, cluster3, sizeof(cluster3));
	local_id = 1;
	dispatch_rc = CS_OK;
}

static inline struct kv *kv_find(const char *key)
{
	for (struct kv *e = table; e->key; e++)
		if (!strcmp(e->key, key))
			return e;
	return NULL;
}

/* Set (s or u), or remove (type KV_END) a key. */
static inline void kv_set(const char *key, enum kv_type type, const char *s, uint32_t u)
{
	struct kv *e = kv_find(key);

	if (type == KV_END) {
		if (e) {
			struct kv *last = e;

			while (last[1].key)
				last++;
			*e = *last;
			*last = (struct kv){ .key = NULL };
		}
		return;
	}
	if (!e) {
		for (e = table; e->key; e++)
			;
		assert_true(e < table + MAX_KV - 1);
	}
	*e = (struct kv){ .key = key, .type = type, .s = s, .u = u };
}

/* ---- the fake libcmap ---- */

/* The connection's fd: an eventfd that fake_cmap_notify() makes
 * readable, as corosync's IPC socket is when a tracked key changed. */
static int cmap_efd = -1;
static int cmap_connections;

cs_error_t cmap_initialize(cmap_handle_t *handle)
{
	if (!local_id)
		return CS_ERR_LIBRARY;         /* corosync is not running */
	if (cmap_efd < 0)
		cmap_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	cmap_connections++;
	*handle = 1;
	return cmap_efd >= 0 ? CS_OK : CS_ERR_NO_RESOURCES;
}

/* One table for every map (the stats map's keys are stats.*). */
cs_error_t cmap_initialize_map(cmap_handle_t *handle, cmap_map_t map)
{
	(void)map;
	return cmap_initialize(handle);
}

cs_error_t cmap_finalize(cmap_handle_t handle)
{
	(void)handle;
	if (--cmap_connections == 0 && cmap_efd >= 0) {
		close(cmap_efd);
		cmap_efd = -1;
	}
	return CS_OK;
}

cs_error_t cmap_fd_get(cmap_handle_t handle, int *fd)
{
	(void)handle;
	*fd = cmap_efd;
	return CS_OK;
}

/* A tracked key changed (or, with dispatch_rc set, corosync went away). */
static inline void fake_cmap_notify(void)
{
	uint64_t one = 1;

	if (write(cmap_efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		fail_msg("cannot kick the fake cmap fd");
}

cs_error_t cmap_dispatch(cmap_handle_t handle, cs_dispatch_flags_t flags)
{
	struct cmap_notify_value v = { .type = CMAP_VALUETYPE_STRING };
	uint64_t n = 0;

	(void)flags;
	if (dispatch_rc != CS_OK)
		return dispatch_rc;
	if (cmap_efd >= 0 && read(cmap_efd, &n, sizeof(n)) < 0)
		n = 0;
	if (tracked)
		tracked(handle, 1, CMAP_TRACK_MODIFY, "nodelist.node.1.ring1_addr", v, v,
			tracked_arg);
	return CS_OK;
}

cs_error_t cmap_track_add(cmap_handle_t handle, const char *key, int32_t type,
			  cmap_notify_fn_t fn, void *arg, cmap_track_handle_t *track)
{
	(void)handle;
	(void)key;
	(void)type;
	tracked = fn;
	tracked_arg = arg;
	*track = 7;
	return CS_OK;
}

cs_error_t cmap_track_delete(cmap_handle_t handle, cmap_track_handle_t track)
{
	(void)handle;
	(void)track;
	tracked = NULL;
	return CS_OK;
}

static inline cs_error_t get_num(const char *key, enum kv_type type, uint32_t *v)
{
	const struct kv *e = kv_find(key);

	if (!e)
		return CS_ERR_NOT_EXIST;
	if (e->type != type)
		return CS_ERR_INVALID_PARAM;
	*v = e->u;
	return CS_OK;
}

cs_error_t cmap_get_uint32(cmap_handle_t handle, const char *key, uint32_t *u32)
{
	(void)handle;
	return get_num(key, KV_U32, u32);
}

/* Any number in the table, as the byte it is in the stats map. */
cs_error_t cmap_get_uint8(cmap_handle_t handle, const char *key, uint8_t *u8)
{
	const struct kv *e = kv_find(key);

	(void)handle;
	if (!e)
		return CS_ERR_NOT_EXIST;
	*u8 = (uint8_t)e->u;
	return CS_OK;
}

cs_error_t cmap_get_uint16(cmap_handle_t handle, const char *key, uint16_t *u16)
{
	uint32_t v = 0;
	cs_error_t rc = get_num(key, KV_U16, &v);

	(void)handle;
	*u16 = (uint16_t)v;
	return rc;
}

cs_error_t cmap_get_string(cmap_handle_t handle, const char *key, char **str)
{
	const struct kv *e = kv_find(key);

	(void)handle;
	if (!e)
		return CS_ERR_NOT_EXIST;
	if (e->type != KV_STR)
		return CS_ERR_INVALID_PARAM;
	*str = strdup(e->s);
	return *str ? CS_OK : CS_ERR_NO_MEMORY;
}

/* An iterator: the prefix and the position in the table. */
static char iter_prefix[64];
static size_t iter_pos;

cs_error_t cmap_iter_init(cmap_handle_t handle, const char *prefix, cmap_iter_handle_t *it)
{
	(void)handle;
	snprintf(iter_prefix, sizeof(iter_prefix), "%s", prefix ? prefix : "");
	iter_pos = 0;
	*it = 1;
	return CS_OK;
}

cs_error_t cmap_iter_next(cmap_handle_t handle, cmap_iter_handle_t it, char key[],
			  size_t *len, cmap_value_types_t *type)
{
	(void)handle;
	(void)it;
	for (; table[iter_pos].key; iter_pos++) {
		const struct kv *e = &table[iter_pos];

		if (strncmp(e->key, iter_prefix, strlen(iter_prefix)))
			continue;
		snprintf(key, CMAP_KEYNAME_MAXLEN + 1, "%s", e->key);
		*len = e->type == KV_STR ? strlen(e->s) + 1 : 4;
		*type = e->type == KV_STR ? CMAP_VALUETYPE_STRING : CMAP_VALUETYPE_UINT32;
		iter_pos++;
		return CS_OK;
	}
	return CS_ERR_NO_SECTIONS;
}

cs_error_t cmap_iter_finalize(cmap_handle_t handle, cmap_iter_handle_t it)
{
	(void)handle;
	(void)it;
	return CS_OK;
}

/* ---- the fake libcfg ---- */

cs_error_t corosync_cfg_initialize(corosync_cfg_handle_t *h, const corosync_cfg_callbacks_t *cb)
{
	(void)cb;
	*h = 1;
	return local_id ? CS_OK : CS_ERR_LIBRARY;
}

cs_error_t corosync_cfg_local_get(corosync_cfg_handle_t h, unsigned int *id)
{
	(void)h;
	*id = local_id;
	return CS_OK;
}

cs_error_t corosync_cfg_finalize(corosync_cfg_handle_t h)
{
	(void)h;
	return CS_OK;
}

#endif
