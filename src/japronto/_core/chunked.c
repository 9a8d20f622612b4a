/*
 * chunked.c - the streaming decoder of the chunked transfer coding declared in chunked.h
 * (layer 0: pure C, no Python.h).
 *
 * It owns nothing but the decoder struct the caller gives it: the input is only read, never
 * kept, and every data span it reports points into the buffer of the call that reports it.
 *
 * Invariants:
 *   - Everything the decoder must remember between calls is in the struct: the state, the
 *     chunk size being read or the data left in the current chunk (_remaining), and the length
 *     of the current size line or trailer section (_line_len). No earlier byte is ever needed
 *     again, so a body split anywhere decodes exactly as one that arrived whole. In
 *     CHUNKED_SIZE_FIRST, _remaining and _line_len are both 0.
 *   - Two layers, one behaviour. jp_chunked_decode() takes the usual case itself: the rest of
 *     a chunk, or the CRLF after its data, a size line "<hex>\r\n" of at most 15 digits and
 *     the start of the next chunk's data, wholly in the buffer. It takes nothing until it has
 *     seen that all of it is valid, and at anything else it writes back the state it reached,
 *     always a state boundary, and hands over to chunked_run(), the whole state machine, which
 *     goes on exactly as if it had read those bytes itself.
 *   - The machine moves a run at a time: each state skips the bytes that keep it where it is
 *     in one tight loop (digits, whitespace, tchars, field characters), then judges the one
 *     byte that ends the run. Each byte is still looked at once and judged as a
 *     byte-at-a-time machine would judge it, so what is refused, with which status and reason,
 *     does not depend on where the runs or the input end. Chunk data is never looked at: a
 *     call reports min(remaining, available) bytes as one span, in O(1).
 *   - Limits cost nothing per byte. When a counted line starts (a size line, counted against
 *     max_chunk_line, or the trailer section, against max_head_size), and when a call starts
 *     inside one, `stop` is set to the first byte that would pass the limit or to the end of
 *     the input, whichever comes first, and no loop reads at or past stop. A state that reaches
 *     stop before the end of the input has met the byte that passes the limit: the line is
 *     refused there, whatever that byte is, as soon as it has arrived. The CRLF after chunk
 *     data is counted against nothing.
 *   - During a call the decoder's fields live in locals and are written back once, on the way
 *     out: the input is char data, which may alias the struct, so fields kept in the struct
 *     would be reloaded and stored around every byte. The line length is not counted either:
 *     it is `used` (the bytes before `mark`) plus the distance from mark, taken when needed.
 *   - A size is refused (413) as soon as its digits so far exceed what max_body_size still
 *     allows or would overflow 64 bits, so total never exceeds max_body_size and a size value
 *     never wraps.
 *   - A call reads at most min(len, UINT32_MAX) bytes, so every span fits jp_span's 32-bit
 *     fields and every return value fits ptrdiff_t.
 *   - After an error the state is CHUNKED_ERROR for good; after the final CRLF it is
 *     CHUNKED_DONE for good. Neither reads input again.
 */
#include "chunked.h"

#include <string.h>

#include "chars.h"

/* The states are ordered so that the bytes counted against a limit form ranges: the size
 * line states (counted against max_chunk_line) come first, then the CRLF after chunk data
 * (counted against nothing, it is two bytes), then the trailer section (max_head_size). */
