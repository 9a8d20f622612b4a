/*
 * json.c - the JSON encoder of Response(json=...) for plain data (see json.h).
 *
 * Owns nothing: it appends to the caller's buffer. The walk is recursive, bounded by
 * JP_JSON_MAX_DEPTH. Only exact built-in types are accepted (PyDict_CheckExact and so on), so
 * no user code can run: no __iter__, __eq__, __str__ or __float__ of a subclass, and a dict
 * or list cannot change size under the walk (nothing here can mutate it).
 *
 * Strings are checked for bytes to escape and copied in the same pass, a block at a time: 16
 * bytes with SSE2 when the process's SIMD level (simd.h, JAPRONTO_SIMD) is not scalar, else 8
 * with the portable word tricks; both give the same bytes (tests run both through
 * _core._json_encode).
 *
 * Floats are written by dtoa.c (layer 0), which gives float.__repr__'s bytes without
 * CPython's PyOS_double_to_string, its bignum arithmetic and its malloc'd result.
 */
#include "json.h"

#include "dtoa.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030B0000
#include <longintrepr.h> /* ob_digit; Python.h includes it from 3.11 on */
#endif

#if JP_HAVE_X86_SIMD
#include <emmintrin.h>
#endif

/* Where the split between a hot inlined path and its cold rest matters (json_string). */
#if defined(__GNUC__) || defined(__clang__)
#define JSON_INLINE inline __attribute__((always_inline))
#define JSON_NOINLINE __attribute__((noinline))
#else
#define JSON_INLINE inline
#define JSON_NOINLINE
#endif

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

/* json_needs_escape as a table, for the byte-at-a-time path of very short strings. */
/* clang-format off */
static const unsigned char json_escape_table[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
};
/* clang-format on */

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

#define JSON_ONES 0x0101010101010101ull
#define JSON_HIGHS 0x8080808080808080ull

/* Nonzero when a byte of the eight in w needs an escape: below 0x20, '"' or '\\'. These are
 * the usual SWAR tests ("has a byte less than n", "has a zero byte" of w xor the character);
 * a borrow can mark a byte above a true hit but never makes a hit where there is none, so the
 * answer is exact as a yes or no. Bytes from 0x80 up (UTF-8 of non-ASCII text) never hit. */
static inline uint64_t
json_word_hits(uint64_t w)
{
    uint64_t lt20 = (w - JSON_ONES * 0x20) & ~w;
    uint64_t q = w ^ (JSON_ONES * '"');
    uint64_t b = w ^ (JSON_ONES * '\\');
    return (lt20 | ((q - JSON_ONES) & ~q) | ((b - JSON_ONES) & ~b)) & JSON_HIGHS;
}

static inline uint64_t
json_load64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline uint32_t
json_load32(const char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* json_copy_plain without vector instructions, for n >= 4. The bytes are read and written in
 * words: eight at a time, the last word overlapping the one before it; 4 to 7 bytes as two
 * overlapping halves of one word. Reads only p[0..n) and writes only d[0..n). */
static JSON_INLINE int
json_copy_plain_swar(char *d, const char *p, size_t n)
{
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 < n; i += 8) {
            uint64_t w = json_load64(p + i);
            if (json_word_hits(w))
                return 0;
            memcpy(d + i, &w, 8);
        }
        uint64_t w = json_load64(p + n - 8);
        if (json_word_hits(w))
            return 0;
        memcpy(d + n - 8, &w, 8);
        return 1;
    }
    uint32_t lo = json_load32(p), hi = json_load32(p + n - 4);
    if (json_word_hits((uint64_t)lo | (uint64_t)hi << 32))
        return 0;
    memcpy(d, &lo, 4);
    memcpy(d + n - 4, &hi, 4);
    return 1;
}

#if JP_HAVE_X86_SIMD
/* The bytes of x that need an escape, one bit each (x <= 0x1f unsigned, '"', '\\'); bytes from
 * 0x80 up never hit. SSE2 is part of x86-64, so no CPU check is needed for it. */
static inline unsigned
json_block_hits(__m128i x)
{
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
    __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i bslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, _mm_or_si128(quote, bslash)));
}

