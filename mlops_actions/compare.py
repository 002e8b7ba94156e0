"""Metrics and params of the workspace against a baseline, with DVC's exact semantics.

`to_json` gives what `dvc metrics diff --json` and `dvc params diff --json` print for the same
two revisions: keys flattened with dots, lists in params shown as their Python text, lists and
nulls dropped from metrics, `diff` = new - old whenever both are numbers (booleans count), the
full float precision. The files at the base come from one `git cat-file --batch` process; dvc
itself is never imported, so a comparison costs a few git calls rather than two dvc start-ups.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Literal

from mlops_actions import git
from mlops_actions.dvcdiff import (
    Entry,
    ParseError,
    diff_files,
    extract_metrics,
    nest,
    parse_file,
    select_keys,
    template_problem,
)
from mlops_actions.errors import GitError

WORKSPACE = "workspace"
DEFAULT_METRICS = "metrics.json"
DEFAULT_PARAMS = "params.yaml"  # the file DVC always tracks as a whole, whatever dvc.yaml says
FETCH_HINT = "in GitHub Actions, set `fetch-depth: 0` on actions/checkout"


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """What the workspace is compared against.

    kind "ref": the files committed at `sha` (`ref` as the user or the PR named it);
    kind "tag": metrics from a registry tag (the fallback hook); kind "none": no baseline
    metrics (`ref`/`sha`, when set, are the revision the params were still compared against).
    """

    kind: Literal["ref", "tag", "none"]
    ref: str | None = None
    sha: str | None = None
    label: str = "no baseline"

    @property
    def name(self) -> str:
        """A short column header: the ref as named, or 'baseline'."""
        return self.ref or "baseline"


@dataclass(frozen=True)
class BaselineMetrics:
    """What the fallback hook returns: metrics files' parsed content, by path."""

    baseline: Baseline
    metrics: dict[str, Any]


Fallback = Callable[[], BaselineMetrics | None]


@dataclass(frozen=True)
class FileError:
    """A file that could not be read; its values count as missing, as in DVC. With
    `whole_revision`, DVC could not load the pipeline and read nothing at that revision."""

    rev: str
    path: str
    type: str
    msg: str
    whole_revision: bool = False

    def __str__(self) -> str:
        return f"{self.path} at {self.rev}: {self.msg}"

    def to_json(self) -> dict[str, str]:
        """DVC's shape for an error (as `dvc metrics show --json` prints it)."""
        return {"type": self.type, "msg": str(self)}


@dataclass(frozen=True)
class Comparison:
    baseline: Baseline
    metrics: list[Entry]
    params: list[Entry]
    errors: list[FileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def rows(self, section: Literal["metrics", "params"], all: bool = False) -> list[Entry]:
        entries = self.metrics if section == "metrics" else self.params
        return [e for e in entries if all or e.changed]

    def to_json(self, all: bool = False) -> dict[str, Any]:
        """`{"metrics": <dvc metrics diff --json>, "params": <dvc params diff --json>}`."""
        return {section: nest(self.rows(section, all)) for section in ("metrics", "params")}

    def errors_json(self) -> dict[str, Any]:
        """Errors in DVC's DiffResult shape: {rev: {path: error}}, or {rev: error}."""
        out: dict[str, Any] = {}
        for err in self.errors:
            if err.whole_revision:
                out[err.rev] = err.to_json()
            else:
                out.setdefault(err.rev, {})[err.path] = err.to_json()
        return out


# --- reading a revision ---------------------------------------------------------------------

_DIR = b"\0directory"  # a path that is a directory: DVC reads every file under it


class _Source:
    """Files of one side of the comparison, read relative to the project root."""

    rev = WORKSPACE

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        raise NotImplementedError

    def files_under(self, path: str) -> list[str]:
        raise NotImplementedError

    def cached(self, path: str, lock: Any) -> bytes | None:
        return None


class _Workspace(_Source):
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for path in paths:
            full = self.root / path
            try:
                out[path] = full.read_bytes()
            except IsADirectoryError:
                out[path] = _DIR
            except OSError:
                out[path] = None
        return out

    def files_under(self, path: str) -> list[str]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root / path):
            dirnames.sort()
            rel = Path(dirpath).relative_to(self.root).as_posix()
            found += [f"{rel}/{name}" for name in sorted(filenames)]
        return found


