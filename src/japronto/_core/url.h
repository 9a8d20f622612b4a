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

#include <stddef.h>

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

/* Whether s[0..len) is ASCII (no byte >= 0x80): then its UTF-8 decoding is the same bytes, and
 * a caller can make the str by copying them. */
int jp_is_ascii(const char *s, size_t len);

/* Whether s[0..len) is ASCII with no '%' and no '+': then jp_form_decode would give the same
 * bytes back, and they are their own UTF-8 decoding (the common query name or value). */
int jp_form_is_plain(const char *s, size_t len);

/* Splits the absolute path path[0..len) into its segments (see above) and returns how many there
 * are, writing the first min(count, max) of them into segs (which may be NULL when max is 0).
 * A caller whose array was too small calls again with one of the returned size. Returns 0 when
 * path is not an absolute path (empty, or not starting with '/'): every absolute path has at
 * least one segment, "/" having the single empty one. */
size_t jp_path_split(const char *path, size_t len, jp_url_slice *segs, size_t max);

#endif /* JP_URL_H */
