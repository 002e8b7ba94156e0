"""DVC plots for the report: every plot a dvc.yaml declares (top-level `plots:` and stage
`plots` outputs), read at the base revision and in this run, the way `dvc plots diff` reads them.

Which files a plot reads and which fields are its x and y follow DVC: ids that are paths (a
file or a directory), named plots whose `x`/`y` map files to fields, `x` defaulting to the row
index (`step`) and `y` to the last field of the first row. The data points come from DVC's own
converter (`dvc.render.converter.vega`), so the fields a chart shows are the ones `dvc plots`
would draw. Data files are JSON, YAML, CSV or TSV; images (.png, .jpg, .gif, .svg) are listed.

The built-in trainer writes ROC, precision-recall and confusion files in dvclive's format at
`BUILTIN_FILES` and they are declared here as dvclive declares them, so a project without a
dvc.yaml gets the same section. Rendering is `plots_render`'s.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions import git
from mlops_actions.compare.revision import Commit, PlotSource, Workspace, plot_source
from mlops_actions.dvcio import cache
from mlops_actions.dvcio.diff import ParseError, parse_file
from mlops_actions.dvcio.dvcyaml import PlotDecl
from mlops_actions.errors import GitError

IMAGES = frozenset({".jpg", ".jpeg", ".gif", ".png", ".svg"})  # dvc_render's ImageRenderer
DATA = frozenset({".json", ".yaml", ".yml", ".csv", ".tsv"})
CONFUSION = frozenset({"confusion", "confusion_normalized"})

BUILTIN_DIR = "plots/sklearn"
BUILTIN_FILES = {
    "roc": f"{BUILTIN_DIR}/roc.json",
    "precision_recall": f"{BUILTIN_DIR}/precision_recall.json",
    "confusion_matrix": f"{BUILTIN_DIR}/confusion_matrix.json",
}
# As dvclive's log_sklearn_plot declares them.
BUILTIN_PROPS: dict[str, dict[str, Any]] = {
    "roc": {
        "template": "simple",
        "x": "fpr",
        "y": "tpr",
        "title": "Receiver operating characteristic (ROC)",
        "x_label": "False Positive Rate",
        "y_label": "True Positive Rate",
    },
    "precision_recall": {
        "template": "simple",
        "x": "recall",
        "y": "precision",
        "title": "Precision-Recall Curve",
        "x_label": "Recall",
        "y_label": "Precision",
    },
    "confusion_matrix": {
        "template": "confusion",
        "x": "actual",
        "y": "predicted",
        "title": "Confusion Matrix",
        "x_label": "True Label",
        "y_label": "Predicted Label",
    },
}

Point = tuple[float, float]
Pair = tuple[str, str]  # (actual, predicted)
# A confusion file's pairs as read, or counted (as a results file carries them).
Pairs = list[Pair] | Counter[Pair]
ROWS = 2_000  # rows of a long curve a chart is computed from, evenly spaced


@dataclass
class Series:
    """One line of an x/y plot at one revision: a data file's field."""

    name: str  # the data file, and the field when a plot has several
    points: list[Point]


@dataclass
class Plot:
    """One plot, both sides read. `kind`: "linear" (x/y curves), "confusion", "image"."""

    id: str
    props: dict[str, Any]
    kind: str
    files: list[str]
    base: list[Series] | None = None  # None: not at the base (or no base)
    new: list[Series] | None = None
    base_pairs: Mapping[str, Pairs] | None = None  # confusion: file -> pairs
    new_pairs: Mapping[str, Pairs] | None = None
    images: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # md5s
    x_label: str | None = None
    y_label: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        title = self.props.get("title")
        return title if isinstance(title, str) and title.strip() else self.id


def builtin_decls(root: Path, project: Path, written: set[str]) -> list[PlotDecl]:
    """The built-in trainer's plot files this run `written` (project-relative paths), relative
    to the comparison `root`: a file left by another run, or committed, is not this run's."""
    decls = []
    for name, path in BUILTIN_FILES.items():
        if path not in written:
            continue
        rel = posixpath.normpath(os.path.relpath(project / path, root).replace(os.sep, "/"))
        decls.append(PlotDecl(rel, dict(BUILTIN_PROPS[name]), True, "builtin"))
    return decls


# --- reading one side ----------------------------------------------------------------------


def parse_data(path: str, content: bytes, header: bool = True) -> Any:
    """A data file as DVC's plots parser reads it: CSV/TSV rows as mappings, JSON/YAML as is."""
    suffix = posixpath.splitext(path)[1].lower()
    if suffix not in DATA:
        raise ParseError("PlotMetricTypeError", "not a plot format DVC reads")
    if suffix in (".csv", ".tsv"):
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("EncodingError", "not valid UTF-8") from None
        delimiter = "\t" if suffix == ".tsv" else ","
        if header:
            return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
        names = [str(i) for i in range(len(first))]
        return list(csv.DictReader(io.StringIO(text), delimiter=delimiter, fieldnames=names))
    return parse_file(path, content)


