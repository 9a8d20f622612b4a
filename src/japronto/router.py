"""The router: URL patterns with ``{name}`` placeholders, compiled once into the C matcher.

``Router.add_route`` validates a pattern completely, so that a mistake is a ``ValueError`` at
start-up, never a surprise at request time; ``Router.compile`` turns the routes into a
``japronto._core.Matcher``, which the server consults in C for every request.

Pattern rules (the decisions are recorded here because users meet them):

- A pattern starts with ``/`` and is literal text except for ``{name}`` placeholders; ``{{``
  and ``}}`` are literal braces. A lone ``{`` or ``}``, an empty name, or the same name twice
  is a ``ValueError``.
- A placeholder matches one non-empty path segment, up to the next ``/``. It may follow a
  literal prefix in its segment (``/user-{id}`` matches ``/user-42`` with ``id='42'``), as
  Japronto allowed, but it must end its segment: ``/a{x}b`` and ``/{a}{b}`` are a ``ValueError``,
  as they were in Japronto, because where the value ends would be ambiguous.
- Matching is on the raw path split at ``/``: an encoded ``%2F`` is part of its segment, never a
  separator. Literal text compares with the percent-decoded segment, so ``/café`` matches
  ``/caf%C3%A9``; pattern text itself is not decoded (``/a%20b`` matches a request for
  ``/a%2520b``). A ``%`` not followed by two hex digits is kept literally.
- Placeholder values are the decoded segment as ``str``; bytes that are not UTF-8 (``%FF``) are
  decoded with ``surrogateescape``, so they still match and ``value.encode('utf-8',
  'surrogateescape')`` gives the exact bytes back.
- ``/a`` and ``/a/`` are different routes: the trailing slash is an empty last segment, which
  only a literal (empty) segment matches. Add both routes, or redirect, to accept both.
- Methods are upper-cased at ``add_route`` and compared exactly (``get`` on the wire is not
  ``GET``). No method means any method. A route that allows ``GET`` also answers ``HEAD``
  (the server sends no body), as Starlette and aiohttp do; ``Route.methods`` still shows what
  was given, and ``Allow`` lines list ``HEAD`` too.
- The first registered route whose path and method match wins. If routes match the path but
  none the method, the server answers 405 with an ``Allow`` header listing all their methods;
  if no route matches the path, ``RouteNotFoundException`` (404 by default).
"""

import functools
import inspect
import sys

__all__ = ["Route", "RouteNotFoundException", "Router"]

# RFC 9110 tchar: what a method may contain.
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class RouteNotFoundException(Exception):
    """No route matches the request's path. The server answers 404 unless an error handler
    registered for this type (``app.add_error_handler``) answers otherwise."""


