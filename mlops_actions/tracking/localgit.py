"""Experiments in a local clone, with git plumbing: write one (blobs, a tree from the trained
commit's, a commit whose first parent is that commit, then the ref: only after the commit
exists, and never over an existing one), and read the refs here and on a remote."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from mlops_actions import git
from mlops_actions.errors import GitError, MlopsError
from mlops_actions.tag import BOT
from mlops_actions.tracking import runrecord

MIRROR = "refs/mlops-runs"  # where `runs` keeps a remote's experiment refs (read-only copy)
WILDCARD_OVER = 100  # missing refs above which one pattern fetches them all


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": BOT.name,
        "GIT_AUTHOR_EMAIL": BOT.email,
        "GIT_COMMITTER_NAME": BOT.name,
        "GIT_COMMITTER_EMAIL": BOT.email,
        **(extra or {}),
    }


def _blob(top: Path, data: bytes) -> str:
    proc = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=top, input=data, capture_output=True
    )
    if proc.returncode != 0:
        raise GitError(git.failure(["hash-object", "-w", "--stdin"], top, proc.stderr.decode()))
    return proc.stdout.decode().strip()


def write(
    top: Path, baseline: str, name: str, files: dict[str, bytes], record: runrecord.RunRecord
) -> str:
    """Record the experiment; its commit sha. A MlopsError when the ref exists already."""
    refname = runrecord.ref(baseline, name)
    if git.commit_sha(refname, top):
        raise MlopsError(f"experiment {name} already exists ({refname}); nothing was recorded")
    entries = {**files, runrecord.RECORD_PATH: record.encode()}
    lines = "".join(f"100644 {_blob(top, data)}\t{path}\n" for path, data in entries.items())
    git_dir = Path(git.run("rev-parse", "--absolute-git-dir", cwd=top))
    fd, index = tempfile.mkstemp(dir=git_dir, prefix="mlops-exp-index-")
    os.close(fd)
    os.unlink(index)  # git creates it
    env = _env({"GIT_INDEX_FILE": index})
    try:
        git.run("read-tree", baseline, cwd=top, env=env)
        proc = subprocess.run(
            ["git", "update-index", "--index-info"],
            cwd=top,
            input=lines.encode(),
            capture_output=True,
            env={**os.environ, **env},
        )
        if proc.returncode != 0:
            raise GitError(git.failure(["update-index"], top, proc.stderr.decode()))
        tree = git.run("write-tree", cwd=top, env=env)
    finally:
        Path(index).unlink(missing_ok=True)
    message = f"mlops-actions: {record.event} run {name}"
    commit = git.run("commit-tree", tree, "-p", baseline, "-m", message, cwd=top, env=_env())
    # The empty old value: git refuses when the ref appeared meanwhile.
    made = git.result("update-ref", refname, commit, "", cwd=top)
    if made.returncode != 0:
        raise MlopsError(f"experiment {name} already exists ({refname}); nothing was recorded")
    return commit


def local_refs(top: Path, pattern: str = runrecord.EXPS) -> dict[str, str]:
    """refname -> commit of the experiments in this clone."""
    listed = git.run("for-each-ref", "--format=%(objectname) %(refname)", pattern, cwd=top)
    out: dict[str, str] = {}
    for line in listed.splitlines():
        sha, _, refname = line.partition(" ")
        if runrecord.split_ref(refname):
            out[refname] = sha
    return out


def remote_refs(top: Path, remote: str) -> dict[str, str]:
    """refname -> commit of the experiments on `remote` (`git ls-remote`)."""
    proc = git.remote_result("ls-remote", remote, f"{runrecord.EXPS}/*", cwd=top)
    if proc.returncode != 0:
        said = git.failure(["ls-remote", remote], top, proc.stderr)
        raise GitError(f"{said}; is '{remote}' a git remote you can read?")
    out: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        sha, _, refname = line.partition("\t")
        if runrecord.split_ref(refname):
            out[refname] = sha
    return out


def fetch(top: Path, remote: str, wanted: dict[str, str]) -> None:
    """Bring the objects of `wanted` refs here that this clone lacks, into a private namespace
    (`git fetch` is read-only for the remote; a shallow clone stays shallow)."""
    have = set(local_refs(top, MIRROR + "/").values()) | set(local_refs(top).values())
    missing = {r: s for r, s in wanted.items() if s not in have}
    if not missing:
        return
    specs = [f"+{r}:{MIRROR}/{r.removeprefix('refs/')}" for r in sorted(missing)]
    if len(specs) > WILDCARD_OVER:
        # git matches each explicit refspec against every advertised ref: 1,000 of them cost
        # about 0.6 s more than one pattern that fetches the same refs (a fresh clone's case).
        specs = [f"+{runrecord.EXPS}/*:{MIRROR}/{runrecord.EXPS.removeprefix('refs/')}/*"]
    shallow = git.run("rev-parse", "--is-shallow-repository", cwd=top) == "true"
    args = ["fetch", "--no-tags", "--quiet", *(["--depth=1"] if shallow else []), remote]
    for start in range(0, len(specs), 2000):
        proc = git.remote_result(*args, *specs[start : start + 2000], cwd=top)
        if proc.returncode != 0:
            raise GitError(git.failure(["fetch", remote], top, proc.stderr))


def delete_remote(top: Path, remote: str, refs: list[str]) -> None:
    """Delete experiment refs on the remote (one push)."""
    for start in range(0, len(refs), 1000):
        chunk = refs[start : start + 1000]
        proc = git.remote_result("push", "--quiet", remote, *[f":{r}" for r in chunk], cwd=top)
        if proc.returncode != 0:
            raise GitError(git.failure(["push", remote], top, proc.stderr))
        mirrored = [f"{MIRROR}/{r.removeprefix('refs/')}" for r in chunk]
        for ref in mirrored:
            git.result("update-ref", "-d", ref, cwd=top)
