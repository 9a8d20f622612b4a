"""The router: pattern validation (Router.add_route) and the C matcher (Router.compile()).

Matching is tested through _core.Matcher.match, which calls the same jp_router_match the
server calls for every request. A property test holds the C matcher to a reference matcher
written here in plain Python from the documented rules.
"""

import functools
import gc
import sys
import tracemalloc
import weakref
from urllib.parse import quote_from_bytes, unquote_to_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import japronto
from japronto import Route, RouteNotFoundException, Router, _core

NOT_ALLOWED = "method_not_allowed"


def handler(request):
    return None


async def async_handler(request):
    return None


def compiled(*routes):
    """A matcher for routes given as (pattern, kwargs) pairs or bare patterns."""
    router = Router()
    for r in routes:
        pattern, kwargs = (r, {}) if isinstance(r, str) else r
        router.add_route(pattern, handler, **kwargs)
    return router, router.compile()


def found(matcher, method, path):
    """(pattern, match_dict) of the route matching, or the raw result when none does."""
    result = matcher.match(method, path)
    if result is None or result[0] == NOT_ALLOWED:
        return result
    route, match_dict, _ = result
    return route.pattern, match_dict


# --- the package -----------------------------------------------------------------------------


def test_exports():
    assert japronto.Router is Router
    assert japronto.Route is Route
    assert issubclass(japronto.RouteNotFoundException, Exception)
    assert {"Router", "Route", "RouteNotFoundException"} <= set(japronto.__all__)
    with pytest.raises(RouteNotFoundException):
        raise RouteNotFoundException("/nope")


# --- literal routes --------------------------------------------------------------------------


def test_literal_routes():
    _, m = compiled("/", "/a", "/a/b", "/abc")
    assert found(m, "GET", "/") == ("/", {})
    assert found(m, "GET", "/a") == ("/a", {})
    assert found(m, "GET", "/a/b") == ("/a/b", {})
    assert found(m, "GET", "/abc") == ("/abc", {})
    for path in ["/b", "/ab", "/a/b/c", "/a/bc", "//", "/A"]:
        assert m.match("GET", path) is None, path


def test_trailing_slash_is_a_different_route():
    _, m = compiled("/a", "/b/")
    assert found(m, "GET", "/a") == ("/a", {})
    assert m.match("GET", "/a/") is None
    assert found(m, "GET", "/b/") == ("/b/", {})
    assert m.match("GET", "/b") is None
    _, m = compiled("/{x}")
    assert m.match("GET", "/a/") is None
    _, m = compiled("/{x}/")
    assert found(m, "GET", "/a/") == ("/{x}/", {"x": "a"})
    assert m.match("GET", "/a") is None


def test_paths_that_are_not_absolute_match_nothing():
    _, m = compiled("/", "/{x}")
    for path in ["", "*", "a", "http://example.com/"]:
        assert m.match("GET", path) is None, path


def test_empty_router_matches_nothing():
    m = Router().compile()
    assert m.match("GET", "/") is None


def test_path_may_be_bytes_and_method_bytes():
    _, m = compiled(("/a/{x}", {"method": "GET"}))
    assert found(m, b"GET", b"/a/%C3%A9") == ("/a/{x}", {"x": "é"})
    assert found(m, "GET", "/a/é") == ("/a/{x}", {"x": "é"})  # str paths are UTF-8 encoded


# --- placeholders ----------------------------------------------------------------------------


def test_one_placeholder():
    _, m = compiled("/user/{id}")
    assert found(m, "GET", "/user/42") == ("/user/{id}", {"id": "42"})
    assert m.match("GET", "/user/") is None  # values are never empty
    assert m.match("GET", "/user") is None
    assert m.match("GET", "/user/42/x") is None  # never spans a '/'


def test_two_placeholders():
    _, m = compiled("/{a}/x/{b}")
    assert found(m, "GET", "/1/x/2") == ("/{a}/x/{b}", {"a": "1", "b": "2"})
    assert m.match("GET", "/1/y/2") is None
    assert m.match("GET", "//x/2") is None


