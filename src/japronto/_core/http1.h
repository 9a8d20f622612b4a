/*
 * http1.h - incremental HTTP/1.x request-head parser (layer 0: pure C, no Python.h).
 *
 * The caller owns the bytes. The parser never copies them and never writes to them: every
 * result is a span (offset and length) relative to the first byte of the request, so the
 * caller may move or grow its buffer between calls as long as the bytes already passed stay
 * the same. Offsets rather than pointers are what make that move safe.
 *
 * Use:
 *
 *     jp_http1_parser p;
 *     jp_header headers[JP_HTTP1_DEFAULT_MAX_HEADERS];
 *     jp_http1_parser_init(&p, NULL, headers, JP_HTTP1_DEFAULT_MAX_HEADERS);
 *     for (;;) {
 *         ptrdiff_t n = jp_http1_parse(&p, buf, len);
 *         if (n > 0)  { ... p.head is complete, the head is buf[0..n) ...; break; }
 *         if (n == JP_HTTP1_NEED_MORE) { ... read more, append to buf, loop ... }
 *         if (n == JP_HTTP1_ERROR) { ... answer p.error_status, p.error_reason; close ... }
 *     }
 *     jp_http1_parser_reset(&p);   before the next request (its buf starts at its first byte)
 *
 * Incremental contract: after JP_HTTP1_NEED_MORE the next call must pass the same bytes
 * again (at any address) followed by zero or more new ones. Bytes already validated are not
 * scanned again: the parser keeps its position inside the line it stopped in, so a head that
 * arrives one byte at a time costs about as much as one that arrives whole, and the result is
 * identical whatever the split.
 *
 * Strictness (RFC 9112, with the choices that stop request smuggling made the strict way):
 *   - lines end in CRLF; a bare LF or a bare CR anywhere in the head is 400;
 *   - request-line is exactly  method SP request-target SP HTTP-version CRLF;
 *     method and field names are tokens; request-target is visible ASCII (0x21-0x7E) without
 *     '#'; one or more empty lines (CRLF) before the request-line are skipped;
 *   - HTTP/1.0 and HTTP/1.1 are accepted; another well-formed HTTP/d.d is 505; anything else 400;
 *   - no whitespace between a field name and ':'; no obs-fold (a line starting with SP/HTAB);
 *     field values are VCHAR, obs-text (0x80-0xFF), SP and HTAB; leading and trailing SP/HTAB
 *     are not part of the value span;
 *   - exactly one Host in HTTP/1.1, at most one in HTTP/1.0;
 *   - Content-Length is 1*DIGIT (no sign, no space inside, no list); repeats must be equal;
 *     a value above limits.max_body_size (or above UINT64_MAX) is 413;
 *   - Transfer-Encoding is a comma list of codings (case-insensitive, OWS around commas,
 *     repeated header lines concatenate). If its last coding is not "chunked", or "chunked"
 *     appears more than once, the framing cannot be trusted: 400. If it is chunked-last but
 *     names any other coding: 501. Transfer-Encoding in an HTTP/1.0 request: 400.
 *     Transfer-Encoding together with Content-Length: 400.
 *   - Connection is a comma list of tokens compared case-insensitively: "close",
 *     "keep-alive", "upgrade" are recognised, others ignored.
 *
 * Limits (jp_http1_limits) give: request line too long 414; head too large or too many
 * fields 431; declared body too large 413. They are checked as bytes arrive, so an oversized
 * head is refused as soon as it passes the limit, never buffered to the end.
 *
 * A header array that grows. The caller may start with an array smaller than max_headers
 * and set p->grow_headers: the parser then stops with JP_HTTP1_HEADERS_FULL, instead of
 * answering 431, when a field line begins and every entry of the array is taken while
 * max_headers still allows more. The parse is paused at the start of that line, exactly as
 * after JP_HTTP1_NEED_MORE (header_count entries filled, nothing of the line taken yet), so
 * the caller makes a larger array holding those entries (realloc does), hands it over with
 * jp_http1_parser_set_headers() and calls again with the same bytes; the parse goes on from
 * that line, nothing is scanned twice, and the answer is the one a parser given the larger
 * array from the start would give. Only the general code's rare path tests for this: the
 * per-field work is the same with or without it.
 *
 *     ptrdiff_t n = jp_http1_parse(&p, buf, len);
 *     while (n == JP_HTTP1_HEADERS_FULL) {
 *         cap = grow(&headers, cap);          (keeps entries [0, p.head.header_count))
 *         jp_http1_parser_set_headers(&p, headers, cap);
 *         n = jp_http1_parse(&p, buf, len);
 *     }
 */
#ifndef JP_HTTP1_H
#define JP_HTTP1_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "simd.h"

#define JP_HTTP1_NEED_MORE (-2)
#define JP_HTTP1_ERROR (-1)
/* Only with p->grow_headers set: the header array is full and max_headers allows more. */
#define JP_HTTP1_HEADERS_FULL (-3)

