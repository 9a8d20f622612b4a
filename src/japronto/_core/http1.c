/*
 * http1.c - the incremental HTTP/1.x request-head parser declared in http1.h (layer 0: pure C,
 * no Python.h).
 *
 * Owns: nothing on the heap. The parser reads the caller's bytes and writes only into the
 * jp_http1_parser it is given and into the caller's header array (never past the effective
 * field limit, which is at most headers_cap). The only globals are immutable tables.
 *
 * Invariants:
 *   - Every read is inside buf[0..end), where end = min(len, limits->max_head_size), and
 *     inside the request line also below its start + limits->max_request_line. The vector
 *     scanners load 32 bytes only while 32 remain, and near the end load the last 32 bytes of
 *     the buffer backwards (never past it), so input flush against a no-access page is safe.
 *   - Bytes below p->_scan were validated by an earlier call and are never scanned again;
 *     each state resumes from p->_scan, so a head trickled one byte at a time costs O(1) per
 *     call. Across calls the only bytes looked at again are the at most ten of an incomplete
 *     HTTP version and a CR whose LF has not arrived. Within one call a field line may be
 *     read twice (the fast loop gives up on it, the line-by-line code takes it), and a
 *     value's leading OWS is skipped when its line completes: a constant factor, never a
 *     rescan per call.
 *   - The answer depends only on the bytes, never on how they were split over calls: a scan
 *     never looks past the bound set by the limits, so a limit error and a syntax error past
 *     that bound cannot swap places when the same bytes arrive in pieces. Fast paths that
 *     need several bytes fall back to byte-wise code that gives the same answer and reason.
 *   - The whole parse loop is written once (http1_parse_impl, always inlined) and
 *     instantiated twice: http1_parse_scalar, and http1_parse_avx2 compiled for AVX2. The
 *     choice is made once per jp_http1_parse() call from p->simd, so no line pays for an
 *     indirect call, and both instances share every rule of the grammar.
 */
#include "http1.h"

#include <string.h>

#include "chars.h"

#if JP_HAVE_X86_SIMD
#include <immintrin.h>
#endif

#define HTTP1_INLINE static inline __attribute__((always_inline))
#define HTTP1_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HTTP1_LIKELY(x) __builtin_expect(!!(x), 1)

const jp_http1_limits jp_http1_default_limits = {
    .max_request_line = JP_HTTP1_DEFAULT_MAX_REQUEST_LINE,
    .max_head_size = JP_HTTP1_DEFAULT_MAX_HEAD_SIZE,
    .max_headers = JP_HTTP1_DEFAULT_MAX_HEADERS,
    .max_body_size = JP_HTTP1_DEFAULT_MAX_BODY_SIZE,
    .max_chunk_line = JP_HTTP1_DEFAULT_MAX_CHUNK_LINE,
};

/* Where the next call resumes (p->_state). */
enum {
    HTTP1_S_START = 0, /* before the request line, skipping empty lines; _scan = line start */
    HTTP1_S_METHOD,    /* in the method; _line_start = its start, _scan = next byte */
    HTTP1_S_TARGET,    /* in the target; head.target.off set, _mark = first '?' or NONE */
    HTTP1_S_VERSION,   /* _scan = first byte of the version (re-checked, at most 10 bytes) */
    HTTP1_S_FIELD,     /* at the start of a field line or of the final CRLF; _scan = there */
    HTTP1_S_NAME,      /* in a field name; _line_start = its start */
    HTTP1_S_VALUE,     /* after the colon; the name is stored in headers[header_count] */
    HTTP1_S_DONE,
    HTTP1_S_ERROR,
};

#define HTTP1_NO_QUERY UINT32_MAX

/* p->_te_flags: Transfer-Encoding codings seen so far, over every line. */
enum {
    HTTP1_TE_PRESENT = 1u << 0,
    HTTP1_TE_CHUNKED = 1u << 1,      /* "chunked" appeared */
    HTTP1_TE_TWICE = 1u << 2,        /* "chunked" appeared more than once */
    HTTP1_TE_LAST_CHUNKED = 1u << 3, /* the last coding so far is "chunked" */
    HTTP1_TE_OTHER = 1u << 4,        /* some other coding appeared */
};

/* p->_conn_flags: Connection tokens and the presence of Upgrade. */
enum {
    HTTP1_CONN_CLOSE = 1u << 0,
    HTTP1_CONN_KEEP_ALIVE = 1u << 1,
    HTTP1_CONN_UPGRADE = 1u << 2,
    HTTP1_CONN_HAS_UPGRADE = 1u << 3, /* an Upgrade field was present */
};

/* ---------------------------------------------------------------------------------------- */
/* Word loads. Native order serves equality tests against words loaded the same way; the  */
/* little-endian order serves SWAR scans, where the first byte must be the lowest.          */

HTTP1_INLINE uint16_t
http1_load16(const char *s)
{
    uint16_t v;
    memcpy(&v, s, sizeof v);
    return v;
}

HTTP1_INLINE uint32_t
http1_load32(const char *s)
{
    uint32_t v;
    memcpy(&v, s, sizeof v);
    return v;
}

HTTP1_INLINE uint64_t
http1_load64(const char *s)
{
    uint64_t v;
    memcpy(&v, s, sizeof v);
    return v;
}