@pytest.mark.parametrize("count", [15, 100])
def test_many_placeholders(count):
    # Japronto stopped at 10; there is no limit.
    pattern = "".join(f"/{{p{i}}}" for i in range(count))
    _, m = compiled(pattern)
    path = "".join(f"/v{i}" for i in range(count))
    assert found(m, "GET", path) == (pattern, {f"p{i}": f"v{i}" for i in range(count)})
    assert m.match("GET", path + "/extra") is None


def test_placeholder_after_a_literal_prefix():
    # As in Japronto: a placeholder may follow literal text in its segment.
    _, m = compiled("/user-{id}/x")
    assert found(m, "GET", "/user-42/x") == ("/user-{id}/x", {"id": "42"})
    assert found(m, "GET", "/user%2D7/x") == ("/user-{id}/x", {"id": "7"})
    assert m.match("GET", "/user-/x") is None  # the value is empty
    assert m.match("GET", "/use-42/x") is None


def test_match_dict_values_are_exact_str():
    _, m = compiled("/{a}")
    _, match_dict, _ = m.match("GET", "/x")
    assert type(match_dict) is dict
    assert type(match_dict["a"]) is str
    # A new dict every time: a handler may mutate its own.
    assert m.match("GET", "/x")[1] is not match_dict


# --- order -----------------------------------------------------------------------------------


def test_first_registered_wins():
    _, m = compiled("/{x}", "/about")
    assert found(m, "GET", "/about") == ("/{x}", {"x": "about"})
    _, m = compiled("/about", "/{x}")
    assert found(m, "GET", "/about") == ("/about", {})
    assert found(m, "GET", "/other") == ("/{x}", {"x": "other"})
    _, m = compiled("/{a}/{b}", "/{c}/{d}")
    assert found(m, "GET", "/1/2") == ("/{a}/{b}", {"a": "1", "b": "2"})


def test_first_registered_that_takes_the_method_wins():
    router = Router()
    first = router.add_route("/x", handler, method="GET")
    second = router.add_route("/x", handler, method="POST")
    third = router.add_route("/{y}", handler)
    m = router.compile()
    assert m.match("GET", "/x")[0] is first
    assert m.match("POST", "/x")[0] is second
    assert m.match("PUT", "/x")[0] is third
    assert m.match("GET", "/x%2F")[0] is third  # a segment holding '/' is never a literal one


def test_repeated_matches_give_the_same_answers_in_any_order():
    # The matcher remembers its last literal hit; no sequence of requests may change an answer.
    router = Router()
    get = router.add_route("/x", handler, method="GET")
    post = router.add_route("/x", handler, method="POST")
    only_get = router.add_route("/g", handler, method="GET")
    pattern = router.add_route("/{y}", handler)
    m = router.compile()
    expected = {
        ("GET", "/x"): get,
        ("POST", "/x"): post,
        ("HEAD", "/x"): get,
        ("PUT", "/x"): pattern,
        ("GET", "/g"): only_get,
        ("GET", "/x%2F"): pattern,
        ("GET", "/%78"): get,  # the decoded path is /x
        ("GETX", "/x"): pattern,
        ("GE", "/x"): pattern,
    }
    sequence = list(expected) * 3
    for i, (method, path) in enumerate(sequence + sequence[::-1]):
        assert m.match(method, path)[0] is expected[method, path], (i, method, path)
    assert m.match("POST", "/g")[0] is pattern  # /{y} takes any method
    # Without a catch-all, a method the route lacks stays a 405 right after a hit.
    router = Router()
    only_get = router.add_route("/g", handler, method="GET")
    m = router.compile()
    for _ in range(3):
        assert m.match("GET", "/g")[0] is only_get
        assert m.match("POST", "/g") == (NOT_ALLOWED, b"Allow: GET, HEAD\r\n")
        assert m.match("GET", "/g/") is None


# --- methods ---------------------------------------------------------------------------------


def test_methods_are_upper_cased_and_compared_exactly():
    router = Router()
    route = router.add_route("/a", handler, method="post")
    assert route.methods == ("POST",)
    m = router.compile()
    assert m.match("POST", "/a")[0] is route
    # Methods are case-sensitive on the wire: "post" is another method.
    assert m.match("post", "/a") == (NOT_ALLOWED, b"Allow: POST\r\n")


