"""The runner's step files while the user's code runs: out of its reach.

GitHub's runner reads the files named by GITHUB_ENV, GITHUB_PATH, GITHUB_OUTPUT, GITHUB_STATE
and GITHUB_STEP_SUMMARY when a step ends. Code that appends to GITHUB_ENV or GITHUB_PATH there
sets the environment, and so the programs, of every later step of the job — a step that may
hold a write token. So the training command and `dvc repro` see scratch files under those names,
and the real files are put back to what they held before, byte for byte, when the code is done
(in case it found them on its own, in the runner's temp directory). Whatever it wrote is
ignored and named in a warning. A process the code leaves running in the background after it
returns is beyond this: docs/security.md says so.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

from mlops_actions import output

STEP_FILES = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY")


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _restore(path: str, content: bytes | None) -> None:
    if content is None:
        Path(path).unlink(missing_ok=True)
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, content)
    finally:
        os.close(fd)


@contextmanager
def scratch(env: MutableMapping[str, str], label: str) -> Iterator[None]:
    """Point `env`'s step files at empty scratch files for the block; afterwards the real ones
    hold exactly what they held before, and a warning names each file the code changed."""
    real = {name: env[name] for name in STEP_FILES if env.get(name)}
    before = {name: _read(path) for name, path in real.items()}
    changed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mlops-step-files-") as tmp:
        for name in real:  # outside Actions there are none, and nothing to hide
            env[name] = str(Path(tmp) / name.lower())
            Path(env[name]).touch()
        try:
            yield
        finally:
            for name in real:
                written = Path(env[name])
                if written.is_file() and written.stat().st_size:
                    changed.append(name)
            for name, path in real.items():
                if _read(path) != before[name]:
                    try:
                        _restore(path, before[name])
                    except OSError as exc:
                        output.warning(f"{name}={path}: cannot put it back ({exc.strerror})")
                    if name not in changed:
                        changed.append(name)
            if changed:
                output.warning(
                    f"{label} wrote to {', '.join(changed)}; ignored: code that training runs "
                    "cannot set the environment, PATH, outputs or summary of this job's steps "
                    "(docs/security.md)"
                )