HTTP1_INLINE uint64_t
http1_load64_le(const char *s)
{
    uint64_t v = http1_load64(s);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

#define HTTP1_ONES 0x0101010101010101ull
#define HTTP1_HIGHS 0x8080808080808080ull

/* The classic "has a byte less than n" test (n <= 128): the high bit of each flagged byte.
 * A borrow can only start at a flagged byte, so bytes above the lowest flagged one may be
 * false positives, but the lowest flagged byte is always exact, which is all a scan needs. */
HTTP1_INLINE uint64_t
http1_swar_less(uint64_t x, unsigned n)
{
    return (x - HTTP1_ONES * n) & ~x & HTTP1_HIGHS;
}

/* Bytes equal to c, with the same "lowest is exact" guarantee. */
HTTP1_INLINE uint64_t
http1_swar_eq(uint64_t x, unsigned c)
{
    return http1_swar_less(x ^ (HTTP1_ONES * c), 1);
}

/* Index of the lowest flagged byte of a non-zero SWAR mask. */
HTTP1_INLINE size_t
http1_swar_first(uint64_t m)
{
    return (size_t)__builtin_ctzll(m) >> 3;
}

/* ---------------------------------------------------------------------------------------- */
/* Scalar scanners. Each returns the first position in [pos, end) whose byte ends the run,  */
/* or end. Portable C; the tests hold them and the vector ones to jp_char_class.             */

/* First byte that is not a tchar (ends a method or a field name). Names are short, so a
 * table lookup per byte, unrolled, beats anything cleverer here. */
HTTP1_INLINE size_t
http1_scan_name_scalar(const char *buf, size_t pos, size_t end)
{
    const unsigned char *s = (const unsigned char *)buf;
    while (end - pos >= 4) {
        if (!jp_is_tchar(s[pos]))
            return pos;
        if (!jp_is_tchar(s[pos + 1]))
            return pos + 1;
        if (!jp_is_tchar(s[pos + 2]))
            return pos + 2;
        if (!jp_is_tchar(s[pos + 3]))
            return pos + 3;
        pos += 4;
    }
    while (pos < end && jp_is_tchar(s[pos]))
        pos++;
    return pos;
}

/* The high bit of each byte of x that may be in a field value, with HTAB counted out (the
 * scanners step over tabs by hand). With the high bits cleared no byte can carry into the
 * next, so unlike the tests above every byte of the answer is exact: x7 + 0x60 sets bit 7 for
 * bytes from 0x20, x7 + 0x01 for DEL alone, and obs-text keeps its own high bit. */
HTTP1_INLINE uint64_t
http1_swar_field(uint64_t x)
{
    uint64_t x7 = x & ~HTTP1_HIGHS;
    return (((x7 + HTTP1_ONES * 0x60) & ~(x7 + HTTP1_ONES)) | x) & HTTP1_HIGHS;
}

/* First byte of a field value that is a CTL other than HTAB, or DEL; the CR ending the line
 * is the usual answer. Sixteen bytes a step, as values (cookies, user agents) are the bulk of
 * a head. A HTAB stops the word scan like the other CTLs and is stepped over, as tabs are
 * rare. */
HTTP1_INLINE size_t
http1_scan_value_scalar(const char *buf, size_t pos, size_t end)
{
    const unsigned char *s = (const unsigned char *)buf;
    for (;;) {
        uint64_t bad;
        while (end - pos >= 16) {
            uint64_t a = http1_swar_field(http1_load64_le(buf + pos));
            uint64_t b = http1_swar_field(http1_load64_le(buf + pos + 8));
            if ((a & b) != HTTP1_HIGHS) {
                if (a != HTTP1_HIGHS) {
                    bad = a ^ HTTP1_HIGHS;
                } else {
                    bad = b ^ HTTP1_HIGHS;
                    pos += 8;
                }
                goto found_word;
            }
            pos += 16;
        }
        if (end - pos >= 8) {
            bad = http1_swar_field(http1_load64_le(buf + pos)) ^ HTTP1_HIGHS;
            if (bad)
                goto found_word;
            pos += 8;
        }
        while (pos < end) {
            if (s[pos] < 0x20 || s[pos] == 0x7F)
                goto found;
            pos++;
        }
        return end;
    found_word:
        pos += http1_swar_first(bad);
    found:
        if (s[pos] != '\t')
            return pos;
        pos++;
    }
}

/* First byte that may not appear in a request-target (outside 0x21-0x7E, or '#'). On the
 * way it records the first '?' in *qpos if none was recorded yet, so the target is read only
 * once even when it arrives in pieces. */
HTTP1_INLINE size_t
http1_scan_target_scalar(const char *buf, size_t pos, size_t end, uint32_t *qpos)
{
    const unsigned char *s = (const unsigned char *)buf;
    while (end - pos >= 8) {
        uint64_t x = http1_load64_le(buf + pos);
        /* Below 0x21; at or above 0x7F (a carry can only leave a byte that is already
         * flagged by its own high bit); '#'. */
        uint64_t m = http1_swar_less(x, 0x21) | (((x + HTTP1_ONES) | x) & HTTP1_HIGHS);
        m |= http1_swar_eq(x, '#');
        if (*qpos == HTTP1_NO_QUERY) {
            uint64_t q = http1_swar_eq(x, '?');
            if (q && (!m || http1_swar_first(q) < http1_swar_first(m)))
                *qpos = (uint32_t)(pos + http1_swar_first(q));
        }
        if (m)
            return pos + http1_swar_first(m);
        pos += 8;
    }
    while (pos < end && (jp_char_class[s[pos]] & JP_C_TARGET)) {
        if (s[pos] == '?' && *qpos == HTTP1_NO_QUERY)
            *qpos = (uint32_t)pos;
        pos++;
    }
    return pos;
}

/* ---------------------------------------------------------------------------------------- */
/* AVX2 scanners: the same contracts, 32 bytes a step. Near the end of the buffer they load  */
/* the 32 bytes that end exactly at `end` and drop the lanes before pos, so they never read  */
/* past the buffer; a buffer shorter than 32 bytes is left to the scalar code.               */

#if JP_HAVE_X86_SIMD

#define HTTP1_B(x) ((char)(x))

/* Bit i set where byte i of v is not a tchar. Each tchar has a high nibble in 2..7; the
 * first table gives, per low nibble, the set of high nibbles that make a tchar (one bit per
 * high nibble), the second maps a high nibble to its bit (zero for 0, 1 and 8..15), so their
 * AND is non-zero exactly for tchars. */
JP_TARGET_AVX2 static inline uint32_t
http1_nontchar_mask_avx2(__m256i v)
{
    const __m256i lo_tab = _mm256_setr_epi8(
        HTTP1_B(0xe8), HTTP1_B(0xfc), HTTP1_B(0xf8), HTTP1_B(0xfc), HTTP1_B(0xfc), HTTP1_B(0xfc),
        HTTP1_B(0xfc), HTTP1_B(0xfc), HTTP1_B(0xf8), HTTP1_B(0xf8), HTTP1_B(0xf4), HTTP1_B(0x54),
        HTTP1_B(0xd0), HTTP1_B(0x54), HTTP1_B(0xf4), HTTP1_B(0x70), HTTP1_B(0xe8), HTTP1_B(0xfc),
        HTTP1_B(0xf8), HTTP1_B(0xfc), HTTP1_B(0xfc), HTTP1_B(0xfc), HTTP1_B(0xfc), HTTP1_B(0xfc),
        HTTP1_B(0xf8), HTTP1_B(0xf8), HTTP1_B(0xf4), HTTP1_B(0x54), HTTP1_B(0xd0), HTTP1_B(0x54),
        HTTP1_B(0xf4), HTTP1_B(0x70));
    const __m256i hi_tab =
        _mm256_setr_epi8(0, 0, 0x04, 0x08, 0x10, 0x20, 0x40, HTTP1_B(0x80), 0, 0, 0, 0, 0, 0, 0, 0,
                         0, 0, 0x04, 0x08, 0x10, 0x20, 0x40, HTTP1_B(0x80), 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    __m256i lo = _mm256_shuffle_epi8(lo_tab, _mm256_and_si256(v, nibble));
    __m256i hi = _mm256_shuffle_epi8(hi_tab, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
    __m256i t = _mm256_and_si256(lo, hi);
    return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(t, _mm256_setzero_si256()));
}

/* Bit i set where byte i is a CTL or DEL. HTAB is flagged too, although it is allowed in a
 * value: taking it out costs two more instructions on every block, while tabs are rare, so
 * the scanners step over a flagged HTAB instead. */
JP_TARGET_AVX2 static inline uint32_t
http1_ctl_mask_avx2(__m256i v)
{
    __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1F)), v);
    __m256i del = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7F));
    return (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(ctl, del));
}

