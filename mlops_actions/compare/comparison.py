"""Metrics and params of the workspace against a baseline, with DVC's exact semantics.

`to_json` gives what `dvc metrics diff --json` and `dvc params diff --json` print for the same
two revisions: keys flattened with dots, lists in params shown as their Python text, lists and
nulls dropped from metrics, `diff` = new - old whenever both are numbers (booleans count), the
full float precision. The files at the base come from one `git cat-file --batch` process; dvc
itself is never imported, so a comparison costs a few git calls rather than two dvc start-ups.

Entry paths are relative to the project root (the directory of the params file); the renderers
show them relative to the working directory, as DVC prints them (`Comparison.relative_to`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from mlops_actions import git, inert
from mlops_actions.compare.baseline import Baseline, Fallback, resolve_baseline
from mlops_actions.compare.revision import (
    DEFAULT_PARAMS,
    WORKSPACE,
    Commit,
    FileError,
    Snapshot,
    Workspace,
    metrics_file,
    norm,
    read,
)
from mlops_actions.dvcio import cache
from mlops_actions.dvcio.diff import Entry, diff_files, extract_metrics, nest
from mlops_actions.errors import GitError


@dataclass(frozen=True)
class Comparison:
    """The diff of the workspace against `baseline`. Entry paths are relative to `root`, the
    project root (POSIX); `root` None means relative to the working directory already."""

    baseline: Baseline
    metrics: list[Entry]
    params: list[Entry]
    errors: list[FileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    root: Path | None = None
    no_commits: bool = False  # DVC prints {} then; the text report still shows the values
    # The metrics file the baseline's own settings name (root-relative): a change that moves
    # the metrics file still has its base values gated. None: the same as the workspace's.
    base_metrics: str | None = None

    def rows(self, section: Literal["metrics", "params"], all: bool = False) -> list[Entry]:
        entries = self.metrics if section == "metrics" else self.params
        return [e for e in entries if all or e.changed]

    def relative_to(self, cwd: str | Path | None = None) -> Comparison:
        """The same comparison with entry paths as DVC prints them when run in `cwd` (the
        working directory by default)."""
        root = self.root
        if root is None:
            return self
        here = os.path.realpath(cwd if cwd is not None else os.curdir)
        if os.path.relpath(root, here) == ".":
            return self

        def moved(entries: list[Entry]) -> list[Entry]:
            def path(p: str) -> str:
                return os.path.relpath(os.path.join(root, p), here)

            return [replace(e, path=path(e.path)) for e in entries]

        return replace(self, metrics=moved(self.metrics), params=moved(self.params), root=None)

    def to_json(self, all: bool = False) -> dict[str, dict[str, dict[str, Any]]]:
        """`{"metrics": <dvc metrics diff --json>, "params": <dvc params diff --json>}`."""
        if self.no_commits:
            return {"metrics": {}, "params": {}}
        return {section: nest(self.rows(section, all)) for section in ("metrics", "params")}


# --- the comparison -------------------------------------------------------------------------


def dvc_root(start: Path, top: Path) -> Path:
    """The project root as DVC finds it: the nearest directory from `start` up to the git
    top-level that holds `.dvc/`, else the git top-level."""
    for where in (start, *start.parents):
        if (where / ".dvc").is_dir():
            return where
        if where == top:
            break
    return top


def _prefix(path: Path, top: Path) -> str:
    rel = path.relative_to(top).as_posix()
    return "" if rel == "." else f"{rel}/"


def compare(
    params_file: str | Path = DEFAULT_PARAMS,
    base: str | None = None,
    pr_base_ref: str | None = None,
    *,
    fallback: Fallback | None = None,
) -> Comparison:
    """The workspace against the baseline (see `resolve_baseline`).

    What is read follows DVC: with a dvc.yaml anywhere in the project (either side), exactly
    the files `dvc metrics diff` / `dvc params diff` read, from the project root DVC finds from
    the working directory; without one, `params_file` and the metrics file it names.

    When the baseline revision has no metrics file and `base` was not named, `fallback` may
    supply baseline metrics (the latest promoted model's tag; params are then read at its
    commit); without one the current values are shown alone."""
    place = _locate(params_file)
    baseline = _baseline(place, base, pr_base_ref)
    dvc_root_dir = dvc_root(place.start, place.top)
    objects = cache.Objects(dvc_root_dir)
    with git.CatFile(dvc_root_dir) as blobs:
        try:
            sides = _Sides.open(place, dvc_root_dir, baseline, blobs, objects)
            new = sides.read(Workspace(sides.root), sides.metrics)
            base_side = sides.at(place.params_dir, baseline)
            named_base_metrics = sides.metrics_of(base_side) if base_side else sides.metrics
            commit = sides.at(sides.root, baseline)
            old = sides.read(commit, named_base_metrics) if commit is not None else Snapshot()
            base_metrics = _declared(sides, old, named_base_metrics)
            baseline, old, notes = _without_base_metrics(
                sides, baseline, old, base_metrics, bool(base), fallback
            )
        finally:
            objects.close()
    notes += _undeclared(sides, new)
    return Comparison(
        baseline,
        diff_files(old.metrics, new.metrics),
        diff_files(old.params, new.params),
        _errors(old, new),
        notes,
        sides.root,
        place.no_commits,
        base_metrics if base_metrics != sides.metrics else None,
    )


@dataclass(frozen=True)
class _Place:
    """Where compare runs: the repository's top, the params file, where DVC starts looking."""

    top: Path
    params_dir: Path
    params_name: str
    start: Path
    no_commits: bool