/* json_copy_plain with SSE2, for n >= 4: 16 bytes a step, the last step overlapping the one
 * before; 8 to 16 bytes as two overlapping halves in one register, 4 to 7 as two overlapping
 * quarters (only the eight low lanes count then). Reads only p[0..n), writes only d[0..n). */
static JSON_INLINE int
json_copy_plain_sse2(char *d, const char *p, size_t n)
{
    if (n >= 16) {
        size_t i = 0;
        for (; i + 16 < n; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            if (json_block_hits(x))
                return 0;
            _mm_storeu_si128((__m128i *)(void *)(d + i), x);
        }
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
        if (json_block_hits(x))
            return 0;
        _mm_storeu_si128((__m128i *)(void *)(d + n - 16), x);
        return 1;
    }
    if (n >= 8) {
        uint64_t lo = json_load64(p), hi = json_load64(p + n - 8);
        if (json_block_hits(_mm_set_epi64x((long long)hi, (long long)lo)))
            return 0;
        memcpy(d, &lo, 8);
        memcpy(d + n - 8, &hi, 8);
        return 1;
    }
    uint32_t lo = json_load32(p), hi = json_load32(p + n - 4);
    if (json_block_hits(_mm_cvtsi64_si128((long long)((uint64_t)lo | (uint64_t)hi << 32))) & 0xffu)
        return 0;
    memcpy(d, &lo, 4);
    memcpy(d + n - 4, &hi, 4);
    return 1;
}
#endif

/* Copies p[0..n) to d if no byte of it needs an escape, and says whether it did (1) or found
 * one (0: d[0..n) then holds some of the bytes, to be overwritten). vec: use SSE2. Strings of
 * up to three bytes ("a", "id", "ok") go byte by byte through a table, cheaper than packing
 * them into a word. */
static JSON_INLINE int
json_copy_plain(char *d, const char *p, size_t n, int vec)
{
    if (n < 4) {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (json_escape_table[c])
                return 0;
            d[i] = (char)c;
        }
        return 1;
    }
#if JP_HAVE_X86_SIMD
    if (vec)
        return json_copy_plain_sse2(d, p, n);
#else
    (void)vec;
#endif
    return json_copy_plain_swar(d, p, n);
}

/* The length of the run at the start of p[0..n) that needs no escape: eight bytes at a time,
 * then byte by byte. */
static inline size_t
json_plain_run(const char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        if (json_word_hits(json_load64(p + i)))
            break;
    while (i < n && !json_needs_escape((unsigned char)p[i]))
        i++;
    return i;
}

/* The rest of json_string when p[0..n) has a byte to escape: runs copied whole, escapes
 * between them; then the closing quote and `after`. out->len is just past the opening quote. */
static int
json_string_escaped(const char *p, size_t n, char after, jp_buffer *out)
{
    size_t i = 0;
    for (;;) {
        size_t run = json_plain_run(p + i, n - i);
        if (json_put(out, p + i, run) < 0)
            return JP_JSON_ERROR;
        i += run;
        if (i == n)
            break;
        unsigned char c = (unsigned char)p[i++];
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : json_escapes[c];
        if (json_put(out, esc, esc[1] == 'u' ? 6 : 2) < 0)
            return JP_JSON_ERROR;
    }
    if (json_putc(out, '"') < 0)
        return JP_JSON_ERROR;
    return after ? json_putc(out, after) : JP_JSON_OK;
}

/* A str as a JSON string, with the byte `before` ahead of it and `after` behind it when they
 * are not 0 (a dict writes "{" or "," and ":" around a key this way: one reservation for the
 * three). The bytes are the str's UTF-8 (an ASCII str is its own; any other caches it) with the
 * escapes above. A lone surrogate has no UTF-8 form: UnicodeEncodeError, as the stdlib's
 * output would give when encoded. Kept out of line: json_string below inlines the common case
 * into every caller and calls this for the rest. */
