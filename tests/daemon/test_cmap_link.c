/* Corosync mode's link extraction (daemon/parent/cmap_config.c and
 * config_corosync.c) from a FAKE cmap: the cmap_* and corosync_cfg_*
 * functions below stand for corosync's libcmap and libcfg, and are linked
 * instead of them (this test's LDADD has no $(CMAP_LIBS) nor
 * $(CFG_LIBS)).  The table stands for corosync's cmap as corosync 3.1.7
 * fills it for a 3-node cluster with knet link 0 on the network
 * (169.254.0.x) and link 1 on 127.77.0.x, the disklink link; each test
 * changes it where it needs to. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <corosync/cfg.h>

#include "cmap_config.h"
#include "corosync_mode.h"

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

static void table_reset(void)
{
	memset(table, 0, sizeof(table));
	memcpy(table, cluster3, sizeof(cluster3));
	local_id = 1;
	dispatch_rc = CS_OK;
}

static struct kv *kv_find(const char *key)
{
	for (struct kv *e = table; e->key; e++)
		if (!strcmp(e->key, key))
			return e;
	return NULL;
}

/* Set (s or u), or remove (type KV_END) a key. */
static void kv_set(const char *key, enum kv_type type, const char *s, uint32_t u)
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

cs_error_t cmap_initialize(cmap_handle_t *handle)
{
	*handle = 1;
	return CS_OK;
}

cs_error_t cmap_finalize(cmap_handle_t handle)
{
	(void)handle;
	return CS_OK;
}

cs_error_t cmap_fd_get(cmap_handle_t handle, int *fd)
{
	(void)handle;
	*fd = 0;                       /* never polled here */
	return CS_OK;
}

cs_error_t cmap_dispatch(cmap_handle_t handle, cs_dispatch_flags_t flags)
{
	struct cmap_notify_value v = { .type = CMAP_VALUETYPE_STRING };

	(void)flags;
	if (dispatch_rc != CS_OK)
		return dispatch_rc;
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

static cs_error_t get_num(const char *key, enum kv_type type, uint32_t *v)
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

/* ---- the tests ---- */

static int setup(void **state)
{
	struct dld_cmap_link *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	table_reset();
	*state = l;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static const struct dld_cmap_node *node(const struct dld_cmap_link *l, uint32_t id)
{
	for (uint32_t i = 0; i < l->n_nodes; i++)
		if (l->nodes[i].node_id == id)
			return &l->nodes[i];
	return NULL;
}

static void test_link1_of_three_nodes(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	assert_int_equal(dld_cmap_load_handle(1, 2, 1, l, err, sizeof(err)), 0);
	assert_int_equal(l->link, 1);
	assert_int_equal(l->local_id, 2);
	assert_int_equal(l->port, 5420);
	assert_string_equal(l->cluster, "lab");
	assert_int_equal(l->n_nodes, 3);
	assert_string_equal(node(l, 1)->addr, "127.77.0.1");
	assert_string_equal(node(l, 2)->addr, "127.77.0.2");
	assert_string_equal(node(l, 3)->addr, "127.77.0.3");
	assert_string_equal(node(l, 3)->name, "n3");
}

static void test_local_id_from_cfg(void **state)
{
	uint32_t id = 0;
	char err[256] = "";

	(void)state;
	local_id = 3;
	assert_int_equal(dld_cmap_local_id(&id, err, sizeof(err)), 0);
	assert_int_equal(id, 3);
	local_id = 0;                  /* corosync not running */
	assert_int_equal(dld_cmap_local_id(&id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is corosync running?"));
}

/* Link 0 is the network: not a disklink link. */
static void test_network_link_refused(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	assert_int_equal(dld_cmap_load_handle(1, 1, 0, l, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "has address 169.254.0.1, not a loopback address"));
}

static void test_node_without_the_link(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	kv_set("nodelist.node.2.ring1_addr", KV_END, NULL, 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), 0);
	assert_int_equal(l->n_nodes, 2);
	assert_null(node(l, 3));
	/* This node itself without it: the link is not configured here. */
	assert_int_equal(dld_cmap_load_handle(1, 3, 1, l, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "this node (id 3) has no ring1_addr"));
	/* No node with link 2 at all. */
	assert_int_equal(dld_cmap_load_handle(1, 1, 2, l, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "no ring2_addr for any node"));
}

static void test_ipv6_address(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	kv_set("nodelist.node.1.ring1_addr", KV_STR, "::1", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), 0);
	assert_string_equal(node(l, 2)->addr, "::1");
	kv_set("nodelist.node.1.ring1_addr", KV_STR, "fe80::2", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has address fe80::2, not a loopback address"));
}

/* Without mcastport (corosync 3 with knet) the port is corosync's
 * default for the link; knet_transport is not needed. */
static void test_missing_port_and_transport(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	kv_set("totem.interface.1.mcastport", KV_END, NULL, 0);
	kv_set("totem.interface.1.knet_transport", KV_END, NULL, 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), 0);
	assert_int_equal(l->port, 5406);
	kv_set("totem.cluster_name", KV_END, NULL, 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), 0);
	assert_string_equal(l->cluster, "");
}

static void test_bad_nodelists(void **state)
{
	struct dld_cmap_link *l = *state;
	char err[256] = "";

	kv_set("nodelist.node.2.ring1_addr", KV_STR, "127.77.0.2", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "nodes 2 and 3 both have link 1 address 127.77.0.2"));
	table_reset();
	kv_set("nodelist.node.2.nodeid", KV_U32, NULL, 70000);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has node id 70000"));
	table_reset();
	kv_set("nodelist.node.2.nodeid", KV_U32, NULL, 2);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "node id 2 appears twice"));
}

