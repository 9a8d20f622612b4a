/*
 * jsondecode.c - request.json's decoder (see jsondecode.h for the contract): a recursive
 * descent over the bytes that builds the Python objects as it goes, with the byte-level work
 * in jsonscan.c.
 *
 * Owns, in the module state: json.decoder's NaN and infinities (so that json.loads("NaN") and
 * ours are the same object, as they are between two json.loads calls: [nan] == [nan] holds
 * only for one object). Object keys come from the module's cache of recent names (names.h).
 *
 * Giving up: every function returns NULL to give up, with or without an exception set; each
 * releases what it made itself before returning NULL, and jp_jdec_decode clears the
 * exception. Nothing else changes on the way (the cache of names only ever holds correct strings),
 * so a give-up has no effect but the work lost.
 *
 * Why the results equal json.loads's (Python's _json.c scanner, strict): outside strings, any
 * byte json.loads does not accept is a give-up here, and bytes >= 0x80 are never accepted
 * there, so the bytes outside strings are ASCII, whose UTF-8 decoding is themselves. A string
 * with a byte >= 0x80 is decoded by CPython's strict UTF-8 decoder, which rejects what
 * bytes.decode("utf-8") rejects; escapes write whole UTF-8 sequences, so they can neither
 * complete nor break a raw sequence beside them. Numbers go through the functions json.loads
 * uses (PyLong_FromString, with the int-max-str-digits limit; PyOS_string_to_double as
 * float() does), except integers of at most 18 digits, whose value is exact in an int64, and
 * floats that Clinger's fast path converts exactly (jp_jscan_fast_double: the same double,
 * correctly rounded, as dtoa.c's).
 */
#include "jsondecode.h"

#include "jsonscan.h"
#include "names.h"
#include "simd.h"
#include "url.h"

#include <string.h>

/* Stack buffers: unescaped strings up to this size, numbers up to NUM_SMALL - 1 bytes. */
#define JDEC_SCRATCH_SMALL 512
#define JDEC_NUM_SMALL 64

typedef struct jdec {
    jp_state *st;
    const char *s;
    size_t len;
    size_t pos;
    int depth;
    int max_depth;
    jp_simd_level level;
    char *scratch; /* for unescaping: small, or a PyMem block of scratch_cap bytes */
    size_t scratch_cap;
    char small[JDEC_SCRATCH_SMALL];
} jdec;

static PyObject *jdec_value(jdec *d);

/* Room for n bytes of unescaped string; NULL with MemoryError. */
static char *
jdec_scratch(jdec *d, size_t n)
{
    if (n <= d->scratch_cap)
        return d->scratch;
    char *p = d->scratch == d->small ? PyMem_Malloc(n) : PyMem_Realloc(d->scratch, n);
    if (p == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    d->scratch = p;
    d->scratch_cap = n;
    return p;
}

/* The str of n ASCII bytes. Strings of 0 or 1 byte go to the decoder, which returns CPython's
 * shared ones, as json.loads does. */
static inline PyObject *
jdec_ascii(const char *p, size_t n)
{
    if (n < 2)
        return PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, NULL);
    PyObject *v = PyUnicode_New((Py_ssize_t)n, 127);
    if (v != NULL)
        memcpy(PyUnicode_1BYTE_DATA(v), p, n);
    return v;
}

/* The str of a string whose body jp_jscan_string described (d->pos is past its closing quote
 * already; the body is p[0..n)). */
static PyObject *
jdec_string_body(jdec *d, const char *p, size_t n, const jp_jscan_str *info)
{
    if (!info->escaped)
        return info->non_ascii ? PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, NULL) : jdec_ascii(p, n);
    char *buf = jdec_scratch(d, n);
    if (buf == NULL)
        return NULL;
    int escaped_high = 0;
    ptrdiff_t m = jp_jscan_unescape(buf, p, n, &escaped_high);
    if (m < 0)
        return NULL;
    if (info->non_ascii || escaped_high)
        return PyUnicode_DecodeUTF8(buf, (Py_ssize_t)m, NULL);
    return jdec_ascii(buf, (size_t)m);
}

/* A string value; d->pos is just past its opening quote. */
static PyObject *
jdec_string(jdec *d)
{
    jp_jscan_str info;
    if (jp_jscan_string(d->s, d->pos, d->len, d->level, &info) < 0)
        return NULL;
    const char *p = d->s + d->pos;
    size_t n = info.end - d->pos;
    d->pos = info.end + 1;
    return jdec_string_body(d, p, n, &info);
}