def test_no_method_means_any_method():
    router = Router()
    route = router.add_route("/a", handler)
    assert route.methods is None
    m = router.compile()
    for method in ["GET", "POST", "BREW", "get"]:
        assert m.match(method, "/a")[0] is route


def test_methods_collection():
    router = Router()
    route = router.add_route("/a", handler, methods=["get", "Post", "GET"])
    assert route.methods == ("GET", "POST")
    assert router.add_route("/b", handler, methods="put").methods == ("PUT",)
    assert router.add_route("/c", handler, methods=[]).methods is None  # as in Japronto
    assert router.add_route("/d", handler, methods=("X-CUSTOM",)).methods == ("X-CUSTOM",)


def test_method_not_allowed_lists_the_union():
    _, m = compiled(
        ("/a", {"method": "POST"}),
        ("/a", {"methods": ["PUT", "DELETE"]}),
        ("/{x}", {"methods": ["PATCH", "POST"]}),
        ("/b", {"method": "GET"}),
    )
    # Sorted, deduplicated, from every route matching the path (literal or not).
    assert m.match("GET", "/a") == (NOT_ALLOWED, b"Allow: DELETE, PATCH, POST, PUT\r\n")
    assert m.match("GET", "/%61") == (NOT_ALLOWED, b"Allow: DELETE, PATCH, POST, PUT\r\n")
    assert m.match("GET", "/zz") == (NOT_ALLOWED, b"Allow: PATCH, POST\r\n")
    assert m.match("PUT", "/b") == (NOT_ALLOWED, b"Allow: GET, HEAD, PATCH, POST\r\n")
    assert found(m, "POST", "/b") == ("/{x}", {"x": "b"})
    assert found(m, "PATCH", "/b") == ("/{x}", {"x": "b"})
    assert m.match("GET", "/zz/y") is None


def test_method_not_allowed_from_placeholder_routes_only():
    _, m = compiled(("/u/{id}", {"method": "GET"}), ("/{a}/{b}", {"method": "DELETE"}))
    assert m.match("POST", "/u/1") == (NOT_ALLOWED, b"Allow: DELETE, GET, HEAD\r\n")
    assert m.match("POST", "/v/1") == (NOT_ALLOWED, b"Allow: DELETE\r\n")
    # The same line again (it is interned in the matcher).
    assert m.match("PUT", "/u/2") == (NOT_ALLOWED, b"Allow: DELETE, GET, HEAD\r\n")


def test_head_is_answered_by_get_routes():
    router = Router()
    get = router.add_route("/a", handler, method="GET")
    assert get.methods == ("GET",)  # what was given
    m = router.compile()
    assert m.match("HEAD", "/a")[0] is get
    assert m.match("POST", "/a") == (NOT_ALLOWED, b"Allow: GET, HEAD\r\n")


def test_explicit_head_route_before_get_route_wins_for_head():
    router = Router()
    head = router.add_route("/a", handler, method="HEAD")
    get = router.add_route("/a", handler, method="GET")
    m = router.compile()
    assert m.match("HEAD", "/a")[0] is head
    assert m.match("GET", "/a")[0] is get
    # Registered after a GET route, a HEAD route is never reached (first registered wins).
    router = Router()
    get = router.add_route("/{x}", handler, method="GET")
    router.add_route("/{x}", handler, method="HEAD")
    assert router.compile().match("HEAD", "/a")[0] is get


def test_head_only_route_does_not_answer_get():
    _, m = compiled(("/a", {"method": "HEAD"}))
    assert m.match("GET", "/a") == (NOT_ALLOWED, b"Allow: HEAD\r\n")


# --- encoding --------------------------------------------------------------------------------


def test_encoded_slash_is_not_a_separator():
    _, m = compiled("/a/b", "/files/{name}", "/{x}/{y}")
    assert m.match("GET", "/a%2Fb") is None  # one segment; no one-segment route
    assert found(m, "GET", "/files/a%2Fb") == ("/files/{name}", {"name": "a/b"})
    assert found(m, "GET", "/files/a%2fb") == ("/files/{name}", {"name": "a/b"})
    assert found(m, "GET", "/a/b") == ("/a/b", {})