/* Bit i set where byte i may not appear in a request-target. A signed compare with 0x20
 * keeps 0x21-0x7F (bytes from 0x80 are negative); DEL and '#' are taken out after. */
JP_TARGET_AVX2 static inline uint32_t
http1_nontarget_mask_avx2(__m256i v)
{
    __m256i good = _mm256_cmpgt_epi8(v, _mm256_set1_epi8(0x20));
    __m256i bad = _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7F)),
                                  _mm256_cmpeq_epi8(v, _mm256_set1_epi8('#')));
    return (uint32_t)_mm256_movemask_epi8(_mm256_andnot_si256(bad, good)) ^ 0xFFFFFFFFu;
}

JP_TARGET_AVX2 static inline __m256i
http1_load256(const char *s)
{
    return _mm256_loadu_si256((const __m256i *)(const void *)s);
}

JP_TARGET_AVX2 static inline size_t
http1_scan_name_avx2(const char *buf, size_t pos, size_t end)
{
    while (end - pos >= 32) {
        uint32_t m = http1_nontchar_mask_avx2(http1_load256(buf + pos));
        if (m)
            return pos + (size_t)__builtin_ctz(m);
        pos += 32;
    }
    if (pos == end)
        return pos;
    if (end < 32)
        return http1_scan_name_scalar(buf, pos, end);
    uint32_t m = http1_nontchar_mask_avx2(http1_load256(buf + end - 32)) >> (32 - (end - pos));
    return m ? pos + (size_t)__builtin_ctz(m) : end;
}

JP_TARGET_AVX2 static inline size_t
http1_scan_value_avx2(const char *buf, size_t pos, size_t end)
{
    for (;;) {
        uint32_t m;
        while (end - pos >= 32) {
            m = http1_ctl_mask_avx2(http1_load256(buf + pos));
            if (m) {
                pos += (size_t)__builtin_ctz(m);
                goto found;
            }
            pos += 32;
        }
        if (pos == end)
            return pos;
        if (end < 32)
            return http1_scan_value_scalar(buf, pos, end);
        m = http1_ctl_mask_avx2(http1_load256(buf + end - 32)) >> (32 - (end - pos));
        if (!m)
            return end;
        pos += (size_t)__builtin_ctz(m);
    found:
        if (buf[pos] != '\t')
            return pos;
        pos++;
    }
}

/* Records in *qpos the first '?' among the lanes of v kept by `keep` (the lanes before the
 * byte that ends the target), lane 0 being offset base. Called only while none is known. */
JP_TARGET_AVX2 static inline void
http1_note_query_avx2(__m256i v, uint32_t keep, size_t base, uint32_t *qpos)
{
    uint32_t q = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('?')));
    q &= keep;
    if (q)
        *qpos = (uint32_t)(base + (size_t)__builtin_ctz(q));
}

/* Lanes below the first set bit of m (all lanes if m is 0). */
HTTP1_INLINE uint32_t
http1_below_first(uint32_t m)
{
    return m ? (m & -m) - 1u : 0xFFFFFFFFu;
}

JP_TARGET_AVX2 static inline size_t
http1_scan_target_avx2(const char *buf, size_t pos, size_t end, uint32_t *qpos)
{
    while (end - pos >= 32) {
        __m256i v = http1_load256(buf + pos);
        uint32_t m = http1_nontarget_mask_avx2(v);
        if (*qpos == HTTP1_NO_QUERY)
            http1_note_query_avx2(v, http1_below_first(m), pos, qpos);
        if (m)
            return pos + (size_t)__builtin_ctz(m);
        pos += 32;
    }
    if (pos == end)
        return pos;
    if (end < 32)
        return http1_scan_target_scalar(buf, pos, end, qpos);
    size_t skip = 32 - (end - pos);
    __m256i v = http1_load256(buf + end - 32);
    uint32_t m = http1_nontarget_mask_avx2(v) >> skip;
    if (*qpos == HTTP1_NO_QUERY) {
        uint32_t q = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('?')));
        q = (q >> skip) & http1_below_first(m);
        if (q)
            *qpos = (uint32_t)(pos + (size_t)__builtin_ctz(q));
    }
    return m ? pos + (size_t)__builtin_ctz(m) : end;
}

/* The first bytes of a field line, from one load: returns the offset of the first non-tchar
 * from pos (32 if none in the block), and in *ctl the CTL/DEL bytes of the same block, bit i
 * for buf[pos + i]. Near the end it loads the last 32 bytes of the buffer instead, so the
 * masks then cover only the end - pos bytes that exist (the caller checks end >= 32). */
JP_TARGET_AVX2 static inline size_t
http1_line_block_avx2(const char *buf, size_t pos, size_t end, uint32_t *ctl)
{
    uint32_t m, c;
    if (HTTP1_LIKELY(end - pos >= 32)) {
        __m256i v = http1_load256(buf + pos);
        m = http1_nontchar_mask_avx2(v);
        c = http1_ctl_mask_avx2(v);
    } else {
        unsigned skip = (unsigned)(32 - (end - pos));
        __m256i v = http1_load256(buf + end - 32);
        m = http1_nontchar_mask_avx2(v) >> skip;
        c = http1_ctl_mask_avx2(v) >> skip;
    }
    *ctl = c;
    return m ? (size_t)__builtin_ctz(m) : 32;
}

#endif /* JP_HAVE_X86_SIMD */

/* Level dispatch for the parse loop. `level` is a constant in each instance, so only one
 * branch survives; the AVX2 scanners are inlined into the AVX2 instance (it is flattened). */
HTTP1_INLINE size_t
http1_scan_name(const char *buf, size_t pos, size_t end, const int level)
{
#if JP_HAVE_X86_SIMD
    if (level == JP_SIMD_AVX2)
        return http1_scan_name_avx2(buf, pos, end);
#endif
    (void)level;
    return http1_scan_name_scalar(buf, pos, end);
}

HTTP1_INLINE size_t
http1_scan_value(const char *buf, size_t pos, size_t end, const int level)
{
#if JP_HAVE_X86_SIMD
    if (level == JP_SIMD_AVX2)
        return http1_scan_value_avx2(buf, pos, end);
#endif
    (void)level;
    return http1_scan_value_scalar(buf, pos, end);
}