enum chunked_state {
    /* chunk-size line: chunk-size [ chunk-ext ] CRLF */
    CHUNKED_SIZE_FIRST = 0,  /* the first HEXDIG */
    CHUNKED_SIZE,            /* more HEXDIG, or what may end the size */
    CHUNKED_LINE_BWS,        /* BWS after the size or an extension value: only ';' may follow */
    CHUNKED_EXT_NAME_FIRST,  /* after ';': BWS, then the first tchar of chunk-ext-name */
    CHUNKED_EXT_NAME,        /* inside chunk-ext-name */
    CHUNKED_EXT_NAME_BWS,    /* BWS after a name: '=' or ';' must follow */
    CHUNKED_EXT_VALUE_FIRST, /* after '=': BWS, then a token or a quoted-string */
    CHUNKED_EXT_TOKEN,       /* inside a token value */
    CHUNKED_EXT_QUOTED,      /* inside a quoted-string */
    CHUNKED_EXT_QUOTED_PAIR, /* after a backslash inside a quoted-string */
    CHUNKED_EXT_QUOTED_END,  /* after the closing quote */
    CHUNKED_SIZE_LF,         /* after the CR ending the size line */
    /* chunk-data CRLF */
    CHUNKED_DATA,
    CHUNKED_DATA_CR,
    CHUNKED_DATA_LF,
    /* trailer-section CRLF */
    CHUNKED_TRAILER_LINE,  /* start of a field line, or the CR of the final CRLF */
    CHUNKED_TRAILER_NAME,  /* inside a field name */
    CHUNKED_TRAILER_VALUE, /* after ':': OWS field-value OWS */
    CHUNKED_TRAILER_LF,    /* after the CR ending a field line */
    CHUNKED_END_LF,        /* after the CR of the final CRLF */
    /* terminal */
    CHUNKED_DONE,
    CHUNKED_ERROR,
};

#define CHUNKED_LAST_LINE_STATE CHUNKED_SIZE_LF
#define CHUNKED_FIRST_TRAILER_STATE CHUNKED_TRAILER_LINE
#define CHUNKED_LAST_TRAILER_STATE CHUNKED_END_LF

/* The largest input one call looks at: keeps offsets and lengths inside jp_span's uint32_t
 * and the return value inside ptrdiff_t on every platform. */
#define CHUNKED_MAX_CALL_LEN                                                                       \
    ((uint64_t)PTRDIFF_MAX < (uint64_t)UINT32_MAX ? (size_t)PTRDIFF_MAX : (size_t)UINT32_MAX)

/* The largest size that can take one more digit without losing a bit off the top. */
#define CHUNKED_SIZE_SHIFT_MAX ((UINT64_C(1) << 60) - 1)

/* Each HEXDIG's value plus one; zero for every other byte. Must agree with JP_C_HEX in
 * chars.c, which test_chunked.c checks byte by byte. One load both classifies and converts a
 * digit, and the table is this file's own, so reading it needs no GOT load under -fPIC. */
