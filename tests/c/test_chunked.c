/*
 * test_chunked.c - tests of the chunked decoder (chunked.h), built with ASan and UBSan.
 *
 * Every case is decoded whole, split in two at every byte boundary, and one byte at a time,
 * each slice placed flush against a guard page; all three must give the same decoded bytes,
 * consumed count and error. The driver also checks the call contract on every call: the
 * return never exceeds the input, a data span ends exactly where the call stopped, a call with
 * input consumes something unless the body is done, and errors are sticky.
 *
 * The randomized part compares the decoder against ref_decode(), a whole-buffer recursive
 * descent over the RFC 9112 grammar written independently of the state machine, on valid and
 * mutated bodies fed in random slices.
 */
#include <setjmp.h>
#include <stdint.h>

#include "chars.h"
#include "chunked.h"
#include "jp_test.h"

/* Limits used by the cases: NULL means the defaults. */
static const jp_http1_limits small_limits = {
    .max_request_line = 8192,
    .max_head_size = 32,
    .max_headers = 100,
    .max_body_size = 16,
    .max_chunk_line = 16,
};

static const jp_http1_limits huge_limits = {
    .max_request_line = 8192,
    .max_head_size = 65536,
    .max_headers = 100,
    .max_body_size = UINT64_MAX,
    .max_chunk_line = 4096,
};

/* At the edges of the decoder's fast path: a size line of 3 bytes ("5\r\n"), a trailer
 * section of 2 (the final CRLF alone); and one byte short of even that. */
static const jp_http1_limits tiny_limits = {
    .max_request_line = 8192,
    .max_head_size = 2,
    .max_headers = 100,
    .max_body_size = 64,
    .max_chunk_line = 3,
};

static const jp_http1_limits head1_limits = {
    .max_request_line = 8192,
    .max_head_size = 1,
    .max_headers = 100,
    .max_body_size = 64,
    .max_chunk_line = 16,
};

static jp_guard guard;

/* ------------------------------------------------------------------------------------------ */
/* The driver                                                                                  */

/* What feeding one input produced. */
typedef struct outcome {
    int status;         /* 0, or the error status */
    const char *reason; /* the error reason, or NULL */
    int done;
    size_t consumed;    /* bytes consumed by successful calls */
    unsigned char *out; /* decoded bytes (capacity: the input length) */
    size_t out_len;
} outcome;

static void
outcome_init(outcome *o, size_t cap)
{
    memset(o, 0, sizeof *o);
    o->out = malloc(cap + 1);
    if (o->out == NULL)
        exit(2);
}

static void
outcome_free(outcome *o)
{
    free(o->out);
    o->out = NULL;
}

/* Feeds in[0..len) as consecutive slices of the given lengths (which sum to len), each copied
 * flush against the guard page, calling the decoder until each slice is used up, the body is
 * done or an error occurs. Checks the contract of every call on the way. */
static void
feed(const jp_http1_limits *lim, const unsigned char *in, size_t len, const size_t *slices,
     size_t nslices, outcome *o, const char *label)
{
    size_t sum = 0;
    for (size_t s = 0; s < nslices; s++)
        sum += slices[s];
    CHECK(sum == len, "%s: slices cover %zu of %zu bytes", label, sum, len);

    jp_chunked_decoder d;
    jp_chunked_init(&d, lim);
    size_t base = 0;
    o->status = 0;
    o->reason = NULL;
    o->done = 0;
    o->consumed = 0;
    o->out_len = 0;

    for (size_t s = 0; s < nslices && !o->done && !o->status; s++) {
        size_t slen = slices[s];
        const char *buf = jp_guarded_copy(&guard, in + base, slen);
        size_t pos = 0;
        while (pos < slen) {
            jp_span sp = {12345, 12345};
            ptrdiff_t n = jp_chunked_decode(&d, buf + pos, slen - pos, &sp);
            if (n < 0) {
                CHECK(n == -1, "%s: error return %td", label, n);
                CHECK(d.error_status != 0 && d.error_reason != NULL, "%s: error unset", label);
                o->status = d.error_status;
                o->reason = d.error_reason;
                /* Sticky: whatever comes next, the answer stays the same. */
                jp_span sp2;
                ptrdiff_t again = jp_chunked_decode(&d, "0\r\n\r\n", 5, &sp2);
                CHECK(again == -1 && d.error_status == o->status && d.error_reason == o->reason,
                      "%s: error not sticky", label);
                CHECK(!jp_chunked_done(&d), "%s: done after error", label);
                break;
            }
            size_t un = (size_t)n;
            CHECK(un <= slen - pos, "%s: consumed %zu of %zu", label, un, slen - pos);
            if (un > slen - pos)
                un = slen - pos;
            CHECK(sp.len == 0 || (size_t)sp.off + sp.len == un,
                  "%s: span %u+%u does not end the call's %zu bytes", label, sp.off, sp.len, un);
            CHECK(un > 0 || jp_chunked_done(&d), "%s: no progress while not done", label);
            if (sp.len && (size_t)sp.off + sp.len <= un) {
                memcpy(o->out + o->out_len, buf + pos + sp.off, sp.len);
                o->out_len += sp.len;
            }
            o->consumed += un;
            pos += un;
            if (jp_chunked_done(&d)) {
                o->done = 1;
                /* Done is final: nothing more is consumed or reported. */
                jp_span sp2 = {1, 1};
                ptrdiff_t again = jp_chunked_decode(&d, buf + pos, slen - pos, &sp2);
                CHECK(again == 0 && sp2.len == 0, "%s: consumed after done", label);
                break;
            }
            if (un == 0)
                break;
        }
        base += slen;
    }
    CHECK(d.total == o->out_len, "%s: total %llu, decoded %zu", label, (unsigned long long)d.total,
          o->out_len);
}