def _entries(side: PlotSource, extra: Iterable[PlotDecl]) -> dict[str, tuple[PlotDecl, list[str]]]:
    """Plot id -> (declaration, data files), directories unpacked as DVC does (each file of a
    directory plot is a plot of its own); a later declaration of the same id wins."""
    found: dict[str, tuple[PlotDecl, list[str]]] = {}
    for decl in [*side.declared, *extra]:
        if decl.is_path:
            for path in side.expand(decl.id):
                found[path] = (PlotDecl(path, decl.props, True, decl.file), [path])
        else:
            found[decl.id] = (decl, _sources(decl))
    return found


def _sources(decl: PlotDecl) -> list[str]:
    """DVC's infer_data_sources: the y files, then the first x file."""
    y, x = decl.props.get("y"), decl.props.get("x")
    sources = [str(k) for k in y] if isinstance(y, dict) else [decl.id]
    if isinstance(x, dict) and x:
        sources.append(str(next(iter(x))))
    return list(dict.fromkeys(sources))


def _kind(decl: PlotDecl, files: list[str]) -> str:
    if files and all(posixpath.splitext(f)[1].lower() in IMAGES for f in files):
        return "image"
    return "confusion" if decl.props.get("template") in CONFUSION else "linear"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _thin(content: Any, limit: int) -> Any:
    """Every list in `content` cut to `limit` evenly spaced rows (the first and the last kept):
    a chart of `plots_render.POINTS` points needs no more of a long curve."""
    if isinstance(content, list):
        if len(content) <= limit:
            return content
        step = (len(content) - 1) / (limit - 1)
        return [content[round(i * step)] for i in range(limit)]
    if isinstance(content, dict):
        return {k: _thin(v, limit) for k, v in content.items()}
    return content


def _rows_only(data: dict[str, Any]) -> bool:
    """Each file a plain list of rows with the same fields (dvclive's confusion files): DVC's
    data points are then the rows themselves."""
    return all(
        isinstance(rows, list)
        and rows
        and all(isinstance(r, dict) for r in rows)
        and len({frozenset(r) for r in rows}) == 1
        for rows in data.values()
    )


