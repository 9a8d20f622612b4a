/*
 * bench_parser.c - nanoseconds per request of our HTTP/1 head parser and chunked decoder
 * (layer 0 only: it links http1.c, chunked.c, simd.c and chars.c, never Python).
 *
 * Usage: bench_parser [--quick] [--reps N] [--time SECONDS] [--only ID] [avx2] [scalar]
 * With no path named it measures both, one after the other in this process. benchmarks/parser/run
 * builds and runs it; see benchmarks/README.md for the method.
 *
 * Each iteration is what the server pays per request on a keep-alive connection:
 * jp_http1_parser_reset(), then jp_http1_parse() over the whole message, and then by kind:
 *   - a Content-Length body is located (head_len + content_length checked against the bytes);
 *   - a chunked body is decoded with a fresh jp_chunked_decoder and every data span is copied
 *     into a body buffer, as the server assembles the body it hands to the application.
 * The scan path is chosen by writing p.simd after jp_http1_parser_init(), as simd.h allows.
 * The chunked decoder has no vector path, so only its head part differs between the columns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "chunked.h"
#include "http1.h"
#include "simd.h"

typedef struct parser_ctx {
    const bench_request *rq;
    const char *buf;
    jp_http1_parser p;
    jp_header headers[JP_HTTP1_DEFAULT_MAX_HEADERS];
    char body[BENCH_CHUNKED_BODY_LEN];
} parser_ctx;

/* Decodes the chunked body that starts at buf and copies its data into ctx->body. Returns the
 * decoded size, or (uint64_t)-1 if the body is invalid or incomplete. */
static uint64_t
decode_chunked_body(parser_ctx *c, const char *buf, size_t len)
{
    jp_chunked_decoder d;
    size_t out = 0;
    jp_chunked_init(&d, NULL);
    while (!jp_chunked_done(&d)) {
        jp_span data;
        ptrdiff_t n = jp_chunked_decode(&d, buf, len, &data);
        if (n < 0 || (n == 0 && len == 0))
            return (uint64_t)-1;
        if (data.len) {
            if (out + data.len > sizeof c->body)
                return (uint64_t)-1;
            memcpy(c->body + out, buf + data.off, data.len);
            out += data.len;
        }
        buf += n;
        len -= (size_t)n;
    }
    return out;
}

static uint64_t
loop_head(void *ctx, uint64_t iters)
{
    parser_ctx *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        BENCH_BARRIER();
        jp_http1_parser_reset(&c->p);
        ptrdiff_t n = jp_http1_parse(&c->p, c->buf, c->rq->len);
        sum += (uint64_t)n + c->p.head.header_count;
    }
    return sum;
}

static uint64_t
loop_length(void *ctx, uint64_t iters)
{
    parser_ctx *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        BENCH_BARRIER();
        jp_http1_parser_reset(&c->p);
        ptrdiff_t n = jp_http1_parse(&c->p, c->buf, c->rq->len);
        const char *body = NULL;
        if (n > 0 && c->p.head.framing == JP_FRAMING_LENGTH &&
            c->p.head.content_length <= c->rq->len - (size_t)n)
            body = c->buf + n;
        sum += (uint64_t)n + (uint64_t)(uintptr_t)body + c->p.head.content_length;
    }
    return sum;
}

static uint64_t
loop_chunked(void *ctx, uint64_t iters)
{
    parser_ctx *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        BENCH_BARRIER();
        jp_http1_parser_reset(&c->p);
        ptrdiff_t n = jp_http1_parse(&c->p, c->buf, c->rq->len);
        uint64_t body = (uint64_t)-1;
        if (n > 0 && c->p.head.framing == JP_FRAMING_CHUNKED)
            body = decode_chunked_body(c, c->buf + n, c->rq->len - (size_t)n);
        sum += (uint64_t)n + body;
    }
    return sum;
}

