"""A read-through cache of bounded size for values that never change (an index generation's records,
terms, per-passage analyses, embeddings of a text): emptied at once when full, safe to share between
threads (read with `get` only, so a concurrent clear costs a recomputation, never a wrong answer)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Generic, TypeVar, cast

K = TypeVar("K")
V = TypeVar("V")
_ABSENT = object()  # remembered for a key `compute` had no value for
_UNCACHED = object()


class BoundedCache(Generic[K, V]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._values: dict[K, object] = {}

    def __len__(self) -> int:
        return len(self._values)

    def lookup(
        self, keys: Iterable[K], compute: Callable[[list[K]], Mapping[K, V]], limit: int | None = None
    ) -> dict[K, V]:
        """The values of `keys` (each once, in order): remembered ones, the others from one call of
        `compute(missing keys)`; a key it leaves out has no value (and is remembered so). More keys
        computed at once than the limit (`limit`, else the cache's) are returned but not remembered."""
        bound = self.limit if limit is None else limit
        values = self._values
        found: dict[K, V] = {}
        missing: list[K] = []
        for key in dict.fromkeys(keys):
            known = values.get(key, _UNCACHED)
            if known is _UNCACHED:
                missing.append(key)
            elif known is not _ABSENT:
                found[key] = cast(V, known)
        if missing:
            computed = compute(missing)
            if len(missing) <= bound:
                if len(values) + len(missing) > bound:
                    values.clear()
                for key in missing:
                    values[key] = computed.get(key, _ABSENT)
            found.update(computed)
        return found
