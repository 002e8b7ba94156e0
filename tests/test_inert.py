"""Untrusted text is inert wherever it is shown: each hostile string in each context of the inert
module, then each renderer (the pull request's report and job summary, the gates table, the
drift issue, the retraining pull request's evidence, the release body, `compare --md`),
rendered by cmark-gfm as GitHub renders it, with nothing live in the result."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli, inert
from mlops_actions.compare import comparison
from mlops_actions.config import gates
from mlops_actions.errors import MlopsError
from mlops_actions.flow import publishing, results
from mlops_actions.flow.results import GateRecord, Results
from mlops_actions.github.context import Context
from mlops_actions.monitor import issue
from mlops_actions.monitor.drift import DriftResult, FeatureDrift, Thresholds
from mlops_actions.monitor.watch import Decay, DecayEntry, MonitorResult
from mlops_actions.report import modelcard
from mlops_actions.report.markdown import ReportInput, Row
from mlops_actions.report.plots import Plot, Series
from mlops_actions.report.standing import Placed, Standing
from tests.fakegithub import FakeGitHub
from tests.helpers import actions_env
from tests.markdown import outside_code, to_html

# Each one is live on GitHub as it stands; every one names EVIL where it would show.
HOSTILE = [
    '<a href="https://evil.example/x">EVIL</a>',
    '<img src="https://evil.example/p.png"> EVIL',
    "<strong>Approved by EVIL</strong> @octocat",
    "**EVIL** __EVIL__ *EVIL* _EVIL_ ~~EVIL~~",
    "[EVIL](https://evil.example) ![EVIL](https://evil.example/p.png)",
    "https://evil.example/EVIL www.evil.example EVIL@evil.example",
    "<https://evil.example/EVIL> <EVIL@evil.example>",
    "@octocat @octo-org/team #12 GH-34 octo/repo#5 EVIL",
    "&#64;octocat &lt;b&gt; &#x3C;img&#x3E; EVIL",
    "`EVIL` | EVIL | ``` EVIL",
    "$\\color{red}{EVIL}$ $$EVIL$$",
    "<!-- EVIL",
    "</details> EVIL <details open>",
    "# EVIL",
    "- EVIL",
    "1. EVIL",
    "> [!NOTE] EVIL",
    "[EVIL]: https://evil.example",
    "| EVIL |\n|---|\n| EVIL |",
    "a\nb<script>EVIL</script>\u202eLIVE\u202c",
    "\\EVIL\\",
    "xmpp:EVIL@evil.example mailto:EVIL@evil.example ftp://evil.example",
]
TRUSTED = ("https://github.com/octo-org/demo", "https://github.com/octo-org/demo/")
_ALLOWED_TAGS = frozenset(
    [
        "p",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "code",
        "pre",
        "h2",
        "h3",
        "h4",
        "ul",
        "li",
        "blockquote",
        "sub",
        "details",
        "summary",
        "strong",
        "em",
        "a",
        "br",
        "input",
    ]
)
_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]|(?<![\w&])#\d|\bGH-\d", re.I)


def live(page: str) -> list[str]:
    """What a reader of the rendered `page` could click, be notified by, or see as markup that
    the input made: tags that are not the report's own, links that are not to this
    repository, emphasis around EVIL, mentions and references outside code."""
    found = [
        f"<{tag}"
        for tag in re.findall(r"<([A-Za-z][A-Za-z0-9-]*)", page)
        if tag.lower() not in _ALLOWED_TAGS
    ]
    found += [
        href for href in re.findall(r'<a href="([^"]*)"', page) if not href.startswith(TRUSTED)
    ]
    found += re.findall(r"<(?:strong|em|del)>(?:EVIL|Approved)", page)
    found += re.findall(r"<!--[^>]*EVIL", page)
    found += _MENTION.findall(outside_code(page))
    return found


def shown(page: str) -> str:
    """The text a reader sees, without the invisible joiners."""
    return html.unescape(re.sub(r"<[^>]+>", "", page)).replace(inert.JOINER, "")


def _flat(value: str) -> str:
    return " ".join(inert.line(value).split())


# --- the module, context by context -----------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    ("context", "page"),
    [
        ("paragraph", lambda v: f"Result: {inert.text(v)}"),
        ("heading", lambda v: f"## Report: {inert.text(v)}"),
        ("line start", lambda v: inert.text(v)),
        ("list item", lambda v: f"- {inert.text(v)}"),
        ("quote", lambda v: f"> [!WARNING]\n> {inert.text(v)}"),
        ("emphasis", lambda v: f"_{inert.text(v)}_"),
        ("table cell", lambda v: f"| a | b |\n|---|---|\n| {inert.cell(v)} | ok |"),
        ("code span", lambda v: f"Name: {inert.code(v)}"),
        ("code in a cell", lambda v: f"| a | b |\n|---|---|\n| {inert.code(v, table=True)} | ok |"),
        ("spans", lambda v: f"compared with {inert.spans(v)}"),
        ("summary", lambda v: f"<details><summary>{inert.html(v)}</summary>\n\nx\n\n</details>"),
    ],
)
def test_a_hostile_string_is_inert_in_every_context(value: str, context: str, page: Any) -> None:
    rendered = to_html(page(value))
    assert live(rendered) == [], context
    if context not in ("spans", "summary"):
        assert _flat(value) in shown(rendered).replace("\\|", "|"), "it reads as it was written"
    if context == "table cell":
        assert rendered.count("<td") == 2  # still one row of two cells
    assert not re.search(r"(?<!\\)\$", page(value).split("```")[0]) or "code" in context


@pytest.mark.parametrize("value", HOSTILE)
def test_a_mermaid_label_cannot_leave_its_quotes_or_the_chart(value: str) -> None:
    label = inert.mermaid(value)
    inner = label[1:-1]
    assert label.startswith('"') and label.endswith('"') and '"' not in inner
    assert not re.search(r"[`<>{};&\n\r]|%%", inner)
    block = f"```mermaid\nxychart-beta\n    x-axis [{label}]\n    bar [1]\n```"
    assert to_html(block).count("<pre") == 1


def test_text_stays_readable() -> None:
    assert inert.text("roc_auc.test") == "roc\\_auc.test"
    assert inert.cell("-") == "-" and inert.cell("0.91") == "0.91"
    assert inert.code("a`b") == "``a`b``" and inert.code("") == inert.MISSING
    assert inert.spans("`main` (abc1234)") == "`main` (abc1234)"


# --- the renderers ------------------------------------------------------------------------------


def _gate(detail: str) -> GateRecord:
    return GateRecord("accuracy >= 0.5", "pass", 0.9, None, 0.5, detail, "accuracy 0.9 ≥ 0.5")


def _results(value: str) -> Results:
    """A results file in which every text the report shows is `value` (one line, as the
    schema allows)."""
    one = _flat(value)
    report = ReportInput(
        model=one.replace("`", "'"),  # the schema refuses a backtick there
        baseline=f"`{one}` {one}",
        metrics=[Row(one, 0.5, 0.6), Row("accuracy", 0.8, 0.9), Row(f"rows.{one}", 1, 2)],
        params=[Row(one, one, f"{one} 2")],
        confusion={"labels": [one, "b"], "matrix": [[1, 2], [3, 4]]},
        note=one,
        primary=one,
        mode="builtin",
        standing=Standing(
            one, 0.6, 2, 3, False, Placed(one, 0.7, 12, None), (Placed(one, 0.7, 12, None),)
        ),
    )
    plot = Plot(
        id=one,
        props={"title": one},
        kind="linear",
        files=[],
        new=[Series(one, [(0.0, 1.0), (1.0, 2.0)])],
        base=[Series(one, [(0.0, 1.5), (1.0, 2.5)])],
        x_label=one,
        y_label=one,
        errors=[one],
    )
    return Results(
        "pull_request",
        "c" * 40,
        3,
        "default",
        "mlops/gate",
        report,
        [_gate(one)],
        plots=[plot],
        plot_notes=[one],
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_the_published_report_and_summary_show_results_as_text(value: str, tmp_path: Path) -> None:
    """The sticky comment and the job summary (one body) from a results file whose gate detail,
    model, metric and param names and values, baseline, note, confusion labels, plot names and
    recorded runs' names are hostile: what a training job of the pull request could write."""
    results.write(tmp_path, _results(value))
    found = results.read(tmp_path)
    where = publishing.Target("pull_request", "c" * 40, 3, f"{TRUSTED[0]}/actions/runs/1")
    ctx = Context("pull_request", {}, "octo-org/demo", "c" * 40, "refs/pull/3/merge")
    gated = publishing.gate_results(found.gates, "mlops/gate")
    page = to_html(publishing.body(found, where, gated, ctx))
    assert live(page) == []
    # no heading of the input's: the title is the one heading; the sections are <details>
    assert page.count("<h2>") == 1 and page.count("<h3>") == 0 and page.count("<summary>") == 6


