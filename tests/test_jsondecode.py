"""request.json's C decoder (src/japronto/_core/jsondecode.c) against json.loads, in process,
through the test-only hook ``_core._json_decode_for_tests(data)``: it returns the decoded
value, or Ellipsis when the decoder gave up (request.json then runs json.loads itself).

The rule under test: for every input, the decoder either gives exactly what
``json.loads(data.decode("utf-8"))`` gives (compared type-strictly: 1, 1.0 and True differ,
-0.0 differs from 0.0, dict order counts), or gives up; and it gives up only where json.loads
fails, or on the few valid inputs it leaves to json.loads on purpose (a lone surrogate escape,
nesting deeper than its limit, an integer past int-max-str-digits). A give-up leaves no
exception set (the hook would raise it) and leaks nothing. tests/server/test_request_json.py
checks the same through real requests; tests/c/test_jsonscan.c the byte-level pieces.
"""

import gc
import json
import math
import os
import subprocess
import sys
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from japronto import _core

GAVE_UP = ...
MAX_DEPTH = 200  # JP_JDEC_MAX_DEPTH
decode = _core._json_decode_for_tests


def same(a, b) -> bool:
    """Type-strict deep equality: 1, 1.0 and True differ, so do 0.0 and -0.0; NaN equals NaN;
    dicts compare in order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items())
        )
    return a == b


def loads(data: bytes):
    """json.loads(data.decode("utf-8")), or the exception it raised."""
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError, JSONDecodeError, digits
        return e


def check(data: bytes, must_decode: bool = False):
    """The rule above for one input; returns the decoder's result."""
    got = decode(data)
    want = loads(data)
    if got is GAVE_UP:
        assert not must_decode, f"gave up on {data[:200]!r}"
        return got
    assert not isinstance(want, BaseException), f"decoded {data[:200]!r}; json.loads: {want!r}"
    assert same(got, want), (data[:200], got, want)
    return got


def test_the_same_function_as_the_hook():
    assert decode(b"[1]") == [1]
    assert decode(b"[1") is GAVE_UP
    with pytest.raises(TypeError):
        decode("[1]")


def test_same_is_type_strict():
    # The comparison itself must be able to fail.
    assert not same(1, 1.0) and not same(1, True) and not same(0.0, -0.0)
    assert not same({"a": 1, "b": 2}, {"b": 2, "a": 1}) and not same([1], [1, 1])
    assert same(float("nan"), float("nan")) and same({"a": [1.5]}, {"a": [1.5]})


VALID = [
    b"null",
    b"true",
    b"false",
    b"0",
    b"-0",
    b"-0.0",
    b"0.0",
    b"1",
    b"-1",
    b"256",
    b"257",
    b"-5",
    b"-6",
    b"999999999999999999",
    b"-999999999999999999",
    b"1000000000000000000",
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775809",
    b"123456789012345678901234567890123456789",
    b"1.5",
    b"1e400",
    b"-1e400",
    b"1e-400",
    b"1E2",
    b"1e+2",
    b"2.5e-3",
    b"0.1",
    b"0.30000000000000004",
    b"1.7976931348623157e308",
    b"5e-324",
    b"2.4703282292062327e-324",
    b"123456789.123456789e-5",
    b'""',
    b'"a"',
    b'"ab"',
    b'"\\u0000"',
    b'"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    b'"\\u00e9\\u00E9\\u20ac"',
    b'"\\ud83d\\ude00"',
    b'"\\uD83D\\uDE00x"',
    '"é€😀"'.encode(),
    '"é\\n€"'.encode(),
    b'"\x7f"',
    '"\u2028\u2029"'.encode(),
    b"[]",
    b"{}",
    b" [ ] ",
    b"\t\r\n{\t\r\n}\t\r\n",
    b'[1, 2.5, "x", null, true, false, [], {}]',
    b'{"a": 1, "b": [1, {"c": null}], "": 0}',
    b'{"a": 1, "b": 2, "a": 3}',
    b'{"a":1,"a":2,"a":3}',
    b'{"\\u0061": 1, "a": 2}',
    b'{"k\xc3\xa9": 1, "k\\u00e9": 2}',
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"[NaN, Infinity, -Infinity]",
    b'{"x": -Infinity}',
]


