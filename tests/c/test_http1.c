/*
 * test_http1.c - tests of the request-head parser (http1.h).
 *
 * Every case runs on both scan implementations (scalar, and AVX2 when the CPU has it), with
 * the input flush against a no-access page, whole, split in two at every byte boundary and
 * fed one byte at a time; all of these must give the same answer. Valid cases check every
 * field of the head; invalid ones check the status. Then come the limits, the byte classes
 * of every scanner against jp_char_class, the cost of a trickled head, and a randomized
 * differential test of the two implementations.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "chars.h"
#include "http1.h"
#include "jp_test.h"

#define MAX_FIELDS 256
#define GUARD_CAPACITY (256 * 1024)

static jp_guard guard;
static int have_avx2;
static jp_simd_level levels[2];
static int nlevels;

/* A parse outcome, copied out of the parser so two runs can be compared. */
typedef struct outcome {
    ptrdiff_t ret;
    uint16_t status;
    const char *reason;
    jp_request_head head;
    jp_header headers[MAX_FIELDS];
} outcome;

static void
outcome_take(outcome *o, const jp_http1_parser *p, ptrdiff_t ret)
{
    memset(o, 0, sizeof *o);
    o->ret = ret;
    if (ret == JP_HTTP1_ERROR) {
        o->status = p->error_status;
        o->reason = p->error_reason;
    } else if (ret > 0) {
        o->head = p->head;
        o->head.headers = NULL;
        if (p->head.header_count)
            memcpy(o->headers, p->head.headers, p->head.header_count * sizeof(jp_header));
    }
}

static int
span_eq(jp_span a, jp_span b)
{
    return a.off == b.off && a.len == b.len;
}

/* Same answer: same return, same error, or the same head to the last span. */
static int
outcome_eq(const outcome *a, const outcome *b)
{
    if (a->ret != b->ret)
        return 0;
    if (a->ret == JP_HTTP1_ERROR)
        return a->status == b->status && strcmp(a->reason, b->reason) == 0;
    if (a->ret < 0)
        return 1;
    const jp_request_head *x = &a->head, *y = &b->head;
    if (!span_eq(x->method, y->method) || !span_eq(x->target, y->target) ||
        !span_eq(x->path, y->path) || !span_eq(x->query, y->query) ||
        x->version_minor != y->version_minor || x->method_id != y->method_id ||
        x->framing != y->framing || x->flags != y->flags || x->head_len != y->head_len ||
        x->content_length != y->content_length || x->header_count != y->header_count)
        return 0;
    for (uint32_t i = 0; i < x->header_count; i++) {
        if (!span_eq(a->headers[i].name, b->headers[i].name) ||
            !span_eq(a->headers[i].value, b->headers[i].value) ||
            a->headers[i].id != b->headers[i].id)
            return 0;
    }
    return 1;
}

static void
describe(const outcome *o, char *out, size_t cap)
{
    if (o->ret == JP_HTTP1_ERROR)
        snprintf(out, cap, "error %u (%s)", o->status, o->reason);
    else if (o->ret == JP_HTTP1_NEED_MORE)
        snprintf(out, cap, "need more");
    else
        snprintf(out, cap, "done %td, %u fields, flags %#x", o->ret, o->head.header_count,
                 o->head.flags);
}

static jp_header field_store[MAX_FIELDS];

static void
parser_open(jp_http1_parser *p, jp_simd_level level, const jp_http1_limits *limits, uint32_t cap)
{
    jp_http1_parser_init(p, limits, field_store, cap);
    p->simd = level;
}

/* The whole input in one call, flush against the guard page. */
static void
parse_whole(outcome *o, jp_simd_level level, const jp_http1_limits *limits, uint32_t cap,
            const char *data, size_t len)
{
    jp_http1_parser p;
    parser_open(&p, level, limits, cap);
    const char *buf = jp_guarded_copy(&guard, data, len);
    outcome_take(o, &p, jp_http1_parse(&p, buf, len));
}

/* The first k bytes, then all of them, each time at a new address against the guard. */
static void
parse_split(outcome *o, jp_simd_level level, const jp_http1_limits *limits, uint32_t cap,
            const char *data, size_t len, size_t k)
{
    jp_http1_parser p;
    parser_open(&p, level, limits, cap);
    ptrdiff_t r = jp_http1_parse(&p, jp_guarded_copy(&guard, data, k), k);
    if (r == JP_HTTP1_NEED_MORE)
        r = jp_http1_parse(&p, jp_guarded_copy(&guard, data, len), len);
    outcome_take(o, &p, r);
}

/* One more byte per call. With guarded, every prefix is copied to the guard page (quadratic,
 * so only for small inputs); otherwise the same buffer grows in place. */
static void
parse_bytewise(outcome *o, jp_simd_level level, const jp_http1_limits *limits, uint32_t cap,
               const char *data, size_t len, int guarded)
{
    jp_http1_parser p;
    parser_open(&p, level, limits, cap);
    ptrdiff_t r = JP_HTTP1_NEED_MORE;
    for (size_t n = 1; n <= len && r == JP_HTTP1_NEED_MORE; n++)
        r = jp_http1_parse(&p, guarded ? jp_guarded_copy(&guard, data, n) : data, n);
    outcome_take(o, &p, r);
}

/* ---------------------------------------------------------------------------------------- */
/* Valid requests.                                                                            */

typedef struct valid_case {
    const char *req;
    size_t body; /* bytes after the head that belong to the body or the next request */
    const char *method;
    uint8_t method_id;
    const char *target, *path, *query;
    uint8_t minor, flags, framing;
    uint64_t content_length;
    const char *fields[32]; /* name, value, name, value, ..., NULL */
} valid_case;

#define KA JP_HEAD_KEEP_ALIVE
#define HQ JP_HEAD_HAS_QUERY

#define PICO_REQ                                                                                   \
    "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"                \
    "Host: www.kittyhell.com\r\n"                                                                  \
    "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) "          \
    "Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"                                                \
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"                  \
    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"                                                 \
    "Accept-Encoding: gzip,deflate\r\n"                                                            \
    "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"                                            \
    "Keep-Alive: 115\r\n"                                                                          \
    "Connection: keep-alive\r\n"                                                                   \
    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "                          \
    "__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; "                             \
    "__utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|"                \
    "utmcct=/reader/|utmcmd=referral\r\n"                                                          \
    "\r\n"

/* The case tables below are kept out of clang-format: one case to a line or two reads better
 * than one field to a line. */
static const jp_http1_limits small_limits = {
    .max_request_line = 32,
    .max_head_size = 128,
    .max_headers = 3,
    .max_body_size = 100,
    .max_chunk_line = 64,
};

/* A head limit below the request-line limit: the head limit decides (431). */
static const jp_http1_limits tight_head_limits = {
    .max_request_line = 8192,
    .max_head_size = 24,
    .max_headers = 100,
    .max_body_size = 100,
    .max_chunk_line = 64,
};