static void test_config_from_link(void **state)
{
	struct dld_cmap_link *l = *state;
	struct dld_config *given = calloc(1, sizeof(*given)), *out = calloc(1, sizeof(*out));
	char err[256] = "";

	assert_non_null(given);
	assert_non_null(out);
	dld_config_defaults(given);
	given->link = 1;
	assert_int_equal(dld_cmap_load_handle(1, 2, 1, l, err, sizeof(err)), 0);
	assert_int_equal(dld_config_corosync(given, l, out, err, sizeof(err)), 0);
	assert_int_equal(out->node_id, 2);
	assert_string_equal(out->node_name, "n2");
	assert_int_equal(out->port, 5420);
	assert_string_equal(out->local_text, "127.77.0.2");
	assert_string_equal(out->cluster, "lab");
	assert_int_equal(out->peer_count, 2);
	assert_int_equal(out->peers[0].node_id, 1);
	assert_string_equal(out->peers[0].text, "127.77.0.1");
	assert_int_equal(out->peers[1].node_id, 3);
	assert_string_equal(out->peers[1].text, "127.77.0.3");
	/* A setting given explicitly that contradicts corosync. */
	given->node_id = 7;
	given->given |= DLD_SET_NODE_ID;
	given->set |= DLD_SET_NODE_ID;
	assert_int_equal(dld_config_corosync(given, l, out, err, sizeof(err)), DLD_EXIT_USAGE);
	assert_non_null(strstr(err, "node id 7 given on the command line contradicts "
				    "corosync's local node id 2"));
	/* One that agrees is fine. */
	given->node_id = 2;
	assert_int_equal(dld_config_corosync(given, l, out, err, sizeof(err)), 0);
	free(given);
	free(out);
}

static void test_link_differs(void **state)
{
	struct dld_cmap_link *a = *state, *b = calloc(1, sizeof(*b));
	char err[256] = "";

	assert_non_null(b);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, a, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 0);
	/* A node's name is not the link. */
	kv_set("nodelist.node.1.name", KV_STR, "renamed", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 0);
	kv_set("nodelist.node.1.ring1_addr", KV_STR, "127.77.0.9", 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 1);
	table_reset();
	kv_set("nodelist.node.2.ring1_addr", KV_END, NULL, 0);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 1);
	table_reset();
	kv_set("totem.interface.1.mcastport", KV_U16, NULL, 5421);
	assert_int_equal(dld_cmap_load_handle(1, 1, 1, b, err, sizeof(err)), 0);
	assert_int_equal(dld_cmap_link_differs(a, b), 1);
	free(b);
}

static void test_watch_and_membership(void **state)
{
	struct dld_cmap_watch w;
	char err[256] = "";

	(void)state;
	assert_int_equal(dld_cmap_watch_start(&w, err, sizeof(err)), 0);
	assert_int_equal(w.changed, 0);
	assert_int_equal(dld_cmap_watch_dispatch(&w), 0);
	assert_int_equal(w.changed, 1);
	assert_false(dld_cmap_member_gone(&w, 2));
	assert_true(dld_cmap_member_gone(&w, 3));      /* left */
	assert_true(dld_cmap_member_gone(&w, 4));      /* never joined */
	dispatch_rc = CS_ERR_LIBRARY;                   /* corosync went away */
	assert_int_equal(dld_cmap_watch_dispatch(&w), -1);
	assert_int_equal(errno, ENOTCONN);
	dld_cmap_watch_stop(&w);
	assert_int_equal(w.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link1_of_three_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_id_from_cfg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_link_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_without_the_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_port_and_transport, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_nodelists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_from_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_differs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_and_membership, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
