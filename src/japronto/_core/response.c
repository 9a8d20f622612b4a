/*
 * response.c - the Response type and HTTP/1.x response serialisation (layer 1).
 *
 * Owns: the Response heap type (held in jp_state.response_type), its free list of dead
 * Responses (jp_state.response_free; see response_revive), Request.Response (a method
 * descriptor type of its own, put into Request's dict by jp_response_add_method), the default
 * JSON encoder (jp_state.json_dumps, chosen in jp_response_setup), and two immutable C tables:
 * the reason phrases and the preformatted status lines.
 *
 * A Response is validated and formatted completely when it is built, so that serialising it
 * later is plain memcpy that cannot run Python code and cannot fail except for memory:
 *   - the body is held as `payload`, either a bytes object or a str whose cached UTF-8 form
 *     is the body (text= with utf-8, and json.dumps's str), and `body`/`body_len` point into
 *     it; payload is immutable, so the pointer stays valid for the object's lifetime; or,
 *     for JSON written by json.c that fits, in the object's own `inline_body` (no payload);
 *   - every header line we do not emit from a static string (a custom Content-Type, the
 *     user's headers, one Set-Cookie per cookie) is preformatted, CRLF-terminated, into the
 *     C buffer `fields`; a custom Content-Type line comes first, `ctype_len` bytes long, so
 *     that responses which may not have one (1xx, 204, 304) can skip it;
 *   - what the user's headers change in our own lines (Content-Type, Date, Server, a
 *     "Connection: close") is kept as RESPONSE_USER_* flags.
 *
 * Garbage collection: the type is GC-capable because `headers` and `cookies` are kept as the
 * user gave them (the read-only attributes return them), and a dict or SimpleCookie can be
 * mutated afterwards to point back at the response. Everything else it holds is str or bytes,
 * which cannot form cycles, so a response built without headers or cookies (the hot path) is
 * untracked at once, like CPython's tuples of atoms: it pays no collector traversal. Nothing
 * serialisation reads lives in those two objects, so tp_clear may drop them at any time.
 *
 * Status line: always "HTTP/1.1", also to HTTP/1.0 clients, as nginx and RFC 9110 section
 * 6.2 (send the highest minor version we conform to) say; the framing headers still follow
 * the client's version.
 */
#include "response.h"

#include "chars.h"
#include "json.h"
#include "live.h"

#include <stddef.h>
#include <stdint.h>
#include <structmember.h>
#include <time.h>

/* For the few places where the split between a hot inlined path and its cold rest matters. */
#if defined(__GNUC__) || defined(__clang__)
#define RESPONSE_INLINE inline __attribute__((always_inline))
#define RESPONSE_NOINLINE __attribute__((noinline))
#else
#define RESPONSE_INLINE inline
#define RESPONSE_NOINLINE
#endif

/* ------------------------------------------------------------------------------------------
 * Status codes
 * ------------------------------------------------------------------------------------------ */

/* The IANA registry's phrases in their RFC 9110 wording (413 "Content Too Large", 422
 * "Unprocessable Content"), plus 418 from RFC 2324 that applications do use. 509 is not
 * registered and has no phrase. */
#define RESPONSE_STATUSES(X)                                                                       \
    X(100, "Continue")                                                                             \
    X(101, "Switching Protocols")                                                                  \
    X(102, "Processing")                                                                           \
    X(103, "Early Hints")                                                                          \
    X(200, "OK")                                                                                   \
    X(201, "Created")                                                                              \
    X(202, "Accepted")                                                                             \
    X(203, "Non-Authoritative Information")                                                        \
    X(204, "No Content")                                                                           \
    X(205, "Reset Content")                                                                        \
    X(206, "Partial Content")                                                                      \
    X(207, "Multi-Status")                                                                         \
    X(208, "Already Reported")                                                                     \
    X(226, "IM Used")                                                                              \
    X(300, "Multiple Choices")                                                                     \
    X(301, "Moved Permanently")                                                                    \
    X(302, "Found")                                                                                \
    X(303, "See Other")                                                                            \
    X(304, "Not Modified")                                                                         \
    X(305, "Use Proxy")                                                                            \
    X(307, "Temporary Redirect")                                                                   \
    X(308, "Permanent Redirect")                                                                   \
    X(400, "Bad Request")                                                                          \
    X(401, "Unauthorized")                                                                         \
    X(402, "Payment Required")                                                                     \
    X(403, "Forbidden")                                                                            \
    X(404, "Not Found")                                                                            \
    X(405, "Method Not Allowed")                                                                   \
    X(406, "Not Acceptable")                                                                       \
    X(407, "Proxy Authentication Required")                                                        \
    X(408, "Request Timeout")                                                                      \
    X(409, "Conflict")                                                                             \
    X(410, "Gone")                                                                                 \
    X(411, "Length Required")                                                                      \
    X(412, "Precondition Failed")                                                                  \
    X(413, "Content Too Large")                                                                    \
    X(414, "URI Too Long")                                                                         \
    X(415, "Unsupported Media Type")                                                               \
    X(416, "Range Not Satisfiable")                                                                \
    X(417, "Expectation Failed")                                                                   \
    X(418, "I'm a teapot")                                                                         \
    X(421, "Misdirected Request")                                                                  \
    X(422, "Unprocessable Content")                                                                \
    X(423, "Locked")                                                                               \
    X(424, "Failed Dependency")                                                                    \
    X(425, "Too Early")                                                                            \
    X(426, "Upgrade Required")                                                                     \
    X(428, "Precondition Required")                                                                \
    X(429, "Too Many Requests")                                                                    \
    X(431, "Request Header Fields Too Large")                                                      \
    X(451, "Unavailable For Legal Reasons")                                                        \
    X(500, "Internal Server Error")                                                                \
    X(501, "Not Implemented")                                                                      \
    X(502, "Bad Gateway")                                                                          \
    X(503, "Service Unavailable")                                                                  \
    X(504, "Gateway Timeout")                                                                      \
    X(505, "HTTP Version Not Supported")                                                           \
    X(506, "Variant Also Negotiates")                                                              \
    X(507, "Insufficient Storage")                                                                 \
    X(508, "Loop Detected")                                                                        \
    X(510, "Not Extended")                                                                         \
    X(511, "Network Authentication Required")

#define RESPONSE_CODE_MIN 100
#define RESPONSE_CODE_MAX 599

static const char *const response_reasons[RESPONSE_CODE_MAX - RESPONSE_CODE_MIN + 1] = {
#define RESPONSE_REASON(code, reason) [(code)-RESPONSE_CODE_MIN] = reason,
    RESPONSE_STATUSES(RESPONSE_REASON)
#undef RESPONSE_REASON
};

typedef struct response_status_line {
    const char *text; /* NULL for a code without a phrase: formatted on the fly */
    size_t len;
} response_status_line;

