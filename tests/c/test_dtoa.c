/*
 * test_dtoa.c - the shortest round-trip double-to-decimal conversion (dtoa.c), built with
 * ASan+UBSan.
 *
 * Each output is written into the last JP_DTOA_MAX bytes before an unwritable page, so a write
 * past the documented maximum faults. Three kinds of check:
 *   - fixed doubles against the strings Python's repr() gives for them (pasted from
 *     CPython 3.11), covering zero and its sign, the subnormal range and its ends, DBL_MAX, the
 *     switch between fixed and exponent notation on both sides, ties between two candidates,
 *     and nan / inf;
 *   - sweeps: every power of two (their significand field is zero, so the double below is
 *     nearer than the one above) and its neighbours, every "1eN", integers around 2^53 and
 *     quarters around 2^50, the first few thousand subnormals;
 *   - DTOA_TEST_RANDOM (default 2,000,000) random bit patterns and half as many short
 *     decimals "MeN", each checked by the oracle of dtoa_check.h (strtod reads it back, it is the
 *     nearest decimal of its length, no shorter decimal reads back, repr's layout).
 */
#include "dtoa.h"
#include "dtoa_check.h"
#include "jp_test.h"

#include <float.h>
#include <stdint.h>

static jp_guard guard;
static char *guard_out;

static double
from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static size_t
repr_into_guard(double d)
{
    return jp_dtoa_repr(d, guard_out);
}

/* Checks d with the oracle; returns 1 when it passed. */
static int
check_one(double d)
{
    size_t n = repr_into_guard(d);
    char why[256];
    int ok = dtoa_check(d, guard_out, n, why, sizeof(why));
    CHECK(ok, "%s", why);
    return ok;
}

static void
check_exact(uint64_t bits, const char *want)
{
    double d = from_bits(bits);
    size_t n = repr_into_guard(d);
    CHECK(n == strlen(want) && memcmp(guard_out, want, n) == 0, "%016llx: \"%.*s\", want \"%s\"",
          (unsigned long long)bits, (int)n, guard_out, want);
    if (isfinite(d))
        check_one(d);
}

