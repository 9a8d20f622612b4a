/*
 * http1.c - the incremental HTTP/1.x request-head parser declared in http1.h (layer 0: pure C,
 * no Python.h).
 *
 * Owns: nothing on the heap. The parser reads the caller's bytes and writes only into the
 * jp_http1_parser it is given and into the caller's header array (never past the effective
 * field limit, which is at most headers_cap). The only globals are immutable tables.
 *
 * Invariants:
 *   - Every read is inside buf[0..end), where end = min(len, limits->max_head_size). The
 *     general code reads the request line only below its start + limits->max_request_line;
 *     the fresh path's request line may load a block that reaches past that limit (never
 *     past end), and then takes nothing from it unless the line ends inside the limit. The
 *     vector scanners load 32 bytes only while 32 remain, and near the end load the last 32
 *     bytes of the buffer backwards (never past it), so input flush against a no-access page
 *     is safe.
 *   - Bytes below p->_scan were validated by an earlier call and are never scanned again;
 *     each state resumes from p->_scan, so a head trickled one byte at a time costs O(1) per
 *     call. Across calls the only bytes looked at again are the at most ten of an incomplete
 *     HTTP version and a CR whose LF has not arrived. Within one call a field line may be
 *     read twice (the fast loop gives up on it, the line-by-line code takes it), and a
 *     value's leading OWS is skipped when its line completes: a constant factor, never a
 *     rescan per call.
 *   - The answer depends only on the bytes, never on how they were split over calls: no
 *     byte past the bound set by the limits decides anything, so a limit error and a syntax
 *     error past that bound cannot swap places when the same bytes arrive in pieces. Fast
 *     paths that need several bytes fall back to byte-wise code that gives the same answer
 *     and reason.
 *   - The general parse loop is written once (http1_parse_impl, always inlined) and
 *     instantiated twice: http1_general_scalar, and http1_general_avx2 compiled for AVX2. A
 *     new request takes the fresh path first (http1_fresh_*, also once per level), which
 *     keeps no rule of its own: it hands whatever it does not finish to the general code at
 *     a line boundary. The level is chosen once per jp_http1_parse() call from p->simd, so
 *     no line pays for an indirect call, and both levels share every rule of the grammar.
 *   - A full header array stops the fast loops at the start of a line, and the general
 *     code alone decides what that means: 431, or (grow_headers, the array below
 *     max_headers) a pause in HTTP1_S_FIELD at that line, which a call on a larger array
 *     resumes like any other. So growth costs the per-field paths nothing, and the answer
 *     is the one the larger array would have given from the start.
 *   - jp_http1_parser_reset() (inline, in http1.h) clears only what a parse reads before
 *     writing it; every field of the head that http1.h lets a caller read after a success
 *     is written by that parse.
 */
#include "http1.h"

#include <stddef.h>
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

#define HTTP1_X8(c) (c), (c), (c), (c), (c), (c), (c), (c)
#define HTTP1_X32(c) HTTP1_X8(c), HTTP1_X8(c), HTTP1_X8(c), HTTP1_X8(c)

/* The vector constants, read from memory. An instruction takes one as its operand, where
 * _mm256_set1_epi8() becomes a move and a broadcast at every use the compiler does not hoist
 * (each call of a scanner that finds its byte in the first block). The tchar tables: each
 * tchar has a high nibble in 2..7; tchar_lo gives, per low nibble, the set of high nibbles
 * that make a tchar (one bit per high nibble), tchar_hi maps a high nibble to its bit (zero
 * for 0, 1 and 8..15), so their AND is non-zero exactly for tchars. Both are repeated in the
 * two 128-bit lanes, as vpshufb looks up within a lane. */
static const struct {
    uint8_t tchar_lo[32], tchar_hi[32], line_lo[32], line_hi[32], nibble[32], ctl_max[32], del[32],
        space[32], hash[32], qmark[32], one[32], ctl_bias[32];
    uint32_t get_spans[8], get_k_lanes[8];
} __attribute__((aligned(32))) http1_vc = {
    .tchar_lo = {0xe8, 0xfc, 0xf8, 0xfc, 0xfc, 0xfc, 0xfc, 0xfc, 0xf8, 0xf8, 0xf4,
                 0x54, 0xd0, 0x54, 0xf4, 0x70, 0xe8, 0xfc, 0xf8, 0xfc, 0xfc, 0xfc,
                 0xfc, 0xfc, 0xf8, 0xf8, 0xf4, 0x54, 0xd0, 0x54, 0xf4, 0x70},
    .tchar_hi = {0, 0, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0, 0, 0, 0, 0, 0, 0, 0,
                 0, 0, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0, 0, 0, 0, 0, 0, 0, 0},
    /* The classes of a field line's bytes, in the same way: tchar_lo >> 2 and tchar_hi >> 2
     * give one bit per tchar high nibble in bits 0-5; bit 7 is set in every line_lo entry
     * and for high nibbles 0 and 1 (the CTLs), bit 6 only for low nibble F and high nibble 7
     * (DEL). See http1_line_masks_k. */
    .line_lo = {0xba, 0xbf, 0xbe, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf, 0xbe, 0xbe, 0xbd,
                0x95, 0xb4, 0x95, 0xbd, 0xdc, 0xba, 0xbf, 0xbe, 0xbf, 0xbf, 0xbf,
                0xbf, 0xbf, 0xbe, 0xbe, 0xbd, 0x95, 0xb4, 0x95, 0xbd, 0xdc},
    .line_hi = {0x80, 0x80, 0x01, 0x02, 0x04, 0x08, 0x10, 0x60, 0, 0, 0, 0, 0, 0, 0, 0,
                0x80, 0x80, 0x01, 0x02, 0x04, 0x08, 0x10, 0x60, 0, 0, 0, 0, 0, 0, 0, 0},
    .nibble = {HTTP1_X32(0x0F)},
    .ctl_max = {HTTP1_X32(0x1F)},
    .del = {HTTP1_X32(0x7F)},
    .space = {HTTP1_X32(0x20)},
    .hash = {HTTP1_X32('#')},
    .qmark = {HTTP1_X32('?')},
    .one = {HTTP1_X32(1)},
    .ctl_bias = {HTTP1_X32(0x40)},
    /* http1_get_line_avx2's spans: method {0, 3}, target and path {4, k}, query {4 + k, 0},
     * as base + (k AND lanes). */
    .get_spans = {0, 3, 4, 0, 4, 0, 4, 0},
    .get_k_lanes = {0, 0, 0, UINT32_MAX, 0, UINT32_MAX, UINT32_MAX, 0},
};

