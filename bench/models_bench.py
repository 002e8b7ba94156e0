"""Listing the registry: `mlops-actions models --json` against `gto show --json`.

Builds a temp repo per size with N GTO-format annotated tags (written in one `git fast-import`),
runs both commands on it as subprocesses, and prints the medians after a warm-up run.

    .venv/bin/python -m bench.models_bench [--sizes 100,1000,10000] [--runs 5]
        [--gto-limit 60] [--gto-budget 180]

GTO gets fewer runs on the big repos (it takes seconds to minutes there): one run, with no
warm-up, once a run took longer than `--gto-limit` seconds; none at a size where the previous
size's time scaled by the tag count predicts more than `--gto-budget` seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.common import BIN, ENV, Result, Row, command, faster, fmt_seconds, measure
from mlops_actions import tag
from mlops_actions.tag import TagInfo

MODELS = 10


def _data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}\n"


def make_tags(repo: Path, n: int, models: int = MODELS, start: int = 1_700_000_000) -> None:
    """A repo with `n` annotated tags over `models` models: mostly registrations, every 10th
    tag of a model a stage assignment (alternating prod and staging) of its newest version."""
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=ENV)
    who = "Bench <bench@example.invalid>"
    stream: list[str] = []
    versions = [0] * models
    counters = [0] * models
    for i in range(n):
        when = f"{start + i} +0000"
        m = i % models
        name = f"model-{m}"
        if (i // models) % 10 == 9 and versions[m]:
            counters[m] += 1
            stage = "prod" if counters[m] % 2 else "staging"
            version = f"v0.{versions[m] // 100}.{versions[m] % 100}"
            subject = tag.assignment_subject(name, stage, version)
            tag_name = tag.assignment(name, stage, counters[m])
            target = f":{versions[m] * models + m + 1}"
        else:
            versions[m] += 1
            mark = versions[m] * models + m + 1
            stream.append(f"commit refs/heads/main\nmark :{mark}\ncommitter {who} {when}\n")
            stream.append(_data(f"train {name} #{versions[m]}"))
            version = f"v0.{versions[m] // 100}.{versions[m] % 100}"
            subject = tag.registration_subject(name, version)
            tag_name = tag.registration(name, version)
            target = f":{mark}"
        info = TagInfo(
            metrics={"f1": round(0.5 + (i % 500) / 1000, 4), "accuracy": 0.9},
            primary="f1",
            model_sha256=f"{i:064x}",
            model_path="model/model.skops",
            data={"data": f"{i:032x}.dir"},
            params_sha256=f"{n - i:064x}",
            fingerprint=f"{i:064x}",
        )
        stream.append(f"tag {tag_name}\nfrom {target}\ntagger {who} {when}\n")
        stream.append(_data(tag.format_message(subject, info)))
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=repo,
        input="".join(stream),
        text=True,
        check=True,
        env=ENV,
    )
    subprocess.run(["git", "pack-refs", "--all"], cwd=repo, check=True, env=ENV)


WALL_AIM_1000 = 20.0
WALL_AIM_2000 = 50.0
ABSOLUTE_AIM_10000 = 1.0


def _run(cmd: list[str], cwd: Path) -> tuple[float, str]:
    sample = measure(cmd, cwd)
    return sample.seconds, sample.stdout


def _aim(size: int, mine: float, theirs: float | None) -> tuple[str, bool | None]:
    if size == 1000:
        return f"≥ {WALL_AIM_1000:.0f}× faster", theirs is not None and theirs / mine >= 20
    if size == 2000:
        aim = WALL_AIM_2000
        return f"≥ {aim:.0f}× faster", theirs is not None and theirs / mine >= aim
    if size == 10_000:
        return f"under {ABSOLUTE_AIM_10000:.0f} s", mine < ABSOLUTE_AIM_10000
    return "faster", theirs is None or theirs > mine


def run(
    sizes: list[int],
    runs: int = 5,
    gto_limit: float = 60.0,
    gto_budget: float = 180.0,
    log: Any = print,
) -> Result:
    """One row per size. GTO gets fewer runs where it is slow: one run once a run took over
    `gto_limit` seconds, and none at a size where the last size's time, scaled by the tag count,
    predicts more than `gto_budget` seconds (the row then says so)."""
    ours = [*command("mlops-actions"), "models", "--json"]
    gto = [str(BIN / "gto"), "show", "--json"]
    result = Result()
    series: dict[str, list[Any]] = {"tags": [], "ours": [], "gto": []}
    last: tuple[int, float] | None = None
    with tempfile.TemporaryDirectory(prefix="models-bench-") as tmp:
        for size in sizes:
            repo = Path(tmp) / f"r{size}"
            make_tags(repo, size)
            predicted = last[1] * size / last[0] if last else 0.0
            theirs: float | None = None
            same = None
            gto_runs = 0
            ours_times: list[float] = []
            gto_times: list[float] = []
            _, listing = _run(ours, repo)  # our warm-up
            if predicted > gto_budget:
                note = (
                    f"gto not run: ~{predicted:.0f} s predicted, over the {gto_budget:.0f} s budget"
                )
            else:
                first, shown = _run(gto, repo)  # warm-up, and whether more runs are affordable
                if first > gto_limit:
                    gto_times, note = [first], "gto: 1 run (no warm-up)"
                else:
                    gto_runs = runs if first <= 5 else 1
                    note = f"gto: median of {gto_runs} after a warm-up"
            for i in range(runs):  # interleaved, so drift in the machine's load hits both alike
                seconds, listing = _run(ours, repo)
                ours_times.append(seconds)
                if i < gto_runs:
                    seconds, shown = _run(gto, repo)
                    gto_times.append(seconds)
            mine = statistics.median(ours_times)
            our_state = {k: (v["latest"], v["stages"]) for k, v in json.loads(listing).items()}
            assert len(our_state) == MODELS, f"expected {MODELS} models, got {len(our_state)}"
            if gto_times:
                theirs = statistics.median(gto_times)
                gto_state = {
                    k: (v["version"], {s: x for s, x in v["stage"].items() if x})
                    for k, v in json.loads(shown).items()
                }
                same = gto_state == our_state
                note += "; same latest versions and stages" if same else "; DIFFERENT state"
                last = (size, theirs)
            label = fmt_seconds(theirs) if theirs is not None else "skipped"
            aim, met = _aim(size, mine, theirs)
            result.rows.append(
                Row(
                    f"`models --json`, {size:,} tags",
                    fmt_seconds(mine),
                    label,
                    faster(theirs, mine) if theirs else "—",
                    aim,
                    met and same is not False,
                    f"ours: median of {runs}; {note}",
                )
            )
            series["tags"].append(size)
            series["ours"].append(mine)
            series["gto"].append(theirs)
            ratio = f"{theirs / mine:.0f}×" if theirs else "—"
            log(f"  models {size:>7,} tags: ours {mine:.3f} s, gto {label} ({ratio})")
    result.series["models"] = series
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gto-limit", type=float, default=60.0)
    parser.add_argument("--gto-budget", type=float, default=180.0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    result = run(sizes, args.runs, args.gto_limit, args.gto_budget)
    return 0 if all(r.met is not False for r in result.rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