static int
outcome_same(const outcome *a, const outcome *b)
{
    if (a->status != b->status || a->reason != b->reason || a->done != b->done)
        return 0;
    if (a->out_len != b->out_len || memcmp(a->out, b->out, a->out_len) != 0)
        return 0;
    /* After an error the bytes consumed depend on where the input was cut, since the call
     * that fails reports nothing; before it, everything is consumed or the body is done. */
    return a->status != 0 || a->consumed == b->consumed;
}

/* Decodes whole, at every two-way split and byte by byte; all must agree with *whole. */
static void
feed_all_ways(const jp_http1_limits *lim, const unsigned char *in, size_t len, outcome *whole,
              const char *label)
{
    size_t one = len;
    feed(lim, in, len, &one, len ? 1 : 0, whole, label);

    outcome o;
    outcome_init(&o, len);
    for (size_t i = 1; i < len; i++) {
        size_t two[2] = {i, len - i};
        feed(lim, in, len, two, 2, &o, label);
        CHECK(outcome_same(whole, &o), "%s: split at %zu differs (status %d/%d, out %zu/%zu)",
              label, i, whole->status, o.status, whole->out_len, o.out_len);
    }
    size_t *ones = malloc((len + 1) * sizeof *ones);
    for (size_t i = 0; i < len; i++)
        ones[i] = 1;
    feed(lim, in, len, ones, len, &o, label);
    CHECK(outcome_same(whole, &o), "%s: byte at a time differs (status %d/%d, out %zu/%zu)", label,
          whole->status, o.status, whole->out_len, o.out_len);
    free(ones);
    outcome_free(&o);
}

/* ------------------------------------------------------------------------------------------ */
/* Table cases                                                                                 */

typedef struct valid_case {
    const char *in;
    size_t len;
    const char *out;
    size_t out_len;
    size_t consumed; /* where the body ends (the rest is the next request) */
    int done;        /* 0: a valid prefix, everything consumed, more needed */
    const jp_http1_limits *lim;
} valid_case;

/* clang-format off */
#define VALID(in, out, consumed) {in, sizeof(in) - 1, out, sizeof(out) - 1, consumed, 1, NULL}
#define VALID_L(in, out, consumed, lim) {in, sizeof(in) - 1, out, sizeof(out) - 1, consumed, 1, lim}
#define PARTIAL_L(in, out, lim) {in, sizeof(in) - 1, out, sizeof(out) - 1, sizeof(in) - 1, 0, lim}
/* clang-format on */

