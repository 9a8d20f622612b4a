"""The Application: routes, error handlers, request extensions, and ``run()``.

This is the thin Python shell around the C engine. ``run()`` compiles the routes once into a
``_core.Matcher``, gathers what every connection needs into a ``_Server``, and lets the event
loop create one ``_core.Protocol`` per connection; from then on each request is parsed,
routed, dispatched and answered in C, and Python runs only the handlers (and, on the slow
paths, the error handling below).
"""

import asyncio
import functools
import inspect
import logging
import os
import sys
import time
import traceback

from . import _core
from .reaper import reaper_settings as _reaper_settings
from .router import RouteNotFoundException, Router

__all__ = ["Application"]

log = logging.getLogger("japronto")
access_log = logging.getLogger("japronto.access")

# Set by the command line while it imports the application's module: a module-level
# app.run() there must not start a second server (see Application.run).
_loading = False

_LOOPS = ("uvloop", "asyncio")


def _new_event_loop(name=None):
    """uvloop when installed (the default), else the stdlib loop. JAPRONTO_LOOP=asyncio or
    JAPRONTO_LOOP=uvloop chooses explicitly; asking for uvloop when it is missing is an error."""
    explicit = name or os.environ.get("JAPRONTO_LOOP")
    if explicit is not None and explicit not in _LOOPS:
        raise ValueError(f"JAPRONTO_LOOP must be one of {_LOOPS}, not {explicit!r}")
    if explicit in (None, "uvloop"):
        try:
            import uvloop
        except ImportError:
            if explicit == "uvloop":
                raise
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class _Server:
    """What every connection of one running server shares; read once per connection."""

    def __init__(self, app, loop, matcher):
        self.app = app
        self.loop = loop
        self.matcher = matcher
        self.request_class = _request_class(app._extensions)
        self.limits = (
            app._max_request_line,
            app._max_head_size,
            app._max_headers,
            app._max_body_size,
            app._max_chunk_line,
        )
        self.max_pipeline_depth = app._max_pipeline_depth
        self.connections = set()

    def handle_error(self, request, exc):
        return self.app._error_response(request, exc)

    def not_found(self, request):
        response = self.app._error_response(request, RouteNotFoundException(request.path))
        if self.app._log_request:
            _access(request, response, None)
        return response


def _response_size(result):
    body = getattr(result, "body", None)
    if body is not None:
        return len(body)
    text = getattr(result, "text", None)
    if text is not None:
        return len(text.encode(getattr(result, "encoding", None) or "utf-8", "replace"))
    return 0


def _loggable(text):
    """A client's text (the percent-decoded path) for a log line: as it is when every character
    is printable, else its repr. /a%0D%0A... decodes to a CR LF, which written raw would
    start a forged line of the log, and %1B[... to a terminal escape sequence."""
    return text if text.isprintable() else repr(text)


def _access(request, response, ms):
    """One access-log line: peer, method, path, status, body bytes, duration."""
    access_log.info(
        "%s %s %s %s %d %sms",
        request.remote_addr or "-",
        request.method,
        _loggable(request.path),
        getattr(response, "code", "-"),
        _response_size(response),
        "-" if ms is None else f"{ms:.2f}",
    )


def _request_logger(app):
    """A wrap(handler) for Router.compile: each request the handler answers is logged on the
    japronto.access logger with the status actually sent (debug, log_request, access_log).
    A failure is settled here, through the same app._error_response the server would call,
    so that its status is known and logged. Only an app with the access log on wraps its
    handlers, so with it off a request costs nothing more."""

    def log_one(request, result, start):
        ms = (time.perf_counter() - start) * 1000
        _access(request, result, ms)

    def settle(request, result):
        if isinstance(result, _core.Response):
            return result
        # The same words the server uses when no logging wrapper is in the way.
        exc = TypeError(
            f"a handler must return a Response (request.Response(...)), not {type(result).__name__}"
        )
        return app._error_response(request, exc)

    def wrap(handler):
        async def finish(request, awaitable, start):
            try:
                result = settle(request, await awaitable)
            except asyncio.CancelledError:
                # The task may be cancelled from outside (the client went away, shutdown):
                # it must end cancelled, so this is only noted; a 500, if the client is still
                # there, is made and logged by the server.
                log.info("%s %s cancelled", request.method, _loggable(request.path))
                raise
            except Exception as exc:
                result = app._error_response(request, exc)
            log_one(request, result, start)
            return result

        def logged(request):
            start = time.perf_counter()
            try:
                result = handler(request)
            except BaseException as exc:  # as the server does: any failure is a response
                result = app._error_response(request, exc)
            else:
                if inspect.isawaitable(result):
                    return finish(request, result, start)
                result = settle(request, result)
            log_one(request, result, start)
            return result

        return logged

    return wrap