HTTP1_INLINE size_t
http1_scan_target(const char *buf, size_t pos, size_t end, uint32_t *qpos, const int level)
{
#if JP_HAVE_X86_SIMD
    if (level == JP_SIMD_AVX2)
        return http1_scan_target_avx2(buf, pos, end, qpos);
#endif
    (void)level;
    return http1_scan_target_scalar(buf, pos, end, qpos);
}

/* ---------------------------------------------------------------------------------------- */
/* Recognising names and values.                                                             */

/* The method's id. Methods are case-sensitive, so the comparison is exact. */
static uint8_t
http1_method_id(const char *s, size_t n)
{
    switch (n) {
    case 3:
        if (memcmp(s, "GET", 3) == 0)
            return JP_METHOD_GET;
        if (memcmp(s, "PUT", 3) == 0)
            return JP_METHOD_PUT;
        break;
    case 4:
        if (memcmp(s, "POST", 4) == 0)
            return JP_METHOD_POST;
        if (memcmp(s, "HEAD", 4) == 0)
            return JP_METHOD_HEAD;
        break;
    case 5:
        if (memcmp(s, "PATCH", 5) == 0)
            return JP_METHOD_PATCH;
        if (memcmp(s, "TRACE", 5) == 0)
            return JP_METHOD_TRACE;
        break;
    case 6:
        if (memcmp(s, "DELETE", 6) == 0)
            return JP_METHOD_DELETE;
        break;
    case 7:
        if (memcmp(s, "OPTIONS", 7) == 0)
            return JP_METHOD_OPTIONS;
        if (memcmp(s, "CONNECT", 7) == 0)
            return JP_METHOD_CONNECT;
        break;
    }
    return JP_METHOD_OTHER;
}

#define HTTP1_LC16 0x2020u
#define HTTP1_LC32 0x20202020u
#define HTTP1_LC64 0x2020202020202020ull

/* The id of a field name. A name holds only tchars, and over tchars OR-ing 0x20 into a byte
 * maps exactly the two cases of a letter together: the only other bytes that would land on a
 * lower-case letter or '-' are CTLs, which cannot be in a name. So a switch on the length and
 * one or two word compares decide it. */
HTTP1_INLINE uint32_t
http1_header_id(const char *s, size_t n)
{
    switch (n) {
    case 4:
        if ((http1_load32(s) | HTTP1_LC32) == http1_load32("host"))
            return JP_H_HOST;
        break;
    case 6: {
        uint32_t a = http1_load32(s) | HTTP1_LC32;
        uint16_t b = (uint16_t)(http1_load16(s + 4) | HTTP1_LC16);
        if (a == http1_load32("cookie") && b == http1_load16("ie"))
            return JP_H_COOKIE;
        if (a == http1_load32("expect") && b == http1_load16("ct"))
            return JP_H_EXPECT;
        break;
    }
    case 7:
        if ((http1_load32(s) | HTTP1_LC32) == http1_load32("upgrade") &&
            (http1_load32(s + 3) | HTTP1_LC32) == http1_load32("rade"))
            return JP_H_UPGRADE;
        break;
    case 10:
        if ((http1_load64(s) | HTTP1_LC64) == http1_load64("connection") &&
            (http1_load16(s + 8) | HTTP1_LC16) == http1_load16("on"))
            return JP_H_CONNECTION;
        break;
    case 12:
        if ((http1_load64(s) | HTTP1_LC64) == http1_load64("content-type") &&
            (http1_load32(s + 8) | HTTP1_LC32) == http1_load32("type"))
            return JP_H_CONTENT_TYPE;
        break;
    case 14:
        if ((http1_load64(s) | HTTP1_LC64) == http1_load64("content-length") &&
            (http1_load64(s + 6) | HTTP1_LC64) == http1_load64("t-length"))
            return JP_H_CONTENT_LENGTH;
        break;
    case 17:
        if ((http1_load64(s) | HTTP1_LC64) == http1_load64("transfer-encoding") &&
            (http1_load64(s + 8) | HTTP1_LC64) == http1_load64("-encodin") && (s[16] | 0x20) == 'g')
            return JP_H_TRANSFER_ENCODING;
        break;
    }
    return JP_H_OTHER;
}

/* Keywords inside field values, compared case-insensitively with the same OR-0x20 trick. It
 * is exact here too: the only bytes that OR onto a lower-case letter, a digit or '-' are the
 * other case of that letter and CTLs (0x0D, 0x10-0x19), and no CTL but HTAB reaches a value. */
HTTP1_INLINE int
http1_is_chunked(const char *s, size_t n)
{
    return n == 7 && (http1_load32(s) | HTTP1_LC32) == http1_load32("chun") &&
           (http1_load32(s + 3) | HTTP1_LC32) == http1_load32("nked");
}

HTTP1_INLINE int
http1_is_close(const char *s, size_t n)
{
    return n == 5 && (http1_load32(s) | HTTP1_LC32) == http1_load32("clos") && (s[4] | 0x20) == 'e';
}

HTTP1_INLINE int
http1_is_keep_alive(const char *s, size_t n)
{
    return n == 10 && (http1_load64(s) | HTTP1_LC64) == http1_load64("keep-ali") &&
           (http1_load16(s + 8) | HTTP1_LC16) == http1_load16("ve");
}

HTTP1_INLINE int
http1_is_upgrade(const char *s, size_t n)
{
    return n == 7 && (http1_load32(s) | HTTP1_LC32) == http1_load32("upgr") &&
           (http1_load32(s + 3) | HTTP1_LC32) == http1_load32("rade");
}

HTTP1_INLINE int
http1_is_100_continue(const char *s, size_t n)
{
    return n == 12 && (http1_load64(s) | HTTP1_LC64) == http1_load64("100-cont") &&
           (http1_load32(s + 8) | HTTP1_LC32) == http1_load32("inue");
}

HTTP1_INLINE int
http1_is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* Steps through a comma list (RFC 9110 section 5.6.1): returns the next non-empty element
 * of s[*i..n) with the OWS around it removed and its length in *elen, or NULL at the end.
 * Empty elements are skipped, as the RFC asks. Quoted strings are not special: the lists
 * read here (codings, connection options) hold tokens, and a coding with a quoted parameter
 * is refused whichever way its commas are cut. */
HTTP1_INLINE const char *
http1_list_next(const char *s, size_t n, size_t *i, size_t *elen)
{
    while (*i < n) {
        size_t a = *i, j = *i;
        while (j < n && s[j] != ',')
            j++;
        size_t b = j;
        *i = j + 1;
        while (a < b && http1_is_ows((unsigned char)s[a]))
            a++;
        while (b > a && http1_is_ows((unsigned char)s[b - 1]))
            b--;
        if (b > a) {
            *elen = b - a;
            return s + a;
        }
    }
    return NULL;
}

