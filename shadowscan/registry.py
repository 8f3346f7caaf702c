"""A plain name -> object registry, shared by parsers and sinks.

An unknown name is an error that lists the known ones, so a typo in ``--log-format``
tells the user what they could have typed.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Generic, TypeVar

from shadowscan.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps a stable name (used on the CLI, in files and in docs) to an object."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Class decorator: ``@PARSERS.register("squid")``."""

        def add(obj: T) -> T:
            if name in self._items:
                raise KeyError(f"{self.kind} {name!r} already registered")
            self._items[name] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items))
            raise UnknownNameError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        yield from sorted(self._items.items())

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)


def import_plugins(
    package: str, path: Iterable[str], skip: Collection[str], *, skip_private: bool = True
) -> None:
    """Import every module of ``package`` (each registers itself in its registry), except
    those in ``skip`` and, with ``skip_private``, ``_helper`` modules: adding a format is
    adding one file."""
    for module in pkgutil.iter_modules(path):
        if module.name in skip or (skip_private and module.name.startswith("_")):
            continue
        importlib.import_module(f"{package}.{module.name}")
