/*
 * request.c - the Request type (layer 1). See request.h for the ownership of its bytes.
 *
 * Extensions (app.extend_request) live in a subclass the Python shell makes per server; the
 * connection creates instances of that subclass, which shares this layout exactly.
 *
 * Laziness: a Request made for a handler that reads nothing costs one object and a few
 * pointers (a recycled one: two stores, see jp_request_reuse). Every attribute that needs a
 * Python object makes it on first access and keeps it; `headers`, `path` and `body` are the
 * usual ones. The attributes that parse something (query, text, json, form, files, cookies,
 * hostname, ...) are computed by Python functions (japronto.request_helpers) and kept in one
 * dict, `derived`, keyed by the function: one pointer in the struct for all of them keeps a
 * Request under pymalloc's limit, and a handler that reads none of them pays nothing. `query`,
 * the one read most, is parsed in C and has a slot of its own, so that reading it costs no
 * `derived` dict. `json` is decoded in C (jsondecode.h) when the body is UTF-8 and the decoder
 * takes it, and by its Python function otherwise; both results go into `derived` alike.
 *
 * Two states. Attached (hd != &head): the request is a view on the connection while its
 * dispatch runs. hd is the connection's parser head, headers included, and base points into
 * the read buffer; both stay put until the connection parses the next request, which happens
 * only after the dispatch has finished with the request (jp_request_finish) and has either
 * recycled it or detached it. route is borrowed then: the connection's matcher (and its route
 * memo) hold it for the whole dispatch. Detached (hd == &head): the request owns a copy of the
 * head (head, its headers in hdrs_inline or on the heap), of its bytes (owned) and a reference
 * to route, and no longer depends on the connection's buffers. A request is detached at most
 * once and never attached again; a spare (a recycled request kept by its connection) is
 * attached, its hd still the same parser's head, and nothing reads it until the next reuse.
 *
 * Invariants:
 *   - base points at hd->head_len bytes of head followed, for a Content-Length body
 *     (hd->framing == JP_FRAMING_LENGTH), by its hd->content_length bytes.
 *   - A chunked body (hd->framing == JP_FRAMING_CHUNKED) is owned (chunked), in both states.
 *   - dirty is 0 only if recycling has nothing to do: no lazy attribute made, no match_dict,
 *     no done-callback, no chunked body, attached. Whatever sets one of those sets dirty, so a
 *     request that its handler did not look into is recycled with one test
 *     (jp_request_is_clean checks this invariant in debug builds).
 *   - A request that could not be detached, or that clearing for reuse let escape, is emptied
 *     (request_empty): detached, with an empty head, no bytes and no route.
 */
#include "request.h"

#include "jsondecode.h"
#include "live.h"
#include "names.h"
#include "url.h"
#include "protocol.h"
#include "response.h"

#include <assert.h>
#include <string.h>

typedef jp_request request; /* the layout is in request.h (see there why) */

#define REQUEST(op) ((request *)(op))

static inline int
request_attached(const request *self)
{
    return self->hd != &self->head;
}

/* What dirty == 0 promises (see the invariants); for assertions. */
int
jp_request_is_clean(PyObject *op)
{
    request *self = REQUEST(op);
    return request_attached(self) && self->match_dict == NULL && self->method == NULL &&
           self->path == NULL && self->query_string == NULL && self->headers == NULL &&
           self->body == NULL && self->extra == NULL && self->done_callbacks == NULL &&
           self->derived == NULL && self->query == NULL && self->owned == NULL &&
           self->chunked.data == NULL;
}

/* Takes over a chunked body (or nothing) and match_dict: the only parts of a new request that
 * differ from a clean one. */
void
jp_request_take(request *self, jp_buffer *chunked_body, PyObject *match_dict)
{
    self->match_dict = match_dict;
    if (match_dict != NULL)
        self->dirty = 1;
    if (chunked_body != NULL) {
        self->chunked = *chunked_body;
        *chunked_body = (jp_buffer)JP_BUFFER_INIT;
        self->dirty = 1;
    }
}