/* Folds one Transfer-Encoding line into p->_te_flags. Lines concatenate, so the state is
 * "which codings so far, and is the last one chunked". */
static void
http1_transfer_encoding(jp_http1_parser *p, const char *s, size_t n)
{
    uint32_t te = p->_te_flags | HTTP1_TE_PRESENT;
    size_t i = 0, en;
    const char *e;
    while ((e = http1_list_next(s, n, &i, &en)) != NULL) {
        if (http1_is_chunked(e, en)) {
            if (te & HTTP1_TE_CHUNKED)
                te |= HTTP1_TE_TWICE;
            te |= HTTP1_TE_CHUNKED | HTTP1_TE_LAST_CHUNKED;
        } else {
            te = (te | HTTP1_TE_OTHER) & ~(uint32_t)HTTP1_TE_LAST_CHUNKED;
        }
    }
    p->_te_flags = te;
}

static void
http1_connection(jp_http1_parser *p, const char *s, size_t n)
{
    uint32_t conn = p->_conn_flags;
    size_t i = 0, en;
    const char *e;
    /* One option alone is the usual case. */
    if (http1_is_keep_alive(s, n)) {
        p->_conn_flags = conn | HTTP1_CONN_KEEP_ALIVE;
        return;
    }
    if (http1_is_close(s, n)) {
        p->_conn_flags = conn | HTTP1_CONN_CLOSE;
        return;
    }
    while ((e = http1_list_next(s, n, &i, &en)) != NULL) {
        if (http1_is_close(e, en))
            conn |= HTTP1_CONN_CLOSE;
        else if (http1_is_keep_alive(e, en))
            conn |= HTTP1_CONN_KEEP_ALIVE;
        else if (http1_is_upgrade(e, en))
            conn |= HTTP1_CONN_UPGRADE;
    }
    p->_conn_flags = conn;
}

/* Reads a Content-Length value: 1*DIGIT only, so "+5", "-5", "5 5", "0x5" and lists are
 * refused (a recipient that read them differently from a proxy in front would let a request
 * be smuggled). Returns 0, or the status with *reason set. */
static uint16_t
http1_content_length(jp_http1_parser *p, const char *s, size_t n, const char **reason)
{
    uint64_t v = 0;
    int overflow = 0;
    if (n == 0) {
        *reason = "invalid Content-Length";
        return 400;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9) {
            *reason = "invalid Content-Length";
            return 400;
        }
        if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, d, &v))
            overflow = 1;
    }
    if (overflow || v > p->_limits->max_body_size) {
        *reason = "payload too large";
        return 413;
    }
    if (p->_has_content_length && v != p->head.content_length) {
        *reason = "conflicting Content-Length";
        return 400;
    }
    p->_has_content_length = 1;
    p->head.content_length = v;
    return 0;
}

/* Acts on a recognised field other than Host (counted in the loop) once its line is
 * complete. Returns 0, or the status with *reason set. Rare next to the scans, so it stays
 * out of line. */
static __attribute__((noinline)) uint16_t
http1_field_apply(jp_http1_parser *p, const char *buf, const jp_header *hd, const char **reason)
{
    const char *v = buf + hd->value.off;
    size_t n = hd->value.len;
    switch (hd->id) {
    case JP_H_CONTENT_LENGTH:
        return http1_content_length(p, v, n, reason);
    case JP_H_TRANSFER_ENCODING:
        /* HTTP/1.0 has no chunked coding; a 1.0 request naming one is a smuggling attempt
         * or a broken client, and either way its body cannot be framed. */
        if (p->head.version_minor == 0) {
            *reason = "Transfer-Encoding in HTTP/1.0 request";
            return 400;
        }
        http1_transfer_encoding(p, v, n);
        break;
    case JP_H_CONNECTION:
        http1_connection(p, v, n);
        break;
    case JP_H_UPGRADE:
        p->_conn_flags |= HTTP1_CONN_HAS_UPGRADE;
        break;
    case JP_H_EXPECT:
        /* RFC 9110 section 10.1.1: a 100-continue expectation in an HTTP/1.0 request is
         * ignored; any other expectation is left to the server to refuse with 417. */
        if (http1_is_100_continue(v, n)) {
            if (p->head.version_minor == 1)
                p->head.flags |= JP_HEAD_EXPECT_CONTINUE;
        } else {
            p->head.flags |= JP_HEAD_EXPECT_UNKNOWN;
        }
        break;
    default:
        break;
    }
    return 0;
}

/* Checks "HTTP/d.d" CRLF at s[0..avail), byte by byte so that an incomplete version gets the
 * same answer it will get once complete. Returns 1 when the ten bytes are there and valid
 * (*minor set), 0 when every byte present is right so far, or the error status with *reason
 * set. */
static uint16_t
http1_version_slow(const char *s, size_t avail, uint8_t *minor, const char **reason)
{
    static const char pattern[] = "HTTP/d.d\r\n";
    size_t n = avail < 10 ? avail : 10;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int ok = pattern[i] == 'd' ? (c >= '0' && c <= '9') : c == (unsigned char)pattern[i];
        if (ok)
            continue;
        if (c == '\n')
            *reason = "bare LF in request head";
        else if (i == 9)
            *reason = "bare CR in request head";
        else
            *reason = "invalid HTTP version";
        return 400;
    }
    if (n < 10)
        return 0;
    if (s[5] != '1' || s[7] > '1') {
        *reason = "HTTP version not supported";
        return 505;
    }
    *minor = (uint8_t)(s[7] - '0');
    return 1;
}

/* Fills path, query and HAS_QUERY from the complete target; qpos is its first '?'. */
static void
http1_split_target(jp_request_head *h, const char *buf, uint32_t qpos)
{
    uint32_t off = h->target.off, tend = off + h->target.len;
    uint32_t qoff = qpos == HTTP1_NO_QUERY ? tend : qpos;
    if (qpos != HTTP1_NO_QUERY) {
        h->flags |= JP_HEAD_HAS_QUERY;
        h->query.off = qpos + 1;
        h->query.len = tend - qpos - 1;
    } else {
        h->query.off = tend;
        h->query.len = 0;
    }
    if (buf[off] == '/') {
        h->path.off = off;
        h->path.len = qoff - off;
        return;
    }
    h->path.off = off;
    h->path.len = 0;
    /* absolute-form: scheme "://" authority [path]. The scheme is ALPHA *(ALPHA / DIGIT /
     * "+" / "-" / "."); anything else that does not start with '/' is asterisk-form,
     * authority-form or junk for the application to refuse, and has no path. */
    uint32_t i = off;
    if (!((buf[i] | 0x20) >= 'a' && (buf[i] | 0x20) <= 'z'))
        return;
    while (i < qoff &&
           (((buf[i] | 0x20) >= 'a' && (buf[i] | 0x20) <= 'z') ||
            (buf[i] >= '0' && buf[i] <= '9') || buf[i] == '+' || buf[i] == '-' || buf[i] == '.'))
        i++;
    if (qoff - i < 3 || memcmp(buf + i, "://", 3) != 0)
        return;
    i += 3;
    while (i < qoff && buf[i] != '/')
        i++;
    h->path.off = i;
    h->path.len = qoff - i;
}

