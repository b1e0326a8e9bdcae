/* The status reply as shell assignments (`disklink status --shell`):
 * the keys of the JSON document, one `status_KEY='value'` a line, safe
 * to eval.  Nested keys join with '_' (status_io_writes); peer N (from
 * 0) is status_peerN_KEY, and status_peer_count says how many.  Values
 * are single-quoted ('\'' inside); control characters become '?' and
 * bytes that are not UTF-8 U+FFFD, so that every line is one key and
 * valid text.  null is '' and booleans are 'true' or 'false'. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "ctx.h"
#include "text.h"
#include "status_view.h"

#define SHELL_PREFIX_MAX 64

struct shell_sink {
	struct dld_status_sink sink;   /* first: the walk hands it back     */
	FILE *out;
	bool in_peers;                 /* inside the "peers" array          */
	uint32_t peer;                 /* elements of it opened so far      */
	char prefix[SHELL_PREFIX_MAX]; /* "status_" or "status_peerN_"      */
};

static struct shell_sink *sh(struct dld_status_sink *s)
{
	return (struct shell_sink *)s;
}

static void key(struct shell_sink *s, const char *k)
{
	fprintf(s->out, "%s%s=", s->prefix, k);
}

static void s_open(struct dld_status_sink *base, const char *k, char kind)
{
	struct shell_sink *s = sh(base);

	if (kind == '[') {
		s->in_peers = true;
		s->peer = 0;
	} else if (s->in_peers && !k) {
		snprintf(s->prefix, sizeof(s->prefix), "status_peer%" PRIu32 "_", s->peer++);
	} else if (k) {
		snprintf(s->prefix, sizeof(s->prefix), "status_%s_", k);
	}
}

static void s_close(struct dld_status_sink *base, char kind)
{
	struct shell_sink *s = sh(base);

	if (kind == ']') {
		s->in_peers = false;
		key(s, "peer_count");
		fprintf(s->out, "'%" PRIu32 "'\n", s->peer);
	}
	snprintf(s->prefix, sizeof(s->prefix), "status_");
}

static void s_str(struct dld_status_sink *base, const char *k, const char *v)
{
	key(sh(base), k);
	dl_sh_str(sh(base)->out, v);
	fputc('\n', sh(base)->out);
}

static void s_u64(struct dld_status_sink *base, const char *k, uint64_t v)
{
	key(sh(base), k);
	fprintf(sh(base)->out, "'%" PRIu64 "'\n", v);
}

static void s_i64(struct dld_status_sink *base, const char *k, int64_t v)
{
	key(sh(base), k);
	fprintf(sh(base)->out, "'%" PRId64 "'\n", v);
}

static void s_bool(struct dld_status_sink *base, const char *k, bool v)
{
	key(sh(base), k);
	fprintf(sh(base)->out, "'%s'\n", v ? "true" : "false");
}

static void s_null(struct dld_status_sink *base, const char *k)
{
	key(sh(base), k);
	fputs("''\n", sh(base)->out);
}

void dld_status_shell(struct dld_ctx *ctx, FILE *out)
{
	struct dld_status_view v;
	struct shell_sink ss = {
		.sink = { .open = s_open, .close = s_close, .str = s_str, .u64 = s_u64,
			  .i64 = s_i64, .boolean = s_bool, .null = s_null },
		.out = out,
		.prefix = "status_",
	};

	dld_status_view(ctx, &v);
	dld_status_emit(&v, &ss.sink);
}