PyObject *
jp_request_new(jp_state *st, PyTypeObject *type, PyObject *conn, const char *base,
               const jp_request_head *head, jp_buffer *chunked_body, PyObject *route,
               PyObject *match_dict)
{
    request *self = PyObject_GC_New(request, type);
    if (self == NULL) {
        Py_XDECREF(match_dict);
        return NULL;
    }
    JP_LIVE_INC(JP_LIVE_REQUEST);
    self->st = st;
    self->conn = Py_NewRef(conn);
    self->base = base;
    self->hd = head;
    self->route = route;
    self->dirty = 0;
    self->owned = NULL;
    self->chunked = (jp_buffer)JP_BUFFER_INIT;
    memset(&self->head, 0, sizeof(self->head));
    self->head.headers = self->hdrs_inline;
    self->method = self->path = self->query_string = self->headers = NULL;
    self->body = self->extra = self->done_callbacks = self->derived = self->query = NULL;
    jp_request_take(self, chunked_body, match_dict);
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* Frees the heap copy of the headers of a detached request, if any. */
static void
request_release_headers(request *self)
{
    if (self->head.headers != self->hdrs_inline)
        PyMem_Free(self->head.headers);
    self->head.headers = self->hdrs_inline;
    self->head.header_count = 0;
}

/* Makes an attached request an empty detached one: no bytes, no headers, no route (it was
 * borrowed). For a request that others hold but that could not be given its own copy. */
static void
request_empty(request *self)
{
    memset(&self->head, 0, sizeof(self->head));
    self->head.headers = self->hdrs_inline;
    self->hd = &self->head;
    self->base = "";
    self->route = NULL;
    self->dirty = 1;
}

/* Gives an attached request its own copy of its head, headers and bytes, and a reference to
 * its route. 0, or -1 with MemoryError: the request is then emptied (request_empty), so that
 * whoever holds it never reads the connection's buffers. Runs no Python code. */
static int
request_detach(request *self)
{
    const jp_request_head *h = self->hd;
    uint32_t n = h->header_count;
    jp_header *dst = self->hdrs_inline;
    if (n > JP_REQUEST_INLINE_HEADERS && (dst = PyMem_Malloc(n * sizeof(jp_header))) == NULL)
        goto nomem;
    size_t len = h->head_len;
    if (h->framing == JP_FRAMING_LENGTH)
        len += (size_t)h->content_length;
    char *copy = PyMem_Malloc(len ? len : 1);
    if (copy == NULL) {
        if (dst != self->hdrs_inline)
            PyMem_Free(dst);
        goto nomem;
    }
    memcpy(copy, self->base, len);
    if (n)
        memcpy(dst, h->headers, n * sizeof(jp_header));
    self->head = *h;
    self->head.headers = dst;
    self->hd = &self->head;
    self->owned = copy;
    self->base = copy;
    Py_XINCREF(self->route);
    self->dirty = 1;
    return 0;
nomem:
    request_empty(self);
    PyErr_NoMemory();
    return -1;
}

/* Drops what an attached request holds for its current use (what deallocation would free,
 * less the object itself, its connection and its borrowed route) and marks it clean. May run
 * Python code (the last reference to a body, a headers mapping or an extra dict can go
 * here), which may even make some attribute again: dirty tells. */
static void
request_recycle_fields(request *self)
{
    self->dirty = 0;
    Py_CLEAR(self->match_dict);
    Py_CLEAR(self->method);
    Py_CLEAR(self->path);
    Py_CLEAR(self->query_string);
    Py_CLEAR(self->headers);
    Py_CLEAR(self->body);
    Py_CLEAR(self->extra);
    Py_CLEAR(self->done_callbacks);
    Py_CLEAR(self->derived);
    Py_CLEAR(self->query);
    if (self->chunked.data != NULL)
        jp_buffer_free(&self->chunked);
}

/* jp_request_finish past its one-test fast path. */
int
jp_request_finish_slow(request *self, int run_callbacks)
{
    PyObject *op = (PyObject *)self;
    assert(request_attached(self));
    if (run_callbacks)
        jp_request_run_done_callbacks(op);
    if (Py_REFCNT(op) > 1)
        return request_detach(self) < 0 ? -1 : 0;
    request_recycle_fields(self);
    if (Py_REFCNT(op) == 1 && !self->dirty)
        return 1;
    /* Clearing ran Python code that took a new reference (a finaliser reaching the request
     * through its extra dict, say) or made an attribute again. It is not ours to reuse, and
     * it must not read the connection's buffer (nor its parser's headers) later: it becomes
     * an empty request. */
    request_empty(self);
    return 0;
}

void
jp_request_run_done_callbacks(PyObject *op)
{
    request *self = REQUEST(op);
    if (self->done_callbacks == NULL)
        return;
    PyObject *callbacks = self->done_callbacks;
    self->done_callbacks = NULL; /* each runs once, even if one re-registers */
    Py_ssize_t n = PyList_GET_SIZE(callbacks);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *cb = PyList_GET_ITEM(callbacks, i);
        PyObject *r = PyObject_CallOneArg(cb, op);
        if (r == NULL)
            PyErr_WriteUnraisable(cb);
        Py_XDECREF(r);
    }
    Py_DECREF(callbacks);
}