/* Parses once and checks every answer the loops rely on; exits on a mismatch. */
static void
verify(parser_ctx *c, const char *impl)
{
    const bench_request *rq = c->rq;
    size_t head_len = bench_head_len(rq);
    jp_http1_parser_reset(&c->p);
    ptrdiff_t n = jp_http1_parse(&c->p, c->buf, rq->len);
    const char *why = NULL;
    if (n < 0)
        why = "parse failed";
    else if ((size_t)n != head_len)
        why = "wrong head length";
    else if (c->p.head.header_count != rq->headers)
        why = "wrong field count";
    else if (rq->kind == BENCH_HEAD && c->p.head.framing != JP_FRAMING_NONE)
        why = "unexpected body framing";
    else if (rq->kind == BENCH_LENGTH && (c->p.head.framing != JP_FRAMING_LENGTH ||
                                          c->p.head.content_length != rq->body_len ||
                                          head_len + rq->body_len != rq->len))
        why = "Content-Length body not found";
    else if (rq->kind == BENCH_CHUNKED &&
             (c->p.head.framing != JP_FRAMING_CHUNKED ||
              decode_chunked_body(c, c->buf + n, rq->len - (size_t)n) != rq->body_len ||
              memcmp(c->body, BENCH_CHUNK_DATA_256, 256) != 0))
        why = "chunked body not decoded";
    if (why != NULL) {
        fprintf(stderr, "bench_parser: %s on request '%s' (%s): returned %td, status %u %s\n",
                why, rq->id, impl, n, c->p.error_status,
                c->p.error_reason ? c->p.error_reason : "");
        exit(1);
    }
}

static void
run_path(const bench_opts *o, jp_simd_level level)
{
    const char *impl = level == JP_SIMD_AVX2 ? "ours-avx2" : "ours-scalar";
    for (size_t i = 0; i < BENCH_NREQUESTS; i++) {
        const bench_request *rq = &bench_requests[i];
        if (o->only != NULL && strcmp(o->only, rq->id) != 0)
            continue;
        parser_ctx *c = aligned_alloc(64, (sizeof(parser_ctx) + 63) / 64 * 64);
        if (c == NULL) {
            perror("aligned_alloc");
            exit(2);
        }
        memset(c, 0, sizeof *c);
        c->rq = rq;
        c->buf = bench_copy_request(rq);
        jp_http1_parser_init(&c->p, NULL, c->headers, JP_HTTP1_DEFAULT_MAX_HEADERS);
        c->p.simd = level;
        verify(c, impl);

        bench_loop fn = rq->kind == BENCH_HEAD     ? loop_head
                        : rq->kind == BENCH_LENGTH ? loop_length
                                                   : loop_chunked;
        size_t scanned = rq->kind == BENCH_CHUNKED ? rq->len : bench_head_len(rq);
        bench_measure(o, rq, impl, scanned, fn, c);
        free((void *)c->buf);
        free(c);
    }
}

int
main(int argc, char **argv)
{
    bench_opts o;
    int nargs = bench_parse_args(argc, argv, &o);
    int want_avx2 = nargs == 0, want_scalar = nargs == 0;
    for (int i = 1; i <= nargs; i++) {
        if (strcmp(argv[i], "avx2") == 0) {
            want_avx2 = 1;
        } else if (strcmp(argv[i], "scalar") == 0) {
            want_scalar = 1;
        } else {
            fprintf(stderr, "usage: %s [--quick] [--reps N] [--time S] [--only ID] "
                            "[avx2] [scalar]\n",
                    argv[0]);
            return 2;
        }
    }

    jp_simd_init();
    if (want_avx2) {
        if (jp_simd_cpu_best() == JP_SIMD_AVX2)
            run_path(&o, JP_SIMD_AVX2);
        else
            printf("NOTE\tthis CPU has no AVX2 (with BMI1/2, POPCNT): the AVX2 column is "
                   "empty\n");
    }
    if (want_scalar)
        run_path(&o, JP_SIMD_SCALAR);
    return 0;
}
