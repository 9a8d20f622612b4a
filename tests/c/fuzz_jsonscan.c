/*
 * fuzz_jsonscan.c - libFuzzer target for the byte-level JSON pieces (jsonscan.h).
 *
 * The input, copied into a heap block of exactly its size (so that a read past it is an ASan
 * report), is read as a string body (the bytes after an opening quote) and as a number, at
 * offset 0 and at the offset given by the first byte:
 *   - jp_jscan_string and jp_jscan_string_any on both paths (SSE2 blocks and words) agree
 *     with a byte-by-byte reference, and the end lies inside the input;
 *   - a body it accepts unescapes into a block of exactly the body's size (the output is
 *     never longer), and when the body has no byte >= 0x80 the output is valid UTF-8 with no
 *     surrogate (every escape wrote a whole, shortest sequence), reported as non-ASCII iff
 *     it has a byte >= 0x80;
 *   - jp_jscan_number agrees with a reference written as a state machine, a small
 *     integer's value is what strtoll reads from the token, and a float's fast double
 *     (when it applies) is strtod's to the bit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_jsonscan: %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int
ref_scan(const unsigned char *s, size_t at, size_t len, jp_jscan_str *out)
{
    int esc = 0, high = 0;
    for (size_t i = at; i < len; i++) {
        if (s[i] == '"') {
            out->end = i;
            out->escaped = esc;
            out->non_ascii = high;
            return 0;
        }
        if (s[i] < 0x20)
            return JP_JSCAN_CONTROL;
        high |= s[i] >= 0x80;
        if (s[i] == '\\') {
            esc = 1;
            if (++i >= len)
                return JP_JSCAN_UNTERMINATED;
            high |= s[i] >= 0x80;
        }
    }
    return JP_JSCAN_UNTERMINATED;
}

/* Length of the valid, shortest, non-surrogate UTF-8 sequence at u[0..n), or 0. */
static size_t
utf8_seq(const unsigned char *u, size_t n)
{
    if (u[0] < 0x80)
        return 1;
    size_t k = (u[0] & 0xE0) == 0xC0   ? 2
               : (u[0] & 0xF0) == 0xE0 ? 3
               : (u[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (k == 0 || k > n)
        return 0;
    uint32_t c = u[0] & (0x7F >> k);
    for (size_t i = 1; i < k; i++) {
        if ((u[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (u[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[k] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return k;
}

/* A number by the grammar, as a state machine: 0 and *out_len, or -1. */
static int
ref_number(const unsigned char *s, size_t at, size_t len, size_t *out_len, int *is_float)
{
    enum { START, SIGN, ZERO, INT, DOT, FRAC, E, ESIGN, EXP, DONE, FAIL };
    int st = START;
    *is_float = 0;
    for (size_t i = at;; i++) {
        int c = i < len ? s[i] : -1;
        int digit = c >= '0' && c <= '9', e = c == 'e' || c == 'E';
        int next = FAIL;
        switch (st) {
        case START:
            next = c == '-' ? SIGN : c == '0' ? ZERO : digit ? INT : FAIL;
            break;
        case SIGN:
            next = c == '0' ? ZERO : digit ? INT : FAIL;
            break;
        case ZERO:
            next = c == '.' ? DOT : e ? E : DONE;
            break;
        case INT:
            next = digit ? INT : c == '.' ? DOT : e ? E : DONE;
            break;
        case DOT:
            next = digit ? FRAC : FAIL;
            break;
        case FRAC:
            next = digit ? FRAC : e ? E : DONE;
            break;
        case E:
            next = c == '+' || c == '-' ? ESIGN : digit ? EXP : FAIL;
            break;
        case ESIGN:
            next = digit ? EXP : FAIL;
            break;
        case EXP:
            next = digit ? EXP : DONE;
            break;
        }
        if (next == FAIL)
            return -1;
        if (next == DONE) {
            *out_len = i - at;
            return 0;
        }
        if (next == FRAC || next == EXP)
            *is_float = 1;
        st = next;
    }
}

static void
fuzz_at(const char *s, size_t at, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    jp_jscan_str want = {0, 0, 0};
    int wrc = ref_scan(u, at, len, &want);
    static const jp_simd_level levels[2] = {JP_SIMD_SCALAR, JP_SIMD_AVX2};
    for (int l = 0; l < 4; l++) {
        jp_jscan_str got = {0, 0, 0};
        int rc = l < 2 ? jp_jscan_string(s, at, len, levels[l], &got)
                       : jp_jscan_string_any(s, at, len, levels[l - 2], &got);
        FUZZ_ASSERT(rc == wrc);
        if (rc == 0) {
            FUZZ_ASSERT(got.end == want.end && got.end < len);
            FUZZ_ASSERT(got.escaped == want.escaped && got.non_ascii == want.non_ascii);
        }
    }
    if (wrc == 0) {
        size_t n = want.end - at;
        char *out = malloc(n ? n : 1);
        FUZZ_ASSERT(out != NULL);
        int high = -1;
        ptrdiff_t m = jp_jscan_unescape(out, s + at, n, &high);
        FUZZ_ASSERT(m == JP_JSCAN_BAD_ESCAPE || m == JP_JSCAN_LONE_SURROGATE || m >= 0);
        FUZZ_ASSERT(m < 0 || (size_t)m <= n);
        FUZZ_ASSERT(m >= 0 || want.escaped);
        if (m >= 0 && !want.escaped)
            FUZZ_ASSERT((size_t)m == n && memcmp(out, s + at, n) == 0 && high == 0);
        if (m >= 0 && !want.non_ascii) {
            int any_high = 0;
            for (size_t i = 0; i < (size_t)m;) {
                size_t k = utf8_seq((const unsigned char *)out + i, (size_t)m - i);
                FUZZ_ASSERT(k > 0);
                any_high |= k > 1;
                i += k;
            }
            FUZZ_ASSERT(high == any_high);
        }
        free(out);
    }

    jp_jscan_num num;
    size_t rlen = 0;
    int rfloat = 0;
    int nrc = jp_jscan_number(s, at, len, &num);
    int rrc = ref_number(u, at, len, &rlen, &rfloat);
    FUZZ_ASSERT(nrc == rrc);
    if (nrc == 0) {
        FUZZ_ASSERT(num.len == rlen && num.len >= 1 && num.len <= len - at);
        FUZZ_ASSERT(num.is_float == rfloat);
        if (num.is_small) {
            char tok[32];
            FUZZ_ASSERT(num.len < sizeof(tok));
            memcpy(tok, s + at, num.len);
            tok[num.len] = '\0';
            FUZZ_ASSERT(strtoll(tok, NULL, 10) == num.value);
        }
        double fast;
        if (num.is_float && jp_jscan_fast_double(&num, &fast)) {
            /* The fast double is the correctly rounded one, as strtod's. */
            char *tok = malloc(num.len + 1);
            FUZZ_ASSERT(tok != NULL);
            memcpy(tok, s + at, num.len);
            tok[num.len] = '\0';
            double want = strtod(tok, NULL);
            FUZZ_ASSERT(memcmp(&fast, &want, sizeof(double)) == 0);
            free(tok);
        }
    }
    size_t w = jp_jscan_skip_ws(s, at, len);
    FUZZ_ASSERT(w >= at && w <= len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (s == NULL)
        return 0;
    if (size)
        memcpy(s, data, size);
    fuzz_at(s, 0, size);
    if (size > 0)
        fuzz_at(s, data[0] % size, size);
    free(s);
    return 0;
}