static JSON_NOINLINE int
json_string_general(PyObject *s, jp_buffer *out, char before, char after, int vec)
{
    const char *p;
    Py_ssize_t sn;
    if (PyUnicode_IS_COMPACT_ASCII(s)) {
        p = (const char *)PyUnicode_DATA(s);
        sn = PyUnicode_GET_LENGTH(s);
    } else {
        p = PyUnicode_AsUTF8AndSize(s, &sn);
        if (p == NULL)
            return JP_JSON_ERROR;
    }
    size_t n = (size_t)sn;
    /* Room for the common case (nothing to escape) in one go. */
    if (jp_buffer_reserve(out, n + 4) < 0) {
        PyErr_NoMemory();
        return JP_JSON_ERROR;
    }
    char *d = out->data + out->len;
    if (before)
        *d++ = before;
    *d++ = '"';
    if (json_copy_plain(d, p, n, vec)) {
        d += n;
        *d++ = '"';
        if (after)
            *d++ = after;
        out->len = (size_t)(d - out->data);
        return JP_JSON_OK;
    }
    out->len = (size_t)(d - out->data);
    return json_string_escaped(p, n, after, out);
}

/* json_string_general for a str, with its common case inlined: compact ASCII (the str's
 * own bytes are its UTF-8) of at most 16 characters, room in the buffer, nothing to escape.
 * `before` is written unconditionally and the cursor moves past it only when it is not 0,
 * which spares a branch; the byte lies within the reservation either way. */
static JSON_INLINE int
json_string(PyObject *s, jp_buffer *out, char before, char after, int vec)
{
    if (PyUnicode_IS_COMPACT_ASCII(s)) {
        size_t n = (size_t)PyUnicode_GET_LENGTH(s);
        if (n <= 16 && out->cap - out->len >= 20) {
            const char *p = (const char *)(((PyASCIIObject *)s) + 1);
            char *d = out->data + out->len;
            d[0] = before;
            d += before != 0;
            *d++ = '"';
            if (json_copy_plain(d, p, n, vec)) {
                d += n;
                *d++ = '"';
                if (after)
                    *d++ = after;
                out->len = (size_t)(d - out->data);
                return JP_JSON_OK;
            }
        }
    }
    return json_string_general(s, out, before, after, vec);
}


/* An int: digits of a long long written here; a larger one through int.__repr__ (exact int,
 * so the built-in one: no user code). */
static int
json_int(PyObject *v, jp_buffer *out)
{
    int overflow = 0;
    long long x;
    /* An int of one digit (below 2**30 in magnitude: ids, counts, statuses) is read from the
     * object directly; others through the API. */
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact((PyLongObject *)v)) {
        x = (long long)PyUnstable_Long_CompactValue((PyLongObject *)v);
    } else
#else
    Py_ssize_t size = Py_SIZE(v);
    if (size >= -1 && size <= 1) {
        x = (long long)size * (long long)((PyLongObject *)v)->ob_digit[0];
    } else
