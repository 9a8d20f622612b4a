/*
 * fuzz_chunked.c - libFuzzer target for the chunked decoder (chunked.h).
 *
 * Input: one configuration byte, then the bytes fed to the decoder. The low two bits of the
 * configuration pick the limits (defaults, no body limit, small, tiny), so that every limit
 * path is reachable from short inputs; the other six bits seed the data-derived split.
 *
 * Each input is decoded three ways: whole, one byte at a time, and in slices whose lengths
 * come from the configuration and the input itself. Every slice is copied into its own heap
 * block of exactly its size, so a read past a slice is an ASan report. The invariants, checked
 * on every call: the return is -1 or at most the input length; a data span lies inside the
 * bytes that call consumed and ends where it stopped; a call with input consumes something
 * unless the body is done; total equals the sum of the spans; errors and done are final. The
 * three ways must agree on the decoded bytes, the outcome (done, error status and reason), and
 * the bytes consumed when there was no error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const jp_http1_limits fuzz_limits[3] = {
    /* No body limit: only 64-bit overflow stops a size. */
    {8192, 65536, 100, UINT64_MAX, 4096},
    /* Small: every limit within reach of a short input. */
    {8192, 48, 100, 64, 16},
    /* Tiny: "5\r\n" is the longest size line, an empty trailer section the only one. */
    {8192, 2, 100, 5, 3},
};

typedef struct fuzz_outcome {
    int status;
    const char *reason;
    int done;
    size_t consumed;
    unsigned char *out;
    size_t out_len;
} fuzz_outcome;

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_chunked: %s:%d: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Splits in[0..len) into slices: lengths 1..limit drawn from a generator seeded by the
 * configuration and the first bytes of the input, so the fuzzer can steer them. */
static size_t
fuzz_next_slice(uint32_t *seed, size_t left)
{
    *seed = *seed * 1103515245u + 12345u;
    size_t s = 1 + (size_t)((*seed >> 16) % (1 + (*seed & 63)));
    return s < left ? s : left;
}

/* mode 0: whole; 1: byte at a time; 2: derived slices. */
static void
fuzz_feed(const jp_http1_limits *lim, const uint8_t *in, size_t len, int mode, uint32_t seed,
          fuzz_outcome *o)
{
    jp_chunked_decoder d;
    jp_chunked_init(&d, lim);
    o->status = 0;
    o->reason = NULL;
    o->done = 0;
    o->consumed = 0;
    o->out_len = 0;

    /* Byte at a time reuses one 1-byte block: it still ends right after the byte, and a
     * block per byte would only fill ASan's quarantine. */
    char *one = malloc(1);
    FUZZ_ASSERT(one != NULL);
    size_t base = 0;
    while (base < len && !o->done && !o->status) {
        size_t slen = mode == 0 ? len : mode == 1 ? 1 : fuzz_next_slice(&seed, len - base);
        char *buf = mode == 1 ? one : malloc(slen);
        FUZZ_ASSERT(buf != NULL);
        memcpy(buf, in + base, slen);
        size_t pos = 0;
        while (pos < slen) {
            jp_span sp = {0xFFFFFFFFu, 0xFFFFFFFFu};
            ptrdiff_t n = jp_chunked_decode(&d, buf + pos, slen - pos, &sp);
            if (n < 0) {
                FUZZ_ASSERT(n == -1);
                FUZZ_ASSERT(d.error_status == 400 || d.error_status == 413 ||
                            d.error_status == 431);
                FUZZ_ASSERT(d.error_reason != NULL && strpbrk(d.error_reason, "\r\n") == NULL);
                FUZZ_ASSERT(!jp_chunked_done(&d));
                o->status = d.error_status;
                o->reason = d.error_reason;
                jp_span sp2;
                FUZZ_ASSERT(jp_chunked_decode(&d, buf, slen, &sp2) == -1);
                FUZZ_ASSERT(d.error_status == o->status && d.error_reason == o->reason);
                break;
            }
            size_t un = (size_t)n;
            FUZZ_ASSERT(un <= slen - pos);
            FUZZ_ASSERT(sp.len == 0 || ((size_t)sp.off + sp.len == un));
            FUZZ_ASSERT(un > 0 || jp_chunked_done(&d));
            memcpy(o->out + o->out_len, buf + pos + sp.off, sp.len);
            o->out_len += sp.len;
            o->consumed += un;
            pos += un;
            FUZZ_ASSERT(d.total == o->out_len);
            if (jp_chunked_done(&d)) {
                o->done = 1;
                jp_span sp2 = {1, 1};
                FUZZ_ASSERT(jp_chunked_decode(&d, buf + pos, slen - pos, &sp2) == 0);
                FUZZ_ASSERT(sp2.len == 0);
                break;
            }
        }
        if (buf != one)
            free(buf);
        base += slen;
    }
    free(one);
    FUZZ_ASSERT(d.total == o->out_len);
    FUZZ_ASSERT(d.total <= (lim ? lim : &jp_http1_default_limits)->max_body_size);
    /* Without an error, everything is consumed unless the body ended first. */
    FUZZ_ASSERT(o->status || o->done || o->consumed == len);
    FUZZ_ASSERT(o->consumed <= len);
}

static void
fuzz_same(const fuzz_outcome *a, const fuzz_outcome *b)
{
    FUZZ_ASSERT(a->status == b->status);
    FUZZ_ASSERT(a->reason == b->reason);
    FUZZ_ASSERT(a->done == b->done);
    FUZZ_ASSERT(a->out_len == b->out_len);
    FUZZ_ASSERT(memcmp(a->out, b->out, a->out_len) == 0);
    /* The failing call reports nothing, so after an error the count depends on the split. */
    FUZZ_ASSERT(a->status || a->consumed == b->consumed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned cfg = data[0];
    const jp_http1_limits *lim = (cfg & 3) == 0 ? NULL : &fuzz_limits[(cfg & 3) - 1];
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    uint32_t seed = (cfg >> 2) * 2654435761u;
    for (size_t i = 0; i < len && i < 4; i++)
        seed = seed * 31u + in[i];

    fuzz_outcome o[3];
    for (int m = 0; m < 3; m++) {
        o[m].out = malloc(len + 1);
        FUZZ_ASSERT(o[m].out != NULL);
        fuzz_feed(lim, in, len, m, seed, &o[m]);
    }
    fuzz_same(&o[0], &o[1]);
    fuzz_same(&o[0], &o[2]);
    for (int m = 0; m < 3; m++)
        free(o[m].out);
    return 0;
}
