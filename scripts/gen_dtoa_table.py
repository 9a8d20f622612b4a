#!/usr/bin/env python3
"""Writes src/japronto/_core/dtoa_table.h, the constants of dtoa.c (Schubfach), with exact
integer arithmetic, and checks each of them over the whole range dtoa.c uses.

    python3 scripts/gen_dtoa_table.py            # rewrite the header
    python3 scripts/gen_dtoa_table.py --check    # exit 1 if the committed header differs

What it writes:

- For every decimal exponent e that dtoa.c can ask for, g(e) = floor(10^e / 2^r) + 1 with
  r = floor(log2(10^e)) - 125, so 2^125 <= g(e) < 2^126: a 126-bit overestimate of 10^e,
  stored as two 64-bit halves. This is the table of Giulietti's "The Schubfach way to render
  doubles" (2020); the overestimate is what makes the round-to-odd products exact.
- Multiply-and-shift forms of floor(q log10 2), floor(log10(3/4 2^q)) and floor(e log2 10),
  each verified here against the exact definition (largest k with 10^k <= 2^q, and so on) for
  every argument in its range, so that dtoa.c needs no floating point and no proof by hand.

It also checks, for every double, that dtoa_round_to_odd gives the round-to-odd of the exact
value it stands for (verify_round_to_odd below), so that dtoa.c's exactness rests on this
script and not only on the paper's proof.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "japronto" / "_core" / "dtoa_table.h"

# A finite positive double is c 2^q with c < 2^53; q runs from -1074 (subnormals and the
# smallest binade) to 2046 - 1075 = 971.
Q_MIN, Q_MAX = -1074, 971
SHIFT = 22  # the multiply-and-shift forms use q * M >> SHIFT
BIAS = 1 << 12  # added before the shift so that the shifted value is never negative


def floor_log10_pow2(q: int) -> int:
    """The largest k with 10^k <= 2^q."""
    k = 0
    if q >= 0:
        while 10 ** (k + 1) <= 2**q:
            k += 1
    else:
        # 10^k <= 2^q  <=>  2^-q <= 10^-k
        while not 2**-q <= 10**-k:
            k -= 1
    return k


def floor_log10_three_quarters_pow2(q: int) -> int:
    """The largest k with 10^k <= 3/4 2^q, i.e. 4 10^k <= 3 2^q."""
    k = floor_log10_pow2(q)
    while not _le_pow(4, k, 3, q):
        k -= 1
    return k


def _le_pow(a: int, k: int, b: int, q: int) -> bool:
    """a 10^k <= b 2^q, exactly."""
    lhs_num, lhs_den = (a * 10**k, 1) if k >= 0 else (a, 10**-k)
    rhs_num, rhs_den = (b * 2**q, 1) if q >= 0 else (b, 2**-q)
    return lhs_num * rhs_den <= rhs_num * lhs_den


def floor_log2_pow10(e: int) -> int:
    """The largest j with 2^j <= 10^e."""
    if e >= 0:
        return (10**e).bit_length() - 1
    # 2^j <= 10^e  <=>  2^j 10^-e <= 1: j = -ceil(log2(10^-e)).
    n = 10**-e
    j = -(n.bit_length() - 1)
    if 2**-j < n:  # n is not a power of two (always, for e < 0)
        j -= 1
    return j


def fit(exact, approx, lo, hi):
    """The multiplier M nearest approx 2^SHIFT with
    ((x * M + (BIAS << SHIFT)) >> SHIFT) - BIAS == exact(x) for every x in [lo, hi]."""
    want = {x: exact(x) for x in range(lo, hi + 1)}
    centre = round(approx * (1 << SHIFT))
    for d in range(0, 65):
        for m in (centre - d, centre + d):
            if all(((x * m + (BIAS << SHIFT)) >> SHIFT) - BIAS == k for x, k in want.items()):
                return m
    raise SystemExit(f"no multiplier for {exact.__name__} over [{lo}, {hi}]")


def fit_three_quarters(m):
    """The offset for floor(log10(3/4 2^q)) = (q * m + off) >> SHIFT with the same m."""
    want = {q: floor_log10_three_quarters_pow2(q) for q in range(Q_MIN, Q_MAX + 1)}
    # Each q bounds off from both sides: k 2^S <= q m + off + B 2^S - B 2^S < (k + 1) 2^S.
    lo = max((k << SHIFT) - q * m for q, k in want.items())
    hi = min(((k + 1) << SHIFT) - 1 - q * m for q, k in want.items())
    if lo > hi:
        raise SystemExit("no offset for floor(log10(3/4 2^q))")
    return lo


def modmin(n: int, m: int, a: int, b: int) -> int:
    """min of (a y + b) mod m over 0 <= y < n (n >= 1), in O(log m) steps.

    Between two wraps past m the values rise, so the minimum is b or a value just after a
    wrap; the value after the j-th wrap is (b + j (-m mod a)) mod a for j = 1..wraps, which
    is the same problem with the smaller modulus a (Euclid's descent)."""
    best = None
    while True:
        a %= m
        b %= m
        best = b if best is None else min(best, b)
        if a == 0 or n <= 1:
            return best
        wraps = (b + a * (n - 1)) // m
        if wraps == 0:
            return best
        step = (-m) % a
        n, m, a, b = wraps, a, step, (b + step) % a


def _modmin_selftest() -> None:
    import random

    rnd = random.Random(9)
    for _ in range(3000):
        m = rnd.randrange(1, 2000)
        a, b, n = rnd.randrange(0, 2 * m), rnd.randrange(0, 2 * m), rnd.randrange(1, 2500)
        want = min((a * y + b) % m for y in range(n))
        assert modmin(n, m, a, b) == want, (n, m, a, b)


def _solutions(n, m, a, b, r):
    """The y in [0, n) with (a y + b) mod m == r."""
    g = math.gcd(a, m)
    if (r - b) % g:
        return []
    mg = m // g
    y0 = ((r - b) // g * pow(a // g, -1, mg)) % mg if mg > 1 else 0
    return list(range(y0, n, mg))


def verify_round_to_odd() -> int:
    """Checks that dtoa_round_to_odd is exact for every double; returns how many values were
    within 2^-63 of an integer (each then checked to have an odd integer part).

    dtoa.c computes P = g (c' << h), exactly, for V = c' 2^q 10^-k (c' = 4c, 4c +- 2, and
    4c - 1 when c = 2^52), with g - 10^-k 2^-r in (0, 1] and c' << h < 2^61, so that
    P = V 2^127 + E with 0 < E < 2^61. It returns floor(P / 2^127), its lowest bit set when
    floor(P / 2^64) mod 2^63 != 0. That is the round-to-odd of V when
      - V is an integer: then E / 2^127 < 2^-66 leaves the integer part alone and the
        fraction bits zero (nothing to check);
      - frac(V) <= 1 - 2^-66: E cannot carry into the integer part;
      - frac(V) >= 2^-63: the fraction shows in bits 64..126; or, below that, floor(V) is odd,
        so that the lowest bit is set whatever the fraction bits say.
    With V = x N / D in lowest terms and x running over an arithmetic progression (the c' of
    one kind for every c of a binade), frac(V) = ((N x) mod D) / D: modmin gives the smallest
    and, mirrored, the largest over the whole progression, and every x below 2^-63 is found by
    splitting the progression around each minimum in turn."""
    _modmin_selftest()
    near = 0
    for q in range(Q_MIN, Q_MAX + 1):
        c_min = 1 if q == Q_MIN else 1 << 52
        c_max = (1 << 53) - 1
        kinds = [(floor_log10_pow2(q), None)]
        if q > Q_MIN:
            kinds.append((floor_log10_three_quarters_pow2(q), 1 << 52))
        for k, only in kinds:
            num = (2**q if q >= 0 else 1) * (10**-k if k < 0 else 1)
            den = (2**-q if q < 0 else 1) * (10**k if k > 0 else 1)
            g = math.gcd(num, den)
            num, den = num // g, den // g
            if only is None:
                # x = 4 y + r0: 4c for c in [c_min, c_max]; 4c + 2 and 4c - 2 together are
                # 4 y + 2 for y in [c_min - 1, c_max - 1]. (c = 2^52 is covered too.)
                progressions = [(0, c_min, c_max - c_min + 1), (2, c_min - 1, c_max - c_min + 1)]
                step = 4
            else:
                progressions = [(x, 0, 1) for x in (4 * only - 1, 4 * only, 4 * only + 2)]
                step = 0
            for r0, y_lo, count in progressions:
                a = (num * step) % den
                b = (num * (step * y_lo + r0)) % den
                hi = den - 1 - modmin(count, den, (-a) % den, (den - 1 - b) % den)
                assert (den - hi) << 66 >= den, (q, k, "carry into the integer part")
                if den <= 1 << 63:
                    continue  # a fraction that is not zero is at least 1 / den >= 2^-63
                todo = [(0, count)]  # den > x for every x: no fraction is zero
                while todo:
                    start, n = todo.pop()
                    if n <= 0:
                        continue
                    bb = (a * start + b) % den
                    lo = modmin(n, den, a, bb)
                    if lo << 63 >= den:
                        continue  # every fraction here shows in bits 64..126
                    ys = _solutions(n, den, a, bb, lo)
                    for y in ys:
                        x = step * (y_lo + start + y) + r0
                        assert (num * x // den) & 1, (q, k, x, "even integer part")
                        near += 1
                    todo.append((start, ys[0]))
                    todo.append((start + ys[0] + 1, n - ys[0] - 1))
    return near


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    near = verify_round_to_odd()
    m10 = fit(floor_log10_pow2, math.log10(2), Q_MIN, Q_MAX)
    off34 = fit_three_quarters(m10)
    ks = [floor_log10_pow2(q) for q in range(Q_MIN, Q_MAX + 1)]
    ks += [floor_log10_three_quarters_pow2(q) for q in range(Q_MIN, Q_MAX + 1)]
    e_min, e_max = -max(ks), -min(ks)  # the table is indexed by e = -k
    m2 = fit(floor_log2_pow10, math.log2(10), e_min, e_max)

    rows = []
    for e in range(e_min, e_max + 1):
        r = floor_log2_pow10(e) - 125
        if e >= 0:
            num, den = 10**e, 1
        else:
            num, den = 1, 10**-e
        if r >= 0:
            den <<= r
        else:
            num <<= -r
        g = num // den + 1
        assert 1 << 125 <= g < 1 << 126, e
        rows.append((e, g >> 64, g & ((1 << 64) - 1)))

    # dtoa.c shifts c 4 (at most 2^55 + 2) left by h = q + floor(log2(10^-k)) + 2 and needs
    # the result below 2^61 (its products fit, and verify_round_to_odd assumes it).
    h_all = []
    for q in range(Q_MIN, Q_MAX + 1):
        for k in (floor_log10_pow2(q), floor_log10_three_quarters_pow2(q)):
            h_all.append(q + floor_log2_pow10(-k) + 2)
    h_min, h_max = min(h_all), max(h_all)
    assert h_min >= 1 and ((1 << 55) + 2) << h_max < 1 << 61, (h_min, h_max)

    lines = [
        "/*",
        " * dtoa_table.h - constants of dtoa.c (Schubfach). GENERATED: do not edit; rewrite with",
        " *     python3 scripts/gen_dtoa_table.py",
        " * which computes them with exact integers and checks each over the range dtoa.c uses.",
        " *",
        " * DTOA_G[e - DTOA_E_MIN] holds g(e) = floor(10^e / 2^r) + 1 with",
        " * r = floor(log2(10^e)) - 125, as {high 64 bits, low 64 bits}; 2^125 <= g(e) < 2^126",
        " * for every e in the table (Giulietti's Schubfach).",
        " * DTOA_FLOOR_LOG10_POW2(q) = floor(q log10 2) and DTOA_FLOOR_LOG10_3_4_POW2(q) =",
        f" * floor(log10(3/4 2^q)) for q in [{Q_MIN}, {Q_MAX}]; DTOA_FLOOR_LOG2_POW10(e) =",
        f" * floor(e log2 10) for e in [{e_min}, {e_max}]. The shift h of dtoa.c lies in"
        f" [{h_min}, {h_max}].",
        " */",
        "#ifndef JP_DTOA_TABLE_H",
        "#define JP_DTOA_TABLE_H",
        "",
        "/* clang-format off */",
        "#include <stdint.h>",
        "",
        f"#define DTOA_E_MIN ({e_min})",
        f"#define DTOA_E_MAX {e_max}",
        "",
        "/* Multiply and shift; the bias keeps the shifted value non-negative, so that no",
        " * right shift of a negative number (implementation-defined) is needed. */",
        "#define DTOA_FLOOR_LOG10_POW2(q) \\",
        f"    ((int)(((int64_t)(q) * {m10} + ((int64_t){BIAS} << {SHIFT})) >> {SHIFT}) - {BIAS})",
        "#define DTOA_FLOOR_LOG10_3_4_POW2(q) \\",
        f"    ((int)(((int64_t)(q) * {m10} - {-off34} + ((int64_t){BIAS} << {SHIFT})) >> {SHIFT})"
        f" - {BIAS})",
        "#define DTOA_FLOOR_LOG2_POW10(e) \\",
        f"    ((int)(((int64_t)(e) * {m2} + ((int64_t){BIAS} << {SHIFT})) >> {SHIFT}) - {BIAS})",
        "",
        f"static const uint64_t DTOA_G[{len(rows)}][2] = {{",
    ]
    for e, hi, lo in rows:
        lines.append(f"    {{0x{hi:016x}u, 0x{lo:016x}u}}, /* {e} */")
    lines += ["};", "", "/* clang-format on */", "#endif /* JP_DTOA_TABLE_H */", ""]
    text = "\n".join(lines)

    if args.check:
        if OUT.read_text() != text:
            print(f"{OUT} differs from what {sys.argv[0]} writes", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}: {len(rows)} powers, e in [{e_min}, {e_max}], h in [{h_min}, {h_max}]")
    print(f"round to odd exact for every double ({near} values within 2^-63 of an odd integer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