def _locate(params_file: str | Path) -> _Place:
    params_path = Path(params_file).absolute()
    if not params_path.parent.is_dir():
        raise GitError(f"{params_file}: its directory does not exist")
    found = git.result("rev-parse", "--show-toplevel", "HEAD", cwd=params_path.parent)
    lines = found.stdout.split("\n")
    if not lines[0].strip() or not Path(lines[0].strip()).is_dir():
        raise GitError(
            f"{params_path.parent}: not a git repository; compare reads the baseline from git"
        )
    top = Path(lines[0].strip())
    params_dir = params_path.parent.resolve()
    cwd = Path.cwd().resolve()
    start = cwd if cwd == top or top in cwd.parents else params_dir
    no_commits = len(lines) < 2 or len(lines[1].strip()) < 40
    return _Place(top, params_dir, params_path.name, start, no_commits)


def _baseline(place: _Place, base: str | None, pr_base_ref: str | None) -> Baseline:
    if not place.no_commits:
        return resolve_baseline(base, pr_base_ref, cwd=place.params_dir)
    # DVC diffs nothing before the first commit, whatever revision is named.
    if base:
        return Baseline("none", label=f"{base}: the repository has no commit yet")
    return Baseline("none", label="no main, master or origin/HEAD branch found")


@dataclass(frozen=True)
class _Sides:
    """How both sides are read: from the DVC project's root, or (no dvc.yaml on either side)
    from the params file's directory, where our own settings name the files. `metrics` is the
    metrics file the workspace's params file names, root-relative."""

    place: _Place
    root: Path
    dvc_mode: bool
    blobs: git.CatFile
    objects: cache.Objects
    metrics: str = ""

    @classmethod
    def open(
        cls,
        place: _Place,
        dvc_root_dir: Path,
        baseline: Baseline,
        blobs: git.CatFile,
        objects: cache.Objects,
    ) -> _Sides:
        commit = cls(place, dvc_root_dir, True, blobs, objects).at(dvc_root_dir, baseline)
        dvc_mode = bool(Workspace(dvc_root_dir).dvc_files()[0]) or bool(
            commit and commit.dvc_files()[0]
        )
        root = dvc_root_dir if dvc_mode else place.params_dir
        sides = cls(place, root, dvc_mode, blobs, objects)
        return replace(sides, metrics=sides.metrics_of(Workspace(place.params_dir)))

    def at(self, where: Path, baseline: Baseline) -> Commit | None:
        if not baseline.sha:
            return None
        return Commit(
            where, _prefix(where, self.place.top), baseline.sha, baseline.name, self.blobs
        )

    def metrics_of(self, source: Workspace | Commit) -> str:
        """The metrics file the side's own params file names, root-relative."""
        name, params_dir = self.place.params_name, self.place.params_dir
        path = metrics_file(source.read([name])[name])
        if self.root == params_dir:
            return path
        return norm(".", os.path.relpath(params_dir / path, self.root))

    def read(self, source: Workspace | Commit, metrics: str) -> Snapshot:
        params = self.place.params_name if self.root == self.place.params_dir else DEFAULT_PARAMS
        return read(source, params, metrics, dvc_mode=self.dvc_mode, objects=self.objects)


def _declared(sides: _Sides, old: Snapshot, base_metrics: str) -> str:
    """The baseline's metrics file: in DVC mode one its dvc.yaml declares (what config derives
    from dvc.yaml), when the one its params file names is not."""
    if sides.dvc_mode and base_metrics not in old.declared and old.declared:
        return old.declared[0]
    return base_metrics


def _without_base_metrics(
    sides: _Sides,
    baseline: Baseline,
    old: Snapshot,
    base_metrics: str,
    named: bool,
    fallback: Fallback | None,
) -> tuple[Baseline, Snapshot, list[str]]:
    """A baseline branch without committed metrics: compared against the fallback's metrics
    (params at its commit when it is here), shown alone when the base was `named`, else no
    baseline at all."""
    if baseline.kind != "ref" or old.has_metrics:
        return baseline, old, []
    what = "metrics file" if sides.dvc_mode else base_metrics
    missing = f"{baseline.label} has no committed {what}"
    supplied = fallback() if fallback is not None and not named else None
    if supplied is None and named:
        return baseline, old, [f"{missing}; showing the current metrics alone"]
    if supplied is None:
        return replace(baseline, kind="none", label=missing), old, []
    promoted, notes = supplied.baseline, []
    commit = sides.at(sides.root, promoted)
    if commit is not None and git.commit_sha(commit.sha, sides.root):
        old = sides.read(commit, sides.metrics)
    else:
        notes.append(f"params are compared against {baseline.label}")
    old.metrics = {norm(".", p): extract_metrics(d) or {} for p, d in supplied.metrics.items()}
    old.errors = []
    notes.append(f"{missing}; metrics are compared against {promoted.label}")
    return promoted, old, notes


