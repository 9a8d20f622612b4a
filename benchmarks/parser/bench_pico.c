/*
 * bench_pico.c - the reference figures: picohttpparser over the same request set.
 *
 * picohttpparser is not part of this repository. benchmarks/parser/run fetches a published
 * copy of picohttpparser.c/.h at run time, and compiles this file against it twice: with
 * -msse4.2 (its SSE4.2 path, taken when __SSE4_2__ is defined) and without (its scalar path).
 *
 * Usage: bench_pico [--quick] [--reps N] [--time SECONDS] [--only ID]
 *
 * Each iteration, by kind of request:
 *   - head only: phr_parse_request() over the message;
 *   - Content-Length: phr_parse_request() only. picohttpparser does not interpret fields, so
 *     finding Content-Length is left to its caller; our parser does it (and validates Host,
 *     Connection, ...) inside the figure it is compared with;
 *   - chunked: phr_parse_request(), then phr_decode_chunked() with a zeroed decoder that
 *     consumes the trailer. That decoder works in place and destroys its input, so each
 *     iteration first copies the raw body into a scratch buffer; the cost of that copy alone
 *     is measured too (request id "chunked-copy") so the reader can take it off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "picohttpparser.h"

#ifdef __SSE4_2__
#define PICO_IMPL "pico-sse42"
#else
#define PICO_IMPL "pico-scalar"
#endif

#define PICO_MAX_HEADERS 100

typedef struct pico_ctx {
    const bench_request *rq;
    const char *buf;
    struct phr_header headers[PICO_MAX_HEADERS];
    char scratch[BENCH_CHUNKED_BODY_LEN * 2];
} pico_ctx;

/* phr_parse_request() over the whole message: the head length (or -1, -2) and, through
 * *num_headers, the field count. */
static int
pico_parse(pico_ctx *c, size_t *num_headers)
{
    const char *method, *path;
    size_t method_len, path_len;
    int minor_version;
    *num_headers = PICO_MAX_HEADERS;
    return phr_parse_request(c->buf, c->rq->len, &method, &method_len, &path, &path_len,
                             &minor_version, c->headers, num_headers, 0);
}

/* Decodes the chunked body in place in c->scratch (already filled with its len bytes).
 * Returns the decoded size, or (uint64_t)-1 if the body is invalid, incomplete or followed
 * by extra bytes. */
static uint64_t
pico_decode(pico_ctx *c, size_t len)
{
    struct phr_chunked_decoder d;
    memset(&d, 0, sizeof d);
    d.consume_trailer = 1;
    size_t size = len;
    ssize_t left = phr_decode_chunked(&d, c->scratch, &size);
    return left == 0 ? size : (uint64_t)-1;
}

static uint64_t
loop_head(void *ctx, uint64_t iters)
{
    pico_ctx *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        size_t num_headers;
        BENCH_BARRIER();
        int n = pico_parse(c, &num_headers);
        sum += (uint64_t)n + num_headers;
    }
    return sum;
}

static uint64_t
loop_chunked(void *ctx, uint64_t iters)
{
    pico_ctx *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        size_t num_headers;
        BENCH_BARRIER();
        int n = pico_parse(c, &num_headers);
        uint64_t body = (uint64_t)-1;
        if (n > 0) {
            size_t len = c->rq->len - (size_t)n;
            memcpy(c->scratch, c->buf + n, len);
            body = pico_decode(c, len);
        }
        sum += (uint64_t)n + body;
    }
    return sum;
}

/* The restoring copy of loop_chunked alone. */
static uint64_t
loop_copy(void *ctx, uint64_t iters)
{
    pico_ctx *c = ctx;
    size_t n = bench_head_len(c->rq), len = c->rq->len - n;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        BENCH_BARRIER();
        memcpy(c->scratch, c->buf + n, len);
        BENCH_BARRIER();
        sum += (unsigned char)c->scratch[i % len];
    }
    return sum;
}

static void
verify(pico_ctx *c)
{
    const bench_request *rq = c->rq;
    size_t num_headers;
    int r = pico_parse(c, &num_headers);
    const char *why = NULL;
    if (r < 0)
        why = "parse failed";
    else if ((size_t)r != bench_head_len(rq))
        why = "wrong head length";
    else if (num_headers != rq->headers)
        why = "wrong field count";
    else if (rq->kind == BENCH_CHUNKED) {
        size_t n = (size_t)r, len = rq->len - n;
        memcpy(c->scratch, c->buf + n, len);
        if (pico_decode(c, len) != rq->body_len ||
            memcmp(c->scratch, BENCH_CHUNK_DATA_256, 256) != 0)
            why = "chunked body not decoded";
    }
    if (why != NULL) {
        fprintf(stderr, "bench_pico: %s on request '%s' (%s): returned %d\n", why, rq->id,
                PICO_IMPL, r);
        exit(1);
    }
}

int
main(int argc, char **argv)
{
    bench_opts o;
    if (bench_parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: %s [--quick] [--reps N] [--time S] [--only ID]\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < BENCH_NREQUESTS; i++) {
        const bench_request *rq = &bench_requests[i];
        if (o.only != NULL && strcmp(o.only, rq->id) != 0)
            continue;
        pico_ctx *c = aligned_alloc(64, (sizeof(pico_ctx) + 63) / 64 * 64);
        if (c == NULL) {
            perror("aligned_alloc");
            return 2;
        }
        memset(c, 0, sizeof *c);
        c->rq = rq;
        c->buf = bench_copy_request(rq);
        verify(c);
        size_t head_len = bench_head_len(rq);
        if (rq->kind == BENCH_CHUNKED) {
            bench_measure(&o, rq, PICO_IMPL, rq->len, loop_chunked, c);
            bench_request copy = *rq;
            copy.id = "chunked-copy";
            bench_measure(&o, &copy, PICO_IMPL, rq->len - head_len, loop_copy, c);
        } else {
            bench_measure(&o, rq, PICO_IMPL, head_len, loop_head, c);
        }
        free((void *)c->buf);
        free(c);
    }
    return 0;
}
