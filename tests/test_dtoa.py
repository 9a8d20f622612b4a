"""Floats in Response(json=...): the C encoder (json.c, through dtoa.c) must write exactly what
json.dumps writes, which is float.__repr__ (shortest round-trip digits, the nearest of them,
repr's choice between fixed and exponent notation).

About three million doubles, encoded in batches so that one Response carries many: random bit
patterns, random short decimals, integers and quarters near powers of two and ten, neighbours
of every power of two, subnormals. A mismatch names the first float that differs.
"""

from __future__ import annotations

import json
import math
import random
import struct
from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from japronto import _core

BATCH = 20_000


def _stdlib(values):
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()


def _check(values):
    """Encodes values in batches and compares each batch with json.dumps."""
    values = list(values)
    assert values
    for i in range(0, len(values), BATCH):
        batch = values[i : i + BATCH]
        got = _core.Response(json=batch).body
        if got != _stdlib(batch):
            ours = got[1:-1].split(b",")
            for d, o in zip(batch, ours):
                assert o == repr(d).encode(), f"{d.hex()}: ours {o!r}, repr {repr(d)!r}"
            raise AssertionError(f"batch at {i} differs, but no single float does")


def _finite(doubles):
    return [d for d in doubles if math.isfinite(d)]


def test_random_bit_patterns():
    rnd = random.Random(20260529)
    doubles = array("d")
    doubles.frombytes(rnd.randbytes(8 * 1_200_000))
    _check(_finite(doubles))


def test_random_short_decimals():
    rnd = random.Random(7)
    values = []
    for _ in range(700_000):
        m = rnd.randrange(1, 10 ** rnd.randint(1, 17))
        values.append(float(f"{m}e{rnd.randint(-330, 310)}"))
    _check(_finite(values))
    # Short decimals in the range where fixed and exponent notation meet (1e-5 .. 1e17).
    values = [float(f"{rnd.randrange(1, 10**6)}e{rnd.randint(-11, 17)}") for _ in range(300_000)]
    _check(values)


def test_integers_and_quarters_near_powers():
    values = []
    for k in range(0, 70):
        base = 2**k
        values += [float(base + i) for i in range(-300, 301) if base + i > 0]
    for k in range(0, 23):
        base = 10**k
        values += [float(base + i) for i in range(-300, 301) if base + i > 0]
    # Around 2^50..2^52 a double holds quarters or halves: two 17-digit candidates can tie.
    for base in (2**50, 2**51, 2**52, 2**53):
        values += [base + i / 4 for i in range(-4000, 4001)]
    values += [-v for v in values[:50_000]]
    _check(values)


def test_powers_of_two_and_ten_with_neighbours():
    values = []
    for e in range(-1074, 1024):
        p = math.ldexp(1.0, e)
        # The significand field of p is zero: the double below is nearer than the one above.
        values += [p, -p, math.nextafter(p, 0.0), math.nextafter(p, math.inf)]
    for e in range(-323, 309):
        p = float(f"1e{e}")
        values += [p, math.nextafter(p, 0.0), math.nextafter(p, math.inf)]
    values += [0.0, -0.0, 5e-324, 2.225073858507201e-308, 2.2250738585072014e-308]
    values += [1.7976931348623157e308, -1.7976931348623157e308, 0.1, 0.3, 1 / 3]
    # The two doubles whose scaled value is within 2^-63 of an integer (gen_dtoa_table.py).
    values += [5592117679628511 * 2.0**163, 8887055249355788 * 2.0**664]
    _check(_finite(values))


def test_subnormals():
    rnd = random.Random(3)
    bits = list(range(1, 20_000)) + [rnd.randrange(1, 1 << 52) for _ in range(200_000)]
    bits += [(1 << 52) - b for b in range(1, 20_000)]
    values = [struct.unpack("<d", struct.pack("<Q", b))[0] for b in bits]
    _check(values + [-v for v in values[:20_000]])


def test_layout_at_the_notation_switch():
    # repr's own rule, spelled out: fixed when -4 < decpt <= 16, ".0" when integral, exponent
    # with at least two digits otherwise.
    cases = {
        1e15: "1000000000000000.0",
        1e16: "1e+16",
        9999999999999998.0: "9999999999999998.0",
        0.0001: "0.0001",
        0.00001: "1e-05",
        1.5e-7: "1.5e-07",
        1.7976931348623157e308: "1.7976931348623157e+308",
        5e-324: "5e-324",
        -0.0: "-0.0",
        123.0: "123.0",
    }
    body = _core.Response(json=list(cases)).body
    assert body == ("[" + ",".join(cases.values()) + "]").encode()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50))
def test_hypothesis_floats(values):
    assert _core.Response(json=values).body == _stdlib(values)
