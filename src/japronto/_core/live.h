/*
 * live.h - counters of live native objects, for leak tests (layer 0: no Python.h).
 *
 * Each allocation site of a counted object adds one and its deallocation takes one away, so
 * after a burst of traffic has finished every counter is back where it started; the tests
 * read them through japronto._core._live_counts(). They are plain process-wide integers, not
 * module state: a counter is a fact about the process's memory, it must survive the module
 * being cleared, and an increment costs one instruction, so they are always on. The GIL
 * serialises every site.
 */
#ifndef JP_LIVE_H
#define JP_LIVE_H

#include <stddef.h>

typedef enum {
    JP_LIVE_PROTOCOL, /* connection protocols (one per accepted connection) */
    JP_LIVE_READBUF,  /* their read buffers */
    JP_LIVE_REQUEST,  /* Request objects, including a connection's spare recycled one */
    JP_LIVE_RESPONSE, /* Response objects: allocated and not freed, so counting the dead ones
                         a module keeps for reuse, which _live_counts subtracts (its own) */
    JP_LIVE_COUNT
} jp_live_kind;

/* The names _live_counts() uses as keys, indexed by jp_live_kind. */
extern const char *const jp_live_names[JP_LIVE_COUNT];
extern long jp_live[JP_LIVE_COUNT];

#define JP_LIVE_INC(kind) (jp_live[(kind)]++)
#define JP_LIVE_DEC(kind) (jp_live[(kind)]--)

#endif