#define JP_HTTP1_DEFAULT_MAX_REQUEST_LINE 8192u
#define JP_HTTP1_DEFAULT_MAX_HEAD_SIZE 65536u
#define JP_HTTP1_DEFAULT_MAX_HEADERS 100u
#define JP_HTTP1_DEFAULT_MAX_BODY_SIZE (16u * 1024u * 1024u)
#define JP_HTTP1_DEFAULT_MAX_CHUNK_LINE 4096u

typedef struct jp_http1_limits {
    uint32_t max_request_line; /* bytes of the request-line incl. CRLF; over it: 414 */
    uint32_t max_head_size;    /* bytes of the whole head incl. final CRLF; over it: 431 */
    uint32_t max_headers;      /* field lines; over it: 431 (also capped by headers_cap) */
    uint64_t max_body_size;    /* Content-Length above it: 413 (the chunked decoder too) */
    uint32_t max_chunk_line;   /* chunk-size line incl. extensions and CRLF (chunked.h) */
} jp_http1_limits;

/* The defaults above, as a ready struct. */
extern const jp_http1_limits jp_http1_default_limits;

/* A run of bytes inside the request, relative to its first byte. */
typedef struct jp_span {
    uint32_t off;
    uint32_t len;
} jp_span;

/* Field names the server must act on are recognised once, while parsing. */
typedef enum jp_header_id {
    JP_H_OTHER = 0,
    JP_H_HOST,
    JP_H_CONTENT_LENGTH,
    JP_H_TRANSFER_ENCODING,
    JP_H_CONNECTION,
    JP_H_EXPECT,
    JP_H_UPGRADE,
    JP_H_CONTENT_TYPE,
    JP_H_COOKIE,
} jp_header_id;

typedef struct jp_header {
    jp_span name;  /* as sent (case preserved) */
    jp_span value; /* without leading/trailing SP and HTAB; may be empty */
    uint32_t id;   /* jp_header_id */
} jp_header;

typedef enum jp_method {
    JP_METHOD_OTHER = 0,
    JP_METHOD_GET,
    JP_METHOD_HEAD,
    JP_METHOD_POST,
    JP_METHOD_PUT,
    JP_METHOD_DELETE,
    JP_METHOD_PATCH,
    JP_METHOD_OPTIONS,
    JP_METHOD_CONNECT,
    JP_METHOD_TRACE,
} jp_method;

typedef enum jp_framing {
    JP_FRAMING_NONE = 0, /* no body */
    JP_FRAMING_LENGTH,   /* content_length bytes follow the head (content_length > 0) */
    JP_FRAMING_CHUNKED,  /* a chunked body follows; decode it with chunked.h */
} jp_framing;

enum {
    JP_HEAD_KEEP_ALIVE = 1u << 0,       /* the connection persists after this exchange */
    JP_HEAD_EXPECT_CONTINUE = 1u << 1,  /* Expect: 100-continue (1.1 only) */
    JP_HEAD_UPGRADE = 1u << 2,          /* 1.1 only: Upgrade present, Connection lists "upgrade" */
    JP_HEAD_HAS_QUERY = 1u << 3,        /* the target has a '?' (query may still be empty) */
    JP_HEAD_EXPECT_UNKNOWN = 1u << 4,   /* Expect with another value: the server answers 417 */
};

/* The parsed head. Valid once jp_http1_parse() returned > 0; fields are partially filled
 * while it returns JP_HTTP1_NEED_MORE and must not be read then. */
typedef struct jp_request_head {
    jp_span method;
    jp_span target;         /* request-target as sent */
    jp_span path;           /* origin-form: target up to '?' or its end. absolute-form
                             * (scheme://authority/path): the path part, len 0 if none.
                             * asterisk-form and authority-form: len 0. */
    jp_span query;          /* after the first '?' up to the end of target; len 0 if none */
    uint8_t version_minor;  /* 0 or 1 (HTTP/1.0 or HTTP/1.1) */
    uint8_t method_id;      /* jp_method */
    uint8_t framing;        /* jp_framing */
    uint8_t flags;          /* JP_HEAD_* */
    uint32_t head_len;      /* bytes of the head including the final CRLF (the return value) */
    uint64_t content_length; /* JP_FRAMING_LENGTH: body size; otherwise 0 */
    uint32_t header_count;
    jp_header *headers; /* the caller's array given to jp_http1_parser_init() */
} jp_request_head;

/* Parser state. Public fields are the head and the error; fields starting with '_' are
 * private. The struct is plain data: it may be embedded, copied before use, and needs no
 * destructor. */
