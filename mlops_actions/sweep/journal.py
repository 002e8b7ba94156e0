"""The sweep's journal is the experiments themselves: each trial is a DVC experiment ref
`refs/exps/<B[:2]>/<B[2:]>/<name>` whose commit (first parent: the baseline B that was trained)
holds the params and metrics files as the trial left them, plus experiment tracking's run
record (tracking.runrecord, at RECORD) whose `sweep` names the sweep, the trial and its params,
and whose `status` is ok or failed. Nothing else is stored: any job that can read the refs can
rebuild the study, and `mlops-actions runs` lists the trials like any other run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlops_actions import git
from mlops_actions.errors import GitError
from mlops_actions.metrics import finite, flatten, parse
from mlops_actions.tag import BOT
from mlops_actions.tracking import localgit, runrecord
from mlops_actions.tracking.runrecord import RunRecord

RECORD = runrecord.RECORD_PATH  # the run record in an experiment's tree
EXPS = "refs/exps/"
State = Literal["complete", "failed", "running"]


@dataclass(frozen=True)
class TrialRecord:
    """One trial of one sweep: what the planner replays into the study."""

    sweep_id: str
    number: int
    params: dict[str, Any]
    value: float | None
    state: State
    name: str = ""  # the experiment's name (last part of its ref)
    commit: str = ""
    metrics: dict[str, Any] = field(default_factory=dict, compare=False)
    error: str | None = None


def _trial(
    commit: str, ref: str, record: RunRecord, metrics: dict[str, Any] | None, metric: str
) -> TrialRecord | None:
    sweep = record.sweep
    if sweep is None:
        return None
    flat = flatten(metrics) if metrics else {}
    value = flat.get(metric)
    ok = record.status == "ok" and finite(value)
    error = record.error
    if record.status == "ok" and not ok:
        error = f"metric '{metric}' missing or not a finite number"
    return TrialRecord(
        sweep_id=sweep.id,
        number=sweep.trial,
        params=sweep.params,
        value=float(value) if ok and value is not None else None,
        state="complete" if ok else "failed",
        name=ref.rsplit("/", 1)[-1],
        commit=commit,
        metrics=flat,
        error=error,
    )


def read(root: Path, sweep_id: str, metric: str, metrics_file: str) -> list[TrialRecord]:
    """Every recorded trial of sweep `sweep_id`, by trial number (a trial recorded twice, e.g.
    a re-run job: its complete record wins over a failed one). `metrics_file`: the path in the
    experiment's tree, from the repository's top."""
    listing = git.run("for-each-ref", "--format=%(objectname) %(refname)", EXPS, cwd=root)
    refs = [line.split(" ", 1) for line in listing.splitlines() if line]
    if not refs:
        return []
    with git.CatFile(root) as cat:
        records = cat.read([f"{sha}:{RECORD}" for sha, _ in refs])
        found: list[tuple[str, str, RunRecord]] = []
        for (sha, ref), obj in zip(refs, records, strict=True):
            if obj is None or obj.type != "blob":
                continue
            data = runrecord.parse(obj.data)
            if data is not None and data.sweep is not None and data.sweep.id == sweep_id:
                found.append((sha, ref, data))
        blobs = cat.read([f"{sha}:{metrics_file}" for sha, _, _ in found])
    trials: dict[int, TrialRecord] = {}
    for (sha, ref, data), blob in zip(found, blobs, strict=True):
        metrics = None
        if blob is not None and blob.type == "blob":
            try:
                parsed = parse(blob.data.decode("utf-8", "replace"), metrics_file)
                metrics = parsed if isinstance(parsed, dict) else None
            except Exception:  # an unreadable metrics file: the trial failed
                metrics = None
        trial = _trial(sha, ref, data, metrics, metric)
        if trial is None:
            continue
        held = trials.get(trial.number)
        if held is None or (held.state != "complete" and trial.state == "complete"):
            trials[trial.number] = trial
    return [trials[n] for n in sorted(trials)]


def record(
    root: Path,
    name: str,
    files: Mapping[str, bytes],
    run: RunRecord,
) -> str:
    """Write experiment `name` of HEAD: HEAD's tree plus `files` (paths from the repository's
    top) plus the run record `run` at RECORD; the ref is created only after its commit exists,
    and never over an existing one. Returns the ref."""
    head = git.run("rev-parse", "HEAD", cwd=root)
    top = Path(git.run("rev-parse", "--show-toplevel", cwd=root))
    localgit.write(top, head, name, dict(files), run)
    return runrecord.ref(head, name)


def commit_files(root: Path, files: Mapping[str, bytes], message: str) -> str:
    """A commit whose parent is HEAD and whose tree is HEAD's with `files` (paths from the
    repository's top) in it; made without touching the index or the working tree."""
    top = Path(git.run("rev-parse", "--show-toplevel", cwd=root))
    with tempfile.TemporaryDirectory(prefix="mlops-exp-") as tmp:
        env = {
            "GIT_INDEX_FILE": os.path.join(tmp, "index"),
            "GIT_AUTHOR_NAME": BOT.name,
            "GIT_AUTHOR_EMAIL": BOT.email,
            "GIT_COMMITTER_NAME": BOT.name,
            "GIT_COMMITTER_EMAIL": BOT.email,
        }
        git.run("read-tree", "HEAD", cwd=top, env=env)
        entries = []
        for index, (path, data) in enumerate(sorted(files.items())):
            staged = Path(tmp) / f"blob-{index}"
            staged.write_bytes(data)
            sha = git.run("hash-object", "-w", "--", str(staged), cwd=top)
            entries.append(f"100644 {sha}\t{path}\n")
        _index_info(top, env, "".join(entries))
        tree = git.run("write-tree", cwd=top, env=env)
        return git.run("commit-tree", tree, "-p", "HEAD", "-m", message, cwd=top, env=env)


def _index_info(top: Path, env: dict[str, str], entries: str) -> None:
    import subprocess

    proc = subprocess.run(
        ["git", "update-index", "--index-info"],
        cwd=top,
        input=entries,
        text=True,
        capture_output=True,
        env={**os.environ, **env},
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(f"git update-index failed: {proc.stderr.strip()}")


def bundle(root: Path, refs: list[str], path: Path) -> None:
    """A git bundle of experiment `refs` (without their baseline's history), for a job with a
    read-only token to hand its trial to the job that may push refs."""
    git.run("bundle", "create", str(path), *refs, "--not", "HEAD", cwd=root)


def unbundle(root: Path, path: Path) -> list[str]:
    """The experiment refs of bundle `path`, fetched into this repository."""
    heads = git.run("bundle", "list-heads", str(path), cwd=root)
    refs = [line.split()[1] for line in heads.splitlines() if line.split()[-1].startswith(EXPS)]
    if refs:
        git.run("fetch", "--quiet", str(path), *(f"{r}:{r}" for r in refs), cwd=root)
    return refs


def fetch(root: Path, remote: str, env: dict[str, str] | None = None) -> None:
    """The experiment refs of `remote`, here (a shallow clone fetches their commits only)."""
    shallow = git.run("rev-parse", "--is-shallow-repository", cwd=root) == "true"
    depth = ["--depth=1"] if shallow else []
    git.run("fetch", "--quiet", *depth, remote, f"+{EXPS}*:{EXPS}*", cwd=root, env=env)


def push(root: Path, remote: str, refs: list[str], env: dict[str, str] | None = None) -> None:
    if refs:
        git.run("push", "--quiet", remote, *(f"{r}:{r}" for r in refs), cwd=root, env=env)