/* An object key; d->pos is just past its opening quote. A plain key (ASCII, no escape, 2 to
 * JP_NAME_MAX bytes) comes from the module's cache of recent names (names.h): a client sends
 * the same few keys again and again (json.loads shares equal keys within a document too). */
static PyObject *
jdec_key(jdec *d)
{
    jp_jscan_str info;
    if (jp_jscan_string(d->s, d->pos, d->len, d->level, &info) < 0)
        return NULL;
    const char *p = d->s + d->pos;
    size_t n = info.end - d->pos;
    d->pos = info.end + 1;
    if (info.escaped || info.non_ascii || n < 2 || n > JP_NAME_MAX)
        return jdec_string_body(d, p, n, &info);
    return jp_name(d->st, p, n);
}

/* A number; d->pos is at its first byte. */
static PyObject *
jdec_number(jdec *d)
{
    jp_jscan_num num;
    if (jp_jscan_number(d->s, d->pos, d->len, &num) < 0)
        return NULL;
    const char *p = d->s + d->pos;
    d->pos += num.len;
    if (num.is_small)
        return PyLong_FromLongLong((long long)num.value);
    double fast;
    if (num.is_float && jp_jscan_fast_double(&num, &fast))
        return PyFloat_FromDouble(fast);
    /* Both converters want a NUL-terminated string. */
    char small[JDEC_NUM_SMALL];
    char *c = num.len < sizeof(small) ? small : PyMem_Malloc(num.len + 1);
    if (c == NULL)
        return PyErr_NoMemory();
    memcpy(c, p, num.len);
    c[num.len] = '\0';
    PyObject *v;
    if (num.is_float) {
        char *end;
        double x = PyOS_string_to_double(c, &end, NULL); /* overflow: +-inf, as float() */
        v = (x == -1.0 && PyErr_Occurred()) || end != c + num.len ? NULL : PyFloat_FromDouble(x);
    } else {
        v = PyLong_FromString(c, NULL, 10); /* ValueError past int-max-str-digits */
    }
    if (c != small)
        PyMem_Free(c);
    return v;
}

/* An array; d->pos is just past its '['. */
static PyObject *
jdec_array(jdec *d)
{
    if (++d->depth > d->max_depth)
        return NULL;
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    const char *s = d->s;
    size_t p = jp_jscan_skip_ws(s, d->pos, d->len);
    if (p < d->len && s[p] == ']') {
        d->pos = p + 1;
        d->depth--;
        return list;
    }
    for (;;) {
        d->pos = p;
        PyObject *v = jdec_value(d);
        if (v == NULL)
            goto fail;
        int rc = PyList_Append(list, v);
        Py_DECREF(v);
        if (rc < 0)
            goto fail;
        p = jp_jscan_skip_ws(s, d->pos, d->len);
        if (p >= d->len)
            goto fail;
        if (s[p] == ',') {
            p = jp_jscan_skip_ws(s, p + 1, d->len);
            continue;
        }
        if (s[p] != ']')
            goto fail;
        d->pos = p + 1;
        d->depth--;
        return list;
    }
fail:
    Py_DECREF(list);
    return NULL;
}

/* An object; d->pos is just past its '{'. A repeated key keeps its first place and gets its
 * last value, as PyDict_SetItem (and so json.loads) gives. */
static PyObject *
jdec_object(jdec *d)
{
    if (++d->depth > d->max_depth)
        return NULL;
    PyObject *dict = PyDict_New();
    if (dict == NULL)
        return NULL;
    const char *s = d->s;
    size_t p = jp_jscan_skip_ws(s, d->pos, d->len);
    if (p < d->len && s[p] == '}') {
        d->pos = p + 1;
        d->depth--;
        return dict;
    }
    for (;;) {
        /* A key must follow '{' or ',' (no trailing comma). */
        if (p >= d->len || s[p] != '"')
            goto fail;
        d->pos = p + 1;
        PyObject *key = jdec_key(d);
        if (key == NULL)
            goto fail;
        p = jp_jscan_skip_ws(s, d->pos, d->len);
        if (p >= d->len || s[p] != ':') {
            Py_DECREF(key);
            goto fail;
        }
        d->pos = jp_jscan_skip_ws(s, p + 1, d->len);
        PyObject *v = jdec_value(d);
        if (v == NULL) {
            Py_DECREF(key);
            goto fail;
        }
        int rc = PyDict_SetItem(dict, key, v);
        Py_DECREF(key);
        Py_DECREF(v);
        if (rc < 0)
            goto fail;
        p = jp_jscan_skip_ws(s, d->pos, d->len);
        if (p >= d->len)
            goto fail;
        if (s[p] == ',') {
            p = jp_jscan_skip_ws(s, p + 1, d->len);
            continue;
        }
        if (s[p] != '}')
            goto fail;
        d->pos = p + 1;
        d->depth--;
        return dict;
    }
fail:
    Py_DECREF(dict);
    return NULL;
}