typedef struct jp_http1_parser {
    jp_request_head head;
    uint16_t error_status;    /* after JP_HTTP1_ERROR: 400, 413, 414, 431, 501 or 505 */
    const char *error_reason; /* after JP_HTTP1_ERROR: short static English text, no CR/LF */
    jp_simd_level simd;       /* scan implementation; from jp_simd_default() at init */
    /* 0 at init. Set, a full array that max_headers does not yet limit is answered
     * JP_HTTP1_HEADERS_FULL rather than 431 (see the top of this file). Kept by reset. */
    uint8_t grow_headers;

    const jp_http1_limits *_limits;
    uint32_t _max_fields; /* min(limits->max_headers, headers_cap), 0 without an array */
    /* Resume state: where the next call continues (offsets into the request). */
    uint32_t _state;
    uint32_t _line_start; /* first byte of the line being parsed */
    uint32_t _mark;       /* state-specific (e.g. end of the field name) */
    uint32_t _scan;       /* first byte not yet validated */
    uint32_t _host_count;
    uint32_t _te_flags;   /* Transfer-Encoding accumulated over repeated lines */
    uint32_t _conn_flags; /* Connection tokens accumulated over repeated lines */
    uint32_t _has_content_length;
} jp_http1_parser;

/* Prepares a parser. limits may be NULL for jp_http1_default_limits; the pointer is kept and
 * must outlive the parser; the other limits are read at each call, but max_headers only
 * here and in jp_http1_parser_set_headers(). headers is the caller's array of headers_cap
 * entries, kept too (in p->head.headers); the effective field limit is
 * min(limits->max_headers, headers_cap). grow_headers is left 0: a full array is then 431,
 * whatever max_headers says. Never fails. */
void jp_http1_parser_init(jp_http1_parser *p, const jp_http1_limits *limits, jp_header *headers,
                          uint32_t headers_cap);

/* Replaces the header array, keeping everything else, the state of a paused parse included.
 * The new array holds headers_cap entries and already holds a copy of entries
 * [0, p->head.header_count) of the old one (whose memory the parser then never touches
 * again); the effective field limit becomes min(limits->max_headers, headers_cap). Valid
 * after JP_HTTP1_HEADERS_FULL, after jp_http1_parser_reset() and before the first call; not
 * after JP_HTTP1_NEED_MORE, when the entry past header_count may hold the name of a line
 * still arriving. Never fails. */
void jp_http1_parser_set_headers(jp_http1_parser *p, jp_header *headers, uint32_t headers_cap);

/* Forgets the current request so that the next call parses a new one from offset 0.
 * Keeps limits, the headers array and the simd level. Inline: the caller's stores take the
 * place of a call per request.
 *
 * It clears what a parse reads before it writes it: the framing, flags and length, which a
 * head sets only when it has the field, the field count, the error, the resume state and
 * the counters. The spans, the method id and the version are written by every parse that
 * returns > 0, the only time they may be read, so they are not cleared. The clears are three
 * runs of adjacent members (padding included), which compilers store 16 bytes at a time. */
static inline void
jp_http1_parser_reset(jp_http1_parser *p)
{
    char *b = (char *)p;
    memset(b + offsetof(jp_http1_parser, head) + offsetof(jp_request_head, version_minor), 0,
           offsetof(jp_request_head, headers) - offsetof(jp_request_head, version_minor));
    memset(b + offsetof(jp_http1_parser, error_status), 0,
           offsetof(jp_http1_parser, simd) - offsetof(jp_http1_parser, error_status));
    /* _state up to and with _has_content_length, the last member. */
    memset(b + offsetof(jp_http1_parser, _state), 0,
           offsetof(jp_http1_parser, _has_content_length) + sizeof p->_has_content_length -
               offsetof(jp_http1_parser, _state));
}

/* Parses buf[0..len), the start of one request. Returns:
 *   > 0                  the head is complete and is buf[0..return); p->head is filled;
 *   JP_HTTP1_NEED_MORE   the head is incomplete and nothing is wrong with it so far;
 *   JP_HTTP1_HEADERS_FULL  (only if p->grow_headers) a field line starts, every entry of the
 *                        array is taken and max_headers allows more: give a larger array
 *                        (jp_http1_parser_set_headers) and call again with the same bytes.
 *                        Nothing is wrong with the head so far; NEED_MORE's contract holds;
 *   JP_HTTP1_ERROR       the request is invalid or over a limit; p->error_status and
 *                        p->error_reason say why. The connection must be closed after the
 *                        error response: the rest of its bytes cannot be framed.
 * After > 0 or an error, calling again without jp_http1_parser_reset() returns the same
 * answer. len may exceed 4 GiB; only the first max_head_size bytes are ever looked at. */
ptrdiff_t jp_http1_parse(jp_http1_parser *p, const char *buf, size_t len);

/* The upper-case name of a jp_method ("GET", ...), NULL for JP_METHOD_OTHER. */
const char *jp_http1_method_name(jp_method m);

#endif /* JP_HTTP1_H */
