/*
 * url.c - percent-decoding and path segments (see url.h for the contract).
 *
 * Owns nothing: every function works on the caller's buffers and keeps no state. The scans
 * jump from '%' to '%' (or '/' to '/') with memchr, which libc vectorises, because the common
 * path has few of either and is otherwise copied or skipped in bulk.
 */
#include "url.h"

#include "chars.h"

#include <string.h>

/* Whether s[i] starts a valid escape; the caller has checked s[i] == '%'. */
static int
url_is_escape(const char *s, size_t len, size_t i)
{
    return len - i >= 3 && jp_hex_value((unsigned char)s[i + 1]) >= 0 &&
           jp_hex_value((unsigned char)s[i + 2]) >= 0;
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
        dst[o++] = (char)(jp_hex_value((unsigned char)src[i + 1]) << 4 |
                          jp_hex_value((unsigned char)src[i + 2]));
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
        } else if (c == '%' && len - i >= 3 && jp_hex_value((unsigned char)src[i + 1]) >= 0 &&
                   jp_hex_value((unsigned char)src[i + 2]) >= 0) {
            c = (char)(jp_hex_value((unsigned char)src[i + 1]) << 4 |
                       jp_hex_value((unsigned char)src[i + 2]));
            i += 2;
        }
        dst[o++] = c;
    }
    return o;
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
