/* disklinkd's settings: ONE table (settings.c) that drives the command
 * line (getopt_long and --help), the config file's keys, the defaults,
 * the SIGHUP reload (which settings are reloaded, which need a restart)
 * and the man page's OPTIONS and CONFIGURATION FILE lists
 * (disklinkd --help-man). */
#ifndef DLD_SETTINGS_H
#define DLD_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dld.h"

#define DLD_SETTINGS_MAX 64   /* entries of the table, at most */

enum dld_kind {
	DLD_K_U32,          /* uint32_t, min..max                            */
	DLD_K_BOOL,         /* uint32_t 0/1: yes/no in the file, a switch     */
	DLD_K_I32,          /* int32_t, min..max; the default is -1 (unset)  */
	DLD_K_STRING,       /* char[size]                                    */
	DLD_K_ADDR,         /* char[size]: an IPv4/IPv6 address, checked later */
	DLD_K_PEERS,        /* ID=ADDR, repeatable: cfg->peers               */
	DLD_K_PEER_DEVS,    /* ID=DEV, repeatable: cfg->peer_devs            */
	DLD_K_SWITCH,       /* bool, command line only (--foreground)        */
	DLD_K_ACTION,       /* --help, --version, --help-man                 */
};

enum dld_reload {
	DLD_RELOAD_TUNABLE,   /* in struct dld_tunables: SIGHUP applies it     */
	DLD_RELOAD_RESTART,   /* a change in the file needs a restart (logged) */
	DLD_RELOAD_CMDLINE,   /* command line only                             */
};

enum dld_action { DLD_ACT_NONE, DLD_ACT_HELP, DLD_ACT_VERSION, DLD_ACT_HELP_MAN };

struct dld_setting {
	const char *opt;        /* long option without "--", or NULL          */
	char short_opt;         /* or 0                                       */
	const char *key;        /* config file key, or NULL                   */
	const char *arg;        /* the value's name in --help and the man page */
	enum dld_kind kind;
	enum dld_reload reload;
	enum dld_action action; /* DLD_K_ACTION                               */
	size_t off;             /* offsetof(struct dld_config, field)         */
	size_t size;            /* the field's size                           */
	uint32_t min, max;      /* DLD_K_U32, DLD_K_I32                       */
	const char *unit;       /* "us", "ms", ...: --help and man page       */
	uint32_t def;           /* default of DLD_K_U32 and DLD_K_BOOL        */
	const char *def_text;   /* default of a string, or how the man page
				 * says the default                           */
	void (*def_fn)(char *dst, size_t len); /* a computed default string */
	uint32_t set_bit;       /* enum dld_set: given on the command line     */
	const char *help;       /* --help: one line or "\n"-separated lines;
				 * NULL: not listed (hidden)                  */
	const char *man;        /* roff text of its man page entry            */
};

extern const struct dld_setting dld_settings[];
extern const size_t dld_settings_count;

/* A setting by its config file key, NULL if none. */
const struct dld_setting *dld_setting_by_key(const char *key);

/* Where a setting lives in c. */
void *dld_setting_ptr(const struct dld_setting *s, struct dld_config *c);
const void *dld_setting_cptr(const struct dld_setting *s, const struct dld_config *c);

/* Parse text into s's field of c: 0, or -1 with a one-line reason in
 * err (what: the name the reason gives, "--port" or "port"). */
int dld_setting_parse(const struct dld_setting *s, struct dld_config *c, const char *what,
		      const char *text, char *err, size_t errlen);

/* Equal values of s in a and b (restart-class comparison on reload). */
bool dld_setting_equal(const struct dld_setting *s, const struct dld_config *a,
		       const struct dld_config *b);
/* Copy s's value from src to dst. */
void dld_setting_copy(const struct dld_setting *s, struct dld_config *dst,
		      const struct dld_config *src);

/* settings_doc.c: --help, and the man page's lists (--help-man). */
void dld_settings_usage(FILE *out);
void dld_settings_man(FILE *out);

#endif
