/*
 * fuzz_http1.c - libFuzzer target for the request-head parser (http1.h).
 *
 * For every input, under the default limits and under small ones, and on each scan
 * implementation the CPU has, it checks:
 *   - the return is > 0, NEED_MORE or ERROR; a success never claims more than the input, its
 *     head ends in CRLF CRLF and every span lies inside it; an error has a known status and a
 *     reason; asking again gives the same answer;
 *   - the scalar and AVX2 implementations give identical answers, spans included;
 *   - for inputs under 2 KB, splitting the input in two at a point taken from the data, and
 *     feeding it one byte at a time, give the same answer as the whole.
 * The bytes past the length passed to the parser are poisoned (under ASan), so reading even
 * one of them is reported, exactly like the guard page of the unit tests.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define FUZZ_POISON(p, n) __asan_poison_memory_region((p), (n))
#define FUZZ_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#endif
#endif
#ifndef FUZZ_POISON
#define FUZZ_POISON(p, n) ((void)(p), (void)(n))
#define FUZZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define FUZZ_FIELDS 64
#define FUZZ_TRICKLE_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const jp_http1_limits fuzz_small_limits = {
    .max_request_line = 64,
    .max_head_size = 512,
    .max_headers = 8,
    .max_body_size = 1000,
    .max_chunk_line = 64,
};

typedef struct fuzz_outcome {
    ptrdiff_t ret;
    uint16_t status;
    jp_request_head head;
    jp_header fields[FUZZ_FIELDS];
} fuzz_outcome;

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static void
fuzz_check_span(jp_span s, size_t head_len)
{
    FUZZ_ASSERT((size_t)s.off + s.len <= head_len);
}

/* The invariants of one answer, then a copy of it for comparison. */
static void
fuzz_take(fuzz_outcome *o, jp_http1_parser *p, const char *buf, size_t len, ptrdiff_t ret)
{
    memset(o, 0, sizeof *o);
    o->ret = ret;
    FUZZ_ASSERT(ret > 0 || ret == JP_HTTP1_NEED_MORE || ret == JP_HTTP1_ERROR);
    if (ret == JP_HTTP1_ERROR) {
        uint16_t s = p->error_status;
        FUZZ_ASSERT(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
        FUZZ_ASSERT(p->error_reason != NULL && p->error_reason[0] != '\0');
        FUZZ_ASSERT(strchr(p->error_reason, '\r') == NULL);
        FUZZ_ASSERT(strchr(p->error_reason, '\n') == NULL);
        o->status = s;
        return;
    }
    if (ret < 0)
        return;
    const jp_request_head *h = &p->head;
    size_t n = (size_t)ret;
    FUZZ_ASSERT(n <= len && h->head_len == n && n >= 4);
    FUZZ_ASSERT(memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
    fuzz_check_span(h->method, n);
    fuzz_check_span(h->target, n);
    fuzz_check_span(h->path, n);
    fuzz_check_span(h->query, n);
    FUZZ_ASSERT(h->method.len > 0 && h->target.len > 0);
    FUZZ_ASSERT(h->target.off > h->method.off + h->method.len - 1);
    FUZZ_ASSERT(h->path.off >= h->target.off &&
                h->path.off + h->path.len <= h->target.off + h->target.len);
    FUZZ_ASSERT(h->version_minor <= 1 && h->method_id <= JP_METHOD_TRACE);
    FUZZ_ASSERT(h->header_count <= FUZZ_FIELDS);
    if (h->framing == JP_FRAMING_LENGTH)
        FUZZ_ASSERT(h->content_length > 0 && h->content_length <= p->_limits->max_body_size);
    else
        FUZZ_ASSERT(h->framing <= JP_FRAMING_CHUNKED && h->content_length == 0);
    if (h->framing == JP_FRAMING_CHUNKED)
        FUZZ_ASSERT(h->version_minor == 1);
    if (h->flags & (JP_HEAD_UPGRADE | JP_HEAD_EXPECT_CONTINUE))
        FUZZ_ASSERT(h->version_minor == 1);
    /* HAS_QUERY exactly when the target has a '?', and the query follows the first one. */
    const char *qm = memchr(buf + h->target.off, '?', h->target.len);
    FUZZ_ASSERT(!!(h->flags & JP_HEAD_HAS_QUERY) == (qm != NULL));
    if (qm != NULL)
        FUZZ_ASSERT(h->query.off == (uint32_t)(qm - buf) + 1 &&
                    h->query.off + h->query.len == h->target.off + h->target.len);
    else
        FUZZ_ASSERT(h->query.len == 0);
    for (uint32_t i = 0; i < h->header_count; i++) {
        const jp_header *f = &h->headers[i];
        fuzz_check_span(f->name, n);
        fuzz_check_span(f->value, n);
        FUZZ_ASSERT(f->name.len > 0 && f->id <= JP_H_COOKIE);
        FUZZ_ASSERT(buf[f->name.off + f->name.len] == ':');
        /* Values carry no surrounding whitespace and no CR or LF. */
        if (f->value.len) {
            char first = buf[f->value.off], last = buf[f->value.off + f->value.len - 1];
            FUZZ_ASSERT(first != ' ' && first != '\t' && last != ' ' && last != '\t');
            FUZZ_ASSERT(memchr(buf + f->value.off, '\r', f->value.len) == NULL);
            FUZZ_ASSERT(memchr(buf + f->value.off, '\n', f->value.len) == NULL);
        }
    }
    if (h->version_minor == 1)
        FUZZ_ASSERT(h->header_count > 0);
    o->head = *h;
    o->head.headers = NULL;
    if (h->header_count)
        memcpy(o->fields, h->headers, h->header_count * sizeof(jp_header));
}

static int
fuzz_span_eq(jp_span a, jp_span b)
{
    return a.off == b.off && a.len == b.len;
}

static int
fuzz_same(const fuzz_outcome *a, const fuzz_outcome *b)
{
    if (a->ret != b->ret || a->status != b->status)
        return 0;
    if (a->ret <= 0)
        return 1;
    const jp_request_head *x = &a->head, *y = &b->head;
    if (!fuzz_span_eq(x->method, y->method) || !fuzz_span_eq(x->target, y->target) ||
        !fuzz_span_eq(x->path, y->path) || !fuzz_span_eq(x->query, y->query) ||
        x->version_minor != y->version_minor || x->method_id != y->method_id ||
        x->framing != y->framing || x->flags != y->flags ||
        x->content_length != y->content_length || x->header_count != y->header_count)
        return 0;
    for (uint32_t i = 0; i < x->header_count; i++)
        if (!fuzz_span_eq(a->fields[i].name, b->fields[i].name) ||
            !fuzz_span_eq(a->fields[i].value, b->fields[i].value) ||
            a->fields[i].id != b->fields[i].id)
            return 0;
    return 1;
}

/* Parses buf[0..n) with the bytes from n on (up to size) poisoned. */
static ptrdiff_t
fuzz_parse_prefix(jp_http1_parser *p, char *buf, size_t n, size_t size)
{
    FUZZ_POISON(buf + n, size - n);
    ptrdiff_t r = jp_http1_parse(p, buf, n);
    FUZZ_UNPOISON(buf + n, size - n);
    return r;
}

static jp_header fuzz_fields[FUZZ_FIELDS];
static fuzz_outcome fuzz_whole, fuzz_other, fuzz_first;

static void
fuzz_one(char *buf, size_t size, const jp_http1_limits *limits, jp_simd_level level, int first,
         uint32_t split_seed)
{
    jp_http1_parser p;
    jp_http1_parser_init(&p, limits, fuzz_fields, FUZZ_FIELDS);
    p.simd = level;
    ptrdiff_t r = fuzz_parse_prefix(&p, buf, size, size);
    fuzz_take(&fuzz_whole, &p, buf, size, r);
    /* The answer is sticky. */
    FUZZ_ASSERT(fuzz_parse_prefix(&p, buf, size, size) == r);
    if (first)
        fuzz_first = fuzz_whole;
    else
        FUZZ_ASSERT(fuzz_same(&fuzz_first, &fuzz_whole));
    if (size >= FUZZ_TRICKLE_MAX)
        return;

    /* Two calls, split at a point the data chooses. */
    size_t k = size ? split_seed % (size + 1) : 0;
    jp_http1_parser_init(&p, limits, fuzz_fields, FUZZ_FIELDS);
    p.simd = level;
    r = fuzz_parse_prefix(&p, buf, k, size);
    if (r == JP_HTTP1_NEED_MORE)
        r = fuzz_parse_prefix(&p, buf, size, size);
    fuzz_take(&fuzz_other, &p, buf, size, r);
    FUZZ_ASSERT(fuzz_same(&fuzz_whole, &fuzz_other));

    /* The same split, on a header array that starts at one entry and doubles at each
     * JP_HTTP1_HEADERS_FULL (as the connection's does), each old array freed at once: the
     * same answer as the whole array's. Its limit is the whole parse's effective one. */
    {
        const jp_http1_limits *base = limits ? limits : &jp_http1_default_limits;
        jp_http1_limits glim = *base;
        if (glim.max_headers > FUZZ_FIELDS)
            glim.max_headers = FUZZ_FIELDS;
        uint32_t cap = 1;
        jp_header *arr = malloc(sizeof(jp_header));
        FUZZ_ASSERT(arr != NULL);
        jp_http1_parser_init(&p, &glim, arr, cap);
        p.simd = level;
        p.grow_headers = 1;
        size_t have = k;
        r = fuzz_parse_prefix(&p, buf, have, size);
        for (;;) {
            if (r == JP_HTTP1_HEADERS_FULL) {
                FUZZ_ASSERT(p.head.header_count == cap && cap < glim.max_headers);
                uint32_t want = cap <= glim.max_headers / 2 ? cap * 2 : glim.max_headers;
                jp_header *grown = malloc(want * sizeof(jp_header));
                FUZZ_ASSERT(grown != NULL);
                memcpy(grown, arr, cap * sizeof(jp_header));
                free(arr);
                arr = grown;
                cap = want;
                jp_http1_parser_set_headers(&p, arr, cap);
            } else if (r == JP_HTTP1_NEED_MORE && have < size) {
                have = size;
            } else {
                break;
            }
            r = fuzz_parse_prefix(&p, buf, have, size);
        }
        fuzz_take(&fuzz_other, &p, buf, size, r);
        FUZZ_ASSERT(fuzz_same(&fuzz_whole, &fuzz_other));
        free(arr);
    }

    /* One byte at a time. */
    jp_http1_parser_init(&p, limits, fuzz_fields, FUZZ_FIELDS);
    p.simd = level;
    r = JP_HTTP1_NEED_MORE;
    for (size_t n = 1; n <= size && r == JP_HTTP1_NEED_MORE; n++)
        r = fuzz_parse_prefix(&p, buf, n, size);
    fuzz_take(&fuzz_other, &p, buf, size, r);
    FUZZ_ASSERT(fuzz_same(&fuzz_whole, &fuzz_other));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    static jp_simd_level levels[2];
    static int nlevels;
    if (!initialised) {
        jp_simd_init();
        levels[nlevels++] = JP_SIMD_SCALAR;
        if (jp_simd_cpu_best() == JP_SIMD_AVX2)
            levels[nlevels++] = JP_SIMD_AVX2;
        initialised = 1;
    }
    /* An exact-size copy, so the allocation ends where the input does. */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    if (size)
        memcpy(buf, data, size);
    uint32_t seed = 2166136261u;
    for (size_t i = 0; i < size && i < 64; i++)
        seed = (seed ^ data[i]) * 16777619u;
    for (int li = 0; li < nlevels; li++) {
        fuzz_one(buf, size, NULL, levels[li], li == 0, seed);
    }
    for (int li = 0; li < nlevels; li++) {
        fuzz_one(buf, size, &fuzz_small_limits, levels[li], li == 0, seed);
    }
    free(buf);
    return 0;
}
