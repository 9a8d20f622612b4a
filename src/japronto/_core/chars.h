/*
 * chars.h - byte classes of RFC 9110/9112 shared by the head parser and the chunked decoder,
 * and the one hex-digit decoder of url.c and jsonscan.c (layer 0: pure C, no Python.h).
 *
 * One immutable 256-entry table; each byte's entry is an OR of the JP_C_* bits. The vector
 * scanners in http1.c must agree with it byte for byte, and tests/c checks that they do.
 */
#ifndef JP_CHARS_H
#define JP_CHARS_H

#include <stdint.h>

enum {
    JP_C_TCHAR = 1,  /* token character: methods, field names, coding names */
    JP_C_TARGET = 2, /* allowed in a request-target: 0x21-0x7E except '#' */
    JP_C_FIELD = 4,  /* allowed in a field value: VCHAR, obs-text (0x80-0xFF), SP, HTAB */
    JP_C_HEX = 8,    /* HEXDIG */
    JP_C_OWS = 16,   /* SP or HTAB */
};

extern const uint8_t jp_char_class[256];

static inline int
jp_is_tchar(unsigned char c)
{
    return jp_char_class[c] & JP_C_TCHAR;
}

static inline int
jp_is_field_char(unsigned char c)
{
    return jp_char_class[c] & JP_C_FIELD;
}

/* ASCII lower-casing of one byte; bytes that are not letters are returned unchanged. */
static inline unsigned char
jp_lower(unsigned char c)
{
    return (unsigned char)((unsigned)c - 'A' < 26u ? c | 0x20 : c);
}

/* The value of one hex digit of either case (JP_C_HEX's bytes), or -1 for any other byte.
 * Used where escapes are decoded (url.c's %XX, jsonscan.c's \uXXXX); chunked.c's size loops
 * read a table of their own instead, which classifies and converts in one load. */
static inline int
jp_hex_value(unsigned char c)
{
    if ((unsigned)c - '0' < 10u)
        return c - '0';
    c |= 0x20; /* ASCII lower case; maps no non-letter onto 'a'-'f' */
    if ((unsigned)c - 'a' < 6u)
        return c - 'a' + 10;
    return -1;
}

#endif /* JP_CHARS_H */