static const valid_case valid_cases[] = {
    VALID("0\r\n\r\n", "", 5),
    VALID("5\r\nhello\r\n0\r\n\r\n", "hello", 15),
    VALID("1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n4\r\nghij\r\n0\r\n\r\n", "abcdefghij", 35),
    VALID("A\r\n0123456789\r\n0\r\n\r\n", "0123456789", 20),
    VALID("a\r\n0123456789\r\n0\r\n\r\n", "0123456789", 20),
    VALID("1f\r\n0123456789abcdef0123456789abcde\r\n0\r\n\r\n", "0123456789abcdef0123456789abcde",
          42),
    VALID("1F\r\n0123456789abcdef0123456789abcde\r\n0\r\n\r\n", "0123456789abcdef0123456789abcde",
          42),
    VALID("0005\r\nhello\r\n000\r\n\r\n", "hello", 20),
    VALID("00000000000000000000000001\r\nx\r\n0\r\n\r\n", "x", 36),
    VALID("5;foo\r\nhello\r\n0\r\n\r\n", "hello", 19),
    VALID("5;foo=bar\r\nhello\r\n0\r\n\r\n", "hello", 23),
    VALID("5 ; foo = bar ; baz\r\nhello\r\n0\r\n\r\n", "hello", 33),
    VALID("5\t;\tx\t=\t\"y\"\t;z\r\nhello\r\n0\r\n\r\n", "hello", 28),
    VALID("5;name=\"a \\\"quoted\\\" \\\\ value\"\r\nhello\r\n0\r\n\r\n", "hello", 44),
    VALID("5;e=\"\"\r\nhello\r\n0\r\n\r\n", "hello", 20),
    VALID("5;e=\"tab\there \x80\xff\\\x80\"\r\nhello\r\n0\r\n\r\n", "hello", 33),
    VALID("5;a;b;c=d;e=\"f\"\r\nhello\r\n0\r\n\r\n", "hello", 29),
    VALID("1;!#$%&'*+-.^_`|~09AZaz=!#$%&'*+-.^_`|~\r\nx\r\n0\r\n\r\n", "x", 49),
    VALID("0;last=\"yes\"\r\n\r\n", "", 16),
    VALID("0\r\nExpires: never\r\nX-Sum: abc\r\n\r\n", "", 33),
    VALID("0\r\nX:\r\n\r\n", "", 9),
    VALID("0\r\nX:\tv a l\t \r\n\r\n", "", 17),
    VALID("0\r\nX: obs-text \x80\xfe\r\n\r\n", "", 21),
    VALID("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "abc", 13),
    VALID("0\r\n\r\n0\r\n\r\n", "", 5),
    VALID("0\r\nT: 1\r\n\r\n\r\n", "", 11),
    VALID("4\r\n\r\n\0\n\r\n0\r\n\r\n", "\r\n\0\n", 14),
    VALID("2\r\n\r\n\r\n2\r\n0\r\r\n0\r\n\r\n", "\r\n0\r", 19),
    /* Exactly at the small limits: 16 body bytes, a 16-byte size line, a 32-byte trailer
     * section (30 bytes of field line and the final CRLF). */
    VALID_L("10\r\n0123456789abcdef\r\n0\r\n\r\n", "0123456789abcdef", 27, &small_limits),
    VALID_L("8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n", "0123456789abcdef", 31, &small_limits),
    VALID_L("5;abcdefghijkl\r\nhello\r\n0\r\n\r\n", "hello", 28, &small_limits),
    VALID_L("0\r\nX: 0123456789012345678901234\r\n\r\n", "", 35, &small_limits),
    VALID_L("0000000000005\r\nhello\r\n0\r\n\r\n", "hello", 27, &small_limits),
    /* The fast path takes a size line of up to 15 digits with no test per digit; longer ones
     * go on digit by digit. */
    VALID_L("00000000000000a\r\n0123456789\r\n0\r\n\r\n", "0123456789", 34, &huge_limits),
    VALID_L("000000000000000a\r\n0123456789\r\n0\r\n\r\n", "0123456789", 35, &huge_limits),
    VALID_L("0000000000000000a\r\n0123456789\r\n0\r\n\r\n", "0123456789", 36, &huge_limits),
    PARTIAL_L("fffffffffffffff\r\nab", "ab", &huge_limits),
    PARTIAL_L("1000000000000000\r\nab", "ab", &huge_limits),
    VALID_L("5\r\nhello\r\n0\r\n\r\n", "hello", 15, &tiny_limits),
    /* The largest 64-bit size is accepted when the limit allows it. */
    PARTIAL_L("ffffffffffffffff\r\nab", "ab", &huge_limits),
    PARTIAL_L("FFFFFFFFFFFFFFFF;x=\"y\"\r\n", "", &huge_limits),
    PARTIAL_L("5\r\nhel", "hel", NULL),
    PARTIAL_L("5\r\nhello\r", "hello", NULL),
    PARTIAL_L("0\r\nX: y\r\n", "", NULL),
};

typedef struct invalid_case {
    const char *in;
    size_t len;
    int status;
    const char *reason; /* NULL: not checked */
    const jp_http1_limits *lim;
} invalid_case;

/* clang-format off */
#define BAD(in, status) {in, sizeof(in) - 1, status, NULL, NULL}
#define BAD_R(in, status, reason) {in, sizeof(in) - 1, status, reason, NULL}
#define BAD_L(in, status, reason, lim) {in, sizeof(in) - 1, status, reason, lim}
/* clang-format on */

static const invalid_case invalid_cases[] = {
    BAD_R("g\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk size"),
    BAD("5g\r\nhello\r\n0\r\n\r\n", 400),
    BAD("0x5\r\nhello\r\n0\r\n\r\n", 400),
    BAD("-5\r\nhello\r\n0\r\n\r\n", 400),
    BAD("+5\r\nhello\r\n0\r\n\r\n", 400),
    BAD(" 5\r\nhello\r\n0\r\n\r\n", 400),
    BAD("\t5\r\nhello\r\n0\r\n\r\n", 400),
    BAD_R("5 \r\nhello\r\n0\r\n\r\n", 400, "whitespace at end of chunk size line"),
    BAD("5\t\r\nhello\r\n0\r\n\r\n", 400),
    BAD("1 0\r\n0123456789abcdef\r\n0\r\n\r\n", 400),
    BAD("5 =x\r\nhello\r\n0\r\n\r\n", 400),
    BAD_R("\r\nhello\r\n0\r\n\r\n", 400, "missing chunk size"),
    BAD_R(";ext\r\nhello\r\n0\r\n\r\n", 400, "missing chunk size"),
    BAD_R("\n", 400, "bare LF in chunked body"),
    BAD_R("5\r\nhello0\r\n\r\n", 400, "chunk data not followed by CRLF"),
    BAD_R("5\r\nhelloX\r\n0\r\n\r\n", 400, "chunk data not followed by CRLF"),
    BAD("3\r\nabcd\r\n0\r\n\r\n", 400),
    BAD_R("5\nhello\r\n0\r\n\r\n", 400, "bare LF in chunked body"),
    BAD_R("5\rhello\r\n0\r\n\r\n", 400, "bare CR in chunked body"),
    BAD("5;a\rhello\r\n0\r\n\r\n", 400),
    BAD("5;a\nhello\r\n0\r\n\r\n", 400),
    BAD("5\r\nhello\n0\r\n\r\n", 400),
    BAD("5\r\nhello\r0\r\n\r\n", 400),
    BAD("5\r\nhello\r\r\n0\r\n\r\n", 400),
    BAD("5\r\nhello\r\n 0\r\n\r\n", 400),
    BAD("5;a\0b\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a=b\0\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a=\"\0\"\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a=\"\x7f\"\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a=\"\\\r\"\r\nhello\r\n0\r\n\r\n", 400),
    BAD_R("5;a=\"abc\r\nhello\r\n0\r\n\r\n", 400, "invalid quoted string"),
    BAD("5;a=\"b\"\"c\"\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;;a\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;=v\r\nhello\r\n0\r\n\r\n", 400),
    BAD_R("5;a \r\nhello\r\n0\r\n\r\n", 400, "whitespace at end of chunk size line"),
    BAD("5;a=\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a= \r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a=b \r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a=b@c\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a=b=c\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a b\r\nhello\r\n0\r\n\r\n", 400),
    BAD("5;a\x80\r\nhello\r\n0\r\n\r\n", 400),
    BAD_R("ffffffffffffffffff\r\n", 413, "chunked body too large"),
    BAD_L("10000000000000000\r\n", 413, "chunk size too large", &huge_limits),
    BAD_L("ffffffffffffffff0\r\n", 413, "chunk size too large", &huge_limits),
    BAD_R("1000001\r\n", 413, "chunked body too large"),
    BAD_L("11\r\n", 413, "chunked body too large", &small_limits),
    BAD_R("100000000000000\r\n", 413, "chunked body too large"),
    BAD_L("41\r\n", 413, "chunked body too large", &tiny_limits),
    BAD_L("05\r\nhello\r\n0\r\n\r\n", 400, "chunk size line too long", &tiny_limits),
    BAD_L("5;a\r\nhello\r\n0\r\n\r\n", 400, "chunk size line too long", &tiny_limits),
    BAD_L("5\r\nhello\r\n0\r\nX:\r\n\r\n", 431, "trailer section too large", &tiny_limits),
    BAD_L("0\r\n\r\n", 431, "trailer section too large", &head1_limits),
    BAD_L("8\r\n01234567\r\n9\r\n012345678\r\n0\r\n\r\n", 413, "chunked body too large",
          &small_limits),
    BAD_L("5;abcdefghijklm\r\nhello\r\n0\r\n\r\n", 400, "chunk size line too long", &small_limits),
    BAD_L("000000000000005\r\nhello\r\n0\r\n\r\n", 400, "chunk size line too long", &small_limits),
    BAD_L("5;a=\"unterminated quoted string\r\nhello\r\n0\r\n\r\n", 400, "chunk size line too long",
          &small_limits),
    BAD_L("0\r\nX: 01234567890123456789012345\r\n\r\n", 431, "trailer section too large",
          &small_limits),
    BAD_L("0\r\nA: 012345\r\nB: 012345\r\nC: 012345\r\n\r\n", 431, "trailer section too large",
          &small_limits),
    BAD("0\r\nX : y\r\n\r\n", 400),
    BAD("0\r\nX\t: y\r\n\r\n", 400),
    BAD_R("0\r\nX: y\r\n z\r\n\r\n", 400, "obsolete line folding in trailer"),
    BAD("0\r\nX: y\r\n\tz\r\n\r\n", 400),
    BAD("0\r\n X: y\r\n\r\n", 400),
    BAD("0\r\n: v\r\n\r\n", 400),
    BAD("0\r\nXY\r\n\r\n", 400),
    BAD("0\r\nX\x80: y\r\n\r\n", 400),
    BAD("0\r\nX: a\0b\r\n\r\n", 400),
    BAD("0\r\nX: a\x7f\r\n\r\n", 400),
    BAD("0\r\nX: y\n\r\n", 400),
    BAD("0\r\nX: y\ry\r\n\r\n", 400),
    BAD("0\r\n\n", 400),
    BAD("0\r\n\rX", 400),
    BAD("0\n\r\n", 400),
    BAD("0\r\r\n\r\n", 400),
};

static void
test_valid_cases(void)
{
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        const valid_case *c = &valid_cases[i];
        char label[64];
        snprintf(label, sizeof label, "valid[%zu]", i);
        outcome whole;
        outcome_init(&whole, c->len);
        feed_all_ways(c->lim, (const unsigned char *)c->in, c->len, &whole, label);
        CHECK(whole.status == 0, "%s: status %d (%s)", label, whole.status,
              whole.reason ? whole.reason : "");
        CHECK(whole.done == c->done, "%s: done %d", label, whole.done);
        CHECK(whole.consumed == c->consumed, "%s: consumed %zu, want %zu", label, whole.consumed,
              c->consumed);
        CHECK(whole.out_len == c->out_len && memcmp(whole.out, c->out, c->out_len) == 0,
              "%s: decoded %zu bytes, want %zu", label, whole.out_len, c->out_len);

        /* Every proper prefix of a complete body is valid, wholly consumed and not done. */
        outcome pre;
        outcome_init(&pre, c->len);
        size_t stop = c->done ? c->consumed : c->len;
        for (size_t k = 0; k < stop; k++) {
            feed(c->lim, (const unsigned char *)c->in, k, &k, k ? 1 : 0, &pre, label);
            CHECK(pre.status == 0 && !pre.done && pre.consumed == k &&
                      pre.out_len <= whole.out_len && memcmp(pre.out, whole.out, pre.out_len) == 0,
                  "%s: prefix %zu: status %d done %d consumed %zu", label, k, pre.status, pre.done,
                  pre.consumed);
        }
        outcome_free(&pre);
        outcome_free(&whole);
    }
}

