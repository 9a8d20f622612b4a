/*
 * simd.h - CPU feature selection for the byte scanners (layer 0: pure C, no Python.h).
 *
 * The parsers keep one scalar implementation of every scan, always compiled, and a faster
 * vector one where the CPU has it. Which one runs is decided once per process by
 * jp_simd_init() and copied into each parser when it is initialised, so a test can drive
 * both paths side by side in one process by overriding the copy.
 *
 * The environment variable JAPRONTO_SIMD forces a path: "scalar" (valgrind does not emulate
 * every vector instruction), or "avx2" (only honoured when the CPU has it). Anything else,
 * or no variable, means "the best this CPU has".
 */
#ifndef JP_SIMD_H
#define JP_SIMD_H

typedef enum jp_simd_level {
    JP_SIMD_SCALAR = 0, /* portable C, including SWAR word-at-a-time tricks */
    JP_SIMD_AVX2 = 2,   /* x86-64 with AVX2 */
} jp_simd_level;

/* Detects the CPU and reads JAPRONTO_SIMD. Idempotent; cheap after the first call. Returns the
 * chosen level, which jp_simd_default() returns from then on. Not thread-safe on the very first
 * call; call it once at start-up (module exec, test main). */
jp_simd_level jp_simd_init(void);

/* The level chosen by jp_simd_init(); JP_SIMD_SCALAR if it was never called. */
jp_simd_level jp_simd_default(void);

/* The best level this CPU supports, ignoring the environment. */
jp_simd_level jp_simd_cpu_best(void);

/* "scalar" or "avx2". */
const char *jp_simd_name(jp_simd_level level);

/* GCC and clang both accept per-function target attributes, so vector code lives in ordinary
 * files built without -mavx2 and runs only after a CPU check. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define JP_HAVE_X86_SIMD 1
#define JP_TARGET_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt")))
#else
#define JP_HAVE_X86_SIMD 0
#define JP_TARGET_AVX2
#endif

#endif /* JP_SIMD_H */