def test_literal_segments_compare_decoded():
    _, m = compiled("/café", "/a b", "/plus+", "/{{x}}")
    assert found(m, "GET", "/caf%C3%A9") == ("/café", {})
    assert found(m, "GET", "/caf%c3%a9") == ("/café", {})
    assert found(m, "GET", "/%63af%C3%A9") == ("/café", {})
    assert found(m, "GET", "/a%20b") == ("/a b", {})
    assert found(m, "GET", "/plus+") == ("/plus+", {})  # '+' is not a space in a path
    assert m.match("GET", "/plus%20") is None
    assert found(m, "GET", "/{x}") == ("/{{x}}", {})
    assert found(m, "GET", "/%7Bx%7D") == ("/{{x}}", {})


def test_pattern_text_is_not_decoded():
    _, m = compiled("/a%20b")
    assert m.match("GET", "/a%20b") is None
    assert found(m, "GET", "/a%2520b") == ("/a%20b", {})


def test_placeholder_values_are_decoded_utf8():
    _, m = compiled("/w/{word}")
    assert found(m, "GET", "/w/caf%C3%A9") == ("/w/{word}", {"word": "café"})
    assert found(m, "GET", "/w/%E2%82%AC%20x") == ("/w/{word}", {"word": "€ x"})
    assert found(m, "GET", "/w/%2541") == ("/w/{word}", {"word": "%41"})  # decoded once


def test_invalid_utf8_values_use_surrogateescape():
    _, m = compiled("/w/{word}")
    _, match_dict, _ = m.match("GET", "/w/a%FFb%C3")
    value = match_dict["word"]
    assert value == "a\udcffb\udcc3"
    assert value.encode("utf-8", "surrogateescape") == b"a\xffb\xc3"


def test_bad_escapes_are_kept_literally():
    _, m = compiled("/100%", "/w/{v}", "/%zz")
    assert found(m, "GET", "/100%") == ("/100%", {})
    assert found(m, "GET", "/100%25") == ("/100%", {})
    assert found(m, "GET", "/%zz") == ("/%zz", {})
    assert found(m, "GET", "/w/%4") == ("/w/{v}", {"v": "%4"})
    assert found(m, "GET", "/w/%%41%") == ("/w/{v}", {"v": "%A%"})


def test_long_and_deep_paths():
    # Beyond the matcher's stack buffers (1024 bytes, 32 segments): the heap paths.
    long_segment = "x" * 3000
    deep = "/".join(f"s{i}" for i in range(40))
    deep_pattern = "/".join(f"{{p{i}}}" for i in range(40))
    _, m = compiled("/" + long_segment, "/" + deep, "/w/{v}", "/" + deep_pattern + "/end")
    assert found(m, "GET", "/" + long_segment) == ("/" + long_segment, {})
    assert found(m, "GET", "/%78" + long_segment[1:]) == ("/" + long_segment, {})
    assert found(m, "GET", "/" + deep) == ("/" + deep, {})
    assert found(m, "GET", "/%73" + deep[1:]) == ("/" + deep, {})
    assert found(m, "GET", "/w/" + "%41" * 1000) == ("/w/{v}", {"v": "A" * 1000})
    path = "/" + "/".join(f"v%20{i}" for i in range(40)) + "/end"
    assert found(m, "GET", path) == (
        "/" + deep_pattern + "/end",
        {f"p{i}": f"v {i}" for i in range(40)},
    )
    assert m.match("GET", "/" + "/".join("x" for _ in range(1000))) is None


@pytest.mark.parametrize("prefix", ["", "p", "abcdefghi"])
def test_placeholder_values_of_every_length(prefix):
    # Values are scanned for the next '/' a word at a time: every length and alignment, with
    # '.' (one off '/') and a byte above 0x80 around the separator.
    _, m = compiled("/{x}", "/a/{x}/", "/a/{x}/b", "/" + prefix + "{y}/{z}")
    for n in range(1, 41):
        for fill in (".", "0", "\xe9", ".0"):
            value = (fill * n)[:n] if fill != "\xe9" else "\xe9" * n
            raw = value.encode("utf-8")
            assert found(m, "GET", b"/" + raw) == ("/{x}", {"x": value})
            assert found(m, "GET", b"/a/" + raw + b"/") == ("/a/{x}/", {"x": value})
            assert found(m, "GET", b"/a/" + raw + b"/b") == ("/a/{x}/b", {"x": value})
            path = b"/" + prefix.encode() + raw + b"/" + raw
            assert found(m, "GET", path) == ("/" + prefix + "{y}/{z}", {"y": value, "z": value})
            assert m.match("GET", b"/a/" + raw + b"/c/") is None


