/*
 * request.h - the Request type (layer 1).
 *
 * A Request is made by the connection for each complete request and handed to the handler.
 * It is a view: its method, target and headers are spans into bytes it does not own while the
 * handler runs synchronously, and every Python object a handler can ask for (path, headers,
 * body, ...) is made on first access only.
 *
 * Ownership of the bytes: at creation `base` points into the connection's read buffer, which
 * the connection reuses once the handler returns. So the connection calls jp_request_detach()
 * right after dispatch whenever anything besides itself still holds the request (an async
 * handler's coroutine, a handler that stored it): detach copies the request's bytes into
 * memory the request owns. After that the request is independent of the connection's buffers.
 */
#ifndef JP_REQUEST_H
#define JP_REQUEST_H

#include "buffer.h"
#include "http1.h"
#include "state.h"

/* The names of the functions in japronto.request_helpers, by JP_RH_* index (state.h). */
extern const char *const jp_request_helper_names[JP_RH_COUNT];

/* Creates the Request type (not exported to users by name). */
int jp_request_setup(PyObject *module, jp_state *st);

/* A new Request of `type` (st->request_type, or a subclass of it with the same layout). conn
 * is the Protocol (a strong reference is kept: request.transport and
 * request.app go through it). base points at the first byte of the request; head is copied,
 * headers included. The body is either body_len bytes at base + body_off (Content-Length) or,
 * when chunked_body is not NULL, the bytes of that buffer, whose memory the request takes over
 * (the buffer is left empty). route is borrowed and may be NULL; match_dict is stolen (may be
 * NULL). Returns a new reference or NULL with an exception set; on failure chunked_body still
 * belongs to the caller. Cannot run Python code. */
PyObject *jp_request_new(jp_state *st, PyTypeObject *type, PyObject *conn, const char *base,
                         const jp_request_head *head, size_t body_off, size_t body_len,
                         jp_buffer *chunked_body, PyObject *route, PyObject *match_dict);

/* Recycling. After dispatch the connection may hold the only reference to a request; then
 * jp_request_recycle() clears it (keeping its memory, connection and type) and returns 1, and
 * the connection keeps it as a spare that jp_request_reuse() fills with the next request, as
 * jp_request_new() would but without allocating. jp_request_recycle() returns 0 when someone
 * else holds a reference: untouched if they did before, emptied (no bytes of the connection's)
 * if clearing ran Python code that took one. May run Python code. jp_request_reuse() returns 0, or -1 with MemoryError: the spare is then
 * empty but valid, and the caller drops it. match_dict is stolen in both cases. */
int jp_request_recycle(PyObject *request);
int jp_request_reuse(PyObject *request, const char *base, const jp_request_head *head,
                     size_t body_off, size_t body_len, jp_buffer *chunked_body, PyObject *route,
                     PyObject *match_dict);

/* Copies the request's bytes out of the connection's buffer if it still points there.
 * Idempotent. 0, or -1 with MemoryError. Cannot run Python code. */
int jp_request_detach(PyObject *request);

/* Facts about the request the connection needs when it writes the response. */
int jp_request_is_head(PyObject *request);
int jp_request_version_minor(PyObject *request);

/* Runs the done-callbacks registered with request.add_done_callback(), once, clearing them.
 * May run Python code; errors in callbacks are reported through sys.unraisablehook-style
 * logging and never propagate. */
void jp_request_run_done_callbacks(PyObject *request);

#endif /* JP_REQUEST_H */
