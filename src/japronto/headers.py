"""Request header fields: a read-only mapping that is case-insensitive and keeps repeats.

The C Request makes one ``Headers`` on first access to ``request.headers``, from the fields in
the order they were sent, with Title-Case names (``content-type`` becomes ``Content-Type``)
as Japronto gave them.

Looking a name up is case-insensitive. A field sent more than once is not lost: ``getall``
returns every value, and ``headers[name]`` gives them combined the way RFC 9110 section 5.3
allows, joined by ``", "`` (``"; "`` for ``Cookie``, whose values are joined that way).
"""

from collections.abc import Iterator, Mapping

__all__ = ["Headers"]

_MISSING = object()


class Headers(Mapping):
    __slots__ = ("_fields", "_index")

    def __init__(self, fields=()):
        self._fields = list(fields)  # [(Title-Case name, value)] in the order sent
        self._index = None  # {lower-case name: [values]} made on first lookup

    def _lookup(self):
        index = self._index
        if index is None:
            index = {}
            for name, value in self._fields:
                index.setdefault(name.lower(), []).append(value)
            self._index = index
        return index

    def __getitem__(self, name: str) -> str:
        if not isinstance(name, str):
            raise KeyError(name)
        key = name.lower()
        values = self._lookup().get(key)
        if values is None:
            raise KeyError(name)
        if len(values) == 1:
            return values[0]
        return ("; " if key == "cookie" else ", ").join(values)

    def getall(self, name: str, default=_MISSING) -> list:
        """Every value of the field, in the order sent."""
        values = self._lookup().get(name.lower())
        if values is None:
            if default is _MISSING:
                raise KeyError(name)
            return default
        return list(values)

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name.lower() in self._lookup()

    def __iter__(self) -> Iterator[str]:
        seen = set()
        for name, _ in self._fields:
            key = name.lower()
            if key not in seen:
                seen.add(key)
                yield name

    def __len__(self) -> int:
        return len(self._lookup())

    def raw(self) -> list:
        """The fields as sent: a list of (name, value) pairs, repeats included."""
        return list(self._fields)

    def __eq__(self, other):
        if isinstance(other, Headers):
            return self._fields == other._fields
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"