/* Complete status lines, built by the compiler, so the hot path copies one string. */
static const response_status_line response_status_lines[RESPONSE_CODE_MAX - RESPONSE_CODE_MIN + 1] =
    {
#define RESPONSE_LINE(code, reason)                                                                \
    [(code)-RESPONSE_CODE_MIN] = {"HTTP/1.1 " #code " " reason "\r\n",                             \
                                  sizeof("HTTP/1.1 " #code " " reason "\r\n") - 1},
        RESPONSE_STATUSES(RESPONSE_LINE)
#undef RESPONSE_LINE
};

/* The longest status line any code can produce; the registered phrases are all shorter than
 * 64 bytes (checked below, since the serialiser reserves by this bound), and a code without
 * one gives "HTTP/1.1 299 \r\n". */
#define RESPONSE_STATUS_LINE_MAX 64
#define RESPONSE_CHECK_LINE(code, reason)                                                          \
    _Static_assert(sizeof("HTTP/1.1 " #code " " reason "\r\n") - 1 <= RESPONSE_STATUS_LINE_MAX,    \
                   "status line of " #code " exceeds RESPONSE_STATUS_LINE_MAX");
RESPONSE_STATUSES(RESPONSE_CHECK_LINE)
#undef RESPONSE_CHECK_LINE

const char *
jp_status_reason(int status)
{
    if (status < RESPONSE_CODE_MIN || status > RESPONSE_CODE_MAX)
        return "";
    const char *reason = response_reasons[status - RESPONSE_CODE_MIN];
    return reason ? reason : "";
}

/* ------------------------------------------------------------------------------------------
 * Serialisation (pure C; shared by Response objects and the server's own simple responses)
 * ------------------------------------------------------------------------------------------ */

enum {
    RESPONSE_CT_NONE = 0,  /* no Content-Type from us (no body, or the user gave one) */
    RESPONSE_CT_TEXT_UTF8, /* text=, no mime_type, no encoding or "utf-8" exactly */
    RESPONSE_CT_JSON,      /* json=, no mime_type */
    RESPONSE_CT_OCTET,     /* body=, no mime_type, no encoding */
    RESPONSE_CT_CUSTOM,    /* the first ctype_len bytes of fields */
};

typedef struct response_static_line {
    const char *text;
    size_t len;
} response_static_line;

#define RESPONSE_LIT(s)                                                                            \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

static const response_static_line response_ctype_lines[] = {
    [RESPONSE_CT_NONE] = {"", 0},
    [RESPONSE_CT_TEXT_UTF8] = RESPONSE_LIT("Content-Type: text/plain; charset=utf-8\r\n"),
    [RESPONSE_CT_JSON] = RESPONSE_LIT("Content-Type: application/json\r\n"),
    [RESPONSE_CT_OCTET] = RESPONSE_LIT("Content-Type: application/octet-stream\r\n"),
    [RESPONSE_CT_CUSTOM] = {"", 0},
};
#define RESPONSE_CTYPE_STATIC_MAX 48
_Static_assert(sizeof("Content-Type: application/octet-stream\r\n") - 1 <=
                       RESPONSE_CTYPE_STATIC_MAX &&
                   sizeof("Content-Type: text/plain; charset=utf-8\r\n") - 1 <=
                       RESPONSE_CTYPE_STATIC_MAX,
               "a static Content-Type line exceeds RESPONSE_CTYPE_STATIC_MAX");

enum {
    RESPONSE_USER_CTYPE = 1u << 0,  /* the user's headers carry Content-Type */
    RESPONSE_USER_DATE = 1u << 1,   /* ... Date */
    RESPONSE_USER_SERVER = 1u << 2, /* ... Server */
    RESPONSE_USER_CLOSE = 1u << 3,  /* ... a Connection header with the "close" token */
};

static const char response_server_line[] = "Server: japronto\r\n";
static const char response_content_length[] = "Content-Length: ";
/* "Content-Length: " + 20 digits of UINT64_MAX + CRLF, rounded up. */
#define RESPONSE_CONTENT_LENGTH_MAX 40
#define RESPONSE_CONNECTION_MAX (sizeof("Connection: keep-alive\r\n") - 1)

static inline char *
response_put(char *p, const void *src, size_t n)
{
    memcpy(p, src, n);
    return p + n;
}

#define RESPONSE_PUT_LIT(p, s) response_put((p), (s), sizeof(s) - 1)

/* Writes v in decimal at p and returns the end. The digits are produced backwards into a
 * small scratch array and copied once, which is cheaper than snprintf's format parsing, and
 * this runs for every response (Content-Length). */
static inline char *
response_put_u64(char *p, uint64_t v)
{
    char tmp[20];
    char *end = tmp + sizeof(tmp);
    char *q = end;
    do {
        *--q = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    return response_put(p, q, (size_t)(end - q));
}

/* Like response_put_u64, but the digits are written in place, which saves the variable-length
 * copy (a library call for a few bytes). Lengths below 10,000 (nearly every body of an API)
 * take one or two table lookups instead of a division per digit. */
static inline char *
response_put_digits(char *p, uint64_t v)
{
    if (v < 100) {
        if (v < 10) {
            *p = (char)('0' + v);
            return p + 1;
        }
        memcpy(p, jp_digit_pairs + 2 * v, 2);
        return p + 2;
    }
    if (v < 10000) {
        if (v < 1000) {
            *p = (char)('0' + v / 100);
            memcpy(p + 1, jp_digit_pairs + 2 * (v % 100), 2);
            return p + 3;
        }
        memcpy(p, jp_digit_pairs + 2 * (v / 100), 2);
        memcpy(p + 2, jp_digit_pairs + 2 * (v % 100), 2);
        return p + 4;
    }
    size_t n = 1;
    for (uint64_t t = v; t >= 10u; t /= 10u)
        n++;
    char *end = p + n;
    char *q = end;
    do {
        *--q = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    return end;
}

static inline char *
response_put_status(char *p, int status)
{
    const response_status_line *line = &response_status_lines[status - RESPONSE_CODE_MIN];
    if (line->text)
        return response_put(p, line->text, line->len);
    /* An unregistered code: an empty reason-phrase is valid (RFC 9112 section 4). */
    p = RESPONSE_PUT_LIT(p, "HTTP/1.1 ");
    p = response_put_u64(p, (uint64_t)status);
    return RESPONSE_PUT_LIT(p, " \r\n");
}

/* The heads of the responses nearly every hello-world and most APIs send: 200, UTF-8 text or
 * JSON, no header of the user's, HTTP/1.1 keep-alive, not HEAD; up to the Content-Length
 * digits. Indexed by the Content-Type (RESPONSE_CT_TEXT_UTF8 or RESPONSE_CT_JSON), each padded
 * with zeros to RESPONSE_FAST_PREFIX_SIZE so that it can be copied with five 16-byte moves
 * whatever its length (see response_write_fast). */
#define RESPONSE_FAST_PREFIX_SIZE 80
#define RESPONSE_TEXT_PREFIX                                                                       \
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
#define RESPONSE_JSON_PREFIX "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
typedef struct response_fast_prefix {
    char bytes[RESPONSE_FAST_PREFIX_SIZE];
    size_t len;
    char pad[40]; /* 128 bytes an entry: the index is one shift */
} response_fast_prefix;
static const response_fast_prefix response_fast_prefixes[] = {
    [RESPONSE_CT_TEXT_UTF8] = {RESPONSE_TEXT_PREFIX, sizeof(RESPONSE_TEXT_PREFIX) - 1},
    [RESPONSE_CT_JSON] = {RESPONSE_JSON_PREFIX, sizeof(RESPONSE_JSON_PREFIX) - 1},
};
_Static_assert(sizeof(RESPONSE_TEXT_PREFIX) <= RESPONSE_FAST_PREFIX_SIZE &&
                   sizeof(RESPONSE_JSON_PREFIX) <= RESPONSE_FAST_PREFIX_SIZE &&
                   sizeof(RESPONSE_JSON_PREFIX) - 1 >= RESPONSE_FAST_PREFIX_SIZE - 16,
               "the fast prefixes must fit five 16-byte moves and fill more than four");

static const char response_fast_suffix[] = "Server: japronto\r\n\r\n";

/* What the fast path writes at most besides the body: the prefix as copied, 20 digits and
 * CRLF, the Date line and the suffix. A body's length is that of a Python object (at most
 * PY_SSIZE_T_MAX) or of inline_body, so adding this cannot overflow a size_t. */
#define RESPONSE_FAST_ROOM                                                                         \
    (RESPONSE_FAST_PREFIX_SIZE + 20 + 2 + JP_DATE_LINE_LEN + sizeof(response_fast_suffix) - 1)
_Static_assert(JP_DATE_LINE_LEN > 32 && JP_DATE_LINE_LEN <= 40,
               "the Date line is copied as 16 + 16 + 8");
_Static_assert(RESPONSE_FAST_ROOM < SIZE_MAX - (size_t)PY_SSIZE_T_MAX,
               "RESPONSE_FAST_ROOM plus a body length must fit in a size_t");

/* The fast path's choice for a response with these fields: its Content-Type
 * (RESPONSE_CT_TEXT_UTF8 or RESPONSE_CT_JSON) for a 200 with a default UTF-8 text or JSON
 * Content-Type, no header line of the user's and nothing the user's headers change in ours;
 * else 0. A Response is immutable once built, so this is computed once, into its `fast`. */
static inline uint8_t
response_fast_kind(int status, int ctype, size_t fields_len, unsigned flags)
{
    if (status == 200 && (ctype == RESPONSE_CT_TEXT_UTF8 || ctype == RESPONSE_CT_JSON) &&
        fields_len == 0 && flags == 0)
        return (uint8_t)ctype;
    return 0;
}

/* Whether the connection allows it: HTTP/1.1 keep-alive (no Connection header to write), not
 * HEAD (the body goes out), and a Date line to send. The first two are one 16-bit compare, so
 * a keep_alive other than 1 takes the general path, which writes the same bytes. */
static inline int
response_fast_ctx(const jp_response_ctx *ctx, const jp_date_cache *date)
{
    static const uint8_t want[2] = {1, 1}; /* version_minor 1, keep_alive 1 */
    uint16_t got, expect;
    memcpy(&got, ctx, 2);
    memcpy(&expect, want, 2);
    return got == expect && !ctx->head && date->line[0] == 'D';
}

/* The longest body the fast path copies; a longer one takes response_serialize_slow, where
 * the copy is a memcpy call (which the fast path avoids so that it calls nothing and saves no
 * registers). */
#define RESPONSE_FAST_BODY_MAX 64

/* Copies n <= RESPONSE_FAST_BODY_MAX bytes from src to dst and returns dst + n: jp_copy_small's
 * overlapping loads and stores, with one more width for 33 to 64 bytes. */
static inline char *
response_copy_body(char *dst, const char *src, size_t n)
{
    if (n > 32) {
        char a[16], b[16], c[16], d[16];
        memcpy(a, src, 16);
        memcpy(b, src + 16, 16);
        memcpy(c, src + n - 32, 16);
        memcpy(d, src + n - 16, 16);
        memcpy(dst, a, 16);
        memcpy(dst + 16, b, 16);
        memcpy(dst + n - 32, c, 16);
        memcpy(dst + n - 16, d, 16);
        return dst + n;
    }
    return jp_copy_small(dst, src, n);
}

/* Writes a response that passed the two checks above into room already reserved
 * (RESPONSE_FAST_ROOM + body_len): exactly the bytes of the general path of response_write
 * (tests/test_response.py compares them), but every piece except the digits and the body has
 * a fixed size, so the copies are inlined moves instead of libc calls. The prefix is copied
 * as 80 bytes and the cursor moved by its real length; the bytes after it are overwritten by
 * the digits and the rest, and all of them lie within the reservation. */
static RESPONSE_INLINE void
response_write_fast(jp_buffer *out, int fast, const char *body, size_t body_len,
                    const jp_date_cache *date)
{
    char *p = out->data + out->len;
    const response_fast_prefix *prefix = &response_fast_prefixes[fast];
    size_t prefix_len = prefix->len;
    /* Five explicit moves: for a constant copy of this size GCC would emit `rep movsb`,
     * whose start-up costs more than the copy. */
    memcpy(p, prefix->bytes, 16);
    memcpy(p + 16, prefix->bytes + 16, 16);
    memcpy(p + 32, prefix->bytes + 32, 16);
    memcpy(p + 48, prefix->bytes + 48, 16);
    memcpy(p + 64, prefix->bytes + 64, 16);
    p += prefix_len;
    p = response_put_digits(p, (uint64_t)body_len);
    p = RESPONSE_PUT_LIT(p, "\r\n");
    /* 37 bytes as 16 + 16 + the last 8 (overlapping), for the same reason as above. */
    memcpy(p, date->line, 16);
    memcpy(p + 16, date->line + 16, 16);
    memcpy(p + JP_DATE_LINE_LEN - 8, date->line + JP_DATE_LINE_LEN - 8, 8);
    p += JP_DATE_LINE_LEN;
    p = RESPONSE_PUT_LIT(p, response_fast_suffix);
    p = body_len <= RESPONSE_FAST_BODY_MAX ? response_copy_body(p, body, body_len)
                                           : response_put(p, body, body_len);
    out->len = (size_t)(p - out->data);
}

/* The one serialiser. Everything variable is already formatted: the status line comes from
 * the table, ctype picks a static Content-Type line or the first ctype_len bytes of fields,
 * and only the Content-Length digits are produced here. The whole response is measured
 * first (an upper bound) and reserved in one go, so the buffer is either unchanged (out of
 * memory) or holds the complete response; never half of one. */
static int
response_write(jp_buffer *out, int status, int ctype, const char *fields, size_t fields_len,
               size_t ctype_len, const char *body, size_t body_len, unsigned flags,
               const jp_response_ctx *ctx, const jp_date_cache *date, int *closes)
{
    int fast = response_fast_kind(status, ctype, fields_len, flags);
    if (fast && date != NULL && response_fast_ctx(ctx, date)) {
        if (body_len > SIZE_MAX - RESPONSE_FAST_ROOM ||
            jp_buffer_reserve(out, RESPONSE_FAST_ROOM + body_len) < 0)
            return -1;
        response_write_fast(out, fast, body, body_len, date);
        return 0;
    }

    /* RFC 9110 sections 15.2, 15.3.5, 15.4.5: 1xx, 204 and 304 have no content, and a
     * Content-Length on them would be a lie (1xx, 204) or about another representation
     * (304: we do not know it, so we send none). */
    int bodiless = status < 200 || status == 204 || status == 304;
    int with_body = !bodiless && !ctx->head;

    if (bodiless) {
        fields += ctype_len;
        fields_len -= ctype_len;
        ctype = RESPONSE_CT_NONE;
    }

    size_t need = RESPONSE_STATUS_LINE_MAX + RESPONSE_CTYPE_STATIC_MAX +
                  RESPONSE_CONTENT_LENGTH_MAX + JP_DATE_LINE_LEN + sizeof(response_server_line) +
                  RESPONSE_CONNECTION_MAX + 2;
    need += fields_len;
    if (with_body) {
        if (body_len > SIZE_MAX - need)
            return -1;
        need += body_len;
    }
    if (jp_buffer_reserve(out, need) < 0)
        return -1;

    char *p = out->data + out->len;
    p = response_put_status(p, status);
    if (ctype != RESPONSE_CT_CUSTOM)
        p = response_put(p, response_ctype_lines[ctype].text, response_ctype_lines[ctype].len);
    if (!bodiless) {
        p = RESPONSE_PUT_LIT(p, response_content_length);
        p = response_put_u64(p, (uint64_t)body_len);
        p = RESPONSE_PUT_LIT(p, "\r\n");
    }
    /* A cache that was never refreshed has no line; sending none beats sending garbage. */
    if (!(flags & RESPONSE_USER_DATE) && date != NULL && date->line[0] == 'D')
        p = response_put(p, date->line, JP_DATE_LINE_LEN);
    if (!(flags & RESPONSE_USER_SERVER))
        p = RESPONSE_PUT_LIT(p, response_server_line);
    if (flags & RESPONSE_USER_CLOSE) {
        /* The user's own "Connection: close" is in fields; adding ours would say it twice. */
        if (closes)
            *closes = 1;
    } else if (ctx->version_minor == 0) {
        /* HTTP/1.0 closes by default, so persisting is what must be said. */
        if (ctx->keep_alive)
            p = RESPONSE_PUT_LIT(p, "Connection: keep-alive\r\n");
        else
            p = RESPONSE_PUT_LIT(p, "Connection: close\r\n");
    } else if (!ctx->keep_alive) {
        p = RESPONSE_PUT_LIT(p, "Connection: close\r\n");
    }
    if (fields_len)
        p = response_put(p, fields, fields_len);
    p = RESPONSE_PUT_LIT(p, "\r\n");
    if (with_body && body_len)
        p = response_put(p, body, body_len);

    out->len = (size_t)(p - out->data);
    return 0;
}

int
jp_response_write_simple(jp_buffer *out, int status, const char *extra, size_t extra_len,
                         const char *body, size_t body_len, const jp_response_ctx *ctx,
                         const jp_date_cache *date)
{
    /* The server's own callers pass fixed codes; an impossible one still yields a valid
     * response rather than an out-of-bounds table read. */
    if (status < RESPONSE_CODE_MIN || status > RESPONSE_CODE_MAX)
        status = 500;
    if (extra == NULL)
        extra_len = 0;
    return response_write(out, status, RESPONSE_CT_TEXT_UTF8, extra, extra_len, 0, body, body_len,
                          0, ctx, date, NULL);
}

int
jp_response_write_continue(jp_buffer *out)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    return jp_buffer_append(out, line, sizeof(line) - 1);
}

/* ------------------------------------------------------------------------------------------
 * The Response object
 * ------------------------------------------------------------------------------------------ */

enum {
    RESPONSE_KIND_NONE = 0,
    RESPONSE_KIND_TEXT,
    RESPONSE_KIND_JSON,
    RESPONSE_KIND_BODY,
};

enum {
    /* Tracked by the collector: set exactly when headers or cookies were given. */
    RESPONSE_TRACKED = 1u << 0,
    /* Built by a fast path: holds no object but payload (an exact str or bytes, or none),
     * untracked, fields empty. */
    RESPONSE_LEAN = 1u << 1,
    /* Its memory was allocated while tracemalloc was tracing, so tracemalloc may hold a trace
     * of the block: not kept for reuse (see response_revive). */
    RESPONSE_TRACED = 1u << 2,
};

/* JSON bodies up to this many bytes are kept inside the Response; the object stays within
 * pymalloc's small-object limit (512 bytes). */
#define RESPONSE_INLINE_BODY 256

/* clang-format does not know that PyObject_HEAD is a whole member declaration. */
/* clang-format off */
typedef struct response_object {
    PyObject_HEAD
    jp_state *st; /* the module state of its type: dealloc returns it to st's free list */
    uint16_t code;    /* 100 to 599 */
    uint8_t fast;     /* what response_fast_kind gives once it is built (see there) */
    uint8_t kind;     /* RESPONSE_KIND_* */
    uint8_t ctype;    /* RESPONSE_CT_* */
    uint8_t flags;    /* RESPONSE_USER_* */
    uint8_t bits;     /* RESPONSE_TRACKED, RESPONSE_LEAN, RESPONSE_TRACED */
    uint8_t spare;
    const char *body; /* into payload or inline_body; NULL when kind is NONE */
    size_t body_len;
    PyObject *payload;   /* owns the body: bytes, or str (its UTF-8 form); NULL if no body
                            or the body is in inline_body */
    PyObject *text;      /* the str given as text=, or NULL */
    PyObject *mime_type; /* as given, or NULL */
    PyObject *encoding;  /* as given, or NULL */
    PyObject *headers;   /* as given, or NULL; the only fields that can hold cycles ... */
    PyObject *cookies;   /* ... with this one (see the top of the file) */
    size_t ctype_len;    /* bytes of fields that are our custom Content-Type line */
    jp_buffer fields;    /* preformatted header lines, each ending in CRLF */
    /* A JSON body json.c wrote, when it fits: a bytes object would cost an allocation and a
     * free per response, and the handler's JSON is nearly always this small. */
    char inline_body[RESPONSE_INLINE_BODY];
} response_object;
/* clang-format on */

/* The JSON scratch buffer keeps at most this much between responses. */
#define RESPONSE_JSON_SCRATCH_KEEP 65536u

/* Py_NewRef is 3.10+. */
static inline PyObject *
response_ref(PyObject *obj)
{
    Py_INCREF(obj);
    return obj;
}

/* jp_response_serialize when its fast path did not write: a response the fast path cannot
 * write, or one it can but for which the buffer must grow first. Out of line so that the fast
 * path is a leaf that saves no registers and passes no twelve arguments. */
static RESPONSE_NOINLINE int
response_serialize_slow(const response_object *r, jp_buffer *out, const jp_response_ctx *ctx,
                        const jp_date_cache *date, int *closes)
{
    if (response_write(out, r->code, r->ctype, r->fields.data, r->fields.len, r->ctype_len, r->body,
                       r->body_len, r->flags, ctx, date, closes) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

int
jp_response_serialize(PyObject *response, jp_buffer *out, const jp_response_ctx *ctx,
                      const jp_date_cache *date, int *closes)
{
    const response_object *r = (const response_object *)response;
    /* r->fast already says everything the response itself decides (see response_fast_kind),
     * so the common response costs the connection's checks and one room check, for the
     * longest body it may have: a constant, so that nothing more stays in a register. */
    size_t body_len = r->body_len;
    if (r->fast && response_fast_ctx(ctx, date) && body_len <= RESPONSE_FAST_BODY_MAX &&
        out->cap - out->len >= RESPONSE_FAST_ROOM + RESPONSE_FAST_BODY_MAX) {
        response_write_fast(out, r->fast, r->body, body_len, date);
        return 0;
    }
    return response_serialize_slow(r, out, ctx, date, closes);
}

/* --- validation helpers ------------------------------------------------------------------- */

static int
response_lower_equals(const char *p, size_t n, const char *lower)
{
    size_t m = strlen(lower);
    if (n != m)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (jp_lower((unsigned char)p[i]) != (unsigned char)lower[i])
            return 0;
    return 1;
}

/* Whether a comma-separated list of tokens (a Connection value) holds "close". */
static int
response_has_close_token(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
            i++;
        size_t start = i;
        while (i < n && p[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        if (response_lower_equals(p + start, end - start, "close"))
            return 1;
    }
    return 0;
}

/* Field names are tokens (RFC 9110 section 5.1). */
static int
response_check_name(PyObject *name_obj, const char *p, size_t n)
{
    if (n == 0) {
        PyErr_SetString(PyExc_ValueError, "header name is empty");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!jp_is_tchar((unsigned char)p[i])) {
            PyErr_Format(PyExc_ValueError, "header name %R is not a token (byte 0x%02x)", name_obj,
                         (unsigned char)p[i]);
            return -1;
        }
    }
    return 0;
}

/* Field values are VCHAR, obs-text, SP and HTAB (RFC 9110 section 5.5). CR and LF are what
 * response splitting needs, and NUL truncates the header in some clients; every other
 * control byte is refused too, because no client is required to accept it. Returns the
 * first byte of p[0..n) that is none of those, or -1 when all are. */
static int
response_bad_value_byte(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!jp_is_field_char((unsigned char)p[i]))
            return (unsigned char)p[i];
    }
    return -1;
}

/* Raises the ValueError for the byte c in a value: `what` and obj say whose ("value of
 * header 'X-A'", "mime_type 'text/plain\r\n...'"). Returns -1. */
static int
response_value_error(const char *what, PyObject *obj, int c)
{
    if (c == '\r' || c == '\n' || c == '\0')
        PyErr_Format(PyExc_ValueError, "%s %R contains CR, LF or NUL (response splitting)", what,
                     obj);
    else
        PyErr_Format(PyExc_ValueError, "%s %R contains the control byte 0x%02x", what, obj, c);
    return -1;
}

static int
response_check_value(PyObject *name_obj, const char *p, size_t n)
{
    int c = response_bad_value_byte(p, n);
    return c < 0 ? 0 : response_value_error("value of header", name_obj, c);
}

/* The bytes of a header name: an ASCII str or bytes. *p borrows from obj. */
static int
response_name_bytes(PyObject *obj, const char **p, size_t *n)
{
    if (PyUnicode_Check(obj)) {
        if (!PyUnicode_IS_ASCII(obj)) {
            PyErr_Format(PyExc_ValueError, "header name %R is not a token", obj);
            return -1;
        }
        *p = (const char *)PyUnicode_DATA(obj);
        *n = (size_t)PyUnicode_GET_LENGTH(obj);
        return 0;
    }
    if (PyBytes_Check(obj)) {
        *p = PyBytes_AS_STRING(obj);
        *n = (size_t)PyBytes_GET_SIZE(obj);
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "header name must be str or bytes, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
}

/* The bytes of a header value: str (latin-1, the charset HTTP/1.1 historically allows for
 * field values; anything above U+00FF raises UnicodeEncodeError, a ValueError), bytes, or int
 * (written in decimal; bool is refused as ambiguous). *owner receives a new reference to any
 * object made on the way (or NULL); *p borrows from it or from obj. PyNumber_ToBase copies an
 * int subclass to a plain int before formatting, so no user __str__ or __index__ runs here. */
static int
response_value_bytes(PyObject *obj, PyObject **owner, const char **p, size_t *n)
{
    *owner = NULL;
    if (PyUnicode_Check(obj)) {
        if (PyUnicode_IS_ASCII(obj)) {
            *p = (const char *)PyUnicode_DATA(obj);
            *n = (size_t)PyUnicode_GET_LENGTH(obj);
            return 0;
        }
        *owner = PyUnicode_AsLatin1String(obj);
        if (*owner == NULL)
            return -1;
    } else if (PyBytes_Check(obj)) {
        *p = PyBytes_AS_STRING(obj);
        *n = (size_t)PyBytes_GET_SIZE(obj);
        return 0;
    } else if (PyLong_Check(obj) && !PyBool_Check(obj)) {
        PyObject *s = PyNumber_ToBase(obj, 10);
        if (s == NULL)
            return -1;
        *owner = PyUnicode_AsASCIIString(s);
        Py_DECREF(s);
        if (*owner == NULL)
            return -1;
    } else {
        PyErr_Format(PyExc_TypeError, "header value must be str, bytes or int, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    *p = PyBytes_AS_STRING(*owner);
    *n = (size_t)PyBytes_GET_SIZE(*owner);
    return 0;
}

static int
response_append_line(response_object *self, const char *name, size_t name_len, const char *value,
                     size_t value_len)
{
    jp_buffer *b = &self->fields;
    if (name_len > SIZE_MAX / 2 || value_len > SIZE_MAX / 2 ||
        jp_buffer_reserve(b, name_len + value_len + 4) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    char *p = b->data + b->len;
    p = response_put(p, name, name_len);
    p = RESPONSE_PUT_LIT(p, ": ");
    p = response_put(p, value, value_len);
    p = RESPONSE_PUT_LIT(p, "\r\n");
    b->len = (size_t)(p - b->data);
    return 0;
}

/* Validates one (name, value) pair, notes the names that change our own lines, and appends
 * "name: value\r\n". Runs no Python code (see response_value_bytes). */
static int
response_add_field(response_object *self, PyObject *name_obj, PyObject *value_obj)
{
    const char *name, *value;
    size_t name_len, value_len;
    PyObject *owner = NULL;
    int rc = -1;

    if (response_name_bytes(name_obj, &name, &name_len) < 0 ||
        response_check_name(name_obj, name, name_len) < 0)
        goto done;
    if (response_value_bytes(value_obj, &owner, &value, &value_len) < 0 ||
        response_check_value(name_obj, value, value_len) < 0)
        goto done;

    if (response_lower_equals(name, name_len, "content-length") ||
        response_lower_equals(name, name_len, "transfer-encoding")) {
        PyErr_Format(PyExc_ValueError,
                     "header %R is set by the server from the body; do not pass it", name_obj);
        goto done;
    }
    if (response_lower_equals(name, name_len, "content-type"))
        self->flags |= RESPONSE_USER_CTYPE;
    else if (response_lower_equals(name, name_len, "date"))
        self->flags |= RESPONSE_USER_DATE;
    else if (response_lower_equals(name, name_len, "server"))
        self->flags |= RESPONSE_USER_SERVER;
    else if (response_lower_equals(name, name_len, "connection") &&
             response_has_close_token(value, value_len))
        self->flags |= RESPONSE_USER_CLOSE;

    rc = response_append_line(self, name, name_len, value, value_len);
done:
    Py_XDECREF(owner);
    return rc;
}

/* headers: a dict, another mapping (anything with items()), or an iterable of (name, value)
 * pairs; repeated names are written repeatedly, in order. The pairs are first copied into a
 * list or tuple that only we hold, because a user's list could otherwise change length while
 * we walk it (items() and iteration are the only user code that runs here). */
static int
response_add_headers(response_object *self, PyObject *headers)
{
    PyObject *items = NULL, *meth = NULL, *result = NULL;
    int rc = -1;

    if (PyUnicode_Check(headers) || PyBytes_Check(headers) || PyByteArray_Check(headers)) {
        PyErr_Format(PyExc_TypeError,
                     "headers must be a dict or an iterable of (name, value) pairs, not %.100s",
                     Py_TYPE(headers)->tp_name);
        return -1;
    }
    if (PyDict_Check(headers)) {
        items = PyDict_Items(headers);
    } else if (PyList_Check(headers) || PyTuple_Check(headers)) {
        items = PySequence_Tuple(headers);
    } else {
        meth = PyObject_GetAttrString(headers, "items");
        if (meth != NULL) {
            result = PyObject_CallNoArgs(meth);
            if (result != NULL)
                items = PySequence_Tuple(result);
        } else if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            items = PySequence_Tuple(headers);
            if (items == NULL && PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Format(PyExc_TypeError,
                             "headers must be a dict or an iterable of (name, value) pairs, "
                             "not %.100s",
                             Py_TYPE(headers)->tp_name);
            }
        }
    }
    if (items == NULL)
        goto done;

    Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(items, i);
        if (!(PyTuple_Check(item) || PyList_Check(item)) || PySequence_Fast_GET_SIZE(item) != 2) {
            PyErr_Format(PyExc_TypeError, "each header must be a (name, value) pair, not %.100s",
                         Py_TYPE(item)->tp_name);
            goto done;
        }
        PyObject *name = PySequence_Fast_GET_ITEM(item, 0);
        PyObject *value = PySequence_Fast_GET_ITEM(item, 1);
        Py_INCREF(name);
        Py_INCREF(value);
        int err = response_add_field(self, name, value);
        Py_DECREF(name);
        Py_DECREF(value);
        if (err < 0)
            goto done;
    }
    rc = 0;
done:
    Py_XDECREF(items);
    Py_XDECREF(result);
    Py_XDECREF(meth);
    return rc;
}

/* cookies: an http.cookies.SimpleCookie or any mapping whose values are Morsels; one
 * "Set-Cookie: <morsel.OutputString()>" line each, in the mapping's order, validated as a
 * header value. OutputString is user-reachable code, so the values are held in a tuple of
 * our own while it runs. */
static int
response_add_cookies(response_object *self, PyObject *cookies)
{
    static const char set_cookie[] = "Set-Cookie";
    PyObject *values = NULL, *list = NULL, *name = NULL;
    int rc = -1;

    if (PyDict_Check(cookies))
        list = PyDict_Values(cookies);
    else if (!PyUnicode_Check(cookies) && !PyBytes_Check(cookies) &&
             PyObject_HasAttrString(cookies, "values"))
        list = PyMapping_Values(cookies);
    else {
        PyErr_Format(PyExc_TypeError,
                     "cookies must be an http.cookies.SimpleCookie or a mapping of Morsels, "
                     "not %.100s",
                     Py_TYPE(cookies)->tp_name);
        return -1;
    }
    if (list == NULL)
        goto done;
    values = PySequence_Tuple(list);
    if (values == NULL)
        goto done;
    name = PyUnicode_FromStringAndSize(set_cookie, sizeof(set_cookie) - 1);
    if (name == NULL)
        goto done;

    Py_ssize_t n = PyTuple_GET_SIZE(values);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *morsel = PyTuple_GET_ITEM(values, i);
        PyObject *out = PyObject_CallMethod(morsel, "OutputString", NULL);
        if (out == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
                PyErr_Format(PyExc_TypeError,
                             "cookies values must be http.cookies.Morsel, not %.100s",
                             Py_TYPE(morsel)->tp_name);
            }
            goto done;
        }
        if (!PyUnicode_Check(out)) {
            PyErr_Format(PyExc_TypeError, "Morsel.OutputString() returned %.100s, not str",
                         Py_TYPE(out)->tp_name);
            Py_DECREF(out);
            goto done;
        }
        const char *p;
        size_t len;
        PyObject *owner = NULL;
        int err = response_value_bytes(out, &owner, &p, &len);
        if (err == 0)
            err = response_check_value(name, p, len);
        if (err == 0)
            err = response_append_line(self, set_cookie, sizeof(set_cookie) - 1, p, len);
        Py_XDECREF(owner);
        Py_DECREF(out);
        if (err < 0)
            goto done;
    }
    rc = 0;
done:
    Py_XDECREF(name);
    Py_XDECREF(values);
    Py_XDECREF(list);
    return rc;
}

/* The spellings of UTF-8 for which a str's cached UTF-8 form is the body as is. */
static int
response_is_utf8(const char *enc, size_t n)
{
    return response_lower_equals(enc, n, "utf-8") || response_lower_equals(enc, n, "utf8") ||
           response_lower_equals(enc, n, "utf_8");
}

static int
response_contains_charset(const char *p, size_t n)
{
    static const char needle[] = "charset=";
    size_t m = sizeof(needle) - 1;
    for (size_t i = 0; i + m <= n; i++)
        if (response_lower_equals(p + i, m, needle))
            return 1;
    return 0;
}

/* Builds our Content-Type. Static lines cover the defaults; anything else is formatted into
 * the start of fields. The charset parameter is added for text= bodies, and for any body
 * whose encoding was given explicitly, unless the mime_type already names a charset. */
static int
response_set_ctype(response_object *self, const char *mime, size_t mime_len, const char *enc,
                   size_t enc_len)
{
    int kind = self->kind;
    if (mime == NULL) {
        if (kind == RESPONSE_KIND_NONE) {
            self->ctype = RESPONSE_CT_NONE;
            return 0;
        }
        if (kind == RESPONSE_KIND_JSON || (enc == NULL && kind == RESPONSE_KIND_TEXT) ||
            (enc != NULL && kind == RESPONSE_KIND_TEXT && enc_len == 5 &&
             memcmp(enc, "utf-8", 5) == 0) ||
            (enc == NULL && kind == RESPONSE_KIND_BODY)) {
            self->ctype = kind == RESPONSE_KIND_TEXT   ? RESPONSE_CT_TEXT_UTF8
                          : kind == RESPONSE_KIND_JSON ? RESPONSE_CT_JSON
                                                       : RESPONSE_CT_OCTET;
            return 0;
        }
        if (kind == RESPONSE_KIND_TEXT) {
            mime = "text/plain";
        } else if (kind == RESPONSE_KIND_JSON) {
            mime = "application/json";
            enc = NULL; /* JSON is UTF-8 by definition and application/json has no charset */
        } else {
            mime = "application/octet-stream";
        }
        mime_len = strlen(mime);
    }
    int charset =
        (kind == RESPONSE_KIND_TEXT || enc != NULL) && !response_contains_charset(mime, mime_len);
    if (charset && enc == NULL) {
        enc = "utf-8";
        enc_len = 5;
    }

    static const char head[] = "Content-Type: ";
    static const char param[] = "; charset=";
    size_t len = sizeof(head) - 1 + mime_len + (charset ? sizeof(param) - 1 + enc_len : 0) + 2;
    if (jp_buffer_reserve(&self->fields, len) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    char *p = self->fields.data + self->fields.len;
    p = RESPONSE_PUT_LIT(p, head);
    p = response_put(p, mime, mime_len);
    if (charset) {
        p = RESPONSE_PUT_LIT(p, param);
        p = response_put(p, enc, enc_len);
    }
    p = RESPONSE_PUT_LIT(p, "\r\n");
    self->fields.len += len;
    self->ctype_len = len;
    self->ctype = RESPONSE_CT_CUSTOM;
    return 0;
}

/* Points body/body_len at payload's bytes: a bytes object, or a str's cached UTF-8. */
static int
response_set_payload(response_object *self, PyObject *payload)
{
    if (PyBytes_Check(payload)) {
        self->body = PyBytes_AS_STRING(payload);
        self->body_len = (size_t)PyBytes_GET_SIZE(payload);
    } else if (PyUnicode_IS_COMPACT_ASCII(payload)) {
        /* An ASCII str is its own UTF-8: no call needed (the common text= case). */
        self->body = (const char *)PyUnicode_DATA(payload);
        self->body_len = (size_t)PyUnicode_GET_LENGTH(payload);
    } else {
        Py_ssize_t n;
        const char *p = PyUnicode_AsUTF8AndSize(payload, &n);
        if (p == NULL)
            return -1;
        self->body = p;
        self->body_len = (size_t)n;
    }
    Py_INCREF(payload);
    Py_XSETREF(self->payload, payload);
    return 0;
}

enum {
    RESPONSE_ARG_TEXT = 0,
    RESPONSE_ARG_CODE,
    RESPONSE_ARG_BODY,
    RESPONSE_ARG_JSON,
    RESPONSE_ARG_MIME_TYPE,
    RESPONSE_ARG_ENCODING,
    RESPONSE_ARG_HEADERS,
    RESPONSE_ARG_COOKIES,
    RESPONSE_NARGS,
};

static const char *const response_arg_names[RESPONSE_NARGS] = {
    "text", "code", "body", "json", "mime_type", "encoding", "headers", "cookies",
};

/* The free list (jp_state.response_free). An entry is a dead Response of this module: refcount
 * 0, untracked, `st` set to the state whose list holds it, and clean: every object member NULL,
 * `fields` empty, `ctype_len` 0 (response_dealloc leaves it so). It keeps the reference to its
 * type that it had alive, which the module reports in its traverse
 * (jp_response_state_traverse), so taking it back skips PyObject_Init's type store and
 * reference, and dealloc skips the matching Py_DECREF. The other members (the status word,
 * body, body_len, inline_body) are whatever they were.
 *
 * Taking an entry back sets its refcount to 1 where CPython's own free lists call
 * PyObject_Init (through _Py_NewReference); what else that call does is kept exact:
 *   - tracemalloc gives a traced block the traceback of its new owner. A block has a trace only
 *     if it was allocated while tracemalloc was tracing (start() traces no existing block and
 *     stop() forgets every trace), so a response allocated then is marked RESPONSE_TRACED and
 *     never kept (response_dealloc_slow frees it): an entry has no trace, now or later.
 *   - a reference tracer (3.13+, PyRefTracer_SetTracer) is told of each creation there, and
 *     of each destruction in the deallocation that every Response goes through; while one is
 *     set, an entry is taken back with PyObject_Init itself (response_revive_announced).
 *   - a debug build counts references (Py_REF_DEBUG) or lists live objects (Py_TRACE_REFS):
 *     there, likewise, always PyObject_Init. */
#if defined(Py_REF_DEBUG) || defined(Py_TRACE_REFS)
#define RESPONSE_REVIVE_ANNOUNCED() 1
#elif PY_VERSION_HEX >= 0x030D0000
#define RESPONSE_REVIVE_ANNOUNCED() (PyRefTracer_GetTracer(NULL) != NULL)
#else
#define RESPONSE_REVIVE_ANNOUNCED() 0
#endif

/* An entry taken back with PyObject_Init, which takes a reference to the type: the entry's
 * own is dropped first (the module's keeps the type alive). */
static RESPONSE_NOINLINE void
response_revive_announced(response_object *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_DECREF(tp);
    (void)PyObject_Init((PyObject *)self, tp);
}

/* Takes the last free-list entry (there must be one) and makes it alive with one reference. */
static RESPONSE_INLINE response_object *
response_revive(jp_state *st)
{
    response_object *self = (response_object *)st->response_free[--st->response_nfree];
    if (RESPONSE_REVIVE_ANNOUNCED())
        response_revive_announced(self);
    else
        Py_SET_REFCNT((PyObject *)self, 1);
    return self;
}

/* Sets the members a free-list entry leaves undefined, for a 200 response with no body. */
static RESPONSE_INLINE void
response_init_head(response_object *self, unsigned bits)
{
    self->code = 200;
    self->fast = 0;
    self->kind = RESPONSE_KIND_NONE;
    self->ctype = RESPONSE_CT_NONE;
    self->flags = 0;
    self->bits = (uint8_t)bits;
    self->spare = 0;
    self->body = NULL;
    self->body_len = 0;
}

/* A new, empty 200 response, from the free list when it has an entry, else from
 * PyObject_GC_New. Untracked: the caller tracks it only if it comes to hold user objects
 * (headers, cookies: the only possible cycles), so the common one costs the collector nothing.
 * Not subclassable, so the size is fixed and every free-list entry fits. */
static RESPONSE_INLINE response_object *
response_alloc(jp_state *st)
{
    if (st->response_nfree > 0) {
        response_object *self = response_revive(st);
        response_init_head(self, 0);
        return self;
    }
    /* Neither zeroes nor tracks: the members a free-list entry has clean are set here. */
    response_object *self = PyObject_GC_New(response_object, st->response_type);
    if (self == NULL)
        return NULL;
    JP_LIVE_INC(JP_LIVE_RESPONSE);
    self->st = st;
    self->payload = self->text = self->mime_type = self->encoding = NULL;
    self->headers = self->cookies = NULL;
    self->ctype_len = 0;
    self->fields = (jp_buffer)JP_BUFFER_INIT;
    /* Whether tracemalloc traces now (-2: it does not), asked after the allocation: the
     * collection PyObject_GC_New may run could have started or stopped it, but only before
     * this answer, and a block allocated untraced never gets a trace. Untracking address 0,
     * which no block has, changes nothing. */
    response_init_head(self, PyTraceMalloc_Untrack(0, 0) == -2 ? 0 : RESPONSE_TRACED);
    return self;
}

void
jp_response_state_clear(jp_state *st)
{
    st->response_free_cap = 0;
    while (st->response_nfree > 0) {
        PyObject *op = st->response_free[--st->response_nfree];
        PyTypeObject *tp = Py_TYPE(op);
        JP_LIVE_DEC(JP_LIVE_RESPONSE);
        PyObject_GC_Del(op);
        Py_DECREF(tp);
    }
    PyObject *kwnames[2] = {st->response_text_kwnames, st->response_json_kwnames};
    st->response_text_kwnames = st->response_json_kwnames = Py_None;
    for (int i = 0; i < 2; i++)
        if (kwnames[i] != NULL && kwnames[i] != Py_None)
            Py_DECREF(kwnames[i]);
}

int
jp_response_state_traverse(jp_state *st, visitproc visit, void *arg)
{
    /* One reference to the type per entry (see above). */
    for (int i = 0; i < st->response_nfree; i++)
        Py_VISIT(st->response_type);
    if (st->response_text_kwnames != Py_None)
        Py_VISIT(st->response_text_kwnames);
    if (st->response_json_kwnames != Py_None)
        Py_VISIT(st->response_json_kwnames);
    return 0;
}

/* Makes self, fresh from response_alloc or the free list, Response(text=text) for a str
 * whose UTF-8 form is its own data, with bits (RESPONSE_LEAN, and RESPONSE_TRACED if self has
 * it). The str is the payload and nothing else: the text attribute returns the payload when
 * it is a str, so self->text stays NULL and the object holds one reference, not two. */
static RESPONSE_INLINE void
response_set_ascii_text(response_object *self, PyObject *text, unsigned bits)
{
    self->code = 200;
    self->fast = RESPONSE_CT_TEXT_UTF8;
    self->kind = RESPONSE_KIND_TEXT;
    self->ctype = RESPONSE_CT_TEXT_UTF8;
    self->flags = 0;
    self->bits = (uint8_t)bits;
    self->spare = 0;
    self->body = (const char *)(((PyASCIIObject *)text) + 1);
    self->body_len = (size_t)PyUnicode_GET_LENGTH(text);
    Py_INCREF(text);
    self->payload = text;
}

/* Response(text=<str>) and Response(<str>) past jp_response_new's inlined case: a str that is
 * not ASCII, or an empty free list. What response_build does for them, without its general
 * argument handling. */
static PyObject *
response_build_text(jp_state *st, PyObject *text)
{
    response_object *self = response_alloc(st);
    if (self == NULL)
        return NULL;
    if (PyUnicode_IS_COMPACT_ASCII(text)) {
        response_set_ascii_text(self, text, self->bits | RESPONSE_LEAN);
        return (PyObject *)self;
    }
    self->fast = RESPONSE_CT_TEXT_UTF8;
    self->kind = RESPONSE_KIND_TEXT;
    self->ctype = RESPONSE_CT_TEXT_UTF8;
    self->bits |= RESPONSE_LEAN;
    if (response_set_payload(self, text) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

/* Encodes json with json.c into the module's scratch buffer and makes it self's body: copied
 * into self->inline_body when it fits, else into a new bytes payload. Returns JP_JSON_OK,
 * JP_JSON_ERROR (an exception is set) or JP_JSON_FALLBACK (json is not plain data; no
 * exception: the caller uses the general encoder). The scratch buffer is the module's: the
 * encoder runs no Python code, so nothing can re-enter it before its bytes are copied out. */
static RESPONSE_INLINE int
response_json_c(jp_state *st, PyObject *json, response_object *self)
{
    jp_buffer *scratch = &st->json_scratch;
    scratch->len = 0;
    int rc = jp_json_encode(json, scratch, (jp_simd_level)st->json_simd);
    if (rc != JP_JSON_OK)
        return rc;
    /* OK means at least one byte was written, so data is not NULL. */
    size_t n = scratch->len;
    scratch->len = 0;
    if (n <= RESPONSE_INLINE_BODY) {
        /* Without a library call up to RESPONSE_FAST_BODY_MAX, as in the fast path. */
        if (n <= 32)
            (void)jp_copy_small(self->inline_body, scratch->data, n);
        else if (n <= RESPONSE_FAST_BODY_MAX)
            (void)response_copy_body(self->inline_body, scratch->data, n);
        else
            memcpy(self->inline_body, scratch->data, n);
        self->body = self->inline_body;
        self->body_len = n;
        return JP_JSON_OK;
    }
    PyObject *encoded = PyBytes_FromStringAndSize(scratch->data, (Py_ssize_t)n);
    if (scratch->cap > RESPONSE_JSON_SCRATCH_KEEP)
        jp_buffer_trim(scratch, RESPONSE_JSON_SCRATCH_KEEP);
    if (encoded == NULL)
        return JP_JSON_ERROR;
    self->body = PyBytes_AS_STRING(encoded);
    self->body_len = (size_t)PyBytes_GET_SIZE(encoded);
    Py_XSETREF(self->payload, encoded);
    return JP_JSON_OK;
}

/* Builds a Response from its eight arguments (borrowed; NULL or None when absent). The
 * object is allocated first and every field set empty, so every later failure can simply
 * Py_DECREF it. */
static PyObject *
response_build(jp_state *st, PyObject *const *argv)
{
    PyObject *a[RESPONSE_NARGS];
    for (int i = 0; i < RESPONSE_NARGS; i++)
        a[i] = argv[i] == Py_None ? NULL : argv[i];
    PyObject *text = a[RESPONSE_ARG_TEXT], *code = a[RESPONSE_ARG_CODE];
    PyObject *body = a[RESPONSE_ARG_BODY], *json = a[RESPONSE_ARG_JSON];
    PyObject *mime = a[RESPONSE_ARG_MIME_TYPE], *encoding = a[RESPONSE_ARG_ENCODING];
    PyObject *headers = a[RESPONSE_ARG_HEADERS], *cookies = a[RESPONSE_ARG_COOKIES];

    const char *enc = NULL, *mime_p = NULL;
    size_t enc_len = 0, mime_len = 0;
    PyObject *mime_owner = NULL;
    int utf8;

    if (st->response_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "japronto._core is not initialised");
        return NULL;
    }
    response_object *self = response_alloc(st);
    if (self == NULL)
        return NULL;
    if (headers != NULL || cookies != NULL) {
        PyObject_GC_Track(self);
        self->bits |= RESPONSE_TRACKED;
    }
    Py_XINCREF(headers);
    self->headers = headers;
    Py_XINCREF(cookies);
    self->cookies = cookies;

    if (code != NULL) {
        if (!PyLong_Check(code) || PyBool_Check(code)) {
            PyErr_Format(PyExc_TypeError, "code must be an int, not %.100s",
                         Py_TYPE(code)->tp_name);
            goto error;
        }
        int overflow;
        long v = PyLong_AsLongAndOverflow(code, &overflow);
        if (v == -1 && PyErr_Occurred())
            goto error;
        if (overflow || v < RESPONSE_CODE_MIN || v > RESPONSE_CODE_MAX) {
            PyErr_Format(PyExc_ValueError, "code must be between 100 and 599, not %R", code);
            goto error;
        }
        self->code = (uint16_t)v;
    }

    if ((text != NULL) + (json != NULL) + (body != NULL) > 1) {
        PyErr_SetString(PyExc_TypeError, "give at most one of text, json and body");
        goto error;
    }

    if (encoding != NULL) {
        if (!PyUnicode_Check(encoding)) {
            PyErr_Format(PyExc_TypeError, "encoding must be a str, not %.100s",
                         Py_TYPE(encoding)->tp_name);
            goto error;
        }
        /* It becomes the charset parameter, a token; ASCII is checked before the bytes. */
        enc = PyUnicode_IS_ASCII(encoding) ? (const char *)PyUnicode_DATA(encoding) : NULL;
        enc_len = (size_t)PyUnicode_GET_LENGTH(encoding);
        int ok = enc != NULL && enc_len > 0;
        for (size_t i = 0; ok && i < enc_len; i++)
            ok = jp_is_tchar((unsigned char)enc[i]) != 0;
        if (!ok) {
            PyErr_Format(PyExc_ValueError, "encoding %R is not a valid charset name", encoding);
            goto error;
        }
        Py_INCREF(encoding);
        self->encoding = encoding;
    }
    utf8 = enc == NULL || response_is_utf8(enc, enc_len);

    if (mime != NULL) {
        if (!PyUnicode_Check(mime)) {
            PyErr_Format(PyExc_TypeError, "mime_type must be a str, not %.100s",
                         Py_TYPE(mime)->tp_name);
            goto error;
        }
        if (PyUnicode_GET_LENGTH(mime) == 0) {
            PyErr_SetString(PyExc_ValueError, "mime_type is empty");
            goto error;
        }
        /* Held in self->mime_type until the Content-Type line is written below. */
        Py_INCREF(mime);
        self->mime_type = mime;
        if (response_value_bytes(mime, &mime_owner, &mime_p, &mime_len) < 0)
            goto error;
    }

    if (text != NULL) {
        if (!PyUnicode_Check(text)) {
            PyErr_Format(PyExc_TypeError, "text must be a str, not %.100s%s",
                         Py_TYPE(text)->tp_name,
                         PyObject_CheckBuffer(text) ? " (give bytes as body=)" : "");
            goto error;
        }
        self->kind = RESPONSE_KIND_TEXT;
        Py_INCREF(text);
        self->text = text;
        if (utf8) {
            /* The str keeps its UTF-8 form cached (for ASCII it is the str's own data), so
             * the body is sent straight from it without a copy. */
            if (response_set_payload(self, text) < 0)
                goto error;
        } else {
            PyObject *encoded = PyUnicode_AsEncodedString(text, enc, "strict");
            if (encoded == NULL)
                goto error;
            int err = PyBytes_Check(encoded) ? response_set_payload(self, encoded) : -1;
            if (err < 0 && !PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "encoding %R did not produce bytes", encoding);
            Py_DECREF(encoded);
            if (err < 0)
                goto error;
        }
    } else if (json != NULL) {
        if (!utf8) {
            PyErr_SetString(PyExc_ValueError,
                            "json= responses are UTF-8 (RFC 8259); encoding must be utf-8");
            goto error;
        }
        if (st->json_dumps == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "japronto._core has no JSON encoder");
            goto error;
        }
        self->kind = RESPONSE_KIND_JSON;
        int rc = response_json_c(st, json, self);
        if (rc == JP_JSON_ERROR)
            goto error;
        if (rc == JP_JSON_FALLBACK) {
            /* Not plain data: the general encoder. */
            PyObject *dumped = PyObject_CallOneArg(st->json_dumps, json);
            if (dumped == NULL)
                goto error;
            if (!PyBytes_Check(dumped) && !PyUnicode_Check(dumped)) {
                PyErr_Format(PyExc_TypeError, "the JSON encoder returned %.100s, not str or bytes",
                             Py_TYPE(dumped)->tp_name);
                Py_DECREF(dumped);
                goto error;
            }
            int err = response_set_payload(self, dumped);
            Py_DECREF(dumped);
            if (err < 0)
                goto error;
        }
    } else if (body != NULL) {
        self->kind = RESPONSE_KIND_BODY;
        if (PyBytes_Check(body)) {
            if (response_set_payload(self, body) < 0)
                goto error;
        } else if (PyObject_CheckBuffer(body)) {
            /* A bytearray or memoryview could change size after this call, and the length
             * is fixed now; an immutable copy is the price of accepting them. */
            PyObject *copy = PyBytes_FromObject(body);
            if (copy == NULL)
                goto error;
            int err = response_set_payload(self, copy);
            Py_DECREF(copy);
            if (err < 0)
                goto error;
        } else {
            PyErr_Format(PyExc_TypeError, "body must be bytes-like, not %.100s%s",
                         Py_TYPE(body)->tp_name,
                         PyUnicode_Check(body) ? " (give str as text=)" : "");
            goto error;
        }
    }

    if (mime_p != NULL) {
        /* Its value goes into Content-Type; the error names the argument. */
        int c = response_bad_value_byte(mime_p, mime_len);
        if (c >= 0) {
            response_value_error("mime_type", mime, c);
            goto error;
        }
    }
    if (response_set_ctype(self, mime_p, mime_len, enc, enc_len) < 0)
        goto error;
    Py_CLEAR(mime_owner);

    if (headers != NULL && response_add_headers(self, headers) < 0)
        goto error;
    if (self->flags & RESPONSE_USER_CTYPE) {
        /* The user's Content-Type replaces ours; ours, if custom, is the prefix of fields. */
        jp_buffer_consume(&self->fields, self->ctype_len);
        self->ctype_len = 0;
        self->ctype = RESPONSE_CT_NONE;
    }
    if (cookies != NULL && response_add_cookies(self, cookies) < 0)
        goto error;
    self->fast = response_fast_kind(self->code, self->ctype, self->fields.len, self->flags);
    return (PyObject *)self;

error:
    Py_XDECREF(mime_owner);
    Py_DECREF(self);
    return NULL;
}

/* Matches a keyword name without allocating: keyword names are str, nearly always interned
 * ASCII, and there are eight candidates, so a length check and a memcmp settle it. */
static int
response_kw_index(PyObject *key)
{
    if (!PyUnicode_Check(key) || !PyUnicode_IS_ASCII(key))
        return -1;
    const char *p = (const char *)PyUnicode_DATA(key);
    size_t n = (size_t)PyUnicode_GET_LENGTH(key);
    for (int i = 0; i < RESPONSE_NARGS; i++) {
        const char *name = response_arg_names[i];
        if (strlen(name) == n && memcmp(name, p, n) == 0)
            return i;
    }
    return -1;
}

/* jp_response_new past its fast paths: every argument by position or keyword. */
static RESPONSE_NOINLINE PyObject *
response_new_general(jp_state *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs > RESPONSE_NARGS) {
        PyErr_Format(PyExc_TypeError,
                     "Response() takes at most %d positional arguments (%zd given)", RESPONSE_NARGS,
                     nargs);
        return NULL;
    }
    PyObject *values[RESPONSE_NARGS] = {NULL};
    for (Py_ssize_t i = 0; i < nargs; i++)
        values[i] = args[i];
    if (kwnames != NULL) {
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t j = 0; j < nkw; j++) {
            PyObject *key = PyTuple_GET_ITEM(kwnames, j);
            int idx = response_kw_index(key);
            if (idx < 0) {
                PyErr_Format(PyExc_TypeError, "Response() got an unexpected keyword argument %R",
                             key);
                return NULL;
            }
            if (values[idx] != NULL) {
                PyErr_Format(PyExc_TypeError, "Response() got multiple values for argument '%s'",
                             response_arg_names[idx]);
                return NULL;
            }
            values[idx] = args[nargs + j];
        }
    }
    return response_build(st, values);
}

/* Response(json=value), args[0] being the value and kwnames ("json",): encoded by json.c into
 * the response's own inline_body when it takes the value (see response_json_c), else by the
 * general path, which also takes json=None (no body). What response_build does for it,
 * without its general argument handling. */
static RESPONSE_NOINLINE PyObject *
response_new_json(jp_state *st, PyObject *const *args, PyObject *kwnames)
{
    if (args[0] == Py_None)
        return response_new_general(st, args, 0, kwnames);
    response_object *self = response_alloc(st);
    if (self == NULL)
        return NULL;
    self->fast = RESPONSE_CT_JSON;
    self->kind = RESPONSE_KIND_JSON;
    self->ctype = RESPONSE_CT_JSON;
    self->bits |= RESPONSE_LEAN;
    int rc = response_json_c(st, args[0], self);
    if (rc == JP_JSON_OK)
        return (PyObject *)self;
    /* Back to the free list; it holds nothing, so no code runs and the exception (if any)
     * stays as it is. */
    Py_DECREF(self);
    if (rc == JP_JSON_ERROR)
        return NULL;
    return response_new_general(st, args, 0, kwnames); /* not plain data */
}

/* jp_response_new past its inlined case: Response(json=...), the text cases it leaves, and
 * every other call. */
static RESPONSE_NOINLINE PyObject *
response_new_rest(jp_state *st, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs == 0 && kwnames != NULL && PyTuple_GET_SIZE(kwnames) == 1) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, 0), *value = args[0];
        if (key == st->str_text && PyUnicode_CheckExact(value)) {
            if (st->response_text_kwnames == Py_None) {
                /* The first text= call: from now on its tuple is recognised by identity. */
                Py_INCREF(kwnames);
                st->response_text_kwnames = kwnames;
            }
            return response_build_text(st, value);
        }
        if (key == st->str_json) {
            if (st->response_json_kwnames == Py_None) {
                /* As for text= above. */
                Py_INCREF(kwnames);
                st->response_json_kwnames = kwnames;
            }
            return response_new_json(st, args, kwnames);
        }
    } else if (nargs == 1 && kwnames == NULL && PyUnicode_CheckExact(args[0])) {
        return response_build_text(st, args[0]);
    }
    return response_new_general(st, args, nargs, kwnames);
}

/* jp_response_new, inlined into it and into request.Response's call: Response(text=<ASCII
 * str>) and Response(<ASCII str>) with a free-list entry to take, the hello-world call, is done
 * here; everything else is a tail call (Response(json=...) straight to response_new_json). This
 * path calls nothing, so it saves no registers. The keyword names of a call are a constant tuple of
 * the caller's code object, shared by every call site in its module, so text= is recognised by
 * comparing the tuple with the one of the first text= call (st->response_text_kwnames, Py_None
 * before it: no call passes None); any other tuple takes the general path, with the same result. */
static RESPONSE_INLINE PyObject *
response_new(jp_state *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    int text_call =
        kwnames == st->response_text_kwnames ? nargs == 0 : kwnames == NULL && nargs == 1;
    if (text_call && st->response_nfree > 0) {
        PyObject *text = args[0];
        if (PyUnicode_CheckExact(text) && PyUnicode_IS_COMPACT_ASCII(text)) {
            response_object *self = response_revive(st);
            response_set_ascii_text(self, text, RESPONSE_LEAN);
            return (PyObject *)self;
        }
    } else if (kwnames == st->response_json_kwnames && nargs == 0) {
        /* The same for json= (st->response_json_kwnames), whose encoding calls anyway. */
        return response_new_json(st, args, kwnames);
    }
    return response_new_rest(st, args, (size_t)nargs, kwnames);
}

PyObject *
jp_response_new(jp_state *st, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return response_new(st, args, PyVectorcall_NARGS(nargsf), kwnames);
}

/* Calling the type, _core.Response(...), takes the vectorcall path on every supported
 * version (tp_vectorcall is set in jp_response_setup); tp_new serves the generic call
 * protocol (Response.__new__, PyObject_Call with a dict). Both build the same way. */
static PyObject *
response_vectorcall(PyObject *type, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return jp_response_new(jp_state_from_type((PyTypeObject *)type), args, nargsf, kwnames);
}

static PyObject *
response_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"text",     "code",    "body",    "json", "mime_type",
                             "encoding", "headers", "cookies", NULL};
    PyObject *v[RESPONSE_NARGS] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOOOOOOO:Response", kwlist, &v[0], &v[1], &v[2],
                                     &v[3], &v[4], &v[5], &v[6], &v[7]))
        return NULL;
    return response_build(jp_state_from_type(type), v);
}

