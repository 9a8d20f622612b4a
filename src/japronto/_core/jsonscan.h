/*
 * jsonscan.h - the byte-level pieces of the JSON reader behind request.json (layer 0: pure C,
 * no Python.h): whitespace, the body of a string, its escapes, a number.
 *
 * The grammar is RFC 8259's, and where json.loads accepts more or less than the RFC, these
 * functions follow json.loads (Python's json module, strict mode), because request.json must
 * give exactly what json.loads gives: whitespace is SP, HTAB, LF and CR only; a string may not
 * hold a raw byte below 0x20 (0x7F and bytes >= 0x80 are fine); the escapes are \" \\ \/ \b
 * \f \n \r \t and \uXXXX (hex digits of either case); a number is
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. NaN, Infinity and -Infinity, which json.loads
 * accepts, are literals for the caller (jsondecode.c) to match.
 *
 * The caller owns every buffer. Nothing here allocates, keeps a pointer after returning, or
 * reads at or past the length it is given: input need not be NUL-terminated, and may end flush
 * against an unreadable page (tests/c/test_jsonscan.c places it so).
 *
 * Errors are reported, not explained: a caller that meets one gives up and lets a complete
 * implementation (json.loads) say what is wrong.
 */
#ifndef JP_JSONSCAN_H
#define JP_JSONSCAN_H

#include "simd.h"

#include <stddef.h>
#include <stdint.h>

#if JP_HAVE_X86_SIMD
#include <emmintrin.h>
#endif

/* What jp_jscan_string and jp_jscan_unescape return besides success (0 or a length). */
enum {
    JP_JSCAN_UNTERMINATED = -1,   /* no closing quote before the end of the input */
    JP_JSCAN_CONTROL = -2,        /* a raw byte below 0x20 inside the string */
    JP_JSCAN_BAD_ESCAPE = -3,     /* '\' followed by a byte that starts no escape, or a \u
                                     without four hex digits */
    JP_JSCAN_LONE_SURROGATE = -4, /* a \uD800-\uDFFF escape that is not half of a pair */
};

/* JSON whitespace: SP, HTAB, LF, CR (bits 32, 9, 10 and 13 of the mask). */
static inline int
jp_jscan_is_ws(unsigned char c)
{
    return c <= ' ' && ((0x100002600ULL >> c) & 1);
}

/* The offset of the first byte at or after `at` in s[0..len) that is not whitespace, or len. */
static inline size_t
jp_jscan_skip_ws(const char *s, size_t at, size_t len)
{
    while (at < len && jp_jscan_is_ws((unsigned char)s[at]))
        at++;
    return at;
}

/* Whether s[at..len) starts with lit[0..n). */
static inline int
jp_jscan_has(const char *s, size_t at, size_t len, const char *lit, size_t n)
{
    if (len - at < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[at + i] != lit[i])
            return 0;
    return 1;
}

/* What jp_jscan_string found. */
typedef struct jp_jscan_str {
    size_t end;    /* offset in s of the closing quote */
    int escaped;   /* some '\' was seen: the body needs jp_jscan_unescape */
    int non_ascii; /* some byte >= 0x80 was seen in the body (it may not be UTF-8) */
} jp_jscan_str;

/* Scans the body of a string, from s[at] (just past its opening quote) to its closing quote:
 * the first '"' not taken by an escape. Returns 0 and fills *out, or JP_JSCAN_UNTERMINATED or
 * JP_JSCAN_CONTROL; out->escaped and out->non_ascii cover exactly the bytes s[at..out->end).
 * Escapes are only skipped here ('\' takes the byte after it, so \" does not close the
 * string); jp_jscan_unescape checks them. Neither is the UTF-8 of the bytes >= 0x80 checked.
 * `level` picks the implementation (16 bytes a step with SSE2 unless JP_SIMD_SCALAR, else 8
 * with word tricks); both give the same answer. */
int jp_jscan_string_any(const char *s, size_t at, size_t len, jp_simd_level level,
                        jp_jscan_str *out);

/* The common case inline: with SSE2, a string whose closing quote is the first byte to stop at
 * in the 16 bytes from at (a key, a short value) is found with one block compare and no call;
 * anything else, and the scalar path, goes to jp_jscan_string_any. Same contract. */
static inline int
jp_jscan_string(const char *s, size_t at, size_t len, jp_simd_level level, jp_jscan_str *out)
{
#if JP_HAVE_X86_SIMD
    if (level != JP_SIMD_SCALAR && len - at >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + at));
        const __m128i ctl = _mm_set1_epi8(0x1F);
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                    _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
        unsigned m = (unsigned)_mm_movemask_epi8(stop);
        if (m) {
            unsigned k = (unsigned)__builtin_ctz(m);
            if (s[at + k] == '"') {
                out->end = at + k;
                out->escaped = 0;
                out->non_ascii = ((unsigned)_mm_movemask_epi8(v) & ((1u << k) - 1)) != 0;
                return 0;
            }
        }
    }
#endif
    return jp_jscan_string_any(s, at, len, level, out);
}

