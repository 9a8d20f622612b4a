/*
 * json.c - the JSON encoder of Response(json=...) for plain data (see json.h).
 *
 * Owns nothing: it appends to the caller's buffer. The walk is recursive, bounded by
 * JP_JSON_MAX_DEPTH. Only exact built-in types are accepted (PyDict_CheckExact and so on), so
 * no user code can run: no __iter__, __eq__, __str__ or __float__ of a subclass, and a dict
 * or list cannot change size under the walk (nothing here can mutate it).
 */
#include "json.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The stdlib's escapes (Lib/json/encoder.py, ESCAPE_DCT), with lowercase hex for the rest of
 * the control characters: byte -> its escape, or 0 when the byte is written as is. */
static const char *const json_escapes[32] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
};

static inline int
json_needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

static inline int
json_put(jp_buffer *out, const char *p, size_t n)
{
    if (jp_buffer_append(out, p, n) < 0) {
        PyErr_NoMemory();
        return JP_JSON_ERROR;
    }
    return JP_JSON_OK;
}

/* One byte: the punctuation between values. */
static inline int
json_putc(jp_buffer *out, char c)
{
    if (jp_buffer_reserve(out, 1) < 0) {
        PyErr_NoMemory();
        return JP_JSON_ERROR;
    }
    out->data[out->len++] = c;
    return JP_JSON_OK;
}

#define JSON_PUT_LIT(out, s) json_put((out), (s), sizeof(s) - 1)

/* The length of the run at the start of p[0..n) that needs no escape: eight bytes at a time
 * (a byte below 0x20, a '"' or a '\\' in a word is found with the usual SWAR tests), then
 * byte by byte. */
static inline size_t
json_plain_run(const char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t lt20 = (w - ones * 0x20) & ~w;
        uint64_t q = w ^ (ones * '"');
        uint64_t b = w ^ (ones * '\\');
        uint64_t hit = (lt20 | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
        if (hit)
            break;
    }
    while (i < n && !json_needs_escape((unsigned char)p[i]))
        i++;
    return i;
}

/* A str as a JSON string: its UTF-8 (cached by the str; an ASCII str is its own) with the
 * escapes above. A lone surrogate has no UTF-8 form: UnicodeEncodeError, as the stdlib's
 * output would give when encoded. */
static int
json_string(PyObject *s, jp_buffer *out)
{
    const char *p;
    Py_ssize_t n;
    if (PyUnicode_IS_COMPACT_ASCII(s)) {
        p = (const char *)PyUnicode_DATA(s);
        n = PyUnicode_GET_LENGTH(s);
    } else {
        p = PyUnicode_AsUTF8AndSize(s, &n);
        if (p == NULL)
            return JP_JSON_ERROR;
    }
    /* Room for the common case (nothing to escape) in one go. */
    if (jp_buffer_reserve(out, (size_t)n + 2) < 0) {
        PyErr_NoMemory();
        return JP_JSON_ERROR;
    }
    size_t run = json_plain_run(p, (size_t)n);
    char *d = out->data + out->len;
    *d = '"';
    memcpy(d + 1, p, run);
    if (run == (size_t)n) {
        d[1 + run] = '"';
        out->len += (size_t)n + 2;
        return JP_JSON_OK;
    }
    out->len += 1 + run;
    size_t start = run;
    for (size_t i = run; i < (size_t)n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!json_needs_escape(c))
            continue;
        if (json_put(out, p + start, i - start) < 0)
            return JP_JSON_ERROR;
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : json_escapes[c];
        if (json_put(out, esc, strlen(esc)) < 0)
            return JP_JSON_ERROR;
        start = i + 1;
    }
    if (json_put(out, p + start, (size_t)n - start) < 0)
        return JP_JSON_ERROR;
    return json_putc(out, '"');
}

/* An int: digits of a long long written here; a larger one through int.__repr__ (exact int,
 * so the built-in one: no user code). */
