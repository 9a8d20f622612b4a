/*
 * requests.h - the fixed request set of the parser benchmark (benchmark code only).
 *
 * Both benchmark programs include this file, bench_parser.c for our parser and bench_pico.c
 * for the picohttpparser reference, so that every figure in a row of the table comes from
 * exactly the same bytes. Each request is one complete message; the expected answers (field
 * count, body size) are written beside it and the programs check them once before timing,
 * because the timing of a parse that fails is meaningless.
 */
#ifndef JP_BENCH_REQUESTS_H
#define JP_BENCH_REQUESTS_H

#include <stddef.h>

/* 1. The smallest realistic request: request-line and Host. */
#define BENCH_REQ_SHORT "GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"

/* 2. What the TechEmpower plaintext test sends (its wrk script's headers). */
#define BENCH_REQ_PLAINTEXT                                                                    \
    "GET /plaintext HTTP/1.1\r\n"                                                              \
    "Host: localhost:8080\r\n"                                                                 \
    "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,"    \
    "*/*;q=0.7\r\n"                                                                            \
    "Connection: keep-alive\r\n"                                                               \
    "\r\n"

/* 3. A browser's GET with nine header fields and a long Cookie, the same kind of request as
 *    picohttpparser's bench.c (Firefox 3.6 fetching an image). About 700 bytes. */
#define BENCH_REQ_BROWSER                                                                      \
    "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"            \
    "Host: www.kittyhell.com\r\n"                                                              \
    "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) "      \
    "Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"                                            \
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"              \
    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"                                             \
    "Accept-Encoding: gzip,deflate\r\n"                                                        \
    "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"                                        \
    "Keep-Alive: 115\r\n"                                                                      \
    "Connection: keep-alive\r\n"                                                               \
    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=1269990845; "                      \
    "__utma=173730677.1947624311.1269990845.1269990845.1269990845.1; "                         \
    "__utmz=173730677.1269990845.1.1.utmccn=(referral)|utmcsr=reader.livedoor.com|"            \
    "utmcct=/reader/|utmcmd=referral\r\n"                                                      \
    "\r\n"

/* 4. An API call: a JSON body framed by Content-Length (221 bytes). */
#define BENCH_POST_BODY                                                                        \
    "{\"id\":48213,\"name\":\"Widget, large\",\"sku\":\"WX-4821-L\",\"price\":{\"amount\":1999,"   \
    "\"currency\":\"EUR\"},\"tags\":[\"tools\",\"hardware\",\"outdoor\"],\"stock\":{"          \
    "\"warehouse\":\"DUS-2\",\"count\":117},\"active\":true,\"updated\":"                      \
    "\"2024-03-18T09:41:07Z\"}"
#define BENCH_POST_BODY_LEN 221
#define BENCH_REQ_POST                                                                         \
    "POST /api/v1/items HTTP/1.1\r\n"                                                          \
    "Host: localhost:8080\r\n"                                                                 \
    "User-Agent: python-requests/2.31.0\r\n"                                                   \
    "Accept: application/json\r\n"                                                             \
    "Content-Type: application/json\r\n"                                                       \
    "Content-Length: 221\r\n"                                                                  \
    "\r\n" BENCH_POST_BODY

/* 5. A chunked upload: four chunks of 256 bytes (1 KiB of data), one chunk extension, and a
 *    trailer field after the last-chunk. */
#define BENCH_CHUNK_DATA_64 "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
#define BENCH_CHUNK_DATA_256                                                                   \
    BENCH_CHUNK_DATA_64 BENCH_CHUNK_DATA_64 BENCH_CHUNK_DATA_64 BENCH_CHUNK_DATA_64
#define BENCH_CHUNKED_BODY_LEN 1024
#define BENCH_REQ_CHUNKED                                                                      \
    "POST /upload HTTP/1.1\r\n"                                                                \
    "Host: localhost:8080\r\n"                                                                 \
    "User-Agent: curl/8.5.0\r\n"                                                               \
    "Accept: */*\r\n"                                                                          \
    "Content-Type: application/octet-stream\r\n"                                               \
    "Transfer-Encoding: chunked\r\n"                                                           \
    "\r\n"                                                                                     \
    "100;part=1\r\n" BENCH_CHUNK_DATA_256 "\r\n"                                               \
    "100\r\n" BENCH_CHUNK_DATA_256 "\r\n"                                                      \
    "100\r\n" BENCH_CHUNK_DATA_256 "\r\n"                                                      \
    "100\r\n" BENCH_CHUNK_DATA_256 "\r\n"                                                      \
    "0\r\n"                                                                                    \
    "X-Checksum: 9f86d081\r\n"                                                                 \
    "\r\n"

enum bench_kind {
    BENCH_HEAD,    /* parse the head; the message has no body */
    BENCH_LENGTH,  /* parse the head and locate the Content-Length body */
    BENCH_CHUNKED, /* parse the head and decode the whole chunked body */
};

typedef struct bench_request {
    const char *id;    /* short name used in the result lines */
    const char *label; /* row label of the table */
    const char *bytes;
    size_t len;
    enum bench_kind kind;
    unsigned headers;   /* field lines in the head */
    size_t body_len;    /* decoded body bytes (BENCH_LENGTH, BENCH_CHUNKED) */
} bench_request;

#define BENCH_REQ(s) (s), (sizeof(s) - 1)

static const bench_request bench_requests[] = {
    {"short", "short GET", BENCH_REQ(BENCH_REQ_SHORT), BENCH_HEAD, 1, 0},
    {"plaintext", "TechEmpower plaintext GET", BENCH_REQ(BENCH_REQ_PLAINTEXT), BENCH_HEAD, 3, 0},
    {"browser", "browser GET, 9 fields", BENCH_REQ(BENCH_REQ_BROWSER), BENCH_HEAD, 9, 0},
    {"post", "POST, 221 B JSON (Content-Length)", BENCH_REQ(BENCH_REQ_POST), BENCH_LENGTH, 5,
     BENCH_POST_BODY_LEN},
    {"chunked", "chunked upload, 4 x 256 B", BENCH_REQ(BENCH_REQ_CHUNKED), BENCH_CHUNKED, 5,
     BENCH_CHUNKED_BODY_LEN},
};

#define BENCH_NREQUESTS (sizeof(bench_requests) / sizeof(bench_requests[0]))

#endif /* JP_BENCH_REQUESTS_H */
