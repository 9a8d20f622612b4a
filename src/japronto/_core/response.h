/*
 * response.h - the Response type and HTTP/1.x response serialisation (layer 1).
 *
 * A Response is built by the handler (request.Response(...)) and validated completely at
 * construction: text is encoded, json serialised, headers checked for CR/LF/NUL, so that
 * serialising it later is pure C that cannot fail except for memory, and cannot run Python
 * code. Serialising appends to the connection's output buffer; nothing is written to the
 * socket here.
 *
 * What every serialised response carries: the status line (cached per status code),
 * Content-Type (unless no body is allowed), Content-Length (also for HEAD: the length the body
 * would have), the cached Date line, "Server: japronto", and a Connection header when the
 * framing needs one (HTTP/1.1 closing: "close"; HTTP/1.0: "keep-alive" when persisting, else
 * "close"). The status line says HTTP/1.1 whatever the client's version, as nginx does. No body
 * for HEAD, 1xx, 204 and 304 (and no Content-Length for 1xx, 204 and 304: for a 304 it would
 * describe a representation we do not have).
 */
#ifndef JP_RESPONSE_H
#define JP_RESPONSE_H

#include "buffer.h"
#include "state.h"

#include <stdint.h>

/* Creates the Response type, stores it in st->response_type and adds "Response" to module. */
int jp_response_setup(PyObject *module, jp_state *st);

/* request.Response(text=None, code=None, body=None, json=None, mime_type=None, encoding=None,
 * headers=None, cookies=None), keywords or positionally in that order, with the vectorcall
 * convention. Returns a new Response or NULL with TypeError/ValueError set. May run Python
 * code (json.dumps, str of header values, SimpleCookie output). */
PyObject *jp_response_new(jp_state *st, PyObject *const *args, size_t nargsf, PyObject *kwnames);

/* Sets Request.Response (st->request_type must exist): the method handlers call, a method
 * descriptor of this file's own whose call goes straight to jp_response_new. 0 or -1. */
int jp_response_add_method(PyObject *module, jp_state *st);

/* Frees the Responses kept for reuse, stops keeping more, and drops the other references
 * response.c keeps in st (module_clear calls it). */
void jp_response_state_clear(jp_state *st);

/* Visits those references: one to st->response_type for each Response kept for reuse, and
 * st->response_text_kwnames and response_json_kwnames (module_traverse calls it). */
int jp_response_state_traverse(jp_state *st, visitproc visit, void *arg);

/* Whether obj is a Response (exact type). Inline: the protocol asks twice per request. */
static inline int
jp_response_check(jp_state *st, PyObject *obj)
{
    return Py_IS_TYPE(obj, st->response_type);
}

typedef struct jp_response_ctx {
    uint8_t version_minor; /* of the request: 0 or 1 */
    uint8_t keep_alive;    /* the connection stays open after this response */
    uint8_t head;          /* the request was HEAD */
} jp_response_ctx;

/* Appends response to out. Returns 0, or -1 with MemoryError set (out unchanged then).
 * Cannot run Python code. ctx->keep_alive is the server's decision; if the response itself
 * carries "Connection: close", *closes is set to 1 and the caller closes after writing. */
int jp_response_serialize(PyObject *response, jp_buffer *out, const jp_response_ctx *ctx,
                          const jp_date_cache *date, int *closes);

/* Appends a plain-text response the server makes itself (400 for a malformed request, 404,
 * 405, 500, 503, ...): status line, "Content-Type: text/plain; charset=utf-8", Content-Length,
 * Date, Server, Connection as for ctx, then extra (already formatted header lines, each ending
 * in CRLF, e.g. "Allow: GET, POST\r\n"; may be NULL), then body (omitted for HEAD).
 * Returns 0 or -1 (out of memory; no exception is set, out unchanged). Cannot run Python. */
int jp_response_write_simple(jp_buffer *out, int status, const char *extra, size_t extra_len,
                             const char *body, size_t body_len, const jp_response_ctx *ctx,
                             const jp_date_cache *date);

/* Appends "HTTP/1.1 100 Continue\r\n\r\n". 0 or -1 (out of memory, out unchanged). */
int jp_response_write_continue(jp_buffer *out);

/* The standard reason phrase of a status code, or "" if there is none. */
const char *jp_status_reason(int status);

#endif /* JP_RESPONSE_H */
