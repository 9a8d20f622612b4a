/*
 * router.c - the Matcher type (the compiled route table) and jp_router_match (layer 1).
 *
 * Input. The Python shell (src/japronto/router.py) validates patterns and hands Matcher() one
 * tuple per route, in registration order:
 *
 *     (route, handler, is_coroutine, methods, segments)
 *
 * methods is None (any method) or a non-empty tuple of bytes compared exactly with the request's
 * method; segments is a non-empty tuple with one (text: bytes, name: str | None) pair for each
 * '/'-separated piece of the pattern after its leading '/': name None is a literal segment that
 * must equal the decoded request segment; a name is a placeholder whose value is the rest of the
 * decoded request segment after the literal prefix text, and which must not be empty.
 *
 * Semantics. The first route, in registration order, whose segments match the path and whose
 * methods contain the request's method wins. If some routes match the path but none the method,
 * the answer is JP_MATCH_BAD_METHOD with an Allow line listing the union of their methods, sorted
 * bytewise and deduplicated. The request path is split at raw '/' before decoding (url.h), so an
 * encoded "%2F" stays inside its segment; literal text compares with the decoded segment, so a
 * route "/caf\xc3\xa9" matches "/caf%C3%A9". Placeholder values are str decoded from UTF-8 with
 * "surrogateescape": bytes that are not UTF-8 ("%FF") still match, and the handler can recover
 * them exactly with value.encode("utf-8", "surrogateescape"). Nothing here knows about HEAD:
 * router.py adds HEAD to the methods of every route that allows GET.
 *
 * Speed. Most apps have few routes and literal paths, so:
 *   - every route without placeholders is in an open-addressing hash table keyed by its decoded
 *     path ("/" + segments joined by "/"). A request path without a valid escape is its own
 *     decoded form and is looked up as is: no copy, no split, no allocation, no Python call.
 *     Each table entry holds, precomputed, every route (literal or with placeholders) that
 *     matches that path, in registration order, and the Allow line for when none takes the
 *     method: a hit is final. A path whose length no key has (a bit set of key lengths) is not
 *     even hashed, and the hash takes a word at a time.
 *   - only on a miss are the routes with placeholders tried, in registration order. A path
 *     without a valid escape is matched raw, each route walking its bytes once
 *     (router_route_matches_raw: no split into an array first, values found a word at a time);
 *     a path with escapes is split and decoded, and a route with another segment count is
 *     skipped at once. A match_dict is made only for the route that wins: its keys are the
 *     placeholder names (interned by router.py, so a handler's m["id"] finds them by identity,
 *     and their hash is computed once), and an ASCII value is copied into its str instead of
 *     going through the UTF-8 decoder.
 *   - a path with escapes is decoded segment by segment into a stack buffer (heap only beyond
 *     ROUTER_STACK_PATH bytes or ROUTER_STACK_SEGMENTS segments); if a decoded segment holds a
 *     '/', no literal route can match it and the table is skipped.
 *   - Allow lines are interned in the matcher (made once per distinct line) so the pointer
 *     handed out stays valid for the matcher's life.
 *
 * Ownership and invariants.
 *   - self->spec (a tuple, immutable) owns every object and byte the C tables point to: routes,
 *     handlers, placeholder names, literal text and method bytes. The tables hold borrowed
 *     pointers into it and are freed, all together, before it is released (router_free_tables).
 *   - The matcher is a GC type because handlers commonly reach the app that owns the matcher.
 *     tp_clear frees the tables first, so a matcher cleared by the collector but still reached
 *     by a finaliser matches nothing instead of reading freed memory.
 *   - jp_router_match runs no Python code of its own: placeholder names and values are exact
 *     str (hashing and comparing them is C). Making match_dict allocates Python objects, and on
 *     CPython < 3.12 such an allocation may run a garbage collection and so finalisers; the
 *     tables never change after the build, so such code cannot change a match in progress, and
 *     the Allow scratch buffers (matcher-owned) are never in use across an object allocation,
 *     so a finaliser matching on the same matcher cannot clobber them. The caller holds a
 *     reference to the matcher for the duration of the call.
 *   - The type is not subclassable, so a matcher's layout is always this struct.
 */
#include "router.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

/* Paths longer or with more segments than this need a heap buffer to be decoded and split;
 * nearly every real path fits, and the stack frame stays small. */
#define ROUTER_STACK_PATH 1024
#define ROUTER_STACK_SEGMENTS 32

/* The request method has not been looked up in the method table yet. */
#define ROUTER_MID_UNKNOWN (-2)
/* The request method is in no route's method set. */
#define ROUTER_MID_NONE (-1)

typedef struct router_segment {
    const char *text; /* literal text, or the placeholder's literal prefix (bytes in spec) */
    size_t len;
    PyObject *name; /* borrowed from spec: the placeholder's name, NULL for a literal */
} router_segment;

typedef struct router_route {
    PyObject *route;   /* borrowed from spec */
    PyObject *handler; /* borrowed from spec */
    int is_coroutine;
    int any_method;           /* methods was None */
    size_t n_methods;         /* ids into the matcher's method table, ascending, distinct */
    uint32_t *methods;        /* points into router_matcher.method_ids */
    uint64_t method_bits;     /* bit i set for each id i < 64 in methods: the usual check */
    size_t n_segments;        /* >= 1 */
    router_segment *segments; /* points into router_matcher.segments */
    size_t n_placeholders;
    const char *key; /* routes without placeholders: the decoded path, in router_matcher.keys */
    size_t key_len;
} router_route;