static const uint8_t chunked_hex_digit[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static inline int
chunked_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Whether p[0..2) is CRLF, in one 16-bit compare (memcpy keeps it free of alignment and
 * aliasing concerns and compiles to a single load). */
static inline int
chunked_is_crlf(const unsigned char *p)
{
    uint16_t two, crlf;
    memcpy(&two, p, 2);
    memcpy(&crlf, "\r\n", 2);
    return two == crlf;
}

/* How many more body bytes max_body_size allows. total never passes the limit, but the
 * comparison keeps a caller who lowers the limit mid-body from wrapping the subtraction. */
static inline uint64_t
chunked_room(const jp_chunked_decoder *d)
{
    uint64_t max = d->_limits->max_body_size;
    return max > d->total ? max - d->total : 0;
}

/* Whether the bytes of a state count against a limit (see the order of the states). */
static inline int
chunked_is_counted(uint32_t state)
{
    return state <= CHUNKED_LAST_LINE_STATE ||
           (state >= CHUNKED_FIRST_TRAILER_STATE && state <= CHUNKED_LAST_TRAILER_STATE);
}

/* Where a counted line must stop reading: the first byte past the limit of max bytes, of
 * which used came before p, or the end of the input if that comes first. A limit lowered
 * below used by the caller stops at p, so the next byte is refused as it would have been. */
static inline const unsigned char *
chunked_stop(const unsigned char *p, const unsigned char *end, uint32_t used, uint32_t max)
{
    size_t left = max > used ? (size_t)(max - used) : 0;
    return (size_t)(end - p) > left ? p + left : end;
}

/* Skips the bytes of p[0..stop) whose class has one of the bits of cls: returns the first one
 * that has none, or stop. Four at a time while four are there, which is most of a name, a
 * token or a field value; each byte is still judged on its own. */
static inline const unsigned char *
chunked_skip(const unsigned char *p, const unsigned char *stop, uint8_t cls)
{
    while (stop - p >= 4) {
        if (!(jp_char_class[p[0]] & cls))
            return p;
        if (!(jp_char_class[p[1]] & cls))
            return p + 1;
        if (!(jp_char_class[p[2]] & cls))
            return p + 2;
        if (!(jp_char_class[p[3]] & cls))
            return p + 3;
        p += 4;
    }
    while (p < stop && (jp_char_class[*p] & cls))
        p++;
    return p;
}

/* Records an error for good. Only the error path calls it, so it costs nothing per byte. */
static ptrdiff_t
chunked_fail(jp_chunked_decoder *d, uint16_t status, const char *reason)
{
    d->_state = CHUNKED_ERROR;
    d->error_status = status;
    d->error_reason = reason;
    return -1;
}

/* The 413 for a digit the size loop refused with its one combined test (size > most, most
 * being the smaller of room / 16 and CHUNKED_SIZE_SHIFT_MAX), sorted out as a byte-at-a-time
 * machine would have: if a digit earlier in this run already took the size past room, that
 * digit was refused for the body; otherwise this one is, for the size if its top four bits
 * would be lost, else for the body (size > room / 16, so size * 16 + digit > room). Without
 * digits before it in this call, a size past room can only mean the caller lowered the limit
 * since; the digit is then judged on its own, top bits first, as before. */
static ptrdiff_t
chunked_fail_size(jp_chunked_decoder *d, uint64_t size, uint64_t room, int digits_before)
{
    if (digits_before && size > room)
        return chunked_fail(d, 413, "chunked body too large");
    if (size >> 60)
        return chunked_fail(d, 413, "chunk size too large");
    return chunked_fail(d, 413, "chunked body too large");
}

/* The reason for a byte refused on a line. An LF there is always a line ending without its
 * CR, which says more than "invalid"; a CR in the wrong place is judged by the state. */
static const char *
chunked_line_reason(unsigned char c, const char *otherwise)
{
    return c == '\n' ? "bare LF in chunked body" : otherwise;
}

void
jp_chunked_init(jp_chunked_decoder *d, const jp_http1_limits *limits)
{
    d->error_status = 0;
    d->error_reason = NULL;
    d->total = 0;
    d->_limits = limits != NULL ? limits : &jp_http1_default_limits;
    d->_state = CHUNKED_SIZE_FIRST;
    d->_remaining = 0;
    d->_line_len = 0;
    d->_aux = 0;
}

int
jp_chunked_done(const jp_chunked_decoder *d)
{
    return d->_state == CHUNKED_DONE;
}

/* Reports the data span at p, the rest of the chunk or of the input, whichever is shorter,
 * and ends the call there. The one place that sees chunk data, and it never reads it. */
static inline ptrdiff_t
chunked_emit(jp_chunked_decoder *d, const unsigned char *start, const unsigned char *p,
             const unsigned char *end, jp_span *data, uint64_t size)
{
    size_t avail = (size_t)(end - p);
    size_t n = size < avail ? (size_t)size : avail;
    if (n != 0) {
        data->off = (uint32_t)(p - start);
        data->len = (uint32_t)n;
    }
    size -= n;
    d->total += n;
    d->_state = size != 0 ? CHUNKED_DATA : CHUNKED_DATA_CR;
    d->_remaining = size;
    d->_line_len = 0;
    return (ptrdiff_t)(p + n - start);
}

/* The whole state machine: decodes from p (in start[0..end), which the return counts from)
 * in whatever state the struct holds. jp_chunked_decode() hands it everything but the usual
 * lines; kept out of line so that the fast path there saves few registers. */
static __attribute__((noinline)) ptrdiff_t
chunked_run(jp_chunked_decoder *d, const unsigned char *start, const unsigned char *p,
            const unsigned char *end, jp_span *data)
{
    const jp_http1_limits *lim = d->_limits;
    uint32_t state = d->_state;
    uint64_t size = d->_remaining;
    /* The current line's length at p is used + (p - mark); stop is where it must end. */
    const unsigned char *mark = p;
    uint32_t used = d->_line_len;
    const unsigned char *stop = end;
    if (state <= CHUNKED_LAST_LINE_STATE)
        stop = chunked_stop(p, end, used, lim->max_chunk_line);
    else if (state >= CHUNKED_FIRST_TRAILER_STATE && state <= CHUNKED_LAST_TRAILER_STATE)
        stop = chunked_stop(p, end, used, lim->max_head_size);
    unsigned char c;

    /* Each case consumes a run and either returns or sets the next state and goes round;
     * a state that usually follows the one above it is placed after it and fallen into. A
     * case that meets stop goes to `stopped` with state naming where it stands. */
    for (;;) {
        switch (state) {
        case CHUNKED_DATA_CR:
            if (p == end)
                goto out;
            if (*p++ != '\r')
                return chunked_fail(d, 400, "chunk data not followed by CRLF");
            state = CHUNKED_DATA_LF;
            /* fall through */
        case CHUNKED_DATA_LF:
            if (p == end)
                goto out;
            if (*p++ != '\n')
                return chunked_fail(d, 400, "chunk data not followed by CRLF");
            /* The next size line is counted from here, from zero. */
            mark = p;
            used = 0;
            stop = chunked_stop(p, end, 0, lim->max_chunk_line);
            state = CHUNKED_SIZE_FIRST;
            /* fall through */
        case CHUNKED_SIZE_FIRST:
            if (p == stop)
                goto stopped;
            c = *p;
            if (chunked_hex_digit[c] == 0) {
                if (c == ';' || c == '\r')
                    return chunked_fail(d, 400, "missing chunk size");
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk size"));
            }
            size = 0;
            state = CHUNKED_SIZE;
            /* fall through */
        case CHUNKED_SIZE: {
            /* One test per digit: below most, a digit can neither lose the top bits nor take
             * the size past room / 16 * 16 + 15. The last step past room itself is caught once,
             * after the run, since the size only grows: any later digit fails the test. */
            const uint64_t room = chunked_room(d);
            const uint64_t most =
                room >> 4 < CHUNKED_SIZE_SHIFT_MAX ? room >> 4 : CHUNKED_SIZE_SHIFT_MAX;
            const unsigned char *const digits = p;
            unsigned v;
            while (p < stop && (v = chunked_hex_digit[*p]) != 0) {
                if (size > most)
                    return chunked_fail_size(d, size, room, p != digits);
                size = (size << 4) + v - 1;
                p++;
            }
            /* A size carried over from an earlier call was tested with its last digit. */
            if (size > room && p != digits)
                return chunked_fail(d, 413, "chunked body too large");
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c == '\r') {
                state = CHUNKED_SIZE_LF;
                continue;
            }
            if (c == ';') {
                state = CHUNKED_EXT_NAME_FIRST;
                continue;
            }
            if (chunked_is_ws(c)) {
                state = CHUNKED_LINE_BWS;
                continue;
            }
            return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk size"));
        }

        case CHUNKED_SIZE_LF:
            if (p == stop)
                goto stopped;
            if (*p++ != '\n')
                return chunked_fail(d, 400, "bare CR in chunked body");
            if (size == 0) {
                /* The last-chunk: the trailer section is counted from here, from zero. */
                mark = p;
                used = 0;
                stop = chunked_stop(p, end, 0, lim->max_head_size);
                state = CHUNKED_TRAILER_LINE;
                continue;
            }
            state = CHUNKED_DATA;
            /* fall through */
        case CHUNKED_DATA:
            return chunked_emit(d, start, p, end, data, size);

        case CHUNKED_LINE_BWS:
            /* BWS is only allowed before ';' (and around '='): whitespace that runs into the
             * end of the line is not in the grammar, so "5 \r\n" is refused. */
            p = chunked_skip(p, stop, JP_C_OWS);
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c == '\r')
                return chunked_fail(d, 400, "whitespace at end of chunk size line");
            if (c != ';')
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            state = CHUNKED_EXT_NAME_FIRST;
            /* fall through */
        case CHUNKED_EXT_NAME_FIRST:
            p = chunked_skip(p, stop, JP_C_OWS);
            if (p == stop)
                goto stopped;
            c = *p++;
            if (!jp_is_tchar(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            state = CHUNKED_EXT_NAME;
            /* fall through */
        case CHUNKED_EXT_NAME:
            p = chunked_skip(p, stop, JP_C_TCHAR);
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c == '=') {
                state = CHUNKED_EXT_VALUE_FIRST;
                continue;
            }
            if (c == '\r') {
                state = CHUNKED_SIZE_LF;
                continue;
            }
            if (c == ';') {
                state = CHUNKED_EXT_NAME_FIRST;
                continue;
            }
            if (chunked_is_ws(c)) {
                state = CHUNKED_EXT_NAME_BWS;
                continue;
            }
            return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));

        case CHUNKED_EXT_NAME_BWS:
            p = chunked_skip(p, stop, JP_C_OWS);
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c == ';') {
                state = CHUNKED_EXT_NAME_FIRST;
                continue;
            }
            if (c == '\r')
                return chunked_fail(d, 400, "whitespace at end of chunk size line");
            if (c != '=')
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            state = CHUNKED_EXT_VALUE_FIRST;
            /* fall through */
        case CHUNKED_EXT_VALUE_FIRST:
            p = chunked_skip(p, stop, JP_C_OWS);
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c == '"') {
                state = CHUNKED_EXT_QUOTED;
                continue;
            }
            if (!jp_is_tchar(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            state = CHUNKED_EXT_TOKEN;
            /* fall through */
        case CHUNKED_EXT_TOKEN:
            p = chunked_skip(p, stop, JP_C_TCHAR);
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c == '\r') {
                state = CHUNKED_SIZE_LF;
                continue;
            }
            if (c == ';') {
                state = CHUNKED_EXT_NAME_FIRST;
                continue;
            }
            if (chunked_is_ws(c)) {
                state = CHUNKED_LINE_BWS;
                continue;
            }
            return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));

        case CHUNKED_EXT_QUOTED:
            /* qdtext is a field character other than '"' and '\': HTAB, SP, VCHAR, obs-text.
             * Every other control byte, CR and LF included, is refused, so an unterminated
             * string runs into an error or the line limit, never past the line. */
            while (p < stop && jp_is_field_char(*p) && *p != '"' && *p != '\\')
                p++;
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c == '\\') {
                state = CHUNKED_EXT_QUOTED_PAIR;
                continue;
            }
            if (c != '"')
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid quoted string"));
            state = CHUNKED_EXT_QUOTED_END;
            /* fall through */
        case CHUNKED_EXT_QUOTED_END:
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c == '\r') {
                state = CHUNKED_SIZE_LF;
                continue;
            }
            if (c == ';') {
                state = CHUNKED_EXT_NAME_FIRST;
                continue;
            }
            if (chunked_is_ws(c)) {
                state = CHUNKED_LINE_BWS;
                continue;
            }
            return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));

        case CHUNKED_EXT_QUOTED_PAIR:
            if (p == stop)
                goto stopped;
            c = *p++;
            if (!jp_is_field_char(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid quoted string"));
            state = CHUNKED_EXT_QUOTED;
            continue;

        case CHUNKED_TRAILER_LINE:
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c == '\r') {
                state = CHUNKED_END_LF;
                continue;
            }
            if (!jp_is_tchar(c)) {
                /* A line starting with whitespace is obs-fold after a field line, and
                 * whitespace before the first field line is refused by RFC 9112 2.2. */
                if (chunked_is_ws(c))
                    return chunked_fail(d, 400, "obsolete line folding in trailer");
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid trailer field"));
            }
            state = CHUNKED_TRAILER_NAME;
            /* fall through */
        case CHUNKED_TRAILER_NAME:
            p = chunked_skip(p, stop, JP_C_TCHAR);
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c != ':')
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid trailer field"));
            state = CHUNKED_TRAILER_VALUE;
            /* fall through */
        case CHUNKED_TRAILER_VALUE:
            /* OWS field-value OWS is, byte by byte, any run of field characters. */
            p = chunked_skip(p, stop, JP_C_FIELD);
            if (p == stop)
                goto stopped;
            c = *p++;
            if (c != '\r')
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid trailer field"));
            state = CHUNKED_TRAILER_LF;
            /* fall through */
        case CHUNKED_TRAILER_LF:
            if (p == stop)
                goto stopped;
            if (*p++ != '\n')
                return chunked_fail(d, 400, "bare CR in chunked body");
            state = CHUNKED_TRAILER_LINE;
            continue;

        case CHUNKED_END_LF:
            if (p == stop)
                goto stopped;
            if (*p++ != '\n')
                return chunked_fail(d, 400, "bare CR in chunked body");
            /* Stop exactly here: the next byte belongs to the next message. */
            state = CHUNKED_DONE;
            goto out;

        case CHUNKED_DONE:
            goto out;

        case CHUNKED_ERROR:
            return -1;

        default:
            /* Unreachable: every state has its case. */
            return chunked_fail(d, 400, "invalid chunked decoder state");
        }
    }

