/*
 * protocol.c - the connection: an asyncio buffered protocol in C, with ordered pipelining
 * (layer 1).
 *
 * The request path. The loop asks get_buffer() for memory and reads the socket straight into
 * this connection's read buffer (a ReadBuffer object, so no bytes object is made per read);
 * buffer_updated() then parses every complete request in the new bytes, dispatches each to its
 * handler, and sends everything that became ready in one transport.write().
 *
 * Ownership.
 *   - The Protocol owns its ReadBuffer (rb), the output buffer (out), the pipeline queue and
 *     every reference in it. Requests hold a strong reference to the Protocol, never the other
 *     way round except through queue entries, which are cleared when they leave the queue.
 *   - A Request points into rb only while its handler runs synchronously. Right after
 *     dispatch, a Request that anyone else still holds is detached (its bytes copied), so rb
 *     may be compacted or grown before the next read. rb is never resized while the loop holds
 *     a buffer export (rb->exports > 0).
 *   - Bound methods looked up once: transport.write (write), self._task_done (task_done; a
 *     reference cycle through self that connection_lost breaks and the GC also sees).
 *
 * Order. Responses leave strictly in request order. While the queue is empty a synchronous
 * handler's response is serialised straight into `out`. Once a request waits for an async
 * handler, every later response (and any server-made error) is serialised into its own queue
 * entry and moved to `out` when everything before it is done. The queue holds at most
 * max_depth entries; when it is full, or the transport asked us to stop writing, the
 * connection stops reading and parsing until it drains, so a client that never reads cannot
 * make us buffer without bound.
 *
 * Re-entrancy. Calling a handler, the error handler, loop.create_task, task.add_done_callback,
 * transport.write/pause_reading/resume_reading/close can all run Python code, which may close
 * the transport or call back into this object (pause_writing from inside write). After each of
 * them the code re-checks `closed` and re-reads any pointer into rb. protocol_process() is not
 * re-entered: `processing` guards it.
 */
#include "protocol.h"

#include "buffer.h"
#include "chunked.h"
#include "http1.h"
#include "live.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "url.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* ReadBuffer: the memory the loop reads into. */

typedef struct readbuf {
    PyObject_HEAD
    jp_state *st;      /* for st->read_pool */
    char *data;        /* NULL while the connection is idle (the block is back in the pool) */
    size_t cap;
    size_t len;        /* bytes received */
    size_t pos;        /* bytes consumed by complete requests; [pos, len) is pending */
    Py_ssize_t exports;
    int release_pending; /* give the block back when the last export ends (see below) */
} readbuf;

#define READBUF_INITIAL 16384u
#define READBUF_MIN_FREE 4096u
#define READBUF_IDLE_KEEP 65536u
/* While the queue is full the connection keeps reading, so that a client that resets or
 * closes is noticed (and its handlers cancelled), but stops once this many bytes wait
 * unparsed: the bound on what a flooding client can make us hold. */
#define READBUF_PAUSE_PENDING 65536u
/* The output buffer's pooled block: a batch of small responses fits. */
#define PROTOCOL_OUT_BLOCK 16384u
/* The route memo (see struct protocol) keeps paths up to this long. */
#define PROTOCOL_MEMO_PATH 32u
/* memo_path_len of an empty memo: no path is this long (the request line is shorter than
 * 2**32 - 1 bytes, and holds more than the path). */
#define PROTOCOL_MEMO_EMPTY UINT32_MAX
/* ctx_key when no context is kept: its version byte is no version's. */
#define PROTOCOL_CTX_NONE 0xFFFFFFFFu
/* The header array a connection starts with (jp_header entries, 20 bytes each: 640 bytes
 * instead of max_headers' 2,000 by default). Most requests carry 5 to 20 field lines; a
 * browser's navigation about 17 (Host, Connection, User-Agent, Accept*, the sec-ch-ua and
 * Sec-Fetch-* families, Cookie, a conditional or two), and a CDN or proxies in front add
 * up to about ten (X-Forwarded-*, X-Real-IP, a request id, a trace id, the CDN's own), so
 * 32 takes every ordinary request with room to spare, and the growth (protocol_grow_headers)
 * stays the rare path it is written as. */
#define PROTOCOL_HEADERS_INITIAL 32u

/* The block pools (see jp_block_pool in state.h). A block goes back only if it has the pool's
 * size; a grown one is freed. */
static inline void *
protocol_pool_take(jp_block_pool *pool)
{
    return pool->n > 0 ? pool->blocks[--pool->n] : NULL;
}

static inline int
protocol_pool_give(jp_block_pool *pool, void *block)
{
    if (pool->closed || pool->n == JP_BLOCK_POOL_MAX)
        return 0;
    pool->blocks[pool->n++] = block;
    return 1;
}

void
jp_protocol_pools_clear(jp_state *st)
{
    st->read_pool.closed = st->out_pool.closed = 1;
    while (st->read_pool.n > 0)
        PyMem_Free(st->read_pool.blocks[--st->read_pool.n]);
    while (st->out_pool.n > 0)
        free(st->out_pool.blocks[--st->out_pool.n]);
}

/* Gives the read block back (to the pool, or to the allocator) and leaves the buffer empty.
 * Only when nothing points into it: no export, no pending byte (requests that outlive their
 * dispatch are detached, so none does after it). */
static void
readbuf_drop_block(readbuf *rb)
{
    rb->release_pending = 0;
    if (rb->data != NULL &&
        !(rb->cap == READBUF_INITIAL && protocol_pool_give(&rb->st->read_pool, rb->data)))
        PyMem_Free(rb->data);
    rb->data = NULL;
    rb->cap = rb->len = rb->pos = 0;
}

/* An idle connection holds no read block. The loop may still hold its export of the buffer
 * when the last byte is processed (uvloop releases it after buffer_updated returns), so the
 * block is then given back at the release, which touches nothing in it. */
static void
readbuf_release_if_idle(readbuf *rb)
{
    if (rb->data == NULL || rb->pos != rb->len)
        return;
    if (rb->exports == 0)
        readbuf_drop_block(rb);
    else
        rb->release_pending = 1;
}

static int
readbuf_getbuffer(PyObject *op, Py_buffer *view, int flags)
{
    readbuf *rb = (readbuf *)op;
    if (rb->data == NULL || rb->cap == rb->len) {
        PyErr_SetString(PyExc_BufferError, "japronto read buffer has no free space");
        return -1;
    }
    if (PyBuffer_FillInfo(view, op, rb->data + rb->len, (Py_ssize_t)(rb->cap - rb->len), 0,
                          flags) < 0)
        return -1;
    rb->exports++;
    return 0;
}

static void
readbuf_releasebuffer(PyObject *op, Py_buffer *view)
{
    (void)view;
    readbuf *rb = (readbuf *)op;
    /* Checked again: nothing may have arrived since, but a block with pending bytes stays. */
    if (--rb->exports == 0 && rb->release_pending) {
        rb->release_pending = 0;
        readbuf_release_if_idle(rb);
    }
}

static Py_ssize_t
readbuf_length(PyObject *op)
{
    readbuf *rb = (readbuf *)op;
    return (Py_ssize_t)(rb->cap - rb->len);
}

