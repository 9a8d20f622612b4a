/*
 * simd.c - one-time choice of the scan implementation (see simd.h).
 *
 * The chosen level is the only mutable global of layer 0. It is written once, at start-up,
 * before any parser exists, and only read afterwards; every parser copies it at init.
 */
#include "simd.h"

#include <stdlib.h>
#include <string.h>

static jp_simd_level simd_chosen = JP_SIMD_SCALAR;
static int simd_initialised = 0;

jp_simd_level
jp_simd_cpu_best(void)
{
#if JP_HAVE_X86_SIMD
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
        __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt"))
        return JP_SIMD_AVX2;
#endif
    return JP_SIMD_SCALAR;
}

jp_simd_level
jp_simd_init(void)
{
    if (simd_initialised)
        return simd_chosen;
    jp_simd_level best = jp_simd_cpu_best();
    const char *forced = getenv("JAPRONTO_SIMD");
    if (forced != NULL && strcmp(forced, "scalar") == 0)
        simd_chosen = JP_SIMD_SCALAR;
    else
        /* "avx2" or anything else: the best the CPU has, never more. */
        simd_chosen = best;
    simd_initialised = 1;
    return simd_chosen;
}

jp_simd_level
jp_simd_default(void)
{
    return simd_chosen;
}

const char *
jp_simd_name(jp_simd_level level)
{
    switch (level) {
    case JP_SIMD_AVX2:
        return "avx2";
    case JP_SIMD_SCALAR:
    default:
        return "scalar";
    }
}
