/* The man page's OPTIONS and CONFIGURATION FILE lists are the settings
 * table: doc/disklinkd.8 holds exactly what disklinkd --help-man prints
 * (regenerate it with: disklinkd --help-man, pasted over those sections). */
#include "config.h"

#include "test_config_util.h"

#include "settings.h"

#ifndef MAN_PAGE
#error "MAN_PAGE: the path of doc/disklinkd.8"
#endif

static char *read_all(FILE *f)
{
	char *text = NULL;
	size_t len = 0, n;
	char buf[4096];

	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		text = realloc(text, len + n + 1);
		assert_non_null(text);
		memcpy(text + len, buf, n);
		len += n;
	}
	assert_non_null(text);
	text[len] = 0;
	return text;
}

static void test_man_page_is_the_table(void **state)
{
	FILE *f = fopen(MAN_PAGE, "re"), *mem;
	char *man, *gen = NULL, *next;
	size_t len = 0;

	(void)state;
	assert_non_null(f);
	man = read_all(f);
	fclose(f);
	mem = open_memstream(&gen, &len);
	assert_non_null(mem);
	dld_settings_man(mem);
	fclose(mem);
	if (!strstr(man, gen))
		fail_msg("%s does not hold the lists of disklinkd --help-man: paste them over "
			 ".SH OPTIONS and .SH CONFIGURATION FILE", MAN_PAGE);
	/* and once: the next section follows */
	next = strstr(man, gen) + strlen(gen);
	assert_int_equal(strncmp(next, ".SH ", 4), 0);
	/* every option and key is in it */
	for (size_t i = 0; i < dld_settings_count; i++) {
		if (dld_settings[i].key)
			assert_non_null(strstr(gen, dld_settings[i].key));
	}
	free(gen);
	free(man);
}

/* --help-man prints it and exits (hidden from --help). */
static void test_help_man_option(void **state)
{
	struct dld_config c;
	struct tc_capture cap, out;
	const char *args[] = { "--help-man", NULL };
	bool ex;

	(void)state;
	tc_capture_start(&out, 1);
	assert_int_equal(tc_load(&c, &cap, &ex, args), 0);
	tc_capture_end(&out);
	assert_true(ex);
	assert_ptr_equal(strstr(out.text, ".SH OPTIONS\n.TP\n.BI \\-\\-device \" DEV\"\n"),
			 out.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man_page_is_the_table),
		cmocka_unit_test(test_help_man_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
