/*
 * request.h - the Request type (layer 1).
 *
 * A Request is made by the connection for each complete request and handed to the handler.
 * It is a view: its method, target and headers are spans into bytes it does not own while the
 * handler runs synchronously, and every Python object a handler can ask for (path, headers,
 * body, ...) is made on first access only.
 *
 * Ownership of the bytes: at creation the request is attached to its connection: it reads the
 * parser's head (and header array) and the read buffer in place, so that making it copies
 * nothing. The connection reuses both once the handler returns, so right after dispatch it
 * calls jp_request_finish(), which detaches the request (copies what it reads into memory it
 * owns) whenever anything besides the connection still holds it (an async handler's
 * coroutine, a handler that stored it). After that the request is independent of the
 * connection's buffers.
 */
#ifndef JP_REQUEST_H
#define JP_REQUEST_H

#include "buffer.h"
#include "http1.h"
#include "state.h"

#include <assert.h>

/* The names of the functions in japronto.request_helpers, by JP_RH_* index (state.h). */
extern const char *const jp_request_helper_names[JP_RH_COUNT];

/* Creates the Request type (not exported to users by name). */
int jp_request_setup(PyObject *module, jp_state *st);

/* A new Request of `type` (st->request_type, or a subclass of it with the same layout). conn
 * is the Protocol (a strong reference is kept: request.transport and request.app go through
 * it). base points at the first byte of the request; head is the connection parser's, read in
 * place (it and the bytes must stay unchanged until jp_request_finish). The body is the
 * head's: content_length bytes at base + head_len for JP_FRAMING_LENGTH; for
 * JP_FRAMING_CHUNKED the bytes of chunked_body, whose memory the request takes over (the
 * buffer is left empty); chunked_body is NULL otherwise. route is borrowed and must stay alive
 * until jp_request_finish (the request takes a reference only if it is detached); it may be
 * NULL. match_dict is stolen (may be NULL). Returns a new reference or NULL with an exception
 * set; on failure chunked_body still belongs to the caller. Cannot run Python code. */
PyObject *jp_request_new(jp_state *st, PyTypeObject *type, PyObject *conn, const char *base,
                         const jp_request_head *head, jp_buffer *chunked_body, PyObject *route,
                         PyObject *match_dict);

/* The layout of a Request. It is in this header only so that the two steps the connection
 * takes for every request, jp_request_reuse and jp_request_finish below, are inlined into its
 * dispatch (a call each would cost more than either step). Every field belongs to request.c,
 * which documents them (its invariants: attached and detached, dirty); nothing else reads or
 * writes one. */
#define JP_REQUEST_INLINE_HEADERS 8 /* a Request stays under pymalloc's 512-byte limit */

typedef struct jp_request {
    PyObject_HEAD
    jp_state *st;   /* kept here: the instance may be of the app's subclass (extensions) */
    PyObject *conn; /* the Protocol, strong */
    const char *base;
    const jp_request_head *hd; /* attached: the connection parser's; detached: &head */
    PyObject *route;           /* attached: borrowed; detached: strong (may be NULL) */
    PyObject *match_dict;
    int dirty;   /* 0: recycling has nothing to do (request.c's invariants) */
    char *owned; /* detached: the copy base points at, or NULL */
    jp_buffer chunked;
    jp_request_head head; /* detached: the copy of the head; headers is hdrs_inline or heap */
    jp_header hdrs_inline[JP_REQUEST_INLINE_HEADERS];
    /* Made on first access. */
    PyObject *method;
    PyObject *path;
    PyObject *query_string;
    PyObject *headers;
    PyObject *body;
    PyObject *extra;
    PyObject *done_callbacks; /* list, or NULL */
    PyObject *derived;        /* dict {request_helpers function: its result}, or NULL */
    PyObject *query;          /* request.query, the dict, or NULL */
} jp_request;

/* The slow halves of the two inline steps, and the check of what dirty == 0 promises (for
 * assertions). */
void jp_request_take(jp_request *request, jp_buffer *chunked_body, PyObject *match_dict);
int jp_request_finish_slow(jp_request *request, int run_callbacks);
int jp_request_is_clean(PyObject *request);

/* The end of a dispatch: the connection is done with the request (its response written or
 * queued). First, if run_callbacks, the done-callbacks run (and are cleared). Then:
 *   - anyone else holds the request: it is detached (see above) and 0 is returned, or -1
 *     with MemoryError (the request is then emptied: no bytes, no headers, never the
 *     connection's);
 *   - only the caller holds it: it is recycled (every attribute it made dropped, keeping its
 *     memory, connection and type) and 1 is returned; the caller may keep it as a spare for
 *     jp_request_reuse(). 0 if clearing ran Python code that took a new reference (it is then
 *     emptied as above).
 * May run Python code (callbacks, finalisers of what is dropped). A request that nothing made
 * anything for (no attribute, no callback, no match_dict or chunked body) costs one test. */
static inline int
jp_request_finish(PyObject *request, int run_callbacks)
{
    jp_request *self = (jp_request *)request;
    if (__builtin_expect(!self->dirty && Py_REFCNT(request) == 1, 1)) {
        assert(jp_request_is_clean(request));
        return 1;
    }
    return jp_request_finish_slow(self, run_callbacks);
}

/* Fills a spare (a request jp_request_finish returned 1 for) with the next request on the same
 * connection, as jp_request_new would, without allocating; head must be the same parser head
 * as before. A spare is clean and attached to that head already: only the bytes, the route and
 * a match_dict or chunked body differ. Cannot fail and runs no Python code. */
static inline void
jp_request_reuse(PyObject *request, const char *base, const jp_request_head *head,
                 jp_buffer *chunked_body, PyObject *route, PyObject *match_dict)
{
    jp_request *self = (jp_request *)request;
    assert(self->hd == head && jp_request_is_clean(request));
    (void)head;
    self->base = base;
    self->route = route;
    if (__builtin_expect(chunked_body != NULL || match_dict != NULL, 0))
        jp_request_take(self, chunked_body, match_dict);
}

/* Runs the done-callbacks registered with request.add_done_callback(), once, clearing them.
 * May run Python code; errors in callbacks are reported through sys.unraisablehook-style
 * logging and never propagate. */
void jp_request_run_done_callbacks(PyObject *request);

#endif /* JP_REQUEST_H */
