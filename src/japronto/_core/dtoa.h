/*
 * dtoa.h - a double as Python's repr() writes it (layer 0: pure C, no Python.h).
 *
 * The JSON encoder (json.c) writes floats as json.dumps does, which is float.__repr__: the
 * shortest decimal that reads back as the same double, the closest to it among those of that
 * length (ties to an even last digit), laid out as
 *
 *   - fixed notation when -4 < decpt <= 16, where the value is 0.d1d2... x 10^decpt, with ".0"
 *     added to an integral value: "1000000000000000.0", "0.0001", "123.456";
 *   - otherwise d[.ddd]e<sign><at least two exponent digits>, with no ".0" in the mantissa:
 *     "1e+16", "1e-05", "1.5e-07", "1.7976931348623157e+308", "5e-324";
 *   - "-" in front of a negative value, "-0.0" included.
 *
 * Nothing here allocates or keeps state; the caller owns the buffer.
 */
#ifndef JP_DTOA_H
#define JP_DTOA_H

#include <stddef.h>

/* The most jp_dtoa_repr writes (the longest output is 24 bytes, "-1.2345678901234567e-308";
 * the rest is slack, so that callers can reserve a round number). No NUL is written. */
#define JP_DTOA_MAX 32

/* Writes repr(d) into out, which must have room for JP_DTOA_MAX bytes, and returns the number
 * of bytes written (at most 24). NaN and the infinities give "nan", "inf" and "-inf" as repr
 * does (a NaN's sign is not shown); whether they are acceptable is the caller's business
 * (json.c raises ValueError before calling). Never fails, never touches global state. */
size_t jp_dtoa_repr(double d, char *out);

#endif /* JP_DTOA_H */
