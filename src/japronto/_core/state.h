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

#include "date.h"

typedef struct jp_state {
    /* Heap types. */
    PyTypeObject *protocol_type; /* protocol.c: the connection */
    PyTypeObject *request_type;  /* request.c */
    PyTypeObject *response_type; /* response.c */
    PyTypeObject *matcher_type;  /* router.c: the compiled route table */

    /* Objects the Python shell hands over at start-up (see module.c: configure). */
    PyObject *json_dumps; /* callable(obj) -> str or bytes: json.dumps or a faster encoder */

    /* Interned attribute names, made once. */
    PyObject *str_write;
    PyObject *str_pause_reading;
    PyObject *str_resume_reading;
    PyObject *str_close;
    PyObject *str_get_extra_info;
    PyObject *str_add_done_callback;
    PyObject *str_create_task;
    PyObject *str_cancel;

    /* The cached Date line, refreshed at most once a second by the protocol. */
    jp_date_cache date;
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