/* clang-format off */
static const valid_case valid_cases[] = {
    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, "GET", JP_METHOD_GET, "/", "/", "", 1, KA, 0, 0,
     {"Host", "x", NULL}},
    {PICO_REQ,
     0,
     "GET",
     JP_METHOD_GET,
     "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg",
     "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg",
     "",
     1,
     KA,
     0,
     0,
     {"Host", "www.kittyhell.com", "User-Agent",
      "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 "
      "Firefox/3.6.3 Pathtraq/0.9",
      "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "Accept-Language", "ja,en-us;q=0.7,en;q=0.3", "Accept-Encoding", "gzip,deflate",
      "Accept-Charset", "Shift_JIS,utf-8;q=0.7,*;q=0.7", "Keep-Alive", "115", "Connection",
      "keep-alive", "Cookie",
      "wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "
      "__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; "
      "__utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|"
      "utmcct=/reader/|utmcmd=referral",
      NULL}},
    {"GET /a/b?c=d&e HTTP/1.1\r\nHost: example.com\r\n\r\n", 0, "GET", JP_METHOD_GET,
     "/a/b?c=d&e", "/a/b", "c=d&e", 1, KA | HQ, 0, 0, {"Host", "example.com", NULL}},
    {"GET /? HTTP/1.1\r\nHost: x\r\n\r\n", 0, "GET", JP_METHOD_GET, "/?", "/", "", 1, KA | HQ,
     0, 0, {"Host", "x", NULL}},
    {"GET /a?b?c HTTP/1.1\r\nHost: x\r\n\r\n", 0, "GET", JP_METHOD_GET, "/a?b?c", "/a", "b?c",
     1, KA | HQ, 0, 0, {"Host", "x", NULL}},
    {"GET /very/long/path/that/crosses/the/first/block/of/thirty-two?and=a&query=that&also="
     "crosses HTTP/1.1\r\nHost: x\r\n\r\n",
     0,
     "GET",
     JP_METHOD_GET,
     "/very/long/path/that/crosses/the/first/block/of/thirty-two?and=a&query=that&also=crosses",
     "/very/long/path/that/crosses/the/first/block/of/thirty-two",
     "and=a&query=that&also=crosses",
     1,
     KA | HQ,
     0,
     0,
     {"Host", "x", NULL}},
    {"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 0, "OPTIONS", JP_METHOD_OPTIONS, "*", "", "", 1,
     KA, 0, 0, {"Host", "x", NULL}},
    {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 0, "CONNECT",
     JP_METHOD_CONNECT, "example.com:443", "", "", 1, KA, 0, 0,
     {"Host", "example.com:443", NULL}},
    {"GET http://example.com/a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", 0, "GET",
     JP_METHOD_GET, "http://example.com/a/b?x=1", "/a/b", "x=1", 1, KA | HQ, 0, 0,
     {"Host", "example.com", NULL}},
    {"GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", 0, "GET", JP_METHOD_GET,
     "http://example.com", "", "", 1, KA, 0, 0, {"Host", "example.com", NULL}},
    {"GET https://example.com?q HTTP/1.1\r\nHost: example.com\r\n\r\n", 0, "GET",
     JP_METHOD_GET, "https://example.com?q", "", "q", 1, KA | HQ, 0, 0,
     {"Host", "example.com", NULL}},
    {"GET / HTTP/1.0\r\n\r\n", 0, "GET", JP_METHOD_GET, "/", "/", "", 0, 0, 0, 0, {NULL}},
    {"GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", 0, "GET", JP_METHOD_GET,
     "/", "/", "", 0, KA, 0, 0, {"Host", "x", "Connection", "keep-alive", NULL}},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n\r\n", 0, "GET", JP_METHOD_GET, "/",
     "/", "", 0, 0, 0, 0, {"Connection", "Keep-Alive, close", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, "GET", JP_METHOD_GET, "/",
     "/", "", 1, 0, 0, 0, {"Host", "x", "Connection", "close", NULL}},
    {"GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, Upgrade\r\nUpgrade: "
     "websocket\r\n\r\n",
     0,
     "GET",
     JP_METHOD_GET,
     "/chat",
     "/chat",
     "",
     1,
     KA | JP_HEAD_UPGRADE,
     0,
     0,
     {"Host", "x", "Connection", "Keep-Alive, Upgrade", "Upgrade", "websocket", NULL}},
    {"GET /chat HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 0, "GET",
     JP_METHOD_GET, "/chat", "/chat", "", 0, 0, 0, 0,
     {"Connection", "Upgrade", "Upgrade", "websocket", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n", 0, "GET", JP_METHOD_GET, "/",
     "/", "", 1, KA, 0, 0, {"Host", "x", "Connection", "upgrade", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n", 0, "GET", JP_METHOD_GET, "/", "/", "",
     1, KA, 0, 0, {"Host", "x", "Upgrade", "h2c", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nConnection: foo\r\nconnection: CLOSE\r\n\r\n", 0, "GET",
     JP_METHOD_GET, "/", "/", "", 1, 0, 0, 0,
     {"Host", "x", "Connection", "foo", "connection", "CLOSE", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nConnection:  ,\t close ,, \r\n\r\n", 0, "GET", JP_METHOD_GET,
     "/", "/", "", 1, 0, 0, 0, {"Host", "x", "Connection", ",\t close ,,", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nConnection: closed, keep-alives\r\n\r\n", 0, "GET",
     JP_METHOD_GET, "/", "/", "", 1, KA, 0, 0,
     {"Host", "x", "Connection", "closed, keep-alives", NULL}},
    {"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 5, "POST",
     JP_METHOD_POST, "/form", "/form", "", 1, KA, JP_FRAMING_LENGTH, 5,
     {"Host", "x", "Content-Length", "5", NULL}},
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 0, "POST", JP_METHOD_POST, "/",
     "/", "", 1, KA, JP_FRAMING_NONE, 0, {"Host", "x", "Content-Length", "0", NULL}},
    {"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 005\r\n\r\n", 0, "PUT",
     JP_METHOD_PUT, "/", "/", "", 1, KA, JP_FRAMING_LENGTH, 5,
     {"Host", "x", "Content-Length", "5", "content-length", "005", NULL}},
    {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 16777216\r\n\r\n", 0, "POST",
     JP_METHOD_POST, "/", "/", "", 1, KA, JP_FRAMING_LENGTH, 16777216,
     {"Host", "x", "Content-Length", "16777216", NULL}},
    {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     15, "POST", JP_METHOD_POST, "/", "/", "", 1, KA, JP_FRAMING_CHUNKED, 0,
     {"Host", "x", "Transfer-Encoding", "chunked", NULL}},
    {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n\r\n", 0, "POST",
     JP_METHOD_POST, "/", "/", "", 1, KA, JP_FRAMING_CHUNKED, 0,
     {"Host", "x", "Transfer-Encoding", "Chunked", NULL}},
    {"POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: ,CHUNKED,\r\n\r\n", 0, "POST",
     JP_METHOD_POST, "/", "/", "", 1, KA, JP_FRAMING_CHUNKED, 0,
     {"Host", "x", "transfer-encoding", ",CHUNKED,", NULL}},
    {"PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", 0, "PUT",
     JP_METHOD_PUT, "/x", "/x", "", 1, KA | JP_HEAD_EXPECT_CONTINUE, JP_FRAMING_LENGTH, 3,
     {"Host", "x", "Expect", "100-continue", "Content-Length", "3", NULL}},
    {"PUT /x HTTP/1.1\r\nHost: x\r\nEXPECT: 100-Continue\r\n\r\n", 0, "PUT", JP_METHOD_PUT, "/x",
     "/x", "", 1, KA | JP_HEAD_EXPECT_CONTINUE, 0, 0,
     {"Host", "x", "EXPECT", "100-Continue", NULL}},
    {"PUT /x HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", 0, "PUT", JP_METHOD_PUT, "/x", "/x", "",
     0, 0, 0, 0, {"Expect", "100-continue", NULL}},
    {"PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 0, "PUT", JP_METHOD_PUT, "/x", "/x",
     "", 1, KA | JP_HEAD_EXPECT_UNKNOWN, 0, 0, {"Host", "x", "Expect", "200-ok", NULL}},
    {"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, "GET", JP_METHOD_GET, "/", "/", "", 1, KA,
     0, 0, {"Host", "x", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nX-A: \t a\tb \t \r\nX-Empty:\r\nX-Blank:   \r\n\r\n", 0,
     "GET", JP_METHOD_GET, "/", "/", "", 1, KA, 0, 0,
     {"Host", "x", "X-A", "a\tb", "X-Empty", "", "X-Blank", "", NULL}},
    {"GET / HTTP/1.1\r\nHost:x\r\nX-U: caf\xc3\xa9 \x80\xff\r\n\r\n", 0, "GET", JP_METHOD_GET,
     "/", "/", "", 1, KA, 0, 0, {"Host", "x", "X-U", "caf\xc3\xa9 \x80\xff", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\n!#$%&'*+-.^_`|~09AZaz: v:w\r\n\r\n", 0, "GET", JP_METHOD_GET,
     "/", "/", "", 1, KA, 0, 0, {"Host", "x", "!#$%&'*+-.^_`|~09AZaz", "v:w", NULL}},
    {"M-SEARCH * HTTP/1.1\r\nHost: x\r\n\r\n", 0, "M-SEARCH", JP_METHOD_OTHER, "*", "", "", 1,
     KA, 0, 0, {"Host", "x", NULL}},
    {"get / HTTP/1.1\r\nHost: x\r\n\r\n", 0, "get", JP_METHOD_OTHER, "/", "/", "", 1, KA, 0, 0,
     {"Host", "x", NULL}},
    {"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 0, "HEAD", JP_METHOD_HEAD, "/", "/", "", 1, KA, 0, 0,
     {"Host", "x", NULL}},
    {"DELETE /r/1 HTTP/1.1\r\nHost: x\r\n\r\n", 0, "DELETE", JP_METHOD_DELETE, "/r/1", "/r/1", "",
     1, KA, 0, 0, {"Host", "x", NULL}},
    {"PATCH /r/1 HTTP/1.1\r\nHost: x\r\n\r\n", 0, "PATCH", JP_METHOD_PATCH, "/r/1", "/r/1", "", 1,
     KA, 0, 0, {"Host", "x", NULL}},
    {"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 0, "TRACE", JP_METHOD_TRACE, "/", "/", "", 1, KA, 0,
     0, {"Host", "x", NULL}},
    {"GETS / HTTP/1.1\r\nHost: x\r\n\r\n", 0, "GETS", JP_METHOD_OTHER, "/", "/", "", 1, KA, 0, 0,
     {"Host", "x", NULL}},
    {"GET / HTTP/1.1\r\nhOsT: x\r\nCONTENT-TYPE: text/plain\r\ncookie: a=b\r\nUPGRADE: "
     "x\r\nHosts: y\r\nHast: z\r\nCookies: c\r\nContent-Lengths: 9\r\nTransfer-Encodings: "
     "gzip\r\nConnections: close\r\nExpects: x\r\nUpgrades: x\r\nContent-Typo: x\r\n\r\n",
     0,
     "GET",
     JP_METHOD_GET,
     "/",
     "/",
     "",
     1,
     KA,
     0,
     0,
     {"hOsT",         "x",     "CONTENT-TYPE",       "text/plain", "cookie",          "a=b",
      "UPGRADE",      "x",     "Hosts",              "y",          "Hast",            "z",
      "Cookies",      "c",     "Content-Lengths",    "9",          "Transfer-Encodings",
      "gzip",         "Connections", "close",        "Expects",    "x",
      "Upgrades",     "x",     "Content-Typo", "x",   NULL}},
    /* Names of six bytes: Cookie and Expect differ from the others in their first four or
     * their last two bytes, which http1_header_id reads one after the other. */
    {"GET / HTTP/1.1\r\nHost: x\r\nAccept: a\r\nCOOKIE: b\r\nCookix: c\r\nCookje: d\r\n"
     "eXpEcT: 100-continue\r\nExpecx: e\r\nExpdct: f\r\nOrigin: g\r\nPragma: h\r\n\r\n",
     0,
     "GET",
     JP_METHOD_GET,
     "/",
     "/",
     "",
     1,
     KA | JP_HEAD_EXPECT_CONTINUE,
     0,
     0,
     {"Host", "x", "Accept", "a", "COOKIE", "b", "Cookix", "c", "Cookje", "d", "eXpEcT",
      "100-continue", "Expecx", "e", "Expdct", "f", "Origin", "g", "Pragma", "h", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nX-Long: "
     "0123456789abcdef0123456789abcdef0123456789abcdef\t0123456789abcdef0123456789abcdef\t\t01"
     "23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n\r\n",
     0,
     "GET",
     JP_METHOD_GET,
     "/",
     "/",
     "",
     1,
     KA,
     0,
     0,
     {"Host", "x", "X-Long",
      "0123456789abcdef0123456789abcdef0123456789abcdef\t0123456789abcdef0123456789abcdef\t\t01"
      "23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nA-Rather-Long-Header-Name-That-Does-Not-Fit-In-One-Block: "
     "v\r\n\r\n",
     0,
     "GET",
     JP_METHOD_GET,
     "/",
     "/",
     "",
     1,
     KA,
     0,
     0,
     {"Host", "x", "A-Rather-Long-Header-Name-That-Does-Not-Fit-In-One-Block", "v", NULL}},
    /* Around the blocks of the AVX2 fast path: a request-target that ends with the first
     * block, or in the second with its '?' there, or fills both (longer ones go on line by
     * line); names of 31, 32 and 33 bytes, the first 32 being a whole block with the colon
     * just past it; a long value that reaches the buffer's last block. */
#define T32 "/abcdefghijklmnopqrstuvwxyz01234"
#define T63 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?qqqqqqqqqqqqqqqqqqqqqqq"
#define T64 "/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define T40 "/a?bcccccccccccccccccccccccccccccccccccc"
#define ACCEPT_ALL "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
    {"GET " T32 " HTTP/1.1\r\nHost: x\r\n" ACCEPT_ALL "\r\n", 0, "GET", JP_METHOD_GET, T32,
     T32, "", 1, KA, 0, 0, {"Host", "x", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8",
     NULL}},
    {"GET " T63 " HTTP/1.1\r\nHost: x\r\n" ACCEPT_ALL "\r\n", 0, "GET", JP_METHOD_GET, T63,
     "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "qqqqqqqqqqqqqqqqqqqqqqq", 1, KA | HQ, 0, 0,
     {"Host", "x", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8", NULL}},
    {"GET " T64 " HTTP/1.1\r\nHost: x\r\n" ACCEPT_ALL "\r\n", 0, "GET", JP_METHOD_GET, T64,
     T64, "", 1, KA, 0, 0, {"Host", "x", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8",
     NULL}},
    {"GET " T40 " HTTP/1.0\r\nHost: x\r\n" ACCEPT_ALL "Connection: keep-alive\r\n\r\n", 0,
     "GET", JP_METHOD_GET, T40, "/a", "bcccccccccccccccccccccccccccccccccccc", 0, KA | HQ, 0, 0,
     {"Host", "x", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8", "Connection",
      "keep-alive", NULL}},
    {"GET / HTTP/1.1\r\nX-Name-Of-Exactly-Thirty-Two-By: a\r\nX-Name-Of-Exactly-Thirty-Two-Byt:"
     " b\r\nX-Name-Of-Exactly-Thirty-Two-Byte:c \r\nHost: x\r\n" ACCEPT_ALL "\r\n", 0, "GET",
     JP_METHOD_GET, "/", "/", "", 1, KA, 0, 0,
     {"X-Name-Of-Exactly-Thirty-Two-By", "a", "X-Name-Of-Exactly-Thirty-Two-Byt", "b",
      "X-Name-Of-Exactly-Thirty-Two-Byte", "c", "Host", "x", "Accept",
      "text/html,application/xhtml+xml,*/*;q=0.8", NULL}},
    {"GET / HTTP/1.1\r\nHost: x\r\nX-V:  0123456789abcdef0123456789abcdef0123456789abcdef"
     "0123456789abcdef0123456789 \r\n\r\n", 0, "GET", JP_METHOD_GET, "/", "/", "", 1, KA, 0, 0,
     {"Host", "x", "X-V", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
      "0123456789", NULL}},
#undef T32
#undef T63
#undef T64
#undef T40
#undef ACCEPT_ALL
    /* Pipelined: the parser stops at the end of the first head. */
    {"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n", 28, "GET",
     JP_METHOD_GET, "/1", "/1", "", 1, KA, 0, 0, {"Host", "x", NULL}},
};
/* clang-format on */

/* clang-format off */
#define V96                                                                                    \
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"   \
    "89012345"

/* Valid under small_limits, each right at one of them. */
static const valid_case small_valid_cases[] = {
    /* Exactly at the small limits: a 32-byte request line, three fields, a body of 100. */
    {"GET /0123456789abcdef HTTP/1.1\r\nHost: x\r\nA: b\r\nContent-Length: 100\r\n\r\n", 0, "GET",
     JP_METHOD_GET, "/0123456789abcdef", "/0123456789abcdef", "", 1, KA, JP_FRAMING_LENGTH, 100,
     {"Host", "x", "A", "b", "Content-Length", "100", NULL}},
    /* A head of exactly 128 bytes under the small limits. */
    {"GET / HTTP/1.1\r\nHost: x\r\nA: " V96 "\r\n\r\n",
     0,
     "GET",
     JP_METHOD_GET,
     "/",
     "/",
     "",
     1,
     KA,
     0,
     0,
     {"Host", "x", "A", V96, NULL}},
};
/* clang-format on */

/* The id a name should get, by plain case-insensitive comparison. */
static uint32_t
reference_id(const char *name, size_t n)
{
    static const struct {
        const char *name;
        uint32_t id;
    } ids[] = {
        {"host", JP_H_HOST},
        {"content-length", JP_H_CONTENT_LENGTH},
        {"transfer-encoding", JP_H_TRANSFER_ENCODING},
        {"connection", JP_H_CONNECTION},
        {"expect", JP_H_EXPECT},
        {"upgrade", JP_H_UPGRADE},
        {"content-type", JP_H_CONTENT_TYPE},
        {"cookie", JP_H_COOKIE},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (strlen(ids[i].name) == n && strncasecmp(ids[i].name, name, n) == 0)
            return ids[i].id;
    return JP_H_OTHER;
}

static int
span_is(const char *req, jp_span s, const char *want)
{
    return s.len == strlen(want) && memcmp(req + s.off, want, s.len) == 0;
}

/* Checks a finished head against the expectations of a valid case. */
static void
check_valid_head(const valid_case *vc, const outcome *o, const char *what)
{
    const char *req = vc->req;
    size_t len = strlen(req);
    const jp_request_head *h = &o->head;
    CHECK(o->ret == (ptrdiff_t)(len - vc->body), "%s: %.30s: returned %td, want %zu", what, req,
          o->ret, len - vc->body);
    if (o->ret <= 0) {
        if (o->ret == JP_HTTP1_ERROR)
            fprintf(stderr, "    error %u %s\n", o->status, o->reason);
        return;
    }
    CHECK(h->head_len == o->ret, "%s: head_len", what);
    CHECK(span_is(req, h->method, vc->method), "%s: %.30s: method", what, req);
    CHECK(h->method_id == vc->method_id, "%s: %.30s: method_id %u", what, req, h->method_id);
    CHECK(span_is(req, h->target, vc->target), "%s: %.30s: target", what, req);
    CHECK(span_is(req, h->path, vc->path), "%s: %.30s: path [%u,%u)", what, req, h->path.off,
          h->path.len);
    CHECK(span_is(req, h->query, vc->query), "%s: %.30s: query", what, req);
    CHECK(h->version_minor == vc->minor, "%s: %.30s: version", what, req);
    CHECK(h->flags == vc->flags, "%s: %.30s: flags %#x want %#x", what, req, h->flags, vc->flags);
    CHECK(h->framing == vc->framing, "%s: %.30s: framing %u", what, req, h->framing);
    CHECK(h->content_length == vc->content_length, "%s: %.30s: content_length", what, req);
    uint32_t n = 0;
    while (vc->fields[2 * n] != NULL)
        n++;
    CHECK(h->header_count == n, "%s: %.30s: %u fields, want %u", what, req, h->header_count, n);
    for (uint32_t i = 0; i < n && i < h->header_count; i++) {
        const jp_header *f = &o->headers[i];
        CHECK(span_is(req, f->name, vc->fields[2 * i]), "%s: %.30s: field %u name", what, req, i);
        CHECK(span_is(req, f->value, vc->fields[2 * i + 1]), "%s: %.30s: field %u value [%.*s]",
              what, req, i, (int)f->value.len, req + f->value.off);
        CHECK(f->id == reference_id(req + f->name.off, f->name.len), "%s: %.30s: field %u id %u",
              what, req, i, f->id);
    }
    /* Spans lie inside the head. */
    CHECK(h->target.off + h->target.len <= h->head_len &&
              h->path.off + h->path.len <= h->head_len &&
              h->query.off + h->query.len <= h->head_len,
          "%s: spans inside the head", what);
}

static void
test_valid(const valid_case *cases, size_t ncases, const jp_http1_limits *limits)
{
    static outcome whole, other;
    char a[128], b[128];
    for (size_t ci = 0; ci < ncases; ci++) {
        const valid_case *vc = &cases[ci];
        size_t len = strlen(vc->req);
        size_t head = len - vc->body;
        for (int li = 0; li < nlevels; li++) {
            jp_simd_level lv = levels[li];
            const char *name = jp_simd_name(lv);
            parse_whole(&whole, lv, limits, MAX_FIELDS, vc->req, len);
            check_valid_head(vc, &whole, name);

            /* Every proper prefix of the head asks for more; longer ones give the head. */
            for (size_t k = 0; k <= len; k++) {
                parse_whole(&other, lv, limits, MAX_FIELDS, vc->req, k);
                if (k < head)
                    CHECK(other.ret == JP_HTTP1_NEED_MORE, "%s: case %zu prefix %zu: %td", name, ci,
                          k, other.ret);
                else
                    CHECK(outcome_eq(&whole, &other), "%s: case %zu prefix %zu differs", name, ci,
                          k);
            }
            for (size_t k = 0; k <= len; k++) {
                parse_split(&other, lv, limits, MAX_FIELDS, vc->req, len, k);
                describe(&other, a, sizeof a);
                CHECK(outcome_eq(&whole, &other), "%s: case %zu split at %zu: %s", name, ci, k, a);
            }
            parse_bytewise(&other, lv, limits, MAX_FIELDS, vc->req, len, 1);
            describe(&whole, a, sizeof a);
            describe(&other, b, sizeof b);
            CHECK(outcome_eq(&whole, &other), "%s: case %zu bytewise: %s vs %s", name, ci, a, b);
            if (li > 0) {
                parse_whole(&other, levels[0], limits, MAX_FIELDS, vc->req, len);
                CHECK(outcome_eq(&whole, &other), "case %zu: scalar and avx2 differ", ci);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Invalid requests.                                                                          */

typedef struct invalid_case {
    const char *req;
    size_t len; /* 0: strlen(req); set when the request holds NUL bytes */
    uint16_t status;
    const jp_http1_limits *limits;
    uint32_t cap; /* 0: MAX_FIELDS */
} invalid_case;

/* A case whose literal holds NUL bytes: its length comes from sizeof, not strlen. */
#define NUL_CASE(s, status)                                                                        \
    {                                                                                              \
        (s), sizeof(s) - 1, (status), NULL, 0                                                      \
    }

#define H11 "GET / HTTP/1.1\r\n"
#define HOST "Host: x\r\n"
#define POST11 "POST / HTTP/1.1\r\nHost: x\r\n"

/* clang-format off */
static const invalid_case invalid_cases[] = {
    /* Line endings. */
    {"GET / HTTP/1.1\nHost: x\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Host: x\n\r\n", 0, 400, NULL, 0},
    {H11 HOST "\n", 0, 400, NULL, 0},
    {H11 HOST "\n\n", 0, 400, NULL, 0},
    {H11 "Host: x\r\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Host: x\rY: z\r\n\r\n", 0, 400, NULL, 0},
    {H11 HOST "\rX", 0, 400, NULL, 0},
    {"\rGET / HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"\nGET / HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"\r\n\nGET / HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/1.1\r\rHost: x\r\n\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/1.1\rHost: x\r\n\r\n", 0, 400, NULL, 0},
    {"GET /\nHTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET\n/ HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {H11 "Host\n: x\r\n\r\n", 0, 400, NULL, 0},
    /* Field syntax. */
    {H11 "Host : x\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Host\t: x\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Host x\r\n\r\n", 0, 400, NULL, 0},
    {H11 HOST " folded\r\n\r\n", 0, 400, NULL, 0},
    {H11 HOST "\tfolded\r\n\r\n", 0, 400, NULL, 0},
    {H11 " Host: x\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Host: x\x01y\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Host: x\x7fy\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Host: x\x1f\r\n\r\n", 0, 400, NULL, 0},
    NUL_CASE(H11 "Host: x\0y\r\n\r\n", 400),
    NUL_CASE(H11 "Ho\0st: x\r\n\r\n", 400),
    NUL_CASE(H11 "\0Host: x\r\n\r\n", 400),
    NUL_CASE(H11 "Host: \0\r\n\r\n", 400),
    NUL_CASE(H11 HOST "\0\r\n", 400),
    {H11 "Ho\"st: x\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Ho(st: x\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Ho/st: x\r\n\r\n", 0, 400, NULL, 0},
    {H11 "X-\x80: y\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {H11 ": x\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {H11 "Host\r\n\r\n", 0, 400, NULL, 0},
    {H11 HOST "X-Long-Value: 0123456789abcdef0123456789abcdef0123456789abcdef\x7f\r\n\r\n", 0, 400,
     NULL, 0},
    {H11 HOST "X-Long-Name-0123456789abcdef0123456789abcdef0123456789abcdef\x01: v\r\n\r\n", 0,
     400, NULL, 0},
    /* DEL in a name: the AVX2 line loop leaves it to its CR test, which it fails. */
    {H11 "Ho\x7fst: x\r\n\r\n", 0, 400, NULL, 0},
    {H11 "X-Name-Of-Exactly-Thirty-Two-By\x7f: v\r\n" HOST "X-Pad: 0123456789abcdef\r\n\r\n",
     0, 400, NULL, 0},
    {H11 "\x7fHost: x\r\n\r\n", 0, 400, NULL, 0},
    /* Host. */
    {H11 "\r\n", 0, 400, NULL, 0},
    {H11 "Hostx: y\r\n\r\n", 0, 400, NULL, 0},
    {H11 HOST "Host: y\r\n\r\n", 0, 400, NULL, 0},
    {H11 "Host: a\r\nhost: a\r\n\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 0, 400, NULL, 0},
    /* Version. */
    {"GET / HTTP/1.2\r\n" HOST "\r\n", 0, 505, NULL, 0},
    {"GET / HTTP/2.0\r\n" HOST "\r\n", 0, 505, NULL, 0},
    {"GET / HTTP/0.9\r\n" HOST "\r\n", 0, 505, NULL, 0},
    {"GET / HTTP/9.9\r\n\r\n", 0, 505, NULL, 0},
    {"GET / HTTP/1.1 \r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / http/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/1.10\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/11\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/1.x\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/2\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/1.1\r\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / HTTP/1.1 HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    /* Request line. */
    {"GET /\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET / \r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET  / HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET /  HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {" GET / HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"G(T / HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GE\"T / HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    NUL_CASE("G\0T / HTTP/1.1\r\n" HOST "\r\n", 400),
    NUL_CASE("\0GET / HTTP/1.1\r\n" HOST "\r\n", 400),
    {"GET\t/ HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET /a b HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET /a\x01" "b HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    NUL_CASE("GET /a\0b HTTP/1.1\r\n" HOST "\r\n", 400),
    NUL_CASE("GET / HTTP/1.1\0\r\n" HOST "\r\n", 400),
    {"GET /a\tb HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET /a#frag HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET /caf\xc3\xa9 HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET /\x7f HTTP/1.1\r\n" HOST "\r\n", 0, 400, NULL, 0},
    {"GET /0123456789abcdef0123456789abcdef0123456789abcdef#x HTTP/1.1\r\n" HOST "\r\n", 0, 400,
     NULL, 0},
    {"GET\r\n" HOST "\r\n", 0, 400, NULL, 0},
    /* Content-Length. */
    {POST11 "Content-Length: +5\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length: -5\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length: 5 5\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length: 0x5\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length: 5,5\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length: 5, 5\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length: 5.0\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length:\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length: \r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Content-Length: 123456789012345678901234567890\r\n\r\n", 0, 413, NULL, 0},
    {POST11 "Content-Length: 18446744073709551616\r\n\r\n", 0, 413, NULL, 0},
    {POST11 "Content-Length: 18446744073709551615\r\n\r\n", 0, 413, NULL, 0},
    {POST11 "Content-Length: 16777217\r\n\r\n", 0, 413, NULL, 0},
    /* Transfer-Encoding. */
    {POST11 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: xchunked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: chunkedx\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: chunked, identity\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding : chunked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "\tTransfer-Encoding: chunked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 " Transfer-Encoding: chunked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: chunked\r\n chunked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: chunked, chunked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: identity\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: chunked;ext=1\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: chu nked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding:\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: \"chunked\"\r\n\r\n", 0, 400, NULL, 0},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 400, NULL, 0},
    {POST11 "Transfer-Encoding: gzip, chunked\r\n\r\n", 0, 501, NULL, 0},
    {POST11 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 501, NULL, 0},
    {POST11 "Transfer-Encoding: x;q=\"a,b\", chunked\r\n\r\n", 0, 501, NULL, 0},
    /* Limits. */
    {"GET /0123456789abcdefg HTTP/1.1\r\n" HOST "\r\n", 0, 414, &small_limits, 0},
    {"GET /0123456789abcdef0123456789abcdef HTTP/1.1\r\n" HOST "\r\n", 0, 414, &small_limits, 0},
    {"GET /0123456789abcdef HTTP/1.12\r\n" HOST "\r\n", 0, 400, &small_limits, 0},
    {"GET /0123456789abcdef HTTP/1.1\r\r\n", 0, 400, &small_limits, 0},
    {"GET /0123456789abcdef0 HTTP/1.1\r", 0, 414, &small_limits, 0},
    {"GET /0123456789abcdefghijklmnopqrstuvwxyz", 0, 414, &small_limits, 0},
    {"GETGETGETGETGETGETGETGETGETGETGETGET / HTTP/1.1\r\n", 0, 414, &small_limits, 0},
    {"\r\n\r\nGET /0123456789abcdefg HTTP/1.1\r\n" HOST "\r\n", 0, 414, &small_limits, 0},
    {H11 HOST "A: b\r\nB: c\r\nC: d\r\n\r\n", 0, 431, &small_limits, 0},
    {H11 HOST "A: b\r\nB: c\r\n\r\n", 0, 431, NULL, 2},
    {H11 "Host: x\r\nA: " V96 "6\r\n\r\n", 0, 431, &small_limits, 0},
    {H11 "Host: x\r\nA: " V96 V96 "\r\n\r\n", 0, 431, &small_limits, 0},
    {"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
     0, 431, &small_limits, 0},
    {"GET /0123456789abcdef HTTP/1.1\r\n", 0, 431, &tight_head_limits, 0},
    {POST11 "Content-Length: 101\r\n\r\n", 0, 413, &small_limits, 0},
};
/* clang-format on */

static void
test_invalid(void)
{
    static outcome whole, other;
    char a[128], b[128];
    size_t n = sizeof invalid_cases / sizeof invalid_cases[0];
    CHECK(n >= 60, "only %zu invalid cases", n);
    for (size_t ci = 0; ci < n; ci++) {
        const invalid_case *ic = &invalid_cases[ci];
        size_t len = ic->len ? ic->len : strlen(ic->req);
        uint32_t cap = ic->cap ? ic->cap : MAX_FIELDS;
        for (int li = 0; li < nlevels; li++) {
            jp_simd_level lv = levels[li];
            const char *name = jp_simd_name(lv);
            parse_whole(&whole, lv, ic->limits, cap, ic->req, len);
            describe(&whole, a, sizeof a);
            CHECK(whole.ret == JP_HTTP1_ERROR && whole.status == ic->status,
                  "%s: invalid case %zu (%.40s...): %s, want %u", name, ci, ic->req, a, ic->status);
            if (whole.ret == JP_HTTP1_ERROR)
                CHECK(whole.reason != NULL && strchr(whole.reason, '\r') == NULL &&
                          strchr(whole.reason, '\n') == NULL,
                      "%s: invalid case %zu: reason", name, ci);
            /* A prefix either asks for more or already fails the same way. */
            for (size_t k = 0; k <= len; k++) {
                parse_whole(&other, lv, ic->limits, cap, ic->req, k);
                CHECK(other.ret == JP_HTTP1_NEED_MORE || outcome_eq(&whole, &other),
                      "%s: invalid case %zu prefix %zu", name, ci, k);
            }
            for (size_t k = 0; k <= len; k++) {
                parse_split(&other, lv, ic->limits, cap, ic->req, len, k);
                describe(&other, b, sizeof b);
                CHECK(outcome_eq(&whole, &other), "%s: invalid case %zu split at %zu: %s vs %s",
                      name, ci, k, a, b);
            }
            parse_bytewise(&other, lv, ic->limits, cap, ic->req, len, 1);
            describe(&other, b, sizeof b);
            CHECK(outcome_eq(&whole, &other), "%s: invalid case %zu bytewise: %s vs %s", name, ci,
                  a, b);
            if (li > 0) {
                parse_whole(&other, levels[0], ic->limits, cap, ic->req, len);
                CHECK(outcome_eq(&whole, &other), "invalid case %zu: scalar and avx2 differ", ci);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Limits at their default sizes, and the cost of a trickled head.                           */

/* A request whose request line is `line` bytes (CRLF included) and whose head is padded by
 * one field to `head` bytes; returns its length. */
static size_t
build_sized(char *out, size_t line, size_t head)
{
    size_t n = 0;
    memcpy(out, "GET /", 5);
    n = 5;
    while (n < line - 11)
        out[n++] = 'a';
    memcpy(out + n, " HTTP/1.1\r\nHost: x\r\n", 20);
    n += 20;
    if (head > n + 2) {
        memcpy(out + n, "P: ", 3);
        n += 3;
        while (n < head - 4)
            out[n++] = 'p';
        memcpy(out + n, "\r\n", 2);
        n += 2;
    }
    memcpy(out + n, "\r\n", 2);
    return n + 2;
}

static void
expect_whole(jp_simd_level lv, const char *data, size_t len, ptrdiff_t want_ret,
             uint16_t want_status, const char *what)
{
    static outcome o, b;
    parse_whole(&o, lv, NULL, MAX_FIELDS, data, len);
    CHECK(o.ret == want_ret && (want_ret != JP_HTTP1_ERROR || o.status == want_status),
          "%s %s: returned %td status %u", jp_simd_name(lv), what, o.ret, o.status);
    /* Fed one byte at a time (in place: the buffer is large). */
    parse_bytewise(&b, lv, NULL, MAX_FIELDS, data, len, 0);
    CHECK(outcome_eq(&o, &b), "%s %s: bytewise differs", jp_simd_name(lv), what);
}

static void
test_default_limits(void)
{
    static char buf[70000];
    for (int li = 0; li < nlevels; li++) {
        jp_simd_level lv = levels[li];
        size_t n = build_sized(buf, JP_HTTP1_DEFAULT_MAX_REQUEST_LINE, 0);
        expect_whole(lv, buf, n, (ptrdiff_t)n, 0, "8192-byte request line");
        n = build_sized(buf, JP_HTTP1_DEFAULT_MAX_REQUEST_LINE + 1, 0);
        expect_whole(lv, buf, n, JP_HTTP1_ERROR, 414, "8193-byte request line");
        n = build_sized(buf, 64, JP_HTTP1_DEFAULT_MAX_HEAD_SIZE);
        CHECK(n == JP_HTTP1_DEFAULT_MAX_HEAD_SIZE, "built %zu", n);
        expect_whole(lv, buf, n, (ptrdiff_t)n, 0, "65536-byte head");
        n = build_sized(buf, 64, JP_HTTP1_DEFAULT_MAX_HEAD_SIZE + 1);
        expect_whole(lv, buf, n, JP_HTTP1_ERROR, 431, "65537-byte head");
        /* Refused as soon as the limit passes, not at the end of the head. */
        n = build_sized(buf, 64, 69000);
        expect_whole(lv, buf, JP_HTTP1_DEFAULT_MAX_HEAD_SIZE + 1, JP_HTTP1_ERROR, 431,
                     "unfinished head over the limit");
        expect_whole(lv, buf, JP_HTTP1_DEFAULT_MAX_HEAD_SIZE, JP_HTTP1_ERROR, 431,
                     "unfinished head at the limit");
        expect_whole(lv, buf, JP_HTTP1_DEFAULT_MAX_HEAD_SIZE - 1, JP_HTTP1_NEED_MORE, 0,
                     "unfinished head below the limit");
        n = build_sized(buf, JP_HTTP1_DEFAULT_MAX_REQUEST_LINE + 100, 0);
        expect_whole(lv, buf, JP_HTTP1_DEFAULT_MAX_REQUEST_LINE + 1, JP_HTTP1_ERROR, 414,
                     "unfinished long request line");
        /* With 8192 bytes and no line end yet, the line cannot fit any more. */
        expect_whole(lv, buf, JP_HTTP1_DEFAULT_MAX_REQUEST_LINE, JP_HTTP1_ERROR, 414,
                     "unfinished request line at the limit");
        expect_whole(lv, buf, JP_HTTP1_DEFAULT_MAX_REQUEST_LINE - 1, JP_HTTP1_NEED_MORE, 0,
                     "unfinished request line below the limit");

        /* 100 fields pass, 101 do not. */
        n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\n");
        for (int i = 1; i < 100; i++)
            n += (size_t)sprintf(buf + n, "X-%d: %d\r\n", i, i);
        memcpy(buf + n, "\r\n", 2);
        expect_whole(lv, buf, n + 2, (ptrdiff_t)(n + 2), 0, "100 fields");
        n += (size_t)sprintf(buf + n, "X-100: 100\r\n\r\n");
        expect_whole(lv, buf, n, JP_HTTP1_ERROR, 431, "101 fields");
    }
}

/* A 60 KB field name (and then value) fed one byte at a time must cost O(1) per byte: the
 * parser resumes where it stopped instead of rescanning the line. Checked white-box through
 * _scan, which must follow the input, and black-box through the time taken. */
static void
test_trickle(void)
{
    static const jp_http1_limits big = {
        .max_request_line = 8192,
        .max_head_size = 200000,
        .max_headers = 100,
        .max_body_size = 100,
        .max_chunk_line = 64,
    };
    static char buf[160000];
    for (int li = 0; li < nlevels; li++) {
        jp_simd_level lv = levels[li];
        size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\n");
        size_t name_start = n;
        memset(buf + n, 'N', 60000);
        n += 60000;
        memcpy(buf + n, ": ", 2);
        n += 2;
        memset(buf + n, 'v', 60000);
        n += 60000;
        memcpy(buf + n, "\r\n\r\n", 4);
        n += 4;
        jp_http1_parser p;
        jp_http1_parser_init(&p, &big, field_store, MAX_FIELDS);
        p.simd = lv;
        ptrdiff_t r = JP_HTTP1_NEED_MORE;
        size_t lagging = 0;
        clock_t t0 = clock();
        size_t k;
        for (k = 1; k <= n && r == JP_HTTP1_NEED_MORE; k++) {
            r = jp_http1_parse(&p, buf, k);
            if (r == JP_HTTP1_NEED_MORE && k > name_start + 2 && p._scan + 2 < k)
                lagging++;
        }
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        CHECK(r == (ptrdiff_t)n, "%s: trickled 120 KB head: %td", jp_simd_name(lv), r);
        CHECK(lagging == 0, "%s: %zu calls left bytes unscanned behind", jp_simd_name(lv), lagging);
        /* Quadratic rescanning would take minutes here; linear takes milliseconds. */
        CHECK(secs < 5.0, "%s: trickle took %.2f s", jp_simd_name(lv), secs);
        CHECK(r > 0 && p.head.headers[1].name.len == 60000 && p.head.headers[1].value.len == 60000,
              "%s: trickled spans", jp_simd_name(lv));

        /* And 60 KB of OWS before a value, one byte at a time. */
        n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\nA:");
        memset(buf + n, ' ', 60000);
        n += 60000;
        memcpy(buf + n, "b\r\n\r\n", 5);
        n += 5;
        jp_http1_parser_reset(&p);
        r = JP_HTTP1_NEED_MORE;
        t0 = clock();
        for (k = 1; k <= n && r == JP_HTTP1_NEED_MORE; k++)
            r = jp_http1_parse(&p, buf, k);
        secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        CHECK(r == (ptrdiff_t)n && p.head.headers[1].value.len == 1, "%s: trickled OWS: %td",
              jp_simd_name(lv), r);
        CHECK(secs < 5.0, "%s: OWS trickle took %.2f s", jp_simd_name(lv), secs);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The API around the parse.                                                                  */

static void
test_api(void)
{
    static const char two[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                              "POST /2?q HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\nhi";
    jp_header fields[8];
    jp_http1_parser p;
    jp_http1_parser_init(&p, NULL, fields, 8);
    CHECK(p.simd == jp_simd_default(), "init copies the simd level");
    ptrdiff_t r = jp_http1_parse(&p, two, sizeof two - 1);
    CHECK(r == 28, "first of two: %td", r);
    CHECK(jp_http1_parse(&p, two, sizeof two - 1) == 28, "done is sticky");
    jp_http1_parser_reset(&p);
    const char *second = two + r;
    r = jp_http1_parse(&p, second, sizeof two - 1 - 28);
    CHECK(r == (ptrdiff_t)(sizeof two - 1 - 28 - 2), "second of two: %td", r);
    CHECK(p.head.method_id == JP_METHOD_POST && p.head.content_length == 2 &&
              p.head.framing == JP_FRAMING_LENGTH && (p.head.flags & JP_HEAD_HAS_QUERY) &&
              p.head.headers == fields && p.head.header_count == 2,
          "second head");
    CHECK(p.head.headers[0].value.off == 26 && second[26] == 'b', "offsets are relative");

    jp_http1_parser_reset(&p);
    CHECK(jp_http1_parse(&p, "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 28) == JP_HTTP1_ERROR, "error");
    CHECK(p.error_status == 400 && strcmp(p.error_reason, "whitespace before colon") == 0,
          "error reason: %s", p.error_reason);
    CHECK(jp_http1_parse(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27) == JP_HTTP1_ERROR,
          "error is sticky");
    jp_http1_parser_reset(&p);
    CHECK(jp_http1_parse(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27) == 27, "reset clears");
    CHECK(jp_http1_parse(&p, "", 0) == 27, "done ignores the buffer");

    jp_http1_parser_reset(&p);
    CHECK(jp_http1_parse(&p, NULL, 0) == JP_HTTP1_NEED_MORE, "empty input");

    /* No header array: any field is one too many. */
    jp_http1_parser_init(&p, NULL, NULL, 0);
    CHECK(jp_http1_parse(&p, "GET / HTTP/1.0\r\n\r\n", 18) == 18, "no fields, no array");
    jp_http1_parser_reset(&p);
    CHECK(jp_http1_parse(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27) == JP_HTTP1_ERROR &&
              p.error_status == 431,
          "no array");

    static const struct {
        jp_method m;
        const char *name;
    } names[] = {
        {JP_METHOD_GET, "GET"},         {JP_METHOD_HEAD, "HEAD"},       {JP_METHOD_POST, "POST"},
        {JP_METHOD_PUT, "PUT"},         {JP_METHOD_DELETE, "DELETE"},   {JP_METHOD_PATCH, "PATCH"},
        {JP_METHOD_OPTIONS, "OPTIONS"}, {JP_METHOD_CONNECT, "CONNECT"}, {JP_METHOD_TRACE, "TRACE"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = jp_http1_method_name(names[i].m);
        CHECK(got && strcmp(got, names[i].name) == 0, "method name %s", names[i].name);
    }
    CHECK(jp_http1_method_name(JP_METHOD_OTHER) == NULL, "no name for OTHER");
    CHECK(jp_http1_method_name((jp_method)99) == NULL, "no name out of range");
    CHECK(jp_http1_default_limits.max_head_size == JP_HTTP1_DEFAULT_MAX_HEAD_SIZE &&
              jp_http1_default_limits.max_body_size == JP_HTTP1_DEFAULT_MAX_BODY_SIZE &&
              jp_http1_default_limits.max_chunk_line == JP_HTTP1_DEFAULT_MAX_CHUNK_LINE,
          "default limits");
}

/* A parser reused with jp_http1_parser_reset() gives what a new one gives: every valid and
 * invalid case parsed after each valid case (whose head sets a query, a body, flags), and
 * after an error, on both levels. reset clears only what a parse reads before writing it, so
 * a field a parse forgot to write would show here as a value left from the case before. */
static void
test_reuse(void)
{
    static jp_header reuse_fields[MAX_FIELDS];
    static outcome fresh, reused;
    size_t nvalid = sizeof valid_cases / sizeof valid_cases[0];
    size_t ninvalid = sizeof invalid_cases / sizeof invalid_cases[0];
    for (int li = 0; li < nlevels; li++) {
        for (size_t i = 0; i < nvalid + 1; i++) {
            /* The case before: a valid one, or (the last round) an error. */
            const char *before =
                i < nvalid ? valid_cases[i].req : "GET / HTTP/1.1\r\nA : b\r\n\r\n";
            for (size_t j = 0; j < nvalid + ninvalid; j++) {
                const char *req;
                size_t len;
                const jp_http1_limits *limits = NULL;
                uint32_t cap = MAX_FIELDS;
                if (j < nvalid) {
                    req = valid_cases[j].req;
                    len = strlen(req);
                } else {
                    const invalid_case *ic = &invalid_cases[j - nvalid];
                    req = ic->req;
                    len = ic->len ? ic->len : strlen(req);
                    limits = ic->limits;
                    cap = ic->cap ? ic->cap : MAX_FIELDS;
                }
                parse_whole(&fresh, levels[li], limits, cap, req, len);
                jp_http1_parser p;
                jp_http1_parser_init(&p, limits, reuse_fields, cap);
                p.simd = levels[li];
                (void)jp_http1_parse(&p, before, strlen(before));
                jp_http1_parser_reset(&p);
                outcome_take(&reused, &p, jp_http1_parse(&p, req, len));
                CHECK(outcome_eq(&fresh, &reused), "%s: case %zu after case %zu differs",
                      jp_simd_name(levels[li]), j, i);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Every byte value at every position of a 32-byte block, in each scanned part of the head,   */
/* must be accepted or refused exactly as jp_char_class says. Two blocks are covered, so both */
/* the first block of a line (where the AVX2 code reads name and value together) and a later  */
/* one are checked; the tail of the buffer is checked by cutting the input inside the run.    */

enum { PART_METHOD, PART_TARGET, PART_NAME, PART_VALUE, PART_COUNT };

static const char *const part_names[] = {"method", "target", "name", "value"};

/* Builds a request with a 64-byte run in `part` whose byte i is c; returns its length and
 * sets *run_end to the offset just past the run. */
static size_t
build_run(char *out, int part, size_t i, unsigned char c, size_t *run_end)
{
    char run[64];
    size_t n = 0;
    memset(run,
           part == PART_METHOD   ? 'M'
           : part == PART_TARGET ? 't'
           : part == PART_NAME   ? 'N'
                                 : 'v',
           sizeof run);
    run[i] = (char)c;
#define PUT(s)                                                                                     \
    do {                                                                                           \
        memcpy(out + n, (s), strlen(s));                                                           \
        n += strlen(s);                                                                            \
    } while (0)
#define PUT_RUN()                                                                                  \
    do {                                                                                           \
        memcpy(out + n, run, sizeof run);                                                          \
        n += sizeof run;                                                                           \
        *run_end = n;                                                                              \
    } while (0)
    switch (part) {
    case PART_METHOD:
        PUT_RUN();
        PUT(" / HTTP/1.1\r\nHost: x\r\n\r\n");
        break;
    case PART_TARGET:
        PUT("GET /");
        PUT_RUN();
        PUT(" HTTP/1.1\r\nHost: x\r\n\r\n");
        break;
    case PART_NAME:
        PUT("GET / HTTP/1.1\r\nHost: x\r\n");
        PUT_RUN();
        PUT(": v\r\n\r\n");
        break;
    default:
        PUT("GET / HTTP/1.1\r\nHost: x\r\nX-Test: ");
        PUT_RUN();
        PUT("\r\n\r\n");
        break;
    }
#undef PUT
#undef PUT_RUN
    return n;
}

static void
test_byte_classes(void)
{
    static outcome o, ref;
    char req[256];
    unsigned long mismatches = 0, wrong = 0;
    for (int part = 0; part < PART_COUNT; part++) {
        for (size_t i = 0; i < 64; i++) {
            for (unsigned c = 0; c < 256; c++) {
                size_t run_end;
                size_t len = build_run(req, part, i, (unsigned char)c, &run_end);
                unsigned cls = jp_char_class[c];
                int ok = part == PART_METHOD || part == PART_NAME ? (cls & JP_C_TCHAR) != 0
                         : part == PART_TARGET                    ? (cls & JP_C_TARGET) != 0
                                                                  : (cls & JP_C_FIELD) != 0;
                for (int li = 0; li < nlevels; li++) {
                    parse_whole(&o, levels[li], NULL, MAX_FIELDS, req, len);
                    if (li == 0)
                        ref = o;
                    else if (!outcome_eq(&o, &ref))
                        mismatches++;
                    /* Whole: accepted with the run intact, or refused. The only byte that
                     * ends a run and still parses is ':' inside a name. */
                    int good;
                    if (ok) {
                        jp_span s = part == PART_METHOD   ? o.head.method
                                    : part == PART_TARGET ? o.head.target
                                    : part == PART_NAME   ? o.headers[1].name
                                                          : o.headers[1].value;
                        size_t want = part == PART_TARGET ? 65 : 64;
                        if (part == PART_VALUE && (c == ' ' || c == '\t') && (i == 0 || i == 63))
                            want = 63;
                        good = o.ret == (ptrdiff_t)len && s.len == want;
                    } else if (part == PART_NAME && c == ':' && i > 0) {
                        good = o.ret == (ptrdiff_t)len && o.headers[1].name.len == i;
                    } else {
                        good = o.ret == JP_HTTP1_ERROR && o.status == 400;
                    }
                    if (!good) {
                        wrong++;
                        if (wrong < 10)
                            fprintf(stderr, "%s: %s byte %#x at %zu: ret %td status %u\n",
                                    jp_simd_name(levels[li]), part_names[part], c, i, o.ret,
                                    o.status);
                    }
                    /* Cut inside the run, so the buffer ends within the block: a good byte
                     * must leave the parser asking for more. */
                    size_t cut = run_end - 64 + i + 1 + (i * 7 % (64 - i));
                    parse_whole(&o, levels[li], NULL, MAX_FIELDS, req, cut);
                    if (ok && o.ret != JP_HTTP1_NEED_MORE) {
                        wrong++;
                        if (wrong < 10)
                            fprintf(stderr, "%s: %s byte %#x at %zu cut %zu: ret %td\n",
                                    jp_simd_name(levels[li]), part_names[part], c, i, cut, o.ret);
                    }
                    static outcome cut_ref;
                    if (li == 0)
                        cut_ref = o;
                    else if (!outcome_eq(&o, &cut_ref))
                        mismatches++;
                }
            }
        }
    }
    CHECK(wrong == 0, "%lu byte-class answers differ from jp_char_class", wrong);
    CHECK(mismatches == 0, "%lu byte-class answers differ between scalar and avx2", mismatches);
}

/* ---------------------------------------------------------------------------------------- */
/* Random mutations of valid requests: both implementations must agree on every one, whole,  */
/* split and trickled.                                                                        */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static size_t
mutate(char *buf, size_t len, size_t cap)
{
    static const char interesting[] = "\r\n \t:,;#?/\0\x7f\x80\xff"
                                      "0aA-";
    int rounds = 1 + (int)(rng() % 4);
    for (int r = 0; r < rounds; r++) {
        size_t at = len ? rng() % len : 0;
        switch (rng() % 6) {
        case 0: /* overwrite with any byte */
            if (len)
                buf[at] = (char)rng();
            break;
        case 1: /* overwrite with an interesting byte */
            if (len)
                buf[at] = interesting[rng() % (sizeof interesting - 1)];
            break;
        case 2: /* insert an interesting byte */
            if (len < cap) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = interesting[rng() % (sizeof interesting - 1)];
                len++;
            }
            break;
        case 3: /* delete a byte */
            if (len) {
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            }
            break;
        case 4: /* duplicate a slice (repeats headers, lengthens runs across blocks) */
        {
            size_t n = 1 + rng() % 40;
            if (at + n <= len && len + n <= cap) {
                memmove(buf + at + n, buf + at, len - at);
                len += n;
            }
            break;
        }
        default: /* truncate */
            if (rng() % 4 == 0)
                len = at;
            break;
        }
    }
    return len;
}

static void
test_random(void)
{
    static outcome a, b;
    static char buf[4096];
    const size_t rounds = 200000;
    size_t ncases = sizeof valid_cases / sizeof valid_cases[0];
    unsigned long diff_level = 0, diff_split = 0, diff_bytes = 0, ok = 0;
    for (size_t r = 0; r < rounds; r++) {
        const valid_case *vc = &valid_cases[rng() % ncases];
        size_t len = strlen(vc->req);
        memcpy(buf, vc->req, len);
        len = mutate(buf, len, sizeof buf);
        const jp_http1_limits *lim = rng() % 8 == 0 ? &small_limits : NULL;
        parse_whole(&a, levels[0], lim, MAX_FIELDS, buf, len);
        if (a.ret > 0)
            ok++;
        if (nlevels > 1) {
            parse_whole(&b, levels[1], lim, MAX_FIELDS, buf, len);
            if (!outcome_eq(&a, &b)) {
                if (diff_level++ < 5) {
                    char x[128], y[128];
                    describe(&a, x, sizeof x);
                    describe(&b, y, sizeof y);
                    fprintf(stderr, "random %zu: scalar %s, avx2 %s: [%.*s]\n", r, x, y, (int)len,
                            buf);
                }
            }
        }
        jp_simd_level lv = levels[rng() % (unsigned)nlevels];
        if (len) {
            parse_split(&b, lv, lim, MAX_FIELDS, buf, len, rng() % len);
            if (!outcome_eq(&a, &b) && diff_split++ < 5)
                fprintf(stderr, "random %zu: split differs: [%.*s]\n", r, (int)len, buf);
        }
        if (r % 16 == 0) {
            parse_bytewise(&b, lv, lim, MAX_FIELDS, buf, len, 0);
            if (!outcome_eq(&a, &b) && diff_bytes++ < 5)
                fprintf(stderr, "random %zu: bytewise differs: [%.*s]\n", r, (int)len, buf);
        }
    }
    CHECK(diff_level == 0, "%lu random inputs differ between scalar and avx2", diff_level);
    CHECK(diff_split == 0, "%lu random inputs differ when split", diff_split);
    CHECK(diff_bytes == 0, "%lu random inputs differ when trickled", diff_bytes);
    CHECK(ok > rounds / 20, "only %lu of the random inputs parsed", ok);
    printf("random: %zu mutations, %lu parsed\n", rounds, ok);
}

/* ---------------------------------------------------------------------------------------- */
/* A header array that grows (grow_headers, JP_HTTP1_HEADERS_FULL).                           */

/* A parser on a heap array of `cap` entries that grows it by doubling (at most to the
 * limit) at each JP_HTTP1_HEADERS_FULL, as the connection does. The old array is freed at
 * once, so a read of it afterwards is a use after free under ASan. */
typedef struct grower {
    jp_http1_parser p;
    jp_header *arr;
    uint32_t cap;
    unsigned fulls;
} grower;

static void
grower_open(grower *g, jp_simd_level level, const jp_http1_limits *limits, uint32_t cap)
{
    g->arr = malloc(cap * sizeof(jp_header));
    g->cap = cap;
    g->fulls = 0;
    jp_http1_parser_init(&g->p, limits, g->arr, cap);
    g->p.simd = level;
    g->p.grow_headers = 1;
}

static ptrdiff_t
grower_parse(grower *g, const char *buf, size_t len)
{
    const jp_http1_limits *lim = g->p._limits;
    ptrdiff_t r = jp_http1_parse(&g->p, buf, len);
    while (r == JP_HTTP1_HEADERS_FULL) {
        g->fulls++;
        CHECK(g->cap < lim->max_headers && g->p.head.header_count == g->cap,
              "full at %u of %u entries, limit %u", g->p.head.header_count, g->cap,
              lim->max_headers);
        uint32_t want = g->cap <= lim->max_headers / 2 ? g->cap * 2 : lim->max_headers;
        jp_header *grown = malloc(want * sizeof(jp_header));
        memcpy(grown, g->arr, g->p.head.header_count * sizeof(jp_header));
        /* What the parser must no longer read: poisoned, then freed. */
        memset(g->arr, 0xA5, g->cap * sizeof(jp_header));
        free(g->arr);
        g->arr = grown;
        g->cap = want;
        jp_http1_parser_set_headers(&g->p, grown, want);
        r = jp_http1_parse(&g->p, buf, len);
    }
    return r;
}

/* Builds a head of n field lines after the request line; the lines the server acts on
 * (Host, Content-Length, Connection, Transfer-Encoding) are placed at `special`, so that
 * their effect must carry over a pause. variant 1 adds a line the fast loops leave to the
 * general code (a tab in the value), 2 a second Host at the end (400), 3 a bare LF as the
 * last line (400). Returns the length. */
static size_t
grow_head(char *buf, uint32_t n, uint32_t special, int variant)
{
    size_t len = (size_t)sprintf(buf, "POST /grow?x=1 HTTP/1.1\r\n");
    for (uint32_t i = 0; i < n; i++) {
        if (i == special)
            len += (size_t)sprintf(buf + len, "Host: example.com\r\n");
        else if (i == special + 1)
            len += (size_t)sprintf(buf + len, "Content-Length: 5\r\n");
        else if (i == special + 2)
            len += (size_t)sprintf(buf + len, "Connection: close\r\n");
        else if (variant == 1 && i == special + 3)
            len += (size_t)sprintf(buf + len, "X-Tab: a\tb\r\n");
        else if (variant == 2 && i == n - 1)
            len += (size_t)sprintf(buf + len, "Host: again\r\n");
        else if (variant == 3 && i == n - 1)
            len += (size_t)sprintf(buf + len, "\n");
        else
            len += (size_t)sprintf(buf + len, "X-Field-%u:  value %u \r\n", i, i * 7);
    }
    len += (size_t)sprintf(buf + len, "\r\n");
    return len;
}

/* A parser whose array grows must answer exactly what one given the whole limit's array
 * answers: every head of 1 to limit + 2 lines, whole, split at every byte and trickled, on
 * both levels, for a few starting sizes and limits; a head of exactly max_headers lines is
 * accepted and one more is 431. A full array is reported only while the limit is above it,
 * and only when a line starts past it. */
static void
test_grow(void)
{
    static char buf[8192];
    static outcome want, got;
    static const jp_http1_limits lim12 = {8192, 65536, 12, 100, 64};
    static const jp_http1_limits lim10 = {8192, 65536, 10, 100, 64};
    static const struct {
        const jp_http1_limits *limits;
        uint32_t cap;
    } setups[] = {{&lim12, 3}, {&lim10, 3}, {&lim10, 1}, {&lim10, 10}, {&lim10, 16}, {NULL, 32}};
    unsigned checked = 0;
    for (int li = 0; li < nlevels; li++) {
        jp_simd_level lv = levels[li];
        for (size_t si = 0; si < sizeof setups / sizeof setups[0]; si++) {
            const jp_http1_limits *lim = setups[si].limits;
            uint32_t max = lim ? lim->max_headers : JP_HTTP1_DEFAULT_MAX_HEADERS;
            uint32_t cap0 = setups[si].cap;
            int small = max <= 12;
            for (uint32_t n = 1; n <= max + 2; n++) {
                /* The default limit: only the lines around the boundaries. */
                int boundary =
                    n <= 3 || (n >= cap0 - 1 && n <= cap0 + 1) || n == 2 * cap0 || n >= max - 1;
                if (!small && !boundary)
                    continue;
                for (int variant = 0; variant < 4; variant++) {
                    uint32_t special = n > 4 ? n - 4 : 0;
                    if (variant != 0 && n < 6)
                        continue;
                    size_t len = grow_head(buf, n, special, variant);
                    jp_http1_parser ref;
                    jp_http1_parser_init(&ref, lim, field_store, MAX_FIELDS);
                    ref.simd = lv;
                    outcome_take(&want, &ref,
                                 jp_http1_parse(&ref, jp_guarded_copy(&guard, buf, len), len));
                    if (variant == 0) {
                        if (n <= max)
                            CHECK(want.ret == (ptrdiff_t)len && want.head.header_count == n &&
                                      (n < 3 || (want.head.content_length == 5 &&
                                                 !(want.head.flags & JP_HEAD_KEEP_ALIVE))),
                                  "%u lines of %u accepted: %td", n, max, want.ret);
                        else
                            CHECK(want.ret == JP_HTTP1_ERROR && want.status == 431,
                                  "%u lines of %u: 431", n, max);
                    }
                    char what[96];
                    /* Whole, split at every byte, trickled. */
                    for (size_t k = 0; k <= len + 1; k++) {
                        grower g;
                        grower_open(&g, lv, lim, cap0);
                        ptrdiff_t r;
                        if (k == len + 1) {
                            r = JP_HTTP1_NEED_MORE;
                            for (size_t m = 1; m <= len && r == JP_HTTP1_NEED_MORE; m++)
                                r = grower_parse(&g, jp_guarded_copy(&guard, buf, m), m);
                        } else {
                            r = grower_parse(&g, jp_guarded_copy(&guard, buf, k), k);
                            if (r == JP_HTTP1_NEED_MORE && k < len)
                                r = grower_parse(&g, jp_guarded_copy(&guard, buf, len), len);
                        }
                        outcome_take(&got, &g.p, r);
                        describe(&got, what, sizeof what);
                        CHECK(outcome_eq(&want, &got),
                              "%s: %u lines (variant %d), array %u of %u, split %zu: %s",
                              jp_simd_name(lv), n, variant, cap0, max, k, what);
                        /* Grown only as far as needed: a full array only with lines past it. */
                        uint32_t need = 0;
                        if (got.ret > 0 || (got.ret == JP_HTTP1_ERROR && variant == 0))
                            need = n < max ? n : max;
                        if (variant == 0)
                            CHECK(need <= cap0 ? g.fulls == 0 : g.cap >= need && g.cap < 2 * need,
                                  "%s: %u lines, array %u: %u fulls to %u", jp_simd_name(lv), n,
                                  cap0, g.fulls, g.cap);
                        free(g.arr);
                        checked++;
                    }
                }
            }
        }
    }
    /* Without grow_headers, a full array is 431 as before, whatever the limit. */
    {
        jp_header four[4];
        jp_http1_parser p;
        jp_http1_parser_init(&p, NULL, four, 4);
        CHECK(p.grow_headers == 0, "grow_headers is 0 after init");
        size_t len = grow_head(buf, 5, 0, 0);
        CHECK(jp_http1_parse(&p, buf, len) == JP_HTTP1_ERROR && p.error_status == 431,
              "no growth asked: 431");
        /* reset keeps grow_headers and the array. */
        p.grow_headers = 1;
        jp_http1_parser_reset(&p);
        CHECK(p.grow_headers == 1 && p.head.headers == four, "reset keeps grow_headers");
        CHECK(jp_http1_parse(&p, buf, len) == JP_HTTP1_HEADERS_FULL && p.head.header_count == 4,
              "full at 4");
        CHECK(jp_http1_parse(&p, buf, len) == JP_HTTP1_HEADERS_FULL, "full again, same array");
    }
    printf("grow: %u parses compared\n", checked);
}

int
main(void)
{
    jp_simd_init();
    jp_guard_open(&guard, GUARD_CAPACITY);
    have_avx2 = jp_simd_cpu_best() == JP_SIMD_AVX2;
    levels[nlevels++] = JP_SIMD_SCALAR;
    if (have_avx2)
        levels[nlevels++] = JP_SIMD_AVX2;
    else
        printf("test_http1: no AVX2 on this CPU; the AVX2 comparisons are skipped\n");

    test_api();
    test_valid(valid_cases, sizeof valid_cases / sizeof valid_cases[0], NULL);
    test_valid(small_valid_cases, sizeof small_valid_cases / sizeof small_valid_cases[0],
               &small_limits);
    test_invalid();
    test_reuse();
    test_default_limits();
    test_trickle();
    test_grow();
    test_byte_classes();
    test_random();

    jp_guard_close(&guard);
    return JP_TEST_SUMMARY("test_http1");
}
