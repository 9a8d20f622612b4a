/*
 * protocol.h - the connection: an asyncio buffered protocol in C (layer 1).
 *
 * See protocol.c for the request path, the pipeline and their invariants. This header is what
 * request.c needs from a connection; every function takes the Protocol as a PyObject and
 * returns a borrowed reference unless it says otherwise.
 */
#ifndef JP_PROTOCOL_H
#define JP_PROTOCOL_H

#include "state.h"

/* Creates the Protocol type (and its read-buffer helper type) and adds "Protocol" to module. */
int jp_protocol_setup(PyObject *module, jp_state *st);

/* Frees the pooled read and output blocks and stops pooling (module_clear calls it). */
void jp_protocol_pools_clear(jp_state *st);

/* The transport, or Py_None once the connection is lost. */
PyObject *jp_protocol_transport(PyObject *conn);

/* The Application the server was started for. */
PyObject *jp_protocol_app(PyObject *conn);

/* The peer's host as a str, or None when unknown. New reference, or NULL with an exception. */
PyObject *jp_protocol_remote_addr(PyObject *conn);

#endif /* JP_PROTOCOL_H */