static int
json_int(PyObject *v, jp_buffer *out)
{
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred())
        return JP_JSON_ERROR;
    if (!overflow) {
        char tmp[24];
        char *end = tmp + sizeof(tmp), *q = end;
        unsigned long long u = x < 0 ? 0ull - (unsigned long long)x : (unsigned long long)x;
        do {
            *--q = (char)('0' + u % 10u);
            u /= 10u;
        } while (u);
        if (x < 0)
            *--q = '-';
        return json_put(out, q, (size_t)(end - q));
    }
    PyObject *s = PyLong_Type.tp_repr(v);
    if (s == NULL)
        return JP_JSON_ERROR;
    Py_ssize_t n;
    const char *p = PyUnicode_AsUTF8AndSize(s, &n);
    int rc = p == NULL ? JP_JSON_ERROR : json_put(out, p, (size_t)n);
    Py_DECREF(s);
    return rc;
}

/* A float as float.__repr__ writes it (what json.dumps writes): the shortest repr that
 * round-trips, with ".0" for integral values. */
static int
json_float(PyObject *v, jp_buffer *out)
{
    double d = PyFloat_AS_DOUBLE(v);
    if (!isfinite(d)) {
        PyErr_Format(PyExc_ValueError,
                     "JSON has no %R (RFC 8259); give a finite number, a string or None", v);
        return JP_JSON_ERROR;
    }
    char *s = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (s == NULL)
        return JP_JSON_ERROR;
    int rc = json_put(out, s, strlen(s));
    PyMem_Free(s);
    return rc;
}

static int json_value(PyObject *v, jp_buffer *out, int depth);

static int
json_dict(PyObject *d, jp_buffer *out, int depth)
{
    if (json_putc(out, '{') < 0)
        return JP_JSON_ERROR;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    int first = 1;
    while (PyDict_Next(d, &pos, &k, &v)) {
        /* The stdlib turns int, float, bool and None keys into strings; rare enough to leave
         * to it. */
        if (!PyUnicode_CheckExact(k))
            return JP_JSON_FALLBACK;
        if (!first && json_putc(out, ',') < 0)
            return JP_JSON_ERROR;
        first = 0;
        int rc = json_string(k, out);
        if (rc == JP_JSON_OK)
            rc = json_putc(out, ':');
        if (rc == JP_JSON_OK)
            rc = json_value(v, out, depth + 1);
        if (rc != JP_JSON_OK)
            return rc;
    }
    return json_putc(out, '}');
}

static int
json_sequence(PyObject *seq, jp_buffer *out, int depth)
{
    /* Exact list or tuple: PySequence_Fast_ITEMS reads them without calling anything. */
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (json_putc(out, '[') < 0)
        return JP_JSON_ERROR;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i && json_putc(out, ',') < 0)
            return JP_JSON_ERROR;
        int rc = json_value(items[i], out, depth + 1);
        if (rc != JP_JSON_OK)
            return rc;
    }
    return json_putc(out, ']');
}

static int
json_value(PyObject *v, jp_buffer *out, int depth)
{
    if (depth > JP_JSON_MAX_DEPTH)
        return JP_JSON_FALLBACK;
    if (PyUnicode_CheckExact(v))
        return json_string(v, out);
    if (v == Py_None)
        return JSON_PUT_LIT(out, "null");
    if (v == Py_True)
        return JSON_PUT_LIT(out, "true");
    if (v == Py_False)
        return JSON_PUT_LIT(out, "false");
    if (PyLong_CheckExact(v))
        return json_int(v, out);
    if (PyFloat_CheckExact(v))
        return json_float(v, out);
    if (PyDict_CheckExact(v))
        return json_dict(v, out, depth);
    if (PyList_CheckExact(v) || PyTuple_CheckExact(v))
        return json_sequence(v, out, depth);
    return JP_JSON_FALLBACK;
}

int
jp_json_encode(PyObject *obj, jp_buffer *out)
{
    size_t mark = out->len;
    int rc = json_value(obj, out, 0);
    if (rc != JP_JSON_OK)
        out->len = mark;
    return rc;
}