/* A literal of n bytes at d->pos: a new reference to v, or NULL (v NULL: not available). */
static inline PyObject *
jdec_literal(jdec *d, const char *lit, size_t n, PyObject *v)
{
    if (v == NULL || !jp_jscan_has(d->s, d->pos, d->len, lit, n))
        return NULL;
    d->pos += n;
    return Py_NewRef(v);
}

/* Any value; d->pos is at its first byte (whitespace before it skipped). */
static PyObject *
jdec_value(jdec *d)
{
    if (d->pos >= d->len)
        return NULL;
    switch (d->s[d->pos]) {
    case '{':
        d->pos++;
        return jdec_object(d);
    case '[':
        d->pos++;
        return jdec_array(d);
    case '"':
        d->pos++;
        return jdec_string(d);
    case 'n':
        return jdec_literal(d, "null", 4, Py_None);
    case 't':
        return jdec_literal(d, "true", 4, Py_True);
    case 'f':
        return jdec_literal(d, "false", 5, Py_False);
    case 'N':
        return jdec_literal(d, "NaN", 3, d->st->jdec_nan);
    case 'I':
        return jdec_literal(d, "Infinity", 8, d->st->jdec_inf);
    case '-':
        if (d->pos + 1 < d->len && d->s[d->pos + 1] == 'I')
            return jdec_literal(d, "-Infinity", 9, d->st->jdec_neginf);
        return jdec_number(d);
    default:
        return jdec_number(d); /* or nothing valid: it gives up */
    }
}

int
jp_jdec_decode(jp_state *st, const char *buf, size_t len, PyObject **out)
{
    jdec d;
    d.st = st;
    d.s = buf;
    d.len = len;
    d.depth = 0;
    /* json.loads's nesting is bounded by the recursion limit (on 3.11 and before, less the
     * frames already in use); a fifth of it leaves room for the handler's own frames. */
    int limit = Py_GetRecursionLimit() / 5;
    d.max_depth = limit < JP_JDEC_MAX_DEPTH ? limit : JP_JDEC_MAX_DEPTH;
    d.level = jp_simd_default();
    d.scratch = d.small;
    d.scratch_cap = sizeof(d.small);
    d.pos = jp_jscan_skip_ws(buf, 0, len);
    PyObject *v = jdec_value(&d);
    if (v != NULL && jp_jscan_skip_ws(buf, d.pos, len) != len)
        Py_CLEAR(v); /* trailing bytes */
    if (d.scratch != d.small)
        PyMem_Free(d.scratch);
    if (v == NULL && PyErr_Occurred())
        PyErr_Clear();
    *out = v;
    return v == NULL ? -1 : 0;
}

int
jp_jdec_setup(jp_state *st)
{
    PyObject *mod = PyImport_ImportModule("json.decoder");
    PyObject *constants = mod ? PyObject_GetAttrString(mod, "_CONSTANTS") : NULL;
    Py_XDECREF(mod);
    if (constants != NULL && PyDict_Check(constants)) {
        st->jdec_nan = Py_XNewRef(PyDict_GetItemString(constants, "NaN"));
        st->jdec_inf = Py_XNewRef(PyDict_GetItemString(constants, "Infinity"));
        st->jdec_neginf = Py_XNewRef(PyDict_GetItemString(constants, "-Infinity"));
    }
    Py_XDECREF(constants);
    /* Without them (a future json module), those literals are json.loads's to decode. */
    PyErr_Clear();
    return 0;
}

void
jp_jdec_state_clear(jp_state *st)
{
    Py_CLEAR(st->jdec_nan);
    Py_CLEAR(st->jdec_inf);
    Py_CLEAR(st->jdec_neginf);
}