class _CatFile:
    """One `git cat-file --batch` process for every blob a comparison reads."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    def read(self, specs: list[str]) -> list[tuple[str, bytes] | None]:
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
        stdin.write("".join(f"{spec}\n" for spec in specs).encode())
        stdin.flush()
        return [self._one(stdout) for _ in specs]

    @staticmethod
    def _one(stdout: IO[bytes]) -> tuple[str, bytes] | None:
        header = stdout.readline().split()
        if not header:
            raise GitError("git cat-file --batch stopped unexpectedly")
        if header[-1] in (b"missing", b"ambiguous"):  # "<spec> missing"; a spec may have spaces
            return None
        data = stdout.read(int(header[2]))
        stdout.read(1)
        return header[1].decode(), data

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait()
            self._proc = None


class _Commit(_Source):
    def __init__(self, root: Path, prefix: str, sha: str, rev: str, blobs: _CatFile) -> None:
        self.root, self.prefix, self.sha, self.rev, self.blobs = root, prefix, sha, rev, blobs

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        got = self.blobs.read([f"{self.sha}:{self.prefix}{p}" for p in paths])
        return {
            p: None if g is None else (_DIR if g[0] == "tree" else g[1])
            for p, g in zip(paths, got, strict=True)
        }

    def files_under(self, path: str) -> list[str]:
        listed = git.run(
            "ls-tree",
            "-r",
            "--name-only",
            "-z",
            self.sha,
            "--",
            f"{self.prefix}{path}/",
            cwd=self.root,
        )
        return [name[len(self.prefix) :] for name in listed.split("\0") if name]

    def cached(self, path: str, lock: Any) -> bytes | None:
        """An output DVC keeps in its cache: dvc.lock names its md5, the local cache holds it."""
        for stage in (lock.get("stages") or {}).values() if isinstance(lock, dict) else ():
            wdir = stage.get("wdir", ".") if isinstance(stage, dict) else "."
            for out in (stage.get("outs") or []) if isinstance(stage, dict) else ():
                if not isinstance(out, dict) or _norm(wdir, str(out.get("path"))) != path:
                    continue
                md5 = str(out.get("md5") or "")
                if len(md5) < 3 or md5.endswith(".dir"):
                    return None
                cache = _cache_dir(self.root)
                sub = cache / "files" / "md5" if out.get("hash") == "md5" else cache
                try:
                    return (sub / md5[:2] / md5[2:]).read_bytes()
                except OSError:
                    return None
        return None


def _cache_dir(root: Path) -> Path:
    import configparser

    cache = root / ".dvc" / "cache"
    for name in ("config", "config.local"):
        parser = configparser.ConfigParser()
        try:
            parser.read(root / ".dvc" / name, encoding="utf-8")
        except configparser.Error:
            continue
        if parser.has_option("cache", "dir"):
            cache = (root / ".dvc" / parser.get("cache", "dir")).resolve()
    return cache


def _norm(wdir: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(wdir, path))


def _interpolate(path: str, context: dict[str, Any]) -> str | None:
    """`${a.b}` from params.yaml, the way dvc.yaml templating fills paths; None if unknown."""
    while "${" in path:
        start = path.index("${")
        end = path.find("}", start)
        if end < 0:
            return None
        value: Any = context
        for part in path[start + 2 : end].strip().split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        path = f"{path[:start]}{value}{path[end + 1 :]}"
    return path


@dataclass
class _Declared:
    metrics: dict[str, bool] = field(default_factory=dict)  # path -> kept in the DVC cache
    params: dict[str, list[str]] = field(default_factory=dict)  # path -> keys ([] = all)

    def add_params(self, path: str, keys: list[str]) -> None:
        if path in self.params and not self.params[path]:
            return
        self.params[path] = [] if not keys else [*self.params.get(path, []), *keys]


def _declared(dvcyaml: dict[str, Any], context: dict[str, Any]) -> _Declared:
    """The metrics and params files dvc.yaml declares (top level and its stages)."""
    found = _Declared()
    for item in dvcyaml.get("metrics") or []:
        if isinstance(item, str) and (path := _interpolate(item, context)):
            found.metrics.setdefault(_norm(".", path), False)
    for item in dvcyaml.get("params") or []:
        if isinstance(item, str) and (path := _interpolate(item, context)):
            found.add_params(_norm(".", path), [])
    stages = dvcyaml.get("stages")
    for stage in stages.values() if isinstance(stages, dict) else ():
        if not isinstance(stage, dict) or "foreach" in stage or "matrix" in stage:
            continue  # templated stage families are not expanded here
        wdir = _interpolate(str(stage.get("wdir") or "."), context) or "."
        for item in stage.get("metrics") or []:
            name, opts = (item, {}) if isinstance(item, str) else next(iter(item.items()))
            if path := _interpolate(str(name), context):
                cache = (opts or {}).get("cache", True) is not False
                found.metrics.setdefault(_norm(wdir, path), cache)
        for item in stage.get("params") or []:
            if isinstance(item, str):
                found.add_params(_norm(wdir, DEFAULT_PARAMS), [item])
            elif isinstance(item, dict):
                for name, keys in item.items():
                    if path := _interpolate(str(name), context):
                        found.add_params(_norm(wdir, path), [str(k) for k in keys or []])
    return found


@dataclass
class _Snapshot:
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    errors: list[FileError] = field(default_factory=list)
    has_metrics: bool = False  # a metrics file exists here (even an unreadable one)


def _pipeline(first: dict[str, bytes | None]) -> tuple[_Declared, Any]:
    """What dvc.yaml declares, and dvc.lock; raises ParseError when DVC would load nothing."""
    try:
        dvcyaml = parse_file("dvc.yaml", first["dvc.yaml"] or b"")
    except ParseError as exc:
        raise ParseError(exc.kind, str(exc), "dvc.yaml") from None
    context: Any = {}
    if (params := first[DEFAULT_PARAMS]) is not None:  # dvc.yaml templating reads params.yaml
        try:
            context = parse_file(DEFAULT_PARAMS, params)
        except ParseError as exc:
            raise ParseError(exc.kind, str(exc), DEFAULT_PARAMS) from None
        if not isinstance(context, dict):
            raise ParseError("ParseError", "not a mapping", DEFAULT_PARAMS)
        if problem := template_problem(context):
            raise ParseError("TypeError", problem, DEFAULT_PARAMS)
    try:
        declared = _declared(dvcyaml, context)
    except (AttributeError, TypeError, ValueError, StopIteration):
        raise ParseError("ParseError", "does not follow DVC's schema", "dvc.yaml") from None
    lock = None
    if any(declared.metrics.values()) and first["dvc.lock"] is not None:
        with contextlib.suppress(ParseError):
            lock = parse_file("dvc.lock", first["dvc.lock"])
    return declared, lock


def _read(source: _Source, params_file: str, metrics_file: str) -> _Snapshot:
    """One side's metrics and params files, parsed and reduced the way DVC reads them."""
    snap = _Snapshot()
    names = ["dvc.yaml", "dvc.lock", DEFAULT_PARAMS, params_file, metrics_file]
    contents = source.read(list(dict.fromkeys(names)))
    declared = _Declared(metrics={metrics_file: False})
    declared.add_params(params_file, [])
    lock: Any = None
    if contents["dvc.yaml"] is not None:
        try:
            found, lock = _pipeline(contents)
        except ParseError as exc:
            msg = f"{exc}, so DVC can load no pipeline and reads nothing there"
            snap.errors.append(FileError(source.rev, exc.path, exc.kind, msg, whole_revision=True))
            snap.has_metrics = contents[metrics_file] is not None
            return snap
        for path, cached in found.metrics.items():
            declared.metrics[path] = declared.metrics.get(path, False) or cached
        for path, keys in found.params.items():
            declared.add_params(path, keys)
    if contents[DEFAULT_PARAMS] is not None:
        declared.add_params(DEFAULT_PARAMS, [])
    wanted = [p for p in [*declared.metrics, *declared.params] if p not in contents]
    contents.update(source.read(list(dict.fromkeys(wanted))))

    def files(paths: Iterable[str], cached: dict[str, bool]) -> list[tuple[str, bytes | None]]:
        out: list[tuple[str, bytes | None]] = []
        for path in paths:
            content = contents[path]
            if content is None and cached.get(path):
                content = source.cached(path, lock)
            if content is _DIR:
                under = source.files_under(path)
                out += source.read(under).items() if under else [(path, None)]
            else:
                out.append((path, content))
        return out

    for path, content in files(declared.metrics, declared.metrics):
        if content is None:
            hint = " (has training run?)" if source.rev == WORKSPACE else ""
            snap.errors.append(FileError(source.rev, path, "FileNotFoundError", f"not found{hint}"))
            continue
        snap.has_metrics = True
        try:
            snap.metrics[path] = extract_metrics(parse_file(path, content)) or {}
        except ParseError as exc:
            snap.errors.append(FileError(source.rev, path, exc.kind, str(exc)))
    for path, content in files(declared.params, {}):
        if content is None:
            continue  # DVC skips params files that do not exist
        try:
            snap.params[path] = select_keys(parse_file(path, content), declared.params[path])
        except ParseError as exc:
            snap.errors.append(FileError(source.rev, path, exc.kind, str(exc)))
    return snap


