/*
 * test_buffer_date.c - the output buffer (buffer.h) and the cached Date line (date.h).
 *
 * Buffer: growth from empty, doubling, appends of every size, consume of nothing / part /
 * all, trim only when empty, and the failure path: a reserve that cannot succeed returns -1
 * and leaves the buffer exactly as it was. The sanitizer runtime is told to return NULL for
 * impossible allocations (below) instead of aborting, so that path is really exercised.
 *
 * Date: fixed timestamps written next to a guard page (the epoch, RFC 9110's own example,
 * leap days, the 2038 boundary and beyond, the clamp at year 9999), a sweep compared with
 * strftime in the "C" locale, and the cache: refreshing within the same second does not
 * reformat, a new second does.
 */
#include "buffer.h"
#include "date.h"
#include "jp_test.h"

#include <stdint.h>
#include <time.h>

const char *__asan_default_options(void);

/* Read by the ASan runtime at start-up; without ASan it is an unused function. */
const char *
__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static void
test_buffer_growth(void)
{
    jp_buffer b = JP_BUFFER_INIT;
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0, "fresh buffer is empty");

    CHECK(jp_buffer_reserve(&b, 0) == 0, "reserving nothing on an empty buffer succeeds");

    CHECK(jp_buffer_reserve(&b, 10) == 0, "first reserve");
    CHECK(b.data != NULL && b.cap >= 10 && b.len == 0, "cap %zu", b.cap);
    size_t first_cap = b.cap;
    char *first_data = b.data;
    CHECK(jp_buffer_reserve(&b, first_cap) == 0 && b.data == first_data && b.cap == first_cap,
          "reserve within capacity does not reallocate");

    /* Append 100000 bytes one varying-size piece at a time and check the content. */
    char piece[300];
    size_t total = 0;
    unsigned reallocs = 0;
    size_t last_cap = b.cap;
    for (unsigned i = 0; total < 100000; i++) {
        size_t n = i % sizeof(piece);
        for (size_t k = 0; k < n; k++)
            piece[k] = (char)((total + k) & 0xff);
        CHECK(jp_buffer_append(&b, piece, n) == 0, "append %zu", n);
        total += n;
        if (b.cap != last_cap) {
            CHECK(b.cap >= 2 * last_cap, "growth doubles: %zu -> %zu", last_cap, b.cap);
            last_cap = b.cap;
            reallocs++;
        }
    }
    CHECK(b.len == total, "len %zu total %zu", b.len, total);
    CHECK(b.len <= b.cap, "len within cap");
    CHECK(reallocs < 12, "amortised growth: %u reallocations", reallocs);
    int same = 1;
    for (size_t k = 0; k < total; k++)
        if ((unsigned char)b.data[k] != (k & 0xff))
            same = 0;
    CHECK(same, "content survives growth");

    /* One large reserve jumps straight to a fitting capacity. */
    CHECK(jp_buffer_reserve(&b, 5u * 1024u * 1024u) == 0, "large reserve");
    CHECK(b.cap - b.len >= 5u * 1024u * 1024u, "large reserve fits");

    jp_buffer_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0, "free empties");
    CHECK(jp_buffer_append(&b, "abc", 3) == 0 && b.len == 3 && memcmp(b.data, "abc", 3) == 0,
          "reusable after free");
    CHECK(jp_buffer_append(&b, NULL, 0) == 0 && b.len == 3, "append of nothing");
    jp_buffer_free(&b);
    jp_buffer_free(&b); /* freeing twice is harmless */
    CHECK(b.data == NULL, "double free leaves empty");
}