@pytest.mark.parametrize("data", VALID, ids=repr)
def test_valid_documents(data):
    check(data, must_decode=True)


def test_nan_and_infinities_are_json_loads_own_objects():
    # json.loads returns one NaN object for every "NaN", so [nan] == [nan] between two calls.
    assert decode(b"NaN") is json.loads("NaN")
    assert decode(b"[Infinity]")[0] is json.loads("Infinity")
    assert decode(b"[-Infinity]") == json.loads("[-Infinity]")
    assert decode(b"[NaN]") == json.loads("[NaN]")


INVALID = [
    b"",
    b" ",
    b"\n",
    b"nul",
    b"nulll",
    b"True",
    b"none",
    b"nan",
    b"inf",
    b"-inf",
    b"+1",
    b"01",
    b"-01",
    b"00",
    b"1.",
    b".5",
    b"-",
    b"1e",
    b"1e+",
    b"1.5e",
    b"0x10",
    b"1_000",
    b"[1,]",
    b"[,1]",
    b"[1 2]",
    b"[1,,2]",
    b"[",
    b"]",
    b"[1",
    b'{"a":1,}',
    b'{"a" 1}',
    b'{"a":}',
    b"{a:1}",
    b"{'a':1}",
    b'{"a":1',
    b"{1:1}",
    b"{,}",
    b'"abc',
    b'"abc\\"',
    b'"\\x"',
    b'"\\u12"',
    b'"\\u12g4"',
    b'"\\U0041"',
    b'"a\tb"',
    b'"a\nb"',
    b'"\x00"',
    b'"\x1f"',
    b"[1]x",
    b"[1] [2]",
    b"{} {}",
    b"[1]\x00",
    b"\xef\xbb\xbf[1]",  # a UTF-8 BOM: json.loads refuses it
    b"\xc2\xa0[1]",  # NO-BREAK SPACE is not JSON whitespace
    b"\x0b[1]",
    b"\x0c[1]",
    b'"\xff"',
    b'"\xc3"',
    b'"\xc3\\u00a9"',  # a raw lead byte cannot be completed by an escape
    b'"\xc0\xaf"',  # overlong
    b'"\xed\xa0\x80"',  # an encoded surrogate
    b'"\xf4\x90\x80\x80"',  # above U+10FFFF
    b'"\x80"',
    b"[\xc3\xa9]",
    b"\xff",
]


@pytest.mark.parametrize("data", INVALID, ids=repr)
def test_invalid_documents_give_up(data):
    assert isinstance(loads(data), BaseException), "not invalid after all"
    assert decode(data) is GAVE_UP


@pytest.mark.parametrize(
    "data",
    [
        b'"\\ud800"',
        b'"\\udc00"',
        b'"\\ud83d"',
        b'"\\ud83dx"',
        b'"\\ude00\\ud83d"',
        b'"\\ud83d\\u0041"',
        b'["ok", {"k": "\\udfff"}]',
        b'{"\\ud800": 1}',
    ],
    ids=repr,
)
def test_lone_surrogates_are_left_to_json_loads(data):
    # json.loads returns a str holding a lone surrogate; UTF-8 cannot hold one.
    assert not isinstance(loads(data), BaseException)
    assert decode(data) is GAVE_UP


@pytest.mark.parametrize("open_, close", [(b"[", b"]"), (b'{"k":', b"}"), (b'[{"k":', b"}]")])
def test_nesting_up_to_the_limit(open_, close):
    per = open_.count(b"[") + open_.count(b"{")
    for depth in range(MAX_DEPTH - 3, MAX_DEPTH + 4):
        n = depth // per
        data = open_ * n + b"0" + close * n
        got = check(data)
        assert (got is GAVE_UP) == (n * per > MAX_DEPTH), (n * per, got is GAVE_UP)
    # Well past the limit, and past json.loads's own (RecursionError).
    check(b"[" * 100000 + b"]" * 100000)
    check(b"[" * 100000)


