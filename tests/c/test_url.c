/*
 * test_url.c - percent-decoding and path splitting (url.c), built with ASan+UBSan.
 *
 * Every input is placed flush against an unreadable page, so an over-read of even one byte
 * (a "%4" at the very end, say) faults. A simple reference decoder written differently from
 * url.c checks random strings drawn from the bytes that matter ('%', hex digits in both cases,
 * non-hex letters, '/').
 */
#include "jp_test.h"
#include "url.h"

static jp_guard guard;

/* Decodes s (NUL-terminated for convenience, but passed by length from a guarded copy) and
 * compares with want. */
static void
check_decode(const char *s, const char *want, int want_changed)
{
    size_t len = strlen(s);
    const char *in = jp_guarded_copy(&guard, s, len);
    char out[256];
    int changed = -1;
    size_t n = jp_percent_decode(out, in, len, &changed);
    CHECK(n == strlen(want) && memcmp(out, want, n) == 0, "decode(\"%s\") gave \"%.*s\"", s, (int)n,
          out);
    CHECK(changed == want_changed, "decode(\"%s\") changed=%d", s, changed);
    CHECK((jp_percent_find_escape(in, len) == len) == !want_changed, "find_escape(\"%s\")", s);

    /* In place, in a writable copy. */
    char buf[256];
    memcpy(buf, s, len);
    n = jp_percent_decode(buf, buf, len, NULL);
    CHECK(n == strlen(want) && memcmp(buf, want, n) == 0, "in-place decode(\"%s\")", s);
}

static void
test_decode_cases(void)
{
    check_decode("", "", 0);
    check_decode("/", "/", 0);
    check_decode("/plain/path", "/plain/path", 0);
    check_decode("%41", "A", 1);
    check_decode("a%2Fb", "a/b", 1);
    check_decode("a%2fb", "a/b", 1);
    check_decode("caf%C3%A9", "caf\xc3\xa9", 1);
    check_decode("caf%c3%a9", "caf\xc3\xa9", 1);
    check_decode("%20%20", "  ", 1);
    check_decode("a+b", "a+b", 0);
    /* Bad escapes are kept literally. */
    check_decode("100%", "100%", 0);
    check_decode("%", "%", 0);
    check_decode("%4", "%4", 0);
    check_decode("a%4", "a%4", 0);
    check_decode("%zz", "%zz", 0);
    check_decode("%g1", "%g1", 0);
    check_decode("%1g", "%1g", 0);
    check_decode("%%41", "%A", 1);
    check_decode("%2%41", "%2A", 1);
    check_decode("%41%", "A%", 1);
    check_decode("%41%4", "A%4", 1);
    check_decode("%%%", "%%%", 0);
    check_decode("%2541", "%41", 1); /* decoded once, never twice */
}

/* "%00" decodes to a NUL byte, which check_decode cannot compare with strlen. */
static void
test_decode_nul(void)
{
    const char *in = jp_guarded_copy(&guard, "%00", 3);
    char out[4];
    int changed = 0;
    size_t n = jp_percent_decode(out, in, 3, &changed);
    CHECK(n == 1 && out[0] == '\0' && changed == 1, "%%00 gave %zu bytes", n);
}

/* Every byte pair after a '%': a valid escape iff both are hex digits. */
static void
test_decode_all_pairs(void)
{
    unsigned long bad = 0;
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            char s[3] = {'%', (char)a, (char)b};
            const char *in = jp_guarded_copy(&guard, s, 3);
            char out[3];
            int changed = -1;
            size_t n = jp_percent_decode(out, in, 3, &changed);
            const char *hex = "0123456789abcdefABCDEF";
            int ha = a != 0 && strchr(hex, a) != NULL;
            int hb = b != 0 && strchr(hex, b) != NULL;
            if (ha && hb) {
                unsigned v = 0;
                char pair[3] = {(char)a, (char)b, 0};
                sscanf(pair, "%2x", &v);
                if (!(n == 1 && (unsigned char)out[0] == v && changed == 1))
                    bad++;
            } else if (!(n == 3 && memcmp(out, s, 3) == 0 && changed == 0)) {
                bad++;
            }
        }
    }
    CHECK(bad == 0, "%lu of 65536 escapes decoded wrongly", bad);
}

/* The reference: a byte at a time, no memchr, no in-place trickery. */
static size_t
ref_decode(char *dst, const char *src, size_t len, int *changed)
{
    size_t o = 0;
    *changed = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        char pair[3] = {0, 0, 0};
        if (src[i] == '%' && i + 2 < len) {
            pair[0] = src[i + 1];
            pair[1] = src[i + 2];
        }
        if (strspn(pair, "0123456789abcdefABCDEF") == 2 && sscanf(pair, "%2x", &v) == 1) {
            dst[o++] = (char)v;
            i += 2;
            *changed = 1;
        } else {
            dst[o++] = src[i];
        }
    }
    return o;
}