@pytest.mark.parametrize("value", HOSTILE)
def test_the_gates_table_shows_a_detail_as_text(value: str) -> None:
    results_ = publishing.gate_results([_gate(_flat(value))], "mlops/gate")
    page = to_html(gates.render_markdown(results_))
    assert live(page) == [] and page.count("<td") == 2


def _monitored(value: str) -> MonitorResult:
    one = _flat(value)
    features = [
        FeatureDrift(value, "ks", 0.5, 0.001, 0.002, 0.4, True),
        FeatureDrift("age", "chi2", 0.1, 0.5, 0.5, 0.01, False),
    ]
    decay = Decay([DecayEntry(one, 0.9, 0.8)], [], 40)
    return MonitorResult(
        "churn", "v1.0.0", "churn@v1.0.0", "a" * 40, "data/new.csv", "data/train.csv", 100, 80,
        DriftResult(features, Thresholds()), decay, notes=[f"no decay check: {value}"],
    )  # fmt: skip


@pytest.mark.parametrize("value", HOSTILE)
def test_a_dataset_column_name_is_text_in_the_drift_issue_and_the_retraining_evidence(
    value: str,
) -> None:
    """The column names of the monitored data: the drift issue's body (its report, chart and
    history) and the evidence a retraining pull request opens with (monitor_report.render)."""
    result = _monitored(value)
    history = issue.add_run([], result, "2026-12-05T04:00:00Z")
    for body in (
        issue.issue_body(result, history, f"{TRUSTED[0]}/actions/runs/1"),
        issue.render(result),
        issue.clean_comment(result, None),
    ):
        page = to_html(body)
        assert live(page) == []
        assert page.count("<h2>") <= 1
    table = issue.feature_table(result)
    assert to_html(table).count("<td") == 14  # two rows of seven cells


