"""The drift report in Markdown (a per-feature table and Mermaid charts), and the drift issue's
body: the report, a chart of the last runs' drift share, and that history itself as a hidden
JSON block, so the issue is its own storage."""

from __future__ import annotations

import json
import re
from typing import TypedDict

from mlops_actions import inert
from mlops_actions.config import gates
from mlops_actions.monitor.watch import MonitorResult

LABEL = "mlops-drift"
HISTORY_LIMIT = 30
CHART_FEATURES = 10
_HISTORY = re.compile(r"<!-- mlops-actions:drift-history\n(.*?)\n-->", re.S)


class HistoryEntry(TypedDict):
    date: str
    version: str
    share: float
    alarm: bool


def issue_marker(model: str) -> str:
    return f"<!-- mlops-actions:drift model={model} -->"


def _num(value: float) -> str:
    if value == 0:
        return "0"
    text = f"{value:.3g}" if abs(value) >= 1e-3 else f"{value:.2e}"
    return text.replace("-", "\u2212")  # one minus sign, as the model report


def mermaid_label(name: str, limit: int = 24) -> str:
    """A feature name as a quoted xychart-beta axis label."""
    return inert.mermaid(name, limit=limit)


# Series colours with at least 3:1 contrast on GitHub's light and dark canvas.
BAR = "#0969da"
LIMIT_LINE = "#cf222e"


def _init(colours: tuple[str, ...], **chart: object) -> str:
    """The Mermaid directive that sets a chart's series colours (and its layout)."""
    found: dict[str, object] = {
        "themeVariables": {"xyChart": {"plotColorPalette": ", ".join(colours)}}
    }
    if chart:
        found["xyChart"] = chart
    return f"%%{{init: {json.dumps(found)}}}%%"


BAR_WIDTH = 16  # characters of the longest bar


def _bar(value: float, top: float) -> str:
    """A Unicode bar, eighths of a character: as long on a phone as on a desktop."""
    eighths = round(value / top * BAR_WIDTH * 8) if top > 0 else 0
    full, rest = divmod(eighths, 8)
    return "█" * full + ("▏▎▍▌▋▊▉"[rest - 1] if rest else "") or "▏"


def drift_chart(result: MonitorResult) -> str | None:
    """The features that drift most, as a table with a bar column (from 0, one row each, so no
    name overlaps another on any screen); every feature is in the table under it."""
    ranked = sorted(result.drift.features, key=lambda f: -f.psi)[:CHART_FEATURES]
    if not ranked:
        return None
    limit = result.drift.thresholds.psi
    top = max([f.psi for f in ranked] + [limit])
    more = len(result.drift.features) - len(ranked)
    shown = f"top {len(ranked)} of {len(result.drift.features)}" if more > 0 else "every feature"
    rows = [
        f"| feature ({shown}) | PSI | bar, from 0 |",
        "| --- | ---: | --- |",
    ]
    for f in ranked:
        mark = " 🔴" if f.drifted else ""
        rows.append(f"| {inert.cell(f.name)} | {_num(f.psi)}{mark} | {_bar(f.psi, top)} |")
    threshold = _bar(limit, top)
    rows.append(f"| _drift threshold_ | {_num(limit)} | {threshold} |")
    return "\n".join(rows)