static void
test_invalid_cases(void)
{
    for (size_t i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++) {
        const invalid_case *c = &invalid_cases[i];
        char label[64];
        snprintf(label, sizeof label, "invalid[%zu]", i);
        outcome whole;
        outcome_init(&whole, c->len);
        feed_all_ways(c->lim, (const unsigned char *)c->in, c->len, &whole, label);
        CHECK(whole.status == c->status, "%s: status %d, want %d (%s)", label, whole.status,
              c->status, whole.reason ? whole.reason : "no error");
        CHECK(c->reason == NULL || (whole.reason && strcmp(whole.reason, c->reason) == 0),
              "%s: reason \"%s\", want \"%s\"", label, whole.reason ? whole.reason : "", c->reason);
        CHECK(whole.reason == NULL || strpbrk(whole.reason, "\r\n") == NULL, "%s: reason has CR/LF",
              label);
        outcome_free(&whole);
    }
}

/* Cases too long to write as literals: the default line limit and a large chunk. */
static void
test_built_cases(void)
{
    size_t cap = 8192;
    unsigned char *in = malloc(cap);
    outcome o;
    outcome_init(&o, cap);

    /* A size line of exactly 4096 bytes passes; one more byte is refused. */
    for (size_t extra = 0; extra < 2; extra++) {
        size_t n = 0;
        in[n++] = '1';
        in[n++] = ';';
        while (n < 4094 + extra)
            in[n++] = 'a';
        memcpy(in + n, "\r\nx\r\n0\r\n\r\n", 10);
        n += 10;
        feed_all_ways(NULL, in, n, &o, extra ? "line 4097" : "line 4096");
        if (extra)
            CHECK(o.status == 400 && strcmp(o.reason, "chunk size line too long") == 0,
                  "line 4097: status %d", o.status);
        else
            CHECK(o.status == 0 && o.done && o.consumed == n && o.out_len == 1,
                  "line 4096: status %d", o.status);
    }

    /* A 0x1000-byte chunk of every byte value, which the decoder must pass through. */
    size_t n = 0;
    memcpy(in, "1000\r\n", 6);
    n = 6;
    for (size_t i = 0; i < 4096; i++)
        in[n++] = (unsigned char)(i * 7);
    memcpy(in + n, "\r\n0\r\n\r\n", 7);
    n += 7;
    feed_all_ways(NULL, in, n, &o, "4k chunk");
    CHECK(o.status == 0 && o.done && o.consumed == n && o.out_len == 4096 &&
              memcmp(o.out, in + 6, 4096) == 0,
          "4k chunk: status %d out %zu", o.status, o.out_len);

    outcome_free(&o);
    free(in);
}