def _datapoints(
    plot: Plot, side: PlotSource, decl: PlotDecl, data: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """DVC's flat data points of `data` (each with `filename` and `field`) and the plot's
    properties as DVC infers them; None (and an error noted) when DVC would refuse them."""
    from dvc.exceptions import DvcException
    from dvc.render.converter.vega import VegaConverter

    try:
        points, props = VegaConverter(decl.id, data, dict(decl.props)).flat_datapoints(side.rev)
    except (DvcException, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        plot.errors.append(f"{decl.id} at {side.rev}: {exc}")
        return None
    return points, props


def _data(plot: Plot, side: PlotSource, decl: PlotDecl) -> dict[str, Any] | None:
    """The plot's data files at this side, parsed; None when one is missing or unreadable."""
    data: dict[str, Any] = {}
    for path in plot.files:
        content = side.read(path)
        if content is None:
            return None
        try:
            data[path] = parse_data(path, content, decl.props.get("header", True) is not False)
        except ParseError as exc:
            plot.errors.append(f"{path} at {side.rev}: {exc}")
            return None
    return data


def _confusion(
    plot: Plot, side: PlotSource, decl: PlotDecl, data: dict[str, Any]
) -> tuple[dict[str, list[tuple[str, str]]], dict[str, Any]] | None:
    """(actual, predicted) pairs per data file and the properties. For plain row lists DVC
    converts one row per file (to check the fields and name the files) and the pairs are
    counted from the rows directly: the same pairs, without a copy of every row."""
    if not _rows_only(data):
        got = _datapoints(plot, side, decl, data)
        return None if got is None else (_pairs(*got), got[1])
    got = _datapoints(plot, side, decl, {k: v[:1] for k, v in data.items()})
    if got is None:
        return None
    points, props = got
    x, y = props.get("x"), props.get("y")
    names = list(dict.fromkeys(str(p.get("filename", "")) for p in points))
    y_decl = decl.props.get("y")
    files = list(dict.fromkeys(map(str, y_decl))) if isinstance(y_decl, dict) else [decl.id]
    pairs: dict[str, list[tuple[str, str]]] = {}
    for file, name in zip(files, names, strict=False):
        rows = data.get(file) or []
        pairs[name] = [(str(r[x]), str(r[y])) for r in rows if x in r and y in r]
    return pairs, props


def _series(points: list[dict[str, Any]], props: dict[str, Any]) -> tuple[list[Series], int]:
    """The numeric (x, y) lines per file and field; the count of points left out (not numbers)."""
    x, y = str(props.get("x")), str(props.get("y"))
    groups: dict[tuple[str, str], list[Point]] = {}
    dropped = 0
    for point in points:
        key = (str(point.get("filename", "")), str(point.get("field", "")))
        px, py = _number(point.get(x)), _number(point.get(y))
        if px is None or py is None:
            dropped += 1
            continue
        groups.setdefault(key, []).append((px, py))
    fields = {f for _, f in groups}
    files = {f for f, _ in groups}
    lines = []
    for (file, name), pts in groups.items():
        parts = [file] if len(files) > 1 or len(fields) == 1 else []
        parts += [name] if len(fields) > 1 else []
        lines.append(Series(" ".join(parts) or name, pts))
    return lines, dropped


def _pairs(points: list[dict[str, Any]], props: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Confusion templates: (actual, predicted) per data file, as the template counts them."""
    x, y = props.get("x"), props.get("y")
    found: dict[str, list[tuple[str, str]]] = {}
    for point in points:
        if x in point and y in point:
            pair = (str(point[x]), str(point[y]))
            found.setdefault(str(point.get("filename", "")), []).append(pair)
    return found


def _read_side(plot: Plot, side: PlotSource, decl: PlotDecl, is_base: bool) -> None:
    if plot.kind == "image":
        for path in plot.files:
            content = side.read(path)
            digest = None if content is None else hashlib.md5(content).hexdigest()
            old, new = plot.images.get(path, (None, None))
            plot.images[path] = (digest, new) if is_base else (old, digest)
        return
    data = _data(plot, side, decl)
    if data is None:
        return
    if plot.kind == "confusion":
        found = _confusion(plot, side, decl, data)
        if found is None:
            return
        pairs, props = found
        _labels(plot, props)
        if is_base:
            plot.base_pairs = pairs
        else:
            plot.new_pairs = pairs
        return
    got = _datapoints(plot, side, decl, _thin(data, ROWS))
    if got is None:
        return
    points, props = got
    _labels(plot, props)
    lines, dropped = _series(points, props)
    if dropped:
        plot.errors.append(
            f"{decl.id} at {side.rev}: {dropped} points whose x or y is not a number left out"
        )
    if is_base:
        plot.base = lines
    else:
        plot.new = lines


def _labels(plot: Plot, props: dict[str, Any]) -> None:
    plot.x_label = plot.x_label or _label(props.get("x_label"))
    plot.y_label = plot.y_label or _label(props.get("y_label"))


def _label(value: Any) -> str | None:
    return value if isinstance(value, str) and value and not value.startswith("dvc_") else None


def collect(new: PlotSource, base: PlotSource | None, extra: Iterable[PlotDecl] = ()) -> list[Plot]:
    """Every plot of either side, this run's declarations first; each side's data read."""
    extra = list(extra)
    new_entries = _entries(new, extra)
    base_entries = _entries(base, extra) if base is not None else {}
    plots: list[Plot] = []
    for plot_id in dict.fromkeys([*new_entries, *base_entries]):
        decl, files = new_entries.get(plot_id) or base_entries[plot_id]
        plot = Plot(plot_id, dict(decl.props), _kind(decl, files), files)
        if base is not None and plot_id in base_entries:
            _read_side(plot, base, decl, True)
        if plot_id in new_entries:
            _read_side(plot, new, decl, False)
        images = any(any(d) for d in plot.images.values())
        if plot.base or plot.new or plot.base_pairs or plot.new_pairs or images or plot.errors:
            plots.append(plot)
    return plots


def read(
    root: Path, base_sha: str | None, extra: Iterable[PlotDecl] = ()
) -> tuple[list[Plot], list[str]]:
    """The plots of the workspace at `root` against the commit `base_sha` (None: this run
    alone), and notes on what could not be read."""
    notes: list[str] = []
    try:
        top = Path(git.run("rev-parse", "--show-toplevel", cwd=root).strip())
    except GitError:
        top = None
    objects = cache.Objects(root)
    try:
        with git.CatFile(root) as blobs:
            new = plot_source(Workspace(root), objects)
            base = None
            if base_sha and top is not None:
                rel = root.resolve().relative_to(top.resolve()).as_posix()
                prefix = "" if rel == "." else f"{rel}/"
                commit = Commit(root, prefix, base_sha, base_sha[:7], blobs)
                try:
                    base = plot_source(commit, objects)
                except GitError as exc:
                    notes.append(f"plots at the base {base_sha[:7]} not read: {exc}")
            for side in (new, base):
                if side is not None and side.error:
                    notes.append(f"plots at {side.rev} not read: {side.error}")
            plots = collect(new, base, extra)
    except GitError:
        return [], []  # outside git there is no base; the comparison says so already
    finally:
        objects.close()
    return plots, notes