static void
test_buffer_failure(void)
{
    jp_buffer b = JP_BUFFER_INIT;
    CHECK(jp_buffer_append(&b, "hello", 5) == 0, "append");
    char *data = b.data;
    size_t cap = b.cap;

    /* len + extra overflows size_t. */
    CHECK(jp_buffer_reserve(&b, SIZE_MAX) == -1, "overflowing reserve fails");
    CHECK(b.data == data && b.len == 5 && b.cap == cap, "unchanged after overflow");

    /* len + extra fits size_t but no allocator can give it. */
    CHECK(jp_buffer_reserve(&b, SIZE_MAX - 5) == -1, "impossible reserve fails");
    CHECK(b.data == data && b.len == 5 && b.cap == cap, "unchanged after failed realloc");
    CHECK(jp_buffer_reserve(&b, SIZE_MAX / 2) == -1, "huge reserve fails");
    CHECK(b.data == data && b.len == 5 && b.cap == cap, "unchanged after huge reserve");

    CHECK(jp_buffer_append(&b, "x", SIZE_MAX - 2) == -1, "impossible append fails");
    CHECK(b.len == 5 && memcmp(b.data, "hello", 5) == 0, "nothing appended on failure");

    /* Still fully usable. */
    CHECK(jp_buffer_append(&b, " world", 6) == 0 && b.len == 11 &&
              memcmp(b.data, "hello world", 11) == 0,
          "usable after failures");
    jp_buffer_free(&b);

    /* A failure on a never-allocated buffer leaves it never-allocated. */
    CHECK(jp_buffer_reserve(&b, SIZE_MAX) == -1 && b.data == NULL && b.cap == 0,
          "empty buffer unchanged by failure");
}

static void
test_buffer_consume(void)
{
    jp_buffer b = JP_BUFFER_INIT;
    CHECK(jp_buffer_append(&b, "0123456789", 10) == 0, "append");
    jp_buffer_consume(&b, 0);
    CHECK(b.len == 10 && memcmp(b.data, "0123456789", 10) == 0, "consume 0");
    jp_buffer_consume(&b, 3);
    CHECK(b.len == 7 && memcmp(b.data, "3456789", 7) == 0, "consume part");
    jp_buffer_consume(&b, 6);
    CHECK(b.len == 1 && b.data[0] == '9', "consume all but one");
    jp_buffer_consume(&b, 1);
    CHECK(b.len == 0 && b.data != NULL, "consume all keeps the block");
    jp_buffer_consume(&b, 0);
    CHECK(b.len == 0, "consume 0 of empty");

    /* Interleaved produce/consume, as a connection does. */
    for (int i = 0; i < 1000; i++) {
        CHECK(jp_buffer_append(&b, "abcdef", 6) == 0, "append");
        jp_buffer_consume(&b, 4);
    }
    CHECK(b.len == 2000, "len %zu", b.len);
    /* What is left is the written stream minus its first 4000 bytes. */
    int ok = 1;
    for (size_t k = 0; k < b.len; k++)
        if (b.data[k] != "abcdef"[(4000 + k) % 6])
            ok = 0;
    CHECK(ok, "interleaved content is the unconsumed tail of the stream");
    jp_buffer_free(&b);

    jp_buffer e = JP_BUFFER_INIT;
    jp_buffer_consume(&e, 0);
    CHECK(e.len == 0 && e.data == NULL, "consume on a never-allocated buffer");
}

static void
test_buffer_trim(void)
{
    jp_buffer b = JP_BUFFER_INIT;
    jp_buffer_trim(&b, 0);
    CHECK(b.data == NULL && b.cap == 0, "trim of never-allocated");

    CHECK(jp_buffer_reserve(&b, 1u << 20) == 0, "reserve 1 MiB");
    CHECK(jp_buffer_append(&b, "x", 1) == 0, "append");
    size_t cap = b.cap;
    jp_buffer_trim(&b, 4096);
    CHECK(b.cap == cap && b.len == 1 && b.data[0] == 'x', "a non-empty buffer is not trimmed");

    jp_buffer_consume(&b, 1);
    jp_buffer_trim(&b, 4096);
    CHECK(b.cap == 4096 && b.len == 0 && b.data != NULL, "trimmed to keep: %zu", b.cap);
    jp_buffer_trim(&b, 8192);
    CHECK(b.cap == 4096, "trim never grows");
    CHECK(jp_buffer_append(&b, "abc", 3) == 0 && memcmp(b.data, "abc", 3) == 0,
          "usable after trim");
    jp_buffer_consume(&b, 3);
    jp_buffer_trim(&b, 0);
    CHECK(b.data == NULL && b.cap == 0 && b.len == 0, "trim to 0 frees");
    jp_buffer_free(&b);
}

/* The output goes flush against a no-access page, so a 31st byte written would fault. */
static jp_guard date_guard;

