/*
 * names.h - the module's cache of recent names (layer 1): the str of short ASCII names that
 * requests spell again and again (query names in request.c, object keys in jsondecode.c).
 *
 * One entry a slot, chosen by a hash of the name's bytes; the newest name of a slot wins. A
 * hit costs a compare instead of a new str, its hash (SipHash, computed when the name goes
 * into a dict) and its deallocation. Sharing one str among requests is invisible to them: a
 * str is immutable, and equal names compare and hash equal whatever their identity. The
 * strings are exact, ASCII, at most JP_NAME_MAX bytes, with their hash computed; the table
 * holds a reference to each, dropped by module_clear (never traversed: a str refers to
 * nothing).
 */
#ifndef JP_NAMES_H
#define JP_NAMES_H

#include "state.h"
#include "url.h"

#include <string.h>

/* The str of the name p[0..n): ASCII (every byte below 0x80), 2 <= n <= JP_NAME_MAX; the
 * caller checks both. A new reference, or NULL with MemoryError. */
static inline PyObject *
jp_name(jp_state *st, const char *p, size_t n)
{
    uint64_t head, tail;
    if (n >= 8) {
        memcpy(&head, p, 8);
        memcpy(&tail, p + n - 8, 8);
    } else {
        head = jp_url_load_short(p, n);
        tail = 0;
    }
    uint64_t h = (head ^ (tail * 0x9E3779B97F4A7C15ULL) ^ n) * 0xFF51AFD7ED558CCDULL;
    PyObject **slot = &st->names[(size_t)(h >> 58) & (JP_NAMES - 1)];
    if (*slot != NULL && (size_t)PyUnicode_GET_LENGTH(*slot) == n &&
        jp_url_equal((const char *)PyUnicode_1BYTE_DATA(*slot), p, n))
        return Py_NewRef(*slot);
    PyObject *s = PyUnicode_New((Py_ssize_t)n, 127);
    if (s == NULL)
        return NULL;
    memcpy(PyUnicode_1BYTE_DATA(s), p, n);
    (void)PyObject_Hash(s); /* cannot fail for a str; computed once, kept in the str */
    Py_XSETREF(*slot, Py_NewRef(s));
    return s;
}

#endif /* JP_NAMES_H */
