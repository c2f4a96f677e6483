/* SPDX-License-Identifier: MIT */
/* Host-side unit tests of the guest runtime's pure C parts: printf and cmdline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rt.h"
#include "internal.h"

/* printf.c serialises output with these; the host tests never print. */
void rt_lock(rt_lock_t *l)
{
	l->v = 1;
}

void rt_unlock(rt_lock_t *l)
{
	l->v = 0;
}

static char buf[128];

/* Not format-checked, for malformed formats the compiler would reject. */
static int raw_fmt(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return n;
}

#define FMT(want, ...)                                                                             \
	do {                                                                                       \
		int n_ = rt_snprintf(buf, sizeof(buf), __VA_ARGS__);                               \
		assert_string_equal(buf, want);                                                    \
		assert_int_equal(n_, (int)strlen(want));                                           \
	} while (0)

static void test_printf_ints(void **state)
{
	(void)state;
	FMT("0 -1 42", "%d %d %u", 0, -1, 42u);
	FMT("-9223372036854775808", "%ld", (int64_t)INT64_MIN);
	FMT("18446744073709551615", "%lu", UINT64_MAX);
	FMT("ffffffff", "%x", 0xffffffffu);
	FMT("DEADBEEF", "%X", 0xdeadbeefu);
	FMT("123456789abcdef0", "%llx", 0x123456789abcdef0ULL);
	FMT("fe000000", "%lx", 0xfe000000UL);
	FMT("2147483647 -2147483648", "%i %d", INT32_MAX, INT32_MIN);
}

static void test_printf_widths(void **state)
{
	(void)state;
	FMT("[   42]", "[%5d]", 42);
	FMT("[42   ]", "[%-5d]", 42);
	FMT("[00042]", "[%05d]", 42);
	FMT("[-0042]", "[%05d]", -42);
	FMT("[  -42]", "[%5d]", -42);
	FMT("[0x00ff]", "[0x%04x]", 0xff);
	FMT("[123456]", "[%3d]", 123456);
	FMT("[  ab]", "[%4s]", "ab");
	FMT("[ab  ]", "[%-4s]", "ab");
	FMT("0x0000000000001000", "0x%016lx", 0x1000UL);
}

static void test_printf_misc(void **state)
{
	(void)state;
	FMT("a%c", "a%%c");
	FMT("x", "%c", 'x');
	FMT("0x1234", "%p", (void *)0x1234);
	assert_int_equal(raw_fmt("%s", (char *)NULL), 6);
	assert_string_equal(buf, "(null)");
	assert_int_equal(raw_fmt("%q"), 2);
	assert_string_equal(buf, "%q");
	assert_int_equal(raw_fmt("end%"), 3);
	assert_string_equal(buf, "end");
}

static void test_printf_truncation(void **state)
{
	char small[8];
	int n;

	(void)state;
	memset(small, 'Z', sizeof(small));
	n = rt_snprintf(small, sizeof(small), "%s", "0123456789");
	assert_int_equal(n, 10);
	assert_string_equal(small, "0123456");
	n = rt_snprintf(small, 1, "%d", 12345);
	assert_int_equal(n, 5);
	assert_int_equal(small[0], 0);
	n = rt_snprintf(NULL, 0, "%d", 12345);
	assert_int_equal(n, 5);
}

static void test_cmdline(void **state)
{
	const char *v;

	(void)state;
	rt_cmdline_parse("a=1 b  c=x=y d= e=2 a=3\tf");
	assert_non_null(v = rt_cmdline_get("a"));
	assert_string_equal(v, "3");
	assert_string_equal(rt_cmdline_get("b"), "");
	assert_string_equal(rt_cmdline_get("c"), "x=y");
	assert_string_equal(rt_cmdline_get("d"), "");
	assert_string_equal(rt_cmdline_get("f"), "");
	assert_null(rt_cmdline_get("x"));
	assert_null(rt_cmdline_get("a=1"));
	assert_int_equal(rt_cmdline_u64("e", 7), 2);
	assert_int_equal(rt_cmdline_u64("c", 7), 7);
	rt_cmdline_parse("n=0x10 m=18446744073709551615 o=18446744073709551616 p=0x q=12a r=0XfF");
	assert_int_equal(rt_cmdline_u64("n", 0), 16);
	assert_true(rt_cmdline_u64("m", 0) == UINT64_MAX);
	assert_int_equal(rt_cmdline_u64("o", 5), 5);
	assert_int_equal(rt_cmdline_u64("p", 5), 5);
	assert_int_equal(rt_cmdline_u64("q", 5), 5);
	assert_int_equal(rt_cmdline_u64("r", 5), 255);
	rt_cmdline_parse("   ");
	assert_null(rt_cmdline_get("n"));
}

static void test_cmdline_limits(void **state)
{
	static char big[9000];
	char key[16];
	size_t len;
	int i;

	(void)state;
	/* more words than the parser keeps: the first 64 are found, nothing overflows */
	for (i = 0, len = 0; i < 100; i++) {
		rt_snprintf(key, sizeof(key), "k%d=%d ", i, i);
		memcpy(big + len, key, strlen(key) + 1);
		len += strlen(key);
	}
	rt_cmdline_parse(big);
	assert_int_equal(rt_cmdline_u64("k0", 999), 0);
	assert_int_equal(rt_cmdline_u64("k63", 999), 63);
	assert_int_equal(rt_cmdline_u64("k64", 999), 999);
	/* longer than the 4 KiB copy: truncated, not overrun */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	big[1] = '=';
	rt_cmdline_parse(big);
	assert_int_equal(strlen(rt_cmdline_get("a")), 4095 - 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_printf_ints), cmocka_unit_test(test_printf_widths),
	    cmocka_unit_test(test_printf_misc), cmocka_unit_test(test_printf_truncation),
	    cmocka_unit_test(test_cmdline),	cmocka_unit_test(test_cmdline_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