#endif
    {
        x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred())
            return JP_JSON_ERROR;
    }
    if (!overflow) {
        /* The digits are made backwards ending at tmp + 24, then 24 bytes from the first are
         * copied (a fixed-size copy: two moves, not a library call) and the cursor moved by
         * their count; the bytes past them lie within the reservation and are overwritten. */
        char tmp[48];
        char *end = tmp + 24, *q = end;
        unsigned long long u = x < 0 ? 0ull - (unsigned long long)x : (unsigned long long)x;
        /* Two digits a step from the table, then the last one or two. */
        while (u >= 100u) {
            q -= 2;
            memcpy(q, jp_digit_pairs + 2 * (u % 100u), 2);
            u /= 100u;
        }
        if (u >= 10u) {
            q -= 2;
            memcpy(q, jp_digit_pairs + 2 * u, 2);
        } else {
            *--q = (char)('0' + u);
        }
        if (x < 0)
            *--q = '-';
        if (jp_buffer_reserve(out, 24) < 0) {
            PyErr_NoMemory();
            return JP_JSON_ERROR;
        }
        memcpy(out->data + out->len, q, 24);
        out->len += (size_t)(end - q);
        return JP_JSON_OK;
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
 * round-trips, with ".0" for integral values. dtoa.c writes it straight into the reserved
 * room: no allocation, no call into CPython. */
static int
json_float(PyObject *v, jp_buffer *out)
{
    double d = PyFloat_AS_DOUBLE(v);
    if (!isfinite(d)) {
        PyErr_Format(PyExc_ValueError,
                     "JSON has no %R (RFC 8259); give a finite number, a string or None", v);
        return JP_JSON_ERROR;
    }
    if (jp_buffer_reserve(out, JP_DTOA_MAX) < 0) {
        PyErr_NoMemory();
        return JP_JSON_ERROR;
    }
    out->len += jp_dtoa_repr(d, out->data + out->len);
    return JP_JSON_OK;
}

static int json_value(PyObject *v, jp_buffer *out, int depth, char before, int vec);

/* A dict of str keys. Each key is written with the byte before it ("{" for the first, ","
 * for the others) and the ":" after it in one reservation; the value follows. PyDict_Next
 * lends its references, which is safe: no code runs that could change the dict. For the same
 * reason the dict holds exactly its size in entries throughout, so the walk stops after the
 * last one instead of calling PyDict_Next once more to hear that there are no more. */
static int
json_dict(PyObject *d, jp_buffer *out, int depth, int vec)
{
    Py_ssize_t left = PyDict_GET_SIZE(d);
    if (left == 0)
        return JSON_PUT_LIT(out, "{}");
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    char before = '{';
    for (; left > 0 && PyDict_Next(d, &pos, &k, &v); left--) {
        /* The stdlib turns int, float, bool and None keys into strings; rare enough to leave
         * to it. */
        if (!PyUnicode_CheckExact(k))
            return JP_JSON_FALLBACK;
        int rc = json_string(k, out, before, ':', vec);
        if (rc == JP_JSON_OK)
            rc = PyUnicode_CheckExact(v) ? json_string(v, out, 0, 0, vec)
                                         : json_value(v, out, depth + 1, 0, vec);
        if (rc != JP_JSON_OK)
            return rc;
        before = ',';
    }
    return json_putc(out, '}');
}

static int
json_sequence(PyObject *seq, jp_buffer *out, int depth, int vec)
{
    /* Exact list or tuple: PySequence_Fast_ITEMS reads them without calling anything. */
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (n == 0)
        return JSON_PUT_LIT(out, "[]");
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = items[i];
        char before = i ? ',' : '[';
        int rc = PyUnicode_CheckExact(v) ? json_string(v, out, before, 0, vec)
                                         : json_value(v, out, depth + 1, before, vec);
        if (rc != JP_JSON_OK)
            return rc;
    }
    return json_putc(out, ']');
}

/* A value, with the byte `before` ahead of it when that is not 0 (the "[" or "," of a list):
 * a str takes it in its own reservation. Exact types only, the commonest first. */
static int
json_value(PyObject *v, jp_buffer *out, int depth, char before, int vec)
{
    if (PyUnicode_CheckExact(v))
        return json_string(v, out, before, 0, vec);
    if (before && json_putc(out, before) < 0)
        return JP_JSON_ERROR;
    if (PyLong_CheckExact(v))
        return json_int(v, out);
    if (v == Py_None)
        return JSON_PUT_LIT(out, "null");
    if (v == Py_True)
        return JSON_PUT_LIT(out, "true");
    if (v == Py_False)
        return JSON_PUT_LIT(out, "false");
    if (PyFloat_CheckExact(v))
        return json_float(v, out);
    if (depth > JP_JSON_MAX_DEPTH)
        return JP_JSON_FALLBACK;
    if (PyDict_CheckExact(v))
        return json_dict(v, out, depth, vec);
    if (PyList_CheckExact(v) || PyTuple_CheckExact(v))
        return json_sequence(v, out, depth, vec);
    return JP_JSON_FALLBACK;
}

int
jp_json_encode(PyObject *obj, jp_buffer *out, jp_simd_level level)
{
    size_t mark = out->len;
    int vec = level != JP_SIMD_SCALAR;
    /* Nearly every body is a dict: straight to it, without json_value's dispatch. */
    int rc = PyDict_CheckExact(obj) ? json_dict(obj, out, 0, vec) : json_value(obj, out, 0, 0, vec);
    if (rc != JP_JSON_OK)
        out->len = mark;
    return rc;
}
