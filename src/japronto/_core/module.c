/*
 * module.c - the japronto._core extension module: multi-phase initialisation and module state
 * (layer 1).
 *
 * Ownership: every Python object the engine keeps lives in the module state (jp_state, state.h),
 * reached from the module object, never in a C global; the only C globals in the extension are
 * immutable tables and the set-once SIMD choice of simd.c. Types the later layers add
 * (protocol, request, response, router) are heap types created here from PyType_Spec and held
 * in the state, so that each (sub)interpreter gets its own and unloading frees them.
 *
 * Exec order: jp_simd_init() runs first, before any parser can exist, because parsers copy the
 * chosen level when they are initialised.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "http1.h"
#include "jsondecode.h"
#include "live.h"
#include "protocol.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "simd.h"
#include "state.h"

/* The module state is jp_state (state.h), shared with the layer-1 files. */
static inline jp_state *
module_get_state(PyObject *module)
{
    return jp_state_from_module(module);
}

PyDoc_STRVAR(module_simd_path_doc,
             "simd_path()\n--\n\n"
             "Name of the parser's scan implementation in use: 'avx2' or 'scalar'.\n"
             "Chosen once at import from the CPU; JAPRONTO_SIMD=scalar forces the portable one.");

static PyObject *
module_simd_path(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    return PyUnicode_FromString(jp_simd_name(jp_simd_default()));
}

PyDoc_STRVAR(module_live_counts_doc,
             "_live_counts()\n--\n\n"
             "For leak tests: a dict of how many native objects of each kind are alive now\n"
             "(protocols, read_buffers, requests, responses), process-wide (see live.h).\n"
             "Responses a module keeps for reuse are dead, not counted.");

static PyObject *
module_live_counts(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    for (int i = 0; i < JP_LIVE_COUNT; i++) {
        long count = jp_live[i];
        /* A dead Response kept for reuse is allocated but not alive (see live.h); those of
         * another instance of the module (a subinterpreter's) still count. */
        if (i == JP_LIVE_RESPONSE)
            count -= module_get_state(module)->response_nfree;
        PyObject *n = PyLong_FromLong(count);
        if (n == NULL || PyDict_SetItemString(d, jp_live_names[i], n) < 0) {
            Py_XDECREF(n);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(n);
    }
    return d;
}

PyDoc_STRVAR(module_json_decode_for_tests_doc,
             "_json_decode_for_tests(data)\n--\n\n"
             "Exists for tests only: request.json's C decoder (jsondecode.c) run on the bytes\n"
             "data. Returns what it decoded, or Ellipsis when it gave up (request.json then\n"
             "runs json.loads); JSON has no value that is Ellipsis.");

static PyObject *
module_json_decode_for_tests(PyObject *module, PyObject *arg)
{
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "_json_decode_for_tests() needs bytes");
        return NULL;
    }
    PyObject *v;
    if (jp_jdec_decode(module_get_state(module), PyBytes_AS_STRING(arg),
                       (size_t)PyBytes_GET_SIZE(arg), &v) == 0)
        return v;
    if (PyErr_Occurred())
        return NULL; /* a give-up must leave none set: let the test see it */
    return Py_NewRef(Py_Ellipsis);
}

static PyMethodDef module_methods[] = {
    {"simd_path", module_simd_path, METH_NOARGS, module_simd_path_doc},
    {"_live_counts", module_live_counts, METH_NOARGS, module_live_counts_doc},
    {"_json_decode_for_tests", module_json_decode_for_tests, METH_O,
     module_json_decode_for_tests_doc},
    {NULL, NULL, 0, NULL},
};

/* The parser's default limits, exported so that the Python layer documents and validates
 * configuration against the same numbers the C code uses. */
static int
module_add_limits(PyObject *module)
{
    const jp_http1_limits *d = &jp_http1_default_limits;
    if (PyModule_AddIntConstant(module, "DEFAULT_MAX_REQUEST_LINE", d->max_request_line) < 0 ||
        PyModule_AddIntConstant(module, "DEFAULT_MAX_HEAD_SIZE", d->max_head_size) < 0 ||
        PyModule_AddIntConstant(module, "DEFAULT_MAX_HEADERS", d->max_headers) < 0 ||
        PyModule_AddIntConstant(module, "DEFAULT_MAX_CHUNK_LINE", d->max_chunk_line) < 0)
        return -1;
    PyObject *body = PyLong_FromUnsignedLongLong(d->max_body_size);
    if (body == NULL)
        return -1;
    /* PyModule_AddObject steals the reference only on success. */
    if (PyModule_AddObject(module, "DEFAULT_MAX_BODY_SIZE", body) < 0) {
        Py_DECREF(body);
        return -1;
    }
    return 0;
}

