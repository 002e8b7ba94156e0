"""The Plots section of the report: x/y curves as Mermaid line charts (base and this run on
one shared x grid), confusion templates as tables with the change, images as links.

Within GitHub's limits: a chart has `POINTS` points per line and at most `SERIES` lines per
side; the section stops drawing at `PLOTS` plots or `BUDGET` characters and names the rest.
Every name, title and label comes from the pull request and is shown through the inert module:
as text in Markdown, as a quoted label (what could end it replaced) in Mermaid.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from typing import Any

from mlops_actions import inert
from mlops_actions.report.markdown import number
from mlops_actions.report.plots import Pair, Pairs, Plot, Series

POINTS = 40
SERIES = 4
PLOTS = 12
CLASSES = 12
FILES = 10  # confusion files or images of one plot a results file carries
BUDGET = 24_000
# This run's lines dark, the base's light, one hue per series; every colour has at least 3:1
# contrast on GitHub's light (#ffffff) and dark (#0d1117) canvas.
_HUES = (
    ("#218bff", "#0969da"),
    ("#e16f24", "#bc4c00"),
    ("#2da44e", "#1a7f37"),
    ("#a371f7", "#8250df"),
)
_ONE = (("#bc4c00", "orange"), ("#0969da", "blue"))  # one series: base, this run
_NAMES = (
    ("light blue", "dark blue"),
    ("light orange", "dark orange"),
    ("light green", "dark green"),
    ("light purple", "dark purple"),
)


def _exact(value: float) -> str:
    """A grid end as Mermaid reads it, every digit of it (a power-of-two step is exact)."""
    from decimal import Decimal

    out = format(Decimal(value), "f")
    out = out.rstrip("0").rstrip(".") if "." in out else out
    return "0" if out in ("-0", "") else out


def _plain(value: float) -> str:
    """A number as Mermaid reads it, 4 significant digits, no exponent."""
    rounded = float(f"{value:.4g}")
    out = f"{rounded:.10f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


# --- x/y curves -----------------------------------------------------------------------------


def x_grid(lines: list[Series]) -> list[float] | None:
    """At most `POINTS` evenly spaced x values for the chart: the step a power of two (0.25,
    1, 4…) and both ends multiples of it, so Mermaid, which steps a numeric x axis by adding
    floats, lands on every point, the last one too. An x across most of [0, 1] (ROC,
    precision-recall) spans all of it."""
    import math

    import numpy as np

    xs = _values(lines)[:, 0]
    if not xs.size or xs.min() == xs.max():
        return None
    low, high = float(xs.min()), float(xs.max())
    if low >= 0 and high <= 1 and high - low >= 0.5:
        low, high = 0.0, 1.0
    step = 2.0 ** math.ceil(math.log2((high - low) / (POINTS - 2)))  # + 2 ends rounded out
    if bool(np.all(xs == np.round(xs))):
        step = max(step, 1.0)  # epochs, steps: every one of them a point
    first, last = math.floor(low / step), math.ceil(high / step)
    return [(first + i) * step for i in range(last - first + 1)]


def _unit(lines: list[Series], grid: list[float]) -> bool:
    """Whether a chart's x and y are rates (ROC, precision-recall): both axes then span 0–1."""
    values = _values(lines)
    inside = bool(values.size) and bool(((values >= 0) & (values <= 1)).all())
    return inside and grid[0] == 0 and grid[-1] == 1


def _values(lines: list[Series]) -> Any:
    """Every (x, y) of `lines` as one (n, 2) array."""
    import numpy as np

    found = [_array(line) for line in lines]
    return np.concatenate(found) if found else np.zeros((0, 2))


def _array(line: Series) -> Any:
    """A line's points as an (n, 2) array (fromiter: a list of tuples converts slowly)."""
    import itertools

    import numpy as np

    flat = itertools.chain.from_iterable(line.points)
    return np.fromiter(flat, dtype=float, count=2 * len(line.points)).reshape(-1, 2)


def resample(line: Series, grid: list[float]) -> list[float]:
    """The line's y at each grid x, linearly interpolated (held flat beyond its ends); points
    sorted by x, in file order among equal x."""
    import numpy as np

    pts = _array(line)
    order = np.argsort(pts[:, 0], kind="stable")
    xs, ys = pts[order, 0], pts[order, 1]
    return [float(v) for v in np.interp(np.array(grid), xs, ys)]