static void
test_decode_random(void)
{
    static const char alphabet[] = "%%%0123456789aAfFgG/x";
    unsigned long seed = 12345, bad = 0;
    for (int round = 0; round < 20000; round++) {
        char s[40], want[40], got[40];
        size_t len = (size_t)(round % 40);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            s[i] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
        }
        int want_changed, got_changed;
        size_t wn = ref_decode(want, s, len, &want_changed);
        const char *in = jp_guarded_copy(&guard, s, len);
        size_t gn = jp_percent_decode(got, in, len, &got_changed);
        size_t esc = jp_percent_find_escape(in, len);
        if (gn != wn || memcmp(got, want, wn) != 0 || got_changed != want_changed ||
            (esc == len) != !want_changed)
            bad++;
        /* In place gives the same. */
        char buf[40];
        memcpy(buf, s, len);
        if (jp_percent_decode(buf, buf, len, NULL) != wn || memcmp(buf, want, wn) != 0)
            bad++;
    }
    CHECK(bad == 0, "%lu random strings decoded differently from the reference", bad);
}

static void
test_find_escape(void)
{
    struct {
        const char *s;
        size_t want;
    } cases[] = {
        {"", 0},     {"abc", 3},    {"%41", 0},  {"a%41", 1}, {"%4", 2},
        {"100%", 4}, {"%zz%41", 3}, {"%%41", 1}, {"%", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].s);
        const char *in = jp_guarded_copy(&guard, cases[i].s, len);
        size_t got = jp_percent_find_escape(in, len);
        CHECK(got == cases[i].want, "find_escape(\"%s\") = %zu, want %zu", cases[i].s, got,
              cases[i].want);
    }
}

/* Splits s and compares with the segments in want, separated by '|' ("" for none). */
static void
check_split(const char *s, size_t want_count, const char *want)
{
    size_t len = strlen(s);
    const char *in = jp_guarded_copy(&guard, s, len);
    jp_url_slice segs[8];
    size_t n = jp_path_split(in, len, segs, 8);
    CHECK(n == want_count, "split(\"%s\") gave %zu segments, want %zu", s, n, want_count);
    if (n != want_count || n > 8)
        return;
    char joined[128] = "";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            joined[o++] = '|';
        memcpy(joined + o, segs[i].ptr, segs[i].len);
        o += segs[i].len;
        CHECK(segs[i].ptr >= in && segs[i].ptr + segs[i].len <= in + len,
              "split(\"%s\"): segment %zu outside the input", s, i);
    }
    joined[o] = 0;
    CHECK(strcmp(joined, want) == 0, "split(\"%s\") gave \"%s\", want \"%s\"", s, joined, want);
}

static void
test_split(void)
{
    check_split("", 0, "");
    check_split("a", 0, "");
    check_split("*", 0, "");
    check_split("/", 1, "");
    check_split("/a", 1, "a");
    check_split("/a/", 2, "a|");
    check_split("/a/b", 2, "a|b");
    check_split("/a/b/", 3, "a|b|");
    check_split("//", 2, "|");
    check_split("/a//b", 3, "a||b");
    check_split("/a%2Fb/c", 2, "a%2Fb|c");
    check_split("/caf%C3%A9", 1, "caf%C3%A9");

    /* Too small an array: the count is still right, and only max are written. */
    jp_url_slice segs[2];
    segs[1].ptr = NULL;
    const char *in = jp_guarded_copy(&guard, "/a/b/c/d", 8);
    CHECK(jp_path_split(in, 8, segs, 1) == 4, "count with max 1");
    CHECK(segs[0].len == 1 && segs[0].ptr[0] == 'a' && segs[1].ptr == NULL, "max 1 respected");
    CHECK(jp_path_split(in, 8, NULL, 0) == 4, "count only");

    /* Many segments. */
    char many[2001];
    for (int i = 0; i < 1000; i++) {
        many[2 * i] = '/';
        many[2 * i + 1] = 'x';
    }
    in = jp_guarded_copy(&guard, many, 2000);
    CHECK(jp_path_split(in, 2000, NULL, 0) == 1000, "1000 segments");
}

/* Form decoding: '+' is a space, escapes as in paths ("%2B" stays '+'), nothing read past
 * the end. */
static void
check_form(const char *s, const char *want)
{
    size_t len = strlen(s);
    const char *in = jp_guarded_copy(&guard, s, len);
    char out[64];
    size_t n = jp_form_decode(out, in, len);
    CHECK(n == strlen(want) && memcmp(out, want, n) == 0, "form_decode(\"%s\") gave \"%.*s\"", s,
          (int)n, out);
}

static void
test_form_decode(void)
{
    check_form("", "");
    check_form("a", "a");
    check_form("a+b", "a b");
    check_form("+++", "   ");
    check_form("%2B", "+");
    check_form("a%2Bb+c", "a+b c");
    check_form("x%20y", "x y");
    check_form("%zz", "%zz");
    check_form("%4", "%4");
    check_form("%", "%");
    check_form("100%", "100%");
    check_form("%41%4a%4A", "AJJ");
    check_form("%+1", "% 1");
}

