"""Every experiment of a repository — recorded by CI, `--record` or a teammate's plain
`dvc exp run` + `dvc exp push` — read from the refs and git objects, without dvc: the params
and metrics DVC shows for it (`revision.read`, the reader compare uses; metrics in DVC-cached
outputs from the cache or the remote), its baseline, and our run record when it has one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_actions import dvccache, git, revision
from mlops_actions.compare import dvc_root
from mlops_actions.errors import MlopsError
from mlops_actions.tracking import localgit, runrecord
from mlops_actions.tracking.runrecord import RunRecord


@dataclass
class Run:
    """One experiment, as `runs` lists it."""

    name: str
    commit: str
    baseline: str
    created: str  # the record's time, else the commit's
    params: dict[str, Any] = field(default_factory=dict)  # {file: {"data": {...}}}
    metrics: dict[str, Any] = field(default_factory=dict)
    record: RunRecord | None = None
    where: str = "local"  # "local", "remote" or "both"
    errors: list[str] = field(default_factory=list)
    branch: str | None = None  # a branch whose tip is the baseline

    @property
    def event(self) -> str | None:
        return self.record.event if self.record else None

    @property
    def pr(self) -> int | None:
        return self.record.pr if self.record else None

    @property
    def status(self) -> str:
        return self.record.status if self.record else "ok"

    def flat(self, section: str) -> dict[str, Any]:
        """Dotted keys (`train.n_est`) -> values; a key two files share keeps its file."""
        from mlops_actions.dvcdiff import flatten

        nested = self.params if section == "params" else self.metrics
        out: dict[str, Any] = {}
        for path, entry in nested.items():
            for key, value in flatten(entry.get("data") or {}).items():
                out[f"{path}:{key}" if key in out else key] = value
        return out

    def to_json(self) -> dict[str, Any]:
        rec = self.record
        return {
            "name": self.name,
            "commit": self.commit,
            "baseline": self.baseline,
            "branch": (rec.branch if rec else None) or self.branch,
            "pr": rec.pr if rec else None,
            "event": rec.event if rec else None,
            "status": self.status,
            "fork": rec.fork if rec else False,
            "created": self.created,
            "run_url": rec.run_url if rec else None,
            "model_sha256": rec.model_sha256 if rec else None,
            "where": self.where,
            "params": self.params,
            "metrics": self.metrics,
            "errors": self.errors,
        }


class TreeSource(revision.Source):
    """A commit's files through one shared `git cat-file --batch`, its trees read once per
    tree sha (experiments share most of theirs)."""

    def __init__(self, commit: str, prefix: str, blobs: git.CatFile, trees: TreeMemo) -> None:
        self.rev, self.commit, self.prefix, self.blobs, self.trees = (
            commit,
            commit,
            prefix,
            blobs,
            trees,
        )
        self._names: list[str] | None = None

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        got = self.blobs.read([f"{self.commit}:{self.prefix}{p}" for p in paths])
        return {
            p: None if g is None else (revision._DIR if g.type == "tree" else g.data)
            for p, g in zip(paths, got, strict=True)
        }

    @property
    def names(self) -> list[str]:
        if self._names is None:
            spec = (
                f"{self.commit}:{self.prefix.rstrip('/')}"
                if self.prefix
                else f"{self.commit}^{{tree}}"
            )
            self._names = self.trees.files(spec)
        return self._names

    def files_under(self, path: str) -> list[str]:
        if path in (".", ""):
            return list(self.names)
        return [n for n in self.names if n.startswith(f"{path}/")]

    def dvc_files(self) -> tuple[list[str], list[str]]:
        return revision._dvc_files(self.names)


class TreeMemo:
    """Recursive file lists of trees, by tree sha."""

    def __init__(self, blobs: git.CatFile) -> None:
        self.blobs = blobs
        self._files: dict[bytes, list[str]] = {}

    def files(self, spec: str) -> list[str]:
        got = self.blobs.read([spec])[0]
        return self._walk(got.data) if got is not None and got.type == "tree" else []

    def _walk(self, data: bytes) -> list[str]:
        key = data
        if key in self._files:
            return self._files[key]
        out: list[str] = []
        subtrees: list[tuple[str, str]] = []
        pos = 0
        while pos < len(data):
            space = data.index(b" ", pos)
            nul = data.index(b"\0", space)
            mode, name = data[pos:space], data[space + 1 : nul].decode("utf-8", "replace")
            sha = data[nul + 1 : nul + 21].hex()
            pos = nul + 21
            if mode == b"40000":
                subtrees.append((name, sha))
            elif mode != b"160000":
                out.append(name)
        if subtrees:
            got = self.blobs.read([sha for _, sha in subtrees])
            for (name, _), sub in zip(subtrees, got, strict=True):
                if sub is not None:
                    out += [f"{name}/{n}" for n in self._walk(sub.data)]
        self._files[key] = out
        return out


@dataclass(frozen=True)
class Commit:
    tree: str
    parents: tuple[str, ...]
    time: int


def _commit(data: bytes) -> Commit:
    tree, parents, time = "", [], 0
    for line in data.split(b"\n"):
        if not line:
            break
        if line.startswith(b"tree "):
            tree = line[5:].decode()
        elif line.startswith(b"parent "):
            parents.append(line[7:].decode())
        elif line.startswith(b"committer "):
            time = int(line.rsplit(b" ", 2)[-2])
    return Commit(tree, tuple(parents), time)


def stamp(seconds: int) -> str:
    """A commit time as DVC's `exp show` prints it."""
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%dT%H:%M:%S")