/* Every byte value as a chunk size of one digit and of two: the decoder's digits must be
 * exactly chars.h's HEXDIG, with their values (its size loops read a table of their own). */
static void
test_size_digits(void)
{
    unsigned char in[128];
    outcome o;
    outcome_init(&o, sizeof in);
    for (int c = 0; c < 256; c++) {
        int hex = (jp_char_class[c] & JP_C_HEX) != 0;
        size_t value = !hex ? 0 : c <= '9' ? (size_t)(c - '0') : (size_t)((c | 0x20) - 'a' + 10);
        for (int two = 0; two < 2; two++) {
            char label[32];
            snprintf(label, sizeof label, "digit 0x%02x%s", c, two ? " after 1" : "");
            size_t n = 0, want = two ? 16 + value : value;
            if (two)
                in[n++] = '1';
            in[n++] = (unsigned char)c;
            memcpy(in + n, "\r\n", 2);
            n += 2;
            for (size_t i = 0; hex && i < want; i++)
                in[n++] = (unsigned char)('a' + i % 26);
            /* After the data the last-chunk; a size of 0 is the last-chunk itself. */
            const char *rest = hex && want ? "\r\n0\r\n\r\n" : "\r\n";
            memcpy(in + n, rest, strlen(rest));
            n += strlen(rest);
            feed_all_ways(NULL, in, n, &o, label);
            if (hex)
                CHECK(o.status == 0 && o.done && o.consumed == n && o.out_len == want,
                      "%s: status %d done %d out %zu, want %zu", label, o.status, o.done, o.out_len,
                      want);
            else
                CHECK(o.status == 400, "%s: status %d, want 400", label, o.status);
        }
    }
    outcome_free(&o);
}

