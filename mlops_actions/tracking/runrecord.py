"""The run record an experiment commit carries, and the names and refs of experiments.

DVC keeps an experiment at `refs/exps/<B[:2]>/<B[2:]>/<name>`, a commit whose first parent is
the baseline B. The name must be a valid git ref component without `/` (DVC's rule).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

EXPS = "refs/exps"
RECORD_PATH = ".mlops/run.json"  # from the repository's top level
SCHEMA = "mlops-actions/run/1"
MAX_RECORD = 64 * 1024
_SHA = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
MD5 = re.compile(r"[0-9a-f]{32}(\.dir)?")  # DVC's; a directory's ends in .dir
OUTPUTS = ("pushed", "not-pushed")  # the run's DVC outputs on the DVC remote, or not
# A git ref component (git check-ref-format) with DVC's extra rule: no "/".
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")


@dataclass(frozen=True)
class SweepTrial:
    """The trial of a hyper-parameter sweep that a run was: what the planner replays."""

    id: str
    trial: int
    params: dict[str, Any]  # the values the trial set, as its params files got them
    metric: str | None = None  # the metric the sweep optimises


@dataclass(frozen=True)
class RunRecord:
    """What a run was: the facts `runs` lists beside the params and metrics."""

    event: str
    status: str = "ok"  # "ok" or "failed"
    pr: int | None = None
    branch: str | None = None
    run_url: str | None = None
    attempt: int | None = None
    runner: str | None = None
    duration: float | None = None
    data: dict[str, str] = field(default_factory=dict)  # data path -> md5
    model_sha256: str | None = None
    outputs: str | None = None  # one of OUTPUTS; None: the run has no DVC-tracked outputs
    fork: bool = False
    error: str | None = None
    created: str = ""
    model: str | None = None
    sweep: SweepTrial | None = None

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, **asdict(self)}

    def encode(self) -> bytes:
        return (json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n").encode()


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any, limit: int = 200) -> str | None:
    """A text from an untrusted record: one line, bounded; anything else is None."""
    if not isinstance(value, str):
        return None
    return re.sub(r"[\x00-\x1f\x7f]", " ", value)[:limit]


def _hex(value: Any, form: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and form.fullmatch(value) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse(data: bytes | None) -> RunRecord | None:
    """A record read back from an experiment (untrusted: a teammate or a fork may have written
    it); None when it is missing or not one of ours. Fields of the wrong type are dropped."""
    if not data or len(data) > MAX_RECORD:
        return None
    try:
        raw = json.loads(data)
    except ValueError:
        return None
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        return None
    duration = raw.get("duration")
    found = raw.get("data")
    files: dict[Any, Any] = found if isinstance(found, dict) else {}
    return RunRecord(
        event=_text(raw.get("event"), 40) or "unknown",
        status="failed" if raw.get("status") == "failed" else "ok",
        pr=_int(raw.get("pr")),
        branch=_text(raw.get("branch")),
        run_url=_url(raw.get("run_url")),
        attempt=_int(raw.get("attempt")),
        runner=_text(raw.get("runner")),
        duration=float(duration)
        if isinstance(duration, (int, float)) and not isinstance(duration, bool)
        else None,
        data={
            str(_text(k)): v
            for k, v in list(files.items())[:50]
            if isinstance(v, str) and MD5.fullmatch(v)
        },
        model_sha256=_hex(raw.get("model_sha256"), SHA256),
        outputs=raw.get("outputs") if raw.get("outputs") in OUTPUTS else None,
        fork=raw.get("fork") is True,
        error=_text(raw.get("error"), 400),
        created=_text(raw.get("created"), 40) or "",
        model=_text(raw.get("model"), 100),
        sweep=_sweep(raw.get("sweep")),
    )


def _sweep(value: Any) -> SweepTrial | None:
    """The sweep part of an untrusted record; None unless id, trial and params are sound.
    The params stay as written: the planner replays them into the study."""
    if not isinstance(value, dict):
        return None
    sid, trial, params = _text(value.get("id")), _int(value.get("trial")), value.get("params")
    if not sid or trial is None or not isinstance(params, dict):
        return None
    if not all(isinstance(k, str) for k in params):
        return None
    return SweepTrial(sid, trial, params, _text(value.get("metric")))


def _url(value: Any) -> str | None:
    text = _text(value, 300)
    return text if text and re.fullmatch(r"https?://[^\s]+", text) else None


def valid_name(name: str) -> bool:
    """A name DVC accepts for an experiment (git's ref rules, no '/')."""
    return bool(_NAME.fullmatch(name)) and ".." not in name and not name.endswith((".lock", "."))


def ci_name(run_id: str, attempt: int, suffix: str = "") -> str:
    """The experiment of one Actions run attempt: unique per repository."""
    name = f"ci-{run_id}-{attempt}" + (f"-{suffix}" if suffix else "")
    if not valid_name(name):
        raise ValueError(f"{name!r} is not a valid experiment name")
    return name


def local_name() -> str:
    """A local run: its time and a random part (two runs in one second differ)."""
    return f"local-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def ref(baseline: str, name: str) -> str:
    if not _SHA.fullmatch(baseline):
        raise ValueError(f"baseline {baseline!r} is not a full commit sha")
    if not valid_name(name):
        raise ValueError(f"{name!r} is not a valid experiment name")
    return f"{EXPS}/{baseline[:2]}/{baseline[2:]}/{name}"


def split_ref(refname: str) -> tuple[str, str] | None:
    """(baseline, name) of an experiment ref; None for DVC's internal refs and anything else."""
    parts = refname.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != EXPS:
        return None
    baseline = parts[2] + parts[3]
    return (baseline, parts[4]) if _SHA.fullmatch(baseline) else None


def run_id_of(run_url: str | None) -> tuple[str, int] | None:
    """(run id, attempt) of an Actions run URL (…/actions/runs/ID[/attempts/N])."""
    found = re.search(r"/actions/runs/(\d+)(?:/attempts/(\d+))?$", run_url or "")
    if found is None:
        return None
    return found.group(1), int(found.group(2) or 1)