def _nested(found: dict[str, object]) -> dict[str, Any]:
    return {path: {"data": data} for path, data in found.items()}


def gather(start: Path, *, remote: str | None, local: bool = True) -> list[Run]:
    """Every experiment in this clone (`local`) and on the git `remote` (fetched read-only
    into a private namespace); newest first."""
    top = Path(git.run("rev-parse", "--show-toplevel", cwd=start))
    refs: dict[str, tuple[str, str]] = {}  # refname -> (sha, where)
    if local:
        refs.update((r, (s, "local")) for r, s in localgit.local_refs(top).items())
    if remote is not None:
        found = localgit.remote_refs(top, remote)
        localgit.fetch(top, remote, found)
        for r, s in found.items():
            here = refs.get(r)
            refs[r] = (s, "both" if here and here[0] == s else "remote")
    root = dvc_root(start.resolve(), top.resolve())
    prefix = root.relative_to(top.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    return read_runs(top, root, prefix, refs)


def read_runs(top: Path, root: Path, prefix: str, refs: dict[str, tuple[str, str]]) -> list[Run]:
    objects = dvccache.Objects(root)
    branches = _branch_tips(top)
    runs: list[Run] = []
    try:
        with git.CatFile(top) as blobs:
            trees = TreeMemo(blobs)
            items = sorted(refs.items())
            commits = blobs.read([sha for _, (sha, _) in items])
            records = blobs.read([f"{sha}:{runrecord.RECORD_PATH}" for _, (sha, _) in items])
            for (refname, (sha, where)), obj, rec in zip(items, commits, records, strict=True):
                split = runrecord.split_ref(refname)
                if obj is None or split is None or obj.type != "commit":
                    continue
                baseline, name = split
                commit = _commit(obj.data)
                record = runrecord.parse(rec.data if rec is not None else None)
                run = Run(
                    name, sha, baseline, (record.created if record else "") or stamp(commit.time)
                )
                run.record, run.where, run.branch = record, where, branches.get(baseline)
                _values(run, TreeSource(sha, prefix, blobs, trees), objects)
                runs.append(run)
    finally:
        objects.close()
    runs.sort(key=lambda r: (r.created, r.name), reverse=True)
    return runs


def _values(run: Run, source: TreeSource, objects: dvccache.Objects) -> None:
    params_text = source.read([revision.DEFAULT_PARAMS])[revision.DEFAULT_PARAMS]
    metrics_file = revision.metrics_file(params_text)
    dvc_mode = bool(source.dvc_files()[0])
    snap = revision.read(
        source, revision.DEFAULT_PARAMS, metrics_file, dvc_mode=dvc_mode, objects=objects
    )
    run.params, run.metrics = _nested(snap.params), _nested(snap.metrics)
    run.errors = [str(e) for e in snap.errors if e.type != "FileNotFoundError"]


def _branch_tips(top: Path) -> dict[str, str]:
    listed = git.run(
        "for-each-ref",
        "--format=%(objectname) %(refname:short)",
        "refs/heads",
        "refs/remotes",
        cwd=top,
    )
    out: dict[str, str] = {}
    for line in listed.splitlines():
        sha, _, name = line.partition(" ")
        out.setdefault(sha, name.removeprefix("origin/"))
    return out


def default_remote(top: Path) -> str | None:
    """`origin` when this clone has it, else its only remote; None without one."""
    names = git.run("remote", cwd=top).split()
    if "origin" in names:
        return "origin"
    return names[0] if len(names) == 1 else None


def find(runs: list[Run], name: str) -> Run:
    """The run NAME (an experiment name, or a commit sha prefix of at least 7)."""
    hits = [r for r in runs if r.name == name or (len(name) >= 7 and r.commit.startswith(name))]
    if not hits:
        raise MlopsError(f"no experiment named '{name[:80]}'; `mlops-actions runs` lists them")
    if len({r.commit for r in hits}) > 1:
        raise MlopsError(
            f"'{name[:80]}' names {len(hits)} experiments (one per baseline); give its commit sha"
        )
    return hits[0]


def top_of(start: Path) -> Path:
    return Path(git.run("rev-parse", "--show-toplevel", cwd=start))
