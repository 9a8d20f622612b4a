/*
 * bench_common.h - the timing harness shared by bench_parser.c and bench_pico.c (header-only,
 * benchmark code only).
 *
 * Method, the same for every implementation and request:
 *   1. calibrate: run the loop with 1, 2, 4, ... iterations until one run lasts at least a
 *      tenth of the target time; this also warms caches, branch predictors and the CPU clock;
 *   2. scale the iteration count so that one repetition lasts about the target time, and run
 *      one unrecorded repetition of a third of that as a further warm-up;
 *   3. run the repetitions and report the median and the minimum of nanoseconds per request.
 * The median is the figure to quote; the minimum shows how far noise pushed it.
 *
 * Dead-code elimination: every loop returns a sum of results (bytes consumed, field count,
 * body size) that is added to a volatile global, and a compiler barrier between iterations
 * says the input may have changed, so neither a call nor its result can be hoisted or dropped.
 * The parsers are in other translation units and there is no LTO, which alone would suffice.
 *
 * Output is one tab-separated line per measurement, read by the runner:
 *   RESULT <request id> <implementation> <median ns> <min ns> <bytes> <iterations> <reps>
 */
#ifndef JP_BENCH_COMMON_H
#define JP_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "requests.h"

/* Tell the compiler that memory, the input included, may have changed. */
#define BENCH_BARRIER() __asm__ volatile("" ::: "memory")

static volatile uint64_t bench_sink;

typedef struct bench_opts {
    double target_ns; /* duration of one repetition */
    int reps;         /* repetitions; the median and min are over these */
    const char *only; /* run only this request id, or NULL for all */
} bench_opts;

/* One measured loop: runs `iters` requests and returns a checksum of their results. */
typedef uint64_t (*bench_loop)(void *ctx, uint64_t iters);

static double
bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Parses --quick, --reps N, --time SECONDS and --only ID; leaves other arguments to the
 * caller (it returns their count after compacting them into argv[1..]). */
static int
bench_parse_args(int argc, char **argv, bench_opts *o)
{
    int rest = 1;
    o->target_ns = 0.3e9;
    o->reps = 7;
    o->only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o->target_ns = 0.03e9;
            o->reps = 3;
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            o->reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--time") == 0 && i + 1 < argc) {
            o->target_ns = atof(argv[++i]) * 1e9;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            o->only = argv[++i];
        } else {
            argv[rest++] = argv[i];
        }
    }
    if (o->reps < 1 || o->reps > 99 || !(o->target_ns > 0)) {
        fprintf(stderr, "bad --reps or --time\n");
        exit(2);
    }
    return rest - 1;
}

/* Measures one loop and prints its RESULT line. */
static void
bench_measure(const bench_opts *o, const bench_request *rq, const char *impl, size_t bytes,
              bench_loop fn, void *ctx)
{
    double samples[99];
    uint64_t n = 1;
    double t;

    for (;;) {
        double t0 = bench_now_ns();
        bench_sink += fn(ctx, n);
        t = bench_now_ns() - t0;
        if (t >= o->target_ns / 10 || n >= (UINT64_C(1) << 40))
            break;
        n *= 2;
    }
    uint64_t iters = (uint64_t)((double)n * o->target_ns / (t > 1 ? t : 1));
    if (iters < 1)
        iters = 1;
    bench_sink += fn(ctx, iters / 3 + 1);

    for (int r = 0; r < o->reps; r++) {
        double t0 = bench_now_ns();
        bench_sink += fn(ctx, iters);
        samples[r] = (bench_now_ns() - t0) / (double)iters;
    }
    qsort(samples, (size_t)o->reps, sizeof samples[0], bench_cmp_double);
    double median = o->reps % 2 ? samples[o->reps / 2]
                                : (samples[o->reps / 2 - 1] + samples[o->reps / 2]) / 2;
    printf("RESULT\t%s\t%s\t%.2f\t%.2f\t%zu\t%llu\t%d\n", rq->id, impl, median, samples[0], bytes,
           (unsigned long long)iters, o->reps);
    fflush(stdout);
}

/* A private, 64-byte aligned copy of a request, as a server's read buffer would hold it. */
static char *
bench_copy_request(const bench_request *rq)
{
    char *buf = aligned_alloc(64, (rq->len + 63) / 64 * 64 + 64);
    if (buf == NULL) {
        perror("aligned_alloc");
        exit(2);
    }
    memcpy(buf, rq->bytes, rq->len);
    return buf;
}

/* Length of the head (up to and including the empty line) of a request in the set. */
static size_t
bench_head_len(const bench_request *rq)
{
    const char *end = strstr(rq->bytes, "\r\n\r\n");
    if (end == NULL) {
        fprintf(stderr, "request %s has no head end\n", rq->id);
        exit(2);
    }
    return (size_t)(end - rq->bytes) + 4;
}

#endif /* JP_BENCH_COMMON_H */