# --- the baseline ---------------------------------------------------------------------------


def _commit(ref: str, cwd: Path) -> str | None:
    sha = git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=cwd, check=False)
    return sha or None


def _has_origin(cwd: Path) -> bool:
    return "origin" in git.run("remote", cwd=cwd, check=False).split()


def _remote_git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A git command that talks to origin: it fails rather than prompt for credentials."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=env
    )


def _fetch(ref: str, cwd: Path) -> tuple[str | None, str]:
    """Fetch one ref from origin (depth 1 in a shallow clone); its sha, or why it failed."""
    if not _has_origin(cwd):
        return None, "there is no 'origin' remote to fetch it from"
    shallow = git.run("rev-parse", "--is-shallow-repository", cwd=cwd, check=False) == "true"
    depth = ["--depth=1"] if shallow else []
    fetch = ("fetch", "--quiet", "--no-tags", *depth, "origin")
    # A branch lands in origin/<ref>, so the next command finds it without fetching again.
    branch = _remote_git(*fetch, f"+refs/heads/{ref}:refs/remotes/origin/{ref}", cwd=cwd)
    if branch.returncode == 0:
        return _commit(f"refs/remotes/origin/{ref}", cwd), ""
    proc = _remote_git(*fetch, ref, cwd=cwd)  # a tag or a commit
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        why = next(
            (line for line in lines if line.startswith("fatal:")), lines[-1] if lines else ""
        )
        return None, f"`git fetch origin {ref}` failed: {why or 'no output'}"
    return _commit("FETCH_HEAD", cwd), ""


