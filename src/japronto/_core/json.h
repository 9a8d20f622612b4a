/*
 * json.h - the JSON encoder of Response(json=...) for the plain data handlers return (layer 1).
 *
 * A handler's JSON is nearly always built from dict, list, tuple, str, int, float, bool and
 * None, and going through the stdlib's encoder for it costs more than the rest of the request
 * (its encode() is Python code). This encoder writes exactly those types, of exactly those
 * classes, straight into a buffer as UTF-8, in the stdlib's compact form: the output equals
 * json.dumps(obj, ensure_ascii=False, separators=(",", ":")) byte for byte, except that a NaN
 * or an infinity is an error here (ValueError: RFC 8259 has no such numbers). Anything else
 * (a subclass, a dict with a non-str key, a date, nesting deeper than JP_JSON_MAX_DEPTH)
 * makes it give up, and the caller uses the general encoder for the whole object.
 */
#ifndef JP_JSON_H
#define JP_JSON_H

#include "buffer.h"
#include "simd.h"
#include "state.h"

/* Deeper than this, the general encoder takes over (it detects cycles; this one does not). */
#define JP_JSON_MAX_DEPTH 64

enum {
    JP_JSON_OK = 0,
    JP_JSON_ERROR = -1,    /* an exception is set (ValueError, MemoryError, UnicodeEncodeError) */
    JP_JSON_FALLBACK = -2, /* a type this encoder does not take: no exception, out unchanged */
};

/* Appends the JSON text of obj to out. Returns JP_JSON_OK, JP_JSON_ERROR, or
 * JP_JSON_FALLBACK. On anything but OK, out->len is what it was. Never runs Python code
 * (it calls no method of the objects: only exact built-in types are read). level picks the
 * string scanner (jp_simd_default(), or a test's choice); every level writes the same bytes. */
int jp_json_encode(PyObject *obj, jp_buffer *out, jp_simd_level level);

#endif /* JP_JSON_H */
