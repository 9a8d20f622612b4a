from collections.abc import Callable, Iterable
from typing import Any, Literal

DEFAULT_MAX_REQUEST_LINE: int
DEFAULT_MAX_HEAD_SIZE: int
DEFAULT_MAX_HEADERS: int
DEFAULT_MAX_BODY_SIZE: int
DEFAULT_MAX_CHUNK_LINE: int

def simd_path() -> str: ...

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