/* ---------------------------------------------------------------------------------------- */
/* The parse loop.                                                                            */

HTTP1_INLINE size_t
http1_line_block(const char *buf, size_t pos, size_t end, uint32_t *ctl, const int level)
{
#if JP_HAVE_X86_SIMD
    if (level == JP_SIMD_AVX2)
        return http1_line_block_avx2(buf, pos, end, ctl);
#endif
    (void)buf, (void)pos, (void)end, (void)level;
    *ctl = 0;
    return 32;
}

/* Stores a complete field line: the name ends at colon, the CR at cr. Leading and trailing
 * OWS are not part of the value. The line ends in CR, which is not OWS, so the forward skip
 * needs no bound; backwards, any byte up to 0x20 in a valid value is SP or HTAB, so one
 * compare rules out the usual case. Returns the field's id. */
HTTP1_INLINE uint32_t
http1_store_field(jp_header *hd, const char *buf, size_t ls, size_t colon, size_t cr)
{
    size_t vs = colon + 1, ve = cr;
    if (HTTP1_LIKELY(buf[vs] == ' '))
        vs++;
    if (HTTP1_UNLIKELY((unsigned char)buf[vs] <= ' '))
        while (http1_is_ows((unsigned char)buf[vs]))
            vs++;
    if (HTTP1_UNLIKELY((unsigned char)buf[ve - 1] <= ' '))
        while (ve > vs && http1_is_ows((unsigned char)buf[ve - 1]))
            ve--;
    hd->name.off = (uint32_t)ls;
    hd->name.len = (uint32_t)(colon - ls);
    hd->value.off = (uint32_t)vs;
    hd->value.len = (uint32_t)(ve - vs);
    return hd->id = http1_header_id(buf + ls, colon - ls);
}

enum { HTTP1_FAST_STOP, HTTP1_FAST_DONE, HTTP1_FAST_ERROR };

/* The field lines of a head that is all there, in a tight loop: each line must start with a
 * tchar, have its name end in ':' and its value end in CRLF inside the buffer. At anything
 * else (an incomplete line, a tab, any error, the field limit) it stops at the start of that
 * line and the general code takes over from there, so this loop holds no rule of its own but
 * the ones it shares with that code, and it never needs to produce an error message except
 * from http1_field_apply. It returns HTTP1_FAST_DONE after the final CRLF. Written as a real
 * loop, apart from the state machine, so that its constants and counters stay in registers.
 * The AVX2 instance reads a line's name and the start of its value with one load. */
HTTP1_INLINE int
http1_fields_fast(jp_http1_parser *p, const char *buf, size_t *pos_io, size_t end, uint32_t *nh_io,
                  uint32_t max_fields, uint16_t *status, const char **reason, const int level)
{
    jp_header *const headers = p->head.headers;
    size_t pos = *pos_io;
    uint32_t nh = *nh_io;
    int rc = HTTP1_FAST_STOP;
    if (level != JP_SIMD_SCALAR && end < 32)
        return rc;
    while (HTTP1_LIKELY(pos < end)) {
        unsigned char c = (unsigned char)buf[pos];
        size_t colon, cr;
        if (HTTP1_UNLIKELY(c <= ' ')) {
            if (c == '\r' && pos + 1 < end && buf[pos + 1] == '\n') {
                pos += 2;
                rc = HTTP1_FAST_DONE;
            }
            break;
        }
        if (HTTP1_UNLIKELY(nh >= max_fields))
            break;
        if (level != JP_SIMD_SCALAR) {
            uint32_t ctl;
            size_t k = http1_line_block(buf, pos, end, &ctl, level);
            if (HTTP1_UNLIKELY(k >= 32 || k >= end - pos || buf[pos + k] != ':' || k == 0))
                break;
            colon = pos + k;
            /* A valid name holds no CTL, so the first CTL of the block is past the colon
             * without masking: the next line's start does not wait for the name scan. */
            if (HTTP1_LIKELY(ctl != 0))
                cr = pos + (size_t)__builtin_ctz(ctl);
            else if (end - pos > 32)
                cr = http1_scan_value(buf, pos + 32, end, level);
            else
                break;
        } else {
            colon = http1_scan_name(buf, pos, end, level);
            if (HTTP1_UNLIKELY(colon >= end || buf[colon] != ':' || colon == pos))
                break;
            cr = http1_scan_value(buf, colon + 1, end, level);
        }
        if (HTTP1_UNLIKELY(cr + 1 >= end || buf[cr] != '\r' || buf[cr + 1] != '\n'))
            break;
        uint32_t id = http1_store_field(&headers[nh], buf, pos, colon, cr);
        if (id == JP_H_HOST) {
            if (HTTP1_UNLIKELY(++p->_host_count > 1)) {
                *reason = "duplicate Host";
                rc = HTTP1_FAST_ERROR;
                break;
            }
        } else if (HTTP1_UNLIKELY(id - 1u < JP_H_CONTENT_TYPE - 1u)) {
            uint16_t st = http1_field_apply(p, buf, &headers[nh], reason);
            if (st) {
                *status = st;
                rc = HTTP1_FAST_ERROR;
                break;
            }
        }
        nh++;
        pos = cr + 2;
    }
    *pos_io = pos;
    *nh_io = nh;
    return rc;
}

/* Where the request line starting at ls must end: the request-line limit or the head limit,
 * whichever comes first (in 64 bits, as ls + limit may not fit in 32). */
HTTP1_INLINE size_t
http1_line_cap(size_t ls, uint32_t max_line, size_t head_cap)
{
    uint64_t cap = (uint64_t)ls + max_line;
    return cap < head_cap ? (size_t)cap : head_cap;
}