def test_same_placeholder_names_on_different_routes():
    # Names are interned, so every route's key is the one object a handler's constant is.
    _, m = compiled("/u/{id}", "/v/{id}/{slug}", "/w-{id}")
    for path, pattern, want in [
        ("/u/7", "/u/{id}", {"id": "7"}),
        ("/v/8/x", "/v/{id}/{slug}", {"id": "8", "slug": "x"}),
        ("/w-9", "/w-{id}", {"id": "9"}),
        ("/u/12345678901", "/u/{id}", {"id": "12345678901"}),
    ]:
        assert found(m, "GET", path) == (pattern, want)
        keys = list(m.match("GET", path)[1])
        assert keys[0] is sys.intern("id")


def test_long_and_deep_paths_against_short_patterns():
    # Routes with placeholders of at most 32 segments are matched on the raw path, unsplit:
    # paths deeper or longer than the stack buffers must be decided the same.
    _, m = compiled("/a/{x}", "/a/{x}/b", "/{p}/{q}/{r}", "/lit")
    assert m.match("GET", "/" + "/".join("x" for _ in range(1000))) is None
    assert m.match("GET", "/a/" + "/".join("x" for _ in range(40))) is None
    long_value = "v" * 3000
    assert found(m, "GET", "/a/" + long_value) == ("/a/{x}", {"x": long_value})
    assert found(m, "GET", "/a/" + long_value + "/b") == ("/a/{x}/b", {"x": long_value})
    assert found(m, "GET", "/a/" + long_value + "/c") == (
        "/{p}/{q}/{r}",
        {"p": "a", "q": long_value, "r": "c"},
    )
    assert m.match("GET", "/a/" + long_value + "/") is None
    assert m.match("GET", "/a//b") is None  # an empty value never matches
    assert found(m, "GET", "/lit") == ("/lit", {})


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "a",
        "{a}",
        "a/{b}",
        "/{a",
        "/a}",
        "/{a}}",
        "/{{a}",
        "/{a}/{b",
        "/{}",
        "/{a}/{a}",
        "/{a}/x/{a}",
        "/a{x}b",
        "/{x}b",
        "/{a}{b}",
        "/{a/b}",
        "/{a{b}}",
        "/\ud800",  # cannot be UTF-8, even with surrogateescape
    ],
)
def test_bad_patterns_raise_value_error(pattern):
    with pytest.raises(ValueError):
        Router().add_route(pattern, handler)


def test_pattern_must_be_str():
    with pytest.raises(TypeError):
        Router().add_route(b"/a", handler)


def test_handler_must_be_callable():
    with pytest.raises(TypeError):
        Router().add_route("/a", "not callable")
    with pytest.raises(TypeError):
        Router().add_route("/a", None)


@pytest.mark.parametrize("methods", [[""], ["GE T"], ["GET,POST"], ["G\u00e9T"], ["\r\nX"]])
def test_bad_methods_raise_value_error(methods):
    with pytest.raises(ValueError):
        Router().add_route("/a", handler, methods=methods)


def test_method_arguments_type_errors():
    with pytest.raises(TypeError):
        Router().add_route("/a", handler, method="GET", methods=["POST"])
    with pytest.raises(TypeError):
        Router().add_route("/a", handler, methods=[b"GET"])


def test_failed_add_route_adds_nothing():
    router = Router()
    with pytest.raises(ValueError):
        router.add_route("/{a", handler)
    assert len(router) == 0 and router.routes == ()


def test_good_patterns():
    router = Router()
    route = router.add_route("/{{a}}/{b}/c{{d}}-{e}", handler)
    assert route.pattern == "/{{a}}/{b}/c{{d}}-{e}"
    assert route.placeholders == ("b", "e")
    assert route.handler is handler
    m = router.compile()
    assert found(m, "GET", "/{a}/1/c{d}-2") == (route.pattern, {"b": "1", "e": "2"})
    assert "/{{a}}/{b}/c{{d}}-{e}" in repr(route)
    assert list(router) == [route] and router.routes == (route,)