def test_a_lowered_recursion_limit_lowers_the_depth_limit():
    data = b"[" * 150 + b"]" * 150
    assert decode(data) is not GAVE_UP
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(500)  # a fifth: 100
    try:
        assert decode(data) is GAVE_UP
        assert decode(b"[" * 100 + b"]" * 100) is not GAVE_UP
    finally:
        sys.setrecursionlimit(old)


@pytest.mark.skipif(not hasattr(sys, "set_int_max_str_digits"), reason="no digit limit")
def test_integers_past_the_digit_limit_are_left_to_json_loads():
    old = sys.get_int_max_str_digits()
    try:
        sys.set_int_max_str_digits(1000)
        assert check(b"9" * 1000, must_decode=True) == int("9" * 1000)
        assert check(b"-" + b"9" * 1000, must_decode=True) == -int("9" * 1000)
        assert decode(b"[" + b"9" * 1001 + b"]") is GAVE_UP
        assert isinstance(loads(b"9" * 1001), ValueError)
        # Floats have no digit limit.
        check(b"0." + b"1" * 5000, must_decode=True)
    finally:
        sys.set_int_max_str_digits(old)


def test_keys_hash_and_compare_normally():
    # Keys of every length around the cached sizes, sharing length, first and last byte, so
    # that they meet in the decoder's cache; decoded twice, looked up with fresh strings.
    keys = ["a", "ab", "axb", "ayb"] + ["k" * n for n in range(1, 40)]
    keys += ["x" + "y" * n + "z" for n in range(30)] + ["é", "aé", "a\\u0063", "a\\nb"]
    assert len(set(json.loads(f'"{k}"') for k in keys)) == len(keys)
    data = ("{" + ",".join(f'"{k}": {i}' for i, k in enumerate(keys)) + "}").encode()
    for _ in range(2):
        got = check(data, must_decode=True)
        for i, k in enumerate(keys):
            fresh = json.loads(f'"{k}"')
            assert got["".join(fresh)] == i
            assert hash(list(got)[i]) == hash("".join(fresh))


# ---- generated documents --------------------------------------------------------------------

WS = st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n", "  \n\t "])
CHARS = st.characters(blacklist_categories=("Cs",))  # lone surrogates cannot be UTF-8
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.sampled_from([0, -1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**18 - 1, 10**18])
    | st.floats()
    | st.sampled_from([0.0, -0.0, 5e-324, 1.7976931348623157e308, 0.1, 1e16, 1e22, 1e-7])
    | st.text(CHARS, max_size=20)
    | st.text(st.sampled_from('"\\/\b\f\n\r\t\x00\x1f\x7f é€😀'), max_size=20)
)
KEYS = st.text(CHARS, max_size=8) | st.sampled_from(["id", "k", "sku"])


def _containers(inner):
    # A function rather than a lambda: hypothesis reads a lambda's source to check that it
    # uses its argument, and misreads this one.
    return st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner)


VALUES = st.recursive(
    SCALARS,
    _containers,
    max_leaves=25,
)