typedef struct router_bucket {
    const char *key; /* NULL: an empty slot */
    size_t key_len;
    uint64_t hash;
    uint32_t *candidates; /* route indices matching this path, ascending; owned */
    size_t n_candidates;
    const char *allow; /* interned Allow line when no candidate takes every method, else NULL */
    size_t allow_len;
} router_bucket;

typedef struct router_line {
    char *ptr; /* owned */
    size_t len;
} router_line;

typedef struct router_matcher {
    PyObject ob_base; /* PyObject_HEAD, spelled out so that clang-format keeps it alone */
    PyObject *spec;   /* tuple of route tuples: owns everything the tables point to */

    size_t n_routes;
    router_route *routes;
    router_segment *segments; /* every route's segments, one allocation */
    uint32_t *method_ids;     /* every route's method ids, one allocation */

    size_t n_methods;
    jp_url_slice *methods; /* distinct methods, sorted bytewise; bytes in spec */

    size_t n_pattern_routes;
    uint32_t *pattern_routes; /* indices of the routes with placeholders, ascending */

    size_t bucket_mask; /* table size - 1; the table is NULL when there is no literal route */
    router_bucket *buckets;
    uint64_t literal_lens; /* router_len_bit of every key in the table: a path whose bit is not
                            * set is no key, and is not hashed (most misses are such paths) */
    size_t max_pattern_segments; /* the most segments of a route with placeholders */
    char *keys;                  /* the literal routes' decoded paths, one allocation */

    unsigned char *allow_seen; /* scratch: one flag per method while an Allow line is built */
    char *allow_scratch;       /* scratch: room for the longest possible Allow line */
    size_t n_lines, cap_lines;
    router_line *lines; /* interned Allow lines */
} router_matcher;

/* A request path split into segments, decoded when it had escapes. */
typedef struct router_path {
    jp_url_slice *segs;
    size_t n;
    const char *key; /* the decoded path, segments joined by '/' */
    size_t key_len;
    int literal_possible; /* no decoded segment contains '/' */
    jp_url_slice *heap_segs;
    char *heap_buf;
    jp_url_slice stack_segs[ROUTER_STACK_SEGMENTS];
    char stack_buf[ROUTER_STACK_PATH];
} router_path;

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */

/* FNV-1a over 8-byte words (the last word, when the length is not a multiple of 8, overlaps
 * the one before it; a path shorter than a word goes byte by byte), with the length mixed in
 * first. Paths are short, so a simple hash costs less than a fancy one, and a word at a time
 * costs an eighth of the classic byte at a time. Only this file uses it, for its own table. */
static uint64_t
router_hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL ^ len;
    if (len < 8) {
        for (size_t i = 0; i < len; i++) {
            h ^= (unsigned char)s[i];
            h *= 1099511628211ULL;
        }
        return h;
    }
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
    }
    if (i < len) {
        uint64_t w;
        memcpy(&w, s + len - 8, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
    }
    return h;
}

/* The bit of a path length in router_matcher.literal_lens: lengths of 63 and more share one. */
static inline uint64_t
router_len_bit(size_t len)
{
    return (uint64_t)1 << (len < 63 ? len : 63);
}

