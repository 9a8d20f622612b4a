/*
 * fuzz_dtoa.c - libFuzzer target for the double-to-decimal conversion (dtoa.h).
 *
 * Input: 8 bytes (fewer are zero-padded, more are ignored), read as the bits of a double in
 * the machine's byte order. NaN and the infinities are checked to give "nan" / "inf" / "-inf"
 * and are otherwise skipped; every finite double must pass the oracle of dtoa_check.h: it
 * reads back as itself, it is the nearest decimal of its length that does, no shorter decimal
 * does, and it is laid out as repr() lays it out. The output goes into a heap block of exactly
 * JP_DTOA_MAX bytes, so that a write past the documented maximum is an ASan report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtoa.h"
#include "dtoa_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t bits = 0;
    memcpy(&bits, data, size < sizeof(bits) ? size : sizeof(bits));
    double d;
    memcpy(&d, &bits, sizeof(d));

    char *out = malloc(JP_DTOA_MAX);
    if (out == NULL)
        return 0;
    size_t n = jp_dtoa_repr(d, out);
    if (!isfinite(d)) {
        const char *want = isnan(d) ? "nan" : signbit(d) ? "-inf" : "inf";
        if (n != strlen(want) || memcmp(out, want, n) != 0) {
            fprintf(stderr, "%016llx: \"%.*s\", want \"%s\"\n", (unsigned long long)bits, (int)n,
                    out, want);
            abort();
        }
        free(out);
        return 0;
    }
    char why[256];
    if (!dtoa_check(d, out, n, why, sizeof(why))) {
        fprintf(stderr, "%016llx: %s\n", (unsigned long long)bits, why);
        abort();
    }
    free(out);
    return 0;
}
