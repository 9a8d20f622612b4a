/*
 * date.c - the IMF-fixdate formatter and the once-a-second Date line cache of date.h
 * (layer 0: pure C, no Python.h).
 *
 * Owns nothing but two immutable name tables. The day and month names are our own rather
 * than strftime's %a/%b, because those follow the process locale (LC_TIME), and an
 * application that calls setlocale() must not change what goes on the wire. gmtime_r is
 * used (not gmtime) because its result lives on our stack, so nothing here shares state
 * between threads or interpreters.
 *
 * Years are written with exactly four digits as RFC 9110 requires; a time outside year
 * 0000..9999 is clamped to that range so that the output is always 29 bytes and never
 * overruns the caller's buffer, whatever time_t holds.
 */
#include "date.h"

#include <string.h>

static const char date_days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char date_months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since the epoch. */
#define DATE_MIN_SECONDS (-62167219200LL)
#define DATE_MAX_SECONDS 253402300799LL

static void
date_put2(char *out, int v)
{
    out[0] = (char)('0' + v / 10);
    out[1] = (char)('0' + v % 10);
}

size_t
jp_date_format(char *out, time_t t)
{
    long long clamped = (long long)t;
    if (clamped < DATE_MIN_SECONDS)
        clamped = DATE_MIN_SECONDS;
    if (clamped > DATE_MAX_SECONDS)
        clamped = DATE_MAX_SECONDS;
    time_t when = (time_t)clamped;

    struct tm tm;
    if (gmtime_r(&when, &tm) == NULL) {
        /* Only possible where time_t cannot hold the clamped value; the epoch is a valid
         * answer there, and a well-formed line matters more than the exact second. */
        when = 0;
        if (gmtime_r(&when, &tm) == NULL)
            memset(&tm, 0, sizeof(tm));
    }
    int year = tm.tm_year + 1900;
    if (year < 0)
        year = 0;
    if (year > 9999)
        year = 9999;

    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    memcpy(out, date_days[(unsigned)tm.tm_wday % 7u], 3);
    out[3] = ',';
    out[4] = ' ';
    date_put2(out + 5, tm.tm_mday);
    out[7] = ' ';
    memcpy(out + 8, date_months[(unsigned)tm.tm_mon % 12u], 3);
    out[11] = ' ';
    date_put2(out + 12, year / 100);
    date_put2(out + 14, year % 100);
    out[16] = ' ';
    date_put2(out + 17, tm.tm_hour);
    out[19] = ':';
    date_put2(out + 20, tm.tm_min);
    out[22] = ':';
    date_put2(out + 23, tm.tm_sec); /* 60 for a leap second is still two digits */
    memcpy(out + 25, " GMT", 4);
    out[29] = '\0';
    return 29;
}

/* A zeroed cache has second == 0 and an empty line, so "same second" alone cannot tell a
 * formatted epoch from a never-formatted cache; the first byte of the line does. */
void
jp_date_refresh(jp_date_cache *cache, time_t now)
{
    if (cache->second == now && cache->line[0] == 'D')
        return;
    memcpy(cache->line, "Date: ", 6);
    jp_date_format(cache->line + 6, now);
    cache->line[35] = '\r';
    cache->line[36] = '\n';
    cache->line[37] = '\0';
    cache->second = now;
}