def _request_class(extensions):
    """The Request type connections make: _core.Request itself, or, when the app extends the
    request, a subclass holding the extensions as ordinary methods and properties (empty
    __slots__ keep its layout identical, which the C side checks)."""
    if not extensions:
        return _core.Request
    namespace = {"__slots__": (), "__module__": __name__}
    for name, (fn, is_property) in extensions.items():
        namespace[name] = property(fn) if is_property else _as_method(fn)
    return type("Request", (_core.Request,), namespace)


def _as_method(fn):
    """fn as something that binds to the request like a method: functions already do;
    other callables (partials, builtins, objects with __call__) are wrapped."""
    if inspect.isfunction(fn):
        return fn

    @functools.wraps(fn)
    def method(request, *args, **kwargs):
        return fn(request, *args, **kwargs)

    return method


def _positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, not {value!r}")
    return value


class Application:
    """A japronto application.

    Limits (bytes unless noted) guard the server against oversized or abusive requests; each
    has a safe default and is answered with its status when exceeded: max_request_line (414),
    max_head_size and max_headers (a count) (431), max_body_size (413), max_chunk_line (400).
    max_pipeline_depth is how many requests of one connection may wait for their responses
    before the server stops reading from it. max_connections is per worker: a connection
    beyond it is answered 503 and closed. reaper_settings sets the timeouts (see reaper.py
    and docs/running.md).
    """

    def __init__(
        self,
        *,
        loop=None,
        reaper_settings=None,
        log_request=None,
        debug=False,
        max_pipeline_depth=64,
        max_request_line=_core.DEFAULT_MAX_REQUEST_LINE,
        max_head_size=_core.DEFAULT_MAX_HEAD_SIZE,
        max_headers=_core.DEFAULT_MAX_HEADERS,
        max_body_size=_core.DEFAULT_MAX_BODY_SIZE,
        max_chunk_line=_core.DEFAULT_MAX_CHUNK_LINE,
        max_connections=10000,
    ):
        self._loop = loop
        self._router = Router()
        self._error_handlers = []
        self._extensions = {}
        self._debug = bool(debug)
        self._log_request = debug if log_request is None else bool(log_request)
        self._reaper_settings = dict(reaper_settings or {})
        self._reaper = _reaper_settings(self._reaper_settings)
        self._max_connections = _positive_int("max_connections", max_connections)
        self._startup_hooks = []
        self._shutdown_hooks = []
        self._max_pipeline_depth = _positive_int("max_pipeline_depth", max_pipeline_depth)
        self._max_request_line = _positive_int("max_request_line", max_request_line)
        self._max_head_size = _positive_int("max_head_size", max_head_size)
        self._max_headers = _positive_int("max_headers", max_headers)
        self._max_body_size = _positive_int("max_body_size", max_body_size)
        self._max_chunk_line = _positive_int("max_chunk_line", max_chunk_line)
        self._server = None

    @property
    def router(self):
        return self._router

    @property
    def loop(self):
        """The event loop the app runs on: uvloop when installed, made on first use."""
        if self._loop is None:
            self._loop = _new_event_loop()
        return self._loop

    @property
    def debug(self):
        return self._debug

    def route(self, pattern, method=None, methods=None):
        """Decorator: ``@app.route('/path', methods=['GET', 'POST'])`` registers the function
        with app.router.add_route and returns it unchanged (Router.route does the work)."""
        return self._router.route(pattern, method=method, methods=methods)

    def add_error_handler(self, exc_type, handler):
        """handler(request, exc) -> Response for exceptions of exc_type raised by handlers.
        The first registered handler whose type matches wins; None matches everything."""
        if exc_type is not None and not (
            isinstance(exc_type, type) and issubclass(exc_type, BaseException)
        ):
            raise TypeError(f"exc_type must be an exception class or None, not {exc_type!r}")
        if not callable(handler):
            raise TypeError(f"handler must be callable, not {handler!r}")
        self._error_handlers.append((exc_type, handler))

    def extend_request(self, fn, *, name=None, property=False):
        """Adds request.<name or fn.__name__>: a method bound to the request, or, with
        property=True, an attribute whose value is fn(request), computed on each access."""
        if not callable(fn):
            raise TypeError(f"fn must be callable, not {fn!r}")
        name = name or getattr(fn, "__name__", None)
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{name!r} is not a valid attribute name; pass name=")
        if hasattr(_core.Request, name):
            raise ValueError(f"extend_request: {name!r} would hide a Request attribute")
        self._extensions[name] = (fn, bool(property))

    def on_startup(self, hook):
        """hook(app), a plain or async callable, runs in each worker before it serves (e.g. to
        open a database pool). A hook that fails stops the worker from starting. Returns hook,
        so it also works as a decorator."""
        if not callable(hook):
            raise TypeError(f"hook must be callable, not {hook!r}")
        self._startup_hooks.append(hook)
        return hook

    def on_shutdown(self, hook):
        """hook(app), a plain or async callable, runs in each worker after it stopped serving,
        once in-flight requests are done. Returns hook."""
        if not callable(hook):
            raise TypeError(f"hook must be callable, not {hook!r}")
        self._shutdown_hooks.append(hook)
        return hook

    # -- errors -------------------------------------------------------------------------

    def _error_response(self, request, exc):
        """The Response for an exception a handler raised (or a route not found). Never
        raises: whatever goes wrong here ends as a logged 500."""
        for exc_type, handler in self._error_handlers:
            if exc_type is None or isinstance(exc, exc_type):
                try:
                    response = handler(request, exc)
                    if inspect.isawaitable(response):
                        if inspect.iscoroutine(response):
                            response.close()  # never awaited: silence the warning
                        raise TypeError(
                            f"error handler {handler!r} is a coroutine function; "
                            "error handlers must return a Response directly"
                        )
                    if not isinstance(response, _core.Response):
                        raise TypeError(
                            f"error handler {handler!r} returned {type(response).__name__}, "
                            "not a Response (request.Response(...))"
                        )
                    return response
                except BaseException:  # CancelledError too: this must end as a response
                    log.exception("error handler %r failed while handling %r", handler, exc)
                    log.error(
                        "the original exception", exc_info=(type(exc), exc, exc.__traceback__)
                    )
                    return self._internal_error(request, exc)
                break
        if isinstance(exc, RouteNotFoundException):
            return request.Response(code=404, text="Not Found\n")
        log.error(
            "unhandled exception in handler for %s %s",
            request.method,
            _loggable(request.path),
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        return self._internal_error(request, exc)

    def _internal_error(self, request, exc):
        if self._debug:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        else:
            text = "Internal Server Error\n"
        return request.Response(code=500, text=text)

    # -- running --------------------------------------------------------------------------

    def _make_server(self, loop):
        wrap = _request_logger(self) if self._log_request else None
        return _Server(self, loop, self._router.compile(wrap))

    def run(
        self,
        host="0.0.0.0",
        port=8080,
        *,
        worker_num=None,
        reload=False,
        debug=False,
        unix_socket=None,
        sock=None,
        access_log=None,
        shutdown_timeout=None,
        backlog=None,
    ):
        """Serves until SIGTERM or SIGINT, then shuts down gracefully (see worker.py).

        worker_num=None or 1 serves in this process; N > 1 forks N workers under a master
        that replaces those that die. Listens on host:port (IPv4 or IPv6), on unix_socket
        (a path), or on sock (an already listening socket object or file descriptor).
        reload=True restarts the server when a Python file of the application changes.
        access_log=True logs each request on the japronto.access logger (debug turns it on).
        shutdown_timeout: seconds in-flight requests get after SIGTERM/SIGINT (default: the
        environment variable JAPRONTO_SHUTDOWN_TIMEOUT, else 30).
        Exits the process with status 1 when the server fails (workers that cannot start);
        returns after a graceful shutdown.
        """
        if _loading:
            log.info("app.run() called while the command line loads the app: ignored")
            return
        if debug:
            self._debug = True
            self._log_request = True
        if access_log is not None:
            self._log_request = bool(access_log)
        if worker_num is not None:
            _positive_int("worker_num", worker_num)
        if shutdown_timeout is None:
            shutdown_timeout = float(os.environ.get("JAPRONTO_SHUTDOWN_TIMEOUT", 30))
        if not isinstance(shutdown_timeout, (int, float)) or shutdown_timeout < 0:
            raise ValueError(f"shutdown_timeout must be a number >= 0, not {shutdown_timeout!r}")
        _configure_logging(self._debug)

        if reload:
            from .reloader import run_with_reloader

            status = run_with_reloader()
            if status is not None:
                sys.exit(status)
            # None: this is the reloader's child, which serves as usual.

        from .sockets import Listen

        listen = Listen(host, port, unix_socket=unix_socket, sock=sock, backlog=backlog)
        workers = worker_num or 1
        listen.open(per_worker=workers > 1)
        if workers == 1:
            from .worker import serve

            try:
                status = serve(self, listen, shutdown_timeout=shutdown_timeout)
            finally:
                listen.close()
        else:
            from .supervisor import supervise

            status = supervise(self, listen, workers, shutdown_timeout=shutdown_timeout)
        if status:
            sys.exit(status)


def _configure_logging(debug):
    """Start-up lines and errors go to stderr unless the application configured logging."""
    level = logging.DEBUG if debug else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
    )