static int
router_slice_compare(const void *a, const void *b)
{
    const jp_url_slice *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;
    if (c != 0)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int
router_u32_compare(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Whether route r's segments match the (decoded) segments segs, of which there are exactly
 * r->n_segments. */
static int
router_route_matches(const router_route *r, const jp_url_slice *segs)
{
    for (size_t i = 0; i < r->n_segments; i++) {
        const router_segment *s = &r->segments[i];
        const jp_url_slice *v = &segs[i];
        if (s->name == NULL) {
            if (v->len != s->len || (s->len && memcmp(v->ptr, s->text, s->len) != 0))
                return 0;
        } else if (v->len <= s->len || (s->len && memcmp(v->ptr, s->text, s->len) != 0)) {
            return 0; /* a placeholder's value must not be empty */
        }
    }
    return 1;
}

/* The id of the request's method in the method table, or ROUTER_MID_NONE. The table is tiny
 * (usually one to five methods), so a linear scan beats anything cleverer. */
static int32_t
router_method_id(const router_matcher *self, const char *method, size_t method_len)
{
    for (size_t i = 0; i < self->n_methods; i++) {
        const jp_url_slice *m = &self->methods[i];
        if (m->len == method_len && jp_url_equal(m->ptr, method, method_len))
            return (int32_t)i;
    }
    return ROUTER_MID_NONE;
}

/* Whether r takes the request's method; *mid caches the method's id across routes. */
static inline int
router_route_allows(const router_matcher *self, const router_route *r, const char *method,
                    size_t method_len, int32_t *mid)
{
    if (r->any_method)
        return 1;
    if (*mid == ROUTER_MID_UNKNOWN)
        *mid = router_method_id(self, method, method_len);
    if (*mid < 0)
        return 0;
    if (*mid < 64)
        return (int)((r->method_bits >> *mid) & 1);
    for (size_t i = 0; i < r->n_methods; i++)
        if (r->methods[i] == (uint32_t)*mid)
            return 1;
    return 0;
}

static void
router_mark_methods(router_matcher *self, const router_route *r)
{
    for (size_t i = 0; i < r->n_methods; i++)
        self->allow_seen[r->methods[i]] = 1;
}

/* Builds the Allow line for the methods flagged in self->allow_seen and returns the interned
 * copy, made on first use. Returns 0, or -1 with MemoryError set. Cannot run Python code. */
static int
router_allow_line(router_matcher *self, const char **line, size_t *len)
{
    char *p = self->allow_scratch;
    memcpy(p, "Allow: ", 7);
    p += 7;
    int first = 1;
    for (size_t i = 0; i < self->n_methods; i++) {
        if (!self->allow_seen[i])
            continue;
        if (!first) {
            memcpy(p, ", ", 2);
            p += 2;
        }
        first = 0;
        memcpy(p, self->methods[i].ptr, self->methods[i].len);
        p += self->methods[i].len;
    }
    memcpy(p, "\r\n", 2);
    p += 2;
    size_t n = (size_t)(p - self->allow_scratch);

    for (size_t i = 0; i < self->n_lines; i++) {
        if (self->lines[i].len == n && memcmp(self->lines[i].ptr, self->allow_scratch, n) == 0) {
            *line = self->lines[i].ptr;
            *len = n;
            return 0;
        }
    }
    if (self->n_lines == self->cap_lines) {
        size_t cap = self->cap_lines ? 2 * self->cap_lines : 4;
        router_line *grown = PyMem_Realloc(self->lines, cap * sizeof(router_line));
        if (grown == NULL)
            goto nomem;
        self->lines = grown;
        self->cap_lines = cap;
    }
    char *copy = PyMem_Malloc(n);
    if (copy == NULL)
        goto nomem;
    memcpy(copy, self->allow_scratch, n);
    self->lines[self->n_lines].ptr = copy;
    self->lines[self->n_lines].len = n;
    self->n_lines++;
    *line = copy;
    *len = n;
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Request paths                                                                               */

static void
router_path_init(router_path *p)
{
    p->segs = NULL;
    p->n = 0;
    p->key = NULL;
    p->key_len = 0;
    p->literal_possible = 1;
    p->heap_segs = NULL;
    p->heap_buf = NULL;
}

static void
router_path_release(router_path *p)
{
    PyMem_Free(p->heap_segs);
    PyMem_Free(p->heap_buf);
    p->heap_segs = NULL;
    p->heap_buf = NULL;
}

/* Splits the absolute path path[0..len) into p->segs, without decoding. Returns 0, or -1 with
 * MemoryError set. */
static int
router_path_split(router_path *p, const char *path, size_t len)
{
    size_t n = jp_path_split(path, len, p->stack_segs, ROUTER_STACK_SEGMENTS);
    p->segs = p->stack_segs;
    if (n > ROUTER_STACK_SEGMENTS) {
        p->heap_segs = PyMem_Malloc(n * sizeof(jp_url_slice));
        if (p->heap_segs == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        p->segs = p->heap_segs;
        (void)jp_path_split(path, len, p->segs, n);
    }
    p->n = n;
    p->key = path;
    p->key_len = len;
    return 0;
}

/* Splits path[0..len) at its raw '/' and decodes each segment, so that p->segs are the decoded
 * segments and p->key the decoded path with the original separators. Returns 0, or -1 with
 * MemoryError set. */
static int
router_path_decode(router_path *p, const char *path, size_t len)
{
    if (router_path_split(p, path, len) < 0)
        return -1;
    /* Decoding never lengthens, so len bytes hold the decoded path. */
    char *buf = p->stack_buf;
    if (len > ROUTER_STACK_PATH) {
        p->heap_buf = PyMem_Malloc(len);
        if (p->heap_buf == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        buf = p->heap_buf;
    }
    size_t o = 0;
    for (size_t i = 0; i < p->n; i++) {
        jp_url_slice *s = &p->segs[i];
        buf[o++] = '/';
        size_t n = jp_percent_decode(buf + o, s->ptr, s->len, NULL);
        s->ptr = buf + o;
        s->len = n;
        if (n && memchr(buf + o, '/', n) != NULL)
            p->literal_possible = 0;
        o += n;
    }
    p->key = buf;
    p->key_len = o;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Matching                                                                                    */

static const router_bucket *
router_lookup(const router_matcher *self, const char *key, size_t len)
{
    if (!(self->literal_lens & router_len_bit(len)))
        return NULL;
    uint64_t h = router_hash(key, len);
    /* The table is at most half full, so the probe always reaches an empty slot. */
    for (size_t i = (size_t)h & self->bucket_mask;; i = (i + 1) & self->bucket_mask) {
        const router_bucket *b = &self->buckets[i];
        if (b->key == NULL)
            return NULL;
        if (b->hash == h && b->key_len == len && memcmp(b->key, key, len) == 0)
            return b;
    }
}

/* A placeholder's value, decoded bytes p[0..n) (n >= 1), as str: UTF-8 with "surrogateescape".
 * ASCII bytes (nearly every value) are their own decoding, and their str is made by copying
 * them, which gives the same str without the decoder's work; one byte goes to the decoder,
 * which returns CPython's shared one-character string. */
static PyObject *
router_value_str(const char *p, size_t n)
{
    if (n > 1 && jp_is_ascii(p, n)) {
        PyObject *s = PyUnicode_New((Py_ssize_t)n, 127);
        if (s != NULL)
            (void)jp_copy_small((char *)PyUnicode_1BYTE_DATA(s), p, n);
        return s;
    }
    return PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, "surrogateescape");
}

/* The dict of r's placeholder values taken from segs (decoded). New reference, or NULL with an
 * exception set. Names and values are exact str, so no Python code runs. (Copying a per-route
 * template {name: None} and replacing the values was tried: it costs more.) */
static PyObject *
router_match_dict(const router_route *r, const jp_url_slice *segs)
{
    PyObject *dict = PyDict_New();
    if (dict == NULL)
        return NULL;
    for (size_t i = 0; i < r->n_segments; i++) {
        const router_segment *s = &r->segments[i];
        if (s->name == NULL)
            continue;
        PyObject *value = router_value_str(segs[i].ptr + s->len, segs[i].len - s->len);
        if (value == NULL)
            goto error;
        int rc = PyDict_SetItem(dict, s->name, value);
        Py_DECREF(value);
        if (rc < 0)
            goto error;
    }
    return dict;
error:
    Py_DECREF(dict);
    return NULL;
}

static jp_match_result
router_found(const router_route *r, const jp_url_slice *segs, jp_match *out)
{
    if (r->n_placeholders) {
        out->match_dict = router_match_dict(r, segs);
        if (out->match_dict == NULL)
            return JP_MATCH_ERROR;
    }
    out->route = r->route;
    out->handler = r->handler;
    out->is_coroutine = r->is_coroutine;
    return JP_MATCH_FOUND;
}

/* A hit in the literal table is final: its candidates are every route matching the path. */
static jp_match_result
router_resolve_bucket(router_matcher *self, const router_bucket *b, const char *method,
                      size_t method_len, jp_match *out)
{
    int32_t mid = ROUTER_MID_UNKNOWN;
    for (size_t i = 0; i < b->n_candidates; i++) {
        const router_route *r = &self->routes[b->candidates[i]];
        if (!router_route_allows(self, r, method, method_len, &mid))
            continue;
        if (r->n_placeholders == 0) {
            /* Final for this method and any raw path that decodes to this key. */
            out->cacheable = 1;
            return router_found(r, NULL, out);
        }
        /* The request's decoded segments equal the key's, and the key holds no escape: its
         * plain split gives the values. */
        router_path p;
        router_path_init(&p);
        jp_match_result res = JP_MATCH_ERROR;
        if (router_path_split(&p, b->key, b->key_len) == 0)
            res = router_found(r, p.segs, out);
        router_path_release(&p);
        return res;
    }
    out->allow = b->allow;
    out->allow_len = b->allow_len;
    return JP_MATCH_BAD_METHOD;
}

/* Whether route r matches the absolute path path[0..len) that holds no valid escape, and which
 * is therefore its own decoded form: the same decision as router_route_matches on its split,
 * made walking the raw bytes once, without splitting them first. On a match, segs[i] is set to
 * the whole segment i for every placeholder segment i (as the split would give it); other
 * entries are left alone. segs has room for r->n_segments entries. */
static int
router_route_matches_raw(const router_route *r, const char *path, size_t len, jp_url_slice *segs)
{
    size_t at = 0; /* path[at] is the '/' before the next segment, or at == len */
    for (size_t i = 0; i < r->n_segments; i++) {
        if (at >= len)
            return 0; /* the path has fewer segments */
        const router_segment *s = &r->segments[i];
        size_t start = ++at;
        if (len - at < s->len || !jp_url_equal(path + at, s->text, s->len))
            return 0;
        at += s->len;
        if (s->name == NULL) {
            if (at < len && path[at] != '/')
                return 0; /* the segment is longer than the literal */
            continue;
        }
        size_t end = jp_url_find(path, at, len, '/');
        if (end == at)
            return 0; /* a placeholder's value must not be empty */
        segs[i].ptr = path + start;
        segs[i].len = end - start;
        at = end;
    }
    return at == len; /* else the path has more segments */
}

/* In a scan: r's path matched but its methods do not take this one; they join the Allow
 * line (the first such route starts it afresh). */
static void
router_path_matched(router_matcher *self, const router_route *r, int *path_matched)
{
    if (!*path_matched)
        memset(self->allow_seen, 0, self->n_methods);
    *path_matched = 1;
    router_mark_methods(self, r);
}

/* The end of a scan that found no route for the method: 404, or 405 with the Allow line. */
static jp_match_result
router_scan_end(router_matcher *self, int path_matched, jp_match *out)
{
    if (!path_matched)
        return JP_MATCH_NOT_FOUND;
    if (router_allow_line(self, &out->allow, &out->allow_len) < 0)
        return JP_MATCH_ERROR;
    return JP_MATCH_BAD_METHOD;
}

/* router_scan for an escape-free path that is not split (see router_route_matches_raw); only
 * used when every route with placeholders has at most ROUTER_STACK_SEGMENTS segments. */
static jp_match_result
router_scan_raw(router_matcher *self, const char *path, size_t len, const char *method,
                size_t method_len, jp_match *out)
{
    jp_url_slice segs[ROUTER_STACK_SEGMENTS];
    int32_t mid = ROUTER_MID_UNKNOWN;
    int path_matched = 0;
    for (size_t k = 0; k < self->n_pattern_routes; k++) {
        const router_route *r = &self->routes[self->pattern_routes[k]];
        if (!router_route_matches_raw(r, path, len, segs))
            continue;
        if (router_route_allows(self, r, method, method_len, &mid))
            return router_found(r, segs, out);
        router_path_matched(self, r, &path_matched);
    }
    return router_scan_end(self, path_matched, out);
}

static jp_match_result
router_scan(router_matcher *self, const router_path *p, const char *method, size_t method_len,
            jp_match *out)
{
    int32_t mid = ROUTER_MID_UNKNOWN;
    int path_matched = 0;
    for (size_t k = 0; k < self->n_pattern_routes; k++) {
        const router_route *r = &self->routes[self->pattern_routes[k]];
        if (r->n_segments != p->n || !router_route_matches(r, p->segs))
            continue;
        if (router_route_allows(self, r, method, method_len, &mid))
            return router_found(r, p->segs, out);
        router_path_matched(self, r, &path_matched);
    }
    return router_scan_end(self, path_matched, out);
}

/* jp_router_match for a path that must be split into a router_path (it has escapes to decode,
 * or some route has more segments than the unsplit scan handles): out of line, so that the
 * common path does not set up this function's large stack frame. */
static __attribute__((noinline)) jp_match_result
router_match_split(router_matcher *self, const char *method, size_t method_len,
                   const char *path, size_t path_len, int decode, jp_match *out)
{
    jp_match_result res;
    router_path p;
    router_path_init(&p);
    if (!decode) {
        if (router_path_split(&p, path, path_len) < 0) {
            res = JP_MATCH_ERROR;
            goto done;
        }
    } else {
        if (router_path_decode(&p, path, path_len) < 0) {
            res = JP_MATCH_ERROR;
            goto done;
        }
        if (p.literal_possible && self->buckets != NULL) {
            const router_bucket *b = router_lookup(self, p.key, p.key_len);
            if (b != NULL) {
                res = router_resolve_bucket(self, b, method, method_len, out);
                goto done;
            }
        }
    }
    res = router_scan(self, &p, method, method_len, out);
done:
    router_path_release(&p);
    return res;
}

jp_match_result
jp_router_match(PyObject *matcher, const char *method, size_t method_len, const char *path,
                size_t path_len, jp_match *out)
{
    router_matcher *self = (router_matcher *)matcher;
    out->cacheable = 0;
    out->route = NULL;
    out->handler = NULL;
    out->match_dict = NULL;
    out->allow = NULL;
    out->allow_len = 0;
    out->is_coroutine = 0;
    if (path_len == 0 || path[0] != '/' || self->n_routes == 0)
        return JP_MATCH_NOT_FOUND; /* "*" (OPTIONS) or a matcher cleared by the collector */
    if (jp_percent_find_escape(path, path_len) != path_len)
        return router_match_split(self, method, method_len, path, path_len, 1, out);
    /* The fast path: the raw path is its own decoded form. */
    if (self->buckets != NULL && (self->literal_lens & router_len_bit(path_len))) {
        const router_bucket *b = router_lookup(self, path, path_len);
        if (b != NULL)
            return router_resolve_bucket(self, b, method, method_len, out);
    }
    if (self->n_pattern_routes == 0)
        return JP_MATCH_NOT_FOUND;
    if (self->max_pattern_segments <= ROUTER_STACK_SEGMENTS)
        return router_scan_raw(self, path, path_len, method, method_len, out);
    return router_match_split(self, method, method_len, path, path_len, 0, out);
}

/* ------------------------------------------------------------------------------------------ */
/* Building the tables                                                                         */

static void
router_free_tables(router_matcher *self)
{
    if (self->buckets != NULL) {
        for (size_t i = 0; i <= self->bucket_mask; i++)
            PyMem_Free(self->buckets[i].candidates);
    }
    for (size_t i = 0; i < self->n_lines; i++)
        PyMem_Free(self->lines[i].ptr);
    PyMem_Free(self->lines);
    PyMem_Free(self->routes);
    PyMem_Free(self->segments);
    PyMem_Free(self->method_ids);
    PyMem_Free(self->methods);
    PyMem_Free(self->pattern_routes);
    PyMem_Free(self->buckets);
    PyMem_Free(self->keys);
    PyMem_Free(self->allow_seen);
    PyMem_Free(self->allow_scratch);
    self->n_routes = 0;
    self->routes = NULL;
    self->segments = NULL;
    self->method_ids = NULL;
    self->n_methods = 0;
    self->methods = NULL;
    self->n_pattern_routes = 0;
    self->pattern_routes = NULL;
    self->bucket_mask = 0;
    self->buckets = NULL;
    self->literal_lens = 0;
    self->max_pattern_segments = 0;
    self->keys = NULL;
    self->allow_seen = NULL;
    self->allow_scratch = NULL;
    self->n_lines = 0;
    self->cap_lines = 0;
    self->lines = NULL;
}

/* Checks one route tuple and counts its segments and methods. Returns 0 or -1 with
 * TypeError/ValueError set. */
static int
router_check_item(PyObject *item, size_t index, size_t *n_segments, size_t *n_methods)
{
    if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 5) {
        PyErr_Format(PyExc_TypeError,
                     "Matcher: route %zu must be a tuple "
                     "(route, handler, is_coroutine, methods, segments)",
                     index);
        return -1;
    }
    if (!PyCallable_Check(PyTuple_GET_ITEM(item, 1))) {
        PyErr_Format(PyExc_TypeError, "Matcher: route %zu: handler is not callable", index);
        return -1;
    }
    PyObject *methods = PyTuple_GET_ITEM(item, 3);
    if (methods != Py_None) {
        if (!PyTuple_CheckExact(methods) || PyTuple_GET_SIZE(methods) == 0) {
            PyErr_Format(PyExc_TypeError,
                         "Matcher: route %zu: methods must be None or a non-empty tuple of bytes",
                         index);
            return -1;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(methods); i++) {
            PyObject *m = PyTuple_GET_ITEM(methods, i);
            if (!PyBytes_CheckExact(m) || PyBytes_GET_SIZE(m) == 0) {
                PyErr_Format(PyExc_TypeError,
                             "Matcher: route %zu: a method must be non-empty bytes", index);
                return -1;
            }
        }
        *n_methods += (size_t)PyTuple_GET_SIZE(methods);
    }
    PyObject *segments = PyTuple_GET_ITEM(item, 4);
    if (!PyTuple_CheckExact(segments) || PyTuple_GET_SIZE(segments) == 0) {
        PyErr_Format(PyExc_TypeError, "Matcher: route %zu: segments must be a non-empty tuple",
                     index);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(segments); i++) {
        PyObject *seg = PyTuple_GET_ITEM(segments, i);
        if (!PyTuple_CheckExact(seg) || PyTuple_GET_SIZE(seg) != 2 ||
            !PyBytes_CheckExact(PyTuple_GET_ITEM(seg, 0)) ||
            (PyTuple_GET_ITEM(seg, 1) != Py_None &&
             !PyUnicode_CheckExact(PyTuple_GET_ITEM(seg, 1)))) {
            PyErr_Format(PyExc_TypeError,
                         "Matcher: route %zu: a segment must be a tuple (bytes, str | None)",
                         index);
            return -1;
        }
        PyObject *text = PyTuple_GET_ITEM(seg, 0);
        if (memchr(PyBytes_AS_STRING(text), '/', (size_t)PyBytes_GET_SIZE(text)) != NULL) {
            PyErr_Format(PyExc_ValueError, "Matcher: route %zu: a segment contains '/'", index);
            return -1;
        }
        /* Duplicate names would silently overwrite each other in match_dict. */
        PyObject *name = PyTuple_GET_ITEM(seg, 1);
        for (Py_ssize_t j = 0; name != Py_None && j < i; j++) {
            PyObject *other = PyTuple_GET_ITEM(PyTuple_GET_ITEM(segments, j), 1);
            if (other != Py_None && PyUnicode_Compare(name, other) == 0) {
                PyErr_Format(PyExc_ValueError, "Matcher: route %zu: duplicate placeholder %R",
                             index, name);
                return -1;
            }
        }
    }
    *n_segments += (size_t)PyTuple_GET_SIZE(segments);
    return 0;
}

/* Fills self->routes, segments and method ids from self->spec (already checked), and makes the
 * sorted table of distinct methods. Returns 0 or -1 with an exception set. */
static int
router_build_routes(router_matcher *self, size_t n_segments, size_t n_methods)
{
    size_t n = self->n_routes;
    self->routes = PyMem_Calloc(n ? n : 1, sizeof(router_route));
    self->segments = PyMem_Calloc(n_segments ? n_segments : 1, sizeof(router_segment));
    self->method_ids = PyMem_Calloc(n_methods ? n_methods : 1, sizeof(uint32_t));
    self->methods = PyMem_Calloc(n_methods ? n_methods : 1, sizeof(jp_url_slice));
    if (!self->routes || !self->segments || !self->method_ids || !self->methods) {
        PyErr_NoMemory();
        return -1;
    }

    /* All methods, sorted and deduplicated, give the table; ids are positions in it, so
     * walking flags in id order writes an Allow line already sorted. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        PyObject *methods = PyTuple_GET_ITEM(PyTuple_GET_ITEM(self->spec, i), 3);
        for (Py_ssize_t j = 0; methods != Py_None && j < PyTuple_GET_SIZE(methods); j++) {
            PyObject *b = PyTuple_GET_ITEM(methods, j);
            self->methods[m].ptr = PyBytes_AS_STRING(b);
            self->methods[m].len = (size_t)PyBytes_GET_SIZE(b);
            m++;
        }
    }
    if (m) {
        qsort(self->methods, m, sizeof(jp_url_slice), router_slice_compare);
        size_t u = 1;
        for (size_t i = 1; i < m; i++)
            if (router_slice_compare(&self->methods[u - 1], &self->methods[i]) != 0)
                self->methods[u++] = self->methods[i];
        m = u;
    }
    self->n_methods = m;

    size_t seg_at = 0, mid_at = 0;
    for (size_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(self->spec, i);
        router_route *r = &self->routes[i];
        r->route = PyTuple_GET_ITEM(item, 0);
        r->handler = PyTuple_GET_ITEM(item, 1);
        int coro = PyObject_IsTrue(PyTuple_GET_ITEM(item, 2));
        if (coro < 0)
            return -1;
        r->is_coroutine = coro;

        PyObject *methods = PyTuple_GET_ITEM(item, 3);
        r->any_method = methods == Py_None;
        r->methods = &self->method_ids[mid_at];
        for (Py_ssize_t j = 0; !r->any_method && j < PyTuple_GET_SIZE(methods); j++) {
            PyObject *b = PyTuple_GET_ITEM(methods, j);
            jp_url_slice key = {PyBytes_AS_STRING(b), (size_t)PyBytes_GET_SIZE(b)};
            jp_url_slice *found =
                bsearch(&key, self->methods, m, sizeof(jp_url_slice), router_slice_compare);
            r->methods[r->n_methods++] = (uint32_t)(found - self->methods);
        }
        if (r->n_methods > 1) {
            qsort(r->methods, r->n_methods, sizeof(uint32_t), router_u32_compare);
            size_t u = 1;
            for (size_t j = 1; j < r->n_methods; j++)
                if (r->methods[j] != r->methods[u - 1])
                    r->methods[u++] = r->methods[j];
            r->n_methods = u;
        }
        mid_at += r->n_methods;
        for (size_t j = 0; j < r->n_methods; j++)
            if (r->methods[j] < 64)
                r->method_bits |= (uint64_t)1 << r->methods[j];

        PyObject *segments = PyTuple_GET_ITEM(item, 4);
        r->segments = &self->segments[seg_at];
        r->n_segments = (size_t)PyTuple_GET_SIZE(segments);
        seg_at += r->n_segments;
        for (size_t j = 0; j < r->n_segments; j++) {
            PyObject *seg = PyTuple_GET_ITEM(segments, (Py_ssize_t)j);
            PyObject *text = PyTuple_GET_ITEM(seg, 0);
            PyObject *name = PyTuple_GET_ITEM(seg, 1);
            r->segments[j].text = PyBytes_AS_STRING(text);
            r->segments[j].len = (size_t)PyBytes_GET_SIZE(text);
            r->segments[j].name = name == Py_None ? NULL : name;
            r->n_placeholders += name != Py_None;
        }
    }
    return 0;
}

/* Builds the literal table: one bucket per distinct literal path, holding every route that
 * matches it. Returns 0 or -1 with MemoryError set. */
static int
router_build_literals(router_matcher *self)
{
    size_t n = self->n_routes, n_literal = 0, key_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const router_route *r = &self->routes[i];
        if (r->n_placeholders)
            continue;
        n_literal++;
        for (size_t j = 0; j < r->n_segments; j++)
            key_bytes += 1 + r->segments[j].len;
    }
    self->pattern_routes = PyMem_Calloc(n - n_literal ? n - n_literal : 1, sizeof(uint32_t));
    if (self->pattern_routes == NULL)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        const router_route *r = &self->routes[i];
        if (!r->n_placeholders)
            continue;
        self->pattern_routes[self->n_pattern_routes++] = (uint32_t)i;
        if (r->n_segments > self->max_pattern_segments)
            self->max_pattern_segments = r->n_segments;
    }
    if (n_literal == 0)
        return 0;

    size_t size = 8;
    while (size < 2 * n_literal)
        size *= 2;
    self->buckets = PyMem_Calloc(size, sizeof(router_bucket));
    self->bucket_mask = size - 1;
    self->keys = PyMem_Malloc(key_bytes);
    if (self->buckets == NULL || self->keys == NULL)
        goto nomem;

    char *k = self->keys;
    for (size_t i = 0; i < n; i++) {
        router_route *r = &self->routes[i];
        if (r->n_placeholders)
            continue;
        r->key = k;
        for (size_t j = 0; j < r->n_segments; j++) {
            *k++ = '/';
            memcpy(k, r->segments[j].text, r->segments[j].len);
            k += r->segments[j].len;
        }
        r->key_len = (size_t)(k - r->key);
        self->literal_lens |= router_len_bit(r->key_len);
        uint64_t h = router_hash(r->key, r->key_len);
        size_t at = (size_t)h & self->bucket_mask;
        while (self->buckets[at].key != NULL &&
               !(self->buckets[at].hash == h && self->buckets[at].key_len == r->key_len &&
                 memcmp(self->buckets[at].key, r->key, r->key_len) == 0))
            at = (at + 1) & self->bucket_mask;
        if (self->buckets[at].key == NULL) {
            self->buckets[at].key = r->key;
            self->buckets[at].key_len = r->key_len;
            self->buckets[at].hash = h;
        }
    }
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* For each bucket, the routes matching its path in order (stopping after the first that takes
 * any method, since none after it can win), and its Allow line. Returns 0 or -1. */
static int
router_build_candidates(router_matcher *self)
{
    int ret = -1;
    size_t n = self->n_routes;
    uint32_t *found = PyMem_Malloc((n ? n : 1) * sizeof(uint32_t));
    if (found == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t bi = 0; self->buckets != NULL && bi <= self->bucket_mask; bi++) {
        router_bucket *b = &self->buckets[bi];
        if (b->key == NULL)
            continue;
        router_path p;
        router_path_init(&p);
        if (router_path_split(&p, b->key, b->key_len) < 0)
            goto done;
        size_t count = 0;
        int any = 0;
        memset(self->allow_seen, 0, self->n_methods);
        for (size_t i = 0; i < n && !any; i++) {
            const router_route *r = &self->routes[i];
            int match = r->n_placeholders == 0
                            ? r->key_len == b->key_len && memcmp(r->key, b->key, b->key_len) == 0
                            : r->n_segments == p.n && router_route_matches(r, p.segs);
            if (!match)
                continue;
            found[count++] = (uint32_t)i;
            any = r->any_method;
            router_mark_methods(self, r);
        }
        router_path_release(&p);
        b->candidates = PyMem_Malloc(count * sizeof(uint32_t));
        if (b->candidates == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        memcpy(b->candidates, found, count * sizeof(uint32_t));
        b->n_candidates = count;
        if (!any && router_allow_line(self, &b->allow, &b->allow_len) < 0)
            goto done;
    }
    ret = 0;
done:
    PyMem_Free(found);
    return ret;
}

/* Compiles routes (any iterable of route tuples) into self. Returns 0 or -1 with an exception;
 * on failure the caller releases self, whose fields are always safe to free. */
static int
router_build(router_matcher *self, PyObject *routes)
{
    self->spec = PySequence_Tuple(routes);
    if (self->spec == NULL)
        return -1;
    size_t n = (size_t)PyTuple_GET_SIZE(self->spec);
    if (n > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "Matcher: too many routes");
        return -1;
    }
    size_t n_segments = 0, n_methods = 0;
    for (size_t i = 0; i < n; i++)
        if (router_check_item(PyTuple_GET_ITEM(self->spec, i), i, &n_segments, &n_methods) < 0)
            return -1;
    self->n_routes = n;
    if (router_build_routes(self, n_segments, n_methods) < 0)
        goto error;

    /* The longest Allow line: every method, separated by ", ". */
    size_t allow_max = sizeof("Allow: \r\n");
    for (size_t i = 0; i < self->n_methods; i++)
        allow_max += self->methods[i].len + 2;
    self->allow_seen = PyMem_Calloc(self->n_methods ? self->n_methods : 1, 1);
    self->allow_scratch = PyMem_Malloc(allow_max);
    if (self->allow_seen == NULL || self->allow_scratch == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    if (router_build_literals(self) < 0 || router_build_candidates(self) < 0)
        goto error;
    return 0;
error:
    router_free_tables(self);
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* The Python type                                                                             */

static PyObject *
router_matcher_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"routes", NULL};
    PyObject *routes;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Matcher", kwlist, &routes))
        return NULL;
    /* tp_alloc zeroes the object, so it is safe to deallocate from here on. */
    router_matcher *self = (router_matcher *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (router_build(self, routes) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
router_matcher_traverse(PyObject *op, visitproc visit, void *arg)
{
    router_matcher *self = (router_matcher *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->spec);
    return 0;
}

static int
router_matcher_clear(PyObject *op)
{
    router_matcher *self = (router_matcher *)op;
    /* The tables point into spec: they go first. */
    router_free_tables(self);
    Py_CLEAR(self->spec);
    return 0;
}

static void
router_matcher_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)router_matcher_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

/* Borrows the bytes of a str (as UTF-8) or bytes argument. */
static int
router_arg_bytes(PyObject *obj, const char *what, const char **ptr, size_t *len)
{
    if (PyBytes_Check(obj)) {
        *ptr = PyBytes_AS_STRING(obj);
        *len = (size_t)PyBytes_GET_SIZE(obj);
        return 0;
    }
    if (PyUnicode_Check(obj)) {
        Py_ssize_t n;
        *ptr = PyUnicode_AsUTF8AndSize(obj, &n);
        if (*ptr == NULL)
            return -1;
        *len = (size_t)n;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "Matcher.match: %s must be str or bytes, not %.100s", what,
                 Py_TYPE(obj)->tp_name);
    return -1;
}

PyDoc_STRVAR(router_matcher_match_doc,
             "match(method, path)\n--\n\n"
             "Matches as the server does, for tests and tools. method and path (raw, still\n"
             "percent-encoded, without the query) are str or bytes. Returns\n"
             "(route, match_dict, is_coroutine) when a route matches, None when none matches\n"
             "the path, and ('method_not_allowed', b'Allow: ...\\r\\n') when routes match the\n"
             "path but not the method.");

static PyObject *
router_matcher_match(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "Matcher.match takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    const char *method, *path;
    size_t method_len, path_len;
    if (router_arg_bytes(args[0], "method", &method, &method_len) < 0 ||
        router_arg_bytes(args[1], "path", &path, &path_len) < 0)
        return NULL;
    jp_match m;
    switch (jp_router_match(op, method, method_len, path, path_len, &m)) {
    case JP_MATCH_FOUND: {
        if (m.match_dict == NULL && (m.match_dict = PyDict_New()) == NULL)
            return NULL;
        PyObject *res = PyTuple_Pack(3, m.route, m.match_dict, m.is_coroutine ? Py_True : Py_False);
        Py_DECREF(m.match_dict);
        return res;
    }
    case JP_MATCH_NOT_FOUND:
        Py_RETURN_NONE;
    case JP_MATCH_BAD_METHOD:
        return Py_BuildValue("sy#", "method_not_allowed", m.allow, (Py_ssize_t)m.allow_len);
    default:
        return NULL;
    }
}

static PyMethodDef router_matcher_methods[] = {
    {"match", (PyCFunction)(void (*)(void))router_matcher_match, METH_FASTCALL,
     router_matcher_match_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(router_matcher_doc,
             "Matcher(routes)\n--\n\n"
             "The compiled route table; made by japronto.Router.compile(), not by hand.\n"
             "routes: an iterable of (route, handler, is_coroutine, methods, segments), in\n"
             "registration order; methods is None (any) or a tuple of bytes; segments is a\n"
             "tuple of (text: bytes, name: str | None), one per '/'-separated segment: a literal\n"
             "segment when name is None, else a placeholder after the literal prefix text.");

static PyType_Slot router_matcher_slots[] = {
    {Py_tp_doc, (void *)router_matcher_doc},
    {Py_tp_new, router_matcher_new},
    {Py_tp_dealloc, router_matcher_dealloc},
    {Py_tp_traverse, router_matcher_traverse},
    {Py_tp_clear, router_matcher_clear},
    {Py_tp_methods, router_matcher_methods},
    {0, NULL},
};

static PyType_Spec router_matcher_spec = {
    .name = "japronto._core.Matcher",
    .basicsize = sizeof(router_matcher),
    /* No Py_TPFLAGS_BASETYPE: jp_router_match relies on the exact layout. */
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | JP_TPFLAGS_IMMUTABLETYPE,
    .slots = router_matcher_slots,
};

int
jp_router_setup(PyObject *module, jp_state *st)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &router_matcher_spec, NULL);
    if (type == NULL)
        return -1;
    Py_XSETREF(st->matcher_type, (PyTypeObject *)type);
    /* PyModule_AddType takes its own reference; the state keeps the one made above. */
    return PyModule_AddType(module, st->matcher_type);
}
