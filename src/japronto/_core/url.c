/*
 * url.c - percent-decoding and path segments (see url.h for the contract).
 *
 * Owns nothing: every function works on the caller's buffers and keeps no state. The scans
 * jump from '%' to '%' (or '/' to '/') with memchr, which libc vectorises, because the common
 * path has few of either and is otherwise copied or skipped in bulk.
 */
#include "url.h"

#include <stdint.h>
#include <string.h>

/* The value of one hex digit, or -1. */
static int
url_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* ASCII lower case; maps no non-letter onto 'a'-'f' */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Whether s[i] starts a valid escape; the caller has checked s[i] == '%'. */
static int
url_is_escape(const char *s, size_t len, size_t i)
{
    return len - i >= 3 && url_hex_value((unsigned char)s[i + 1]) >= 0 &&
           url_hex_value((unsigned char)s[i + 2]) >= 0;
}

size_t
jp_percent_find_escape(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const char *pct = memchr(s + i, '%', len - i);
        if (pct == NULL)
            return len;
        i = (size_t)(pct - s);
        if (url_is_escape(s, len, i))
            return i;
        i++;
    }
    return len;
}

size_t
jp_percent_decode(char *dst, const char *src, size_t len, int *changed)
{
    /* Invariant: src[0..i) has been decoded into dst[0..o), with o <= i; while o == i and dst
     * is src, the bytes are already in place and copying them would be a waste. */
    size_t i = 0, o = 0;
    int any = 0;
    while (i < len) {
        size_t esc = i + jp_percent_find_escape(src + i, len - i);
        size_t run = esc - i;
        if (run && (dst + o != src + i))
            memmove(dst + o, src + i, run);
        o += run;
        i = esc;
        if (i == len)
            break;
        dst[o++] = (char)(url_hex_value((unsigned char)src[i + 1]) << 4 |
                          url_hex_value((unsigned char)src[i + 2]));
        i += 3;
        any = 1;
    }
    if (changed != NULL)
        *changed = any;
    return o;
}

size_t
jp_form_decode(char *dst, const char *src, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && len - i >= 3 && url_hex_value((unsigned char)src[i + 1]) >= 0 &&
                   url_hex_value((unsigned char)src[i + 2]) >= 0) {
            c = (char)(url_hex_value((unsigned char)src[i + 1]) << 4 |
                       url_hex_value((unsigned char)src[i + 2]));
            i += 2;
        }
        dst[o++] = c;
    }
    return o;
}

/* Word-at-a-time tests (SWAR): whether any byte of x is zero, exactly (the classic formula
 * can mark the wrong byte after a true zero, but never reports a zero that is not there). */
#define URL_ONES 0x0101010101010101ULL
#define URL_HIGHS 0x8080808080808080ULL

static inline uint64_t
url_zero_byte(uint64_t x)
{
    return (x - URL_ONES) & ~x & URL_HIGHS;
}

static inline uint64_t
url_load8(const char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    return x;
}

/* The bytes looked for by jp_is_ascii (form == 0) and jp_form_is_plain (form == 1), in one
 * word: the high bit, plus '%' and '+' for form data. */
static inline uint64_t
url_word_flags(uint64_t x, int form)
{
    uint64_t f = x & URL_HIGHS;
    if (form)
        f |= url_zero_byte(x ^ ('%' * URL_ONES)) | url_zero_byte(x ^ ('+' * URL_ONES));
    return f;
}

/* The bytes of s[0..len), len < 8, gathered into one word with zero bytes for the rest (in an
 * order that does not matter: the checks ask whether any byte is one of a few, and a zero byte
 * is none of them). Two overlapping loads instead of a byte loop. */
static inline uint64_t
url_load_short(const char *s, size_t len)
{
    if (len >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + len - 4, 4);
        return a | (uint64_t)b << 32;
    }
    if (len >= 2) {
        uint16_t a, b;
        memcpy(&a, s, 2);
        memcpy(&b, s + len - 2, 2);
        return a | (uint64_t)b << 16;
    }
    return len ? (unsigned char)s[0] : 0;
}

/* Most names, values and segments are a few bytes long: words for the bulk, and for the last
 * bytes one more word ending at the end (overlapping bytes already checked, which is harmless);
 * a string shorter than a word is one word made of two overlapping loads. No byte loop. */
static inline int
url_check(const char *s, size_t len, int form)
{
    if (len < 8)
        return url_word_flags(url_load_short(s, len), form) == 0;
    uint64_t f = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        f |= url_word_flags(url_load8(s + i), form);
    if (i < len)
        f |= url_word_flags(url_load8(s + len - 8), form);
    return f == 0;
}

int
jp_is_ascii(const char *s, size_t len)
{
    return url_check(s, len, 0);
}

int
jp_form_is_plain(const char *s, size_t len)
{
    return url_check(s, len, 1);
}

size_t
jp_path_split(const char *path, size_t len, jp_url_slice *segs, size_t max)
{
    if (len == 0 || path[0] != '/')
        return 0;
    size_t count = 0;
    size_t start = 1; /* the segment after the '/' at start - 1 */
    for (;;) {
        const char *slash = start < len ? memchr(path + start, '/', len - start) : NULL;
        size_t end = slash != NULL ? (size_t)(slash - path) : len;
        if (count < max) {
            segs[count].ptr = path + start;
            segs[count].len = end - start;
        }
        count++;
        if (slash == NULL)
            return count;
        start = end + 1;
    }
}
