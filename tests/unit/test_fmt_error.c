/* Decoder errors (lib/fmt_error.c): dl_fail sets the reason and errno,
 * every reason has a text. */
#include "test_util.h"

#include "fmt_error.h"

static void test_fail(void **state)
{
	enum dl_err why = DL_OK;

	(void)state;
	errno = 0;
	assert_int_equal(dl_fail(&why, DL_E_CRC, EBADMSG), -1);
	assert_int_equal(why, DL_E_CRC);
	assert_int_equal(errno, EBADMSG);
	/* No reason wanted: errno only. */
	assert_int_equal(dl_fail(NULL, DL_E_MAGIC, EMEDIUMTYPE), -1);
	assert_int_equal(errno, EMEDIUMTYPE);
	assert_int_equal(why, DL_E_CRC);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = DL_OK; e < DL_E_MAX; e++) {
		assert_non_null(dl_strerror((enum dl_err)e));
		assert_string_not_equal(dl_strerror((enum dl_err)e), "unknown error");
	}
	assert_string_equal(dl_strerror(DL_E_MAX), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
