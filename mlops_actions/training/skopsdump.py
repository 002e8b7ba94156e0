"""skops' writer without its reader's trust lists, for a process that only writes one model.

Importing `skops.io` builds the lists of types a *load* trusts by default: it imports every
scikit-learn estimator module and looks up the module of every numpy and scipy ufunc, 0.45 s
and 15 MB after scikit-learn, when writing a model takes a few milliseconds. Writing never
reads those lists (they are the defaults of the loading nodes), so the saver's forked child
imports `skops.io` with `skops.io._trusted_types` standing in as a module whose every
constant is `_Unread`: using one raises `TrustListRead` (iterating, testing, comparing,
hashing, printing, reading an attribute). Should a skops release use them while writing, ask
that module for anything else, or fail in any other way while the stand-in is loaded, the
real module is imported and the model is written again by it.

Only for a process that exits after writing (the saver child): a process that may load
models later must import `skops.io` as it is.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any, NoReturn

_TRUST_LISTS = "skops.io._trusted_types"


class TrustListRead(Exception):
    """skops used a trusted-type list while writing."""


class _Unread:
    """Stands for one of skops' trusted-type lists: using it raises TrustListRead."""

    def _read(self, *args: object) -> NoReturn:
        raise TrustListRead("skops read its trusted-type lists while writing")

    __iter__ = __len__ = __contains__ = __getitem__ = __bool__ = __getattr__ = _read
    __add__ = __radd__ = __mul__ = __rmul__ = __or__ = __ror__ = _read
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _read
    __repr__ = __str__ = __format__ = __reduce_ex__ = _read


class _Unbuilt(types.ModuleType):
    """`skops.io._trusted_types` with its constants (upper-case names) not built; any other
    name is missing, which fails the import and brings the real module in."""

    def __getattr__(self, name: str) -> _Unread:
        if name.startswith("__") or not name.strip("_").replace("_", "").isupper():
            raise AttributeError(name)
        return _Unread()


def _forget() -> None:
    """Drop `skops.io` and its submodules, so the next import runs the real ones."""
    for name in [n for n in sys.modules if n == "skops.io" or n.startswith("skops.io.")]:
        del sys.modules[name]


def writer(fast: bool = True) -> Any:
    """`skops.io`; with `fast`, imported without its trust lists unless it is already loaded."""
    if fast and "skops.io" not in sys.modules:
        sys.modules[_TRUST_LISTS] = _Unbuilt(_TRUST_LISTS)
        try:
            return importlib.import_module("skops.io")
        except Exception:
            _forget()
    return importlib.import_module("skops.io")


def dump(model: object, target: Path) -> None:
    """`skops.io.dump(model, target)`, without building the trust lists when it can; a second
    try, with the real module, writes `target` anew."""
    try:
        writer().dump(model, target)
    except Exception:
        if not isinstance(sys.modules.get(_TRUST_LISTS), _Unbuilt):
            raise  # the real module failed: its error is the answer
        _forget()  # the stand-in's doing, or skops' own failure: the real module decides
        writer(fast=False).dump(model, target)
