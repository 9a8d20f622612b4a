/*
 * jsonscan.c - the byte-level pieces of the JSON reader (see jsonscan.h for the contract).
 *
 * Owns nothing and keeps no state. The string scan is the only loop that sees most of a body's
 * bytes, so it goes a block at a time: 16 bytes with SSE2 (baseline on x86-64) unless the
 * caller asks for the scalar path, then 8 with word tricks (SWAR) on little-endian machines,
 * then single bytes for the rest (its first block, the whole of most strings, is inline in
 * jsonscan.h). Every load is of bytes before len: a block is read only when a whole block is
 * left, never by overlapping the end.
 *
 * Numbers are lexed (inline, in jsonscan.h) in one pass that also gathers what the fast float
 * conversion here needs (the digits as an integer and the decimal exponent), so that most
 * floats never reach a string conversion.
 */
#include "jsonscan.h"

#include "chars.h"

#include <float.h>
#include <string.h>

#define JSCAN_ONES 0x0101010101010101ULL
#define JSCAN_HIGHS 0x8080808080808080ULL

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSCAN_SWAR 1
#else
#define JSCAN_SWAR 0
#endif

/* The bytes of one word that stop the scan: '"', '\' and those below 0x20, flagged by their
 * high bit. Each of the three tests flags its lowest true byte exactly; a borrow can only
 * spread upwards from a true byte, so the lowest flag of the union is a true one (the only
 * one the scan uses). Bytes >= 0x80 are never flagged: ~x clears their high bit. */
static inline uint64_t
jscan_word_stops(uint64_t x)
{
    uint64_t q = x ^ ('"' * JSCAN_ONES);
    uint64_t b = x ^ ('\\' * JSCAN_ONES);
    return (((q - JSCAN_ONES) & ~q) | ((b - JSCAN_ONES) & ~b) | ((x - 0x20 * JSCAN_ONES) & ~x)) &
           JSCAN_HIGHS;
}

static inline int
jscan_is_stop(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20;
}

/* The offset of the first stop byte in s[i..len), or len; *high gets the high bits of the
 * bytes before it OR-ed in. */
static inline size_t
jscan_find_stop(const char *s, size_t i, size_t len, jp_simd_level level, unsigned *high)
{
#if JP_HAVE_X86_SIMD
    if (level != JP_SIMD_SCALAR) {
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i bslash = _mm_set1_epi8('\\');
        const __m128i ctl = _mm_set1_epi8(0x1F);
        unsigned hi = 0;
        while (len - i >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i stop =
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                             _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
            unsigned m = (unsigned)_mm_movemask_epi8(stop);
            unsigned h = (unsigned)_mm_movemask_epi8(v);
            if (m) {
                unsigned k = (unsigned)__builtin_ctz(m);
                hi |= h & ((1u << k) - 1);
                *high |= hi;
                return i + k;
            }
            hi |= h;
            i += 16;
        }
        *high |= hi;
    }
#else
    (void)level;
#endif
#if JSCAN_SWAR
    uint64_t hi = 0;
    while (len - i >= 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t stop = jscan_word_stops(x);
        if (stop) {
            unsigned k = (unsigned)__builtin_ctzll(stop) >> 3;
            hi |= x & JSCAN_HIGHS & ((1ULL << (8 * k)) - 1);
            *high |= hi != 0;
            return i + k;
        }
        hi |= x & JSCAN_HIGHS;
        i += 8;
    }
    *high |= hi != 0;
#endif
    unsigned h = 0;
    while (i < len && !jscan_is_stop((unsigned char)s[i]))
        h |= (unsigned char)s[i++];
    *high |= h >> 7;
    return i;
}

