/* Text helpers (lib/text.c): trimming in place, parse errors into a
 * message buffer, names in on-disk fields, shell words (JSON:
 * test_json.c). */
#include "test_util.h"

#include "text.h"

static void test_trim(void **state)
{
	char a[] = "  \t key: value \r\n";
	char b[] = "\v\f";
	char c[] = "x";
	char d[] = "";
	char e[] = "in  side";

	(void)state;
	assert_string_equal(dl_trim(a), "key: value");
	assert_ptr_equal(dl_trim(a), a + 4);
	assert_string_equal(dl_trim(b), "");
	assert_string_equal(dl_trim(c), "x");
	assert_string_equal(dl_trim(d), "");
	assert_string_equal(dl_trim(e), "in  side");
}

static void test_fail_msg(void **state)
{
	char err[64], small[8];

	(void)state;
	errno = 0;
	assert_int_equal(dl_fail_msg(err, sizeof(err), EINVAL, "line %d: bad '%s'", 3, "x"), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "line 3: bad 'x'");
	/* The errno given wins over whatever formatting left. */
	assert_int_equal(dl_fail_msg(small, sizeof(small), ENOMEM, "%s", "out of memory"), -1);
	assert_int_equal(errno, ENOMEM);
	assert_string_equal(small, "out of ");
}

static void test_name_field(void **state)
{
	char f[8];

	(void)state;
	memset(f, 0, sizeof(f));
	strcpy(f, "node-1");
	assert_true(dl_name_field_valid(f, sizeof(f), false));
	memset(f, 0, sizeof(f));
	strcpy(f, "a b~");
	assert_true(dl_name_field_valid(f, sizeof(f), false));
	/* Empty: only where allowed. */
	memset(f, 0, sizeof(f));
	assert_false(dl_name_field_valid(f, sizeof(f), false));
	assert_true(dl_name_field_valid(f, sizeof(f), true));
	/* Filling the field: no terminator inside it. */
	memcpy(f, "12345678", 8);
	assert_false(dl_name_field_valid(f, sizeof(f), true));
	memcpy(f, "1234567", 8);
	assert_true(dl_name_field_valid(f, sizeof(f), true));
	/* Not printable ASCII. */
	memset(f, 0, sizeof(f));
	f[0] = 'a';
	f[1] = '\t';
	assert_false(dl_name_field_valid(f, sizeof(f), true));
	f[1] = (char)0x7f;
	assert_false(dl_name_field_valid(f, sizeof(f), true));
	f[1] = (char)0xc3;
	assert_false(dl_name_field_valid(f, sizeof(f), true));
	/* Garbage after the terminator. */
	memset(f, 0, sizeof(f));
	f[0] = 'a';
	f[5] = 'x';
	assert_false(dl_name_field_valid(f, sizeof(f), true));
}

static void test_sh_str(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	out = open_memstream(&buf, &len);
	assert_non_null(out);
	dl_sh_str(out, "it's $(x)\n\x01\xff\xc3\xa9");
	dl_sh_str(out, "");
	assert_int_equal(fclose(out), 0);
	assert_string_equal(buf, "'it'\\''s $(x)??\xef\xbf\xbd\xc3\xa9'''");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_fail_msg),
		cmocka_unit_test(test_name_field),
		cmocka_unit_test(test_sh_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