# --- coroutine handlers ----------------------------------------------------------------------


class Handlers:
    async def method(self, request):
        return None

    def plain(self, request):
        return None


class AsyncCallable:
    async def __call__(self, request):
        return None


class PlainCallable:
    def __call__(self, request):
        return None


@pytest.mark.parametrize(
    "h, expected",
    [
        (handler, False),
        (async_handler, True),
        (functools.partial(async_handler), True),
        (functools.partial(functools.partial(async_handler)), True),
        (Handlers().method, True),
        (functools.partial(Handlers().method), True),
        (Handlers().plain, False),
        (AsyncCallable(), True),
        (PlainCallable(), False),
        (len, False),
        (dict, False),
        (lambda request: None, False),
    ],
)
def test_is_coroutine(h, expected):
    router = Router()
    route = router.add_route("/", h)
    result = router.compile().match("GET", "/")
    assert result[0] is route
    assert result[2] is expected


# --- the Matcher type ------------------------------------------------------------------------


def test_matcher_is_not_subclassable():
    with pytest.raises(TypeError):
        type("Sub", (_core.Matcher,), {})


@pytest.mark.parametrize(
    "spec, error",
    [
        (5, TypeError),
        ([("r", handler, False, None)], TypeError),
        ([["r", handler, False, None, ((b"", None),)]], TypeError),
        ([("r", "nope", False, None, ((b"", None),))], TypeError),
        ([("r", handler, False, (), ((b"", None),))], TypeError),
        ([("r", handler, False, ("GET",), ((b"", None),))], TypeError),
        ([("r", handler, False, (b"",), ((b"", None),))], TypeError),
        ([("r", handler, False, None, ())], TypeError),
        ([("r", handler, False, None, ((b"", b"x"),))], TypeError),
        ([("r", handler, False, None, (("", None),))], TypeError),
        ([("r", handler, False, None, ((b"a/b", None),))], ValueError),
        ([("r", handler, False, None, ((b"", "x"), (b"", "x")))], ValueError),
    ],
)
def test_matcher_rejects_bad_specs(spec, error):
    with pytest.raises(error):
        _core.Matcher(spec)


def test_matcher_match_argument_errors():
    _, m = compiled("/")
    with pytest.raises(TypeError):
        m.match("GET")
    with pytest.raises(TypeError):
        m.match(1, "/")
    with pytest.raises(TypeError):
        m.match("GET", None)
    with pytest.raises(UnicodeEncodeError):
        m.match("GET", "/\ud800")


def test_matching_does_not_leak_references():
    gc.collect()  # garbage from earlier tests may still hold references to the handlers
    router = Router()
    literal = router.add_route("/lit", handler, method="GET")
    placeholder = router.add_route("/u/{id}/{name}", async_handler, method="GET")
    before = [sys.getrefcount(o) for o in (literal, placeholder, handler, async_handler)]
    m = router.compile()
    compiled_counts = [sys.getrefcount(o) for o in (literal, placeholder, handler, async_handler)]
    paths = [
        ("GET", "/lit"),
        ("GET", "/l%69t"),
        ("HEAD", "/lit"),
        ("GET", "/u/1/x%20y"),
        ("GET", "/u/%FF/2"),
        ("POST", "/lit"),
        ("POST", "/u/1/2"),
        ("GET", "/nope"),
        ("GET", "/u/1%2F2"),
    ]
    for method, path in paths:  # warm up: interned Allow lines, cached UTF-8 of the args
        m.match(method, path)
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(10_000):
            for method, path in paths:
                m.match(method, path)
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 64 * 1024
    after = [sys.getrefcount(o) for o in (literal, placeholder, handler, async_handler)]
    assert after == compiled_counts
    del m
    gc.collect()
    assert [sys.getrefcount(o) for o in (literal, placeholder, handler, async_handler)] == before