def feature_table(result: MonitorResult) -> str:
    rows = [
        "| feature | test | statistic | p-value | adjusted p | PSI | drifted |",
        "| --- | --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    ordered = sorted(result.drift.features, key=lambda f: (not f.drifted, -f.psi))
    for f in ordered:
        rows.append(
            f"| {inert.cell(f.name)} | {'KS' if f.test == 'ks' else 'χ²'} | {_num(f.statistic)} | "
            f"{_num(f.p_value)} | {_num(f.p_adjusted)} | {_num(f.psi)} | "
            f"{'🔴 yes' if f.drifted else 'no'} |"
        )
    return "\n".join(rows)


def decay_section(result: MonitorResult) -> str:
    found = result.decay
    if found is None:
        return "\n".join(
            f"_{inert.text(note)}_" for note in result.notes if note.startswith("no decay")
        )
    rows = [
        f"On {found.rows} labelled rows, against the metrics "
        f"{inert.code(result.tag or result.version)} records:",
        "",
        "| metric | recorded | now | change |",
        "| --- | ---: | ---: | ---: |",
    ]
    rows += [
        f"| {inert.cell(e.metric)} | {_num(e.recorded)} | {_num(e.current)} | {'+' if e.change > 0 else ''}{_num(e.change)} |"
        for e in found.entries
    ]
    if found.gates:
        state = gates.overall(found.gates)
        said = {gates.PASS: "hold", gates.FAIL: "fail", gates.ERROR: "could not be evaluated"}
        rows += [
            "",
            f"The decay rules {said[state]}:",
            "",
            gates.render_markdown(found.gates, with_headline=False),
        ]
    return "\n".join(rows)


def render(result: MonitorResult, run_url: str | None = None) -> str:
    d = result.drift
    t = d.thresholds
    verdict = "🔴 drift" if d.alarm else "🟢 no drift"
    if result.decay is not None:
        verdict += ", 🔴 decay" if result.decay.decayed else ", 🟢 no decay"
    label = inert.code(f"{result.model}@{result.version}")
    parts = [
        f"## Data drift: {label}",
        "",
        f"**{verdict}**: {len(d.drifted)} of {len(d.features)} features drifted "
        f"({d.share:.0%}). {inert.code(result.data)} ({result.rows_current:,} rows) compared "
        f"with {inert.code(result.reference)} as {label} was trained on it "
        f"({result.rows_reference:,} rows).",
        "",
        f"A feature drifts when its test rejects at a false discovery rate of {_num(t.fdr)} "
        f"(Benjamini-Hochberg across the features) and its PSI is at least {_num(t.psi)}; "
        f"the alarm goes off when more than {t.share:.0%} of the features drift.",
        "",
    ]
    chart = drift_chart(result)
    if chart:
        parts += [chart, ""]
    parts += [
        "<details><summary>Every feature</summary>",
        "",
        feature_table(result),
        "",
        "</details>",
        "",
        "### Decay",
        "",
        decay_section(result),
        "",
    ]
    if run_url:
        parts += [f"[workflow run]({run_url})", ""]
    return "\n".join(parts)


# --- the issue and its history --------------------------------------------------------------


def parse_history(body: str | None) -> list[HistoryEntry]:
    found = _HISTORY.search(body or "")
    if not found:
        return []
    try:
        loaded = json.loads(found.group(1))
    except ValueError:
        return []
    out: list[HistoryEntry] = []
    for item in loaded if isinstance(loaded, list) else []:
        # The issue's body is editable text: a share is a fraction, a date and version short.
        share = item.get("share") if isinstance(item, dict) else None
        if isinstance(share, (int, float)) and not isinstance(share, bool) and 0 <= share <= 1:
            out.append(
                HistoryEntry(
                    date=str(item.get("date", ""))[:40],
                    version=str(item.get("version", ""))[:100],
                    share=float(share),
                    alarm=bool(item.get("alarm")),
                )
            )
    return out


def add_run(history: list[HistoryEntry], result: MonitorResult, date: str) -> list[HistoryEntry]:
    entry = HistoryEntry(
        date=date, version=result.version, share=round(result.drift.share, 4), alarm=result.alarm
    )
    return [*history, entry][-HISTORY_LIMIT:]


def _when(date: str) -> str:
    """'2026-12-05T04:07:31Z' as '12-05 04:07'."""
    return date[5:16].replace("T", " ")


def history_chart(history: list[HistoryEntry], alarm_share: float = 0.0) -> str:
    """The share of drifted features per run (runs numbered, dates in the table under it), on
    an axis scaled to the shares, with the alarm's share as a second line."""
    if len(history) < 2:
        return ""
    shares = [h["share"] * 100 for h in history]
    top = max([*shares, alarm_share * 100]) * 1.25 or 1.0
    first, last = _when(history[0]["date"]), _when(history[-1]["date"])
    return "\n".join(
        [
            "```mermaid",
            _init((BAR, LIMIT_LINE), height=320),
            "xychart-beta",
            '    title "Drifted features per run (%)"',
            f'    x-axis "run (1 = {first}, {len(history)} = {last})" 1 --> {len(history)}',
            f'    y-axis "drifted features (%)" 0 --> {top:.3g}',
            f"    line [{', '.join(f'{v:.1f}' for v in shares)}]",
            f"    line [{', '.join(f'{alarm_share * 100:.1f}' for _ in shares)}]",
            "```",
            "",
            f"<sub>blue line: drifted features · red line: the alarm goes off above "
            f"{alarm_share:.0%}</sub>",
        ]
    )


def history_table(history: list[HistoryEntry]) -> str:
    rows = ["| run | date (UTC) | version | drifted | alarm |", "| ---: | --- | --- | ---: | --- |"]
    for i, h in enumerate(history, 1):
        rows.append(
            f"| {i} | {inert.cell(_when(h['date']))} | {inert.code(h['version'], table=True)} | "
            f"{h['share']:.1%} | {'🔴' if h['alarm'] else 'no'} |"
        )
    return "\n".join(rows)


def history_block(history: list[HistoryEntry]) -> str:
    # `>` escaped, so nothing in the JSON can end the HTML comment.
    text = json.dumps(history, separators=(",", ":")).replace(">", "\\u003e")
    return f"<!-- mlops-actions:drift-history\n{text}\n-->"


def issue_title(result: MonitorResult) -> str:
    what = "Data drift" if result.drift.alarm else "Model decay"
    return f"{what} against {result.model}@{result.version}"


def issue_body(result: MonitorResult, history: list[HistoryEntry], run_url: str | None) -> str:
    chart = history_chart(history, result.drift.thresholds.share)
    return "\n".join(
        [
            issue_marker(result.model),
            render(result, run_url),
            "### History",
            "",
            *([chart, ""] if chart else []),
            "<details><summary>Every run</summary>",
            "",
            history_table(history),
            "",
            "</details>",
            "",
            history_block(history),
            "",
        ]
    )


def clean_comment(result: MonitorResult, run_url: str | None) -> str:
    where = f" ([workflow run]({run_url}))" if run_url else ""
    return (
        f"A later run is clean{where}: {len(result.drift.drifted)} of "
        f"{len(result.drift.features)} features drifted against "
        f"{inert.code(f'{result.model}@{result.version}')}; closing."
    )
