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
 *     again, so a body split anywhere decodes exactly as one that arrived whole.
 *   - The small parts (size lines, extensions, trailers, the CRLF after data) go through a
 *     byte-at-a-time state machine, each byte looked at once. Chunk data is never looked at: a
 *     call reports min(remaining, available) bytes as one span, in O(1).
 *   - A size is refused (413) as soon as its digits so far exceed what max_body_size still
 *     allows or would overflow 64 bits, so total never exceeds max_body_size and a size value
 *     never wraps.
 *   - A call reads at most min(len, UINT32_MAX) bytes, so every span fits jp_span's 32-bit
 *     fields and every return value fits ptrdiff_t.
 *   - After an error the state is CHUNKED_ERROR for good; after the final CRLF it is
 *     CHUNKED_DONE for good. Neither reads input again.
 */
#include "chunked.h"

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

static inline int
chunked_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* The value of a byte already known to be a HEXDIG: the low nibble is the digit for '0'-'9'
 * and one less than the letter's offset for 'A'-'F'/'a'-'f', whose bit 6 is set. */
static inline uint64_t
chunked_hex_value(unsigned char c)
{
    return (uint64_t)((c & 0x0Fu) + (c >> 6) * 9u);
}

/* How many more body bytes max_body_size allows. total never passes the limit, but the
 * comparison keeps a caller who lowers the limit mid-body from wrapping the subtraction. */