static void
test_fixed(void)
{
    static const struct {
        uint64_t bits;
        const char *repr;
    } cases[] = {
        {0x0000000000000000u, "0.0"},
        {0x8000000000000000u, "-0.0"},
        {0x0000000000000001u, "5e-324"}, /* the smallest subnormal */
        {0x8000000000000001u, "-5e-324"},
        {0x0000000000000002u, "1e-323"},
        {0x0000000000000003u, "1.5e-323"},
        {0x000fffffffffffffu, "2.225073858507201e-308"},   /* the largest subnormal */
        {0x0010000000000000u, "2.2250738585072014e-308"},  /* the smallest normal */
        {0x8008e0a3a2bc301fu, "-1.2345678901234567e-308"}, /* the longest output */
        {0x7fefffffffffffffu, "1.7976931348623157e+308"},  /* DBL_MAX */
        {0x7fe0000000000000u, "8.98846567431158e+307"},    /* 2^1023 */
        {0x3fb999999999999au, "0.1"},
        {0x3fd3333333333333u, "0.3"},
        {0x3fd3333333333334u, "0.30000000000000004"},
        {0x3fd5555555555555u, "0.3333333333333333"}, /* 1/3 */
        {0x3fe5555555555555u, "0.6666666666666666"},
        {0x3fe0000000000000u, "0.5"},
        {0xbff4000000000000u, "-1.25"},
        {0x3ff0000000000000u, "1.0"},
        {0x4059000000000000u, "100.0"},
        {0x405edd2f1a9fbe77u, "123.456"},
        {0x3f50624dd2f1a9fcu, "0.001"},
        {0x3f5061e273273f09u, "0.0009999"},
        {0x3f1a36e2eb1c432du, "0.0001"}, /* decpt -3: still fixed */
        {0x3f202e4b6ce5dc68u, "0.00012345"},
        {0x3ee4f8b588e368f1u, "1e-05"}, /* decpt -4: exponent notation */
        {0x3e8421f5f40d8376u, "1.5e-07"},
        {0x42dc12218377de66u, "123456789012345.6"},
        {0x430c6bf526340000u, "1000000000000000.0"}, /* 1e15: fixed, ".0" */
        {0x430c6bf526340004u, "1000000000000000.5"},
        {0x43118b54f22aeb03u, "1234567890123456.8"},
        {0x4341c37937e07fffu, "9999999999999998.0"}, /* decpt 16: still fixed */
        {0x4341c37937e08000u, "1e+16"},              /* decpt 17: exponent notation */
        {0x433fffffffffffffu, "9007199254740991.0"}, /* 2^53 - 1 */
        {0x4340000000000000u, "9007199254740992.0"}, /* 2^53 */
        {0x4340000000000001u, "9007199254740994.0"},
        {0x4350000000000000u, "1.8014398509481984e+16"}, /* 2^54 */
        {0x4310000000000001u, "1125899906842624.2"},     /* 2^50 + 1/4: a tie, to the even 2 */
        {0x4376345785d8a000u, "1e+17"},
        {0x43e56a95319d63e1u, "1.2345678901234567e+19"},
        {0x4480f0cf064dd592u, "1e+22"},
        {0x44b52d02c7e14af6u, "1e+23"},
        {0x54b249ad2594c37du, "1e+100"},
        {0x01aa74fe1c1e8908u, "1.2345678901234568e-300"},
        /* The two doubles whose 4 v / 10^k lies within 2^-63 above an (odd) integer, as
         * found by scripts/gen_dtoa_table.py: c = 5592117679628511, q = 163 and
         * c = 8887055249355788, q = 664. */
        {0x4d63de005bd620dfu, "6.538311315939327e+64"},
        {0x6cbf92bacb3cb40cu, "6.802601037806062e+215"},
        {0x7ff0000000000000u, "inf"},
        {0xfff0000000000000u, "-inf"},
        {0x7ff8000000000000u, "nan"},
        {0xfff8000000000001u, "nan"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_exact(cases[i].bits, cases[i].repr);
}

static void
test_sweeps(void)
{
    /* Every power of two, both signs, with the doubles on either side (2^1023's upper
     * neighbour is finite too). */
    for (int e = -1074; e <= 1023; e++) {
        double p = ldexp(1.0, e);
        check_one(p);
        check_one(-p);
        check_one(nextafter(p, 0));
        check_one(nextafter(p, INFINITY));
    }
    /* Every power of ten a double can approximate, and its neighbours. */
    for (int e = -323; e <= 308; e++) {
        char s[16];
        snprintf(s, sizeof(s), "1e%d", e);
        double p = strtod(s, NULL);
        check_one(p);
        check_one(nextafter(p, 0));
        if (e < 308)
            check_one(nextafter(p, INFINITY));
    }
    /* Integers around 2^53 (where doubles stop holding every integer) and 2^54, 10^15..10^17. */
    static const double bases[] = {9007199254740992.0, 18014398509481984.0, 1e15, 1e16, 1e17};
    for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
        for (int i = -2000; i <= 2000; i++)
            check_one(bases[b] + i);
    /* Quarters around 2^50: half of them are ties between two 17-digit candidates. */
    for (int i = -2000; i <= 2000; i++)
        check_one(1125899906842624.0 + i * 0.25);
    /* The first subnormals, and the last before the normals. */
    for (uint64_t c = 1; c < 5000; c++) {
        check_one(from_bits(c));
        check_one(from_bits(0x0010000000000000u - c));
    }
    CHECK(repr_into_guard(DBL_MIN) == strlen("2.2250738585072014e-308"), "DBL_MIN");
}

static void
test_random(unsigned long count)
{
    unsigned long failed = 0;
    for (unsigned long i = 0; i < count && failed < 20; i++) {
        double d = from_bits(jp_test_rng());
        if (isfinite(d))
            failed += !check_one(d);
    }
    /* Half as many short decimals: M x 10^E with M of 1 to 17 digits, through strtod. */
    for (unsigned long i = 0; i < count / 2 && failed < 20; i++) {
        uint64_t r = jp_test_rng();
        int digits = 1 + (int)(r % 17);
        uint64_t m = jp_test_rng() % (uint64_t)pow(10, digits);
        int e = (int)((r >> 8) % 650) - 340;
        char s[48];
        snprintf(s, sizeof(s), "%llue%d", (unsigned long long)m, e);
        double d = strtod(s, NULL);
        if (isfinite(d))
            failed += !check_one(d);
    }
}

int
main(void)
{
    jp_guard_open(&guard, JP_DTOA_MAX);
    guard_out = guard.base + guard.size - JP_DTOA_MAX;

    test_fixed();
    test_sweeps();
    const char *env = getenv("DTOA_TEST_RANDOM");
    test_random(env ? strtoul(env, NULL, 10) : 2000000ul);

    jp_guard_close(&guard);
    return JP_TEST_SUMMARY("test_dtoa");
}