static int
response_traverse(PyObject *op, visitproc visit, void *arg)
{
    response_object *self = (response_object *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->headers);
    Py_VISIT(self->cookies);
    return 0;
}

static int
response_clear(PyObject *op)
{
    response_object *self = (response_object *)op;
    Py_CLEAR(self->headers);
    Py_CLEAR(self->cookies);
    return 0;
}

/* Everything a response that is not lean may hold, released so that it is clean for the free
 * list (see response_revive). Only a response that was given headers or cookies is tracked and
 * holds them (tp_clear may have dropped them since, which Py_CLEAR allows for). */
static RESPONSE_NOINLINE void
response_release(response_object *self)
{
    if (self->bits & RESPONSE_TRACKED) {
        PyObject_GC_UnTrack((PyObject *)self);
        (void)response_clear((PyObject *)self);
    }
    Py_CLEAR(self->payload);
    Py_CLEAR(self->text);
    Py_CLEAR(self->mime_type);
    Py_CLEAR(self->encoding);
    if (self->fields.data != NULL)
        jp_buffer_free(&self->fields);
    self->ctype_len = 0;
}

/* response_dealloc past its fast path: a response that is not lean, or traced, or a full free
 * list (or a cleared module: response_free_cap is 0 then). The clears may run arbitrary
 * finalizers, but none can reach this object (its refcount is 0), so the free list is only
 * touched after them, here, and in response_revive. JP_LIVE_RESPONSE counts allocations, free-
 * list entries included (module_live_counts subtracts those), so only a free changes it. */