/* GCC folds a load from a table it can see into the constant, and then builds a splat with a
 * move and a broadcast at each use, even inside a loop. Read through a pointer laundered by
 * an empty asm, the constants stay loads: most become the memory operand of the instruction
 * that uses them, the others are loaded once. */
HTTP1_INLINE const void *
http1_vc_base(void)
{
    const void *vc = &http1_vc;
    __asm__("" : "+r"(vc));
    return vc;
}

#define HTTP1_VC(name)                                                                             \
    _mm256_load_si256((const __m256i *)(const void *)((const char *)http1_vc_base() +              \
                                                      offsetof(__typeof__(http1_vc), name)))

/* The constants of the masks below, for a loop to keep in registers: loads through the
 * laundered pointer may alias any store, so the compiler would not hoist them itself. */
typedef struct http1_vk {
    __m256i tchar_lo, tchar_hi, nibble, ctl_max, del;
} http1_vk;

JP_TARGET_AVX2 static inline http1_vk
http1_vk_load(void)
{
    http1_vk k = {HTTP1_VC(tchar_lo), HTTP1_VC(tchar_hi), HTTP1_VC(nibble), HTTP1_VC(ctl_max),
                  HTTP1_VC(del)};
    return k;
}

/* The constants of http1_line_masks_k that must be registers (the tables vpshufb reads, the
 * first operand of vpcmpgtb); the others are memory operands, which cost no instruction. */
typedef struct http1_vk_line {
    __m256i lo, hi, one;
} http1_vk_line;

JP_TARGET_AVX2 static inline http1_vk_line
http1_vk_line_load(void)
{
    http1_vk_line k = {HTTP1_VC(line_lo), HTTP1_VC(line_hi), HTTP1_VC(one)};
    return k;
}

/* Both masks of a field line's block from one pair of lookups: t = line_lo[low nibble] &
 * line_hi[high nibble] is, for a tchar, its high nibble's bit (1 to 0x20); for a CTL 0x80;
 * for DEL 0x40; for any other byte 0 (bytes from 0x80 look up 0, as in the tchar tables).
 * So t + 0x40 has its high bit set exactly for CTL and DEL, and t < 1 as a signed byte
 * exactly for the bytes that are neither a tchar nor DEL. *name_end thus lets DEL through,
 * which *ctl catches: a DEL before the colon is the first CTL bit, which the line loop
 * requires to be the CR of a CRLF. */
JP_TARGET_AVX2 static inline void
http1_line_masks_k(__m256i v, const http1_vk_line *k, uint32_t *name_end, uint32_t *ctl)
{
    __m256i lo = _mm256_shuffle_epi8(k->lo, v);
    __m256i hi =
        _mm256_shuffle_epi8(k->hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), HTTP1_VC(nibble)));
    __m256i t = _mm256_and_si256(lo, hi);
    *name_end = (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(k->one, t));
    *ctl = (uint32_t)_mm256_movemask_epi8(_mm256_add_epi8(t, HTTP1_VC(ctl_bias)));
}

/* Bit i set where byte i of v is not a tchar. The low nibble indexes tchar_lo without a
 * mask: vpshufb gives 0 for an index with its high bit set, and no byte from 0x80 is a
 * tchar. */
JP_TARGET_AVX2 static inline uint32_t
http1_nontchar_mask_k(__m256i v, const http1_vk *k)
{
    __m256i lo = _mm256_shuffle_epi8(k->tchar_lo, v);
    __m256i hi =
        _mm256_shuffle_epi8(k->tchar_hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), k->nibble));
    __m256i t = _mm256_and_si256(lo, hi);
    return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(t, _mm256_setzero_si256()));
}

/* Bit i set where byte i is a CTL or DEL. HTAB is flagged too, although it is allowed in a
 * value: taking it out costs two more instructions on every block, while tabs are rare, so
 * the scanners step over a flagged HTAB instead. */
JP_TARGET_AVX2 static inline uint32_t
http1_ctl_mask_k(__m256i v, const http1_vk *k)
{
    __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(v, k->ctl_max), v);
    __m256i del = _mm256_cmpeq_epi8(v, k->del);
    return (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(ctl, del));
}

/* The same mask with its constants as memory operands, for a loop that keeps none in
 * registers. */
JP_TARGET_AVX2 static inline uint32_t
http1_ctl_mask_vc(__m256i v)
{
    __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(v, HTTP1_VC(ctl_max)), v);
    __m256i del = _mm256_cmpeq_epi8(v, HTTP1_VC(del));
    return (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(ctl, del));
}

JP_TARGET_AVX2 static inline uint32_t
http1_nontchar_mask_avx2(__m256i v)
{
    http1_vk k = http1_vk_load();
    return http1_nontchar_mask_k(v, &k);
}

/* Bit i set where byte i may not appear in a request-target. A signed compare with 0x20
 * keeps 0x21-0x7F (bytes from 0x80 are negative); DEL and '#' are taken out after. */
