from collections.abc import Callable, Iterable, Mapping
from http.cookies import Morsel
from typing import Any, Literal, final, overload

DEFAULT_MAX_REQUEST_LINE: int
DEFAULT_MAX_HEAD_SIZE: int
DEFAULT_MAX_HEADERS: int
DEFAULT_MAX_BODY_SIZE: int
DEFAULT_MAX_CHUNK_LINE: int

def simd_path() -> str: ...
def _live_counts() -> dict[str, int]: ...
def _json_decode_for_tests(data: bytes) -> Any: ...  # tests only; Ellipsis: gave up

_HeaderValue = str | bytes | int
_Headers = Mapping[str | bytes, _HeaderValue] | Iterable[tuple[str | bytes, _HeaderValue]]

@final
class Response:
    """An HTTP response, validated and formatted when it is made (read-only)."""

    def __new__(
        cls,
        text: str | None = None,
        code: int | None = None,
        body: bytes | bytearray | memoryview | None = None,
        json: Any = None,
        mime_type: str | None = None,
        encoding: str | None = None,
        headers: _Headers | None = None,
        cookies: Mapping[str, Morsel[Any]] | None = None,
    ) -> Response: ...
    @property
    def code(self) -> int: ...
    @property
    def mime_type(self) -> str | None: ...
    @property
    def encoding(self) -> str: ...
    @property
    def body(self) -> bytes | None: ...
    @property
    def text(self) -> str | None: ...
    @property
    def headers(self) -> _Headers | None: ...
    @property
    def cookies(self) -> Mapping[str, Morsel[Any]] | None: ...

# Private test hooks of the serialiser (with a Date line for the current second).
@overload
def _serialize(
    response: Response,
    version_minor: int = 1,
    keep_alive: bool = True,
    head: bool = False,
    *,
    return_closes: Literal[False] = False,
) -> bytes: ...
@overload
def _serialize(
    response: Response,
    version_minor: int = 1,
    keep_alive: bool = True,
    head: bool = False,
    *,
    return_closes: Literal[True],
) -> tuple[bytes, bool]: ...
def _serialize_simple(
    status: int,
    body: bytes,
    extra: bytes = b"",
    version_minor: int = 1,
    keep_alive: bool = True,
    head: bool = False,
) -> bytes: ...

class Matcher:
    """The compiled route table; made by ``japronto.Router.compile()``.

    routes: in registration order, ``(route, handler, is_coroutine, methods, segments)``;
    methods is None (any method) or a non-empty tuple of bytes compared exactly; segments has
    one ``(text, name)`` per '/'-separated piece of the pattern after its leading '/': a literal
    segment when name is None, else a placeholder matching the non-empty rest of the segment
    after the literal prefix text. Not subclassable.
    """

    def __init__(
        self,
        routes: Iterable[
            tuple[
                object,
                Callable[..., Any],
                bool,
                tuple[bytes, ...] | None,
                tuple[tuple[bytes, str | None], ...],
            ]
        ],
    ) -> None: ...
    def match(
        self, method: str | bytes, path: str | bytes
    ) -> tuple[object, dict[str, str], bool] | tuple[Literal["method_not_allowed"], bytes] | None:
        """Matches as the server does (path raw, percent-encoded, without the query).

        ``(route, match_dict, is_coroutine)`` when a route matches (match_dict is ``{}`` for a
        route without placeholders); ``None`` when no route matches the path;
        ``("method_not_allowed", b"Allow: GET, HEAD\\r\\n")`` when routes match the path but
        none the method.
        """
