/*
 * buffer.h - a growable byte buffer (layer 0: pure C, no Python.h).
 *
 * Used for a connection's output (responses are serialised straight into it, and one
 * transport.write() sends the whole batch) and for request bodies that must be assembled.
 * The buffer owns its heap memory; data is NULL until the first reserve. Growth doubles, so
 * appends are amortised O(1). A failed reserve leaves the buffer unchanged.
 */
#ifndef JP_BUFFER_H
#define JP_BUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct jp_buffer {
    char *data;
    size_t len;
    size_t cap;
} jp_buffer;

#define JP_BUFFER_INIT {NULL, 0, 0}

/* "00" "01" ... "99": decimal numbers written into a buffer two digits a lookup (the JSON
 * encoder's ints, a response's Content-Length). */
extern const char jp_digit_pairs[201];

/* Copies n bytes from src to dst (not overlapping), writes nothing beyond dst[n) and returns
 * dst + n. Inlined for the short pieces the server copies per request (a body, a header
 * value, a path segment): up to 32 bytes as two overlapping loads and stores of one width, so
 * no library call and no loop; longer ones with memcpy. */
static inline char *
jp_copy_small(char *dst, const char *src, size_t n)
{
    if (n > 32) {
        memcpy(dst, src, n);
    } else if (n >= 16) {
        char a[16], b[16];
        memcpy(a, src, 16);
        memcpy(b, src + n - 16, 16);
        memcpy(dst, a, 16);
        memcpy(dst + n - 16, b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else if (n >= 2) {
        uint16_t a, b;
        memcpy(&a, src, 2);
        memcpy(&b, src + n - 2, 2);
        memcpy(dst, &a, 2);
        memcpy(dst + n - 2, &b, 2);
    } else if (n) {
        *dst = *src;
    }
    return dst + n;
}

/* Makes room for extra more bytes after len. Returns 0, or -1 when memory is exhausted (the
 * buffer is left as it was). */
int jp_buffer_reserve_slow(jp_buffer *b, size_t extra);

static inline int
jp_buffer_reserve(jp_buffer *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    return jp_buffer_reserve_slow(b, extra);
}

/* Appends n bytes. 0, or -1 on memory exhaustion (nothing appended). */
static inline int
jp_buffer_append(jp_buffer *b, const void *src, size_t n)
{
    if (jp_buffer_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, src, n);
    b->len += n;
    return 0;
}

/* Removes the first n bytes (n <= len), moving the rest to the front. */
void jp_buffer_consume(jp_buffer *b, size_t n);

/* Frees the memory; the buffer is empty and reusable afterwards. */
void jp_buffer_free(jp_buffer *b);

/* Shrinks the allocation back to at most keep bytes of capacity if it is larger and empty,
 * so that one huge response does not pin memory on an idle keep-alive connection. */
void jp_buffer_trim(jp_buffer *b, size_t keep);

#endif /* JP_BUFFER_H */