def _undeclared(sides: _Sides, new: Snapshot) -> list[str]:
    path = sides.metrics
    if not sides.dvc_mode or path in new.declared or not (sides.root / path).is_file():
        return []
    return [
        f"{path} is declared in no dvc.yaml, so DVC does not read it and neither does compare; "
        "list it under `metrics:` in dvc.yaml to compare it"
    ]


def _errors(old: Snapshot, new: Snapshot) -> list[FileError]:
    """A metrics file missing on one side is one added or removed: no warning, unless the
    workspace has none at all."""
    return [
        e
        for e in [*old.errors, *new.errors]
        if e.type != "FileNotFoundError" or (e.rev == WORKSPACE and not new.has_metrics)
    ]


# --- rendering ------------------------------------------------------------------------------


def _cell(value: object, digits: int | None) -> str:
    if value is None:
        return "-"
    if digits is not None and isinstance(value, float):
        value = round(value, digits)
    return str(value)


def table(
    entries: list[Entry],
    *,
    title: str,
    old: str | None,
    tablefmt: str = "simple",
    digits: int | None = None,
) -> str:
    """DVC's diff table: Path, Metric/Param, old, workspace, Change; keys sorted in a file.
    With `old` None only the current values are shown."""
    from tabulate import tabulate

    rows = []
    for entry in sorted(entries, key=lambda e: (e.path, e.key)):
        row = [entry.path, entry.key]
        if old is not None:
            row += [_cell(entry.old, digits)]
        row += [_cell(entry.new, digits)]
        if old is not None:
            row += [_cell(entry.diff, digits)]
        if tablefmt == "github":  # names and values are the files' text: keep them in their cell
            row = [inert.cell(cell) for cell in row]
        rows.append(row)
    headers = (
        ["Path", title, old, WORKSPACE, "Change"] if old is not None else ["Path", title, "Value"]
    )
    if tablefmt == "github":  # the base's column is named after a ref
        headers = [inert.cell(h) for h in headers]
    return tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _sections(c: Comparison, all: bool, tablefmt: str) -> list[tuple[str, str]]:
    """(title, table or a one-line 'no changes'), for metrics then params."""
    out = []
    sections: list[tuple[Literal["metrics", "params"], str, int | None]] = [
        ("metrics", "Metric", 5),  # DVC rounds metrics to 5 digits in its tables
        ("params", "Param", None),
    ]
    for section, title, digits in sections:
        has_old = c.baseline.kind != "none" or (section == "params" and bool(c.baseline.sha))
        entries = c.rows(section, all or not has_old)
        if entries:
            old = c.baseline.name if has_old else None
            body = table(entries, title=title, old=old, tablefmt=tablefmt, digits=digits)
        elif not getattr(c, section):
            body = f"no {section} files found"
        else:
            body = f"no changes against {c.baseline.name}"
        out.append((section.capitalize(), body))
    return out


def headline(c: Comparison, markdown: bool = False) -> str:
    """'Baseline: main (1a2b3c4)', or why there is none."""
    title, text = "Baseline:", c.baseline.label
    if c.baseline.kind == "none" and c.baseline.sha:  # params still compared at the ref
        title, text = "No baseline metrics:", f"{text}; showing the current metrics alone."
    elif c.baseline.kind == "none":
        title, text = "No baseline:", f"{text}; showing the current values alone."
    return f"**{title}** {inert.spans(text)}" if markdown else f"{title} {text}"


def render_text(c: Comparison, all: bool = False) -> str:
    """A terminal report: the baseline, then a table per section."""
    c = c.relative_to()
    lines = [headline(c), *(f"note: {n}" for n in c.notes)]
    for label, body in _sections(c, all, "simple"):
        lines += ["", f"{label}:", body] if "\n" in body else ["", f"{label}: {body}"]
    return "\n".join(lines)


def render_markdown(c: Comparison, all: bool = False) -> str:
    """Markdown (GitHub tables) for PR comments and job summaries."""
    c = c.relative_to()
    lines = [headline(c, markdown=True)]
    quoted = [*c.notes, *(f"⚠️ {e}" for e in c.errors)]
    quoted = [inert.text(q) for q in quoted]
    lines += ["", *(f"> {line}  " for line in quoted)] if quoted else []
    for label, body in _sections(c, all, "github"):
        lines += [
            "",
            f"#### {label}",
            "",
            body if "\n" in body else f"_{inert.text(body.capitalize())}._",
        ]
    return "\n".join(lines) + "\n"


def render_json(c: Comparison, all: bool = False, indent: int | None = None) -> str:
    """What `dvc metrics diff --json` and `dvc params diff --json` print, under one object."""
    return json.dumps(c.relative_to().to_json(all), indent=indent, default=str)