def dump(value, data) -> str:
    """value as JSON text: strings with each character raw or escaped at random (every escape
    form, \\u in either case, non-BMP characters as surrogate pairs), random whitespace
    between tokens, numbers as json.dumps writes them or in another valid spelling."""

    def ws():
        return data.draw(WS)

    def string(s):
        out = []
        for ch in s:
            how = data.draw(st.integers(0, 3))
            short = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f"}
            short.update({"\n": "\\n", "\r": "\\r", "\t": "\\t"})
            if ord(ch) < 0x20 or ch in '"\\':
                how = how or 1  # must be escaped
            if how == 0:
                out.append(ch)
            elif how == 1 and ch in short:
                out.append(short[ch])
            else:
                units = ch.encode("utf-16-be")
                for i in range(0, len(units), 2):
                    hexs = units[i : i + 2].hex()
                    out.append("\\u" + (hexs.upper() if how == 3 else hexs))
        return '"' + "".join(out) + '"'

    def number(x):
        text = json.dumps(x)
        if isinstance(x, float) and math.isfinite(x) and data.draw(st.booleans()):
            # Another spelling of the same float: the exponent in either case, with or
            # without '+', with leading zeros, or one added.
            mant, _, exp = (text if "e" in text else text + "e0").partition("e")
            sign = "-" if exp.startswith("-") else data.draw(st.sampled_from(["", "+"]))
            zeros = "0" * data.draw(st.integers(0, 2))
            e = data.draw(st.sampled_from("eE"))
            text = mant + e + sign + zeros + exp.lstrip("+-")
        return text

    def go(v):
        if isinstance(v, str):
            return string(v)
        if v is None or isinstance(v, bool):
            return json.dumps(v)
        if isinstance(v, (int, float)):
            return number(v)
        if isinstance(v, list):
            return "[" + ws() + ("," + ws()).join(go(x) + ws() for x in v) + "]"
        items = (ws() + string(k) + ws() + ":" + ws() + go(x) + ws() for k, x in v.items())
        return "{" + ws() + ",".join(items) + "}"

    return ws() + go(value) + ws()


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(value=VALUES, ensure_ascii=st.booleans())
def test_json_dumps_output(value, ensure_ascii):
    for kw in ({}, {"indent": 2}, {"separators": (",", ":")}):
        check(json.dumps(value, ensure_ascii=ensure_ascii, **kw).encode(), must_decode=True)


@SETTINGS
@given(value=VALUES, data=st.data())
def test_every_escape_and_whitespace(value, data):
    check(dump(value, data).encode(), must_decode=True)


@SETTINGS
@given(
    text=st.from_regex(
        r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,40})?([eE][-+]?[0-9]{1,5})?", fullmatch=True
    )
)
def test_number_spellings(text):
    check(text.encode(), must_decode=True)
    check(("[" + text + "]").encode(), must_decode=True)


@SETTINGS
@given(depth=st.integers(1, MAX_DEPTH), value=SCALARS, data=st.data())
def test_deep_nesting_within_the_limit(depth, value, data):
    kinds = data.draw(st.lists(st.booleans(), min_size=depth, max_size=depth))
    doc = value
    for is_list in kinds:
        doc = [doc] if is_list else {"k": doc}
    check(json.dumps(doc).encode(), must_decode=True)


MUTATION_BYTES = st.sampled_from(
    b'"\\{}[],:0123456789-+.eEunlfatrsNI \t\n\r\x00\x1f\x7f\x80\xc3\xa9\xff'
)


@SETTINGS
@given(value=VALUES, data=st.data())
def test_mutated_documents_decode_the_same_or_give_up(value, data):
    doc = bytearray(dump(value, data).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.integers(0, 2))
        at = data.draw(st.integers(0, len(doc)))
        byte = data.draw(MUTATION_BYTES | st.integers(0, 255))
        if op == 0 and at < len(doc):
            doc[at] = byte
        elif op == 1:
            doc[at:at] = bytes([byte])
        elif at < len(doc):
            del doc[at]
    check(bytes(doc))


@SETTINGS
@given(prefix=VALUES, data=st.data())
def test_every_prefix_gives_up_or_agrees(prefix, data):
    doc = dump(prefix, data).encode()
    cut = data.draw(st.integers(0, len(doc)))
    check(doc[:cut])


@SETTINGS
@given(raw=st.binary(max_size=40))
def test_random_bytes(raw):
    check(raw)


