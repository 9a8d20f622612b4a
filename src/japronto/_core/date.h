/*
 * date.h - the cached HTTP Date header line (layer 0: pure C, no Python.h).
 *
 * Formatting an IMF-fixdate costs far more than the rest of a small response, and its value
 * changes once a second, so the server keeps one formatted line and refreshes it at most once
 * per second: the protocol calls jp_date_refresh() once per batch of requests (not per
 * request); the cache lives in the module state, not in a C global.
 */
#ifndef JP_DATE_H
#define JP_DATE_H

#include <stddef.h>
#include <time.h>

/* "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" is 37 bytes. */
#define JP_DATE_LINE_LEN 37

typedef struct jp_date_cache {
    time_t second;                      /* the second the line describes; 0 before the first */
    char line[JP_DATE_LINE_LEN + 1];    /* NUL-terminated for debugging only */
} jp_date_cache;

/* Makes the line describe `now` (seconds since the epoch) if it does not already. */
void jp_date_refresh(jp_date_cache *cache, time_t now);

/* Formats the IMF-fixdate for t (29 bytes, "Sun, 06 Nov 1994 08:49:37 GMT") into out, which
 * must have room for 30 bytes; returns 29. */
size_t jp_date_format(char *out, time_t t);

#endif /* JP_DATE_H */