/* The return value and the data span of single calls, exactly as chunked.h describes them. */
static void
test_call_contract(void)
{
    jp_chunked_decoder d;
    jp_span sp;
    const char *body = "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\nNEXT";
    const char *b = jp_guarded_copy(&guard, body, strlen(body));
    size_t len = strlen(body);

    jp_chunked_init(&d, NULL);
    ptrdiff_t n = jp_chunked_decode(&d, b, len, &sp);
    CHECK(n == 8 && sp.off == 3 && sp.len == 5, "first call %td span %u+%u", n, sp.off, sp.len);
    n = jp_chunked_decode(&d, b + 8, len - 8, &sp);
    CHECK(n == 8 && sp.off == 5 && sp.len == 3, "second call %td span %u+%u", n, sp.off, sp.len);
    CHECK(!jp_chunked_done(&d), "done too early");
    n = jp_chunked_decode(&d, b + 16, len - 16, &sp);
    CHECK(n == 7 && sp.len == 0 && jp_chunked_done(&d), "last call %td", n);
    CHECK(d.total == 8, "total %llu", (unsigned long long)d.total);
    n = jp_chunked_decode(&d, b + 23, len - 23, &sp);
    CHECK(n == 0 && sp.len == 0, "after done %td", n);

    /* Empty input: nothing consumed, no error, no data. */
    jp_chunked_init(&d, NULL);
    n = jp_chunked_decode(&d, b, 0, &sp);
    CHECK(n == 0 && sp.len == 0 && !jp_chunked_done(&d) && d.error_status == 0, "empty %td", n);
    n = jp_chunked_decode(&d, NULL, 0, &sp);
    CHECK(n == 0 && sp.len == 0 && !jp_chunked_done(&d) && d.error_status == 0, "NULL %td", n);

    /* A chunk larger than one call's input comes out in pieces, one span per call. */
    jp_chunked_init(&d, NULL);
    b = jp_guarded_copy(&guard, "a\r\n0123", 7);
    n = jp_chunked_decode(&d, b, 7, &sp);
    CHECK(n == 7 && sp.off == 3 && sp.len == 4, "piece 1: %td %u+%u", n, sp.off, sp.len);
    b = jp_guarded_copy(&guard, "456789\r\n0\r\n\r\n", 13);
    n = jp_chunked_decode(&d, b, 13, &sp);
    CHECK(n == 6 && sp.off == 0 && sp.len == 6, "piece 2: %td %u+%u", n, sp.off, sp.len);
    n = jp_chunked_decode(&d, b + 6, 7, &sp);
    CHECK(n == 7 && sp.len == 0 && jp_chunked_done(&d), "piece 3: %td", n);
}

/* One call never reports more than UINT32_MAX bytes, so spans cannot wrap. The data is never
 * read, so an address-space reservation with no access stands in for 4 GiB of input. */
static void
test_huge_call(void)
{
    if (sizeof(size_t) <= 4)
        return;
    size_t big = (size_t)UINT32_MAX + 4096;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *region = mmap(NULL, big + page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region == MAP_FAILED)
        return;
    memcpy(region, "ffffffffffffff\r\n", 16);
    /* Only the header page may be touched; the rest faults if the decoder reads it. */
    mprotect(region + page, big, PROT_NONE);
    jp_chunked_decoder d;
    jp_span sp;
    jp_chunked_init(&d, &huge_limits);
    ptrdiff_t n = jp_chunked_decode(&d, region, 16, &sp);
    CHECK(n == 16 && sp.len == 0, "huge: size line %td", n);
    n = jp_chunked_decode(&d, region + 16, big - 16, &sp);
    CHECK(n == (ptrdiff_t)UINT32_MAX && sp.off == 0 && sp.len == UINT32_MAX, "huge: %td span %u+%u",
          n, sp.off, sp.len);
    CHECK(d.total == UINT32_MAX, "huge: total %llu", (unsigned long long)d.total);
    munmap(region, big + page);
}

/* ------------------------------------------------------------------------------------------ */
/* The reference decoder                                                                       */

enum { REF_MORE = 1 };

typedef struct ref {
    const unsigned char *b;
    size_t n, i;
    const jp_http1_limits *lim;
    int mode;      /* which limit the bytes count against: 0 none, 1 size line, 2 trailers */
    uint64_t line; /* bytes counted so far */
    uint64_t total;
    unsigned char *out;
    size_t out_len;
    jmp_buf jb;
} ref;

static int
ref_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
ref_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
ref_hexval(int c)
{
    if (c <= '9')
        return c - '0';
    return (c | 0x20) - 'a' + 10;
}