/* Unescapes a string body s[0..len) (the bytes between the quotes, as jp_jscan_string
 * accepted them) into dst as UTF-8: every escape becomes the bytes of its character, a
 * \uD83D\uDE00 pair the one 4-byte sequence of U+1F600, and every other byte is copied as is.
 * dst must have room for len bytes (no escape is shorter than its UTF-8) and must not overlap
 * s. Returns the number of bytes written, or JP_JSCAN_BAD_ESCAPE or JP_JSCAN_LONE_SURROGATE
 * (json.loads returns a lone surrogate as a str of its own, which UTF-8 cannot hold).
 * *non_ascii is set to whether an escape wrote a byte >= 0x80 (copied bytes are not looked
 * at: jp_jscan_string reported those). */
ptrdiff_t jp_jscan_unescape(char *dst, const char *s, size_t len, int *non_ascii);

/* What jp_jscan_number found. */
typedef struct jp_jscan_num {
    size_t len;    /* bytes of the number */
    int is_float;  /* it has a fraction or an exponent */
    int is_small;  /* an integer of at most 18 digits: value is its value */
    int64_t value; /* when is_small */
    /* For jp_jscan_fast_double: the number is (-1)^negative * mant * 10^exp10 exactly when
     * mant_exact (its digits, leading zeros aside, fit in mant). */
    int negative;
    int mant_exact;
    uint64_t mant;
    long exp10;
} jp_jscan_num;

/* Lexes the number at s[at..len) (see the grammar above), taking the longest match. Returns 0
 * and fills *out, or -1 when s[at] starts no number or the number is cut short: a '-' without
 * a digit, "1." or "1e" or "1e+" without the digits the grammar wants there. (json.loads reads
 * "1." as 1 followed by a stray '.', which is an error where a value ends, so a caller loses
 * nothing by failing at once.) A leading zero ends the integer part: "01" is the number "0"
 * with "1" left, for the caller to reject. Inline (defined at the end of this file): numbers
 * are many and short, and a call and the stores of fields the caller does not read cost as
 * much as the lexing. */
static inline int jp_jscan_number(const char *s, size_t at, size_t len, jp_jscan_num *out);

/* The double of a float jp_jscan_number lexed, when it can be had exactly and cheaply: when
 * the number is m * 10^e with m <= 2^53 and |e| <= 22 (most decimals written by people and by
 * repr), both m and 10^e are exact doubles, and one IEEE multiplication or division rounds
 * their product or quotient correctly: the very double a correctly rounded conversion
 * (CPython's float(), dtoa.c) gives (Clinger's fast path). Returns 1 and sets *out, or 0 when
 * the caller must convert the text itself. Only where double arithmetic is done in double
 * (FLT_EVAL_METHOD 0, as on x86-64 and arm64); elsewhere always 0. */
int jp_jscan_fast_double(const jp_jscan_num *num, double *out);

/* Whether s[i] is a digit; false at i >= len. */
static inline int
jp_jscan_digit_at(const char *s, size_t i, size_t len)
{
    return i < len && (unsigned char)(s[i] - '0') < 10;
}

static inline int
jp_jscan_number(const char *s, size_t at, size_t len, jp_jscan_num *out)
{
    size_t i = at;
    int neg = 0;
    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    if (!jp_jscan_digit_at(s, i, len))
        return -1;
    /* The digits of the integer part and the fraction go into mant while it stays below
     * 10^17, so that one more digit cannot overflow it: every integer of up to 18 digits is
     * exact, and a longer mantissa is marked inexact (leading zeros never count). */
    const uint64_t room = 100000000000000000ULL;
    uint64_t m = 0;
    int exact = 1;
    size_t first = i;
    if (s[i] == '0') {
        i++;
    } else {
        for (; jp_jscan_digit_at(s, i, len); i++) {
            if (m < room)
                m = m * 10 + (unsigned)(s[i] - '0');
            else
                exact = 0;
        }
    }
    size_t digits = i - first;
    long exp10 = 0;
    int is_float = 0;
    if (i < len && s[i] == '.') {
        i++;
        if (!jp_jscan_digit_at(s, i, len))
            return -1;
        for (; jp_jscan_digit_at(s, i, len); i++) {
            if (m < room) {
                m = m * 10 + (unsigned)(s[i] - '0');
                exp10--;
            } else {
                exact = 0;
            }
        }
        is_float = 1;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (!jp_jscan_digit_at(s, i, len))
            return -1;
        long e = 0;
        for (; jp_jscan_digit_at(s, i, len); i++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
            else
                exact = 0; /* far beyond any double: the slow path gives 0 or inf */
        exp10 += eneg ? -e : e;
        is_float = 1;
    }
    out->len = i - at;
    out->is_float = is_float;
    out->is_small = !is_float && digits <= 18;
    out->value = out->is_small ? (neg ? -(int64_t)m : (int64_t)m) : 0;
    out->negative = neg;
    out->mant_exact = exact;
    out->mant = m;
    out->exp10 = exp10;
    return 0;
}

#endif /* JP_JSONSCAN_H */
