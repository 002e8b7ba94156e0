"""Builds a GTO registry with real `gto` commands and reads it back with `gto show`/`gto history`,
all in one process (gto's own CLI, called in-process: 1 s of imports instead of 1 s per call).

    python tests/gto_driver.py REPO < steps.json > results.json

Steps (JSON list), each at second `t` after 1_700_000_000 (git tags hold whole seconds):
- ["commit", t, message, {path: text}]: write the files, commit them (or an empty commit);
- ["gto", t, [args...]]: run `gto ARGS`; the tags it makes are then re-dated to `t`
  (rewritten with the same name, target, tagger and message), so same-second cases are exact;
- ["tag", t, name, rev, message(, tz)]: an annotated tag made by plain git (a tag gto did not
  write), its date in time zone `tz` (+0000 by default);
- ["lightweight", name, rev]: a lightweight tag;
- ["checkout", branch]: `git checkout -b branch`.
Results: `gto show --json`, `gto show --json --deprecated`, `gto history --json`, and
`gto show NAME --json` for each artifact.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BASE = 1_700_000_000
WHO = {"GIT_AUTHOR_NAME": "Ann Author", "GIT_AUTHOR_EMAIL": "ann@example.invalid"}


def git(repo: Path, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=repo,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def dated(t: int, tz: str = "+0000") -> dict[str, str]:
    stamp = f"@{BASE + t} {tz}"
    return {"GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}


def tags(repo: Path) -> set[str]:
    return set(git(repo, "tag", "-l").split())


def redate(repo: Path, name: str, t: int) -> None:
    fmt = "%(*objectname)%00%(taggername)%00%(taggeremail:trim)%00%(contents)"
    target, who, email, message = git(
        repo, "for-each-ref", f"--format={fmt}", f"refs/tags/{name}"
    ).split("\x00", 3)
    env = {**dated(t), "GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": email}
    message = message[:-1] if message.endswith("\n") else message  # for-each-ref's own newline
    args = ("tag", "-f", "-a", "--cleanup=verbatim", "-F", "-", name, target)
    git(repo, *args, env=env, stdin=message)


def gto(args: list[str]) -> str:
    from gto.cli import app

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            app(args, standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                raise RuntimeError(f"gto {' '.join(args)}: {err.getvalue().strip()}") from None
    return out.getvalue()


def build(repo: Path, steps: list[list[Any]]) -> None:
    git(repo, "init", "-q", "-b", "main")
    os.chdir(repo)
    for step in steps:
        kind = step[0]
        if kind == "commit":
            _, t, message, files = step
            for path, text in files.items():
                (repo / path).parent.mkdir(parents=True, exist_ok=True)
                (repo / path).write_text(text)
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "--allow-empty", "-m", message, env=dated(t))
        elif kind == "gto":
            _, t, args = step
            before = tags(repo)
            gto(args)
            for name in sorted(tags(repo) - before):
                redate(repo, name, t)
        elif kind == "tag":
            _, t, name, rev, message, *tz = step
            git(repo, "tag", "-a", "-m", message, name, rev, env=dated(t, *tz))
        elif kind == "lightweight":
            _, name, rev = step
            git(repo, "tag", name, rev)
        elif kind == "checkout":
            git(repo, "checkout", "-q", "-b", step[1])
        else:
            raise ValueError(f"unknown step {step}")


def read(repo: Path) -> dict[str, Any]:
    os.chdir(repo)
    show_all = json.loads(gto(["show", "--json", "--deprecated"]))
    return {
        "show": json.loads(gto(["show", "--json"])),
        "show_all": show_all,
        "history": json.loads(gto(["history", "--json"])),
        "versions": {name: json.loads(gto(["show", name, "--json"])) for name in show_all},
    }


def main() -> int:
    repo = Path(sys.argv[1])
    repo.mkdir(parents=True, exist_ok=True)
    os.environ.update(WHO)
    os.environ.setdefault("GIT_COMMITTER_NAME", "Gus Tagger")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "gus@example.invalid")
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    build(repo, json.load(sys.stdin))
    json.dump(read(repo), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
