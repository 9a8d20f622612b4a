/*
 * jsondecode.h - request.json's decoder: JSON bytes to Python objects (layer 1).
 *
 * jp_jdec_decode gives exactly what json.loads(buf.decode("utf-8")) gives, for the inputs it
 * handles, and gives up on every other: request.c then runs the Python helper (json.loads),
 * which produces the value or the exception the user has always seen. It handles every valid
 * UTF-8 JSON text whose nesting stays within the depth limit below, whose strings hold no lone
 * surrogate escape and whose integers int() accepts; it gives up on anything invalid (bad
 * UTF-8, a syntax error, trailing bytes, a UTF-8 BOM, raw control bytes in a string) rather
 * than explaining it.
 */
#ifndef JP_JSONDECODE_H
#define JP_JSONDECODE_H

#include "state.h"

/* The deepest nesting of arrays and objects decoded here: a deeper document is left to
 * json.loads, whose own limit is Python's recursion limit (a RecursionError, which
 * request_helpers turns into JSONBodyError). Well below the default limit of 1000, so that
 * json.loads would have succeeded on every document decoded here; an app that lowers the
 * recursion limit lowers this one too (to a fifth of it: see jsondecode.c). */
#define JP_JDEC_MAX_DEPTH 200

/* Decodes buf[0..len) as json.loads(bytes(buf).decode("utf-8")) would. Returns 0 and a new
 * reference in *out, or -1 when it gives up: then *out is NULL, nothing made along the way
 * survives, and no exception is set (one raised inside, MemoryError included, is cleared: the
 * caller's fallback will meet it again). Same values and types (dict, list, str, int, float,
 * bool, None), key order, duplicate keys (the last value at the first key's place), NaN and
 * the infinities as json.loads's own objects, -0 as the int 0 and -0.0 as the float, huge
 * exponents as inf, big integers exact. Runs no Python code of its own (allocations may run
 * the cyclic collector, as for any object made); buf must stay unchanged meanwhile. */
int jp_jdec_decode(jp_state *st, const char *buf, size_t len, PyObject **out);

/* Fetches json.decoder's NaN, PosInf and NegInf (what json.loads returns for those literals)
 * into st. Returns 0 and leaves no exception set: when they cannot be found, the decoder
 * gives up on those literals instead. */
int jp_jdec_setup(jp_state *st);

/* Drops what jp_jdec_setup keeps in st (the constants). */
void jp_jdec_state_clear(jp_state *st);

#endif /* JP_JSONDECODE_H */