/* Imports `module_name` and returns its attribute `attr` (new reference), or NULL. */
static PyObject *
module_import_attr(const char *module_name, const char *attr)
{
    PyObject *mod = PyImport_ImportModule(module_name);
    if (mod == NULL)
        return NULL;
    PyObject *r = PyObject_GetAttrString(mod, attr);
    Py_DECREF(mod);
    return r;
}

static int
module_intern(PyObject **slot, const char *s)
{
    *slot = PyUnicode_InternFromString(s);
    return *slot == NULL ? -1 : 0;
}

static int
module_exec(PyObject *module)
{
    jp_simd_init();
    jp_state *st = module_get_state(module);
    /* m_size state starts zeroed, so a failure part-way leaves only NULLs and real objects
     * for module_clear. */
    if (module_intern(&st->str_write, "write") < 0 ||
        module_intern(&st->str_pause_reading, "pause_reading") < 0 ||
        module_intern(&st->str_resume_reading, "resume_reading") < 0 ||
        module_intern(&st->str_close, "close") < 0 ||
        module_intern(&st->str_get_extra_info, "get_extra_info") < 0 ||
        module_intern(&st->str_add_done_callback, "add_done_callback") < 0 ||
        module_intern(&st->str_create_task, "create_task") < 0 ||
        module_intern(&st->str_cancel, "cancel") < 0 ||
        module_intern(&st->str_text, "text") < 0 ||
        module_intern(&st->str_abort, "abort") < 0 ||
        module_intern(&st->str_json, "json") < 0 ||
        module_intern(&st->str_jp_fd, "_jp_fd") < 0)
        return -1;
    if ((st->headers_class = module_import_attr("japronto.headers", "Headers")) == NULL ||
        (st->unquote = module_import_attr("urllib.parse", "unquote")) == NULL)
        return -1;
    for (int i = 0; i < JP_RH_COUNT; i++) {
        st->request_helpers[i] =
            module_import_attr("japronto.request_helpers", jp_request_helper_names[i]);
        if (st->request_helpers[i] == NULL)
            return -1;
    }
    if (jp_jdec_setup(st) < 0)
        return -1;
    if (jp_response_setup(module, st) < 0 || jp_router_setup(module, st) < 0 ||
        jp_request_setup(module, st) < 0 || jp_response_add_method(module, st) < 0 ||
        jp_protocol_setup(module, st) < 0)
        return -1;
    return module_add_limits(module);
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    jp_state *st = module_get_state(module);
    Py_VISIT(st->protocol_type);
    Py_VISIT(st->request_type);
    Py_VISIT(st->response_type);
    int err = jp_response_state_traverse(st, visit, arg);
    if (err)
        return err;
    Py_VISIT(st->matcher_type);
    Py_VISIT(st->readbuf_type);
    Py_VISIT(st->json_dumps);
    Py_VISIT(st->headers_class);
    Py_VISIT(st->unquote);
    for (int i = 0; i < JP_RH_COUNT; i++)
        Py_VISIT(st->request_helpers[i]);
    return 0;
}

static int
module_clear(PyObject *module)
{
    jp_state *st = module_get_state(module);
    jp_response_state_clear(st);
    jp_protocol_pools_clear(st);
    jp_buffer_free(&st->json_scratch);
    for (int i = 0; i < JP_NAMES; i++)
        Py_CLEAR(st->names[i]);
    jp_jdec_state_clear(st);
    Py_CLEAR(st->protocol_type);
    Py_CLEAR(st->request_type);
    Py_CLEAR(st->response_type);
    Py_CLEAR(st->matcher_type);
    Py_CLEAR(st->readbuf_type);
    Py_CLEAR(st->json_dumps);
    Py_CLEAR(st->headers_class);
    Py_CLEAR(st->unquote);
    for (int i = 0; i < JP_RH_COUNT; i++)
        Py_CLEAR(st->request_helpers[i]);
    Py_CLEAR(st->str_write);
    Py_CLEAR(st->str_pause_reading);
    Py_CLEAR(st->str_resume_reading);
    Py_CLEAR(st->str_close);
    Py_CLEAR(st->str_get_extra_info);
    Py_CLEAR(st->str_add_done_callback);
    Py_CLEAR(st->str_create_task);
    Py_CLEAR(st->str_cancel);
    Py_CLEAR(st->str_text);
    Py_CLEAR(st->str_abort);
    Py_CLEAR(st->str_json);
    Py_CLEAR(st->str_jp_fd);
    return 0;
}

static void
module_free(void *module)
{
    (void)module_clear((PyObject *)module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "japronto._core",
    .m_doc = "The C engine of japronto: parser, connection protocol, Request, Response, router.",
    .m_size = sizeof(jp_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&module_def);
}
