/* The JSON writer (lib/json.c): string literals stay valid JSON whatever
 * the bytes (valid UTF-8 passes, anything else becomes U+FFFD), and the
 * writer's commas and nesting. */
#include "test_util.h"

#include "json.h"

static char *lit(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct dl_json j;

	assert_non_null(out);
	dl_json_init(&j, out);
	dl_json_string(&j, NULL, s);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static void check_lit(const char *in, const char *want)
{
	char *got = lit(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_escapes(void **state)
{
	(void)state;
	check_lit("a\"b\\c\n\x01\x7f", "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\"");
	check_lit("", "\"\"");
}

static void test_utf8_passes(void **state)
{
	(void)state;
	/* é, €, U+10348, U+10FFFF: unchanged. */
	check_lit("\xc3\xa9", "\"\xc3\xa9\"");
	check_lit("n\xe2\x82\xac", "\"n\xe2\x82\xac\"");
	check_lit("\xf0\x90\x8d\x88", "\"\xf0\x90\x8d\x88\"");
	check_lit("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	/* Latin-1 é, a lone continuation byte, a cut sequence. */
	check_lit("caf\xe9", "\"caf\\ufffd\"");
	check_lit("\x80x", "\"\\ufffdx\"");
	check_lit("\xe2\x82", "\"\\ufffd\\ufffd\"");
	/* Overlong '/', a surrogate, past U+10FFFF, 0xff. */
	check_lit("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	check_lit("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	check_lit("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check_lit("\xff", "\"\\ufffd\"");
	assert_int_equal(dl_utf8_len((const unsigned char *)"\xe0\x9f\x80"), 0);
	assert_int_equal(dl_utf8_len((const unsigned char *)"\xe0\xa0\x80"), 3);
}

static void test_writer(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct dl_json j;

	(void)state;
	assert_non_null(out);
	dl_json_init(&j, out);
	dl_json_obj(&j, NULL);
	dl_json_u64(&j, "format_version", DL_JSON_FORMAT_VERSION);
	dl_json_string(&j, "name", "n\xff");
	dl_json_i64(&j, "lag", -1);
	dl_json_arr(&j, "peers");
	dl_json_obj(&j, NULL);
	dl_json_bool(&j, "up", true);
	dl_json_null(&j, "x");
	dl_json_end(&j, '}');
	dl_json_obj(&j, NULL);
	dl_json_end(&j, '}');
	dl_json_end(&j, ']');
	dl_json_bool(&j, "last", false);
	dl_json_fixed(&j, "age_s", 1.23456, 3);
	dl_json_fixed(&j, "nan", 0.0 / 0.0, 3);
	dl_json_end(&j, '}');
	assert_int_equal(fclose(out), 0);
	assert_string_equal(buf, "{\"format_version\":1,\"name\":\"n\\ufffd\",\"lag\":-1,"
			    "\"peers\":[{\"up\":true,\"x\":null},{}],\"last\":false,"
			    "\"age_s\":1.235,\"nan\":null}");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8_passes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