static RESPONSE_NOINLINE void
response_dealloc_slow(response_object *self)
{
    if (self->bits & RESPONSE_LEAN)
        Py_CLEAR(self->payload);
    else
        response_release(self);
    jp_state *st = self->st;
    if (!(self->bits & RESPONSE_TRACED) && st->response_nfree < st->response_free_cap) {
        st->response_free[st->response_nfree++] = (PyObject *)self; /* with its type reference */
        return;
    }
    JP_LIVE_DEC(JP_LIVE_RESPONSE);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* A lean response (nearly every one) onto the free list, with no call but the payload's
 * deallocation, done last as a tail call so that nothing is saved across it. The payload of a
 * lean response is an exact str or bytes, whose deallocation runs no code, and the entry is
 * clean and listed before it runs anyway. */
static void
response_dealloc(PyObject *op)
{
    response_object *self = (response_object *)op;
    jp_state *st = self->st;
    if (self->bits != RESPONSE_LEAN || st->response_nfree >= st->response_free_cap) {
        response_dealloc_slow(self);
        return;
    }
    PyObject *payload = self->payload;
    self->payload = NULL;
    st->response_free[st->response_nfree++] = op; /* with its type reference */
    Py_XDECREF(payload);
}

/* --- attributes --------------------------------------------------------------------------- */

static PyObject *
response_get_code(PyObject *op, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(((response_object *)op)->code);
}

static PyObject *
response_get_mime_type(PyObject *op, void *Py_UNUSED(closure))
{
    response_object *self = (response_object *)op;
    if (self->mime_type != NULL)
        return response_ref(self->mime_type);
    switch (self->kind) {
    case RESPONSE_KIND_TEXT:
        return PyUnicode_FromString("text/plain");
    case RESPONSE_KIND_JSON:
        return PyUnicode_FromString("application/json");
    case RESPONSE_KIND_BODY:
        return PyUnicode_FromString("application/octet-stream");
    default:
        Py_RETURN_NONE;
    }
}

static PyObject *
response_get_encoding(PyObject *op, void *Py_UNUSED(closure))
{
    response_object *self = (response_object *)op;
    if (self->encoding != NULL)
        return response_ref(self->encoding);
    return PyUnicode_FromString("utf-8");
}

static PyObject *
response_get_body(PyObject *op, void *Py_UNUSED(closure))
{
    response_object *self = (response_object *)op;
    if (self->body == NULL)
        Py_RETURN_NONE;
    if (self->payload != NULL && PyBytes_CheckExact(self->payload))
        return response_ref(self->payload);
    return PyBytes_FromStringAndSize(self->body, (Py_ssize_t)self->body_len);
}

static PyObject *
response_get_text(PyObject *op, void *Py_UNUSED(closure))
{
    response_object *self = (response_object *)op;
    if (self->text != NULL)
        return response_ref(self->text);
    if (self->body == NULL)
        Py_RETURN_NONE;
    if (self->payload != NULL && PyUnicode_Check(self->payload))
        return response_ref(self->payload);
    const char *enc = self->encoding != NULL && self->kind != RESPONSE_KIND_JSON
                          ? PyUnicode_AsUTF8(self->encoding)
                          : "utf-8";
    if (enc == NULL)
        return NULL;
    return PyUnicode_Decode(self->body, (Py_ssize_t)self->body_len, enc, "strict");
}

static PyObject *
response_get_headers(PyObject *op, void *Py_UNUSED(closure))
{
    response_object *self = (response_object *)op;
    return response_ref(self->headers != NULL ? self->headers : Py_None);
}

static PyObject *
response_get_cookies(PyObject *op, void *Py_UNUSED(closure))
{
    response_object *self = (response_object *)op;
    return response_ref(self->cookies != NULL ? self->cookies : Py_None);
}

static PyObject *
response_repr(PyObject *op)
{
    response_object *self = (response_object *)op;
    const char *reason = jp_status_reason(self->code);
    if (self->body == NULL)
        return PyUnicode_FromFormat("<Response %d%s%s, no body>", self->code, *reason ? " " : "",
                                    reason);
    return PyUnicode_FromFormat("<Response %d%s%s, %zu bytes>", self->code, *reason ? " " : "",
                                reason, self->body_len);
}

static PyGetSetDef response_getset[] = {
    {"code", response_get_code, NULL, "The status code (100 to 599).", NULL},
    {"mime_type", response_get_mime_type, NULL,
     "The media type given, or the default for the body kind; None without a body.", NULL},
    {"encoding", response_get_encoding, NULL, "The encoding given, or 'utf-8'.", NULL},
    {"body", response_get_body, NULL,
     "The body as bytes (text encoded, json serialised), or None without a body.", NULL},
    {"text", response_get_text, NULL,
     "The body as str: the text given, the JSON text, or body decoded with encoding.", NULL},
    {"headers", response_get_headers, NULL, "The headers as given, or None.", NULL},
    {"cookies", response_get_cookies, NULL, "The cookies as given, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(response_doc,
             "Response(text=None, code=None, body=None, json=None, mime_type=None, "
             "encoding=None, headers=None, cookies=None)\n--\n\n"
             "An HTTP response, validated and formatted when it is made.\n\n"
             "At most one of text (str), json (any JSON-serialisable object) and body\n"
             "(bytes-like). code: 100 to 599, default 200. headers: a dict or an iterable of\n"
             "(name, value) pairs (values str, bytes or int). cookies: a SimpleCookie.");

static PyType_Slot response_slots[] = {
    {Py_tp_doc, (void *)response_doc}, {Py_tp_new, response_tp_new},
    {Py_tp_dealloc, response_dealloc}, {Py_tp_traverse, response_traverse},
    {Py_tp_clear, response_clear},     {Py_tp_getset, response_getset},
    {Py_tp_repr, response_repr},       {0, NULL},
};

/* Not Py_TPFLAGS_BASETYPE: the serialiser reads the C struct of any object that passes
 * jp_response_check, which is an exact type check, and a subclass could not change what is
 * sent anyway. */
static PyType_Spec response_spec = {
    .name = "japronto._core.Response",
    .basicsize = sizeof(response_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | JP_TPFLAGS_IMMUTABLETYPE,
    .slots = response_slots,
};

/* ------------------------------------------------------------------------------------------
 * request.Response: the method every handler calls
 * ------------------------------------------------------------------------------------------ */

/* A method of Request made by this file rather than by a PyMethodDef, because CPython's own
 * method descriptor costs about 45 instructions a call on 3.11 (the self type check, the
 * recursion guard and the thread state) before it reaches us, and the interpreter does not
 * specialise its call when keywords are passed, which is how handlers call it. This one is a
 * method descriptor by the interpreter's definition (Py_TPFLAGS_METHOD_DESCRIPTOR, so
 * `request.Response(...)` binds nothing and keeps its specialised attribute lookup) whose
 * vectorcall checks self's type and goes straight to jp_response_new. Bound explicitly
 * (`m = request.Response`), it is a `method` object calling the same. */
typedef struct response_method_object {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    jp_state *st; /* of the module that made it; its type keeps that module alive */
} response_method_object;

/* A call of Request.Response whose self is not exactly a Request: an instance of an
 * application's subclass (see app.py: _request_class) is one too; anything else, TypeError. */
static RESPONSE_NOINLINE PyObject *
response_method_call_other(jp_state *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs >= 1 && st->request_type != NULL &&
        PyType_IsSubtype(Py_TYPE(args[0]), st->request_type))
        return jp_response_new(st, args + 1, (size_t)(nargs - 1), kwnames);
    PyErr_Format(PyExc_TypeError, "Response() needs a japronto Request as self, not %.100s",
                 nargs < 1 ? "nothing" : Py_TYPE(args[0])->tp_name);
    return NULL;
}

static PyObject *
response_method_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                           PyObject *kwnames)
{
    jp_state *st = ((response_method_object *)callable)->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    /* (A cleared module's request_type is NULL, which no object's type is.) */
    if (nargs < 1 || !Py_IS_TYPE(args[0], st->request_type))
        return response_method_call_other(st, args, nargs, kwnames);
    return response_new(st, args + 1, nargs - 1, kwnames);
}

static PyObject *
response_method_get(PyObject *self, PyObject *obj, PyObject *Py_UNUSED(type))
{
    if (obj == NULL || obj == Py_None) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, obj);
}