/* ---- attributes ---- */

static inline PyObject *
request_span_ascii(request *self, jp_span s)
{
    /* The parser admits only visible ASCII in methods and targets. */
    return PyUnicode_DecodeASCII(self->base + s.off, s.len, NULL);
}

static PyObject *
request_get_method(PyObject *op, void *closure)
{
    (void)closure;
    request *self = REQUEST(op);
    if (self->method == NULL) {
        self->dirty = 1;
        self->method = request_span_ascii(self, self->hd->method);
        if (self->method == NULL)
            return NULL;
        PyUnicode_InternInPlace(&self->method);
    }
    return Py_NewRef(self->method);
}

static PyObject *
request_get_path(PyObject *op, void *closure)
{
    (void)closure;
    request *self = REQUEST(op);
    if (self->path == NULL) {
        self->dirty = 1;
        jp_span s = self->hd->path;
        PyObject *raw = s.len ? request_span_ascii(self, s) : PyUnicode_FromString("/");
        if (raw == NULL)
            return NULL;
        if (memchr(self->base + s.off, '%', s.len) == NULL) {
            self->path = raw;
        } else {
            self->path = PyObject_CallOneArg(self->st->unquote, raw);
            Py_DECREF(raw);
            if (self->path == NULL)
                return NULL;
        }
    }
    return Py_NewRef(self->path);
}

static PyObject *
request_get_query_string(PyObject *op, void *closure)
{
    (void)closure;
    request *self = REQUEST(op);
    if (!(self->hd->flags & JP_HEAD_HAS_QUERY))
        Py_RETURN_NONE;
    if (self->query_string == NULL) {
        self->dirty = 1;
        self->query_string = request_span_ascii(self, self->hd->query);
        if (self->query_string == NULL)
            return NULL;
    }
    return Py_NewRef(self->query_string);
}

static PyObject *
request_get_version(PyObject *op, void *closure)
{
    (void)closure;
    return PyUnicode_FromString(REQUEST(op)->hd->version_minor ? "1.1" : "1.0");
}

/* Title-Case as Japronto gave header names: a letter at the start or after '-' upper, the
 * rest lower. Names are tokens, hence ASCII. */
static PyObject *
request_title_name(const char *p, size_t n)
{
    PyObject *s = PyUnicode_New((Py_ssize_t)n, 127);
    if (s == NULL)
        return NULL;
    Py_UCS1 *d = PyUnicode_1BYTE_DATA(s);
    int up = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (up && c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 32);
        else if (!up && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        d[i] = c;
        up = c == '-';
    }
    return s;
}

