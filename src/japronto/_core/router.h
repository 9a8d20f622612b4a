/*
 * router.h - the compiled route table and its matcher (layer 1).
 *
 * The Python shell (src/japronto/router.py) validates patterns and compiles them once, when the
 * app starts, into a list of segment descriptions handed to _core.Matcher(...). Matching then
 * happens in C for every request and never runs Python code.
 *
 * Matching is on the raw (still percent-encoded) path split at '/', so that "%2F" inside a
 * segment is never a separator; literal segments compare against the decoded segment, and a
 * placeholder's value is the decoded segment. A route whose method set does not contain the
 * request's method is remembered: if no route matches both, the answer is "method not allowed"
 * with the union of the allowed methods, instead of "not found".
 *
 * Decisions (router.c and src/japronto/router.py give the reasons):
 *   - the first registered route matching path and method wins;
 *   - a placeholder matches the non-empty rest of one segment after an optional literal prefix
 *     ("/user-{id}"); its value is the decoded bytes as str, UTF-8 with "surrogateescape";
 *   - a '%' not followed by two hex digits is kept literally (url.h);
 *   - "/a" and "/a/" are different paths (the trailing slash is an empty last segment);
 *   - methods compare exactly; the Python side adds HEAD to every route allowing GET, so the
 *     matcher itself knows nothing special about HEAD;
 *   - a path that does not start with '/' ("*", an absolute-form target) is JP_MATCH_NOT_FOUND.
 * Cost: a literal path (no valid %XX escape) that names a literal route is one hash lookup and
 * memcmp: no allocation, no Python object made. Allocation happens only for match_dict, for
 * paths longer than 1024 bytes or with more than 32 segments that need splitting (an
 * escape-free path against routes of at most 32 segments is matched unsplit), and the first
 * time a given Allow line is needed.
 */
#ifndef JP_ROUTER_H
#define JP_ROUTER_H

#include "state.h"

/* Creates the Matcher type, stores it in st->matcher_type, adds "Matcher" to module. */
int jp_router_setup(PyObject *module, jp_state *st);

typedef enum jp_match_result {
    JP_MATCH_ERROR = -1,       /* an exception is set (memory, or a decoding failure) */
    JP_MATCH_FOUND = 0,        /* *route, *handler, *match_dict set */
    JP_MATCH_NOT_FOUND = 1,    /* nothing matches the path */
    JP_MATCH_BAD_METHOD = 2,   /* the path matches, the method does not: *allow set */
} jp_match_result;

typedef struct jp_match {
    PyObject *route;      /* borrowed: the Route object given to the Matcher */
    PyObject *handler;    /* borrowed: route.handler */
    PyObject *match_dict; /* new reference: dict of placeholder values (str), or NULL when the
                           * route has no placeholders (the request then makes an empty dict
                           * on demand) */
    const char *allow;    /* JP_MATCH_BAD_METHOD: "Allow: GET, POST\r\n", owned by the matcher */
    size_t allow_len;
    int is_coroutine;     /* the handler is an `async def` function (known at compile time) */
    int cacheable;        /* JP_MATCH_FOUND of a route without placeholders in the literal
                           * table: the same method and the same raw path bytes always give
                           * this route again (and no match_dict), so the caller may remember
                           * the decision for as long as it holds the route and the handler */
} jp_match;

/* Matches a request. matcher must be a Matcher (unchecked). method and path are the raw bytes
 * from the request line (path without the query, still percent-encoded). Borrowed references
 * and allow stay valid while the matcher lives; hold a reference to it during the call. On every
 * return out is fully set (NULL/0 where unused). Cannot run Python code (except finalisers of a
 * garbage collection that making match_dict may trigger on CPython < 3.12, as any allocation of
 * a Python object may). */
jp_match_result jp_router_match(PyObject *matcher, const char *method, size_t method_len,
                                const char *path, size_t path_len, jp_match *out);

#endif /* JP_ROUTER_H */