def test_the_scalar_scan_too():
    # JAPRONTO_SIMD=scalar makes the decoder scan strings a word at a time (jsonscan.c): the
    # same results, in a process of its own (the level is chosen at import).
    strings = ["x" * n + "é" * (n % 3) + '"\\'[: n % 3] for n in range(70)]
    docs = VALID + INVALID + [json.dumps(strings, ensure_ascii=a).encode() for a in (0, 1)]
    code = (
        "import json, sys\n"
        "from japronto import _core\n"
        "assert _core.simd_path() == 'scalar', _core.simd_path()\n"
        "for line in sys.stdin.read().split():\n"
        "    print(repr(_core._json_decode_for_tests(bytes.fromhex(line[1:]))))\n"
    )
    lines = "\n".join("x" + d.hex() for d in docs)  # x: an empty document is a line too
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=lines,
        capture_output=True,
        text=True,
        env=dict(os.environ, JAPRONTO_SIMD="scalar"),
        check=True,
    ).stdout.splitlines()
    assert out == [repr(decode(d)) for d in docs]


# ---- references and memory ------------------------------------------------------------------

LEAK_DOCS = [
    b'{"id": 1, "name": "x", "tags": ["a", "b"], "f": 1.5, "big": 123456789012345678901234}',
    b'[NaN, Infinity, -Infinity, null, true, false, "\\u00e9\\ud83d\\ude00", "'
    + b"z" * 600
    + b'"]',
    '{"ké": "vé", "long key that is not cached, being long": [1, 2, 3]}'.encode(),
    b'"' + b"\\n" * 400 + b'"',
    b"[" * 150 + b"]" * 150,
    # Give-ups after objects were made, at every kind of place.
    b'{"id": 1, "name": "x", "tags": ["a", "b"], "f": 1.5, "bad": tru}',
    b'[NaN, Infinity, {"k": [1, 2, "\\ud800"]}]',
    b'[1, 2, "x", {"a": {"b": [3, 4, "' + b"y" * 600 + b'\\q"]}}]',
    b'{"a": [1, 2, 3], "b": 123456789012345678901234, "c": "\xff"}',
    b"[" * 250 + b"]" * 250,
    b'{"a": 1, "b": 2} x',
    b'{"a": 1, "b": 2, "a": [1.5e5, "' + b"\\n" * 400 + b'"] ,}',
]


def test_give_ups_and_successes_leak_nothing():
    def burst(n):
        for _ in range(n):
            for d in LEAK_DOCS:
                decode(d)

    burst(50)  # the key cache fills, allocator pools settle
    # Objects nothing else in the process takes references to while this runs.
    objects = [json.loads("NaN"), json.loads("Infinity"), json.loads("-Infinity")]
    gc.collect()
    refs = [sys.getrefcount(o) for o in objects]
    tracemalloc.start()
    try:
        burst(20)
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        burst(500)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # A single leaked object per decode would be 500 x 12 of them.
    assert grown < 20_000, f"{grown} bytes more after 6000 decodes"
    assert [sys.getrefcount(o) for o in objects] == refs


def test_cached_keys_gain_no_references():
    doc = b'{"alpha": 1, "beta": [2], "gamma": {"delta": 3}, "epsilon": "x"}'
    first, again = list(decode(doc)), list(decode(doc))
    cached = [k for k, k2 in zip(first, again) if k is k2]  # made once, kept by the decoder
    assert cached, "no key was cached"
    refs = [sys.getrefcount(k) for k in cached]
    for _ in range(1000):
        decode(doc)
        decode(doc[:-1])  # a give-up after the keys were used
    assert [sys.getrefcount(k) for k in cached] == refs


def test_a_decoded_value_is_owned_by_the_caller_alone():
    v = decode(b'{"a": [1.5, "x", {"b": null}], "c": "' + b"s" * 100 + b'"}')
    # getrefcount counts its argument: 2 means only v (or its container) holds it. Counted
    # outside the asserts, whose rewriting keeps references of its own.
    counts = [sys.getrefcount(v), sys.getrefcount(v["a"]), sys.getrefcount(v["a"][0])]
    counts += [sys.getrefcount(v["a"][2]), sys.getrefcount(v["c"])]
    assert counts == [2] * 5
