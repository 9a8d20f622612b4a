/*
 * chunked.h - streaming decoder for the chunked transfer coding (layer 0: pure C, no Python.h).
 *
 * RFC 9112 section 7.1. The decoder is a state machine that moves a run of bytes at a time in
 * the small (chunk-size lines, extensions, trailers; with a fast path for the usual
 * "<hex>CRLF" line) and reports a copy-free span in the large (chunk data): it never
 * needs earlier bytes again, so the caller may discard everything a call consumed. It does not
 * copy or modify the input; each data span it reports is a slice of the buffer passed to
 * that call, which the caller copies or hands on before discarding it.
 *
 * Use:
 *
 *     jp_chunked_decoder d;
 *     jp_chunked_init(&d, NULL);
 *     while (have bytes) {
 *         jp_span data;
 *         ptrdiff_t n = jp_chunked_decode(&d, buf, len, &data);
 *         if (n < 0) { ... answer d.error_status, d.error_reason; close ... }
 *         if (data.len) { ... use buf[data.off .. data.off + data.len) ... }
 *         buf += n; len -= n;
 *         if (jp_chunked_done(&d)) break;   ... bytes after buf[n) are the next request
 *     }
 *
 * Strictness: chunk-size is 1*HEXDIG (no sign, no "0x", no whitespace) whose value must fit
 * in 64 bits and keep the decoded total within limits.max_body_size (else 413); chunk
 * extensions are  *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )  and are
 * ignored; every line ends in CRLF (bare LF or bare CR: 400); chunk data must be followed by
 * CRLF; trailer fields follow the field-line syntax of http1.h (token name, no space before
 * ':', no obs-fold, no CTL other than HTAB in the value) and are validated then discarded.
 * A chunk-size line (with extensions and CRLF) longer than limits.max_chunk_line, or a trailer
 * section longer than limits.max_head_size, is refused as soon as it passes the limit.
 */
#ifndef JP_CHUNKED_H
#define JP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#include "http1.h"

typedef struct jp_chunked_decoder {
    uint16_t error_status;    /* after an error: 400, 413 (body too large) or 431 (trailers) */
    const char *error_reason; /* after an error: short static text, no CR/LF */
    uint64_t total;           /* decoded body bytes reported so far */

    const jp_http1_limits *_limits;
    uint32_t _state;
    uint64_t _remaining; /* data bytes left in the current chunk, or the size being read */
    uint32_t _line_len;  /* bytes of the current size line or trailer section so far */
    uint32_t _aux;       /* state-specific */
} jp_chunked_decoder;

/* Prepares a decoder. limits may be NULL for jp_http1_default_limits; the pointer is kept. */
void jp_chunked_init(jp_chunked_decoder *d, const jp_http1_limits *limits);

/* Decodes from buf[0..len). Returns the number of bytes consumed (0..len), or -1 on error
 * with d->error_status and d->error_reason set (and every later call returns -1 too).
 *
 * *data is set on every successful return: a span relative to buf of decoded body bytes
 * found in this call, len 0 if none. A call stops right after one non-empty data span, when
 * the input is used up, or when the body is complete (jp_chunked_done() is then true and the
 * bytes from buf[return) on belong to the next message). So the caller loops until it has
 * consumed all input or the body is done. With len > 0 and the body not done, a call always
 * consumes at least one byte. */
ptrdiff_t jp_chunked_decode(jp_chunked_decoder *d, const char *buf, size_t len, jp_span *data);

/* True once the last-chunk, the trailer section and its final CRLF have been consumed. */
int jp_chunked_done(const jp_chunked_decoder *d);

#endif /* JP_CHUNKED_H */
