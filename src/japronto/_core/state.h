/*
 * state.h - the module state of japronto._core, shared by the layer-1 files (CPython types).
 *
 * Every Python object the engine keeps beyond one call lives here, reachable from the module
 * object: heap types, interned names, cached callables. module.c creates it (module_exec
 * calls each file's jp_<file>_setup in order), traverses and clears it. A type's methods reach
 * it through jp_state_from_type(Py_TYPE(self)); the types are not subclassable, so that lookup
 * is always valid.
 *
 * Each jp_<file>_setup(module, st) creates its heap type(s) with PyType_FromModuleAndSpec,
 * stores them in st, adds the public ones to the module, and returns 0 or -1 with an exception.
 */
#ifndef JP_STATE_H
#define JP_STATE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "buffer.h"
#include "date.h"

/* How many recent names (query names, JSON object keys) names.h keeps made (a power of two),
 * and the longest it keeps. */
#define JP_NAMES 64
#define JP_NAME_MAX 32

/* How many dead Responses a module keeps for reuse: enough for a full pipeline batch. */
#define JP_RESPONSE_FREELIST_MAX 64

/* Memory blocks of one fixed size that idle connections give back and busy ones take
 * (protocol.c): a keep-alive connection between requests then holds no read or write buffer,
 * and a busy one does not pay malloc and free for them per read. `closed` is set when the
 * module is cleared, after which blocks are freed instead of kept. */
#define JP_BLOCK_POOL_MAX 32
typedef struct jp_block_pool {
    void *blocks[JP_BLOCK_POOL_MAX];
    int n;
    int closed;
} jp_block_pool;

/* CPython 3.9 lacks a few helpers newer versions have; the same semantics here. */
#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *
jp_compat_newref(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
static inline PyObject *
jp_compat_xnewref(PyObject *o)
{
    Py_XINCREF(o);
    return o;
}
#define Py_NewRef(o) jp_compat_newref((PyObject *)(o))
#define Py_XNewRef(o) jp_compat_xnewref((PyObject *)(o))
static inline int
PyModule_AddObjectRef(PyObject *module, const char *name, PyObject *value)
{
    Py_INCREF(value);
    if (PyModule_AddObject(module, name, value) < 0) {
        Py_DECREF(value);
        return -1;
    }
    return 0;
}
#endif

#ifdef Py_TPFLAGS_DISALLOW_INSTANTIATION
#define JP_TPFLAGS_DISALLOW_INSTANTIATION Py_TPFLAGS_DISALLOW_INSTANTIATION
#else
#define JP_TPFLAGS_DISALLOW_INSTANTIATION 0
#endif

/* Types whose attributes Python code must not set (3.10+; before, nothing to ask for). */
#ifdef Py_TPFLAGS_IMMUTABLETYPE
#define JP_TPFLAGS_IMMUTABLETYPE Py_TPFLAGS_IMMUTABLETYPE
#else
#define JP_TPFLAGS_IMMUTABLETYPE 0
#endif

/* The Request attributes computed in Python, by japronto.request_helpers.get_<name>(request)
 * (request.c caches each result in the request; module.c imports the functions). */
enum {
    JP_RH_QUERY,
    JP_RH_QUERY_ALL,
    JP_RH_TEXT,
    JP_RH_JSON,
    JP_RH_MIME_TYPE,
    JP_RH_ENCODING,
    JP_RH_FORM_DATA, /* (fields, files) parsed once for the three below */
    JP_RH_FORM,
    JP_RH_FORM_ALL,
    JP_RH_FILES,
    JP_RH_COOKIES,
    JP_RH_HOSTNAME,
    JP_RH_PORT,
    JP_RH_COUNT
};

typedef struct jp_state {
    /* Heap types. */
    PyTypeObject *protocol_type; /* protocol.c: the connection */
    PyTypeObject *request_type;  /* request.c */
    PyTypeObject *response_type; /* response.c */
    PyTypeObject *matcher_type;  /* router.c: the compiled route table */
    PyTypeObject *readbuf_type;  /* protocol.c: the memory a connection reads into */

    /* Objects the Python shell hands over at start-up (see module.c: configure). */
    PyObject *json_dumps; /* callable(obj) -> str or bytes: json.dumps or a faster encoder */
    PyObject *headers_class; /* japronto.headers.Headers: made from a list of (name, value) */
    PyObject *unquote;       /* urllib.parse.unquote: percent-decoding of unusual paths */
    PyObject *request_helpers[JP_RH_COUNT]; /* request_helpers.get_<name>, by JP_RH_* */

    /* Interned attribute names, made once. */
    PyObject *str_write;
    PyObject *str_pause_reading;
    PyObject *str_resume_reading;
    PyObject *str_close;
    PyObject *str_get_extra_info;
    PyObject *str_add_done_callback;
    PyObject *str_create_task;
    PyObject *str_cancel;
    PyObject *str_text;
    PyObject *str_abort;
    PyObject *str_json;
    PyObject *str_jp_fd;

    /* The cached Date line, refreshed at most once a second by the protocol. */
    jp_date_cache date;

    /* Dead Responses kept for reuse (response.c owns them): allocating and freeing a GC
     * object costs more than building the response, and each allocation counts towards the
     * collector's next generation-0 pass, so a server answering a million requests a second
     * would run the collector over a thousand times a second for objects that never form
     * cycles. Each entry is untracked, has refcount 0, holds one reference, to its type
     * (reported by module_traverse through jp_response_state_traverse), and is freed by
     * jp_response_state_clear. response_free_cap is how many entries dealloc may keep:
     * JP_RESPONSE_FREELIST_MAX, and 0 once jp_response_state_clear has run (module_clear). */
    PyObject *response_free[JP_RESPONSE_FREELIST_MAX];
    int response_nfree;
    int response_free_cap;
    /* response.c: the keyword-name tuple ("text",) of the first Response(text=...) call seen
     * (a constant of the caller's code object, shared by the call sites of one module), held,
     * so that such calls are recognised by one pointer compare; Py_None (not held) before
     * that and once cleared, never NULL after jp_response_setup. */
    PyObject *response_text_kwnames;
    PyObject *response_json_kwnames; /* the same for json= */

    /* protocol.c: read blocks (PyMem, READBUF_INITIAL bytes) and output blocks (malloc,
     * PROTOCOL_OUT_BLOCK bytes); freed by jp_protocol_pools_clear. */
    jp_block_pool read_pool;
    jp_block_pool out_pool;

    /* response.c: where json.c writes a Response's JSON before it is copied into bytes. */
    jp_buffer json_scratch;
    int json_simd; /* response.c: the jp_simd_level json.c scans strings with (the default) */

    /* names.h: the str of names seen lately (query names, JSON object keys), by a hash of
     * their bytes. Strings hold no references: cleared by module_clear, never traversed. */
    PyObject *names[JP_NAMES];

    /* jsondecode.c (request.json): json.decoder's NaN, Infinity and -Infinity (NULL if it has
     * none). Floats hold no references: cleared by module_clear (jp_jdec_state_clear), never
     * traversed. */
    PyObject *jdec_nan;
    PyObject *jdec_inf;
    PyObject *jdec_neginf;
} jp_state;

static inline jp_state *
jp_state_from_module(PyObject *module)
{
    return (jp_state *)PyModule_GetState(module);
}

static inline jp_state *
jp_state_from_type(PyTypeObject *type)
{
    return (jp_state *)PyType_GetModuleState(type);
}

#endif /* JP_STATE_H */