static void
check_date(time_t t, const char *want)
{
    static const char fill[30] = "##############################";
    char *out = (char *)jp_guarded_copy(&date_guard, fill, sizeof(fill));
    size_t n = jp_date_format(out, t);
    CHECK(n == 29, "length %zu for %lld", n, (long long)t);
    CHECK(memcmp(out, want, 29) == 0 && out[29] == '\0', "%lld: got '%.29s' want '%s'",
          (long long)t, out, want);
}

static void
test_date_fixed(void)
{
    check_date(0, "Thu, 01 Jan 1970 00:00:00 GMT");
    check_date(784111777, "Sun, 06 Nov 1994 08:49:37 GMT"); /* RFC 9110's example */
    check_date(951868799, "Tue, 29 Feb 2000 23:59:59 GMT");
    check_date(1709210096, "Thu, 29 Feb 2024 12:34:56 GMT");
    check_date(-1, "Wed, 31 Dec 1969 23:59:59 GMT");
    if (sizeof(time_t) > 4) {
        check_date((time_t)2147483647LL, "Tue, 19 Jan 2038 03:14:07 GMT");
        check_date((time_t)2147483648LL, "Tue, 19 Jan 2038 03:14:08 GMT");
        check_date((time_t)4107542400LL, "Mon, 01 Mar 2100 00:00:00 GMT");
        check_date((time_t)253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT");
        /* Beyond four-digit years: clamped, never longer than 29 bytes. */
        check_date((time_t)253402300800LL, "Fri, 31 Dec 9999 23:59:59 GMT");
        check_date((time_t)INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT");
        check_date((time_t)INT64_MIN, "Sat, 01 Jan 0000 00:00:00 GMT");
    }
}

/* Compared with strftime in the "C" locale (this program never calls setlocale), over
 * pseudo-random seconds from 1970 to about 2400. */
static void
test_date_sweep(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        time_t t = (time_t)(x % (sizeof(time_t) > 4 ? 13569465600ull : 2147483647ull));
        struct tm tm;
        char want[64], got[30];
        gmtime_r(&t, &tm);
        strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        jp_date_format(got, t);
        if (strcmp(want, got) != 0) {
            if (bad++ < 5)
                fprintf(stderr, "sweep %lld: got '%s' want '%s'\n", (long long)t, got, want);
        }
    }
    CHECK(bad == 0, "%d mismatches against strftime", bad);
}

static void
test_date_cache(void)
{
    jp_date_cache c;
    memset(&c, 0, sizeof(c));
    jp_date_refresh(&c, 0);
    CHECK(memcmp(c.line, "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n", JP_DATE_LINE_LEN) == 0,
          "a zeroed cache formats the epoch: '%s'", c.line);
    CHECK(c.line[JP_DATE_LINE_LEN] == '\0' && strlen(c.line) == JP_DATE_LINE_LEN,
          "NUL-terminated line of %d bytes", JP_DATE_LINE_LEN);

    jp_date_refresh(&c, 784111777);
    CHECK(strcmp(c.line, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n") == 0, "'%s'", c.line);
    CHECK(c.second == 784111777, "second recorded");

    /* The same second must not reformat: mark the line and see that the mark survives. */
    c.line[6] = 'X';
    jp_date_refresh(&c, 784111777);
    CHECK(c.line[6] == 'X', "same second does not reformat");
    jp_date_refresh(&c, 784111778);
    CHECK(strcmp(c.line, "Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n") == 0,
          "a new second reformats: '%s'", c.line);
    jp_date_refresh(&c, 784111777);
    CHECK(strcmp(c.line, "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n") == 0,
          "going back a second (clock step) reformats too");

    time_t now = time(NULL);
    jp_date_refresh(&c, now);
    char want[30];
    jp_date_format(want, now);
    CHECK(memcmp(c.line + 6, want, 29) == 0, "now");
}

int
main(void)
{
    test_buffer_growth();
    test_buffer_failure();
    test_buffer_consume();
    test_buffer_trim();
    jp_guard_open(&date_guard, 30);
    test_date_fixed();
    jp_guard_close(&date_guard);
    test_date_sweep();
    test_date_cache();
    return JP_TEST_SUMMARY("test_buffer_date");
}
