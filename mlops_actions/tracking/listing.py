"""Every experiment of a repository — recorded by CI, `--record` or a teammate's plain
`dvc exp run` + `dvc exp push` — read from the refs and git objects, without dvc: the params
and metrics DVC shows for it (`revision.read`, the reader compare uses; metrics in DVC-cached
outputs from the cache or the remote), its baseline, and our run record when it has one."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mlops_actions import git
from mlops_actions.compare import revision
from mlops_actions.compare.comparison import dvc_root
from mlops_actions.dvcio import cache
from mlops_actions.errors import MlopsError
from mlops_actions.tracking import localgit, rowcache, runrecord
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
    def sweep_id(self) -> str | None:
        return self.record.sweep.id if self.record and self.record.sweep else None

    @property
    def status(self) -> str:
        return self.record.status if self.record else "ok"

    def flat(self, section: str) -> dict[str, Any]:
        """Dotted keys (`train.n_est`) -> values; a key two files share keeps its file."""
        from mlops_actions.dvcio.diff import flatten

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
            "model": rec.model if rec else None,
            "model_sha256": rec.model_sha256 if rec else None,
            "data": rec.data if rec else {},
            "outputs": rec.outputs if rec else None,
            "sweep": asdict(rec.sweep) if rec and rec.sweep else None,
            "where": self.where,
            "params": self.params,
            "metrics": self.metrics,
            "errors": self.errors,
        }


class TreeSource(revision.Source):
    """A commit's files from blobs read ahead in bulk (experiments share most of theirs); a
    blob not read ahead is asked of the shared `git cat-file --batch`."""

    def __init__(self, commit: str, files: dict[str, str], blobs: Blobs) -> None:
        self.rev, self.files, self.blobs = commit, files, blobs
        self._dirs: set[str] | None = None
        self._dvc: tuple[list[str], list[str]] | None = None

    def _is_dir(self, path: str) -> bool:
        if self._dirs is None:
            self._dirs = {
                "/".join(p.split("/")[:i]) for p in self.files for i in range(1, p.count("/") + 1)
            }
        return path in self._dirs or path in (".", "")

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for path in paths:
            sha = self.files.get(path)
            if sha is not None:
                out[path] = self.blobs.get(sha)
            else:
                out[path] = revision._DIR if self._is_dir(path) else None
        return out

    @property
    def names(self) -> list[str]:
        return list(self.files)

    def files_under(self, path: str) -> list[str]:
        if path in (".", ""):
            return list(self.files)
        return [n for n in self.files if n.startswith(f"{path}/")]

    def dvc_files(self) -> tuple[list[str], list[str]]:
        if self._dvc is None:
            self._dvc = revision._dvc_files(self.files)
        return self._dvc


def read_many(cat: git.CatFile, specs: list[str]) -> list[git.GitObject | None]:
    """`cat.read` in chunks: a batch is written whole before its answers are read, so a big
    one would fill both pipes and wait forever."""
    out: list[git.GitObject | None] = []
    for start in range(0, len(specs), 200):
        out += cat.read(specs[start : start + 200])
    return out


class Blobs:
    """Blob contents by sha: read ahead in one batch, else one at a time."""

    def __init__(self, cat: git.CatFile) -> None:
        self.cat = cat
        self.data: dict[str, bytes | None] = {}

    def prefetch(self, shas: Iterable[str]) -> None:
        wanted = [s for s in dict.fromkeys(shas) if s not in self.data]
        for sha, got in zip(wanted, read_many(self.cat, wanted), strict=True):
            self.data[sha] = got.data if got is not None and got.type == "blob" else None

    def get(self, sha: str) -> bytes | None:
        if sha not in self.data:
            self.prefetch([sha])
        return self.data[sha]


class TreeMemo:
    """Recursive file lists (path -> blob sha) of trees, by tree sha; the trees of a level
    read in one batch."""

    def __init__(self, cat: git.CatFile) -> None:
        self.cat = cat
        self._entries: dict[str, list[tuple[bytes, str, str]]] = {}
        self._files: dict[str, dict[str, str]] = {}

    def load(self, trees: Iterable[str]) -> None:
        """Read these trees and every tree under them, a level per batch."""
        level = [t for t in dict.fromkeys(trees) if t not in self._entries]
        while level:
            got = read_many(self.cat, level)
            nxt: list[str] = []
            for sha, obj in zip(level, got, strict=True):
                entries = _entries(obj.data) if obj is not None and obj.type == "tree" else []
                self._entries[sha] = entries
                nxt += [s for mode, _, s in entries if mode == b"40000"]
            level = [t for t in dict.fromkeys(nxt) if t not in self._entries]

    def files(self, tree: str) -> dict[str, str]:
        found = self._files.get(tree)
        if found is None:
            found = {}
            for mode, name, sha in self._entries.get(tree, []):
                if mode == b"40000":
                    found.update((f"{name}/{p}", s) for p, s in self.files(sha).items())
                elif mode != b"160000":
                    found[name] = sha
            self._files[tree] = found
        return found

    def subtree(self, tree: str, prefix: str) -> str | None:
        """The tree at `prefix` (a/b/) under `tree`."""
        for part in [p for p in prefix.split("/") if p]:
            match = [
                s for mode, n, s in self._entries.get(tree, []) if n == part and mode == b"40000"
            ]
            if not match:
                return None
            tree = match[0]
        return tree


def _entries(data: bytes) -> list[tuple[bytes, str, str]]:
    out = []
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        out.append(
            (
                data[pos:space],
                data[space + 1 : nul].decode("utf-8", "replace"),
                data[nul + 1 : nul + 21].hex(),
            )
        )
        pos = nul + 21
    return out


# Files DVC may read as params, metrics or pipeline: read ahead for every experiment at once.
_AHEAD = (".yaml", ".yml", ".json", ".toml", ".py", ".lock", ".dvc")


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
    objects = cache.Objects(root)
    branches = _branch_tips(top)
    runs: list[Run] = []
    saved = rowcache.load(top)
    try:
        with git.CatFile(top) as cat:
            items = [(r, v, s) for r, v in sorted(refs.items()) if (s := runrecord.split_ref(r))]
            # a commit in the row cache was read before: its object is not needed again
            todo = list(dict.fromkeys(sha for _, (sha, _), _ in items if sha not in saved))
            commits = {
                sha: _commit(obj.data)
                for sha, obj in zip(todo, read_many(cat, todo), strict=True)
                if obj is not None and obj.type == "commit"
            }
            todo = list(commits)
            trees, blobs = TreeMemo(cat), Blobs(cat)
            trees.load(commits[c].tree for c in todo)
            files, records = {}, {}
            for sha in todo:
                tree = trees.subtree(commits[sha].tree, prefix) if prefix else commits[sha].tree
                files[sha] = trees.files(tree) if tree else {}
                whole = trees.files(commits[sha].tree) if prefix else files[sha]
                records[sha] = whole.get(runrecord.RECORD_PATH)
            blobs.prefetch(
                [s for f in files.values() for p, s in f.items() if p.endswith(_AHEAD)]
                + [s for s in records.values() if s]
            )
            for _, (sha, where), (baseline, name) in items:
                if sha in saved:
                    run = _restore(saved[sha], name, sha, baseline)
                elif sha not in commits:
                    continue
                else:
                    rec_sha = records[sha]
                    rec = runrecord.parse(blobs.get(rec_sha) if rec_sha else None)
                    created = (rec.created if rec else "") or stamp(commits[sha].time)
                    run = Run(name, sha, baseline, created, record=rec)
                    _values(run, TreeSource(sha, files[sha], blobs), objects)
                run.where, run.branch = where, branches.get(baseline)
                runs.append(run)
    finally:
        objects.close()
    new = {
        r.commit: {
            "created": r.created,
            "params": r.params,
            "metrics": r.metrics,
            "record": r.record.to_json() if r.record else None,
        }
        for r in runs
        if r.commit not in saved and not r.errors
    }
    rowcache.save(top, saved, new)
    runs.sort(key=lambda r: (r.created, r.name), reverse=True)
    return runs


def _restore(entry: dict[str, Any], name: str, sha: str, baseline: str) -> Run:
    record = entry.get("record")
    return Run(
        name,
        sha,
        baseline,
        entry.get("created", ""),
        params=entry.get("params") or {},
        metrics=entry.get("metrics") or {},
        record=runrecord.parse(json.dumps(record).encode()) if record else None,
    )


def _values(run: Run, source: TreeSource, objects: cache.Objects) -> None:
    dvc_mode = bool(source.dvc_files()[0])
    metrics_file = revision.DEFAULT_METRICS
    if not dvc_mode:  # our own settings name the metrics file
        params_text = source.read([revision.DEFAULT_PARAMS])[revision.DEFAULT_PARAMS]
        metrics_file = revision.metrics_file(params_text)
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