static int
response_method_traverse(PyObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    return 0;
}

static void
response_method_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *
response_method_get_name(PyObject *Py_UNUSED(op), void *Py_UNUSED(closure))
{
    return PyUnicode_FromString("Response");
}

static PyObject *
response_method_get_qualname(PyObject *Py_UNUSED(op), void *Py_UNUSED(closure))
{
    return PyUnicode_FromString("Request.Response");
}

static PyObject *
response_method_get_objclass(PyObject *op, void *Py_UNUSED(closure))
{
    jp_state *st = ((response_method_object *)op)->st;
    return response_ref(st->request_type != NULL ? (PyObject *)st->request_type : Py_None);
}

static PyObject *
response_method_get_text_signature(PyObject *Py_UNUSED(op), void *Py_UNUSED(closure))
{
    return PyUnicode_FromString("($self, /, text=None, code=None, body=None, json=None, "
                                "mime_type=None, encoding=None, headers=None, cookies=None)");
}

static PyObject *
response_method_repr(PyObject *Py_UNUSED(op))
{
    return PyUnicode_FromString("<method 'Response' of 'japronto._core.Request' objects>");
}

/* What inspect and help() read of a method descriptor. */
static PyGetSetDef response_method_getset[] = {
    {"__name__", response_method_get_name, NULL, NULL, NULL},
    {"__qualname__", response_method_get_qualname, NULL, NULL, NULL},
    {"__objclass__", response_method_get_objclass, NULL, NULL, NULL},
    {"__text_signature__", response_method_get_text_signature, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef response_method_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(response_method_object, vectorcall), READONLY,
     NULL},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(response_method_doc, "Makes a new Response for this request.");

static PyType_Slot response_method_slots[] = {
    {Py_tp_doc, (void *)response_method_doc},
    {Py_tp_repr, response_method_repr},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, response_method_get},
    {Py_tp_traverse, response_method_traverse},
    {Py_tp_dealloc, response_method_dealloc},
    {Py_tp_getset, response_method_getset},
    {Py_tp_members, response_method_members},
    {0, NULL},
};