def _find(candidates: list[str], fetch_name: str | None, cwd: Path) -> tuple[str | None, str]:
    for candidate in candidates:
        if sha := _commit(candidate, cwd):
            return sha, ""
    return _fetch(fetch_name, cwd) if fetch_name else (None, "")


def _default_branch(cwd: Path) -> tuple[str, str] | None:
    """origin/HEAD, else main or master (local or origin/), else what origin calls HEAD."""
    head = git.run("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", cwd=cwd, check=False)
    if head.startswith("refs/remotes/") and (sha := _commit(head, cwd)):
        return head.removeprefix("refs/remotes/"), sha
    for name in ("main", "master"):
        for ref in (name, f"origin/{name}"):
            if sha := _commit(ref, cwd):
                return ref, sha
    if _has_origin(cwd):  # e.g. actions/checkout, which sets no origin/HEAD
        remote = _remote_git("ls-remote", "--symref", "origin", "HEAD", cwd=cwd).stdout
        first = remote.splitlines()[0] if remote else ""
        if first.startswith("ref: refs/heads/"):
            name = first.split()[1].removeprefix("refs/heads/")
            sha, _ = _fetch(name, cwd)
            if sha:
                return name, sha
    return None


def _baseline(ref: str, sha: str) -> Baseline:
    return Baseline("ref", ref, sha, f"{ref} ({sha[:7]})")


