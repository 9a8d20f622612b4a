/*
 * live.c - storage of the live-object counters (see live.h). The only mutable C global of the
 * extension besides simd.c's set-once choice: deliberately process-wide.
 */
#include "live.h"

const char *const jp_live_names[JP_LIVE_COUNT] = {
    [JP_LIVE_PROTOCOL] = "protocols",
    [JP_LIVE_READBUF] = "read_buffers",
    [JP_LIVE_REQUEST] = "requests",
    [JP_LIVE_RESPONSE] = "responses",
};

long jp_live[JP_LIVE_COUNT];