static PyObject *
request_get_headers(PyObject *op, void *closure)
{
    (void)closure;
    request *self = REQUEST(op);
    if (self->headers != NULL)
        return Py_NewRef(self->headers);
    jp_state *st = self->st;
    uint32_t n = self->hd->header_count;
    PyObject *items = PyList_New(n);
    if (items == NULL)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        const jp_header *h = &self->hd->headers[i];
        PyObject *name = request_title_name(self->base + h->name.off, h->name.len);
        /* Field values may carry obs-text (0x80-0xFF); latin-1 keeps every byte. */
        PyObject *value = PyUnicode_DecodeLatin1(self->base + h->value.off, h->value.len, NULL);
        PyObject *pair = (name && value) ? PyTuple_Pack(2, name, value) : NULL;
        Py_XDECREF(name);
        Py_XDECREF(value);
        if (pair == NULL) {
            Py_DECREF(items);
            return NULL;
        }
        PyList_SET_ITEM(items, i, pair);
    }
    self->dirty = 1;
    self->headers = PyObject_CallOneArg(st->headers_class, items);
    Py_DECREF(items);
    return Py_XNewRef(self->headers);
}

static PyObject *
request_get_match_dict(PyObject *op, void *closure)
{
    (void)closure;
    request *self = REQUEST(op);
    if (self->match_dict == NULL) {
        self->dirty = 1;
        self->match_dict = PyDict_New();
        if (self->match_dict == NULL)
            return NULL;
    }
    return Py_NewRef(self->match_dict);
}

static PyObject *
request_get_body(PyObject *op, void *closure)
{
    (void)closure;
    request *self = REQUEST(op);
    if (self->body != NULL)
        return Py_NewRef(self->body);
    const jp_request_head *h = self->hd;
    if (h->framing == JP_FRAMING_CHUNKED)
        self->body = PyBytes_FromStringAndSize(self->chunked.data ? self->chunked.data : "",
                                               (Py_ssize_t)self->chunked.len);
    else if (h->framing == JP_FRAMING_LENGTH)
        self->body = PyBytes_FromStringAndSize(self->base + h->head_len,
                                               (Py_ssize_t)h->content_length);
    else
        Py_RETURN_NONE;
    self->dirty = 1;
    return Py_XNewRef(self->body);
}

static PyObject *
request_get_keep_alive(PyObject *op, void *closure)
{
    (void)closure;
    return PyBool_FromLong(REQUEST(op)->hd->flags & JP_HEAD_KEEP_ALIVE);
}

static PyObject *
request_get_transport(PyObject *op, void *closure)
{
    (void)closure;
    return Py_NewRef(jp_protocol_transport(REQUEST(op)->conn));
}

static PyObject *
request_get_remote_addr(PyObject *op, void *closure)
{
    (void)closure;
    return jp_protocol_remote_addr(REQUEST(op)->conn);
}

static PyObject *
request_get_app(PyObject *op, void *closure)
{
    (void)closure;
    return Py_NewRef(jp_protocol_app(REQUEST(op)->conn));
}

static PyObject *
request_get_route(PyObject *op, void *closure)
{
    (void)closure;
    request *self = REQUEST(op);
    return Py_NewRef(self->route ? self->route : Py_None);
}

static PyObject *
request_get_extra(PyObject *op, void *closure)
{
    (void)closure;
    request *self = REQUEST(op);
    if (self->extra == NULL) {
        self->dirty = 1;
        self->extra = PyDict_New();
        if (self->extra == NULL)
            return NULL;
    }
    return Py_NewRef(self->extra);
}

const char *const jp_request_helper_names[JP_RH_COUNT] = {
    [JP_RH_QUERY] = "get_query",
    [JP_RH_QUERY_ALL] = "get_query_all",
    [JP_RH_TEXT] = "get_text",
    [JP_RH_JSON] = "get_json",
    [JP_RH_MIME_TYPE] = "get_mime_type",
    [JP_RH_ENCODING] = "get_encoding",
    [JP_RH_FORM_DATA] = "get_form_data",
    [JP_RH_FORM] = "get_form",
    [JP_RH_FORM_ALL] = "get_form_all",
    [JP_RH_FILES] = "get_files",
    [JP_RH_COOKIES] = "get_cookies",
    [JP_RH_HOSTNAME] = "get_hostname",
    [JP_RH_PORT] = "get_port",
};

