from __future__ import annotations

import pytest

from mlops_actions import report
from mlops_actions.report import DataChange, ReportInput, Row


def _rows(body: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in body.splitlines()
        if line.startswith("|")
    ]


def _input(**kw: object) -> ReportInput:
    base: dict[str, object] = {
        "model": "demo-model",
        "baseline": "`main` (abc1234)",
        "metrics": [
            Row("accuracy", 0.95, 0.958),
            Row("log_loss", 0.12, 0.15),
            Row("rows.test", 143, 143),
        ],
    }
    base.update(kw)
    return ReportInput(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (Row("accuracy", 0.90, 0.95), ("⬆️", "better ✅")),
        (Row("accuracy", 0.95, 0.90), ("⬇️", "worse ❌")),
        (Row("rmse", 3.0, 2.5), ("⬇️", "better ✅")),
        (Row("mae", 1.0, 1.5), ("⬆️", "worse ❌")),
        (Row("log_loss", 0.2, 0.1), ("⬇️", "better ✅")),
        (Row("val.cross_entropy_loss", 0.2, 0.3), ("⬆️", "worse ❌")),
        (Row("mean_abs_error", 2.0, 1.0), ("⬇️", "better ✅")),
        (Row("f1", 0.5, 0.5), ("➖", "same")),
        (Row("auc", None, 0.7), ("🆕", "new")),
        (Row("auc", 0.7, None), ("✖️", "removed")),
    ],
)
def test_direction_aware_verdicts(row: Row, expected: tuple[str, str]) -> None:
    _, arrow, judgement = report.verdict(row, [], [])
    assert (arrow, judgement) == expected


def test_config_overrides_direction() -> None:
    row = Row("error_budget_left", 1.0, 2.0)
    assert report.verdict(row, [], [])[2] == "worse ❌"
    assert report.verdict(row, [], ["error_budget_left"])[2] == "better ✅"
    assert report.verdict(Row("latency", 1.0, 2.0), ["latency"], [])[2] == "worse ❌"


def test_report_has_marker_table_chart_and_sections() -> None:
    body = report.render(
        _input(
            params=[Row("model.params.max_depth", 5, 6)],
            data=[DataChange("data", "a" * 32 + ".dir", "b" * 32 + ".dir", 1, 124_869)],
            mode="builtin",
            cache_hit=True,
            run_url="https://github.example/o/r/actions/runs/1",
            confusion={"labels": ["benign", "malignant"], "matrix": [[90, 0], [6, 47]]},
            gates_markdown="| gate | result |\n|---|---|\n| accuracy >= 0.9 | ✅ |",
        ),
        comment_id="nightly",
    )
    assert body.startswith("<!-- mlops-actions:report id=nightly -->\n")
    rows = _rows(body)
    assert ["accuracy", "0.9500", "0.9580", "+0.0080 (+0.8%)", "⬆️ better ✅"] in rows
    assert ["log_loss", "0.1200", "0.1500", "+0.0300 (+25.0%)", "⬆️ worse ❌"] in rows
    assert ["rows.test", "143", "143", "0", "➖ same"] in rows
    assert "```mermaid\nxychart-beta" in body and "x-axis [accuracy]" in body
    assert ["model.params.max_depth", "5", "6"] in rows
    assert "`aaaaaaaa` → `bbbbbbbb` · 1 file · 121.9 KB" in body
    assert (
        "run cache hit" in body
        and "[workflow run](https://github.example/o/r/actions/runs/1)" in body
    )
    assert "| **malignant**" in body and "### Gates" in body


def test_no_baseline_says_so_and_shows_current_values() -> None:
    body = report.render(_input(baseline=None, metrics=[Row("accuracy", None, 0.9)]))
    assert "**no baseline**" in body
    assert _rows(body)[0] == ["metric", "value"]
    assert ["accuracy", "0.9000"] in _rows(body)


def test_regression_chart_uses_error_metrics() -> None:
    body = report.render(
        _input(metrics=[Row("rmse", 60.0, 55.0), Row("mae", 45.0, 44.0), Row("r2", 0.4, 0.45)])
    )
    assert "x-axis [r2]" in body


@pytest.mark.parametrize("limit", [2_000, 10_000, report.COMMENT_LIMIT])
def test_large_report_is_cut_at_a_line_with_a_note(limit: int) -> None:
    metrics = [Row(f"per_class.label_{i}.f1", 0.5, 0.5 + i / 1e6) for i in range(3_000)]
    body = report.render(_input(metrics=metrics))
    assert len(body) > limit
    cut = report.fit(body, limit, summary_url="https://github.example/run/1")
    assert len(cut) <= limit
    assert cut.count("```") % 2 == 0
    assert "the full report is in the job summary ([open it](https://github.example/run/1))" in cut
    kept = cut.split("\n\n> [!NOTE]")[0]
    assert body.startswith(kept)
    assert kept.endswith("|") or kept.endswith("```")


def test_small_report_is_untouched() -> None:
    body = report.render(_input())
    assert report.fit(body) == body
