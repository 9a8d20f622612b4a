"""Values for the JSON encoder tests, shared by the app (tests/apps/jsonenc.py) and the tests
(tests/server/test_json.py, tests/test_response.py); plain Python, no japronto import.

The C encoder (src/japronto/_core/json.c) copies strings eight bytes at a time, the last word
overlapping the one before, a string shorter than eight as two halves or as its first, middle
and last bytes; so every character that needs an escape, and some that need none, is put at
every position of strings of every length from 0 to 70.
"""

import enum
import json

# Every byte the encoder escapes.
ESCAPED = [chr(c) for c in range(0x20)] + ['"', "\\"]
# Bytes next to them in value, which must not be escaped, and non-ASCII of every UTF-8 length
# (2, 3 and 4 bytes; U+2028 and U+2029 are left as they are by ensure_ascii=False).
PLAIN = [" ", "!", "#", "[", "]", "a", "\x7f", "\x80", "é", "ÿ", "€", "\u2028", "\uffff"]
PLAIN += ["😀", "\U0010ffff"]
SPECIAL = ESCAPED + PLAIN
MAX_LEN = 70


def strings_of_length(n):
    """Strings of n characters: "x" * n, then for every special character c and every
    position i, "x" * n with c at i; and with c both at the first and the last place."""
    base = "x" * n
    out = [base]
    for c in SPECIAL:
        for i in range(n):
            out.append(base[:i] + c + base[i + 1 :])
        if n >= 2:
            out.append(c + base[1:-1] + c)
    return out


def all_strings():
    return [s for n in range(MAX_LEN + 1) for s in strings_of_length(n)]


class D(dict):
    pass


class L(list):
    pass


class T(tuple):
    pass


class S(str):
    pass


class I(int):  # noqa: E742
    pass


class F(float):
    pass


class Colour(enum.IntEnum):
    RED = 1


def nested(depth, leaf):
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


# Around 2**30 (one CPython digit: json.c reads such ints directly) and 2**63 (a long long).
def dict_with_deletions():
    """A dict whose table holds deleted entries between live ones, and one added after."""
    d = {f"k{i}": i for i in range(10)}
    for i in range(0, 10, 3):
        del d[f"k{i}"]
    d["late"] = "x"
    return d


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def instance_dicts():
    """Instance __dict__s (shared-key, split tables), one with an attribute deleted."""
    a, b = Point(1, "a"), Point(2, "b")
    del b.x
    b.z = [3]
    return [vars(a), vars(b)]


BIG_INTS = [0, -1, 1, 9, 10, 99, 100, 2**15, 2**30 - 1, 2**30, -(2**30 - 1), -(2**30)]
BIG_INTS += [2**31, -(2**31), 2**63 - 1, 2**63, -(2**63), -(2**63) - 1]
BIG_INTS += [2**64, 10**30, -(10**30), 12345678901234567890123]
FLOATS = [0.0, -0.0, 1.0, -1.5, 0.1, 1e16, 1e-7, 1e22, 1e308, 5e-324, 123456789.123, -2.5e-10]
FLOATS += [2.0**53, 1 / 3]

# name -> value; the expected body of each is json.dumps(value) below.
CASES = {
    "non-str-keys": {3: "int", None: "none", 2.5: "float", True: "true", False: "false"},
    "mixed-keys": {"a": 1, 2: "b"},
    "dict-subclass": D(a=1, b=[1, 2]),
    "list-subclass": L([1, "x"]),
    "tuple-subclass": T((1, "x")),
    "str-subclass": S("sub\nclass"),
    "str-subclass-key": {S("k"): 1},
    "int-subclass": I(42),
    "float-subclass": F(2.5),
    "intenum": [Colour.RED],
    "subclass-inside": {"outer": [1, {"inner": D(x=I(3))}]},
    "big-ints": BIG_INTS,
    "floats": FLOATS,
    "scalars": [None, True, False, 0, "", [], {}, (), [[]], {"": {}}],
    "top-string": 'top "level"\n é',
    "top-int": 2**70,
    "top-float": 0.5,
    "top-true": True,
    "nested-63": nested(63, "leaf"),
    "nested-64": nested(64, "leaf"),
    "nested-65": nested(65, ["leaf"]),
    "nested-66": nested(66, {"x": 1}),
    "nested-200": nested(200, 1),
    "wide": {f"key{i}": [i, str(i), i / 2, None] for i in range(300)},
    "dict-with-deletions": dict_with_deletions(),
    "instance-dicts": instance_dicts(),
    "long-string": 'abc\u00e9"' * 5000,
}
# name -> the exception type the encoding raises (the server answers 500).
FAILING = {
    "nan": [float("nan")],
    "inf-key": {"x": float("inf")},
    "lone-surrogate": ["ok", "\ud800"],
    "surrogate-key": {"\udfff": 1},
}


def expected(value):
    """The bytes json= must produce: the standard library's compact, non-ASCII-escaping form."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