def resolve_baseline(
    base: str | None = None, pr_base_ref: str | None = None, *, cwd: str | Path | None = None
) -> Baseline:
    """The git revision to compare against: `base` if given, else the PR's base branch, else
    the default branch; fetched from origin when this clone lacks it. Kind "none" when the repo
    has no such branch. Raises GitError when a named ref cannot be found or fetched."""
    where = Path(cwd) if cwd is not None else Path.cwd()
    if base:
        sha, why = _find([base, f"origin/{base}"], base, where)
        if not sha:
            raise GitError(
                f"--base {base}: no such branch, tag or commit here"
                f"{f'; {why}' if why else ''} ({FETCH_HINT})"
            )
        return _baseline(base, sha)
    if pr_base_ref:
        sha, why = _find([f"origin/{pr_base_ref}", pr_base_ref], pr_base_ref, where)
        if not sha:
            raise GitError(
                f"the pull request's base branch '{pr_base_ref}' is not in this clone"
                f"{f'; {why}' if why else ''} ({FETCH_HINT})"
            )
        return _baseline(pr_base_ref, sha)
    found = _default_branch(where)
    if found is None:
        return Baseline("none", label="no main, master or origin/HEAD branch found")
    return _baseline(*found)


# --- the comparison -------------------------------------------------------------------------


def _metrics_file(params_text: bytes | None) -> str:
    """train.metrics from the params file, read leniently (compare does not validate it)."""
    try:
        data = parse_file(DEFAULT_PARAMS, params_text) if params_text else {}
    except ParseError:
        return DEFAULT_METRICS
    train = data.get("train") if isinstance(data, dict) else None
    value = train.get("metrics") if isinstance(train, dict) else None
    return _norm(".", value) if isinstance(value, str) and value else DEFAULT_METRICS


def _read_commit(root: Path, prefix: str, sha: str, rev: str, names: tuple[str, str]) -> _Snapshot:
    blobs = _CatFile(root)
    try:
        return _read(_Commit(root, prefix, sha, rev, blobs), *names)
    finally:
        blobs.close()


def _relative_to_cwd(entries: list[Entry], root: Path) -> list[Entry]:
    """Paths as DVC prints them: relative to where the command runs."""
    where = os.path.relpath(root)
    if where == ".":
        return entries
    return [replace(e, path=os.path.join(where, e.path)) for e in entries]


