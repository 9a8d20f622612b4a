/*
 * test_jsonscan.c - the byte-level JSON pieces (jsonscan.c), built with ASan+UBSan.
 *
 * Every input is placed flush against an unreadable page, so that a read of even one byte past
 * its end faults: a string cut before its closing quote, a '\' or a "\u12" at the very end, a
 * number running to the end. The string scan is checked on both of its paths (SSE2 blocks and
 * words), through its inline entry and the full scan, at every alignment and length around
 * the block sizes, against a byte-by-byte reference. The fast float conversion is checked
 * against strtod.
 */
#include "chars.h"
#include "jp_test.h"
#include "jsonscan.h"

#include <stdint.h>

static jp_guard guard;

static const jp_simd_level levels[] = {JP_SIMD_SCALAR, JP_SIMD_AVX2};

/* ---- strings ---- */

/* A reference scan, byte by byte: returns what jp_jscan_string should. */
static int
ref_scan(const char *s, size_t at, size_t len, jp_jscan_str *out)
{
    int esc = 0, high = 0;
    size_t i = at;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            out->end = i;
            out->escaped = esc;
            out->non_ascii = high;
            return 0;
        }
        if (c < 0x20)
            return JP_JSCAN_CONTROL;
        if (c >= 0x80)
            high = 1;
        if (c == '\\') {
            esc = 1;
            if (i + 1 >= len)
                return JP_JSCAN_UNTERMINATED;
            if ((unsigned char)s[i + 1] >= 0x80)
                high = 1;
            i += 2;
            continue;
        }
        i++;
    }
    return JP_JSCAN_UNTERMINATED;
}

/* Scans body (len bytes, the part after the opening quote) on both paths, guarded, and
 * compares with the reference and with want_rc / want_end (if want_rc is 0). */
static void
check_scan(const char *body, size_t len, int want_rc, size_t want_end, int want_esc, int want_high)
{
    const char *in = jp_guarded_copy(&guard, body, len);
    for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
        jp_jscan_str got = {99, 99, 99};
        int rc = jp_jscan_string(in, 0, len, levels[l], &got);
        CHECK(rc == want_rc, "scan(%.*s) level %d rc=%d want %d", (int)len, body, levels[l], rc,
              want_rc);
        if (rc == 0 && want_rc == 0)
            CHECK(got.end == want_end && got.escaped == want_esc && got.non_ascii == want_high,
                  "scan(%.*s) level %d end=%zu esc=%d high=%d", (int)len, body, levels[l], got.end,
                  got.escaped, got.non_ascii);
    }
}

static void
test_scan_cases(void)
{
#define S(lit) lit, sizeof(lit) - 1
    check_scan(S("\""), 0, 0, 0, 0);
    check_scan(S("abc\""), 0, 3, 0, 0);
    check_scan(S("abc\" trailing \xff"), 0, 3, 0, 0);
    check_scan(S("abc"), JP_JSCAN_UNTERMINATED, 0, 0, 0);
    check_scan(S(""), JP_JSCAN_UNTERMINATED, 0, 0, 0);
    check_scan(S("a\\\"b\""), 0, 4, 1, 0);
    check_scan(S("a\\\\\""), 0, 3, 1, 0);
    check_scan(S("a\\"), JP_JSCAN_UNTERMINATED, 0, 0, 0);   /* '\' is the last byte */
    check_scan(S("a\\\""), JP_JSCAN_UNTERMINATED, 0, 0, 0); /* the quote is escaped */
    check_scan(S("\\u12"), JP_JSCAN_UNTERMINATED, 0, 0, 0);
    check_scan(S("caf\xc3\xa9\""), 0, 5, 0, 1);
    check_scan(S("\x7f\""), 0, 1, 0, 0); /* DEL is not a control for JSON */
    check_scan(S("a\tb\""), JP_JSCAN_CONTROL, 0, 0, 0);
    check_scan(S("a\nb\""), JP_JSCAN_CONTROL, 0, 0, 0);
    check_scan(S("\x1f\""), JP_JSCAN_CONTROL, 0, 0, 0);
    check_scan("a\0b\"", 4, JP_JSCAN_CONTROL, 0, 0, 0);
    check_scan(S(" \""), 0, 1, 0, 0);
    /* A byte >= 0x80 after the closing quote, in the same block, is not the string's. */
    check_scan(S("0123456789abc\"\xc3\xa9"), 0, 13, 0, 0);
    check_scan(S("0123\"\xc3\xa9"), 0, 4, 0, 0);
    check_scan(S("0123456789abcdefghijklmnopqrstuvwxyz\"\xe2\x82\xac"), 0, 36, 0, 0);
#undef S
}

