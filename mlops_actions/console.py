"""What a person reads in the terminal or the job log: tables, one-line outcomes, sizes."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlops_actions import output
from mlops_actions.config import gates
from mlops_actions.dvcio import failure

if TYPE_CHECKING:
    from mlops_actions.config.settings import Config
    from mlops_actions.flow.gating import GateRun
    from mlops_actions.flow.steps import Pulled
    from mlops_actions.metrics import Metrics
    from mlops_actions.registry import PromoteResult
    from mlops_actions.registry.lifecycle import Change
    from mlops_actions.training.base import TrainResult

_LABELS = {gates.PASS: "pass", gates.FAIL: "FAIL", gates.ERROR: "ERROR", gates.SKIPPED: "skipped"}


def size(n: int) -> str:
    """1.5 MB, 320 B: bytes in the largest unit under 1024."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def value(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return "—" if v is None else str(v)


def pulled(p: Pulled, cfg: Config) -> None:
    if p.result is None:
        if cfg.data.path is None:
            output.info("no .dvc file found: the pipeline's inputs are the ones git holds")
        else:
            output.info(f"no .dvc file found; using {cfg.data.path} as it is in the workspace")
        return
    # Not pulled: the workspace already held exactly what the .dvc files record.
    verb = "pulled and verified" if p.result.pulled else "verified, already in the workspace:"
    files = ", ".join(p.dvc_files)
    output.info(f"data {verb} {plural(p.result.files, 'file')}, {size(p.result.size)} ({files})")
    if p.result.remote is None and any(o.pushed for o in p.result.outputs):
        output.warning(
            f"{files}: no DVC remote is configured, so a fresh clone (CI) cannot pull the data; "
            "add one with `dvc remote add -d NAME URL`, then `dvc push`"
        )
    elif p.result.unpushed:
        lacks = failure.listed(p.result.unpushed)
        output.warning(
            f"the DVC remote '{p.result.remote}' lacks {lacks} (added but never pushed?): a "
            "fresh clone (CI) cannot pull it; run `dvc push`"
        )


def trained(result: TrainResult, cfg: Config) -> None:
    where = os.path.relpath(result.metrics_path, cfg.root)
    if result.cache_hit:
        output.info(f"cache hit: restored {where} and the model from run {result.fingerprint[:12]}")
    elif result.up_to_date:
        output.info(
            f"pipeline up to date: dvc repro re-ran no stage ({result.seconds:.2f} s); read {where}"
        )
    else:
        output.info(f"trained ({result.mode}) in {result.seconds:.2f} s; wrote {where}")


def metrics_table(metrics: Metrics) -> None:
    from tabulate import tabulate

    rows = [(k, value(v)) for k, v in metrics.flat().items()]
    output.info(tabulate(rows, headers=["metric", "value"], tablefmt="simple"))


def gate_table(results: Sequence[gates.GateResult]) -> str:
    """One row per rule; the baseline column is empty for an absolute rule, which does not
    read the base value."""
    from tabulate import tabulate

    rows = [
        [
            r.text,
            gates.format_number(r.value),
            gates.format_number(r.baseline) if r.rule.relative else "",
            f"{_LABELS[r.state]}: {r.detail}",
        ]
        for r in results
    ]
    return tabulate(
        rows,
        headers=["rule", "value", "baseline", "result"],
        tablefmt="simple",
        disable_numparse=True,
    )


def gate_run(run: GateRun) -> None:
    """The no-baseline warning, the table, each rule that could not be evaluated, the verdict."""
    if run.note:
        output.warning(run.note)
    if not run.results:
        return
    output.info(gate_table(run.results))
    for result in run.results:
        if result.state in (gates.ERROR, gates.FAIL):
            what = "failed" if result.state == gates.FAIL else "could not be evaluated"
            hint = f"; {result.hint}" if result.hint else ""
            output.error(
                f"gate '{result.text}' {what}: {result.detail}{hint}",
                title=f"gate {what}: {result.text}",
            )
    output.info(gates.summary(run.results))


def promotion(result: PromoteResult, *, through_api: bool, gate_code: int) -> None:
    if not result.promoted:
        reason = "a gate could not be evaluated" if gate_code == 2 else result.reason
        output.info(f"not promoted: {reason}")
        return
    output.info(f"promoted {result.tag} ({result.reason})")
    if result.stage_tag:
        output.info(f"assigned stage {result.stage} ({result.stage_tag})")
    names = " ".join(shlex.quote(t) for t in (result.tag, result.stage_tag) if t)
    if through_api:
        output.info(f"created {names} through the GitHub API")
    elif result.pushed:
        output.info(f"pushed {names} to origin")
    else:
        output.info(f"the tags are local; publish them with: git push --atomic origin {names}")


_DONE = {
    "assign": "assigned stage {stage} to {name}@{version}",
    "unassign": "unassigned stage {stage} from {name}@{version}",
    "deregister": "deregistered {name}@{version}",
    "deprecate": "deprecated {name}",
}


def lifecycle(change: Change, *, through_api: bool, now: str | None = None) -> None:
    """One line for what a verb did and one for where the tag went; `now` says what the
    stage holds after an unassignment."""
    what = _DONE[change.action].format(stage=change.stage, name=change.name, version=change.version)
    if not change.written:
        output.info(
            f"{change.name}@{change.version} is in stage {change.stage} already "
            f"({change.tag}); nothing tagged"
        )
        return
    output.info(f"{what} ({change.tag})")
    if now is not None:
        output.info(now)
    tag = shlex.quote(change.tag)
    if through_api:
        output.info(f"created {tag} through the GitHub API")
    elif change.pushed:
        output.info(f"pushed {tag} to origin")
    else:
        output.info(f"the tag is local; publish it with: git push origin {tag}")