static void
readbuf_dealloc(PyObject *op)
{
    readbuf *rb = (readbuf *)op;
    PyTypeObject *tp = Py_TYPE(op);
    if (rb->st != NULL)
        readbuf_drop_block(rb);
    else
        PyMem_Free(rb->data);
    JP_LIVE_DEC(JP_LIVE_READBUF);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* Makes at least `need` free bytes after len, first dropping consumed bytes. Only called when
 * no request points into the buffer and the loop holds no export. 0 or -1 (MemoryError). */
static int
readbuf_make_room(readbuf *rb, size_t need)
{
    rb->release_pending = 0;
    if (rb->data == NULL && need <= READBUF_INITIAL) {
        char *block = protocol_pool_take(&rb->st->read_pool);
        if (block != NULL) {
            rb->data = block;
            rb->cap = READBUF_INITIAL;
            rb->len = rb->pos = 0;
            return 0;
        }
    }
    if (rb->pos > 0) {
        size_t pending = rb->len - rb->pos;
        if (pending)
            memmove(rb->data, rb->data + rb->pos, pending);
        rb->len = pending;
        rb->pos = 0;
    }
    if (rb->len == 0 && rb->cap > READBUF_IDLE_KEEP && need <= READBUF_IDLE_KEEP) {
        /* One large request must not pin its memory on an idle keep-alive connection. */
        char *small = PyMem_Realloc(rb->data, READBUF_INITIAL);
        if (small != NULL) {
            rb->data = small;
            rb->cap = READBUF_INITIAL;
        }
    }
    if (rb->cap - rb->len >= need && rb->data != NULL)
        return 0;
    size_t cap = rb->cap ? rb->cap : READBUF_INITIAL;
    while (cap - rb->len < need) {
        if (cap > SIZE_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *data = PyMem_Realloc(rb->data, cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    rb->data = data;
    rb->cap = cap;
    return 0;
}

static PyType_Slot readbuf_slots[] = {
    {Py_tp_dealloc, readbuf_dealloc},
    {Py_bf_getbuffer, readbuf_getbuffer},
    {Py_bf_releasebuffer, readbuf_releasebuffer},
    {Py_mp_length, readbuf_length},
    {Py_tp_doc, "The memory a japronto connection reads into (internal)."},
    {0, NULL},
};

static PyType_Spec readbuf_spec = {
    .name = "japronto._core.ReadBuffer",
    .basicsize = sizeof(readbuf),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = readbuf_slots,
};

/* ------------------------------------------------------------------------------------------ */
/* The connection. */

enum read_state {
    R_HEAD = 0,     /* parsing a request head */
    R_BODY_LENGTH,  /* waiting for a Content-Length body */
    R_BODY_CHUNKED, /* decoding a chunked body */
    R_DONE,         /* no further request is read: closing after the last response */
};

typedef struct entry {
    PyObject *request; /* strong; NULL for an interim response (100 Continue) */
    PyObject *task;    /* strong while the async handler runs; NULL when ready */
    jp_buffer data;    /* the serialised response once ready */
    jp_response_ctx ctx;
    uint8_t ready;
} entry;

typedef struct protocol {
    PyObject_HEAD
    jp_state *st;

    /* Configuration from the server object, fixed for the connection's life. */
    PyObject *server;
    PyObject *matcher;
    PyObject *loop;
    PyObject *app;
    PyTypeObject *request_type; /* server.request_class: Request or the app's subclass */
    PyObject *error_handler; /* server.handle_error(request, exc) -> Response */
    PyObject *not_found;     /* server.not_found(request) -> Response */
    PyObject *connections;   /* server.connections: a set of live protocols */
    jp_http1_limits limits;
    uint32_t max_depth;

    PyObject *transport;
    PyObject *write;     /* transport.write */
    PyObject *task_done; /* self._task_done */
    PyObject *peer;      /* cached remote address, or NULL before first use */
    PyObject *spare;     /* a recycled Request (see request.h), or NULL; while a dispatch runs,
                          * the request it handles (see protocol_dispatch) */

    /* The route memo: the last decision the matcher called cacheable (jp_match), for a path of
     * at most PROTOCOL_MEMO_PATH bytes and a known method (its id then names its bytes), made
     * while ctx_key (below) held that method's id. Any change of ctx_key empties the memo, so
     * a request that reaches the memo with the kept context has the memo's method, and a hit
     * is a length and a short compare of the path, instead of the matcher's escape scan, hash,
     * probe and method check. Keep-alive clients and pipelines ask for the same few paths
     * again and again. route and handler are strong, so the memo is valid whatever happens to
     * the matcher's tables; they change only in dispatch, before the handler is called.
     * memo_path_len PROTOCOL_MEMO_EMPTY: nothing remembered. */
    uint32_t memo_path_len;
    char memo_path[PROTOCOL_MEMO_PATH];
    PyObject *memo_route;
    PyObject *memo_handler;

    /* The response context of the request being dispatched. Every request of a connection
     * usually has the same, so it is made again only when the head bytes it depends on change:
     * ctx_key is those bytes (protocol_ctx_key) of the last request it was made for, and is
     * kept only for a keep-alive request without an unknown expectation, which needs nothing
     * else done (PROTOCOL_CTX_NONE otherwise). */
    uint32_t ctx_key;
    jp_response_ctx ctx;

    /* Reading. */
    readbuf *rb;
    jp_http1_parser parser;
    /* The parser's header array, headers_cap entries (PROTOCOL_HEADERS_INITIAL, or
     * max_headers if lower, at first). It grows when a head has more field lines than it
     * holds (protocol_grow_headers) and then stays grown for the connection's life. The
     * parser's head keeps the same pointer (parser.head.headers); see
     * protocol_grow_headers for who else reads the array and why a move is safe. */
    jp_header *headers;
    uint32_t headers_cap;
    int rstate;
    size_t head_len;    /* R_BODY_*: bytes of the head of the request at rb->pos */
    size_t body_need;   /* R_BODY_LENGTH */
    size_t chunk_pos;   /* R_BODY_CHUNKED: offset from rb->pos where decoding resumes */
    jp_chunked_decoder chunked;
    jp_buffer body;     /* R_BODY_CHUNKED: the decoded body so far */
    int sent_continue;

    /* Writing. */
    jp_buffer out;
    entry *q; /* ring of qcap entries, qlen used from qhead */
    uint32_t qhead;
    uint32_t qlen;
    uint32_t qcap;

    unsigned closed : 1;         /* connection_lost ran, or never connected */
    unsigned eof : 1;            /* the peer half-closed */
    unsigned close_after : 1;    /* close once everything queued is written */
    unsigned closing : 1;        /* transport.close() called */
    unsigned reading_paused : 1;
    unsigned writing_paused : 1;
    unsigned processing : 1;
    unsigned direct_blocked : 1; /* direct I/O: the transport holds unsent bytes */

    /* Direct I/O (japronto/_direct.py): the socket this connection reads and writes itself,
     * or -1 on an ordinary asyncio transport. See protocol_read_ready. */
    int fd;

    /* For the reaper (reaper.py), which reads them once per sweep: monotonic seconds (the
     * clock of Python's time.monotonic) of the last read or finished async handler, and of
     * the read that began the request now being read. Taken once per read, never per
     * request. */
    double last_activity;
    double request_started;
} protocol;

#define PROTOCOL(op) ((protocol *)(op))

/* A cheap monotonic clock (vDSO, no system call on Linux); a few ms of resolution is plenty
 * for timeouts counted in seconds. */
static double
protocol_now(void)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

PyObject *
jp_protocol_transport(PyObject *conn)
{
    PyObject *t = PROTOCOL(conn)->transport;
    return t ? t : Py_None;
}

PyObject *
jp_protocol_app(PyObject *conn)
{
    return PROTOCOL(conn)->app;
}

PyObject *
jp_protocol_remote_addr(PyObject *conn)
{
    protocol *self = PROTOCOL(conn);
    if (self->peer != NULL)
        return Py_NewRef(self->peer);
    if (self->transport == NULL)
        Py_RETURN_NONE;
    PyObject *name = PyObject_CallMethod(self->transport, "get_extra_info", "s", "peername");
    if (name == NULL)
        return NULL;
    PyObject *peer;
    if (PyTuple_Check(name) && PyTuple_GET_SIZE(name) >= 1)
        peer = Py_NewRef(PyTuple_GET_ITEM(name, 0));
    else
        peer = Py_NewRef(name); /* a Unix socket path, or None */
    Py_DECREF(name);
    self->peer = Py_NewRef(peer);
    return peer;
}

/* ---- the queue ---- */

static inline entry *
protocol_entry(protocol *self, uint32_t i)
{
    return &self->q[(self->qhead + i) % self->qcap];
}

static void
protocol_entry_clear(entry *e)
{
    Py_CLEAR(e->request);
    Py_CLEAR(e->task);
    jp_buffer_free(&e->data);
    e->ready = 0;
}

/* Appends an entry; the queue always has room because reading stops at max_depth, and a
 * single read can add at most one entry beyond it (see protocol_process). */
static entry *
protocol_push(protocol *self)
{
    if (self->qlen == self->qcap) {
        uint32_t cap = self->qcap ? self->qcap * 2 : 8;
        entry *q = PyMem_Calloc(cap, sizeof(entry));
        if (q == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        for (uint32_t i = 0; i < self->qlen; i++)
            q[i] = *protocol_entry(self, i);
        PyMem_Free(self->q);
        self->q = q;
        self->qcap = cap;
        self->qhead = 0;
    }
    entry *e = protocol_entry(self, self->qlen);
    memset(e, 0, sizeof(*e));
    self->qlen++;
    return e;
}

/* ---- reading control ---- */

static void
protocol_call_transport(protocol *self, PyObject *name)
{
    if (self->transport == NULL)
        return;
    PyObject *r = PyObject_CallMethodNoArgs(self->transport, name);
    if (r == NULL)
        PyErr_WriteUnraisable(self->transport);
    Py_XDECREF(r);
}

static void
protocol_pause_reading(protocol *self)
{
    if (self->reading_paused || self->closed)
        return;
    self->reading_paused = 1;
    protocol_call_transport(self, self->st->str_pause_reading);
}

static int protocol_process(protocol *self);
static int protocol_flush(protocol *self);
static void protocol_drop(protocol *self);

/* Reading resumes only when nothing holds it back: no full queue, a transport that accepts
 * writes, and more requests to come. Bytes already buffered are parsed first. */
static void
protocol_maybe_resume(protocol *self)
{
    if (self->closed || self->writing_paused || self->qlen >= self->max_depth)
        return;
    if (protocol_process(self) < 0) {
        PyErr_WriteUnraisable((PyObject *)self);
        return;
    }
    if (protocol_flush(self) < 0) {
        PyErr_WriteUnraisable((PyObject *)self);
        return;
    }
    if (self->closed || !self->reading_paused || self->rstate == R_DONE ||
        self->writing_paused || self->qlen >= self->max_depth)
        return;
    self->reading_paused = 0;
    protocol_call_transport(self, self->st->str_resume_reading);
}

/* ---- writing ---- */

/* Sends `out` with one transport.write and closes when the last response is out. May run
 * Python code (the transport calls pause_writing from inside write). 0 or -1. */
static int
protocol_flush(protocol *self)
{
    while (self->qlen > 0) {
        entry *e = protocol_entry(self, 0);
        if (!e->ready)
            break;
        if (jp_buffer_append(&self->out, e->data.data, e->data.len) < 0) {
            PyErr_NoMemory();
            return -1;
        }
        PyObject *request = e->request;
        e->request = NULL;
        protocol_entry_clear(e);
        self->qhead = (self->qhead + 1) % self->qcap;
        self->qlen--;
        if (request != NULL) {
            jp_request_run_done_callbacks(request);
            Py_DECREF(request);
            if (self->closed)
                return 0;
        }
    }
    size_t sent = 0;
    if (self->out.len > 0 && self->fd >= 0 && !self->direct_blocked && !self->closing) {
        /* Direct I/O with nothing queued before it: straight from the buffer to the socket,
         * and only what the kernel does not take goes to the transport (which queues it,
         * waits for the socket to be writable and applies back-pressure). */
        ssize_t n = send(self->fd, self->out.data, self->out.len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                /* The peer is gone (EPIPE, ECONNRESET): nothing more can be delivered. */
                self->out.len = 0;
                self->closing = 1;
                protocol_call_transport(self, self->st->str_abort);
                return 0;
            }
            n = 0;
        }
        sent = (size_t)n;
        if (sent == self->out.len)
            self->out.len = 0;
    }
    if (self->out.len > sent && self->write != NULL) {
        /* What direct I/O could not send, or the whole batch on an asyncio transport. */
        PyObject *bytes =
            PyBytes_FromStringAndSize(self->out.data + sent, (Py_ssize_t)(self->out.len - sent));
        if (bytes == NULL)
            return -1;
        self->out.len = 0;
        jp_buffer_trim(&self->out, READBUF_IDLE_KEEP);
        PyObject *r = PyObject_CallOneArg(self->write, bytes);
        Py_DECREF(bytes);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
    }
    if (self->close_after && self->qlen == 0 && !self->closing && self->transport != NULL) {
        self->closing = 1;
        protocol_call_transport(self, self->st->str_close);
    }
    return 0;
}

/* Ends reading: the response being produced is the last on this connection, and the
 * connection closes once everything queued before it (and it) has been written. Because no
 * request is read after it, a closing response is always the last in the queue. */
static void
protocol_finish_after(protocol *self)
{
    self->rstate = R_DONE;
    self->close_after = 1;
}

/* Puts a rendered response in its place: straight into `out` when nothing waits before it,
 * otherwise into a new ready queue entry, which takes over rendered's memory. On memory
 * exhaustion the connection is closed after what is already queued. Runs no Python code. */
static void
protocol_place(protocol *self, PyObject *request, jp_buffer *rendered)
{
    if (self->qlen == 0) {
        if (jp_buffer_append(&self->out, rendered->data, rendered->len) < 0)
            protocol_finish_after(self);
        jp_buffer_free(rendered);
        return;
    }
    entry *e = protocol_push(self);
    if (e == NULL) {
        PyErr_Clear();
        jp_buffer_free(rendered);
        protocol_finish_after(self);
        return;
    }
    e->request = Py_XNewRef(request);
    e->data = *rendered;
    e->ready = 1;
    *rendered = (jp_buffer)JP_BUFFER_INIT;
}

/* A response the server makes itself (errors). Runs no Python code. */
static void
protocol_write_simple(protocol *self, PyObject *request, int status, const char *extra,
                      size_t extra_len, const char *body, size_t body_len,
                      const jp_response_ctx *ctx)
{
    jp_buffer rendered = JP_BUFFER_INIT;
    if (!ctx->keep_alive)
        protocol_finish_after(self);
    if (jp_response_write_simple(&rendered, status, extra, extra_len, body, body_len, ctx,
                                 &self->st->date) < 0) {
        jp_buffer_free(&rendered);
        protocol_finish_after(self);
        return;
    }
    protocol_place(self, request, &rendered);
}

/* Ends reading after a malformed request: answers status with the parser's reason, closes. */
static void
protocol_reject(protocol *self, int status, const char *reason)
{
    jp_response_ctx ctx = {1, 0, 0};
    char body[160];
    size_t n = strlen(reason);
    if (n > sizeof(body) - 2)
        n = sizeof(body) - 2;
    memcpy(body, reason, n);
    body[n++] = '\n';
    protocol_write_simple(self, NULL, status, NULL, 0, body, n, &ctx);
}

static PyObject *
protocol_fetch_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) {
        value = Py_None;
        Py_INCREF(value);
    } else if (tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* Renders what a handler produced into dst and returns 1 if the connection must close after
 * it. result is a new reference (consumed) or NULL with an exception set: then, as for a
 * result that is not a Response, the application's error handler makes the response, and if
 * that fails too a plain 500 is rendered. May run Python code (the error handler). */
static int
protocol_render(protocol *self, PyObject *request, PyObject *result, const jp_response_ctx *ctx,
                jp_buffer *dst)
{
    jp_state *st = self->st;
    if (result != NULL && !jp_response_check(st, result)) {
        PyErr_Format(PyExc_TypeError,
                     "a handler must return a Response (request.Response(...)), not %.100s",
                     Py_TYPE(result)->tp_name);
        Py_CLEAR(result);
    }
    if (result == NULL) {
        PyObject *exc = protocol_fetch_exception();
        PyObject *args[2] = {request, exc};
        result = PyObject_Vectorcall(self->error_handler, args, 2, NULL);
        Py_DECREF(exc);
        if (result == NULL || !jp_response_check(st, result)) {
            if (result == NULL)
                PyErr_WriteUnraisable(self->error_handler);
            Py_XDECREF(result);
            static const char body[] = "Internal Server Error\n";
            if (jp_response_write_simple(dst, 500, NULL, 0, body, sizeof(body) - 1, ctx,
                                         &st->date) < 0)
                return 1;
            return !ctx->keep_alive;
        }
    }
    int closes = 0;
    if (jp_response_serialize(result, dst, ctx, &st->date, &closes) < 0) {
        PyErr_Clear();
        closes = 1;
    }
    Py_DECREF(result);
    return closes || !ctx->keep_alive;
}

/* Answers a synchronous handler's result (consumed, or NULL with an exception set) through a
 * buffer of its own, placed in `out` or in the queue. protocol_dispatch serialises the common
 * case (a Response, nothing waiting before it) straight into `out` instead. */
static void
protocol_answer(protocol *self, PyObject *request, PyObject *result, const jp_response_ctx *ctx)
{
    jp_buffer rendered = JP_BUFFER_INIT;
    if (protocol_render(self, request, result, ctx, &rendered))
        protocol_finish_after(self);
    if (self->closed) {
        jp_buffer_free(&rendered);
        return;
    }
    protocol_place(self, request, &rendered);
}

/* ---- dispatch ---- */

static int
protocol_is_awaitable(PyObject *obj)
{
    if (PyCoro_CheckExact(obj))
        return 1;
    PyTypeObject *tp = Py_TYPE(obj);
    return tp->tp_as_async != NULL && tp->tp_as_async->am_await != NULL;
}

/* handler(request), a new reference or NULL with an exception set. A plain Python function
 * (nearly every handler) is entered through its vectorcall slot directly: PyObject_Vectorcall
 * would add a call and _Py_CheckFunctionResult, a check that the interpreter's own functions
 * cannot fail (they return a result or NULL with an exception, never anything else). */
static inline PyObject *
protocol_call_handler(PyObject *handler, PyObject *request)
{
    if (PyFunction_Check(handler))
        return ((PyFunctionObject *)handler)->vectorcall(handler, &request, 1, NULL);
    return PyObject_Vectorcall(handler, &request, 1, NULL);
}

/* A request without a path, or a CONNECT (RFC 9112 section 3.2). Returns 0 when it is routed
 * as "/": absolute-form without a path ("http://host" means "/"), and OPTIONS * (asterisk-
 * form; a route for "/" that allows OPTIONS answers it). Otherwise it answers and closes,
 * and returns 1:
 *   - CONNECT, whatever its target: 501. This server opens no tunnels, and the bytes after a
 *     CONNECT are the tunnel's, not requests, so nothing more is read.
 *   - "*" with any other method: 400.
 *   - authority-form without CONNECT, or a target that is no form at all ("foo"): 400. Routed
 *     as "/", they would reach the application as a request it never saw. */
static __attribute__((noinline)) int
protocol_odd_target(protocol *self, const jp_request_head *h, const char *base)
{
    const char *why;
    int status = 400;
    if (h->method_id == JP_METHOD_CONNECT) {
        status = 501;
        why = "CONNECT is not supported";
    } else if (h->path.off != h->target.off) {
        return 0; /* absolute-form: the path starts after the authority */
    } else if (h->target.len == 1 && base[h->target.off] == '*') {
        if (h->method_id == JP_METHOD_OPTIONS)
            return 0;
        why = "the request-target * is only for OPTIONS";
    } else {
        why = "invalid request-target: neither a path nor an absolute URI";
    }
    protocol_reject(self, status, why);
    return 1;
}

/* Zero when the n bytes at p are the memo's path (n <= PROTOCOL_MEMO_PATH): from 8 bytes on, as
 * two or four overlapping words, which covers every length without a loop. (A word rather than
 * a truth value, which the caller then tests with one branch.) */
static inline uint64_t
protocol_memo_diff(const char *p, const char *memo, size_t n)
{
    if (n >= 8) {
        uint64_t a, b, c, d;
        memcpy(&a, p, 8);
        memcpy(&b, memo, 8);
        memcpy(&c, p + n - 8, 8);
        memcpy(&d, memo + n - 8, 8);
        uint64_t diff = (a ^ b) | (c ^ d);
        if (n > 16) {
            memcpy(&a, p + 8, 8);
            memcpy(&b, memo + 8, 8);
            memcpy(&c, p + n - 16, 8);
            memcpy(&d, memo + n - 16, 8);
            diff |= (a ^ b) | (c ^ d);
        }
        return diff;
    }
    return !jp_url_equal(p, memo, n);
}

/* What protocol_route found. */
typedef struct protocol_routed {
    PyObject *handler;    /* borrowed */
    PyObject *route;      /* borrowed; NULL when nothing matched: the not-found handler */
    PyObject *match_dict; /* new reference, or NULL */
} protocol_routed;

/* The route of a request the memo does not know: an odd target (answered here), the matcher
 * (a 405 answered here), and the memo's update. Returns 0 with *out set; 1 when the request
 * has been answered; -1 with an exception when the connection must be dropped. Runs no Python
 * code (see jp_router_match). */
static __attribute__((noinline)) int
protocol_route(protocol *self, const jp_request_head *h, const char *base,
               const jp_response_ctx *ctx, protocol_routed *out)
{
    const char *path = base + h->path.off;
    size_t path_len = h->path.len;
    if (path_len == 0 || h->method_id == JP_METHOD_CONNECT) {
        if (protocol_odd_target(self, h, base))
            return 1;
        path = "/";
        path_len = 1;
    }
    jp_match m;
    jp_match_result mr = jp_router_match(self->matcher, base + h->method.off, h->method.len, path,
                                         path_len, &m);
    switch (mr) {
    case JP_MATCH_FOUND:
        out->handler = m.handler;
        out->route = m.route;
        out->match_dict = m.match_dict;
        /* (ctx_key is this request's key unless its context is not kept) */
        if (m.cacheable && h->method_id != JP_METHOD_OTHER && path_len <= PROTOCOL_MEMO_PATH &&
            self->ctx_key != PROTOCOL_CTX_NONE) {
            /* Both stay alive: the matcher holds the old ones too. */
            Py_XSETREF(self->memo_route, Py_NewRef(m.route));
            Py_XSETREF(self->memo_handler, Py_NewRef(m.handler));
            memcpy(self->memo_path, path, path_len);
            self->memo_path_len = (uint32_t)path_len;
        }
        return 0;
    case JP_MATCH_NOT_FOUND:
        out->handler = self->not_found;
        out->route = NULL;
        out->match_dict = NULL;
        return 0;
    case JP_MATCH_BAD_METHOD: {
        static const char body[] = "Method Not Allowed\n";
        protocol_write_simple(self, NULL, 405, m.allow, m.allow_len, body, sizeof(body) - 1, ctx);
        return 1;
    }
    default:
        return -1;
    }
}

/* What dispatch does with a handler's result (consumed, or NULL with an exception set) when
 * it is not a Response that goes straight into `out`: the connection was lost under the
 * handler, an awaitable (a task is made and queued), an error, or responses wait before it.
 * Returns 1 if the request's done-callbacks are due now, 0 if not (the response is queued, or
 * the connection is gone), -1 when the connection must be dropped (memory). May run Python
 * code. */
static __attribute__((noinline)) int
protocol_result(protocol *self, PyObject *request, PyObject *result, const jp_response_ctx *ctx)
{
    if (self->closed) {
        /* The connection was lost under the handler: nothing is written any more. A failure is
         * still handled (rendered aside and dropped) so that the application logs it. */
        jp_buffer dropped = JP_BUFFER_INIT;
        if (result == NULL || !jp_response_check(self->st, result))
            (void)protocol_render(self, request, result, ctx, &dropped);
        else
            Py_DECREF(result);
        jp_buffer_free(&dropped);
        return 0;
    }
    /* A Response is not awaitable: one type test settles it. */
    if (result == NULL || jp_response_check(self->st, result) || !protocol_is_awaitable(result)) {
        protocol_answer(self, request, result, ctx);
        return self->qlen == 0 && !self->closed;
    }
    PyObject *task = PyObject_CallMethodOneArg(self->loop, self->st->str_create_task, result);
    Py_DECREF(result);
    PyObject *r = NULL;
    if (task != NULL)
        r = PyObject_CallMethodOneArg(task, self->st->str_add_done_callback, self->task_done);
    if (r == NULL) {
        Py_XDECREF(task);
        protocol_answer(self, request, NULL, ctx);
        return 0;
    }
    Py_DECREF(r);
    if (self->closed) {
        /* Lost while the task was being set up: connection_lost cancelled the queue, and this
         * task was not in it yet. */
        PyObject *c = PyObject_CallMethodNoArgs(task, self->st->str_cancel);
        if (c == NULL)
            PyErr_WriteUnraisable(task);
        Py_XDECREF(c);
        Py_DECREF(task);
        return 0;
    }
    entry *e = protocol_push(self);
    if (e == NULL) {
        Py_DECREF(task);
        return -1;
    }
    e->request = Py_NewRef(request);
    e->task = task;
    e->ctx = *ctx;
    return 0;
}

/* The head bytes the response context depends on, in one word: version_minor, method_id
 * and the keep-alive and unknown-expectation flags, which the head keeps in four consecutive
 * bytes with framing (masked out, with the other flags). */
#define PROTOCOL_HEAD_BYTE(field)                                                              \
    (offsetof(jp_request_head, field) - offsetof(jp_request_head, version_minor))
_Static_assert(PROTOCOL_HEAD_BYTE(method_id) == 1 && PROTOCOL_HEAD_BYTE(framing) == 2 &&
                   PROTOCOL_HEAD_BYTE(flags) == 3,
               "protocol_ctx_key reads version_minor, method_id, framing and flags as one word");

static inline uint32_t
protocol_ctx_key(const jp_request_head *h)
{
    static const union {
        uint8_t b[4];
        uint32_t w;
    } mask = {{0xFF, 0xFF, 0x00, JP_HEAD_KEEP_ALIVE | JP_HEAD_EXPECT_UNKNOWN}};
    uint32_t w;
    memcpy(&w, &h->version_minor, 4);
    return w & mask.w;
}

/* Makes self->ctx for a head whose key differs from the kept one, and does what such a head
 * asks: a request without keep-alive ends reading after it; an unknown expectation is
 * answered 417 (and returns 1: nothing else is done for the request). Runs no Python code. */
static __attribute__((noinline)) int
protocol_new_ctx(protocol *self, const jp_request_head *h, uint32_t key)
{
    self->ctx.version_minor = h->version_minor;
    self->ctx.keep_alive = (h->flags & JP_HEAD_KEEP_ALIVE) ? 1 : 0;
    self->ctx.head = h->method_id == JP_METHOD_HEAD;
    self->ctx_key = PROTOCOL_CTX_NONE;
    self->memo_path_len = PROTOCOL_MEMO_EMPTY; /* it was for the old key's method */
    if (!self->ctx.keep_alive) {
        /* Exactly this request is answered; whatever follows it is not read. */
        self->rstate = R_DONE;
        self->close_after = 1;
    }
    if (h->flags & JP_HEAD_EXPECT_UNKNOWN) {
        static const char body[] = "Expectation Failed\n";
        jp_response_ctx ctx = self->ctx;
        ctx.keep_alive = 0;
        protocol_write_simple(self, NULL, 417, NULL, 0, body, sizeof(body) - 1, &ctx);
        self->rstate = R_DONE;
        return 1;
    }
    if (self->ctx.keep_alive)
        self->ctx_key = key;
    return 0;
}

/* Runs the handler for the complete request at base (rb->data + rb->pos), whose head the parser
 * holds; its body is the head's (Content-Length) or, when chunked is not NULL, that buffer's
 * bytes, which the request takes over. The request is answered (or queued) before this
 * returns. 0, or -1 when the connection must be dropped (memory). May run Python code.
 *
 * The common request costs: a compare of the head's word for its response context, the memo's
 * compare for its route, two stores into the spare Request, the handler, a Response serialised
 * straight into `out`, and one test to recycle the Request; everything else is out of line. */
static int
protocol_dispatch(protocol *self, const char *base, jp_buffer *chunked)
{
    const jp_request_head *h = &self->parser.head;
    uint32_t key = protocol_ctx_key(h);
    if (__builtin_expect(key != self->ctx_key, 0) && protocol_new_ctx(self, h, key))
        return 0;
    const jp_response_ctx *ctx = &self->ctx; /* only this function writes it */

    /* The method is the memo's: the context key holds its id (see the memo). An empty memo
     * never matches; nor does an odd target (a CONNECT or an empty path), never remembered. */
    PyObject *handler, *route, *match_dict;
    size_t path_len = h->path.len;
    if (path_len == self->memo_path_len &&
        protocol_memo_diff(base + h->path.off, self->memo_path, path_len) == 0) {
        handler = self->memo_handler;
        route = self->memo_route;
        match_dict = NULL;
    } else {
        protocol_routed r;
        int rc = protocol_route(self, h, base, ctx, &r);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        handler = r.handler;
        route = r.route;
        match_dict = r.match_dict;
    }

    /* The request is the spare's slot's: the slot's reference is the one this dispatch uses,
     * and the slot keeps it throughout (connection_lost leaves it while processing). */
    PyObject *request = self->spare;
    if (request != NULL) {
        jp_request_reuse(request, base, h, chunked, route, match_dict);
    } else {
        request = jp_request_new(self->st, self->request_type, (PyObject *)self, base, h, chunked,
                                 route, match_dict);
        if (request == NULL)
            return -1;
        self->spare = request;
    }

    PyObject *result = protocol_call_handler(handler, request);

    int run_callbacks;
    if (result != NULL && jp_response_check(self->st, result) && self->qlen == 0 &&
        !self->closed) {
        /* Nothing waits before it: serialised straight into `out`. */
        int closes = 0;
        if (jp_response_serialize(result, &self->out, ctx, &self->st->date, &closes) < 0) {
            PyErr_Clear(); /* (out is unchanged) */
            closes = 1;
        }
        Py_DECREF(result);
        if (closes) /* (a request without keep-alive ended reading above) */
            protocol_finish_after(self);
        run_callbacks = 1;
    } else {
        run_callbacks = protocol_result(self, request, result, ctx);
        if (run_callbacks < 0) {
            /* The connection is dropped; whoever else holds the request still must not read
             * the buffers (the detach runs no Python code). */
            if (Py_REFCNT(request) > 1)
                (void)jp_request_finish(request, 0);
            self->spare = NULL;
            Py_DECREF(request);
            return -1;
        }
    }

    /* Anyone still holding the request must not see the read buffer change under it: finish
     * detaches it then, and the slot lets it go. Nobody else kept it: it stays in the slot,
     * and the next request on this connection reuses its memory (a closed connection drops
     * it at the end of protocol_process). */
    int fin = jp_request_finish(request, run_callbacks);
    if (__builtin_expect(fin != 1, 0)) {
        self->spare = NULL;
        Py_DECREF(request);
        if (fin < 0)
            return -1;
    }
    return 0;
}

/* A head with a body was parsed (n bytes of it, avail bytes at rb->pos): answers a
 * 100-continue the client waits for, and sets up the body's reading state. 0, or -1 with an
 * exception (memory). Runs no Python code. */
static __attribute__((noinline)) int
protocol_start_body(protocol *self, size_t avail, size_t n)
{
    const jp_request_head *h = &self->parser.head;
    self->head_len = n;
    if ((h->flags & JP_HEAD_EXPECT_CONTINUE) && !self->sent_continue) {
        size_t have = avail - n;
        int body_here = h->framing == JP_FRAMING_LENGTH && have >= h->content_length;
        if (!body_here && have == 0) {
            /* The client waits for our go-ahead before it sends the body; it must follow
             * every response before it, so it takes a place in the queue. */
            jp_buffer *dst = &self->out;
            if (self->qlen > 0) {
                entry *e = protocol_push(self);
                if (e == NULL)
                    return -1;
                e->ready = 1;
                dst = &e->data;
            }
            if (jp_response_write_continue(dst) < 0) {
                PyErr_NoMemory();
                return -1;
            }
            self->sent_continue = 1;
        }
    }
    if (h->framing == JP_FRAMING_LENGTH) {
        self->body_need = (size_t)h->content_length;
        self->rstate = R_BODY_LENGTH;
    } else {
        jp_chunked_init(&self->chunked, &self->limits);
        self->chunk_pos = n;
        self->body.len = 0;
        self->rstate = R_BODY_CHUNKED;
    }
    return 0;
}

/* R_BODY_CHUNKED: decodes what arrived of the body of the request at rb->pos (avail bytes
 * there) into self->body. 1 when the body is complete (self->chunk_pos bytes of the request),
 * 0 when more must arrive or the body was rejected (answered, reading ended), -1 with an
 * exception (memory). Runs no Python code. */
static __attribute__((noinline)) int
protocol_decode_chunked(protocol *self, const char *p, size_t avail)
{
    readbuf *rb = self->rb;
    while (self->chunk_pos < avail && !jp_chunked_done(&self->chunked)) {
        jp_span data;
        ptrdiff_t k = jp_chunked_decode(&self->chunked, p + self->chunk_pos,
                                        avail - self->chunk_pos, &data);
        if (k < 0)
            break;
        if (data.len > 0 &&
            jp_buffer_append(&self->body, p + self->chunk_pos + data.off, data.len) < 0) {
            PyErr_NoMemory();
            return -1;
        }
        self->chunk_pos += (size_t)k;
    }
    if (self->chunked.error_status) {
        protocol_reject(self, self->chunked.error_status, self->chunked.error_reason);
        return 0;
    }
    if (!jp_chunked_done(&self->chunked)) {
        /* The decoder never needs consumed bytes again: keep the head (the request will point
         * into it) and drop the framing and data already decoded, so that a body of tiny
         * chunks cannot hold several times max_body_size here. */
        size_t consumed = self->chunk_pos - self->head_len;
        if (consumed > 0) {
            char *h = rb->data + rb->pos;
            memmove(h + self->head_len, h + self->chunk_pos, avail - self->chunk_pos);
            rb->len -= consumed;
            self->chunk_pos = self->head_len;
        }
        return 0;
    }
    return 1;
}

/* What a closed connection lets go of once no dispatch is using it: the spare request (and
 * with it the cycle self -> spare -> self) and the read block. Requests never point into the
 * block after their dispatch (a kept request is detached), so it can go now rather than when
 * the last reference to the protocol does; a block still exported to the loop goes at its
 * release. */
static void
protocol_drop_closed(protocol *self)
{
    Py_CLEAR(self->spare);
    if (self->rb->exports == 0)
        readbuf_drop_block(self->rb);
}

/* The parser said JP_HTTP1_HEADERS_FULL: the head being parsed has more field lines than the
 * header array holds, and max_headers allows more. Doubles the array (at most to
 * max_headers), keeping the entries parsed so far, and gives it to the parser, which goes on
 * from the line it paused at when called again with the same bytes. 0, or -1 when the
 * memory is not there (no exception set; the array and the parser are unchanged). Runs no
 * Python code.
 *
 * Doubling rather than going straight to max_headers: a head of 40 lines costs a 64-entry
 * array, not max_headers' (which an application may set far higher than 100), and the
 * entries parsed so far are copied at most log2(max_headers / 32) times for a head, each
 * time fewer than the new capacity: a constant factor on the field lines, paid only by a
 * connection whose client sends that many.
 *
 * Who holds the array. The invariant: while the parser parses a head, no Request reads the
 * array, and every reader that comes later reaches it through parser.head.headers, never
 * through a pointer of its own, so moving it is safe as long as that member is updated,
 * which jp_http1_parser_set_headers does.
 *   - The parser: parser.head.headers (self->headers is the same pointer, for the free).
 *   - A Request attached to the connection reads the head in place through its hd, which is
 *     &self->parser.head, so it sees the new pointer. The one attached Request at parse time
 *     is the spare, which is clean (jp_request_finish recycled it: it made nothing from the
 *     headers, its `headers` mapping included) and is read again only after
 *     jp_request_reuse, for a head this parser finished, on the array it finished it in.
 *     A handler runs only inside protocol_dispatch, never during a parse (protocol_process
 *     is not re-entered), and a Request kept past its dispatch was detached then: its
 *     headers are its own copy (hdrs_inline or its own heap block).
 *   - The route memo keeps a copy of the path bytes, the response context a word of the
 *     head's flags: neither holds a pointer into the array. Queue entries hold Requests
 *     (detached, as above) and rendered bytes. */
static __attribute__((noinline, cold)) int
protocol_grow_headers(protocol *self)
{
    uint32_t cap = self->headers_cap;
    uint32_t max = self->limits.max_headers;
    uint32_t want = cap <= max / 2 ? cap * 2 : max;
    jp_header *grown = PyMem_Realloc(self->headers, (size_t)want * sizeof(jp_header));
    if (grown == NULL)
        return -1;
    self->headers = grown;
    self->headers_cap = want;
    jp_http1_parser_set_headers(&self->parser, grown, want);
    return 0;
}

/* Parses and dispatches every complete request in rb. Stops at an incomplete one, at a full
 * queue, when the transport asked us to stop writing, or after a request that ends the
 * connection. 0, or -1 with an exception when the connection must be dropped.
 *
 * Every complete request goes through the one call of protocol_dispatch below, which GCC
 * then inlines: a request without a body (nearly all) costs no call between here and its
 * handler. */
static int
protocol_process(protocol *self)
{
    if (self->processing)
        return 0;
    self->processing = 1;
    int rc = 0;
    readbuf *rb = self->rb;

    for (;;) {
        if (self->closed || self->rstate == R_DONE)
            break;
        if (self->writing_paused) {
            protocol_pause_reading(self);
            break;
        }
        if (self->qlen >= self->max_depth) {
            if (rb->len - rb->pos > READBUF_PAUSE_PENDING)
                protocol_pause_reading(self);
            break;
        }
        size_t avail = rb->len - rb->pos;
        if (avail == 0)
            break;
        const char *p = rb->data + rb->pos;

        size_t used;               /* bytes of the request being dispatched */
        jp_buffer *chunked = NULL; /* its decoded chunked body */
        int rstate = self->rstate;
        if (rstate == R_HEAD) {
            ptrdiff_t n = jp_http1_parse(&self->parser, p, avail);
            if (n < 0) {
                if (__builtin_expect(n == JP_HTTP1_HEADERS_FULL, 0)) {
                    /* The head is still at p (nothing consumed it, nothing ran): the parse
                     * goes on, on the larger array, from the line it paused at. */
                    if (protocol_grow_headers(self) == 0)
                        continue;
                    protocol_reject(self, 503, "out of memory for the request's header fields");
                } else if (n == JP_HTTP1_ERROR) {
                    protocol_reject(self, self->parser.error_status, self->parser.error_reason);
                }
                break; /* or JP_HTTP1_NEED_MORE */
            }
            if (self->parser.head.framing != JP_FRAMING_NONE) {
                if (protocol_start_body(self, avail, (size_t)n) < 0) {
                    rc = -1;
                    break;
                }
                continue;
            }
            used = (size_t)n; /* the whole request is here: no state kept between reads */
        } else if (rstate == R_BODY_LENGTH) {
            if (avail - self->head_len < self->body_need)
                break;
            used = self->head_len + self->body_need;
        } else { /* R_BODY_CHUNKED */
            int done = protocol_decode_chunked(self, p, avail);
            if (done <= 0) {
                rc = done;
                break;
            }
            used = self->chunk_pos;
            chunked = &self->body;
        }

        if (protocol_dispatch(self, p, chunked) < 0) {
            rc = -1;
            break;
        }
        rb->pos += used;
        if (rstate != R_HEAD) {
            /* (the request took over a chunked body's memory) */
            self->body.len = 0;
            self->sent_continue = 0;
            if (self->rstate != R_DONE)
                self->rstate = R_HEAD;
        }
        jp_http1_parser_reset(&self->parser);
    }

    if (self->rstate == R_DONE)
        protocol_pause_reading(self);
    self->processing = 0;
    /* connection_lost, when it ran under a handler, left these to us: the dispatch was using
     * them. */
    if (self->closed)
        protocol_drop_closed(self);
    return rc;
}

/* ---- asyncio protocol methods ---- */

static PyObject *
protocol_connection_made(PyObject *op, PyObject *transport)
{
    protocol *self = PROTOCOL(op);
    PyObject *write = PyObject_GetAttr(transport, self->st->str_write);
    if (write == NULL)
        return NULL;
    Py_XSETREF(self->transport, Py_NewRef(transport));
    Py_XSETREF(self->write, write);
    self->closed = 0;
    self->last_activity = self->request_started = protocol_now();
    /* A japronto DirectTransport names its socket: this connection then reads and writes it
     * itself (protocol_read_ready, protocol_flush). */
    self->fd = -1;
    PyObject *fd = PyObject_GetAttr(transport, self->st->str_jp_fd);
    if (fd == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return NULL;
        PyErr_Clear();
    } else {
        long v = PyLong_Check(fd) ? PyLong_AsLong(fd) : -1;
        Py_DECREF(fd);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        self->fd = v >= 0 && v <= INT_MAX ? (int)v : -1;
    }
    if (PySet_Add(self->connections, op) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The output buffer borrows a pooled block for the time of a read's work, and gives it back
 * once everything is written (flush leaves it empty: the transport keeps what it could not
 * send), so an idle connection holds none. */
static void
protocol_take_out_block(protocol *self)
{
    if (self->out.data != NULL)
        return;
    char *block = protocol_pool_take(&self->st->out_pool);
    if (block == NULL)
        block = malloc(PROTOCOL_OUT_BLOCK); /* NULL: the first write allocates */
    if (block != NULL) {
        self->out.data = block;
        self->out.cap = PROTOCOL_OUT_BLOCK;
        self->out.len = 0;
    }
}

static void
protocol_release_if_idle(protocol *self)
{
    readbuf_release_if_idle(self->rb);
    if (self->out.data != NULL && self->out.len == 0) {
        if (!(self->out.cap == PROTOCOL_OUT_BLOCK &&
              protocol_pool_give(&self->st->out_pool, self->out.data)))
            free(self->out.data);
        self->out = (jp_buffer)JP_BUFFER_INIT;
    }
}

/* How much free space the next read should have. */
static size_t
protocol_read_need(protocol *self)
{
    readbuf *rb = self->rb;
    size_t need = READBUF_MIN_FREE;
    if (self->rstate == R_BODY_LENGTH) {
        /* Room for the whole body at once: it then arrives in as few reads as the kernel
         * allows, and is never moved again. */
        size_t pending = rb->len - rb->pos;
        size_t total = self->head_len + self->body_need;
        if (total > pending && total - pending > need)
            need = total - pending;
    }
    return need;
}

static PyObject *
protocol_get_buffer(PyObject *op, PyObject *sizehint)
{
    (void)sizehint;
    protocol *self = PROTOCOL(op);
    readbuf *rb = self->rb;
    if (rb->exports == 0 && readbuf_make_room(rb, protocol_read_need(self)) < 0)
        return NULL;
    return Py_NewRef((PyObject *)rb);
}

/* New bytes are in the read buffer: parse and answer every complete request in it, write
 * what is ready, and give the buffers back if nothing is left pending. Never raises: a
 * connection that cannot go on is dropped. */
static void
protocol_received(protocol *self, size_t n)
{
    PyObject *op = (PyObject *)self;
    readbuf *rb = self->rb;
    self->last_activity = protocol_now();
    if (self->rstate == R_HEAD && rb->len - n == rb->pos)
        self->request_started = self->last_activity; /* this read begins a request */
    jp_date_refresh(&self->st->date, time(NULL));
    Py_INCREF(op); /* a handler may drop the last other reference */
    protocol_take_out_block(self);
    if (protocol_process(self) < 0 || protocol_flush(self) < 0)
        protocol_drop(self);
    else
        protocol_release_if_idle(self);
    Py_DECREF(op);
}

static void
protocol_drop(protocol *self)
{
    /* A failure that leaves the connection unusable (memory exhaustion, a broken transport):
     * report it and abort, so the loop calls connection_lost. */
    PyErr_WriteUnraisable((PyObject *)self);
    if (self->transport != NULL && !self->closed) {
        PyObject *r = PyObject_CallMethod(self->transport, "abort", NULL);
        if (r == NULL)
            PyErr_Clear();
        Py_XDECREF(r);
    }
}

static PyObject *
protocol_buffer_updated(PyObject *op, PyObject *arg)
{
    protocol *self = PROTOCOL(op);
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n < 0) {
        if (PyErr_Occurred())
            return NULL;
        PyErr_SetString(PyExc_ValueError, "buffer_updated: negative size");
        return NULL;
    }
    readbuf *rb = self->rb;
    if ((size_t)n > rb->cap - rb->len) {
        PyErr_SetString(PyExc_ValueError, "buffer_updated: more bytes than the buffer holds");
        return NULL;
    }
    rb->len += (size_t)n;
    if (self->closed)
        Py_RETURN_NONE;
    protocol_received(self, (size_t)n);
    Py_RETURN_NONE;
}

/* Direct I/O: the loop's reader callback for the connection's socket (loop.add_reader, set
 * up by japronto/_direct.py). One recv into the read buffer per readiness, then the same
 * work as buffer_updated; the loop calls again while bytes remain (level-triggered). The end
 * of input and errors go to the transport, as an asyncio transport would handle them: EOF is
 * eof_received's answer (close after what is written), an error aborts. */
static PyObject *
protocol_read_ready(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    protocol *self = PROTOCOL(op);
    if (self->closed || self->fd < 0 || self->reading_paused)
        Py_RETURN_NONE;
    readbuf *rb = self->rb;
    if (rb->exports != 0) {
        PyErr_SetString(PyExc_BufferError, "japronto: the read buffer is exported");
        return NULL;
    }
    if (readbuf_make_room(rb, protocol_read_need(self)) < 0) {
        protocol_drop(self);
        Py_RETURN_NONE;
    }
    ssize_t n = recv(self->fd, rb->data + rb->len, rb->cap - rb->len, 0);
    if (n > 0) {
        rb->len += (size_t)n;
        protocol_received(self, (size_t)n);
        /* This may have been the last call: when the socket reports an error (EPOLLERR: the
         * client reset the connection), uvloop runs the reader once more and then drops it
         * for good (UVPoll._fatal_error), and a recv that finds bytes queued before the reset
         * returns them, not the error. A connection left waiting (a handler still running, or
         * a request not complete) would then never be looked at again: a running handler
         * would not be cancelled and would hold the socket until it ended, forever for one
         * that waits, and a partial request would wait for the reaper's deadline. So in that
         * case the pending error is fetched (one getsockopt); a connection that answered
         * everything it read needs none, as a send to a reset peer fails and ends it. */
        if (!self->closed && !self->closing && self->fd >= 0 &&
            (self->qlen > 0 || rb->pos != rb->len || self->rstate != R_HEAD)) {
            int err = 0;
            socklen_t len = sizeof(err);
            if (getsockopt(self->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
                self->closing = 1;
                protocol_call_transport(self, self->st->str_abort);
            }
        }
    } else if (n == 0) {
        self->eof = 1;
        self->rstate = R_DONE;
        readbuf_release_if_idle(rb);
        if (!self->closing) {
            self->closing = 1;
            protocol_call_transport(self, self->st->str_close);
        }
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        /* Reset by the peer, or worse: nothing more can be read or delivered. */
        self->closing = 1;
        protocol_call_transport(self, self->st->str_abort);
    }
    Py_RETURN_NONE;
}

/* The peer closed its side. Like nginx, an end of input with requests still being handled is
 * taken as the client giving up on them: what is ready has already been written (every batch
 * ends with a flush), and returning False lets the transport close, after its buffered writes,
 * which cancels the handlers still running (connection_lost). */
static PyObject *
protocol_eof_received(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    protocol *self = PROTOCOL(op);
    self->eof = 1;
    self->rstate = R_DONE;
    Py_RETURN_FALSE;
}

static void
protocol_cancel_pending(protocol *self)
{
    while (self->qlen > 0) {
        entry *e = protocol_entry(self, 0);
        if (e->task != NULL) {
            PyObject *r = PyObject_CallMethodNoArgs(e->task, self->st->str_cancel);
            if (r == NULL)
                PyErr_WriteUnraisable(e->task);
            Py_XDECREF(r);
        }
        protocol_entry_clear(e);
        self->qhead = (self->qhead + 1) % self->qcap;
        self->qlen--;
    }
}

static PyObject *
protocol_connection_lost(PyObject *op, PyObject *exc)
{
    (void)exc;
    protocol *self = PROTOCOL(op);
    if (self->closed)
        Py_RETURN_NONE;
    self->closed = 1;
    Py_INCREF(op);
    protocol_cancel_pending(self);
    if (PySet_Discard(self->connections, op) < 0)
        PyErr_WriteUnraisable(op);
    Py_CLEAR(self->write);
    Py_CLEAR(self->transport);
    Py_CLEAR(self->task_done); /* breaks the self -> bound method -> self cycle */
    jp_buffer_free(&self->out);
    jp_buffer_free(&self->body);
    /* Under a handler (processing), the request being dispatched still reads the read block
     * in place and protocol_process still moves past it: both go when that batch ends. */
    if (!self->processing)
        protocol_drop_closed(self);
    Py_DECREF(op);
    Py_RETURN_NONE;
}

static PyObject *
protocol_pause_writing(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    PROTOCOL(op)->writing_paused = 1;
    protocol_pause_reading(PROTOCOL(op));
    Py_RETURN_NONE;
}

static PyObject *
protocol_resume_writing(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    protocol *self = PROTOCOL(op);
    self->writing_paused = 0;
    Py_INCREF(op);
    protocol_maybe_resume(self);
    Py_DECREF(op);
    Py_RETURN_NONE;
}

/* task.add_done_callback target: an async handler finished. */
static PyObject *
protocol_task_done_method(PyObject *op, PyObject *task)
{
    protocol *self = PROTOCOL(op);
    uint32_t i;
    entry *e = NULL;
    for (i = 0; i < self->qlen; i++) {
        e = protocol_entry(self, i);
        if (e->task == task)
            break;
    }
    if (self->closed || i == self->qlen) {
        /* The connection is gone: retrieve the outcome so asyncio does not log it as
         * never retrieved; a cancellation is the expected end. */
        PyObject *c = PyObject_CallMethod(task, "cancelled", NULL);
        if (c != NULL && c == Py_False) {
            PyObject *x = PyObject_CallMethod(task, "exception", NULL);
            Py_XDECREF(x);
        }
        Py_XDECREF(c);
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    Py_INCREF(op);
    self->last_activity = protocol_now(); /* idle time counts from the answer, not the read */
    PyObject *request = Py_NewRef(e->request);
    jp_response_ctx ctx = e->ctx;
    PyObject *result = PyObject_CallMethod(task, "result", NULL);
    /* Render aside: the error handler may run Python code, during which the queue may move
     * or be cleared by connection_lost; the entry is looked up again afterwards. */
    jp_buffer rendered = JP_BUFFER_INIT;
    int closes = protocol_render(self, request, result, &ctx, &rendered);
    for (i = 0; i < self->qlen; i++) {
        e = protocol_entry(self, i);
        if (e->task == task)
            break;
    }
    if (!self->closed && i < self->qlen) {
        jp_buffer_free(&e->data);
        e->data = rendered;
        e->ready = 1;
        Py_CLEAR(e->task);
        if (closes) {
            /* Everything queued after this response would never be sent: drop it, and
             * read nothing more. Entries after it are only possible when it closes late
             * (an error, or the handler's own Connection: close). */
            while (self->qlen > i + 1) {
                entry *last = protocol_entry(self, self->qlen - 1);
                if (last->task != NULL) {
                    PyObject *r = PyObject_CallMethodNoArgs(last->task, self->st->str_cancel);
                    if (r == NULL)
                        PyErr_WriteUnraisable(last->task);
                    Py_XDECREF(r);
                }
                protocol_entry_clear(last);
                self->qlen--;
            }
            protocol_finish_after(self);
        }
        if (protocol_flush(self) < 0) {
            protocol_drop(self);
        } else {
            protocol_maybe_resume(self);
            if (!self->closed)
                protocol_release_if_idle(self);
        }
    } else {
        jp_buffer_free(&rendered);
    }
    Py_DECREF(request);
    Py_DECREF(op);
    Py_RETURN_NONE;
}

/* ---- construction ---- */

static int
protocol_limit(PyObject *tuple, Py_ssize_t i, uint64_t *out)
{
    PyObject *v = PyTuple_GET_ITEM(tuple, i);
    unsigned long long x = PyLong_AsUnsignedLongLong(v);
    if (x == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    *out = x;
    return 0;
}

static PyObject *
protocol_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *server;
    static char *kwlist[] = {"server", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Protocol", kwlist, &server))
        return NULL;
    jp_state *st = jp_state_from_type(type);
    protocol *self = (protocol *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    JP_LIVE_INC(JP_LIVE_PROTOCOL);
    /* tp_alloc zeroed everything, so self is safe to deallocate from here on. */
    self->fd = -1;
    self->st = st;
    self->closed = 1;
    self->memo_path_len = PROTOCOL_MEMO_EMPTY;
    self->ctx_key = PROTOCOL_CTX_NONE;
    self->server = Py_NewRef(server);
    PyObject *limits = NULL;
    PyObject *depth = NULL;
    if ((self->matcher = PyObject_GetAttrString(server, "matcher")) == NULL ||
        (self->loop = PyObject_GetAttrString(server, "loop")) == NULL ||
        (self->app = PyObject_GetAttrString(server, "app")) == NULL ||
        (self->request_type = (PyTypeObject *)PyObject_GetAttrString(server, "request_class")) ==
            NULL ||
        (self->error_handler = PyObject_GetAttrString(server, "handle_error")) == NULL ||
        (self->not_found = PyObject_GetAttrString(server, "not_found")) == NULL ||
        (self->connections = PyObject_GetAttrString(server, "connections")) == NULL ||
        (limits = PyObject_GetAttrString(server, "limits")) == NULL ||
        (depth = PyObject_GetAttrString(server, "max_pipeline_depth")) == NULL)
        goto error;
    if (!PyObject_TypeCheck(self->matcher, st->matcher_type)) {
        PyErr_SetString(PyExc_TypeError, "server.matcher must be a japronto._core.Matcher");
        goto error;
    }
    if (!PyType_Check(self->request_type) ||
        !PyType_IsSubtype(self->request_type, st->request_type) ||
        self->request_type->tp_basicsize != st->request_type->tp_basicsize) {
        PyErr_SetString(PyExc_TypeError,
                        "server.request_class must be japronto.Request or a subclass of it with "
                        "__slots__ = ()");
        goto error;
    }
    if (!PySet_Check(self->connections)) {
        PyErr_SetString(PyExc_TypeError, "server.connections must be a set");
        goto error;
    }
    if (!PyTuple_Check(limits) || PyTuple_GET_SIZE(limits) != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "server.limits must be (max_request_line, max_head_size, max_headers, "
                        "max_body_size, max_chunk_line)");
        goto error;
    }
    uint64_t v[5];
    for (Py_ssize_t i = 0; i < 5; i++)
        if (protocol_limit(limits, i, &v[i]) < 0)
            goto error;
    for (int i = 0; i < 5; i++) {
        if (v[i] == 0 || (i != 3 && v[i] > UINT32_MAX)) {
            PyErr_SetString(PyExc_ValueError, "server.limits: each limit must be 1..2**32-1");
            goto error;
        }
    }
    self->limits.max_request_line = (uint32_t)v[0];
    self->limits.max_head_size = (uint32_t)v[1];
    self->limits.max_headers = (uint32_t)v[2];
    self->limits.max_body_size = v[3];
    self->limits.max_chunk_line = (uint32_t)v[4];
    long d = PyLong_AsLong(depth);
    if (d == -1 && PyErr_Occurred())
        goto error;
    if (d < 1 || d > 65536) {
        PyErr_SetString(PyExc_ValueError, "max_pipeline_depth must be 1..65536");
        goto error;
    }
    self->max_depth = (uint32_t)d;
    Py_CLEAR(limits);
    Py_CLEAR(depth);

    self->headers_cap = self->limits.max_headers < PROTOCOL_HEADERS_INITIAL
                            ? self->limits.max_headers
                            : PROTOCOL_HEADERS_INITIAL;
    self->headers = PyMem_Calloc(self->headers_cap, sizeof(jp_header));
    if (self->headers == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    jp_http1_parser_init(&self->parser, &self->limits, self->headers, self->headers_cap);
    self->parser.grow_headers = 1;
    self->rb = PyObject_New(readbuf, st->readbuf_type);
    if (self->rb == NULL)
        goto error;
    JP_LIVE_INC(JP_LIVE_READBUF);
    self->rb->st = st;
    self->rb->data = NULL;
    self->rb->cap = self->rb->len = self->rb->pos = 0;
    self->rb->exports = 0;
    self->rb->release_pending = 0;
    self->task_done = PyObject_GetAttrString((PyObject *)self, "_task_done");
    if (self->task_done == NULL)
        goto error;
    return (PyObject *)self;

error:
    Py_XDECREF(limits);
    Py_XDECREF(depth);
    Py_DECREF(self);
    return NULL;
}

static int
protocol_traverse(PyObject *op, visitproc visit, void *arg)
{
    protocol *self = PROTOCOL(op);
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->server);
    Py_VISIT(self->matcher);
    Py_VISIT(self->loop);
    Py_VISIT(self->app);
    Py_VISIT(self->request_type);
    Py_VISIT(self->error_handler);
    Py_VISIT(self->not_found);
    Py_VISIT(self->connections);
    Py_VISIT(self->transport);
    Py_VISIT(self->write);
    Py_VISIT(self->task_done);
    Py_VISIT(self->peer);
    Py_VISIT(self->spare);
    Py_VISIT(self->memo_route);
    Py_VISIT(self->memo_handler);
    for (uint32_t i = 0; i < self->qlen; i++) {
        entry *e = protocol_entry(self, i);
        Py_VISIT(e->request);
        Py_VISIT(e->task);
    }
    return 0;
}

static int
protocol_clear(PyObject *op)
{
    protocol *self = PROTOCOL(op);
    while (self->qlen > 0) {
        protocol_entry_clear(protocol_entry(self, 0));
        self->qhead = (self->qhead + 1) % self->qcap;
        self->qlen--;
    }
    Py_CLEAR(self->server);
    Py_CLEAR(self->matcher);
    Py_CLEAR(self->loop);
    Py_CLEAR(self->app);
    Py_CLEAR(self->request_type);
    Py_CLEAR(self->error_handler);
    Py_CLEAR(self->not_found);
    Py_CLEAR(self->connections);
    Py_CLEAR(self->transport);
    Py_CLEAR(self->write);
    Py_CLEAR(self->task_done);
    Py_CLEAR(self->peer);
    Py_CLEAR(self->spare);
    self->memo_path_len = PROTOCOL_MEMO_EMPTY;
    Py_CLEAR(self->memo_route);
    Py_CLEAR(self->memo_handler);
    return 0;
}

static void
protocol_dealloc(PyObject *op)
{
    protocol *self = PROTOCOL(op);
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)protocol_clear(op);
    Py_CLEAR(self->rb);
    PyMem_Free(self->q);
    PyMem_Free(self->headers);
    jp_buffer_free(&self->out);
    jp_buffer_free(&self->body);
    JP_LIVE_DEC(JP_LIVE_PROTOCOL);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* A request partly received: its body being read, or some bytes of its head. */
static int
protocol_partial(const protocol *self)
{
    return self->rstate == R_BODY_LENGTH || self->rstate == R_BODY_CHUNKED ||
           (self->rstate == R_HEAD && self->rb->len > self->rb->pos);
}

/* What the connection is doing, for the reaper (the `state` attribute, named by
 * protocol_activity_names) and for what it then asks of the connection (time_out). */
typedef enum {
    PROTOCOL_CLOSED,
    PROTOCOL_WRITING,  /* waiting for the client to take what was sent (or to close) */
    PROTOCOL_HANDLING, /* requests in flight or being written */
    PROTOCOL_BODY,     /* a request partly received: its body */
    PROTOCOL_HEAD,     /* a request partly received: its head */
    PROTOCOL_IDLE,     /* waiting for a request */
} protocol_activity;

static const char *const protocol_activity_names[] = {
    [PROTOCOL_CLOSED] = "closed", [PROTOCOL_WRITING] = "writing",
    [PROTOCOL_HANDLING] = "handling", [PROTOCOL_BODY] = "body",
    [PROTOCOL_HEAD] = "head", [PROTOCOL_IDLE] = "idle",
};

static protocol_activity
protocol_activity_of(const protocol *self)
{
    if (self->closed)
        return PROTOCOL_CLOSED;
    if (self->writing_paused || self->closing)
        return PROTOCOL_WRITING;
    if (self->qlen > 0 || self->out.len > 0)
        return PROTOCOL_HANDLING;
    if (!protocol_partial(self))
        return PROTOCOL_IDLE;
    return self->rstate == R_HEAD ? PROTOCOL_HEAD : PROTOCOL_BODY;
}

/* Graceful shutdown of one connection: no further request is read. An idle connection closes
 * now; one with requests in flight closes after their responses, the last of which says
 * Connection: close; a request only partly received is not started: it is answered 503 and
 * the connection closes. Returns True when the connection closes at once (idle). */
static PyObject *
protocol_close_gracefully(PyObject *op, PyObject *Py_UNUSED(ignored))
{
    protocol *self = PROTOCOL(op);
    if (self->closed || self->closing)
        Py_RETURN_TRUE;
    Py_INCREF(op);
    int now = 0;
    int partial = protocol_partial(self);
    if (self->qlen > 0) {
        protocol_entry(self, self->qlen - 1)->ctx.keep_alive = 0;
        protocol_finish_after(self);
    } else if (partial) {
        protocol_reject(self, 503, "Service Unavailable: the server is shutting down");
    } else {
        protocol_finish_after(self);
        now = 1;
    }
    if (protocol_flush(self) < 0)
        protocol_drop(self);
    Py_DECREF(op);
    return PyBool_FromLong(now);
}

/* The reaper's deadline for a request only partly received (state "head" or "body"): the
 * request is not started; it is answered 408 Request Timeout with reason (a str, the body's
 * text) and the connection closes after it, as a malformed request is answered. Nothing is
 * in flight or waiting to be written then, so the 408 is the connection's next answer. A
 * client that takes none of it is left to the send timeout. Returns False, and writes
 * nothing, when the connection is in any other state, else True. */
static PyObject *
protocol_time_out(PyObject *op, PyObject *reason)
{
    protocol *self = PROTOCOL(op);
    if (!PyUnicode_Check(reason)) {
        PyErr_Format(PyExc_TypeError, "time_out() takes a str reason, not %.100s",
                     Py_TYPE(reason)->tp_name);
        return NULL;
    }
    const char *text = PyUnicode_AsUTF8(reason);
    if (text == NULL)
        return NULL;
    protocol_activity now = protocol_activity_of(self);
    if (now != PROTOCOL_HEAD && now != PROTOCOL_BODY)
        Py_RETURN_FALSE;
    Py_INCREF(op);
    protocol_reject(self, 408, text);
    if (protocol_flush(self) < 0)
        protocol_drop(self);
    Py_DECREF(op);
    Py_RETURN_TRUE;
}

static PyMethodDef protocol_methods[] = {
    {"connection_made", protocol_connection_made, METH_O, NULL},
    {"get_buffer", protocol_get_buffer, METH_O, NULL},
    {"buffer_updated", protocol_buffer_updated, METH_O, NULL},
    {"eof_received", protocol_eof_received, METH_NOARGS, NULL},
    {"connection_lost", protocol_connection_lost, METH_O, NULL},
    {"pause_writing", protocol_pause_writing, METH_NOARGS, NULL},
    {"resume_writing", protocol_resume_writing, METH_NOARGS, NULL},
    {"_task_done", protocol_task_done_method, METH_O, NULL},
    {"_read_ready", protocol_read_ready, METH_NOARGS, NULL},
    {"close_gracefully", protocol_close_gracefully, METH_NOARGS,
     "Stops reading requests; closes now when idle, else after the requests in flight."},
    {"time_out", protocol_time_out, METH_O,
     "time_out(reason)\n--\n\nAnswers a request only partly received 408 Request Timeout "
     "(reason is the body) and closes."},
    {NULL, NULL, 0, NULL},
};

static PyObject *
protocol_get_pipeline_len(PyObject *op, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLong(PROTOCOL(op)->qlen);
}

static PyObject *
protocol_get_transport(PyObject *op, void *closure)
{
    (void)closure;
    return Py_NewRef(jp_protocol_transport(op));
}

static PyObject *
protocol_get_direct_blocked(PyObject *op, void *closure)
{
    (void)closure;
    return PyBool_FromLong(PROTOCOL(op)->direct_blocked);
}

static int
protocol_set_direct_blocked(PyObject *op, PyObject *value, void *closure)
{
    (void)closure;
    int v = value == NULL ? 0 : PyObject_IsTrue(value);
    if (v < 0)
        return -1;
    PROTOCOL(op)->direct_blocked = (unsigned)v;
    return 0;
}

/* What the connection is doing, for the reaper (protocol_activity_of). */
static PyObject *
protocol_get_state(PyObject *op, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(protocol_activity_names[protocol_activity_of(PROTOCOL(op))]);
}

static PyObject *
protocol_get_last_activity(PyObject *op, void *closure)
{
    (void)closure;
    return PyFloat_FromDouble(PROTOCOL(op)->last_activity);
}

static PyObject *
protocol_get_request_started(PyObject *op, void *closure)
{
    (void)closure;
    return PyFloat_FromDouble(PROTOCOL(op)->request_started);
}

static PyGetSetDef protocol_getset[] = {
    {"_direct_blocked", protocol_get_direct_blocked, protocol_set_direct_blocked,
     "Direct I/O: the transport holds unsent bytes, so writes must queue behind them.", NULL},
    {"state", protocol_get_state, NULL,
     "'idle', 'head', 'body' (a request partly received), 'handling', 'writing' (output "
     "waits for the client to read it: writing paused, or closing) or 'closed'.",
     NULL},
    {"last_activity", protocol_get_last_activity, NULL,
     "time.monotonic() of the last read or finished async handler.", NULL},
    {"request_started", protocol_get_request_started, NULL,
     "time.monotonic() of the read that began the request being read.", NULL},
    {"pipeline_length", protocol_get_pipeline_len, NULL, "Requests queued for a response.",
     NULL},
    {"transport", protocol_get_transport, NULL, "The transport, or None once closed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot protocol_slots[] = {
    {Py_tp_new, protocol_new},
    {Py_tp_dealloc, protocol_dealloc},
    {Py_tp_traverse, protocol_traverse},
    {Py_tp_clear, protocol_clear},
    {Py_tp_methods, protocol_methods},
    {Py_tp_getset, protocol_getset},
    {Py_tp_doc, "Protocol(server)\n--\n\nOne HTTP/1.x connection (an asyncio buffered "
                "protocol)."},
    {0, NULL},
};

static PyType_Spec protocol_spec = {
    .name = "japronto._core.Protocol",
    .basicsize = sizeof(protocol),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = protocol_slots,
};

int
jp_protocol_setup(PyObject *module, jp_state *st)
{
    st->readbuf_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &readbuf_spec, NULL);
    if (st->readbuf_type == NULL)
        return -1;
    /* asyncio's stdlib transports use the zero-copy read path only for instances of
     * BufferedProtocol; uvloop only for objects with get_buffer that are not asyncio.Protocol.
     * BufferedProtocol has empty __slots__, so our layout extends it cleanly. */
    PyObject *asyncio = PyImport_ImportModule("asyncio");
    if (asyncio == NULL)
        return -1;
    PyObject *base = PyObject_GetAttrString(asyncio, "BufferedProtocol");
    Py_DECREF(asyncio);
    if (base == NULL)
        return -1;
    PyObject *bases = PyTuple_Pack(1, base);
    Py_DECREF(base);
    if (bases == NULL)
        return -1;
    st->protocol_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &protocol_spec, bases);
    Py_DECREF(bases);
    if (st->protocol_type == NULL)
        return -1;
    return PyModule_AddObjectRef(module, "Protocol", (PyObject *)st->protocol_type);
}
