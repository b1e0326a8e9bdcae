/* disklinkd's documentation from the settings table (settings.h): the
 * --help text and the man page's OPTIONS and CONFIGURATION FILE lists
 * (disklinkd --help-man; tests/daemon/test_config_man.c compares them
 * with doc/disklinkd.8). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "settings.h"

#define HELP_COL 22        /* where --help's descriptions start */
#define HELP_WIDTH 78

static bool is_list(const struct dld_setting *s)
{
	return s->kind == DLD_K_PEERS || s->kind == DLD_K_PEER_DEVS;
}

/* One option of --help: its description's lines aligned at HELP_COL. */
static void usage_option(FILE *out, const struct dld_setting *s)
{
	const char *line = s->help;
	char left[64], shopt[8] = "";

	if (s->short_opt)
		snprintf(shopt, sizeof(shopt), "-%c, ", s->short_opt);
	snprintf(left, sizeof(left), "  %s--%s%s%s", shopt, s->opt, s->arg ? " " : "",
		 s->arg ? s->arg : "");
	fprintf(out, "%-*s", HELP_COL - 2, left);
	fprintf(out, "  ");
	for (;;) {
		size_t len = strcspn(line, "\n");

		fprintf(out, "%.*s", (int)len, line);
		if (line == s->help && s->def_text && s->kind == DLD_K_STRING)
			fprintf(out, " (default %s)", s->def_text);
		fputc('\n', out);
		if (!line[len])
			break;
		line += len + 1;
		fprintf(out, "%*s", HELP_COL, "");
	}
}

/* "(500, 50..1000000 us)", "(no)", "(0: 3 header intervals, 0..600000 ms)". */
static void default_text(char *buf, size_t len, const struct dld_setting *s)
{
	char def[64];

	if (s->def_text)
		snprintf(def, sizeof(def), "%s", s->def_text);
	else if (s->kind == DLD_K_BOOL)
		snprintf(def, sizeof(def), "%s", s->def ? "yes" : "no");
	else
		snprintf(def, sizeof(def), "%u", s->def);
	if (s->kind == DLD_K_U32)
		snprintf(buf, len, "(%s, %u..%u %s)", def, s->min, s->max, s->unit);
	else
		snprintf(buf, len, "(%s)", def);
}

/* The config file's keys, wrapped, then the tunables with default and range. */
static void usage_file(FILE *out)
{
	int col = fprintf(out, "Keys:");
	const char *sep = "";
	char def[96];

	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];

		if (!s->key || s->reload != DLD_RELOAD_RESTART)
			continue;
		if (col + (int)(strlen(sep) + strlen(s->key)) + 1 > HELP_WIDTH)
			col = fprintf(out, ",\n ") - 2;
		else
			col += fprintf(out, "%s", sep);
		col += fprintf(out, " %s", s->key);
		sep = ",";
	}
	fprintf(out, ",\nand the tunables, which SIGHUP rereads (default, range):\n");
	for (size_t i = 0; i < dld_settings_count; i++) {
		const struct dld_setting *s = &dld_settings[i];

		if (s->reload != DLD_RELOAD_TUNABLE)
			continue;
		default_text(def, sizeof(def), s);
		fprintf(out, "  %-*s  %s\n", HELP_COL - 4, s->key, def);
	}
}

void dld_settings_usage(FILE *out)
{
	fprintf(out,
		"Usage: disklinkd --device DEV --link N [OPTIONS]          (corosync mode)\n"
		"       disklinkd --device DEV --node-id N --port P --local-addr ADDR\n"
		"                 --peer ID=ADDR [--peer ID=ADDR ...] [OPTIONS]\n"
		"Carries a knet UDP link through a disklink volume.\n\n");
	for (size_t i = 0; i < dld_settings_count; i++)
		if (dld_settings[i].opt && dld_settings[i].help)
			usage_option(out, &dld_settings[i]);
	fprintf(out, "\nThe config file: 'key = value' lines, # comments; the command line "
		"wins.\n");
	usage_file(out);
	fprintf(out, "See disklinkd(8).\n");
}

/* An option's name in roff: "\-\-node\-id". */
static void man_opt(FILE *out, const char *prefix, const char *name)
{
	fputs(prefix, out);
	for (const char *p = name; *p; p++) {
		if (*p == '-')
			fputc('\\', out);
		fputc(*p, out);
	}
}

static void man_option(FILE *out, const struct dld_setting *s)
{
	fprintf(out, ".TP\n");
	if (s->short_opt) {
		fprintf(out, ".BR \\-%c \", \" ", s->short_opt);
		man_opt(out, "\\-\\-", s->opt);
	} else if (s->arg) {
		man_opt(out, ".BI \\-\\-", s->opt);
		fprintf(out, " \" %s\"", s->arg);
	} else {
		man_opt(out, ".B \\-\\-", s->opt);
	}
	fprintf(out, "\n%s\n", s->man);
}

/* A key that is not a tunable: as its option, or its own text. */
static void man_key(FILE *out, const struct dld_setting *s)
{
	fprintf(out, ".TP\n.BI \"%s = \" %s\n", s->key, s->arg);
	if (s->opt) {
		man_opt(out, "As\n.BR \\-\\-", s->opt);
		fprintf(out, " ;\n%sa change needs a restart.\n", is_list(s) ? "one line each; " : "");
	} else {
		fprintf(out, "%s\nA change needs a restart.\n", s->man);
	}
}

static void man_tunable(FILE *out, const struct dld_setting *s)
{
	char def[96];

	default_text(def, sizeof(def), s);
	fprintf(out, ".TP\n.BR %s \" %s\"\n%s\n", s->key, def, s->man);
	if (s->opt)
		man_opt(out, ".B \\-\\-", s->opt);
	if (s->opt)
		fprintf(out, "\nsets it.\n");
}

void dld_settings_man(FILE *out)
{
	fprintf(out, ".SH OPTIONS\n");
	for (size_t i = 0; i < dld_settings_count; i++)
		if (dld_settings[i].opt && dld_settings[i].man)
			man_option(out, &dld_settings[i]);
	fprintf(out, ".SH CONFIGURATION FILE\n"
		"Lines of\n"
		".IR \"key = value\" ;\n"
		".B #\n"
		"starts a comment. Settings given on the command line win.\n"
		".B SIGHUP\n"
		"rereads the tunables; a changed key that is not a tunable is logged as\n"
		"needing a restart. Keys:\n");
	for (size_t i = 0; i < dld_settings_count; i++)
		if (dld_settings[i].key && dld_settings[i].reload == DLD_RELOAD_RESTART)
			man_key(out, &dld_settings[i]);
	fprintf(out, ".PP\nTunables (default, range):\n");
	for (size_t i = 0; i < dld_settings_count; i++)
		if (dld_settings[i].reload == DLD_RELOAD_TUNABLE)
			man_tunable(out, &dld_settings[i]);
}