/* VCHAR, obs-text, SP, HTAB: field-vchar / SP / HTAB, and what a quoted-pair may escape. */
static int
ref_fieldchar(int c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int
ref_ws(int c)
{
    return c == ' ' || c == '\t';
}

static _Noreturn void
ref_fail(ref *r, int status)
{
    longjmp(r->jb, status);
}

/* The next byte, counted against the current limit; running out of input ends the parse. */
static int
ref_next(ref *r)
{
    if (r->i >= r->n)
        longjmp(r->jb, REF_MORE);
    int c = r->b[r->i++];
    if (r->mode == 1 && ++r->line > r->lim->max_chunk_line)
        ref_fail(r, 400);
    if (r->mode == 2 && ++r->line > r->lim->max_head_size)
        ref_fail(r, 431);
    return c;
}

/* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ), then CR.
 * c is the first byte after the size. */
static void
ref_extensions(ref *r, int c)
{
    for (;;) {
        int ws = 0;
        while (ref_ws(c)) {
            ws = 1;
            c = ref_next(r);
        }
        if (c == '\r' && !ws)
            return;
        if (c != ';')
            ref_fail(r, 400);
        c = ref_next(r);
        while (ref_ws(c))
            c = ref_next(r);
        if (!ref_tchar(c))
            ref_fail(r, 400);
        while (ref_tchar(c))
            c = ref_next(r);
        ws = 0;
        while (ref_ws(c)) {
            ws = 1;
            c = ref_next(r);
        }
        if (c == '=') {
            c = ref_next(r);
            while (ref_ws(c))
                c = ref_next(r);
            if (c == '"') {
                for (;;) {
                    c = ref_next(r);
                    if (c == '"')
                        break;
                    if (c == '\\') {
                        if (!ref_fieldchar(ref_next(r)))
                            ref_fail(r, 400);
                    } else if (!ref_fieldchar(c)) {
                        ref_fail(r, 400);
                    }
                }
                c = ref_next(r);
            } else if (ref_tchar(c)) {
                while (ref_tchar(c))
                    c = ref_next(r);
            } else {
                ref_fail(r, 400);
            }
        } else if (ws && c != ';') {
            ref_fail(r, 400);
        }
    }
}

static void
ref_body(ref *r)
{
    for (;;) {
        r->mode = 1;
        r->line = 0;
        int c = ref_next(r);
        if (!ref_hex(c))
            ref_fail(r, 400);
        uint64_t size = 0;
        while (ref_hex(c)) {
            if (size > (UINT64_MAX >> 4))
                ref_fail(r, 413);
            size = size * 16 + (uint64_t)ref_hexval(c);
            if (size > r->lim->max_body_size - r->total)
                ref_fail(r, 413);
            c = ref_next(r);
        }
        ref_extensions(r, c);
        if (ref_next(r) != '\n')
            ref_fail(r, 400);
        r->mode = 0;
        if (size == 0)
            break;
        for (; size > 0; size--) {
            r->out[r->out_len++] = (unsigned char)ref_next(r);
            r->total++;
        }
        if (ref_next(r) != '\r' || ref_next(r) != '\n')
            ref_fail(r, 400);
    }
    r->mode = 2;
    r->line = 0;
    for (;;) {
        int c = ref_next(r);
        if (c == '\r') {
            if (ref_next(r) != '\n')
                ref_fail(r, 400);
            return;
        }
        if (!ref_tchar(c))
            ref_fail(r, 400);
        while (ref_tchar(c))
            c = ref_next(r);
        if (c != ':')
            ref_fail(r, 400);
        do
            c = ref_next(r);
        while (ref_fieldchar(c));
        if (c != '\r' || ref_next(r) != '\n')
            ref_fail(r, 400);
    }
}

/* Decodes in[0..len) whole into o (status 0 with done 0 or 1, or an error status). */
static void
ref_decode(const jp_http1_limits *lim, const unsigned char *in, size_t len, outcome *o)
{
    /* Static, so that what the parse changed before a longjmp is still defined after it. */
    static ref r;
    memset(&r, 0, sizeof r);
    r.b = in;
    r.n = len;
    r.lim = lim ? lim : &jp_http1_default_limits;
    r.out = o->out;
    int v = setjmp(r.jb);
    if (v == 0) {
        ref_body(&r);
        o->status = 0;
        o->done = 1;
    } else {
        o->status = v == REF_MORE ? 0 : v;
        o->done = 0;
    }
    o->consumed = r.i;
    o->out_len = r.out_len;
}

/* ------------------------------------------------------------------------------------------ */
/* Random bodies                                                                               */

static size_t
rnd(size_t n)
{
    return n ? (size_t)(jp_test_rng() % n) : 0;
}

typedef struct gen {
    unsigned char *b;
    size_t n, cap;
} gen;

static void
gen_byte(gen *g, int c)
{
    if (g->n < g->cap)
        g->b[g->n++] = (unsigned char)c;
}

static void
gen_str(gen *g, const char *s)
{
    while (*s)
        gen_byte(g, *s++);
}

static void
gen_bws(gen *g)
{
    size_t k = rnd(4) == 0 ? 1 + rnd(2) : 0;
    while (k--)
        gen_byte(g, rnd(2) ? ' ' : '\t');
}

static void
gen_token(gen *g)
{
    static const char tchars[] = "!#$%&'*+-.^_`|~0123456789abcdefxyzABCXYZ";
    size_t k = 1 + rnd(6);
    while (k--)
        gen_byte(g, tchars[rnd(sizeof tchars - 1)]);
}

static void
gen_extensions(gen *g)
{
    size_t k = rnd(3) == 0 ? 1 + rnd(3) : 0;
    while (k--) {
        gen_bws(g);
        gen_byte(g, ';');
        gen_bws(g);
        gen_token(g);
        switch (rnd(3)) {
        case 0:
            break;
        case 1:
            gen_bws(g);
            gen_byte(g, '=');
            gen_bws(g);
            gen_token(g);
            break;
        default:
            gen_bws(g);
            gen_byte(g, '=');
            gen_bws(g);
            gen_byte(g, '"');
            for (size_t j = rnd(8); j > 0; j--) {
                int c;
                do
                    c = (int)rnd(256);
                while (!ref_fieldchar(c));
                if (c == '"' || c == '\\' || rnd(6) == 0)
                    gen_byte(g, '\\');
                gen_byte(g, c);
            }
            gen_byte(g, '"');
        }
    }
}

static void
gen_size(gen *g, size_t size)
{
    static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
    const char *digits = rnd(2) ? lower : upper;
    char tmp[32];
    size_t t = 0;
    do {
        tmp[t++] = digits[size & 15];
        size >>= 4;
    } while (size);
    for (size_t z = rnd(4) == 0 ? 1 + rnd(3) : 0; z > 0; z--)
        gen_byte(g, '0');
    while (t)
        gen_byte(g, tmp[--t]);
}

/* A valid chunked body, sometimes followed by the start of another message. */
static void
gen_body(gen *g)
{
    for (size_t k = rnd(6); k > 0; k--) {
        size_t size;
        switch (rnd(10)) {
        case 0:
            size = 17 + rnd(300);
            break;
        case 1:
            size = 300 + rnd(1200);
            break;
        default:
            size = 1 + rnd(16);
        }
        gen_size(g, size);
        gen_extensions(g);
        gen_str(g, "\r\n");
        for (size_t j = 0; j < size; j++)
            gen_byte(g, rnd(4) ? 'a' + (int)rnd(26) : (int)rnd(256));
        gen_str(g, "\r\n");
    }
    gen_size(g, 0);
    gen_extensions(g);
    gen_str(g, "\r\n");
    for (size_t k = rnd(3) == 0 ? 1 + rnd(3) : 0; k > 0; k--) {
        gen_token(g);
        gen_byte(g, ':');
        for (size_t j = rnd(10); j > 0; j--) {
            int c;
            do
                c = (int)rnd(256);
            while (!ref_fieldchar(c));
            gen_byte(g, c);
        }
        gen_str(g, "\r\n");
    }
    gen_str(g, "\r\n");
    if (rnd(4) == 0)
        gen_str(g, "GET / HTTP/1.1\r\n\r\n");
}

/* Damages a body in one of the ways that matter to a chunked decoder. */
static void
gen_mutate(gen *g)
{
    static const unsigned char picks[] = {' ', '\t', '\r', '\n', ';', '=', '"',  '\\', ':',
                                          '0', 'f',  'F',  'g',  'x', 0,   0x7f, 0x80, 0xff};
    int c = rnd(3) ? picks[rnd(sizeof picks)] : (int)rnd(256);
    size_t at = rnd(g->n + 1);
    switch (rnd(4)) {
    case 0: /* replace */
        if (at < g->n)
            g->b[at] = (unsigned char)c;
        break;
    case 1: /* insert */
        if (g->n < g->cap) {
            memmove(g->b + at + 1, g->b + at, g->n - at);
            g->b[at] = (unsigned char)c;
            g->n++;
        }
        break;
    case 2: /* delete */
        if (at < g->n) {
            memmove(g->b + at, g->b + at + 1, g->n - at - 1);
            g->n--;
        }
        break;
    default: /* truncate */
        g->n = at;
    }
}

static void
test_random_differential(void)
{
    enum { ROUNDS = 100000, CAP = 16384 };
    gen g = {malloc(CAP), 0, CAP};
    size_t *slices = malloc(CAP * sizeof *slices);
    outcome want, got;
    outcome_init(&want, CAP);
    outcome_init(&got, CAP);
    unsigned long done = 0, errors[3] = {0, 0, 0}, partial = 0, mismatches = 0;

    for (int round = 0; round < ROUNDS; round++) {
        g.n = 0;
        gen_body(&g);
        if (rnd(3) == 0)
            for (size_t m = 1 + rnd(3); m > 0; m--)
                gen_mutate(&g);

        jp_http1_limits lim_buf;
        const jp_http1_limits *lim = NULL;
        if (rnd(4) == 0) {
            lim_buf = jp_http1_default_limits;
            lim_buf.max_body_size = rnd(600);
            lim_buf.max_chunk_line = 3 + (uint32_t)rnd(40);
            lim_buf.max_head_size = 2 + (uint32_t)rnd(80);
            lim = &lim_buf;
        }

        size_t nslices = 0;
        for (size_t left = g.n; left > 0;) {
            size_t s = rnd(3) == 0 ? 1 + rnd(8) : 1 + rnd(g.n);
            if (s > left)
                s = left;
            slices[nslices++] = s;
            left -= s;
        }

        ref_decode(lim, g.b, g.n, &want);
        feed(lim, g.b, g.n, slices, nslices, &got, "random");
        int same = want.status == got.status && want.done == got.done &&
                   want.out_len == got.out_len && memcmp(want.out, got.out, want.out_len) == 0 &&
                   (want.status != 0 || want.consumed == got.consumed);
        CHECK(same,
              "random round %d (%zu bytes): ref status %d done %d consumed %zu out %zu; "
              "decoder status %d (%s) done %d consumed %zu out %zu",
              round, g.n, want.status, want.done, want.consumed, want.out_len, got.status,
              got.reason ? got.reason : "", got.done, got.consumed, got.out_len);
        if (!same && ++mismatches >= 10)
            break;
        if (want.status == 400)
            errors[0]++;
        else if (want.status == 413)
            errors[1]++;
        else if (want.status == 431)
            errors[2]++;
        else if (want.done)
            done++;
        else
            partial++;
    }
    printf("random: %lu done, %lu partial, %lu x 400, %lu x 413, %lu x 431\n", done, partial,
           errors[0], errors[1], errors[2]);
    /* The generator must reach every outcome, or the comparison proves little. */
    CHECK(done > 1000 && partial > 100 && errors[0] > 1000 && errors[1] > 100 && errors[2] > 100,
          "random: outcome coverage too thin");
    outcome_free(&want);
    outcome_free(&got);
    free(slices);
    free(g.b);
}

int
main(void)
{
    jp_guard_open(&guard, 1u << 16);
    test_call_contract();
    test_valid_cases();
    test_invalid_cases();
    test_built_cases();
    test_size_digits();
    test_huge_call();
    test_random_differential();
    jp_guard_close(&guard);
    return JP_TEST_SUMMARY("test_chunked");
}