def _parse_segment(pattern, text):
    """One '/'-separated piece of a pattern -> (literal prefix, placeholder name or None)."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "{":
            if text.startswith("{{", i):
                out.append("{")
                i += 2
                continue
            end = text.find("}", i + 1)
            if end < 0:
                raise ValueError(f"unbalanced '{{' in pattern {pattern!r}")
            name = text[i + 1 : end]
            if not name:
                raise ValueError(f"empty placeholder name in pattern {pattern!r}")
            if "{" in name:
                raise ValueError(f"unbalanced '{{' in pattern {pattern!r}")
            if end + 1 != len(text):
                raise ValueError(
                    f"placeholder {{{name}}} must end its path segment (be followed by '/' or "
                    f"the end of the pattern) in {pattern!r}"
                )
            # Interned: the handler's m["name"] (a constant, interned by the compiler) then
            # finds the key of match_dict by identity, without comparing the characters.
            return "".join(out), sys.intern(name)
        if c == "}":
            if text.startswith("}}", i):
                out.append("}")
                i += 2
                continue
            raise ValueError(f"unbalanced '}}' in pattern {pattern!r}")
        out.append(c)
        i += 1
    return "".join(out), None


def _parse_pattern(pattern):
    """A pattern -> list of (text, name or None), one per segment after the leading '/'."""
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be str, not {type(pattern).__name__}")
    if not pattern.startswith("/"):
        raise ValueError(f"pattern must start with '/': {pattern!r}")
    segments = [_parse_segment(pattern, text) for text in pattern[1:].split("/")]
    seen = set()
    for _, name in segments:
        if name is None:
            continue
        if name in seen:
            raise ValueError(f"duplicate placeholder {{{name}}} in pattern {pattern!r}")
        seen.add(name)
    return segments


def _normalise_methods(method, methods):
    """method / methods as add_route takes them -> tuple of distinct upper-case str, or None."""
    if method is not None and methods is not None:
        raise TypeError("give method or methods, not both")
    if method is not None:
        methods = (method,)
    elif isinstance(methods, str):
        methods = (methods,)
    if methods is None:
        return None
    result = []
    for m in methods:
        if not isinstance(m, str):
            raise TypeError(f"a method must be str, not {type(m).__name__}")
        if not m or not _TCHAR.issuperset(m):
            raise ValueError(f"invalid HTTP method {m!r}")
        m = m.upper()
        if m not in result:
            result.append(m)
    # An empty collection means no restriction, as in Japronto.
    return tuple(result) or None


def _is_coroutine_handler(handler):
    """Whether calling handler gives a coroutine, as far as can be known without calling it:
    ``async def`` functions, also behind functools.partial and bound methods, and objects
    whose class has an ``async def __call__``."""
    target = handler
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.iscoroutinefunction(target):
        return True
    if inspect.ismethod(target):
        target = target.__func__
        if inspect.iscoroutinefunction(target):
            return True
    if inspect.isfunction(target) or inspect.isbuiltin(target) or isinstance(target, type):
        return False
    # Looked up statically on the class, as the call itself does, and without running
    # descriptors or __getattr__.
    return inspect.iscoroutinefunction(inspect.getattr_static(type(target), "__call__", None))


class Route:
    """One registered route: ``pattern``, ``handler`` and ``methods`` (a tuple of upper-case
    method names, or None for any method), as given to ``Router.add_route``."""

    __slots__ = ("pattern", "handler", "methods", "placeholders", "_segments")

    def __init__(self, pattern, handler, methods=None):
        segments = _parse_pattern(pattern)
        if not callable(handler):
            raise TypeError(f"handler must be callable, not {type(handler).__name__}")
        encoded = []
        for text, name in segments:
            try:
                data = text.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError as exc:
                raise ValueError(f"pattern {pattern!r} cannot be encoded as UTF-8") from exc
            encoded.append((data, name))
        self.pattern = pattern
        self.handler = handler
        self.methods = _normalise_methods(None, methods)
        #: The placeholder names, in order.
        self.placeholders = tuple(name for _, name in segments if name is not None)
        self._segments = tuple(encoded)

    def __repr__(self):
        methods = " ".join(self.methods) if self.methods else "any method"
        return f"<Route {self.pattern!r} {methods} -> {self.handler!r}>"

    def _compile(self, wrap=None):
        """The tuple _core.Matcher takes for this route; wrap(handler), if given, replaces the
        handler that is called (the route still reports the original)."""
        methods = None
        if self.methods is not None:
            wire = [m.encode("ascii") for m in self.methods]
            if b"GET" in wire and b"HEAD" not in wire:
                wire.append(b"HEAD")
            methods = tuple(wire)
        handler = self.handler if wrap is None else wrap(self.handler)
        return (self, handler, _is_coroutine_handler(self.handler), methods, self._segments)


class Router:
    """The application's routes, in registration order; the first that matches wins."""

    def __init__(self):
        self._routes = []

    @property
    def routes(self):
        """The registered routes, in registration order (a tuple: use add_route to add)."""
        return tuple(self._routes)

    def add_route(self, pattern, handler, method=None, methods=None):
        """Registers handler for pattern and returns its Route.

        method is one method name, methods a collection of them (not both); neither means any
        method. Raises ValueError for a malformed pattern or method, TypeError for a handler
        that is not callable.
        """
        route = Route(pattern, handler, _normalise_methods(method, methods))
        self._routes.append(route)
        return route

    def route(self, pattern, method=None, methods=None):
        """A decorator form of add_route: ``@router.route('/users/{id}', methods=['GET'])``
        registers the function it decorates and gives it back unchanged, so the same function
        can be decorated more than once (one route each) and still be called directly."""
        # Checked now, not when the decorator is applied, so that a mistake is reported at the
        # line that made it, and before the function body is even read.
        _parse_pattern(pattern)
        _normalise_methods(method, methods)

        def register(handler):
            self.add_route(pattern, handler, method=method, methods=methods)
            return handler

        return register

    def compile(self, wrap=None):
        """The C matcher for the routes registered so far (the app calls this once, when it
        starts; routes added later need a new compile). wrap(handler), if given, is called
        once per route and returns the callable the server calls instead (debug logging)."""
        from . import _core

        return _core.Matcher([route._compile(wrap) for route in self._routes])

    def __len__(self):
        return len(self._routes)

    def __iter__(self):
        return iter(tuple(self._routes))