def line_chart(plot: Plot) -> tuple[str, list[str]]:
    """The Mermaid block of an x/y plot and the notes under it."""
    base, new = list(plot.base or []), list(plot.new or [])
    notes = []
    names = list(dict.fromkeys([s.name for s in new] + [s.name for s in base]))
    if len(names) > SERIES:
        notes.append(f"showing {SERIES} of {len(names)} series")
        names = names[:SERIES]
    base = [s for s in base if s.name in names]
    new = [s for s in new if s.name in names]
    grid = x_grid([*base, *new])
    if grid is None:
        return "", ["not drawn: fewer than two distinct x values"]
    drawn: list[tuple[str, list[float]]] = []
    legend: list[str] = []
    palette: list[str] = []
    for i, name in enumerate(names):
        for side, lines, which in (("base", base, 0), ("this run", new, 1)):
            found = next((s for s in lines if s.name == name), None)
            if found is None:
                continue
            drawn.append((side, resample(found, grid)))
            if len(names) == 1:  # two hues tell base from this run best
                palette.append(_ONE[which][0])
                legend.append(f"{side}: {_ONE[which][1]}")
                continue
            palette.append(_HUES[i][which])
            legend.append(f"{inert.code(name)} {side}: {_NAMES[i][which]}")
    values = [v for _, ys in drawn for v in ys]
    low, high = min(values), max(values)
    if _unit([*base, *new], grid):
        low, high = 0.0, 1.0
    elif low == high:
        low, high = low - (abs(low) * 0.05 or 1.0), high + (abs(high) * 0.05 or 1.0)
    title = inert.mermaid(plot.title, default="plot")
    x_label = inert.mermaid(plot.x_label or "x", default="x")
    y_label = inert.mermaid(plot.y_label or "y", default="y")
    init = '{"themeVariables": {"xyChart": {"plotColorPalette": "' + ", ".join(palette) + '"}}}'
    block = [
        "```mermaid",
        f"%%{{init: {init}}}%%",
        "xychart-beta",
        f"    title {title}",
        f"    x-axis {x_label} {_exact(grid[0])} --> {_exact(grid[-1])}",
        f"    y-axis {y_label} {_plain(low)} --> {_plain(high)}",
        *(f"    line [{', '.join(_plain(v) for v in ys)}]" for _, ys in drawn),
        "```",
    ]
    notes.insert(0, "lines: " + " · ".join(legend))
    return "\n".join(block), notes


# --- confusion templates --------------------------------------------------------------------


def _matrix(pairs: Pairs, labels: list[str], normalized: bool) -> dict[Pair, float]:
    counts = Counter(pairs)  # a Counter's counts are kept as they are
    if not normalized:
        return {k: float(v) for k, v in counts.items()}
    totals: Counter[str] = Counter()
    for (actual, _), n in counts.items():
        totals[actual] += n
    return {(a, p): n / totals[a] for (a, p), n in counts.items() if totals[a]}


def _cell(value: float, normalized: bool) -> str:
    return f"{value:.3f}" if normalized else number(value)


def _table(
    title: str,
    labels: list[str],
    cells: dict[tuple[str, str], float],
    base: dict[tuple[str, str], float] | None,
    normalized: bool,
) -> str:
    from tabulate import tabulate

    rows = []
    for actual in labels:
        row = [f"**{inert.cell(actual)}**"]
        for predicted in labels:
            value = cells.get((actual, predicted), 0.0)
            shown = _cell(value, normalized)
            if base is not None:
                delta = value - base.get((actual, predicted), 0.0)
                if delta:
                    shown += f" ({'+' if delta > 0 else '−'}{_cell(abs(delta), normalized)})"
            row.append(shown)
        rows.append(row)
    headers = [f"{title}: actual \\ predicted", *(inert.cell(label) for label in labels)]
    return tabulate(rows, headers=headers, tablefmt="pipe", disable_numparse=True)


def confusion_tables(plot: Plot) -> tuple[str, list[str]]:
    normalized = plot.props.get("template") == "confusion_normalized"
    base_pairs, new_pairs = plot.base_pairs or {}, plot.new_pairs or {}
    parts, notes = [], []
    for file in dict.fromkeys([*new_pairs, *base_pairs]):
        old, new = base_pairs.get(file), new_pairs.get(file)
        labels = sorted({v for pairs in (old or [], new or []) for pair in pairs for v in pair})
        if not labels:  # no pairs to count
            continue
        if len(labels) > CLASSES:
            notes.append(
                f"{inert.code(file)}: {len(labels)} classes, more than the {CLASSES} shown"
            )
            continue
        if len(new_pairs) + len(base_pairs) > 2:
            parts.append(inert.code(file))
        old_cells = _matrix(old, labels, normalized) if old is not None else None
        if old_cells is not None:
            parts.append(_table("base", labels, old_cells, None, normalized))
        if new is not None:
            cells = _matrix(new, labels, normalized)
            parts.append(_table("this run", labels, cells, old_cells, normalized))
        else:
            notes.append(f"{inert.code(file)}: not in this run")
    if base_pairs and new_pairs:
        notes.append("in brackets: the change from the base")
    return "\n\n".join(parts), notes


# --- what a chart needs -----------------------------------------------------------------------