JP_TARGET_AVX2 static inline uint32_t
http1_nontarget_mask_avx2(__m256i v)
{
    __m256i good = _mm256_cmpgt_epi8(v, HTTP1_VC(space));
    __m256i bad =
        _mm256_or_si256(_mm256_cmpeq_epi8(v, HTTP1_VC(del)), _mm256_cmpeq_epi8(v, HTTP1_VC(hash)));
    return ~(uint32_t)_mm256_movemask_epi8(_mm256_andnot_si256(bad, good));
}

JP_TARGET_AVX2 static inline uint32_t
http1_qmark_mask_avx2(__m256i v)
{
    return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, HTTP1_VC(qmark)));
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
http1_scan_value_k(const char *buf, size_t pos, size_t end, const http1_vk *k)
{
    for (;;) {
        uint32_t m;
        while (end - pos >= 32) {
            m = http1_ctl_mask_k(http1_load256(buf + pos), k);
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
        m = http1_ctl_mask_k(http1_load256(buf + end - 32), k) >> (32 - (end - pos));
        if (!m)
            return end;
        pos += (size_t)__builtin_ctz(m);
    found:
        if (buf[pos] != '\t')
            return pos;
        pos++;
    }
}

JP_TARGET_AVX2 static inline size_t
http1_scan_value_avx2(const char *buf, size_t pos, size_t end)
{
    http1_vk k = http1_vk_load();
    return http1_scan_value_k(buf, pos, end, &k);
}

JP_TARGET_AVX2 static inline size_t
http1_scan_target_avx2(const char *buf, size_t pos, size_t end, uint32_t *qpos)
{
    if (end < 32)
        return http1_scan_target_scalar(buf, pos, end, qpos);
    for (;;) {
        uint32_t m, q;
        unsigned skip = 0;
        if (HTTP1_LIKELY(end - pos >= 32)) {
            __m256i v = http1_load256(buf + pos);
            m = http1_nontarget_mask_avx2(v);
            q = http1_qmark_mask_avx2(v);
        } else {
            if (pos == end)
                return pos;
            skip = (unsigned)(32 - (end - pos));
            __m256i v = http1_load256(buf + end - 32);
            m = http1_nontarget_mask_avx2(v) >> skip;
            q = http1_qmark_mask_avx2(v) >> skip;
        }
        /* The first '?' before the byte that ends the target (all of the block if none
         * does: bzhi keeps every bit for an index of 32), while none is known. */
        unsigned k = _tzcnt_u32(m);
        q = _bzhi_u32(q, k);
        if (q && *qpos == HTTP1_NO_QUERY)
            *qpos = (uint32_t)(pos + _tzcnt_u32(q));
        if (m)
            return pos + k;
        pos += 32 - skip;
    }
}

/* The usual target, from one block: 32 bytes from pos must be in the buffer. Returns the
 * offset from pos of the byte that ends the target, 32 if none does (the caller goes on with
 * http1_scan_target_avx2 from there), and sets *qpos to its first '?', if any (so *qpos must
 * be HTTP1_NO_QUERY on entry). */
JP_TARGET_AVX2 static inline unsigned
http1_target_block_avx2(const char *buf, size_t pos, uint32_t *qpos)
{
    __m256i v = http1_load256(buf + pos);
    unsigned k = _tzcnt_u32(http1_nontarget_mask_avx2(v));
    uint32_t q = _bzhi_u32(http1_qmark_mask_avx2(v), k);
    if (q)
        *qpos = (uint32_t)(pos + _tzcnt_u32(q));
    return k;
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
HTTP1_INLINE uint8_t
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
        /* The last two bytes are read only once the first four match: most names of this
         * length (Accept, Origin, Pragma) are neither. */
        uint32_t a = http1_load32(s) | HTTP1_LC32;
        if (a == http1_load32("cookie"))
            return (http1_load16(s + 4) | HTTP1_LC16) == http1_load16("ie") ? JP_H_COOKIE
                                                                            : JP_H_OTHER;
        if (a == http1_load32("expect"))
            return (http1_load16(s + 4) | HTTP1_LC16) == http1_load16("ct") ? JP_H_EXPECT
                                                                            : JP_H_OTHER;
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
 * complete. Returns 0, or the status with p->error_reason set (so that no caller keeps its
 * reason in memory for this call). Rare next to the scans, so it stays out of line. */
static __attribute__((noinline)) uint16_t
http1_field_apply(jp_http1_parser *p, const char *buf, const jp_header *hd)
{
    const char **reason = &p->error_reason;
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

/* The path of a target that does not start with '/', which ends at qoff (its '?' or its
 * end). Out of line: origin-form is the usual case by far. */
static __attribute__((noinline)) void
http1_split_absolute(jp_request_head *h, const char *buf, uint32_t qoff)
{
    uint32_t off = h->target.off;
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

/* Fills path, query and HAS_QUERY from the complete target; qpos is its first '?'. */
HTTP1_INLINE void
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
    if (HTTP1_LIKELY(buf[off] == '/')) {
        h->path.off = off;
        h->path.len = qoff - off;
        return;
    }
    http1_split_absolute(h, buf, qoff);
}

/* ---------------------------------------------------------------------------------------- */
/* The parse loop.                                                                            */

/* Stores the value of a complete field line whose name ends at colon and which ends in the
 * CR at cr. Leading and trailing OWS are not part of the value. The line ends in CR, which
 * is not OWS, so the forward skip needs no bound; backwards, any byte up to 0x20 in a valid
 * value is SP or HTAB, so one compare rules out the usual case. */
HTTP1_INLINE void
http1_store_value(jp_header *hd, const char *buf, size_t colon, size_t cr)
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
    hd->value.off = (uint32_t)vs;
    hd->value.len = (uint32_t)(ve - vs);
}

/* The same, out of line, for the AVX2 loop, which tests the usual value first. */
static __attribute__((noinline)) void
http1_store_value_slow(jp_header *hd, const char *buf, size_t colon, size_t cr)
{
    http1_store_value(hd, buf, colon, cr);
}

/* Stores a complete field line starting at ls. Returns the field's id. */
HTTP1_INLINE uint32_t
http1_store_field(jp_header *hd, const char *buf, size_t ls, size_t colon, size_t cr)
{
    http1_store_value(hd, buf, colon, cr);
    hd->name.off = (uint32_t)ls;
    hd->name.len = (uint32_t)(colon - ls);
    return hd->id = http1_header_id(buf + ls, colon - ls);
}

/* Acts on a stored field: counts Host, and hands the other recognised fields but
 * Content-Type and Cookie to http1_field_apply, except the most common of them, a lone
 * "Connection: keep-alive", which is folded in here without a call. Returns 0, or the status
 * with p->error_reason set. */
HTTP1_INLINE uint16_t
http1_field_act(jp_http1_parser *p, const char *buf, const jp_header *hd, uint32_t id)
{
    if (id == JP_H_HOST) {
        /* _host_count is 0 or 1 here: a second Host ends the parse. */
        if (HTTP1_UNLIKELY(p->_host_count != 0)) {
            p->error_reason = "duplicate Host";
            return 400;
        }
        p->_host_count = 1;
        return 0;
    }
    if (HTTP1_LIKELY(id - 1u >= JP_H_CONTENT_TYPE - 1u))
        return 0;
    if (id == JP_H_CONNECTION && http1_is_keep_alive(buf + hd->value.off, hd->value.len)) {
        p->_conn_flags |= HTTP1_CONN_KEEP_ALIVE;
        return 0;
    }
    return http1_field_apply(p, buf, hd);
}

enum { HTTP1_FAST_STOP, HTTP1_FAST_DONE, HTTP1_FAST_ERROR };

#if JP_HAVE_X86_SIMD
/* What http1_fields_avx2 tells its caller through *seen_io besides the Host count. */
enum {
    HTTP1_SEEN_HOST = 1u,    /* a Host line (the loop refuses a second one) */
    HTTP1_SEEN_APPLIED = 2u, /* a line went through http1_field_apply */
};

/* http1_fields_fast for AVX2, called with end >= 32 and *nh_io < max_fields. One load and
 * one pair of lookups (http1_line_masks_k) give a line's name and, from its first CTL, the
 * CR that ends it. While more than 32 bytes remain the block needs no bound: the name's end
 * and the CR are inside it, so below end - 1. The last line or two of a head that ends the
 * buffer are read from the block that ends at `end`, with the lanes past the end cleared and
 * a CR in the last byte (its LF not there) dropped too. The rest of each line is the same
 * work as in the scalar loop, but its steps are laid out for few registers and branches.
 *
 * *seen_io carries p->_host_count in bit 0 (in and out: the caller loads and stores it, so
 * that the fresh path, which knows it is 0, keeps it in a register), and gets
 * HTTP1_SEEN_APPLIED when any line needed http1_field_apply: without that bit the only
 * recognised fields were Host, Content-Type, Cookie and "Connection: keep-alive", which is
 * what lets http1_fresh_fields finish the head without reading the counters back. */
JP_TARGET_AVX2 static inline int
http1_fields_avx2(jp_http1_parser *p, const char *buf, size_t *pos_io, size_t end, uint32_t *nh_io,
                  uint32_t max_fields, uint16_t *status, uint32_t *seen_io)
{
    size_t pos = *pos_io;
    uint32_t nh = *nh_io;
    uint32_t seen = *seen_io;
    jp_header *hd = p->head.headers + nh;
    jp_header *const hd_end = p->head.headers + max_fields;
    const size_t full_end = end - 32;
    const http1_vk_line k = http1_vk_line_load();
    for (;;) {
        uint32_t m, ctl;
        size_t colon, cr, vs, vlen;
        unsigned n;
        if (HTTP1_LIKELY(pos < full_end)) {
            /* The empty line that ends the head needs no block. */
            if (http1_load16(buf + pos) == http1_load16("\r\n"))
                goto done;
            /* No non-tchar in the block puts colon at pos + 32, still inside the buffer:
             * a name of exactly 32 bytes is taken, a longer one fails the ':' test. */
            http1_line_masks_k(http1_load256(buf + pos), &k, &m, &ctl);
        } else {
            /* Near the end of a buffer that the head ends, the usual next line is the
             * empty one: tested first, it needs no block. */
            if (end - pos >= 2 && http1_load16(buf + pos) == http1_load16("\r\n"))
                goto done;
            if (pos == end)
                break;
            unsigned skip = (unsigned)(32 - (end - pos));
            http1_line_masks_k(http1_load256(buf + end - 32), &k, &m, &ctl);
            m >>= skip;
            ctl = _bzhi_u32(ctl >> skip, (unsigned)(end - pos - 1));
            /* A name that runs to the end: the general code waits for more. */
            if (m == 0)
                break;
        }
        n = _tzcnt_u32(m);
        /* No name (the empty line was taken above): something for the general code. */
        if (HTTP1_UNLIKELY(n == 0))
            break;
        colon = pos + n;
        if (HTTP1_UNLIKELY(buf[colon] != ':' || hd == hd_end))
            break;
        /* Stored now, in its own block, so that the compiler does not pack the four spans
         * into a vector first; if the line then goes to the general code, that code stores
         * it again. */
        hd->name.off = (uint32_t)pos;
        hd->name.len = (uint32_t)n;
        /* The first CTL or DEL of the block ends the line. A name holds none, and one that
         * the name mask let through (a DEL) comes before the colon, so it is no CRLF and the
         * test below gives the line to the general code. */
        if (HTTP1_LIKELY(ctl != 0)) {
            cr = pos + _tzcnt_u32(ctl);
        } else {
            /* A long value: whole blocks with the same constants while they fit, the
             * first CTL ends it (a tab too: the general code takes that line); near the
             * end of the buffer the scanner that reads its last block backwards. The tail
             * block ends the buffer: with no CTL in it the line is not all there. */
            if (pos >= full_end)
                goto stop;
            cr = pos + 32;
            for (;;) {
                if (HTTP1_UNLIKELY(cr >= full_end)) {
                    cr = http1_scan_value_avx2(buf, cr, end);
                    if (end - cr < 2)
                        goto stop;
                    break;
                }
                ctl = http1_ctl_mask_vc(http1_load256(buf + cr));
                if (ctl) {
                    cr += _tzcnt_u32(ctl);
                    break;
                }
                cr += 32;
            }
        }
        if (HTTP1_UNLIKELY(http1_load16(buf + cr) != http1_load16("\r\n")))
            break;
        /* The usual value: one SP after the colon, and no OWS before the CR (the line
         * holds no CTL before its CR, so OWS here is SP alone). The rest is trimmed out of
         * line: inlined, its loads were shared with these tests and cost them registers. */
        if (HTTP1_LIKELY(buf[colon + 1] == ' ' && (unsigned char)buf[colon + 2] > ' ' &&
                         (unsigned char)buf[cr - 1] > ' ')) {
            vs = colon + 2;
            vlen = cr - vs;
            hd->value.off = (uint32_t)vs;
            hd->value.len = (uint32_t)vlen;
        } else {
            http1_store_value_slow(hd, buf, colon, cr);
            vs = hd->value.off;
            vlen = hd->value.len;
        }
        /* http1_field_act, with the Host count in a register and the value's span from
         * registers rather than from the header just stored. */
        uint32_t id = http1_header_id(buf + pos, n);
        hd->id = id;
        if (id == JP_H_HOST) {
            if (HTTP1_UNLIKELY(seen & HTTP1_SEEN_HOST)) {
                p->error_reason = "duplicate Host";
                *status = 400;
                goto error;
            }
            seen |= HTTP1_SEEN_HOST;
        } else if (HTTP1_UNLIKELY(id - 1u < JP_H_CONTENT_TYPE - 1u)) {
            if (id == JP_H_CONNECTION && http1_is_keep_alive(buf + vs, vlen)) {
                p->_conn_flags |= HTTP1_CONN_KEEP_ALIVE;
            } else {
                seen |= HTTP1_SEEN_APPLIED;
                uint16_t st = http1_field_apply(p, buf, hd);
                if (HTTP1_UNLIKELY(st != 0)) {
                    *status = st;
                    goto error;
                }
            }
        }
        hd++;
        nh++;
        pos = cr + 2;
    }
stop:
    *pos_io = pos;
    *nh_io = nh;
    *seen_io = seen;
    return HTTP1_FAST_STOP;
error:
    *pos_io = pos;
    *nh_io = nh;
    *seen_io = seen;
    return HTTP1_FAST_ERROR;
done:
    *pos_io = pos + 2;
    *nh_io = nh;
    *seen_io = seen;
    return HTTP1_FAST_DONE;
}
#endif

/* The field lines of a head that is all there, in a tight loop: each line must start with a
 * tchar, have its name end in ':' and its value end in CRLF inside the buffer. At anything
 * else (an incomplete line, a tab, any error, the field limit) it stops at the start of that
 * line and the general code takes over from there, so this loop holds no rule of its own but
 * the ones it shares with that code, and it never needs to produce an error message except
 * from http1_field_act (in p->error_reason). It returns HTTP1_FAST_DONE after the final
 * CRLF. Written as a real loop, apart from the state machine, so that its constants and
 * counters stay in registers. */
HTTP1_INLINE int
http1_fields_fast(jp_http1_parser *p, const char *buf, size_t *pos_io, size_t end, uint32_t *nh_io,
                  uint32_t max_fields, uint16_t *status, const int level)
{
#if JP_HAVE_X86_SIMD
    /* The loop needs a block in the buffer and room for a field; the general code takes the
     * head otherwise (a short one, the limit reached, or no array at all). */
    if (level == JP_SIMD_AVX2) {
        if (end < 32 || *nh_io >= max_fields)
            return HTTP1_FAST_STOP;
        uint32_t seen = p->_host_count;
        int rc = http1_fields_avx2(p, buf, pos_io, end, nh_io, max_fields, status, &seen);
        p->_host_count = seen & HTTP1_SEEN_HOST;
        return rc;
    }
#endif
    jp_header *const headers = p->head.headers;
    size_t pos = *pos_io;
    uint32_t nh = *nh_io;
    int rc = HTTP1_FAST_STOP;
    while (HTTP1_LIKELY(pos < end)) {
        size_t colon = http1_scan_name(buf, pos, end, level);
        /* No name: the empty line that ends the head, or something for the general code. */
        if (HTTP1_UNLIKELY(colon == pos)) {
            if (end - pos >= 2 && http1_load16(buf + pos) == http1_load16("\r\n")) {
                pos += 2;
                rc = HTTP1_FAST_DONE;
            }
            break;
        }
        if (HTTP1_UNLIKELY(colon >= end || buf[colon] != ':' || nh >= max_fields))
            break;
        size_t cr = http1_scan_value(buf, colon + 1, end, level);
        if (HTTP1_UNLIKELY(end - cr < 2 || http1_load16(buf + cr) != http1_load16("\r\n")))
            break;
        jp_header *hd = &headers[nh];
        uint16_t st = http1_field_act(p, buf, hd, http1_store_field(hd, buf, pos, colon, cr));
        if (HTTP1_UNLIKELY(st != 0)) {
            *status = st;
            rc = HTTP1_FAST_ERROR;
            break;
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

/* What needs the whole head, once its final CRLF ends at pos: the Host rule, the framing
 * and the flags. Returns 0 with the parser done, or the status with p->error_reason set.
 * Out of line: http1_finish takes the usual head without it. */
static __attribute__((noinline)) uint16_t
http1_finish_any(jp_http1_parser *p, size_t pos)
{
    jp_request_head *h = &p->head;
    if (h->version_minor == 1 && p->_host_count == 0) {
        p->error_reason = "missing Host";
        return 400;
    }
    if (p->_te_flags) {
        uint32_t te = p->_te_flags;
        if (p->_has_content_length) {
            p->error_reason = "Content-Length and Transfer-Encoding together";
            return 400;
        }
        if (te & HTTP1_TE_TWICE) {
            p->error_reason = "chunked applied more than once";
            return 400;
        }
        if (!(te & HTTP1_TE_LAST_CHUNKED)) {
            p->error_reason = "chunked is not the final transfer coding";
            return 400;
        }
        if (te & HTTP1_TE_OTHER) {
            p->error_reason = "unsupported transfer coding";
            return 501;
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
    return 0;
}

/* http1_finish_any with the usual head, HTTP/1.1 with its Host, no Transfer-Encoding and no
 * Upgrade, taken here: the same steps, shortened for that case. */
HTTP1_INLINE uint16_t
http1_finish(jp_http1_parser *p, size_t pos, uint32_t nh)
{
    jp_request_head *h = &p->head;
    h->header_count = nh;
    h->head_len = (uint32_t)pos;
    if (HTTP1_LIKELY((p->_te_flags | (p->_conn_flags & HTTP1_CONN_HAS_UPGRADE)) == 0 &&
                     h->version_minor == 1 && p->_host_count != 0)) {
        if (h->content_length > 0)
            h->framing = JP_FRAMING_LENGTH;
        if (!(p->_conn_flags & HTTP1_CONN_CLOSE))
            h->flags |= JP_HEAD_KEEP_ALIVE;
        p->_state = HTTP1_S_DONE;
        p->_scan = (uint32_t)pos;
        return 0;
    }
    return http1_finish_any(p, pos);
}

HTTP1_INLINE ptrdiff_t
http1_parse_impl(jp_http1_parser *p, const char *restrict buf, size_t len, const int level)
{
    const jp_http1_limits *lim = p->_limits;
    jp_request_head *h = &p->head;
    jp_header *const headers = h->headers;
    const size_t head_cap = lim->max_head_size;
    const size_t end = len < head_cap ? len : head_cap;
    const uint32_t max_fields = p->_max_fields;
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
    switch (http1_fields_fast(p, buf, &pos, end, &nh, max_fields, &status, level)) {
    case HTTP1_FAST_DONE:
        goto finish;
    case HTTP1_FAST_ERROR:
        reason = p->error_reason;
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
        /* The array is full. If it, not max_headers, is the limit and the caller can grow
         * it, the parse pauses at the start of this line (http1.h); otherwise the head has
         * too many fields. The fast loops stop at a full array too, so this is the one place
         * that decides, and no per-field path tests anything more for it. */
        if (p->grow_headers && max_fields < lim->max_headers) {
            h->header_count = nh;
            p->_state = HTTP1_S_FIELD;
            p->_scan = (uint32_t)pos;
            p->_line_start = (uint32_t)pos;
            return JP_HTTP1_HEADERS_FULL;
        }
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
    status = http1_field_act(p, buf, hd, http1_store_field(hd, buf, ls, colon, q));
    if (status) {
        reason = p->error_reason;
        goto error;
    }
    status = 400;
    pos = q + 2;
    goto field;

finish:
    status = http1_finish(p, pos, nh);
    if (status) {
        reason = p->error_reason;
        goto error;
    }
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

/* The general code, once per level. Out of line: the usual call never enters it. */
static __attribute__((noinline)) ptrdiff_t
http1_general_scalar(jp_http1_parser *p, const char *buf, size_t len)
{
    return http1_parse_impl(p, buf, len, JP_SIMD_SCALAR);
}

#if JP_HAVE_X86_SIMD
/* flatten inlines the AVX2 scanners here, where the target allows it. */
JP_TARGET_AVX2 __attribute__((flatten, noinline)) static ptrdiff_t
http1_general_avx2(jp_http1_parser *p, const char *buf, size_t len)
{
    return http1_parse_impl(p, buf, len, JP_SIMD_AVX2);
}
#endif

HTTP1_INLINE ptrdiff_t
http1_parse_general(jp_http1_parser *p, const char *buf, size_t len, const int level)
{
#if JP_HAVE_X86_SIMD
    if (level == JP_SIMD_AVX2)
        return http1_general_avx2(p, buf, len);
#endif
    (void)level;
    return http1_general_scalar(p, buf, len);
}

/* ---------------------------------------------------------------------------------------- */
/* The fresh path.                                                                            */
/*                                                                                            */
/* The usual call is a new request (nothing parsed yet) whose head is all there. It is taken  */
/* by the functions below, which apply the scanners and helpers of http1_parse_impl in code   */
/* small enough for its values to stay in registers, and hand over to that general code at   */
/* the first thing they do not take: a request line (the general code reads it again from    */
/* its start, as the state has not moved), or a field line the fast loop does not finish,    */
/* with the state saved as if the call had ended at the start of that line (the general code */
/* resumes there). So they hold no rule of their own, and no answer depends on which code    */
/* gave it. They pass end rather than len on: the general code reads no byte past end        */
/* either, and that way len need not stay live.                                              */
/*                                                                                            */
/* On the AVX2 path a request line starting "GET " goes to http1_fresh_get_avx2, in which    */
/* the line takes one or two blocks and no loop; any other line, and the scalar path, go      */
/* through http1_fresh_line.                                                                  */

/* The field lines and the end of a new head whose request line ends at pos. */
HTTP1_INLINE ptrdiff_t
http1_fresh_fields(jp_http1_parser *p, const char *restrict buf, size_t end, size_t pos,
                   const int level)
{
    const uint32_t max_fields = p->_max_fields;
    uint32_t nh = 0;
    uint16_t status = 400;
    int rc;

#if JP_HAVE_X86_SIMD
    /* The preconditions of http1_fields_avx2, as two plain tests: written as one, they were
     * compiled into a flag kept on the stack. */
    if (level == JP_SIMD_AVX2) {
        /* A new request: p->_host_count is 0, and every counter http1_finish reads is in
         * the state reset left it in unless a line went through http1_field_apply. */
        uint32_t seen = 0;
        if (HTTP1_UNLIKELY(end < 32))
            goto general;
        if (HTTP1_UNLIKELY(max_fields == 0))
            goto general;
        rc = http1_fields_avx2(p, buf, &pos, end, &nh, max_fields, &status, &seen);
        if (HTTP1_LIKELY(rc == HTTP1_FAST_DONE && seen == HTTP1_SEEN_HOST &&
                         p->head.version_minor == 1)) {
            /* http1_finish's usual head, known from seen: one Host, no Transfer-Encoding,
             * Upgrade, Content-Length (so the framing stays NONE) or Connection: close. */
            p->head.header_count = nh;
            p->head.head_len = (uint32_t)pos;
            p->head.flags |= JP_HEAD_KEEP_ALIVE;
            /* _scan is left as it is: in the done state nothing reads it. */
            p->_state = HTTP1_S_DONE;
            return (ptrdiff_t)pos;
        }
        p->_host_count = seen & HTTP1_SEEN_HOST;
    } else
#endif
        rc = http1_fields_fast(p, buf, &pos, end, &nh, max_fields, &status, level);
    switch (rc) {
    case HTTP1_FAST_DONE:
        status = http1_finish(p, pos, nh);
        if (status == 0)
            return (ptrdiff_t)pos;
        break;
    case HTTP1_FAST_ERROR:
        break;
    default:
        goto general;
    }
    /* The reason is in p->error_reason already. */
    p->head.header_count = nh;
    p->_state = HTTP1_S_ERROR;
    p->error_status = status;
    return JP_HTTP1_ERROR;

general:
    p->head.header_count = nh;
    p->_state = HTTP1_S_FIELD;
    p->_scan = (uint32_t)pos;
    return http1_parse_general(p, buf, end, level);
}

#if JP_HAVE_X86_SIMD
JP_TARGET_AVX2 __attribute__((flatten, noinline)) static ptrdiff_t
http1_fresh_fields_avx2(jp_http1_parser *p, const char *buf, size_t end, size_t pos)
{
    return http1_fresh_fields(p, buf, end, pos, JP_SIMD_AVX2);
}
#endif

/* Any request line of a new request, then its fields. */
HTTP1_INLINE ptrdiff_t
http1_fresh_line(jp_http1_parser *p, const char *restrict buf, size_t len, const int level)
{
    const jp_http1_limits *lim = p->_limits;
    jp_request_head *h = &p->head;
    const size_t end = len < lim->max_head_size ? len : lim->max_head_size;
    const size_t rl_end = end < lim->max_request_line ? end : lim->max_request_line;
    uint32_t qpos = HTTP1_NO_QUERY;
    size_t pos, q;

    if (HTTP1_LIKELY(rl_end >= 4) && http1_load32(buf) == http1_load32("GET ")) {
        h->method_id = JP_METHOD_GET;
        q = 3;
    } else {
        q = http1_scan_name(buf, 0, rl_end, level);
        if (q >= rl_end || buf[q] != ' ' || q == 0)
            goto general;
        h->method_id = http1_method_id(buf, q);
    }
    h->method.off = 0;
    h->method.len = (uint32_t)q;
    pos = q + 1;
    h->target.off = (uint32_t)pos;
#if JP_HAVE_X86_SIMD
    if (level == JP_SIMD_AVX2 && HTTP1_LIKELY(end - pos >= 32)) {
        q = pos + http1_target_block_avx2(buf, pos, &qpos);
        if (HTTP1_UNLIKELY(q == pos + 32) && q < rl_end)
            q = http1_scan_target(buf, q, rl_end, &qpos, level);
    } else
#endif
        q = http1_scan_target(buf, pos, rl_end, &qpos, level);
    if (q >= rl_end || buf[q] != ' ' || q == pos)
        goto general;
    h->target.len = (uint32_t)(q - pos);
    http1_split_target(h, buf, qpos);
    pos = q + 1;
    if (rl_end - pos < 10 || http1_load16(buf + pos + 8) != http1_load16("\r\n"))
        goto general;
    {
        uint64_t w = http1_load64(buf + pos);
        if (w == http1_load64("HTTP/1.1"))
            h->version_minor = 1;
        else if (w == http1_load64("HTTP/1.0"))
            h->version_minor = 0;
        else
            goto general;
    }
#if JP_HAVE_X86_SIMD
    if (level == JP_SIMD_AVX2)
        return http1_fresh_fields_avx2(p, buf, end, pos + 10);
#endif
    return http1_fresh_fields(p, buf, end, pos + 10, level);

general:
    return http1_parse_general(p, buf, end, level);
}

#if JP_HAVE_X86_SIMD
JP_TARGET_AVX2 __attribute__((flatten, noinline)) static ptrdiff_t
http1_fresh_line_avx2(jp_http1_parser *p, const char *buf, size_t len)
{
    return http1_fresh_line(p, buf, len, JP_SIMD_AVX2);
}

_Static_assert(offsetof(jp_request_head, method) == 0 && offsetof(jp_request_head, target) == 8 &&
                   offsetof(jp_request_head, path) == 16 && offsetof(jp_request_head, query) == 24,
               "http1_get_line_avx2 stores the four spans as one 32-byte block");

/* The usual request line on the AVX2 path, whose "GET " the caller has seen: an origin-form
 * target that ends within two blocks, then HTTP/1.1 or HTTP/1.0. No loop, so the fields
 * follow in the same function with its values still in registers. Anything else goes to
 * http1_fresh_line_avx2, which reads the line again from its start; nothing is kept here
 * before the whole line is checked. */
JP_TARGET_AVX2 static inline ptrdiff_t
http1_get_line_avx2(jp_http1_parser *p, const char *restrict buf, size_t len)
{
    const jp_http1_limits *lim = p->_limits;
    jp_request_head *h = &p->head;
    const size_t end = len < lim->max_head_size ? len : lim->max_head_size;
    const size_t rl_end = end < lim->max_request_line ? end : lim->max_request_line;
    const size_t pos = 4;
    uint64_t qm;
    size_t q;
    unsigned k;

    if (HTTP1_UNLIKELY(end < pos + 32) || buf[pos] != '/')
        goto slow;
    /* The target ends k bytes from pos; qm holds its '?' bytes, one bit each, and more. */
    {
        __m256i v = http1_load256(buf + pos);
        k = _tzcnt_u32(http1_nontarget_mask_avx2(v));
        qm = http1_qmark_mask_avx2(v);
    }
    if (HTTP1_UNLIKELY(k == 32)) {
        if (end - pos < 64)
            goto slow;
        __m256i v = http1_load256(buf + pos + 32);
        k = _tzcnt_u32(http1_nontarget_mask_avx2(v));
        if (k == 32)
            goto slow;
        qm |= (uint64_t)http1_qmark_mask_avx2(v) << 32;
        k += 32;
    }
    q = pos + k;
    /* An SP, then the version and CRLF, all inside the line's limit. The blocks may have
     * read past that limit (never past end): q + 11 <= rl_end is what keeps the answer from
     * depending on those bytes. */
    if (HTTP1_UNLIKELY(q + 11 > rl_end || buf[q] != ' ' ||
                       http1_load16(buf + q + 9) != http1_load16("\r\n")))
        goto slow;
    {
        uint64_t w = http1_load64(buf + q + 1);
        if (w == http1_load64("HTTP/1.1"))
            h->version_minor = 1;
        else if (w == http1_load64("HTTP/1.0"))
            h->version_minor = 0;
        else
            goto slow;
    }
    h->method_id = JP_METHOD_GET;
    /* The four spans, which are the first 32 bytes of the head, in one store: method {0, 3},
     * target {pos, k}, and as if there were no query (origin-form, split as
     * http1_split_target does) path {pos, k}, query {q, 0}. */
    _mm256_storeu_si256(
        (__m256i *)(void *)&h->method,
        _mm256_add_epi32(HTTP1_VC(get_spans),
                         _mm256_and_si256(_mm256_set1_epi32((int)k), HTTP1_VC(get_k_lanes))));
    /* The first '?' from the mask, if any, splits the target. */
    qm = _bzhi_u64(qm, k);
    if (qm) {
        size_t qp = pos + _tzcnt_u64(qm);
        h->flags |= JP_HEAD_HAS_QUERY;
        h->path.len = (uint32_t)(qp - pos);
        h->query.off = (uint32_t)(qp + 1);
        h->query.len = (uint32_t)(q - qp - 1);
    }
    return http1_fresh_fields(p, buf, end, q + 11, JP_SIMD_AVX2);

slow:
    return http1_fresh_line_avx2(p, buf, len);
}

JP_TARGET_AVX2 __attribute__((flatten, noinline)) static ptrdiff_t
http1_fresh_get_avx2(jp_http1_parser *p, const char *buf, size_t len)
{
    return http1_get_line_avx2(p, buf, len);
}
#endif

/* Neither instance is inlined into jp_http1_parse(), which then only tests p->simd and jumps:
 * inlined, one instance's register saves would be paid by the other one's calls too. */
static __attribute__((noinline)) ptrdiff_t
http1_parse_scalar(jp_http1_parser *p, const char *buf, size_t len)
{
    if ((p->_state | p->_scan) == 0)
        return http1_fresh_line(p, buf, len, JP_SIMD_SCALAR);
    return http1_general_scalar(p, buf, len);
}

/* ---------------------------------------------------------------------------------------- */
/* Public functions.                                                                          */

void
jp_http1_parser_init(jp_http1_parser *p, const jp_http1_limits *limits, jp_header *headers,
                     uint32_t headers_cap)
{
    memset(p, 0, sizeof *p);
    p->_limits = limits ? limits : &jp_http1_default_limits;
    p->_max_fields = headers ? headers_cap : 0;
    if (p->_limits->max_headers < p->_max_fields)
        p->_max_fields = p->_limits->max_headers;
    p->simd = jp_simd_default();
    p->head.headers = headers;
}

void
jp_http1_parser_set_headers(jp_http1_parser *p, jp_header *headers, uint32_t headers_cap)
{
    p->head.headers = headers;
    p->_max_fields = headers ? headers_cap : 0;
    if (p->_limits->max_headers < p->_max_fields)
        p->_max_fields = p->_limits->max_headers;
}

ptrdiff_t
jp_http1_parse(jp_http1_parser *p, const char *buf, size_t len)
{
#if JP_HAVE_X86_SIMD
    /* The AVX2 dispatch is written here, not in a function of its own: it needs no vector
     * instruction, and each instance it jumps to saves its own registers. */
    if (p->simd == JP_SIMD_AVX2) {
        if ((p->_state | p->_scan) == 0) {
            /* The GET function saves its registers before it looks at anything: another
             * method would pay for that twice, so the method is looked at here. The four
             * bytes are inside the head limit too. */
            if (HTTP1_LIKELY(len >= 4 && p->_limits->max_head_size >= 4) &&
                http1_load32(buf) == http1_load32("GET "))
                return http1_fresh_get_avx2(p, buf, len);
            return http1_fresh_line_avx2(p, buf, len);
        }
        return http1_general_avx2(p, buf, len);
    }
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