/* The str of one name or value piece[0..len) of a query: form-decoded (url.h) into buf, which
 * has room for len bytes, then read as UTF-8 with errors replaced. A plain piece (ASCII, no '%'
 * and no '+': nearly all of them) is its own decoded form, and its str is made by copying the
 * bytes, which gives the same str without the decoder's work. Pieces of 0 or 1 byte go to the
 * decoder, which returns CPython's shared empty and one-character strings for them. */
static PyObject *
request_form_str(const char *piece, size_t len, char *buf)
{
    if (len > 1 && jp_form_is_plain(piece, len)) {
        PyObject *s = PyUnicode_New((Py_ssize_t)len, 127);
        if (s != NULL)
            (void)jp_copy_small((char *)PyUnicode_1BYTE_DATA(s), piece, len);
        return s;
    }
    return PyUnicode_DecodeUTF8(buf, (Py_ssize_t)jp_form_decode(buf, piece, len), "replace");
}

/* A query name's str: as request_form_str, but a plain name of 2 to JP_NAME_MAX bytes comes
 * from the module's cache of recent names (names.h): an app reads the same few names again
 * and again. */
static PyObject *
request_query_name(jp_state *st, const char *piece, size_t len, char *buf)
{
    if (len < 2 || len > JP_NAME_MAX || !jp_form_is_plain(piece, len))
        return request_form_str(piece, len, buf);
    return jp_name(st, piece, len);
}

/* The query string parsed as japronto.request_helpers.parse_urlencoded parses it (pieces split
 * on '&', empty ones skipped, name and value split at the first '=', each form-decoded, then
 * UTF-8 with errors replaced), computed here because routes with a query are common and the
 * Python version costs more than the rest of such a request. as_dict 0 gives query_all, the
 * list of (name, value) tuples in order; as_dict 1 gives query, the dict those pairs make (a
 * repeated name keeps its first place and gets its last value, as dict(pairs) does), built
 * directly, without the list. New reference, or NULL with an exception set. Runs no Python
 * code beyond what allocating may (the keys are exact str). */