static PyType_Spec response_method_spec = {
    .name = "japronto._core.ResponseMethod",
    .basicsize = sizeof(response_method_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_METHOD_DESCRIPTOR |
             Py_TPFLAGS_HAVE_VECTORCALL | JP_TPFLAGS_IMMUTABLETYPE | JP_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = response_method_slots,
};

int
jp_response_add_method(PyObject *module, jp_state *st)
{
    PyTypeObject *type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &response_method_spec, NULL);
    if (type == NULL)
        return -1;
    type->tp_new = NULL; /* what DISALLOW_INSTANTIATION does on 3.10+ */
    response_method_object *m = PyObject_GC_New(response_method_object, type);
    Py_DECREF(type); /* m holds it now */
    if (m == NULL)
        return -1;
    m->vectorcall = response_method_vectorcall;
    m->st = st;
    PyObject_GC_Track(m);
    int rc = PyDict_SetItemString(st->request_type->tp_dict, "Response", (PyObject *)m);
    Py_DECREF(m);
    if (rc < 0)
        return -1;
    PyType_Modified(st->request_type);
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Test hooks: the serialiser seen from Python, with a Date line from time(NULL)
 * ------------------------------------------------------------------------------------------ */

static int
response_ctx_from(jp_response_ctx *ctx, int version_minor, int keep_alive, int head)
{
    if (version_minor != 0 && version_minor != 1) {
        PyErr_Format(PyExc_ValueError, "version_minor must be 0 or 1, not %d", version_minor);
        return -1;
    }
    ctx->version_minor = (uint8_t)version_minor;
    ctx->keep_alive = (uint8_t)(keep_alive != 0);
    ctx->head = (uint8_t)(head != 0);
    return 0;
}

static PyObject *
response_buffer_to_bytes(jp_buffer *out)
{
    PyObject *bytes = PyBytes_FromStringAndSize(out->data ? out->data : "", (Py_ssize_t)out->len);
    jp_buffer_free(out);
    return bytes;
}

PyDoc_STRVAR(response_py_serialize_doc,
             "_serialize(response, version_minor=1, keep_alive=True, head=False, *, "
             "return_closes=False, before=b'')\n--\n\n"
             "Test hook: the bytes jp_response_serialize appends for response. With\n"
             "return_closes, a (bytes, closes) pair, closes telling whether the response asks\n"
             "for the connection to be closed. With before, the buffer already holds those\n"
             "bytes (and has the room its growth gave it), and the bytes returned start with\n"
             "them: the serialiser's fast path writes in place only when the room is there.");

static PyObject *
response_py_serialize(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"response",      "version_minor", "keep_alive", "head",
                             "return_closes", "before",        NULL};
    PyObject *response;
    int version_minor = 1, keep_alive = 1, head = 0, return_closes = 0;
    const char *before = NULL;
    Py_ssize_t before_len = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|ipp$py#:_serialize", kwlist, &response,
                                     &version_minor, &keep_alive, &head, &return_closes, &before,
                                     &before_len))
        return NULL;
    jp_state *st = jp_state_from_module(module);
    if (!jp_response_check(st, response)) {
        PyErr_Format(PyExc_TypeError, "expected a Response, not %.100s",
                     Py_TYPE(response)->tp_name);
        return NULL;
    }
    jp_response_ctx ctx;
    if (response_ctx_from(&ctx, version_minor, keep_alive, head) < 0)
        return NULL;
    jp_date_cache date;
    memset(&date, 0, sizeof(date));
    jp_date_refresh(&date, time(NULL));

    jp_buffer out = JP_BUFFER_INIT;
    if (before_len > 0 && jp_buffer_append(&out, before, (size_t)before_len) < 0)
        return PyErr_NoMemory();
    int closes = 0;
    if (jp_response_serialize(response, &out, &ctx, &date, &closes) < 0) {
        jp_buffer_free(&out);
        return NULL;
    }
    PyObject *bytes = response_buffer_to_bytes(&out);
    if (bytes == NULL || !return_closes)
        return bytes;
    return Py_BuildValue("(NO)", bytes, closes ? Py_True : Py_False);
}