HTTP1_INLINE ptrdiff_t
http1_parse_impl(jp_http1_parser *p, const char *restrict buf, size_t len, const int level)
{
    const jp_http1_limits *lim = p->_limits;
    jp_request_head *h = &p->head;
    jp_header *const headers = h->headers;
    const size_t head_cap = lim->max_head_size;
    const size_t end = len < head_cap ? len : head_cap;
    const uint32_t max_fields =
        lim->max_headers < p->_headers_cap ? lim->max_headers : p->_headers_cap;
    size_t pos = p->_scan;
    size_t ls = p->_line_start;
    size_t rl_cap, rl_end, q, colon = 0;
    uint32_t nh = h->header_count;
    uint32_t qpos = p->_mark;
    uint32_t state;
    unsigned char c;
    jp_header *hd = NULL;
    uint16_t status = 400;
    const char *reason = NULL;

    /* Only a caller that broke the contract (fewer bytes than last time) gets here. */
    if (HTTP1_UNLIKELY(pos > len) && p->_state < HTTP1_S_DONE)
        return JP_HTTP1_NEED_MORE;

    switch (p->_state) {
    case HTTP1_S_START:
        goto start;
    case HTTP1_S_METHOD:
    case HTTP1_S_TARGET:
    case HTTP1_S_VERSION:
        goto request_line_resume;
    case HTTP1_S_FIELD:
        goto field;
    case HTTP1_S_NAME:
        goto name;
    case HTTP1_S_VALUE:
        hd = &headers[nh];
        ls = hd->name.off;
        colon = ls + hd->name.len;
        goto value;
    case HTTP1_S_DONE:
        return (ptrdiff_t)h->head_len;
    default:
        return JP_HTTP1_ERROR;
    }

start:
    /* Empty lines before the request line are skipped (RFC 9112 section 2.2); they still
     * count towards the head size. */
    for (;;) {
        if (HTTP1_UNLIKELY(pos >= end)) {
            state = HTTP1_S_START;
            goto need_head;
        }
        c = (unsigned char)buf[pos];
        if (HTTP1_LIKELY(c != '\r'))
            break;
        if (pos + 1 >= end) {
            state = HTTP1_S_START;
            goto need_head;
        }
        if (buf[pos + 1] != '\n')
            goto bare_cr;
        pos += 2;
    }
    if (c == '\n')
        goto bare_lf;
    ls = pos;
    h->method.off = (uint32_t)ls;
    rl_cap = http1_line_cap(ls, lim->max_request_line, head_cap);
    rl_end = len < rl_cap ? len : rl_cap;
    /* The common method costs one compare instead of a scan and a lookup. */
    if (HTTP1_LIKELY(rl_end - pos >= 4) && http1_load32(buf + pos) == http1_load32("GET ")) {
        h->method.len = 3;
        h->method_id = JP_METHOD_GET;
        pos += 4;
        goto target_start;
    }
    goto method;

request_line_resume:
    rl_cap = http1_line_cap(ls, lim->max_request_line, head_cap);
    rl_end = len < rl_cap ? len : rl_cap;
    if (p->_state == HTTP1_S_TARGET)
        goto target;
    if (p->_state == HTTP1_S_VERSION)
        goto version;

method:
    q = http1_scan_name(buf, pos, rl_end, level);
    if (HTTP1_UNLIKELY(q >= rl_end)) {
        pos = q;
        state = HTTP1_S_METHOD;
        goto need_request_line;
    }
    if (HTTP1_UNLIKELY(buf[q] != ' ' || q == ls)) {
        c = (unsigned char)buf[q];
        reason = c == '\n'   ? "bare LF in request head"
                 : c == '\r' ? "malformed request line"
                             : "invalid character in method";
        goto error;
    }
    h->method.len = (uint32_t)(q - ls);
    h->method_id = http1_method_id(buf + ls, q - ls);
    pos = q + 1;

target_start:
    h->target.off = (uint32_t)pos;
    qpos = HTTP1_NO_QUERY;
target:
    q = http1_scan_target(buf, pos, rl_end, &qpos, level);
    if (HTTP1_UNLIKELY(q >= rl_end)) {
        pos = q;
        state = HTTP1_S_TARGET;
        goto need_request_line;
    }
    if (HTTP1_UNLIKELY(buf[q] != ' ' || q == h->target.off)) {
        c = (unsigned char)buf[q];
        reason = c == ' '    ? "empty request target"
                 : c == '#'  ? "fragment in request target"
                 : c == '\r' ? "missing HTTP version"
                 : c == '\n' ? "bare LF in request head"
                             : "invalid character in request target";
        goto error;
    }
    h->target.len = (uint32_t)(q - h->target.off);
    http1_split_target(h, buf, qpos);
    pos = q + 1;

version:
    if (HTTP1_LIKELY(rl_end - pos >= 10) && http1_load16(buf + pos + 8) == http1_load16("\r\n")) {
        uint64_t w = http1_load64(buf + pos);
        if (w == http1_load64("HTTP/1.1")) {
            h->version_minor = 1;
            goto version_done;
        }
        if (w == http1_load64("HTTP/1.0")) {
            h->version_minor = 0;
            goto version_done;
        }
    }
    status = http1_version_slow(buf + pos, rl_end - pos, &h->version_minor, &reason);
    if (status == 0) {
        state = HTTP1_S_VERSION;
        goto need_request_line;
    }
    if (status != 1)
        goto error;
    status = 400;
version_done:
    pos += 10;

    /* Field lines, until the empty line: whole lines in the fast loop, the rest (and every
     * error) line by line below. */
field:
    switch (http1_fields_fast(p, buf, &pos, end, &nh, max_fields, &status, &reason, level)) {
    case HTTP1_FAST_DONE:
        goto finish;
    case HTTP1_FAST_ERROR:
        goto error;
    default:
        break;
    }
    if (HTTP1_UNLIKELY(pos >= end)) {
        state = HTTP1_S_FIELD;
        goto need_head;
    }
    c = (unsigned char)buf[pos];
    if (c <= ' ') {
        if (c == '\r') {
            if (pos + 1 >= end) {
                state = HTTP1_S_FIELD;
                goto need_head;
            }
            if (buf[pos + 1] != '\n')
                goto bare_cr;
            pos += 2;
            goto finish;
        }
        if (c == ' ' || c == '\t') {
            reason = "obsolete line folding";
            goto error;
        }
    }
    if (nh >= max_fields) {
        status = 431;
        reason = "too many header fields";
        goto error;
    }
    ls = pos;

name:
    q = http1_scan_name(buf, pos, end, level);
    if (q >= end) {
        pos = q;
        state = HTTP1_S_NAME;
        goto need_head;
    }
    if (buf[q] != ':' || q == ls)
        goto name_error;
    hd = &headers[nh];
    hd->name.off = (uint32_t)ls;
    hd->name.len = (uint32_t)(q - ls);
    colon = q;
    pos = q + 1;

value:
    /* The value is scanned from the colon: OWS is allowed in it, so the leading OWS is
     * stepped over only once the line is complete, and no state is needed for it. */
    q = http1_scan_value(buf, pos, end, level);
    if (q + 1 >= end) {
        /* Either no terminator yet, or a CR whose LF has not arrived: resume on the CR. */
        if (q >= end || buf[q] == '\r') {
            pos = q;
            state = HTTP1_S_VALUE;
            goto need_head;
        }
    }
    if (buf[q] != '\r') {
        reason = buf[q] == '\n' ? "bare LF in request head" : "invalid character in header value";
        goto error;
    }
    if (buf[q + 1] != '\n')
        goto bare_cr;
    nh++;
    if (http1_store_field(hd, buf, ls, colon, q) == JP_H_HOST) {
        if (++p->_host_count > 1) {
            reason = "duplicate Host";
            goto error;
        }
    } else if (hd->id - 1u < JP_H_CONTENT_TYPE - 1u) {
        status = http1_field_apply(p, buf, hd, &reason);
        if (status)
            goto error;
        status = 400;
    }
    pos = q + 2;
    goto field;

finish:
    h->header_count = nh;
    h->head_len = (uint32_t)pos;
    if (h->version_minor == 1 && p->_host_count == 0) {
        reason = "missing Host";
        goto error;
    }
    if (p->_te_flags) {
        uint32_t te = p->_te_flags;
        if (p->_has_content_length) {
            reason = "Content-Length and Transfer-Encoding together";
            goto error;
        }
        if (te & HTTP1_TE_TWICE) {
            reason = "chunked applied more than once";
            goto error;
        }
        if (!(te & HTTP1_TE_LAST_CHUNKED)) {
            reason = "chunked is not the final transfer coding";
            goto error;
        }
        if (te & HTTP1_TE_OTHER) {
            status = 501;
            reason = "unsupported transfer coding";
            goto error;
        }
        h->framing = JP_FRAMING_CHUNKED;
    } else if (h->content_length > 0) {
        h->framing = JP_FRAMING_LENGTH;
    }
    {
        uint32_t conn = p->_conn_flags;
        int keep = h->version_minor == 1 ? !(conn & HTTP1_CONN_CLOSE)
                                         : (conn & (HTTP1_CONN_CLOSE | HTTP1_CONN_KEEP_ALIVE)) ==
                                               HTTP1_CONN_KEEP_ALIVE;
        if (keep)
            h->flags |= JP_HEAD_KEEP_ALIVE;
        /* RFC 9110 section 7.8: a server must ignore Upgrade in an HTTP/1.0 request. */
        if ((conn & (HTTP1_CONN_UPGRADE | HTTP1_CONN_HAS_UPGRADE)) ==
                (HTTP1_CONN_UPGRADE | HTTP1_CONN_HAS_UPGRADE) &&
            h->version_minor == 1)
            h->flags |= JP_HEAD_UPGRADE;
    }
    p->_state = HTTP1_S_DONE;
    p->_scan = (uint32_t)pos;
    return (ptrdiff_t)pos;

need_request_line:
    /* The next byte is needed. If the limit, not the data, ends the buffer, it will never be
     * allowed: the line or the head is too long. */
    if (rl_end == rl_cap) {
        if (rl_cap - ls == lim->max_request_line) {
            status = 414;
            reason = "request line too long";
        } else {
            status = 431;
            reason = "request header fields too large";
        }
        goto error;
    }
    p->_state = state;
    p->_scan = (uint32_t)pos;
    p->_line_start = (uint32_t)ls;
    p->_mark = qpos;
    return JP_HTTP1_NEED_MORE;

need_head:
    if (end == head_cap) {
        status = 431;
        reason = "request header fields too large";
        goto error;
    }
    h->header_count = nh;
    p->_state = state;
    p->_scan = (uint32_t)pos;
    p->_line_start = (uint32_t)ls;
    return JP_HTTP1_NEED_MORE;

name_error:
    c = (unsigned char)buf[q];
    reason = c == ':'                ? "empty header name"
             : c == ' ' || c == '\t' ? "whitespace before colon"
             : c == '\n'             ? "bare LF in request head"
             : c == '\r'             ? "header line without colon"
                                     : "invalid character in header name";
    goto error;
bare_cr:
    reason = "bare CR in request head";
    goto error;
bare_lf:
    reason = "bare LF in request head";
error:
    h->header_count = nh;
    p->_state = HTTP1_S_ERROR;
    p->error_status = status;
    p->error_reason = reason;
    return JP_HTTP1_ERROR;
}