def test_building_matchers_does_not_leak():
    # The tables are PyMem allocations that tracemalloc sees; so are failed builds' leftovers.
    router = Router()
    for i in range(20):
        router.add_route(f"/lit{i}", handler, methods=["GET", "POST"][: i % 3])
        router.add_route(f"/p{i}/{{a}}/{{b}}", async_handler, method="PUT")
    bad = [("r", handler, False, None, ((b"", "x"), (b"", "x")))]

    def churn():
        for _ in range(200):
            m = router.compile()
            m.match("DELETE", "/lit1")  # an Allow line interned by this matcher alone
            m.match("GET", "/p1/x/y")
            with pytest.raises(ValueError):
                _core.Matcher(bad)

    churn()  # warm up
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        churn()
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 8 * 1024  # one leaked table per build would be over 20 kB


def test_matcher_in_a_reference_cycle_is_collected():
    # app -> matcher -> handler -> app, as in a real application: the collector must see it.
    class App:
        pass

    def attach_router(app):
        def cyclic_handler(request):
            return app

        app.router = Router()
        app.router.add_route("/", cyclic_handler)
        app.matcher = app.router.compile()

    app = App()
    attach_router(app)
    alive = weakref.ref(app)
    del app
    gc.collect()
    assert alive() is None


# --- the property test: the C matcher agrees with a reference -------------------------------

# Literal text pieces for patterns, chosen so that routes collide and escapes matter.
LITERALS = ["", "a", "b", "ab", "é", "{", "}", "%", "%41", " ", "+"]
METHODS = ["GET", "POST", "PUT", "HEAD", "DELETE", "get"]


def escape_braces(text):
    return text.replace("{", "{{").replace("}", "}}")


@st.composite
def route_specs(draw):
    """(pattern, segments, methods); segments as (literal text, name or None)."""
    segments = []
    for i in range(draw(st.integers(1, 4))):
        text = draw(st.sampled_from(LITERALS))
        name = draw(st.one_of(st.none(), st.just(f"p{i}")))
        segments.append((text, name))
    pattern = "/" + "/".join(
        escape_braces(text) + ("" if name is None else "{" + name + "}") for text, name in segments
    )
    methods = draw(st.one_of(st.none(), st.lists(st.sampled_from(METHODS), max_size=3)))
    return pattern, segments, methods


def encode_segment(draw, data):
    """Bytes as they may appear in a request: each byte raw or %-escaped (either case)."""
    out = b""
    for byte in data:
        raw = bytes([byte])
        choice = draw(st.integers(0, 2)) if raw not in (b"%", b"/") else 1
        if choice == 0:
            out += raw
        elif choice == 1:
            out += b"%" + b"%02X" % byte
        else:
            out += b"%" + b"%02x" % byte
    return out


SEGMENT_PIECES = [b"", b"a", b"b", b"ab", b"%61", b"%C3%A9", b"\xc3\xa9", b"%2F", b"%FF", b"%"]
SEGMENT_PIECES += [b"%zz", b"{", b"%7D", b"%25", b"%2541", b"41", b" ", b"+", b"%20"]


@st.composite
def request_paths(draw, specs):
    """Either a random path, or one made to fit one of the routes."""
    if specs and draw(st.booleans()):
        _, segments, _ = draw(st.sampled_from(specs))
        parts = []
        for text, name in segments:
            data = text.encode("utf-8")
            if name is not None:
                # Values of a word or more too (the matcher checks them for ASCII a word at a
                # time), with a non-ASCII byte at the end or not.
                data += draw(
                    st.sampled_from(
                        [b"v", b"\xc3\xa9", b"/", b"\xff", b"", b"%", b"12345678", b"hello-world"]
                        + [b"hello-world\xc3\xa9", b"0123456\xff", b"long-" * 5]
                    )
                )
            parts.append(encode_segment(draw, data))
        if draw(st.integers(0, 9)) == 0:
            parts.append(b"")  # a trailing slash
        return b"/" + b"/".join(parts)
    count = draw(st.integers(1, 4))
    return b"/" + b"/".join(
        b"".join(draw(st.lists(st.sampled_from(SEGMENT_PIECES), max_size=3))) for _ in range(count)
    )


