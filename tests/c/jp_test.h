/*
 * jp_test.h - the little harness shared by the layer-0 C tests (header-only, test code only).
 *
 * CHECK records a failure and goes on, so one run reports every broken case; each test
 * program ends with JP_TEST_SUMMARY(), which prints "N passed, N failed" and gives the exit
 * status. jp_guarded_copy() places bytes flush against an unreadable page, so a read even
 * one byte past the input faults at once, sanitizer or not (picohttpparser's trick).
 * jp_test_rng() gives reproducible random numbers.
 */
#ifndef JP_TEST_H
#define JP_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned long jp_test_passed = 0;
static unsigned long jp_test_failed = 0;

/* xorshift64*: reproducible random numbers, independent of the C library's rand(); every test
 * program starts from the same seed, so a failure found with them repeats. */
static uint64_t jp_test_rng_state = 0x9E3779B97F4A7C15ull;

static inline uint64_t
jp_test_rng(void)
{
    jp_test_rng_state ^= jp_test_rng_state >> 12;
    jp_test_rng_state ^= jp_test_rng_state << 25;
    jp_test_rng_state ^= jp_test_rng_state >> 27;
    return jp_test_rng_state * 0x2545F4914F6CDD1Dull;
}

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            jp_test_passed++;                                                                  \
        } else {                                                                               \
            jp_test_failed++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

#define JP_TEST_SUMMARY(name)                                                                  \
    (printf("%s: %lu passed, %lu failed\n", (name), jp_test_passed, jp_test_failed),           \
     jp_test_failed ? 1 : 0)

/* A region whose last readable byte is followed by a PROT_NONE page. */
typedef struct jp_guard {
    char *base;   /* start of the mapping */
    size_t size;  /* readable bytes */
    size_t total; /* mapping size */
} jp_guard;

static inline void
jp_guard_open(jp_guard *g, size_t capacity)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t readable = (capacity + page - 1) / page * page;
    if (readable == 0)
        readable = page;
    g->total = readable + page;
    g->base = mmap(NULL, g->total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->base == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    if (mprotect(g->base + readable, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    g->size = readable;
}

/* Copies data[0..len) so that it ends exactly at the guard page and returns its start. */
static inline const char *
jp_guarded_copy(jp_guard *g, const void *data, size_t len)
{
    if (len > g->size) {
        fprintf(stderr, "jp_guarded_copy: %zu bytes do not fit in %zu\n", len, g->size);
        exit(2);
    }
    char *start = g->base + g->size - len;
    if (len)
        memcpy(start, data, len);
    return start;
}

static inline void
jp_guard_close(jp_guard *g)
{
    munmap(g->base, g->total);
    g->base = NULL;
}

#endif /* JP_TEST_H */