static ptrdiff_t
http1_parse_scalar(jp_http1_parser *p, const char *buf, size_t len)
{
    return http1_parse_impl(p, buf, len, JP_SIMD_SCALAR);
}

#if JP_HAVE_X86_SIMD
/* flatten inlines the AVX2 scanners here, where the target allows it. */
JP_TARGET_AVX2 __attribute__((flatten)) static ptrdiff_t
http1_parse_avx2(jp_http1_parser *p, const char *buf, size_t len)
{
    return http1_parse_impl(p, buf, len, JP_SIMD_AVX2);
}
#endif

/* ---------------------------------------------------------------------------------------- */
/* Public functions.                                                                          */

void
jp_http1_parser_init(jp_http1_parser *p, const jp_http1_limits *limits, jp_header *headers,
                     uint32_t headers_cap)
{
    memset(p, 0, sizeof *p);
    p->_limits = limits ? limits : &jp_http1_default_limits;
    p->_headers_cap = headers ? headers_cap : 0;
    p->simd = jp_simd_default();
    p->head.headers = headers;
}

void
jp_http1_parser_reset(jp_http1_parser *p)
{
    jp_header *headers = p->head.headers;
    memset(&p->head, 0, sizeof p->head);
    p->head.headers = headers;
    p->error_status = 0;
    p->error_reason = NULL;
    p->_state = HTTP1_S_START;
    p->_line_start = 0;
    p->_mark = 0;
    p->_scan = 0;
    p->_host_count = 0;
    p->_te_flags = 0;
    p->_conn_flags = 0;
    p->_has_content_length = 0;
}

ptrdiff_t
jp_http1_parse(jp_http1_parser *p, const char *buf, size_t len)
{
#if JP_HAVE_X86_SIMD
    if (p->simd == JP_SIMD_AVX2)
        return http1_parse_avx2(p, buf, len);
#endif
    return http1_parse_scalar(p, buf, len);
}

const char *
jp_http1_method_name(jp_method m)
{
    static const char *const names[] = {
        [JP_METHOD_GET] = "GET",         [JP_METHOD_HEAD] = "HEAD",
        [JP_METHOD_POST] = "POST",       [JP_METHOD_PUT] = "PUT",
        [JP_METHOD_DELETE] = "DELETE",   [JP_METHOD_PATCH] = "PATCH",
        [JP_METHOD_OPTIONS] = "OPTIONS", [JP_METHOD_CONNECT] = "CONNECT",
        [JP_METHOD_TRACE] = "TRACE",
    };
    if ((unsigned)m >= sizeof names / sizeof names[0])
        return NULL;
    return names[m];
}
