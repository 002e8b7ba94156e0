"""Every git command goes through here."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, NamedTuple

from mlops_actions.errors import GitError


def run(
    *args: str,
    cwd: str | Path | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> str:
    """git ARGS; its stdout. `env` adds variables (e.g. GIT_COMMITTER_DATE) to the environment."""
    proc = result(*args, cwd=cwd, env=env)
    if check and proc.returncode != 0:
        raise GitError(failure(args, cwd, proc.stderr or proc.stdout))
    return proc.stdout.strip()


def failure(args: Sequence[str], cwd: str | Path | None, text: str) -> str:
    """What a failed git command means, in one line: the usual problems of a checkout said
    with what to do, anything else as the command (long arguments cut) and git's verdict."""
    where = Path(cwd or ".").resolve()
    lowered = text.lower()
    if "not a git repository" in lowered:
        return (
            f"{where}: not a git repository: run inside your project's clone "
            "(or `git init` a new project)"
        )
    if "dubious ownership" in lowered:
        return (
            f"{where}: git refuses a repository another user owns; trust it with "
            f"`git config --global --add safe.directory {where}`"
        )
    if "does not have any commits yet" in lowered or "ambiguous argument 'head'" in lowered:
        return f"{where}: the repository has no commit yet; commit your project first"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    # git's own verdict, not the hints and usage lines after it.
    verdicts = [line for line in lines if line.startswith(("fatal: ", "error: "))]
    said = (verdicts or lines or ["failed"])[-1].removeprefix("fatal: ").removeprefix("error: ")
    return f"git {' '.join(_shown(a) for a in args)}: {said}"


def _shown(arg: str) -> str:
    """An argument as a one-line message shows it: a long option's value (a --format) is cut,
    a long or multi-line value (a tag message) ends in '…'."""
    if "\n" in arg:
        return _shown(arg.split("\n", 1)[0][:39] + "…")
    if len(arg) <= 40:
        return arg
    if arg.startswith("--") and "=" in arg:
        return arg.split("=", 1)[0] + "=…"
    return arg[:39] + "…"


def result(
    *args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """git ARGS, unchecked: its exit code, stdout and stderr (e.g. a remote's `remote:` lines)."""
    full_env = {**os.environ, **env} if env else None
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=full_env
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None


def remote_result(*args: str, cwd: str | Path | None = None) -> subprocess.CompletedProcess[str]:
    """git ARGS that talk to a remote, unchecked: they fail rather than prompt for credentials."""
    return result(*args, cwd=cwd, env={"GIT_TERMINAL_PROMPT": "0"})


def require_repository(cwd: str | Path | None = None) -> None:
    """A GitError saying what to do unless `cwd` is inside a git work tree."""
    run("rev-parse", "--git-dir", cwd=cwd)


def commit_sha(ref: str, cwd: str | Path | None = None) -> str | None:
    """The commit `ref` names here (a branch, tag, sha or FETCH_HEAD), or None."""
    sha = run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=cwd, check=False)
    return sha or None


_STOPPED = "git cat-file --batch stopped unexpectedly; is this a git repository?"


class GitObject(NamedTuple):
    """One object `git cat-file --batch` printed: its type ("blob", "tree", ...) and content."""

    type: str
    data: bytes


class CatFile:
    """One `git cat-file --batch` process that answers every `<rev>:<path>` spec of a reader.

    Started on the first `read`; `close` (or leaving a `with` block) ends it.
    """

    def __init__(self, cwd: str | Path | None = None) -> None:
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> CatFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def read(self, specs: Sequence[str]) -> list[GitObject | None]:
        """The object each spec names, in order; None for one git reports missing."""
        if not specs:
            return []
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    ["git", "cat-file", "--batch"],
                    cwd=self.cwd,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except FileNotFoundError:
                raise GitError("git is not installed or not on PATH") from None
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write("".join(f"{spec}\n" for spec in specs).encode())
            stdin.flush()
        except BrokenPipeError:  # git exited, e.g. outside a repository
            raise GitError(_STOPPED) from None
        return [self._one(stdout) for _ in specs]

    @staticmethod
    def _one(stdout: IO[bytes]) -> GitObject | None:
        header = stdout.readline().split()
        if not header:
            raise GitError(_STOPPED)
        if header[-1] in (b"missing", b"ambiguous"):  # "<spec> missing"; a spec may have spaces
            return None
        data = stdout.read(int(header[2]))
        stdout.read(1)
        return GitObject(header[1].decode(), data)

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
            self._proc.wait()
            self._proc.stdout.close()
            self._proc = None


def head_sha(cwd: str | Path | None = None) -> str | None:
    try:
        return run("rev-parse", "HEAD", cwd=cwd)
    except GitError:
        return None


def create_annotated_tag(
    name: str,
    commit: str,
    message: str,
    *,
    cwd: str | Path | None,
    identity: tuple[str, str] | None = None,
    date: str | None = None,
) -> None:
    """`git tag -a NAME COMMIT` with `message` kept byte for byte (no comment stripping).

    `identity` (user.name, user.email) is the tagger when given; `date` is the tagger date
    (GIT_COMMITTER_DATE), e.g. to mirror a tag published elsewhere with its own date.
    """
    config = (
        ["-c", f"user.name={identity[0]}", "-c", f"user.email={identity[1]}"] if identity else []
    )
    env = {"GIT_COMMITTER_DATE": date} if date else None
    run(*config, "tag", "-a", "--cleanup=verbatim", "-m", message, name, commit, cwd=cwd, env=env)


def is_dirty(cwd: str | Path | None = None) -> bool:
    try:
        return bool(run("status", "--porcelain", "--untracked-files=no", cwd=cwd))
    except GitError:
        return False


def auth_env(token: str | None, server_url: str) -> dict[str, str]:
    """Environment that lets one git command authenticate to `server_url` with `token`.

    Passed through GIT_CONFIG_* variables: nothing is written to .git/config and the token is
    not on the command line.
    """
    if not token:
        return {}
    import base64

    from mlops_actions import output

    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    output.add_secret(basic)
    key = f"http.{server_url.rstrip('/')}/.extraheader"
    # An empty value first resets the list, so a header actions/checkout persisted is not sent
    # as a second Authorization (GitHub answers 400 to that).
    return {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": key,
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": key,
        "GIT_CONFIG_VALUE_1": f"AUTHORIZATION: basic {basic}",
        "GIT_TERMINAL_PROMPT": "0",
    }