/* The plain-byte checks against a byte loop, for every length up to 40 (the word and tail
 * paths, and the byte loop below a word) and the offending byte at every position, each input
 * flush against the unreadable page. */
static void
test_plain_checks(void)
{
    static const unsigned char odd[] = {'%', '+', 0x80, 0xC3, 0xFF, 0x7F, 0x00, 'a'};
    char buf[40];
    for (size_t len = 0; len <= sizeof(buf); len++) {
        for (size_t at = 0; at <= len; at++) {
            for (size_t k = 0; k < sizeof(odd); k++) {
                memset(buf, 'x', len);
                if (at < len)
                    buf[at] = (char)odd[k];
                int ascii = 1, plain = 1;
                for (size_t i = 0; i < len; i++) {
                    unsigned char c = (unsigned char)buf[i];
                    ascii &= c < 0x80;
                    plain &= c < 0x80 && c != '%' && c != '+';
                }
                const char *in = jp_guarded_copy(&guard, buf, len);
                CHECK(jp_is_ascii(in, len) == ascii, "is_ascii len %zu, 0x%02x at %zu", len, odd[k],
                      at);
                CHECK(jp_form_is_plain(in, len) == plain, "form_is_plain len %zu, 0x%02x at %zu",
                      len, odd[k], at);
                if (plain) {
                    char out[40];
                    CHECK(jp_form_decode(out, in, len) == len && memcmp(out, in, len) == 0,
                          "a plain piece decodes to itself");
                }
            }
        }
    }
}

/* jp_url_equal against memcmp: every length up to 40, a difference at every position (and
 * none), both inputs flush against unreadable pages. */
static void
test_url_equal(void)
{
    static jp_guard other;
    jp_guard_open(&other, 4096);
    char a[40], b[40];
    for (size_t len = 0; len <= sizeof(a); len++) {
        for (size_t at = 0; at <= len; at++) {
            for (size_t i = 0; i < len; i++)
                a[i] = b[i] = (char)('a' + i % 26);
            if (at < len)
                b[at] ^= 0x20;
            const char *x = jp_guarded_copy(&guard, a, len);
            const char *y = jp_guarded_copy(&other, b, len);
            int want = at == len;
            CHECK(jp_url_equal(x, y, len) == want, "url_equal len %zu, differing at %zu", len, at);
        }
    }
    jp_guard_close(&other);
}

/* jp_url_find against a byte loop: every buffer length up to 40, every start, the byte looked
 * for at every position or nowhere, with the byte and its neighbours ('.', '0': one off '/')
 * before the start too, which must not be found; the buffer flush against an unreadable page.
 * jp_copy_small (buffer.h): every length up to 40 copies exactly n bytes, writes nothing after
 * them and returns the end. */
static void
test_find_and_copy(void)
{
    char buf[40];
    static const char seps[] = {'/', '&', '='};
    for (size_t k = 0; k < sizeof(seps); k++) {
        char c = seps[k];
        for (size_t len = 0; len <= sizeof(buf); len++) {
            for (size_t at = 0; at <= len; at++) {
                for (size_t where = 0; where <= len; where++) {
                    for (size_t i = 0; i < len; i++)
                        buf[i] = i < at ? (i % 3 == 0 ? c : (char)(c - 1)) : (char)(c + 1);
                    if (where < len && where >= at)
                        buf[where] = c;
                    size_t want = at;
                    while (want < len && buf[want] != c)
                        want++;
                    const char *in = jp_guarded_copy(&guard, buf, len);
                    size_t got = jp_url_find(in, at, len, c);
                    CHECK(got == want, "find '%c' len %zu from %zu: %zu, want %zu", c, len, at, got,
                          want);
                }
            }
        }
    }
    for (size_t n = 0; n <= sizeof(buf); n++) {
        char src[40], dst[48];
        for (size_t i = 0; i < n; i++)
            src[i] = (char)('A' + i);
        memset(dst, '#', sizeof(dst));
        const char *in = jp_guarded_copy(&guard, src, n);
        CHECK(jp_copy_small(dst, in, n) == dst + n, "copy %zu bytes: end", n);
        CHECK(memcmp(dst, src, n) == 0, "copy %zu bytes", n);
        for (size_t i = n; i < sizeof(dst); i++)
            CHECK(dst[i] == '#', "copy %zu bytes wrote at %zu", n, i);
    }
}

int
main(void)
{
    jp_guard_open(&guard, 4096);
    test_decode_cases();
    test_decode_nul();
    test_decode_all_pairs();
    test_decode_random();
    test_find_escape();
    test_split();
    test_form_decode();
    test_plain_checks();
    test_url_equal();
    test_find_and_copy();
    jp_guard_close(&guard);
    return JP_TEST_SUMMARY("test_url");
}
