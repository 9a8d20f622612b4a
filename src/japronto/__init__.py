"""japronto: a screaming-fast asynchronous HTTP toolkit whose server is written in C.

The engine is the C extension ``japronto._core``; this package is the thin Python shell
around it: ``Application`` (app.py), the ``Router`` (router.py), the request ``Headers``
mapping (headers.py) and the parsing behind ``request.query``, ``.json``, ``.form`` ...
(request_helpers.py, with the ValueError subclasses those raise).
"""

from . import _core
from ._core import Request, Response
from .app import Application
from .headers import Headers
from .request_helpers import (
    BodyDecodeError,
    FormError,
    JSONBodyError,
    MultipartError,
    UploadedFile,
)
from .router import Route, RouteNotFoundException, Router


def __getattr__(name: str):
    """``__version__``, read from the installed distribution's metadata on first use.

    Lazily (PEP 562), because ``importlib.metadata`` and what it imports (email, zipfile,
    pathlib) took about half of ``import japronto``'s time, paid by every process that
    imports the package (a server, the child the reloader starts on each change; forked
    workers inherit the import), while almost nothing reads the version."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("japronto")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value


def __dir__():
    """The module's names, ``__version__`` included before its first read."""
    return sorted({*globals(), "__version__"})


__all__ = [
    "Application",
    "BodyDecodeError",
    "FormError",
    "Headers",
    "JSONBodyError",
    "MultipartError",
    "Request",
    "Response",
    "Route",
    "RouteNotFoundException",
    "Router",
    "UploadedFile",
    "__version__",
    "simd_path",
]


def simd_path() -> str:
    """The request parser's scan implementation in use: ``'avx2'`` or ``'scalar'``."""
    return _core.simd_path()
