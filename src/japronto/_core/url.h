/*
 * url.h - percent-decoding and path segments of a request-target (layer 0: pure C, no Python.h).
 *
 * The caller owns every buffer. Nothing here allocates, keeps a pointer after returning, or
 * reads past the length it is given (the input need not be NUL-terminated).
 *
 * Percent-decoding follows RFC 3986 section 2.1: "%" followed by two hex digits (either case) is
 * the byte they spell. A "%" that is not followed by two hex digits ("/100%", "%zz", "%4" at the
 * end) is kept literally, as it is by most servers (nginx, uvicorn, aiohttp): rejecting it would
 * turn a harmless oddity in a URL into an error page, and decoding it cannot be done in any
 * meaningful way. '+' is not a space in a path (that is a query-string convention) and is left
 * alone. Decoded bytes are not validated: "%00" gives a NUL byte and "%FF" a byte that is not
 * UTF-8; interpreting them is the caller's business.
 *
 * Path segments: an absolute path "/a/b/" is the segments "a", "b" and "" - one segment for
 * each '/', each running to the next '/' or the end. Splitting happens on the raw path, before
 * decoding, so that an encoded "%2F" belongs to its segment and is never a separator.
 */
#ifndef JP_URL_H
#define JP_URL_H

#include "buffer.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One piece of a caller's buffer. */
typedef struct jp_url_slice {
    const char *ptr;
    size_t len;
} jp_url_slice;

/* Decodes src[0..len) into dst, which must have room for len bytes (the output is never longer
 * than the input). dst may be exactly src (decoding in place) but must not otherwise overlap it.
 * Returns the number of bytes written. *changed (if not NULL) is set to 1 when at least one
 * escape was decoded, so that the output differs from the input, and to 0 otherwise. */
size_t jp_percent_decode(char *dst, const char *src, size_t len, int *changed);

/* Decodes one name or value of application/x-www-form-urlencoded data (a query string's
 * pieces): '+' is a space, then percent-decoding as above, so "%2B" stays a '+'. Same buffer
 * rules and return value as jp_percent_decode; this is what urllib.parse.unquote_to_bytes
 * gives for the piece with '+' replaced by ' ' first. */
size_t jp_form_decode(char *dst, const char *src, size_t len);

/* The offset of the first valid "%XX" escape in s[0..len), or len if there is none: when it
 * returns len, s is its own decoded form and a caller can use it without copying. */
size_t jp_percent_find_escape(const char *s, size_t len);

/* Splits the absolute path path[0..len) into its segments (see above) and returns how many there
 * are, writing the first min(count, max) of them into segs (which may be NULL when max is 0).
 * A caller whose array was too small calls again with one of the returned size. Returns 0 when
 * path is not an absolute path (empty, or not starting with '/'): every absolute path has at
 * least one segment, "/" having the single empty one. */
size_t jp_path_split(const char *path, size_t len, jp_url_slice *segs, size_t max);

/* Checks and compares of short pieces (names, values, segments, methods), inline because they
 * run a few times a request on a few bytes each, where a call and a loop cost more than the
 * work. They read exactly s[0..len), a word at a time (SWAR) and never byte by byte: whole
 * words, then one word ending at the end (overlapping bytes already seen, which is harmless);
 * a piece shorter than a word is gathered from two overlapping loads. */

#define JP_URL_ONES 0x0101010101010101ULL
#define JP_URL_HIGHS 0x8080808080808080ULL

/* Non-zero iff some byte of x is zero (exact as a whole: the classic formula may flag a wrong
 * byte above a true zero, never a zero that is not there). */
static inline uint64_t
jp_url_zero_byte(uint64_t x)
{
    return (x - JP_URL_ONES) & ~x & JP_URL_HIGHS;
}

/* s[0..len), len < 8, in one word padded with zero bytes, in an order that does not matter:
 * the checks below ask whether any byte is one of a few, and a zero byte is none of them. */
static inline uint64_t
jp_url_load_short(const char *s, size_t len)
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

/* The bytes looked for in one word: the high bit, plus '%' and '+' when form is set. */
static inline uint64_t
jp_url_word_flags(uint64_t x, int form)
{
    uint64_t f = x & JP_URL_HIGHS;
    if (form)
        f |= jp_url_zero_byte(x ^ ('%' * JP_URL_ONES)) | jp_url_zero_byte(x ^ ('+' * JP_URL_ONES));
    return f;
}

static inline int
jp_url_check(const char *s, size_t len, int form)
{
    if (len < 8)
        return jp_url_word_flags(jp_url_load_short(s, len), form) == 0;
    uint64_t f = 0, x;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        memcpy(&x, s + i, 8);
        f |= jp_url_word_flags(x, form);
    }
    if (i < len) {
        memcpy(&x, s + len - 8, 8);
        f |= jp_url_word_flags(x, form);
    }
    return f == 0;
}

/* Whether s[0..len) is ASCII (no byte >= 0x80): then its UTF-8 decoding is the same bytes, and
 * a caller can make the str by copying them. */
static inline int
jp_is_ascii(const char *s, size_t len)
{
    return jp_url_check(s, len, 0);
}

/* Whether s[0..len) is ASCII with no '%' and no '+': then jp_form_decode would give the same
 * bytes back, and they are their own UTF-8 decoding (the common query name or value). */
static inline int
jp_form_is_plain(const char *s, size_t len)
{
    return jp_url_check(s, len, 1);
}

/* Whether a[0..n) and b[0..n) are the same bytes. */
static inline int
jp_url_equal(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return 0;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 2) {
        uint16_t x0, y0, x1, y1;
        memcpy(&x0, a, 2);
        memcpy(&y0, b, 2);
        memcpy(&x1, a + n - 2, 2);
        memcpy(&y1, b + n - 2, 2);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    return n == 0 || *a == *b;
}

/* The offset of the first byte c in s[at..len), or len; s[0..at) must be readable too (it is
 * the piece's own buffer before it). Whole words first; the lowest flagged byte of the zero
 * test is exact, and on a little-endian machine it is the first. The rest of a long piece is
 * one word ending at the end, its bytes before at made non-zero so that they neither match
 * nor disturb the test; a piece in fewer than 8 bytes of buffer goes byte by byte. */
static inline size_t
jp_url_find(const char *s, size_t at, size_t len, char c)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t pattern = (unsigned char)c * JP_URL_ONES;
    for (; len - at >= 8; at += 8) {
        uint64_t x;
        memcpy(&x, s + at, 8);
        uint64_t z = jp_url_zero_byte(x ^ pattern);
        if (z)
            return at + ((size_t)__builtin_ctzll(z) >> 3);
    }
    if (at < len && len >= 8) {
        size_t skip = 8 - (len - at);
        uint64_t x;
        memcpy(&x, s + len - 8, 8);
        uint64_t z = jp_url_zero_byte((x ^ pattern) | ((1ULL << (8 * skip)) - 1));
        return z ? len - 8 + ((size_t)__builtin_ctzll(z) >> 3) : len;
    }
#endif
    while (at < len && s[at] != c)
        at++;
    return at;
}

#endif /* JP_URL_H */
