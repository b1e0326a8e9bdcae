/* The status reply as JSON (the pinned interface of `disklink status
 * --json`, doc/disklinkd.8): the status view through the JSON writer. */
#include "config.h"

#include <stdio.h>

#include "ctx.h"
#include "json.h"
#include "status_view.h"

struct json_sink {
	struct dld_status_sink sink;   /* first: the walk hands it back     */
	struct dl_json j;
};

static struct dl_json *jw(struct dld_status_sink *s)
{
	return &((struct json_sink *)s)->j;
}

static void j_open(struct dld_status_sink *s, const char *key, char kind)
{
	if (kind == '[')
		dl_json_arr(jw(s), key);
	else
		dl_json_obj(jw(s), key);
}

static void j_close(struct dld_status_sink *s, char kind)
{
	dl_json_end(jw(s), kind);
}

static void j_str(struct dld_status_sink *s, const char *key, const char *v)
{
	dl_json_string(jw(s), key, v);
}

static void j_u64(struct dld_status_sink *s, const char *key, uint64_t v)
{
	dl_json_u64(jw(s), key, v);
}

static void j_i64(struct dld_status_sink *s, const char *key, int64_t v)
{
	dl_json_i64(jw(s), key, v);
}

static void j_bool(struct dld_status_sink *s, const char *key, bool v)
{
	dl_json_bool(jw(s), key, v);
}

static void j_null(struct dld_status_sink *s, const char *key)
{
	dl_json_null(jw(s), key);
}

void dld_status_json(struct dld_ctx *ctx, FILE *out)
{
	struct dld_status_view v;
	struct json_sink js = {
		.sink = { .open = j_open, .close = j_close, .str = j_str, .u64 = j_u64,
			  .i64 = j_i64, .boolean = j_bool, .null = j_null },
	};

	dld_status_view(ctx, &v);
	dl_json_init(&js.j, out);
	dld_status_emit(&v, &js.sink);
	fputc('\n', out);
}