def compare(
    params_file: str | Path = DEFAULT_PARAMS,
    base: str | None = None,
    pr_base_ref: str | None = None,
    *,
    fallback: Fallback | None = None,
) -> Comparison:
    """The workspace against the baseline (see `resolve_baseline`).

    When the baseline revision has no metrics file and `base` was not named, `fallback` may
    supply baseline metrics (the latest promoted model's tag; params are then read at its
    commit); without one the current values are shown alone."""
    params_path = Path(params_file).absolute()
    root, params_name = params_path.parent, params_path.name
    if not root.is_dir():
        raise GitError(f"{params_file}: its directory does not exist")
    found = git.run("rev-parse", "--git-dir", "--show-prefix", cwd=root, check=False)
    if not found:
        raise GitError(f"{root}: not a git repository; compare reads the baseline from git")
    prefix = found.splitlines()[1] if "\n" in found else ""
    baseline = resolve_baseline(base, pr_base_ref, cwd=root)

    workspace = _Workspace(root)
    metrics_file = _metrics_file(workspace.read([params_name])[params_name])
    names = (params_name, metrics_file)
    new = _read(workspace, *names)
    old = _Snapshot()
    if baseline.sha:
        old = _read_commit(root, prefix, baseline.sha, baseline.name, names)

    notes: list[str] = []
    if baseline.kind == "ref" and not old.has_metrics:
        missing = f"{baseline.label} has no committed {metrics_file}"
        supplied = fallback() if fallback is not None and not base else None
        if supplied is not None:
            ref_baseline, baseline = baseline, supplied.baseline
            metrics = {_norm(".", p): extract_metrics(d) or {} for p, d in supplied.metrics.items()}
            if baseline.sha and _commit(baseline.sha, root):
                old = _read_commit(root, prefix, baseline.sha, baseline.name, names)
            else:
                notes.append(f"params are compared against {ref_baseline.label}")
            old.metrics, old.errors = metrics, []
            notes.append(f"{missing}; metrics are compared against {baseline.label}")
        elif base:
            notes.append(f"{missing}; showing the current metrics alone")
        else:
            baseline = replace(baseline, kind="none", label=missing)

    # A metrics file missing on one side is one added or removed: no warning, unless the
    # workspace has none at all.
    errors = [
        e
        for e in [*old.errors, *new.errors]
        if e.type != "FileNotFoundError" or (e.rev == WORKSPACE and not new.has_metrics)
    ]
    return Comparison(
        baseline,
        _relative_to_cwd(diff_files(old.metrics, new.metrics), root),
        _relative_to_cwd(diff_files(old.params, new.params), root),
        errors,
        notes,
    )


# --- rendering ------------------------------------------------------------------------------


def _cell(value: Any, digits: int | None) -> str:
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
        if tablefmt == "github":  # a '|' in a value would end its Markdown cell
            row = [cell.replace("|", "\\|") for cell in row]
        rows.append(row)
    headers = (
        ["Path", title, old, WORKSPACE, "Change"] if old is not None else ["Path", title, "Value"]
    )
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
    return f"**{title}** {text}" if markdown else f"{title} {text}"


def render_text(c: Comparison, all: bool = False) -> str:
    """A terminal report: the baseline, then a table per section."""
    lines = [headline(c), *(f"note: {n}" for n in c.notes)]
    for label, body in _sections(c, all, "simple"):
        lines += ["", f"{label}:", body] if "\n" in body else ["", f"{label}: {body}"]
    return "\n".join(lines)


def render_markdown(c: Comparison, all: bool = False) -> str:
    """Markdown (GitHub tables) for PR comments and job summaries."""
    lines = [headline(c, markdown=True)]
    quoted = [*c.notes, *(f"⚠️ {e}" for e in c.errors)]
    lines += ["", *(f"> {line}  " for line in quoted)] if quoted else []
    for label, body in _sections(c, all, "github"):
        lines += ["", f"#### {label}", "", body if "\n" in body else f"_{body.capitalize()}._"]
    return "\n".join(lines) + "\n"


def render_json(c: Comparison, all: bool = False, indent: int | None = None) -> str:
    return json.dumps(c.to_json(all), indent=indent, default=str)
