/*
 * dtoa_check.h - the oracle shared by test_dtoa.c and fuzz_dtoa.c (header-only, test code
 * only): is a string exactly what repr() writes for a finite double?
 *
 * It asks the C library, not dtoa.c's logic. glibc's printf "%.*e" is exact and follows the
 * rounding mode: to nearest (ties to even, as repr's choice is) it gives the nearest decimal
 * of a length, upward and downward the nearest above and below. The decimals that read back
 * as d are those in an interval around d, so the nearest of a length that reads back is the
 * nearest overall when that reads back, else the nearest on the other side of d; and if any
 * decimal shorter than n digits read back, so would the one just above or just below d with
 * n - 1 digits (it lies between d and that decimal). With n the number of significant digits
 * of the string under test, the checks are:
 *   - strtod reads the string back as the same double (the sign of zero included);
 *   - the string is the nearest n-digit decimal that reads back as d, laid out by
 *     dtoa_check_layout, a second, plainer writing of repr's rules (fixed for
 *     -4 < decpt <= 16 with ".0" when integral, else d.ddde+XX with at least two exponent
 *     digits);
 *   - neither (n-1)-digit decimal next to d reads back as d.
 * Between two strings, the rounding mode is left to nearest as it was found.
 */
#ifndef JP_DTOA_CHECK_H
#define JP_DTOA_CHECK_H

#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The significant digits of s ("-0.00120" -> "12") into digits; returns their count. */
static inline size_t
dtoa_check_digits(const char *s, size_t len, char *digits)
{
    size_t n = 0;
    for (size_t i = 0; i < len && s[i] != 'e'; i++) {
        if (s[i] >= '0' && s[i] <= '9' && (n > 0 || s[i] != '0'))
            digits[n++] = s[i];
    }
    while (n > 0 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    return n;
}

/* repr's layout of 0.D x 10^decpt, D = digits (no trailing zeros), written plainly. */
static inline void
dtoa_check_layout(const char *digits, int decpt, int negative, char *out, size_t size)
{
    int m = (int)strlen(digits);
    const char *sign = negative ? "-" : "";
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0)
            snprintf(out, size, "%s0.%.*s%s", sign, -decpt, "0000", digits);
        else if (decpt >= m)
            snprintf(out, size, "%s%s%.*s.0", sign, digits, decpt - m, "0000000000000000");
        else
            snprintf(out, size, "%s%.*s.%s", sign, decpt, digits, digits + decpt);
    } else if (m == 1) {
        snprintf(out, size, "%s%se%+03d", sign, digits, decpt - 1);
    } else {
        snprintf(out, size, "%s%c.%se%+03d", sign, digits[0], digits + 1, decpt - 1);
    }
}

static inline int
dtoa_check_same(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

/* |d| to n significant digits as "%.*e" in rounding mode mode (FE_TONEAREST, FE_UPWARD,
 * FE_DOWNWARD) into buf; returns 1 when that decimal reads back as |d|. */
static inline int
dtoa_check_round(double d, int n, int mode, char *buf, size_t size)
{
    fesetround(mode);
    snprintf(buf, size, "%.*e", n - 1, fabs(d));
    fesetround(FE_TONEAREST);
    return dtoa_check_same(strtod(buf, NULL), fabs(d));
}

/* The nearest n-digit decimal that reads back as d (there is one: the caller has one):
 * its significant digits (no trailing zeros) and decpt. */
static inline void
dtoa_check_nearest(double d, int n, char *digits, int *decpt)
{
    char buf[64];
    if (!dtoa_check_round(d, n, FE_TONEAREST, buf, sizeof(buf))) {
        int below = strtod(buf, NULL) < fabs(d);
        dtoa_check_round(d, n, below ? FE_UPWARD : FE_DOWNWARD, buf, sizeof(buf));
    }
    const char *e = strchr(buf, 'e');
    dtoa_check_digits(buf, (size_t)(e - buf), digits);
    *decpt = atoi(e + 1) + 1;
}

/* 1 when s[0..len) is repr(d) for a finite d; otherwise 0 with the reason in why. */
static inline int
dtoa_check(double d, const char *s, size_t len, char *why, size_t why_size)
{
    char str[64];
    if (len == 0 || len >= 25) {
        snprintf(why, why_size, "length %zu", len);
        return 0;
    }
    memcpy(str, s, len);
    str[len] = '\0';

    char *end;
    double back = strtod(str, &end);
    if (end != str + len || !dtoa_check_same(back, d)) {
        snprintf(why, why_size, "\"%s\" reads back as %a, not %a", str, back, d);
        return 0;
    }
    if (d == 0) {
        const char *want = signbit(d) ? "-0.0" : "0.0";
        if (strcmp(str, want) != 0) {
            snprintf(why, why_size, "\"%s\" for %s", str, want);
            return 0;
        }
        return 1;
    }

    char ours[32];
    int n = (int)dtoa_check_digits(str, len, ours);
    char near[32];
    int decpt;
    dtoa_check_nearest(d, n, near, &decpt);
    char want[64];
    dtoa_check_layout(near, decpt, signbit(d) != 0, want, sizeof(want));
    if (strcmp(str, want) != 0) {
        snprintf(why, why_size,
                 "\"%s\" for %a, but the nearest %d-digit decimal that reads back is \"%s\"", str,
                 d, n, want);
        return 0;
    }
    for (int i = 0; n > 1 && i < 2; i++) {
        char shorter[64];
        if (dtoa_check_round(d, n - 1, i ? FE_UPWARD : FE_DOWNWARD, shorter, sizeof(shorter))) {
            snprintf(why, why_size, "\"%s\" for %a, but the shorter \"%s\" reads back too", str, d,
                     shorter);
            return 0;
        }
    }
    return 1;
}

#endif /* JP_DTOA_CHECK_H */