stopped:
    /* p == stop inside a counted line: the input is used up, or the next byte passes the
     * limit and is refused whatever it is. */
    if (p != end) {
        if (state <= CHUNKED_LAST_LINE_STATE)
            return chunked_fail(d, 400, "chunk size line too long");
        return chunked_fail(d, 431, "trailer section too large");
    }
out:
    d->_state = state;
    d->_remaining = size;
    d->_line_len = chunked_is_counted(state) ? used + (uint32_t)(p - mark) : 0;
    return (ptrdiff_t)(p - start);
}

ptrdiff_t
jp_chunked_decode(jp_chunked_decoder *d, const char *buf, size_t len, jp_span *data)
{
    data->off = 0;
    data->len = 0;
    /* Also keeps a NULL buffer of length 0 out of the pointer arithmetic below. */
    if (len == 0)
        return d->_state == CHUNKED_ERROR ? -1 : 0;
    if (len > CHUNKED_MAX_CALL_LEN)
        len = CHUNKED_MAX_CALL_LEN;

    const unsigned char *const start = (const unsigned char *)buf;
    const unsigned char *const end = start + len;
    const unsigned char *p = start;
    uint32_t state = d->_state;

    /* The fast path: the rest of a chunk, or the CRLF after a chunk's data, the usual size
     * line "<hex>\r\n" and the start of the next chunk's data (or, after "0\r\n", the final
     * CRLF), all in this buffer. It takes nothing until it has seen that all it takes is
     * valid; at the first thing it does not handle (an extension, trailer fields, a split, an
     * error, a limit reached) it writes back the state it has reached, a state boundary, and
     * leaves the rest to chunked_run(), which goes on exactly as if it had read those bytes. */
    if (state == CHUNKED_DATA)
        return chunked_emit(d, start, p, end, data, d->_remaining);
    if (state == CHUNKED_DATA_CR) {
        if (len < 2 || !chunked_is_crlf(p))
            return chunked_run(d, start, p, end, data);
        p += 2;
        state = CHUNKED_SIZE_FIRST;
    }
    if (state == CHUNKED_SIZE_FIRST) {
        /* A size line starts from zero (_line_len and _remaining are 0 in this state), so
         * the line may take left bytes. At most 15 digits, before a CRLF that fits too: 15
         * digits read from zero cannot lose a bit, so they need no test each, and room is
         * tested once, after them, since the size only grows. */
        size_t left = (size_t)(end - p);
        if (left > d->_limits->max_chunk_line)
            left = d->_limits->max_chunk_line;
        if (left >= 3) {
            const unsigned char *const cap = p + (left - 2 < 15 ? left - 2 : 15);
            const unsigned char *q = p;
            uint64_t size = 0;
            unsigned v;
            while (q < cap && (v = chunked_hex_digit[*q]) != 0) {
                size = (size << 4) + v - 1;
                q++;
            }
            if (q != p && size <= chunked_room(d)) {
                if (chunked_is_crlf(q)) {
                    p = q + 2;
                    if (size != 0)
                        return chunked_emit(d, start, p, end, data, size);
                    /* The last-chunk, most often followed by the CRLF of an empty trailer
                     * section, which is two bytes of it. Anything else is the machine's,
                     * counting the trailer section from here, from 0. */
                    if (end - p >= 2 && chunked_is_crlf(p) && d->_limits->max_head_size >= 2) {
                        d->_state = CHUNKED_DONE;
                        return (ptrdiff_t)(p + 2 - start);
                    }
                    d->_state = CHUNKED_TRAILER_LINE;
                    return chunked_run(d, start, p, end, data);
                }
                /* Valid digits, then something else: the machine goes on from there. */
                d->_state = CHUNKED_SIZE;
                d->_remaining = size;
                d->_line_len = (uint32_t)(q - p);
                return chunked_run(d, start, q, end, data);
            }
        }
        d->_state = CHUNKED_SIZE_FIRST;
    }
    return chunked_run(d, start, p, end, data);
}