@pytest.mark.parametrize("value", HOSTILE)
def test_a_no_decay_note_names_a_column_as_text(value: str) -> None:
    result = _monitored(value)
    result = MonitorResult(**{**result.__dict__, "decay": None})
    assert live(to_html(issue.decay_section(result))) == []


@pytest.mark.parametrize("value", HOSTILE)
def test_the_release_body_shows_the_model_card_as_text(value: str) -> None:
    card = {
        "name": value,
        "mode": value,
        "metrics": {value: 0.9, "accuracy": value},
        "params": {value: value},
        "data": {value: {"dvc_file": value, "md5": value}},
        "versions": {value: value},
        "git": {"commit": value},
    }
    page = to_html(modelcard.release_body(f"m@v1.0.0{value}", card, value))
    assert live(page) == []
    assert page.count("<h3>") == 5


@pytest.mark.parametrize("value", HOSTILE)
def test_compare_markdown_shows_names_and_values_as_text(value: str) -> None:
    from mlops_actions.compare.baseline import Baseline
    from mlops_actions.dvcio.diff import Entry

    c = comparison.Comparison(
        Baseline("ref", ref=value, sha="a" * 40, label=f"`{value}` {value}"),
        [Entry("m.json", value, value, f"{value} 2", None, True)],
        [],
        [],
        [value],
        None,
    )
    page = to_html(comparison.render_markdown(c))
    assert live(page) == [] and page.count("<td") == 5


# --- the results file ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("report", "model"), "churn\n"),
        (("report", "model"), "churn\n<img src=x>"),
        (("comment_id",), "default\n"),
        (("event", "sha"), "c" * 40 + "\n"),
        (("report", "mode"), "builtin\n"),
        (("report", "model_size"), 10**400),
        (("report", "nfiles_of_data"), None),
        (("report", "training_seconds"), 1e300),
        (("gates", "results", 0, "value"), 10**400),
        (("event", "pr"), 10**400),
    ],
)
def test_the_schema_refuses_a_final_newline_and_an_unbounded_number(
    where: tuple[Any, ...], value: Any, tmp_path: Path
) -> None:
    results.write(tmp_path, _results("x"))
    path = tmp_path / results.FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    if where[-1] == "nfiles_of_data":
        data["report"]["data"] = [
            {"path": "d", "old": None, "new": None, "nfiles": 10**400, "size": 1}
        ]
    else:
        node = data
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = value
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(MlopsError, match="refusing the results") as caught:
        results.read(tmp_path)
    assert "\n" not in str(caught.value)


def test_a_number_too_large_is_refused_before_any_status(
    tmp_path: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`model_size: 10**400` passed the schema and crashed publish (exit 3) after the statuses
    were posted: now one line and exit 2, and GitHub is not written to."""
    pull = github_server.add_pull("feature", "main", head_sha="c" * 40)
    found = _results("x")
    found = Results(**{**found.__dict__, "pr": pull["number"]})
    out = tmp_path / "results"
    results.write(out, found)
    data = json.loads((out / results.FILE).read_text(encoding="utf-8"))
    data["report"]["model_size"] = 10**400
    (out / results.FILE).write_text(json.dumps(data), encoding="utf-8")
    event = {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": {"full_name": github_server.repository, "default_branch": "main"},
    }
    ref = f"refs/pull/{pull['number']}/merge"
    actions_env(
        monkeypatch, github_server, tmp_path / "runner", "pull_request", event, "f" * 40, ref
    )
    monkeypatch.chdir(tmp_path)
    assert cli.main(["publish", str(out)]) == 2
    assert github_server.statuses == {} and github_server.issue_comments == {}
