"""Every git command goes through here."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mlops_actions.errors import GitError


def run(*args: str, cwd: str | Path | None = None, check: bool = True) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise GitError(f"git {' '.join(args)}: {detail[-1] if detail else 'failed'}")
    return proc.stdout.strip()


def head_sha(cwd: str | Path | None = None) -> str | None:
    try:
        return run("rev-parse", "HEAD", cwd=cwd)
    except GitError:
        return None


def is_dirty(cwd: str | Path | None = None) -> bool:
    try:
        return bool(run("status", "--porcelain", "--untracked-files=no", cwd=cwd))
    except GitError:
        return False