/* Every length 0..70 at every stop position and stop byte, with or without a high byte before
 * the stop, at each of 16 alignments: both paths agree with the reference. */
static void
test_scan_exhaustive(void)
{
    static const unsigned char stops[] = {'"', '\\', 0x00, 0x01, 0x1f, 'a'};
    char buf[96];
    unsigned long bad = 0;
    for (size_t len = 0; len <= 70; len++) {
        for (size_t stop = 0; stop <= len; stop++) {
            for (size_t k = 0; k < sizeof(stops); k++) {
                for (int high = 0; high < 3; high++) {
                    for (size_t i = 0; i < len; i++)
                        buf[i] = (char)('A' + (i % 26));
                    if (stop < len)
                        buf[stop] = (char)stops[k];
                    if (high == 1 && stop > 0)
                        buf[stop - 1] = (char)0xC3;
                    if (high == 2 && stop + 1 < len)
                        buf[stop + 1] = (char)0xC3;
                    for (size_t align = 0; align < 16 && align <= len; align++) {
                        const char *in = jp_guarded_copy(&guard, buf, len);
                        jp_jscan_str want = {0, 0, 0};
                        int wrc = ref_scan(in, align, len, &want);
                        /* Both levels, through the inline entry and the full scan. */
                        for (size_t l = 0; l < 4; l++) {
                            jp_jscan_str got = {0, 0, 0};
                            int rc = l < 2
                                         ? jp_jscan_string(in, align, len, levels[l], &got)
                                         : jp_jscan_string_any(in, align, len, levels[l - 2], &got);
                            if (rc != wrc ||
                                (rc == 0 && (got.end != want.end || got.escaped != want.escaped ||
                                             got.non_ascii != want.non_ascii)))
                                bad++;
                        }
                    }
                }
            }
        }
    }
    CHECK(bad == 0, "%lu scans differ from the reference", bad);
}

/* ---- unescaping ---- */

static void
check_unescape(const char *s, size_t len, ptrdiff_t want_rc, const char *want, size_t want_len,
               int want_high)
{
    const char *in = jp_guarded_copy(&guard, s, len);
    char out[256];
    int high = -1;
    ptrdiff_t rc = jp_jscan_unescape(out, in, len, &high);
    CHECK(rc == want_rc, "unescape(%.*s) rc=%td want %td", (int)len, s, rc, want_rc);
    if (rc >= 0 && want_rc >= 0) {
        CHECK((size_t)rc == want_len && memcmp(out, want, want_len) == 0,
              "unescape(%.*s) gave %.*s", (int)len, s, (int)rc, out);
        CHECK(high == want_high, "unescape(%.*s) non_ascii=%d", (int)len, s, high);
        CHECK((size_t)rc <= len, "unescape(%.*s) grew", (int)len, s);
    }
}