PyDoc_STRVAR(response_py_serialize_simple_doc,
             "_serialize_simple(status, body, extra=b'', version_minor=1, keep_alive=True, "
             "head=False)\n--\n\n"
             "Test hook: the bytes jp_response_write_simple appends.");

static PyObject *
response_py_serialize_simple(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"status",     "body", "extra", "version_minor",
                             "keep_alive", "head", NULL};
    int status, version_minor = 1, keep_alive = 1, head = 0;
    const char *body, *extra = "";
    Py_ssize_t body_len, extra_len = 0;
    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iy#|y#ipp:_serialize_simple", kwlist, &status,
                                     &body, &body_len, &extra, &extra_len, &version_minor,
                                     &keep_alive, &head))
        return NULL;
    if (status < RESPONSE_CODE_MIN || status > RESPONSE_CODE_MAX) {
        PyErr_Format(PyExc_ValueError, "status must be between 100 and 599, not %d", status);
        return NULL;
    }
    jp_response_ctx ctx;
    if (response_ctx_from(&ctx, version_minor, keep_alive, head) < 0)
        return NULL;
    jp_date_cache date;
    memset(&date, 0, sizeof(date));
    jp_date_refresh(&date, time(NULL));

    jp_buffer out = JP_BUFFER_INIT;
    if (jp_response_write_simple(&out, status, extra, (size_t)extra_len, body, (size_t)body_len,
                                 &ctx, &date) < 0) {
        jp_buffer_free(&out);
        return PyErr_NoMemory();
    }
    return response_buffer_to_bytes(&out);
}