int
jp_jscan_string_any(const char *s, size_t at, size_t len, jp_simd_level level, jp_jscan_str *out)
{
    unsigned high = 0;
    int escaped = 0;
    size_t i = at;
    for (;;) {
        i = jscan_find_stop(s, i, len, level, &high);
        if (i >= len)
            return JP_JSCAN_UNTERMINATED;
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            break;
        if (c != '\\')
            return JP_JSCAN_CONTROL;
        /* The escaped byte is skipped whatever it is (jp_jscan_unescape judges it), but it
         * still counts towards non_ascii, so that the flag covers every byte of the body. */
        escaped = 1;
        if (len - i < 2)
            return JP_JSCAN_UNTERMINATED;
        high |= (unsigned char)s[i + 1] >> 7;
        i += 2;
    }
    out->end = i;
    out->escaped = escaped;
    out->non_ascii = high != 0;
    return 0;
}

/* The value of four hex digits at s, or -1. */
static int
jscan_hex4(const char *s)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int d = jp_hex_value((unsigned char)s[k]);
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

ptrdiff_t
jp_jscan_unescape(char *dst, const char *s, size_t len, int *non_ascii)
{
    size_t i = 0, o = 0;
    int high = 0;
    while (i < len) {
        const char *bs = memchr(s + i, '\\', len - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
        memcpy(dst + o, s + i, run);
        o += run;
        i += run;
        if (i >= len)
            break;
        if (len - i < 2)
            return JP_JSCAN_BAD_ESCAPE;
        char e = s[i + 1];
        char simple;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            simple = e;
            break;
        case 'b':
            simple = '\b';
            break;
        case 'f':
            simple = '\f';
            break;
        case 'n':
            simple = '\n';
            break;
        case 'r':
            simple = '\r';
            break;
        case 't':
            simple = '\t';
            break;
        case 'u':
            simple = 0;
            break;
        default:
            return JP_JSCAN_BAD_ESCAPE;
        }
        if (e != 'u') {
            dst[o++] = simple;
            i += 2;
            continue;
        }
        if (len - i < 6)
            return JP_JSCAN_BAD_ESCAPE;
        int cp = jscan_hex4(s + i + 2);
        if (cp < 0)
            return JP_JSCAN_BAD_ESCAPE;
        i += 6;
        uint32_t c = (uint32_t)cp;
        if (c >= 0xD800 && c <= 0xDFFF) {
            /* Only a high half followed at once by an escaped low half is a character. */
            int lo = -1;
            if (c <= 0xDBFF && len - i >= 6 && s[i] == '\\' && s[i + 1] == 'u')
                lo = jscan_hex4(s + i + 2);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return JP_JSCAN_LONE_SURROGATE;
            c = 0x10000 + ((c - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            i += 6;
        }
        unsigned char *d = (unsigned char *)dst + o;
        if (c < 0x80) {
            d[0] = (unsigned char)c;
            o += 1;
        } else if (c < 0x800) {
            d[0] = (unsigned char)(0xC0 | c >> 6);
            d[1] = (unsigned char)(0x80 | (c & 0x3F));
            o += 2;
            high = 1;
        } else if (c < 0x10000) {
            d[0] = (unsigned char)(0xE0 | c >> 12);
            d[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
            d[2] = (unsigned char)(0x80 | (c & 0x3F));
            o += 3;
            high = 1;
        } else {
            d[0] = (unsigned char)(0xF0 | c >> 18);
            d[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
            d[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
            d[3] = (unsigned char)(0x80 | (c & 0x3F));
            o += 4;
            high = 1;
        }
    }
    *non_ascii = high;
    return (ptrdiff_t)o;
}

int
jp_jscan_fast_double(const jp_jscan_num *num, double *out)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (!num->mant_exact || num->mant > (1ULL << 53) || num->exp10 < -22 || num->exp10 > 22)
        return 0;
    double d = (double)num->mant;
    d = num->exp10 < 0 ? d / pow10[-num->exp10] : d * pow10[num->exp10];
    *out = num->negative ? -d : d;
    return 1;
#else
    (void)num;
    (void)out;
    return 0;
#endif
}
