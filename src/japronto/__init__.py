"""japronto: a screaming-fast asynchronous HTTP toolkit whose server is written in C.

The engine is the C extension ``japronto._core``; this package is the thin Python shell
around it: ``Application`` (app.py), the ``Router`` (router.py), the request ``Headers``
mapping (headers.py) and the parsing behind ``request.query``, ``.json``, ``.form`` ...
(request_helpers.py, with the ValueError subclasses those raise).
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

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

try:
    __version__ = _version("japronto")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

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