def reference_match(routes, specs, method, path):
    """The documented rules, plainly: split on raw '/', decode each segment, first route
    matching path and method wins, else the union of the path-matching routes' methods."""
    if not path.startswith(b"/"):
        return None
    segs = [unquote_to_bytes(s) for s in path[1:].split(b"/")]
    allowed = set()
    for route, (_, segments, spec_methods) in zip(routes, specs):
        if len(segments) != len(segs):
            continue
        values = {}
        for (text, name), seg in zip(segments, segs):
            data = text.encode("utf-8")
            if name is None:
                if seg != data:
                    break
            else:
                if not seg.startswith(data) or len(seg) == len(data):
                    break
                values[name] = seg[len(data) :].decode("utf-8", "surrogateescape")
        else:
            if not spec_methods:  # None or empty: any method
                return route, values
            methods = {m.upper() for m in spec_methods}
            if "GET" in methods:
                methods.add("HEAD")
            if method in methods:
                return route, values
            allowed |= methods
    if allowed:
        return NOT_ALLOWED, ("Allow: " + ", ".join(sorted(allowed)) + "\r\n").encode()
    return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), specs=st.lists(route_specs(), min_size=1, max_size=8))
def test_matcher_agrees_with_reference(data, specs):
    router = Router()
    routes = []
    for pattern, _, methods in specs:
        routes.append(router.add_route(pattern, handler, methods=methods))
    m = router.compile()
    for _ in range(8):
        path = data.draw(request_paths(specs))
        method = data.draw(st.sampled_from(METHODS + ["PATCH"]))
        want = reference_match(routes, specs, method, path)
        got = m.match(method, path)
        if want is None or want[0] == NOT_ALLOWED:
            assert got == want, (method, path)
        else:
            assert got is not None and got[0] is want[0] and got[1] == want[1], (method, path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paths=st.lists(
        st.lists(st.text(max_size=6).filter(lambda s: "/" not in s), min_size=1, max_size=4),
        min_size=1,
        max_size=10,
        unique_by=tuple,
    ),
    data=st.data(),
)
def test_literal_routes_match_themselves_however_encoded(paths, data):
    router = Router()
    routes = []
    for segments in paths:
        pattern = "/" + "/".join(escape_braces(s) for s in segments)
        try:
            encoded = [s.encode("utf-8", "surrogateescape") for s in segments]
        except UnicodeEncodeError:
            with pytest.raises(ValueError):  # such a pattern is refused
                router.add_route(pattern, handler)
            continue
        routes.append((encoded, router.add_route(pattern, handler)))
    m = router.compile()
    for encoded, _ in routes:
        raw = b"/" + b"/".join(quote_from_bytes(s, safe="").encode() for s in encoded)
        mixed = b"/" + b"/".join(encode_segment(data.draw, s) for s in encoded)
        for path in (raw, mixed):
            result = m.match("GET", path)
            # Distinct patterns may still be one path ("\udcc3\udca9" and "é" are both
            # b"\xc3\xa9" with surrogateescape): the first registered wins.
            first = next(r for enc, r in routes if enc == encoded)
            assert result is not None and result[0] is first and result[1] == {}, path


# --- the route decorator ----------------------------------------------------------------------


def test_route_decorator_registers_and_returns_the_function():
    app = japronto.Application()

    @app.route("/a/{x}", methods=["get", "post"])
    def a(request):
        return "a"

    @app.router.route("/b", method="put")
    async def b(request):
        return "b"

    assert a(None) == "a" and b.__name__ == "b"  # unchanged functions
    routes = app.router.routes
    assert [(r.pattern, r.handler, r.methods) for r in routes] == [
        ("/a/{x}", a, ("GET", "POST")),
        ("/b", b, ("PUT",)),
    ]
    matcher = app.router.compile()
    assert found(matcher, b"POST", b"/a/1") == ("/a/{x}", {"x": "1"})
    route, _, is_coroutine = matcher.match(b"PUT", b"/b")
    assert route.handler is b and is_coroutine is True


def test_route_decorator_rejects_mistakes_before_decorating():
    router = Router()
    with pytest.raises(ValueError, match="start with '/'"):
        router.route("nope")
    with pytest.raises(ValueError, match="duplicate placeholder"):
        router.route("/{a}/{a}")
    with pytest.raises(TypeError, match="method or methods"):
        router.route("/x", method="GET", methods=["POST"])
    with pytest.raises(ValueError, match="invalid HTTP method"):
        router.route("/x", methods=["GE T"])
    with pytest.raises(TypeError, match="callable"):
        router.route("/x")(42)
    assert len(router) == 0