def drawable(plot: Plot) -> Plot:
    """`plot` cut to what its part of the section draws, for a results file that must stay
    small: at most `SERIES` series, each resampled onto the chart's grid (drawn again, the
    chart is the same), confusion pairs counted, at most `FILES` files of at most `CLASSES`
    classes. What is left out is named among its errors."""
    errors = list(plot.errors)
    if plot.kind == "linear":
        base, new = list(plot.base or []), list(plot.new or [])
        names = list(dict.fromkeys([s.name for s in new] + [s.name for s in base]))
        if len(names) > SERIES:
            errors.insert(0, f"showing {SERIES} of {len(names)} series")
            names = names[:SERIES]
        grid = x_grid([s for s in [*base, *new] if s.name in names])

        def cut(lines: list[Series] | None) -> list[Series] | None:
            if lines is None:
                return None
            kept: dict[str, Series] = {}
            for s in lines:  # the first line of a name, as the chart takes it
                if s.name in names:
                    kept.setdefault(s.name, s)
            if grid is None:  # not drawn: one point of each line says so again
                return [Series(s.name, s.points[:1]) for s in kept.values()]
            return [
                Series(s.name, list(zip(grid, resample(s, grid), strict=True)))
                for s in kept.values()
            ]

        return dataclasses.replace(plot, base=cut(plot.base), new=cut(plot.new), errors=errors)
    if plot.kind == "confusion":
        base_pairs, new_pairs = plot.base_pairs or {}, plot.new_pairs or {}
        files = list(dict.fromkeys([*new_pairs, *base_pairs]))
        if len(files) > FILES:
            errors.append(f"showing {FILES} of {len(files)} files")
            files = files[:FILES]
        wide = set()
        for file in files:
            sides = (base_pairs.get(file) or [], new_pairs.get(file) or [])
            classes = len({v for pairs in sides for pair in pairs for v in pair})
            if classes > CLASSES:
                errors.append(f"{file}: {classes} classes, more than the {CLASSES} shown")
                wide.add(file)

        def counted(pairs: Mapping[str, Pairs] | None) -> dict[str, Pairs] | None:
            if pairs is None:
                return None  # a file too wide to show stays, with no pairs
            return {f: Counter() if f in wide else Counter(pairs[f]) for f in files if f in pairs}

        return dataclasses.replace(
            plot,
            base_pairs=counted(plot.base_pairs),
            new_pairs=counted(plot.new_pairs),
            errors=errors,
        )
    images = dict(list(plot.images.items())[:FILES])
    if len(plot.images) > FILES:
        errors.append(f"showing {FILES} of {len(plot.images)} images")
    return dataclasses.replace(plot, images=images, errors=errors)


# --- the section ----------------------------------------------------------------------------


def _images(plot: Plot, run_url: str | None) -> list[str]:
    where = f"[workflow run]({run_url})" if run_url else "in the workflow run"
    lines = []
    for path, (old, new) in plot.images.items():
        if new is None and old is None:
            continue
        state = (
            "removed"
            if new is None
            else "new"
            if old is None
            else "unchanged"
            if old == new
            else "changed"
        )
        lines.append(
            f"- {inert.code(path)}: {state} · {where if new is not None else 'at the base'}"
        )
    return lines


def _heading(plot: Plot) -> str:
    """One shape for every plot: its title in bold, its file when the title is not it, the sides."""
    sides = "base and this run" if _both(plot) else "this run" if _has_new(plot) else "base only"
    named = f" · {inert.code(plot.id)}" if plot.title != plot.id else ""
    return f"**{inert.text(plot.title)}**{named} · {sides}"


def _has_new(plot: Plot) -> bool:
    return bool(plot.new or plot.new_pairs)


def _both(plot: Plot) -> bool:
    return bool((plot.base or plot.base_pairs) and _has_new(plot))


def render(plots: list[Plot], notes: list[str], run_url: str | None = None) -> str | None:
    """The Markdown of the Plots section (without its heading), None when there are none."""
    if not plots and not notes:
        return None
    parts: list[str] = []
    size, shown = 0, 0
    skipped: list[str] = []
    images: list[str] = []
    for plot in plots:
        if plot.kind == "image":
            images += _images(plot, run_url)
            continue
        if shown >= PLOTS or size >= BUDGET:
            skipped.append(inert.code(plot.id))
            continue
        body, below = line_chart(plot) if plot.kind == "linear" else confusion_tables(plot)
        below += [inert.text(e) for e in plot.errors]
        piece = "\n\n".join(
            p
            for p in (_heading(plot), body, f"<sub>{' · '.join(below)}</sub>" if below else "")
            if p
        )
        parts.append(piece)
        size += len(piece)
        shown += 1
    if images:
        parts.append(
            "**Images**\n\n" + "\n".join(images) + "\n\n<sub>Images are listed, not drawn: a "
            "workflow that uploads them (actions/upload-artifact) has them among the run's "
            "artifacts.</sub>"
        )
    if skipped:
        parts.append(
            f"> [!NOTE]\n> {len(skipped)} more plots not drawn, to keep the comment within "
            f"GitHub's size limit: {', '.join(skipped)}"
        )
    if notes:
        parts.append("\n".join(f"- {inert.text(n)}" for n in notes))
    return "\n\n".join(parts)