static inline uint64_t
chunked_room(const jp_chunked_decoder *d)
{
    uint64_t max = d->_limits->max_body_size;
    return max > d->total ? max - d->total : 0;
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

ptrdiff_t
jp_chunked_decode(jp_chunked_decoder *d, const char *buf, size_t len, jp_span *data)
{
    data->off = 0;
    data->len = 0;
    if (d->_state == CHUNKED_ERROR)
        return -1;
    /* Also keeps a NULL buffer of length 0 out of the pointer arithmetic below. */
    if (len == 0)
        return 0;
    if (len > CHUNKED_MAX_CALL_LEN)
        len = CHUNKED_MAX_CALL_LEN;

    const unsigned char *const start = (const unsigned char *)buf;
    const unsigned char *p = start;
    const unsigned char *const end = start + len;
    const jp_http1_limits *lim = d->_limits;
    uint32_t state = d->_state;

    while (p < end) {
        if (state == CHUNKED_DATA) {
            /* The one place that sees chunk data, and it never reads it: the span is the
             * whole rest of the chunk or of the input, whichever is shorter. */
            size_t avail = (size_t)(end - p);
            size_t n = d->_remaining < avail ? (size_t)d->_remaining : avail;
            data->off = (uint32_t)(p - start);
            data->len = (uint32_t)n;
            d->_remaining -= n;
            d->total += n;
            d->_state = d->_remaining == 0 ? CHUNKED_DATA_CR : CHUNKED_DATA;
            return (ptrdiff_t)(p + n - start);
        }
        if (state == CHUNKED_DONE)
            break;

        unsigned char c = *p++;

        /* Limits are checked on every byte, before the byte is judged, so an endless line is
         * refused the moment it passes its limit whatever it contains. */
        if (state <= CHUNKED_LAST_LINE_STATE) {
            if (++d->_line_len > lim->max_chunk_line)
                return chunked_fail(d, 400, "chunk size line too long");
        } else if (state >= CHUNKED_FIRST_TRAILER_STATE && state <= CHUNKED_LAST_TRAILER_STATE) {
            if (++d->_line_len > lim->max_head_size)
                return chunked_fail(d, 431, "trailer section too large");
        }

        switch (state) {
        case CHUNKED_SIZE_FIRST:
            if (!(jp_char_class[c] & JP_C_HEX)) {
                if (c == ';' || c == '\r')
                    return chunked_fail(d, 400, "missing chunk size");
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk size"));
            }
            d->_remaining = chunked_hex_value(c);
            if (d->_remaining > chunked_room(d))
                return chunked_fail(d, 413, "chunked body too large");
            state = CHUNKED_SIZE;
            break;

        case CHUNKED_SIZE:
            if (jp_char_class[c] & JP_C_HEX) {
                /* Refuse before shifting: a size with any of its top four bits set would
                 * lose them, and a size larger than what the body may still grow by can
                 * only get larger with more digits, so waiting for the end of the line
                 * would gain nothing. */
                uint64_t size = d->_remaining;
                if (size >> 60)
                    return chunked_fail(d, 413, "chunk size too large");
                size = (size << 4) | chunked_hex_value(c);
                if (size > chunked_room(d))
                    return chunked_fail(d, 413, "chunked body too large");
                d->_remaining = size;
            } else if (c == '\r') {
                state = CHUNKED_SIZE_LF;
            } else if (c == ';') {
                state = CHUNKED_EXT_NAME_FIRST;
            } else if (chunked_is_ws(c)) {
                state = CHUNKED_LINE_BWS;
            } else {
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk size"));
            }
            break;

        case CHUNKED_LINE_BWS:
            /* BWS is only allowed before ';' (and around '='): whitespace that runs into the
             * end of the line is not in the grammar, so "5 \r\n" is refused. */
            if (c == ';')
                state = CHUNKED_EXT_NAME_FIRST;
            else if (c == '\r')
                return chunked_fail(d, 400, "whitespace at end of chunk size line");
            else if (!chunked_is_ws(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            break;

        case CHUNKED_EXT_NAME_FIRST:
            if (jp_is_tchar(c))
                state = CHUNKED_EXT_NAME;
            else if (!chunked_is_ws(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            break;

        case CHUNKED_EXT_NAME:
            if (jp_is_tchar(c))
                break;
            if (c == '\r')
                state = CHUNKED_SIZE_LF;
            else if (c == ';')
                state = CHUNKED_EXT_NAME_FIRST;
            else if (c == '=')
                state = CHUNKED_EXT_VALUE_FIRST;
            else if (chunked_is_ws(c))
                state = CHUNKED_EXT_NAME_BWS;
            else
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            break;

        case CHUNKED_EXT_NAME_BWS:
            if (c == ';')
                state = CHUNKED_EXT_NAME_FIRST;
            else if (c == '=')
                state = CHUNKED_EXT_VALUE_FIRST;
            else if (c == '\r')
                return chunked_fail(d, 400, "whitespace at end of chunk size line");
            else if (!chunked_is_ws(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            break;

        case CHUNKED_EXT_VALUE_FIRST:
            if (jp_is_tchar(c))
                state = CHUNKED_EXT_TOKEN;
            else if (c == '"')
                state = CHUNKED_EXT_QUOTED;
            else if (!chunked_is_ws(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            break;

        case CHUNKED_EXT_TOKEN:
            if (jp_is_tchar(c))
                break;
            if (c == '\r')
                state = CHUNKED_SIZE_LF;
            else if (c == ';')
                state = CHUNKED_EXT_NAME_FIRST;
            else if (chunked_is_ws(c))
                state = CHUNKED_LINE_BWS;
            else
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            break;

        case CHUNKED_EXT_QUOTED:
            /* qdtext is a field character other than '"' and '\': HTAB, SP, VCHAR, obs-text.
             * Every other control byte, CR and LF included, is refused, so an unterminated
             * string runs into an error or the line limit, never past the line. */
            if (c == '"')
                state = CHUNKED_EXT_QUOTED_END;
            else if (c == '\\')
                state = CHUNKED_EXT_QUOTED_PAIR;
            else if (!jp_is_field_char(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid quoted string"));
            break;

        case CHUNKED_EXT_QUOTED_PAIR:
            if (!jp_is_field_char(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid quoted string"));
            state = CHUNKED_EXT_QUOTED;
            break;

        case CHUNKED_EXT_QUOTED_END:
            if (c == '\r')
                state = CHUNKED_SIZE_LF;
            else if (c == ';')
                state = CHUNKED_EXT_NAME_FIRST;
            else if (chunked_is_ws(c))
                state = CHUNKED_LINE_BWS;
            else
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid chunk extension"));
            break;

        case CHUNKED_SIZE_LF:
            if (c != '\n')
                return chunked_fail(d, 400, "bare CR in chunked body");
            /* The same counter measures the trailer section next, from zero. */
            d->_line_len = 0;
            state = d->_remaining != 0 ? CHUNKED_DATA : CHUNKED_TRAILER_LINE;
            break;

        case CHUNKED_DATA_CR:
            if (c != '\r')
                return chunked_fail(d, 400, "chunk data not followed by CRLF");
            state = CHUNKED_DATA_LF;
            break;

        case CHUNKED_DATA_LF:
            if (c != '\n')
                return chunked_fail(d, 400, "chunk data not followed by CRLF");
            state = CHUNKED_SIZE_FIRST;
            break;

        case CHUNKED_TRAILER_LINE:
            if (jp_is_tchar(c)) {
                state = CHUNKED_TRAILER_NAME;
            } else if (c == '\r') {
                state = CHUNKED_END_LF;
            } else if (chunked_is_ws(c)) {
                /* A line starting with whitespace is obs-fold after a field line, and
                 * whitespace before the first field line is refused by RFC 9112 2.2. */
                return chunked_fail(d, 400, "obsolete line folding in trailer");
            } else {
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid trailer field"));
            }
            break;

        case CHUNKED_TRAILER_NAME:
            if (c == ':')
                state = CHUNKED_TRAILER_VALUE;
            else if (!jp_is_tchar(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid trailer field"));
            break;

        case CHUNKED_TRAILER_VALUE:
            /* OWS field-value OWS is, byte by byte, any run of field characters. */
            if (c == '\r')
                state = CHUNKED_TRAILER_LF;
            else if (!jp_is_field_char(c))
                return chunked_fail(d, 400, chunked_line_reason(c, "invalid trailer field"));
            break;

        case CHUNKED_TRAILER_LF:
            if (c != '\n')
                return chunked_fail(d, 400, "bare CR in chunked body");
            state = CHUNKED_TRAILER_LINE;
            break;

        case CHUNKED_END_LF:
            if (c != '\n')
                return chunked_fail(d, 400, "bare CR in chunked body");
            /* Stop exactly here: the next byte belongs to the next message. */
            d->_state = CHUNKED_DONE;
            return (ptrdiff_t)(p - start);

        default:
            /* Unreachable: DATA and DONE are handled above, ERROR returned on entry. */
            return chunked_fail(d, 400, "invalid chunked decoder state");
        }
    }
    d->_state = state;
    return (ptrdiff_t)(p - start);
}