static PyObject *
request_query_parse(request *self, int as_dict)
{
    PyObject *out = as_dict ? PyDict_New() : PyList_New(0);
    if (out == NULL || !(self->hd->flags & JP_HEAD_HAS_QUERY))
        return out;
    const char *q = self->base + self->hd->query.off;
    size_t n = self->hd->query.len;
    char small[256];
    char *buf = n <= sizeof(small) ? small : PyMem_Malloc(n);
    if (buf == NULL) {
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    size_t i = 0;
    while (i < n) {
        size_t end = jp_url_find(q, i, n, '&');
        if (end > i) {
            const char *piece = q + i;
            size_t plen = end - i;
            size_t at_eq = jp_url_find(q, i, end, '=');
            const char *eq = at_eq < end ? q + at_eq : NULL;
            size_t nlen = eq ? (size_t)(eq - piece) : plen;
            size_t vlen = eq ? plen - nlen - 1 : 0;
            PyObject *name = request_query_name(self->st, piece, nlen, buf);
            PyObject *value =
                name == NULL ? NULL : request_form_str(eq ? eq + 1 : piece + plen, vlen, buf);
            int rc = -1;
            if (value != NULL && as_dict) {
                rc = PyDict_SetItem(out, name, value);
            } else if (value != NULL) {
                PyObject *pair = PyTuple_Pack(2, name, value);
                rc = pair == NULL ? -1 : PyList_Append(out, pair);
                Py_XDECREF(pair);
            }
            Py_XDECREF(name);
            Py_XDECREF(value);
            if (rc < 0) {
                Py_CLEAR(out);
                break;
            }
        }
        i = end + 1;
    }
    if (buf != small)
        PyMem_Free(buf);
    return out;
}

/* request.query: parsed once, kept in its own slot (see the top of this file). */
static PyObject *
request_get_query(PyObject *op, void *closure)
{
    (void)closure;
    request *self = REQUEST(op);
    if (self->query == NULL) {
        self->dirty = 1;
        self->query = request_query_parse(self, 1);
        if (self->query == NULL)
            return NULL;
    }
    return Py_NewRef(self->query);
}

static PyObject *request_get_derived(PyObject *op, void *closure);

/* Whether request.text decodes the body as UTF-8 by the very codec json.loads's input would be
 * decoded with: request.encoding (request_helpers.get_encoding) is None, 'utf-8' or 'utf8'.
 * It is None without a Content-Type whose value has a ';' (the joined value of repeated
 * fields has one iff some field has), which is answered here from the raw fields; any other
 * Content-Type asks request.encoding itself (and caches it, as request.text would). 1 or 0;
 * an error from request.encoding is cleared and gives 0, so that the Python helper meets it
 * again and raises it. */
static int
request_charset_is_utf8(request *self)
{
    const jp_request_head *h = self->hd;
    uint32_t i = 0;
    for (; i < h->header_count; i++) {
        const jp_header *f = &h->headers[i];
        if (f->id == JP_H_CONTENT_TYPE && memchr(self->base + f->value.off, ';', f->value.len))
            break;
    }
    if (i == h->header_count)
        return 1;
    PyObject *enc = request_get_derived((PyObject *)self, (void *)(intptr_t)JP_RH_ENCODING);
    if (enc == NULL) {
        PyErr_Clear();
        return 0;
    }
    int utf8 = enc == Py_None ||
               (PyUnicode_Check(enc) && (PyUnicode_CompareWithASCIIString(enc, "utf-8") == 0 ||
                                         PyUnicode_CompareWithASCIIString(enc, "utf8") == 0));
    Py_DECREF(enc);
    return utf8;
}

/* request.json by the C decoder (jsondecode.h): 1 and a new reference in *out, or 0 when the
 * Python helper (request_helpers.get_json: request.text, then json.loads) must run, with no
 * exception set. No body gives None without looking further, as get_json does; an empty one
 * gives None once the charset is known to be UTF-8 (another charset may be unknown, which
 * request.text reports). Everything the decoder gives up on goes to the helper, which gives
 * today's value or exception, so its error messages are the only ones. May run Python code
 * (request.encoding) only for a Content-Type with parameters. */
static int
request_json_c(request *self, PyObject **out)
{
    if (self->hd->framing == JP_FRAMING_NONE) {
        *out = Py_NewRef(Py_None);
        return 1;
    }
    if (!request_charset_is_utf8(self))
        return 0;
    /* The body is found after request.encoding, which may have run Python code. */
    const jp_request_head *h = self->hd;
    const char *body = "";
    size_t len = 0;
    if (h->framing == JP_FRAMING_LENGTH) {
        body = self->base + h->head_len;
        len = (size_t)h->content_length;
    } else if (h->framing == JP_FRAMING_CHUNKED && self->chunked.data != NULL) {
        body = self->chunked.data;
        len = self->chunked.len;
    }
    if (len == 0) {
        *out = Py_NewRef(Py_None);
        return 1;
    }
    return jp_jdec_decode(self->st, body, len, out) == 0;
}

/* closure is the JP_RH_* index. The function may read other attributes of the request
 * (text reads encoding), so `derived` is looked at again after the call. An exception is not
 * cached: the next access calls again and raises again. request.json is decoded in C when it
 * can be (request_json_c) and by its helper otherwise; either result is cached the same way,
 * under the helper. */
static PyObject *
request_get_derived(PyObject *op, void *closure)
{
    request *self = REQUEST(op);
    PyObject *fn = self->st->request_helpers[(intptr_t)closure];
    if (self->derived != NULL) {
        PyObject *v = PyDict_GetItemWithError(self->derived, fn);
        if (v != NULL)
            return Py_NewRef(v);
        if (PyErr_Occurred())
            return NULL;
    }
    PyObject *v;
    intptr_t index = (intptr_t)closure;
    if (index == JP_RH_QUERY_ALL) {
        v = request_query_parse(self, 0);
    } else if (index == JP_RH_JSON && request_json_c(self, &v)) {
        /* v is the value */
    } else {
        v = PyObject_CallOneArg(fn, op);
    }
    if (v == NULL)
        return NULL;
    self->dirty = 1;
    if (self->derived == NULL && (self->derived = PyDict_New()) == NULL) {
        Py_DECREF(v);
        return NULL;
    }
    if (PyDict_SetItem(self->derived, fn, v) < 0) {
        Py_DECREF(v);
        return NULL;
    }
    return v;
}

#define REQUEST_DERIVED(name, index, doc)                                                     \
    {name, request_get_derived, NULL, doc, (void *)(intptr_t)(index)}

static PyGetSetDef request_getset[] = {
    {"method", request_get_method, NULL, "The method as sent: 'GET', 'POST', ...", NULL},
    {"path", request_get_path, NULL, "The percent-decoded path, without the query.", NULL},
    {"query_string", request_get_query_string, NULL,
     "The raw query string after '?', or None when the target has no '?'.", NULL},
    {"version", request_get_version, NULL, "'1.0' or '1.1'.", NULL},
    {"headers", request_get_headers, NULL,
     "The header fields: a case-insensitive mapping with Title-Case names that keeps repeats.",
     NULL},
    {"match_dict", request_get_match_dict, NULL, "Placeholder values from the route.", NULL},
    {"body", request_get_body, NULL, "The body as bytes (chunked uploads decoded), or None.",
     NULL},
    {"keep_alive", request_get_keep_alive, NULL,
     "Whether the connection stays open after this request.", NULL},
    {"transport", request_get_transport, NULL, "The asyncio transport.", NULL},
    {"remote_addr", request_get_remote_addr, NULL, "The peer's address.", NULL},
    {"app", request_get_app, NULL, "The Application.", NULL},
    {"route", request_get_route, NULL, "The matched Route, or None.", NULL},
    {"extra", request_get_extra, NULL, "A dict for the application's own data.", NULL},
    /* Computed by japronto.request_helpers; docs/request.md has the details. */
    {"query", request_get_query, NULL,
     "The query as a dict of str (percent-decoded, UTF-8); a repeated name gives its last "
     "value. {} without a query.",
     NULL},
    REQUEST_DERIVED("query_all", JP_RH_QUERY_ALL,
                    "Every (name, value) pair of the query, in order."),
    REQUEST_DERIVED("text", JP_RH_TEXT,
                    "The body decoded with the request charset (default utf-8), or None; "
                    "BodyDecodeError (a ValueError) when it cannot be decoded."),
    REQUEST_DERIVED("json", JP_RH_JSON,
                    "The body parsed as JSON; None when the body is absent or empty; "
                    "JSONBodyError (a ValueError) when it is not JSON."),
    REQUEST_DERIVED("mime_type", JP_RH_MIME_TYPE,
                    "The Content-Type without parameters, lower-cased, or None."),
    REQUEST_DERIVED("encoding", JP_RH_ENCODING,
                    "The charset parameter of Content-Type, lower-cased, or None."),
    REQUEST_DERIVED("_form_data", JP_RH_FORM_DATA,
                    "Internal: (form fields, files) of the body, parsed once."),
    REQUEST_DERIVED("form", JP_RH_FORM,
                    "Fields of a urlencoded or multipart/form-data body as a dict of str (a "
                    "repeated name gives its last value); {} for other bodies."),
    REQUEST_DERIVED("form_all", JP_RH_FORM_ALL,
                    "Every (name, value) field of the form body, in order."),
    REQUEST_DERIVED("files", JP_RH_FILES,
                    "Files of a multipart/form-data body: {name: UploadedFile(.name, .type, "
                    ".body)}; {} for other bodies."),
    REQUEST_DERIVED("cookies", JP_RH_COOKIES,
                    "The request cookies as a dict of str; malformed pairs are skipped."),
    REQUEST_DERIVED("hostname", JP_RH_HOSTNAME,
                    "The host of the Host header, lower-cased, without brackets, or None."),
    REQUEST_DERIVED("port", JP_RH_PORT,
                    "The port of the Host header as an int, or None when it gives none."),
    {NULL, NULL, NULL, NULL, NULL},
};

/* ---- methods ---- */

static PyObject *
request_add_done_callback(PyObject *op, PyObject *cb)
{
    request *self = REQUEST(op);
    if (!PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "add_done_callback() needs a callable");
        return NULL;
    }
    if (self->done_callbacks == NULL) {
        self->dirty = 1;
        self->done_callbacks = PyList_New(0);
        if (self->done_callbacks == NULL)
            return NULL;
    }
    if (PyList_Append(self->done_callbacks, cb) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Request.Response is added by response.c (jp_response_add_method, from module_exec). */
static PyMethodDef request_methods[] = {
    {"add_done_callback", request_add_done_callback, METH_O,
     "add_done_callback(cb)\n--\n\ncb(request) is called once the response is done."},
    {NULL, NULL, 0, NULL},
};

static int
request_traverse(PyObject *op, visitproc visit, void *arg)
{
    request *self = REQUEST(op);
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->conn);
    if (!request_attached(self))
        Py_VISIT(self->route); /* borrowed while attached */
    Py_VISIT(self->match_dict);
    Py_VISIT(self->method);
    Py_VISIT(self->path);
    Py_VISIT(self->query_string);
    Py_VISIT(self->headers);
    Py_VISIT(self->body);
    Py_VISIT(self->extra);
    Py_VISIT(self->done_callbacks);
    Py_VISIT(self->derived);
    Py_VISIT(self->query);
    return 0;
}

static int
request_clear(PyObject *op)
{
    request *self = REQUEST(op);
    Py_CLEAR(self->conn);
    if (request_attached(self))
        self->route = NULL; /* borrowed */
    else
        Py_CLEAR(self->route);
    /* The rest is what recycling clears (the chunked body too: nobody reads an object the
     * collector clears, and dealloc frees that buffer again harmlessly). */
    request_recycle_fields(self);
    return 0;
}

static void
request_dealloc(PyObject *op)
{
    request *self = REQUEST(op);
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)request_clear(op);
    request_release_headers(self);
    PyMem_Free(self->owned);
    jp_buffer_free(&self->chunked);
    JP_LIVE_DEC(JP_LIVE_REQUEST);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyType_Slot request_slots[] = {
    {Py_tp_dealloc, request_dealloc},
    {Py_tp_traverse, request_traverse},
    {Py_tp_clear, request_clear},
    {Py_tp_getset, request_getset},
    {Py_tp_methods, request_methods},
    {Py_tp_doc, "An HTTP request, made by the server for each request it reads."},
    {0, NULL},
};

static PyType_Spec request_spec = {
    .name = "japronto._core.Request",
    .basicsize = sizeof(request),
    /* Not instantiable from Python: only the connection makes requests. Subclassable, so that
     * an application's request extensions are plain methods and properties of its own
     * subclass (with empty __slots__), which keeps attribute lookup on CPython's fast paths. */
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE |
             JP_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = request_slots,
};

int
jp_request_setup(PyObject *module, jp_state *st)
{
    st->request_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &request_spec, NULL);
    if (st->request_type == NULL)
        return -1;
#if PY_VERSION_HEX < 0x030A0000
    st->request_type->tp_new = NULL; /* what the flag does on 3.10+ */
#endif
    return PyModule_AddObjectRef(module, "Request", (PyObject *)st->request_type);
}
