"""Small file helpers: atomic writes and content hashes."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it over `path` only if the block succeeds."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where a directory is needed: say so, not "File exists"
        raise NotADirectoryError(
            errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(target.parent)
        ) from None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a written file follows the umask
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A JSON object from a file; {} when the file is missing, unreadable or not an object."""
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def file_hash(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def close_names(word: str, choices: list[str] | set[str], n: int = 3) -> list[str]:
    """The choices closest to `word`, closest first; a difference of case alone is closest."""
    import difflib

    same_case = [c for c in sorted(choices) if c.lower() == word.lower() and c != word]
    lowered: dict[str, list[str]] = {}
    for choice in sorted(choices):
        lowered.setdefault(choice.lower(), []).append(choice)
    close = difflib.get_close_matches(word.lower(), sorted(lowered), n=n, cutoff=0.6)
    found = same_case + [c for key in close for c in lowered[key] if c not in same_case]
    return [c for c in found if c != word][:n]


def did_you_mean(word: str, choices: list[str] | set[str]) -> str:
    close = close_names(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