PyDoc_STRVAR(response_py_json_encode_doc,
             "_json_encode(obj, simd)\n--\n\n"
             "Test hook: the bytes json.c writes for obj with the string scanner of simd\n"
             "(\"scalar\" or \"avx2\", the latter only where the CPU has it), or None when it\n"
             "leaves obj to the general encoder.");

static PyObject *
response_py_json_encode(PyObject *module, PyObject *args)
{
    PyObject *obj;
    const char *simd;
    (void)module;
    if (!PyArg_ParseTuple(args, "Os:_json_encode", &obj, &simd))
        return NULL;
    jp_simd_level level;
    if (strcmp(simd, "scalar") == 0) {
        level = JP_SIMD_SCALAR;
    } else if (strcmp(simd, "avx2") == 0 && jp_simd_cpu_best() == JP_SIMD_AVX2) {
        level = JP_SIMD_AVX2;
    } else {
        PyErr_Format(PyExc_ValueError, "simd must be \"scalar\" or a level this CPU has, not %s",
                     simd);
        return NULL;
    }
    jp_buffer out = JP_BUFFER_INIT;
    int rc = jp_json_encode(obj, &out, level);
    if (rc == JP_JSON_FALLBACK) {
        jp_buffer_free(&out);
        Py_RETURN_NONE;
    }
    if (rc != JP_JSON_OK) {
        jp_buffer_free(&out);
        return NULL;
    }
    return response_buffer_to_bytes(&out);
}

static PyMethodDef response_functions[] = {
    {"_json_encode", response_py_json_encode, METH_VARARGS, response_py_json_encode_doc},
    {"_serialize", (PyCFunction)(void (*)(void))response_py_serialize, METH_VARARGS | METH_KEYWORDS,
     response_py_serialize_doc},
    {"_serialize_simple", (PyCFunction)(void (*)(void))response_py_serialize_simple,
     METH_VARARGS | METH_KEYWORDS, response_py_serialize_simple_doc},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------------------------------ */

/* The default JSON encoder: orjson.dumps when it is importable (bytes, UTF-8, several times
 * faster), else the bound encode method of one json.JSONEncoder(ensure_ascii=False,
 * separators=(",", ":")), which is exactly what json.dumps(obj, ensure_ascii=False,
 * separators=...) runs, minus building an encoder per call. Looked up once per module. */
static PyObject *
response_default_json_dumps(void)
{
    PyObject *mod = PyImport_ImportModule("orjson");
    if (mod != NULL) {
        PyObject *dumps = PyObject_GetAttrString(mod, "dumps");
        Py_DECREF(mod);
        return dumps;
    }
    if (!PyErr_ExceptionMatches(PyExc_ImportError))
        return NULL;
    PyErr_Clear();

    PyObject *json = NULL, *cls = NULL, *kwargs = NULL, *empty = NULL, *encoder = NULL;
    PyObject *result = NULL;
    json = PyImport_ImportModule("json");
    if (json == NULL)
        goto done;
    cls = PyObject_GetAttrString(json, "JSONEncoder");
    if (cls == NULL)
        goto done;
    kwargs = Py_BuildValue("{s:O,s:(ss)}", "ensure_ascii", Py_False, "separators", ",", ":");
    empty = PyTuple_New(0);
    if (kwargs == NULL || empty == NULL)
        goto done;
    encoder = PyObject_Call(cls, empty, kwargs);
    if (encoder == NULL)
        goto done;
    result = PyObject_GetAttrString(encoder, "encode");
done:
    Py_XDECREF(encoder);
    Py_XDECREF(empty);
    Py_XDECREF(kwargs);
    Py_XDECREF(cls);
    Py_XDECREF(json);
    return result;
}

int
jp_response_setup(PyObject *module, jp_state *st)
{
    st->response_free_cap = JP_RESPONSE_FREELIST_MAX;
    st->json_simd = (int)jp_simd_default(); /* chosen before any setup (module_exec) */
    st->response_text_kwnames = st->response_json_kwnames = Py_None;
    PyObject *type = PyType_FromModuleAndSpec(module, &response_spec, NULL);
    if (type == NULL)
        return -1;
    /* Heap types get no vectorcall from a spec before 3.14; calling the type then goes
     * through type_call, tp_new and object.__init__. Setting the slot directly is what
     * makes _core.Response(text=...) as cheap as request.Response(...). */
    ((PyTypeObject *)type)->tp_vectorcall = response_vectorcall;
    Py_XSETREF(st->response_type, (PyTypeObject *)type);
    if (PyModule_AddType(module, st->response_type) < 0)
        return -1;

    PyObject *dumps = response_default_json_dumps();
    if (dumps == NULL)
        return -1;
    Py_XSETREF(st->json_dumps, dumps);

    return PyModule_AddFunctions(module, response_functions);
}
