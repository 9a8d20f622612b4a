/*
 * buffer.c - the growable byte buffer of buffer.h (layer 0: pure C, no Python.h).
 *
 * Owns: the heap block b->data (NULL exactly when b->cap == 0). Invariants kept by every
 * function here: len <= cap; bytes [0, len) are the content; a function that fails leaves
 * data, len and cap exactly as they were, so a caller that runs out of memory half-way
 * through a response can report it without having corrupted the batch already queued.
 *
 * The inline fast path (jp_buffer_reserve, jp_buffer_append) lives in the header; only the
 * growth, the shifting and the freeing are out of line.
 */
#include "buffer.h"

#include <stdint.h>
#include <stdlib.h>

const char jp_digit_pairs[201] = "00010203040506070809"
                                 "10111213141516171819"
                                 "20212223242526272829"
                                 "30313233343536373839"
                                 "40414243444546474849"
                                 "50515253545556575859"
                                 "60616263646566676869"
                                 "70717273747576777879"
                                 "80818283848586878889"
                                 "90919293949596979899";

/* The first allocation. Small enough not to matter for a connection that only ever sends a
 * "Hello world", large enough that such a connection never grows its buffer a second time. */
#define BUFFER_MIN_CAP 1024u

/* Grows the block so that at least extra more bytes fit after len. The capacity doubles from
 * its current value (or from BUFFER_MIN_CAP) until the request fits, so a stream of appends
 * costs amortised O(1) per byte; if doubling would overflow size_t, the exact size needed is
 * tried instead. Returns 0, or -1 with the buffer untouched (no memory, or len + extra does
 * not fit in size_t). */
int
jp_buffer_reserve_slow(jp_buffer *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX - b->len)
        return -1;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : BUFFER_MIN_CAP;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    /* realloc keeps the old block intact when it fails, which is what gives the "unchanged
     * on failure" guarantee. */
    char *data = realloc(b->data, cap);
    if (data == NULL)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

/* Drops the first n bytes. The common case in the server is consuming everything that was
 * written, which costs nothing; a partial consume moves the tail down so that data always
 * starts at the beginning of the block and reserve never has to think about a gap. */
void
jp_buffer_consume(jp_buffer *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void
jp_buffer_free(jp_buffer *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Gives memory back after a burst. Only an empty buffer is trimmed: shrinking one that still
 * holds bytes would have to copy them, and the caller trims when the connection turns idle,
 * which is exactly when everything has been written. keep == 0 frees the block. A shrinking
 * realloc that fails is harmless: the larger block is simply kept. */
void
jp_buffer_trim(jp_buffer *b, size_t keep)
{
    if (b->len != 0 || b->cap <= keep)
        return;
    if (keep == 0) {
        jp_buffer_free(b);
        return;
    }
    char *data = realloc(b->data, keep);
    if (data == NULL)
        return;
    b->data = data;
    b->cap = keep;
}