static void
test_unescape(void)
{
#define S(lit) lit, sizeof(lit) - 1
    check_unescape(S(""), 0, S(""), 0);
    check_unescape(S("plain"), 5, S("plain"), 0);
    check_unescape(S("\\\""), 1, S("\""), 0);
    check_unescape(S("\\\\"), 1, S("\\"), 0);
    check_unescape(S("\\/"), 1, S("/"), 0);
    check_unescape(S("\\b\\f\\n\\r\\t"), 5, S("\b\f\n\r\t"), 0);
    check_unescape(S("a\\nb\\tc"), 5, S("a\nb\tc"), 0);
    check_unescape(S("\\u0041"), 1, S("A"), 0);
    check_unescape(S("\\u0000"), 1, "\0", 1, 0);
    check_unescape(S("\\u007f"), 1, S("\x7f"), 0);
    check_unescape(S("\\u0080"), 2, S("\xc2\x80"), 1);
    check_unescape(S("\\u00e9"), 2, S("\xc3\xa9"), 1);
    check_unescape(S("\\u00E9"), 2, S("\xc3\xa9"), 1);
    check_unescape(S("\\u07ff"), 2, S("\xdf\xbf"), 1);
    check_unescape(S("\\u0800"), 3, S("\xe0\xa0\x80"), 1);
    check_unescape(S("\\u20AC"), 3, S("\xe2\x82\xac"), 1);
    check_unescape(S("\\uffff"), 3, S("\xef\xbf\xbf"), 1);
    check_unescape(S("\\ud7ff"), 3, S("\xed\x9f\xbf"), 1);
    check_unescape(S("\\ue000"), 3, S("\xee\x80\x80"), 1);
    /* Surrogate pairs, in both cases of hex. */
    check_unescape(S("\\ud83d\\ude00"), 4, S("\xf0\x9f\x98\x80"), 1);
    check_unescape(S("\\uD83D\\uDE00"), 4, S("\xf0\x9f\x98\x80"), 1);
    check_unescape(S("\\ud800\\udc00"), 4, S("\xf0\x90\x80\x80"), 1);
    check_unescape(S("\\udbff\\udfff"), 4, S("\xf4\x8f\xbf\xbf"), 1);
    check_unescape(S("x\\ud83d\\ude00y"), 6, S("x\xf0\x9f\x98\x80y"), 1);
    /* Raw bytes are copied, and do not count towards non_ascii. */
    check_unescape(S("\xc3\xa9\\n"), 3, S("\xc3\xa9\n"), 0);
    /* Lone surrogates. */
    check_unescape(S("\\ud800"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0);
    check_unescape(S("\\udc00"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0);
    check_unescape(S("\\udfff"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0);
    check_unescape(S("\\ud800x"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0);
    check_unescape(S("\\ud800\\u0041"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0);
    check_unescape(S("\\ud800\\ud800"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0);
    check_unescape(S("\\ude00\\ud83d"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0);
    check_unescape(S("\\ud83d\\n"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0);
    check_unescape(S("\\ud83d\\ude0"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0); /* cut at the end */
    check_unescape(S("\\ud83d\\"), JP_JSCAN_LONE_SURROGATE, NULL, 0, 0);
    /* Bad escapes. */
    check_unescape(S("\\x"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\'"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\a"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\U0041"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\\xc3\xa9"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\\n"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0); /* at the very end */
    check_unescape(S("\\u"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\u004"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\u00g1"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\u-001"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
    check_unescape(S("\\u 041"), JP_JSCAN_BAD_ESCAPE, NULL, 0, 0);
#undef S
}

/* Every byte in each of the four digit places of \uXXXX: the escape is taken iff the byte is
 * a hex digit (chars.h's JP_C_HEX), and then means the same as its canonical upper-case form;
 * a surrogate half made this way is lone. */
static void
test_unescape_every_digit(void)
{
    unsigned long bad = 0;
    char in[7] = "\\u0041", canon[7], out[8], want[8];
    for (int k = 0; k < 4; k++) {
        for (int c = 0; c < 256; c++) {
            memcpy(in, "\\u0041", 6);
            in[2 + k] = (char)c;
            int high = 0, want_high = 0;
            ptrdiff_t rc = jp_jscan_unescape(out, jp_guarded_copy(&guard, in, 6), 6, &high);
            if (!(jp_char_class[c] & JP_C_HEX)) {
                bad += rc != JP_JSCAN_BAD_ESCAPE;
                continue;
            }
            unsigned cp = 0x0041u & ~(0xFu << (12 - 4 * k));
            cp |= (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10) << (12 - 4 * k);
            if (cp >= 0xD800 && cp <= 0xDFFF) {
                bad += rc != JP_JSCAN_LONE_SURROGATE;
                continue;
            }
            snprintf(canon, sizeof canon, "\\u%04X", cp);
            ptrdiff_t want_rc =
                jp_jscan_unescape(want, jp_guarded_copy(&guard, canon, 6), 6, &want_high);
            bad += rc < 1 || rc != want_rc || memcmp(out, want, (size_t)rc) != 0 ||
                   high != want_high;
        }
    }
    CHECK(bad == 0, "%lu \\u escapes with one byte replaced answered wrongly", bad);
}

/* Every BMP code point other than surrogates through \uXXXX: the UTF-8 written is the
 * standard encoding (checked by a decoder written independently here). */
static void
test_unescape_every_code_point(void)
{
    unsigned long bad = 0;
    char in[12], out[16];
    for (uint32_t c = 0; c < 0x10000; c++) {
        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        snprintf(in, sizeof(in), "\\u%04X", (unsigned)c);
        int high = 0;
        ptrdiff_t n = jp_jscan_unescape(out, jp_guarded_copy(&guard, in, 6), 6, &high);
        const unsigned char *u = (const unsigned char *)out;
        uint32_t back = 0;
        if (n == 1)
            back = u[0];
        else if (n == 2 && (u[0] & 0xE0) == 0xC0)
            back = (u[0] & 0x1Fu) << 6 | (u[1] & 0x3Fu);
        else if (n == 3 && (u[0] & 0xF0) == 0xE0)
            back = (u[0] & 0x0Fu) << 12 | (u[1] & 0x3Fu) << 6 | (u[2] & 0x3Fu);
        int shortest =
            (n == 1 && c < 0x80) || (n == 2 && c >= 0x80 && c < 0x800) || (n == 3 && c >= 0x800);
        if (back != c || !shortest || high != (c >= 0x80))
            bad++;
    }
    CHECK(bad == 0, "%lu code points unescaped wrongly", bad);
    /* Every pair: the code point 0x10000 + ... in four bytes. */
    bad = 0;
    for (uint32_t hi = 0xD800; hi <= 0xDBFF; hi += 0x3F) {
        for (uint32_t lo = 0xDC00; lo <= 0xDFFF; lo += 0x1F) {
            snprintf(in, sizeof(in), "\\u%04x", (unsigned)hi);
            char both[13];
            memcpy(both, in, 6);
            snprintf(both + 6, 7, "\\u%04x", (unsigned)lo);
            int high = 0;
            ptrdiff_t n = jp_jscan_unescape(out, jp_guarded_copy(&guard, both, 12), 12, &high);
            const unsigned char *u = (const unsigned char *)out;
            uint32_t want = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            uint32_t back =
                (u[0] & 0x07u) << 18 | (u[1] & 0x3Fu) << 12 | (u[2] & 0x3Fu) << 6 | (u[3] & 0x3Fu);
            if (n != 4 || (u[0] & 0xF8) != 0xF0 || back != want || !high)
                bad++;
        }
    }
    CHECK(bad == 0, "%lu surrogate pairs unescaped wrongly", bad);
}

/* ---- numbers ---- */

static void
check_number(const char *s, int want_rc, size_t want_len, int want_float, int want_small,
             int64_t want_value)
{
    size_t len = strlen(s);
    const char *in = jp_guarded_copy(&guard, s, len);
    jp_jscan_num got;
    memset(&got, 0x55, sizeof(got));
    int rc = jp_jscan_number(in, 0, len, &got);
    CHECK(rc == want_rc, "number(%s) rc=%d", s, rc);
    if (rc == 0 && want_rc == 0) {
        CHECK(got.len == want_len, "number(%s) len=%zu want %zu", s, got.len, want_len);
        CHECK(got.is_float == want_float && got.is_small == want_small,
              "number(%s) float=%d small=%d", s, got.is_float, got.is_small);
        if (want_small)
            CHECK(got.value == want_value, "number(%s) value=%lld", s, (long long)got.value);
    }
}

static void
test_numbers(void)
{
    check_number("0", 0, 1, 0, 1, 0);
    check_number("-0", 0, 2, 0, 1, 0);
    check_number("7", 0, 1, 0, 1, 7);
    check_number("-7", 0, 2, 0, 1, -7);
    check_number("1234567890", 0, 10, 0, 1, 1234567890);
    check_number("999999999999999999", 0, 18, 0, 1, 999999999999999999LL);
    check_number("-999999999999999999", 0, 19, 0, 1, -999999999999999999LL);
    check_number("1000000000000000000", 0, 19, 0, 0, 0); /* 19 digits: not small */
    check_number("9223372036854775807", 0, 19, 0, 0, 0);
    check_number("123456789012345678901234567890", 0, 30, 0, 0, 0);
    check_number("0.5", 0, 3, 1, 0, 0);
    check_number("-0.0", 0, 4, 1, 0, 0);
    check_number("1.25e3", 0, 6, 1, 0, 0);
    check_number("1E3", 0, 3, 1, 0, 0);
    check_number("1e+3", 0, 4, 1, 0, 0);
    check_number("1e-3", 0, 4, 1, 0, 0);
    check_number("1e400", 0, 5, 1, 0, 0);
    check_number("0e0", 0, 3, 1, 0, 0);
    /* The longest match; what follows is the caller's. */
    check_number("12,", 0, 2, 0, 1, 12);
    check_number("12]", 0, 2, 0, 1, 12);
    check_number("01", 0, 1, 0, 1, 0);
    check_number("-01", 0, 2, 0, 1, 0);
    check_number("00", 0, 1, 0, 1, 0);
    check_number("1.5.5", 0, 3, 1, 0, 0);
    check_number("1e5e5", 0, 3, 1, 0, 0);
    check_number("1x", 0, 1, 0, 1, 1);
    /* Not numbers, or cut short. */
    check_number("", -1, 0, 0, 0, 0);
    check_number("-", -1, 0, 0, 0, 0);
    check_number("--1", -1, 0, 0, 0, 0);
    check_number("+1", -1, 0, 0, 0, 0);
    check_number(".5", -1, 0, 0, 0, 0);
    check_number("-.5", -1, 0, 0, 0, 0);
    check_number("1.", -1, 0, 0, 0, 0);
    check_number("1.e5", -1, 0, 0, 0, 0);
    check_number("1e", -1, 0, 0, 0, 0);
    check_number("1E+", -1, 0, 0, 0, 0);
    check_number("1e-", -1, 0, 0, 0, 0);
    check_number("1.5e", -1, 0, 0, 0, 0);
    check_number("a", -1, 0, 0, 0, 0);
    check_number("-a", -1, 0, 0, 0, 0);
    check_number("Infinity", -1, 0, 0, 0, 0);
    check_number("-Infinity", -1, 0, 0, 0, 0);
    check_number("\xd9\xa1", -1, 0, 0, 0, 0); /* ARABIC-INDIC DIGIT ONE is no digit here */
}

/* The number at an offset, with bytes before it. */
static void
test_number_at_offset(void)
{
    const char *in = jp_guarded_copy(&guard, "[12, -3.5e2", 11);
    jp_jscan_num n;
    CHECK(jp_jscan_number(in, 1, 11, &n) == 0 && n.len == 2 && n.value == 12, "at 1");
    CHECK(jp_jscan_number(in, 5, 11, &n) == 0 && n.len == 6 && n.is_float, "at 5");
    CHECK(jp_jscan_number(in, 4, 11, &n) == -1, "at the space");
}

/* The fast double, where it applies, is strtod's (glibc's is correctly rounded) to the bit,
 * and it applies to the short decimals it is for. */
static int
fast_matches_strtod(const char *s, int *applied)
{
    size_t len = strlen(s);
    const char *in = jp_guarded_copy(&guard, s, len);
    jp_jscan_num n;
    double got = 0, want = strtod(s, NULL);
    *applied = jp_jscan_number(in, 0, len, &n) == 0 && n.len == len && n.is_float &&
               jp_jscan_fast_double(&n, &got);
    return !*applied || memcmp(&got, &want, sizeof(double)) == 0;
}

static void
test_fast_double(void)
{
    static const char *const applies[] = {
        "1.25",
        "-1.25",
        "0.1",
        "0.3",
        "97.5",
        "-0.0",
        "0.0",
        "0e0",
        "-0e5",
        "1e22",
        "1e-22",
        "9007199254740.992",
        "123456789012345.6",
        "2.5e-3",
        "1.7e10",
        "4.35",
        "0.000001",
        "3.14159",
        "1E5",
        "1e+5",
        "5.0",
        "123.456e-7",
    };
    static const char *const not_applies[] = {
        "1e23",
        "1e-23",
        "9007199254740993.0",
        "123456789012345678.9",
        "1.7976931348623157e308",
        "5e-324",
        "1e400",
        "0.30000000000000004",
        "1.00000000000000000001",
    };
    int applied;
    for (size_t i = 0; i < sizeof(applies) / sizeof(applies[0]); i++) {
        CHECK(fast_matches_strtod(applies[i], &applied), "fast(%s) differs from strtod",
              applies[i]);
        CHECK(applied, "fast(%s) did not apply", applies[i]);
    }
    for (size_t i = 0; i < sizeof(not_applies) / sizeof(not_applies[0]); i++) {
        CHECK(fast_matches_strtod(not_applies[i], &applied), "fast(%s)", not_applies[i]);
        CHECK(!applied, "fast(%s) applied", not_applies[i]);
    }
    CHECK(fast_matches_strtod("-0.0", &applied) && applied, "-0.0");
    /* Random decimals: up to 17 digits, a point anywhere, an exponent within +-30. */
    unsigned long bad = 0, used = 0;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    char buf[64];
    for (int k = 0; k < 200000; k++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int ndig = 1 + (int)((seed >> 33) % 17);
        int point = (int)((seed >> 40) % (unsigned)(ndig + 1));
        int exp = (int)((seed >> 48) % 61) - 30;
        size_t o = 0;
        if (seed & 1)
            buf[o++] = '-';
        uint64_t r = seed;
        for (int d = 0; d < ndig; d++) {
            r = r * 2862933555777941757ULL + 3037000493ULL;
            char c = (char)('0' + (r >> 59) % 10);
            if (d == 0 && ndig > 1 && point != 1)
                c = (char)('1' + (r >> 59) % 9); /* no leading zero in the integer part */
            if (d == point && d > 0)
                buf[o++] = '.';
            buf[o++] = c;
        }
        if (point == 0 || point >= ndig)
            o += (size_t)sprintf(buf + o, ".5");
        if (seed & 2)
            o += (size_t)sprintf(buf + o, "e%d", exp);
        buf[o] = '\0';
        if (!fast_matches_strtod(buf, &applied))
            bad++;
        used += (unsigned long)applied;
    }
    CHECK(bad == 0, "%lu random decimals differ from strtod", bad);
    CHECK(used > 50000, "the fast path applied to only %lu of 200000", used);
}

/* ---- whitespace and literals ---- */

static void
test_ws(void)
{
    unsigned long bad = 0;
    for (int c = 0; c < 256; c++)
        if (jp_jscan_is_ws((unsigned char)c) != (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
            bad++;
    CHECK(bad == 0, "%lu bytes misclassified as whitespace", bad);
    const char *in = jp_guarded_copy(&guard, " \t\r\n x \n", 8);
    CHECK(jp_jscan_skip_ws(in, 0, 8) == 5, "skip to x");
    CHECK(jp_jscan_skip_ws(in, 6, 8) == 8, "skip to the end");
    CHECK(jp_jscan_skip_ws(in, 8, 8) == 8, "at the end");
    in = jp_guarded_copy(&guard, "\v\f", 2);
    CHECK(jp_jscan_skip_ws(in, 0, 2) == 0, "VT and FF are not JSON whitespace");
    in = jp_guarded_copy(&guard, "nul", 3);
    CHECK(!jp_jscan_has(in, 0, 3, "null", 4), "a cut literal");
    in = jp_guarded_copy(&guard, "null", 4);
    CHECK(jp_jscan_has(in, 0, 4, "null", 4), "a literal at the end");
    CHECK(!jp_jscan_has(in, 1, 4, "null", 4), "a literal too long for what is left");
}

int
main(void)
{
    jp_guard_open(&guard, 4096);
    test_scan_cases();
    test_scan_exhaustive();
    test_unescape();
    test_unescape_every_digit();
    test_unescape_every_code_point();
    test_numbers();
    test_number_at_offset();
    test_fast_double();
    test_ws();
    jp_guard_close(&guard);
    return JP_TEST_SUMMARY("test_jsonscan");
}
