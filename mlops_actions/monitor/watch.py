"""Monitoring: the data at `monitor.data` against the table a registered version was trained on.

- the version: `--stage`, else `monitor.stage`, else the latest;
- its training table: the one its tag's `data` hashes record (path -> md5), from the
  workspace when it still matches, else the DVC cache, else `dvc get --rev` at its commit;
- drift per feature (`drift.compare`), and, when the monitored data carries the target column,
  decay: the version's model (`registry.get`) scored with the built-in trainer's metric
  functions, against the metrics its tag records, through the gate rules of `monitor.decay`.

Plain functions returning typed records; nothing printed but warnings.
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions import git, output, registry
from mlops_actions.config import gates
from mlops_actions.config.rules import Rule, parse_rule
from mlops_actions.config.settings import Config, MonitorConfig
from mlops_actions.dvcio import data, failure, repo
from mlops_actions.errors import ConfigError, DataError, MlopsError
from mlops_actions.metrics import lower_is_better
from mlops_actions.monitor import drift

if TYPE_CHECKING:
    from mlops_actions.registry import ModelSource, ModelVersion


@dataclass(frozen=True)
class DecayEntry:
    metric: str
    recorded: float
    current: float

    @property
    def change(self) -> float:
        return self.current - self.recorded

    def to_json(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "recorded": self.recorded,
            "current": self.current,
            "change": self.change,
        }


@dataclass(frozen=True)
class Decay:
    entries: list[DecayEntry]
    gates: list[gates.GateResult]
    rows: int

    @property
    def decayed(self) -> bool:
        return any(g.state == "fail" for g in self.gates)


@dataclass(frozen=True)
class MonitorResult:
    model: str
    version: str
    tag: str | None
    commit: str
    data: str  # monitor.data
    reference: str  # data.path at the version
    rows_reference: int
    rows_current: int
    drift: drift.DriftResult
    decay: Decay | None
    notes: list[str] = field(default_factory=list)

    @property
    def alarm(self) -> bool:
        return self.drift.alarm or (self.decay is not None and self.decay.decayed)

    @property
    def code(self) -> int:
        return 1 if self.alarm else 0

    def to_json(self) -> dict[str, object]:
        t = self.drift.thresholds
        return {
            "model": self.model,
            "version": self.version,
            "tag": self.tag,
            "commit": self.commit,
            "data": self.data,
            "reference": self.reference,
            "rows": {"reference": self.rows_reference, "current": self.rows_current},
            "thresholds": {"fdr": t.fdr, "psi": t.psi, "share": t.share, "bins": t.bins},
            "drift": {
                "alarm": self.drift.alarm,
                "share": self.drift.share,
                "drifted": [f.name for f in self.drift.drifted],
                "features": [f.to_json() for f in self.drift.features],
            },
            "decay": None
            if self.decay is None
            else {
                "alarm": self.decay.decayed,
                "rows": self.decay.rows,
                "metrics": [e.to_json() for e in self.decay.entries],
                "gates": [g.to_dict() for g in self.decay.gates],
            },
            "alarm": self.alarm,
            "notes": self.notes,
        }


def _table(cfg: Config) -> str:
    """The training table (mlops.data.path): what new data is compared with."""
    if cfg.data.path is None:
        raise ConfigError(
            f"{cfg.path}: mlops.data.path: monitoring compares new data with the training "
            "table; set it to that table"
        )
    return cfg.data.path


def _target(cfg: Config) -> str:
    if cfg.data.target is None:
        raise ConfigError(
            f"{cfg.path}: mlops.data.target: monitoring needs the target column; set it"
        )
    return cfg.data.target


def settings(cfg: Config) -> MonitorConfig:
    if cfg.monitor is None:
        raise ConfigError(
            f"{cfg.path}: monitor: not set; add `monitor: {{data: PATH}}` (the production "
            "samples to compare with the training data)"
        )
    return cfg.monitor


def thresholds(m: MonitorConfig) -> drift.Thresholds:
    return drift.Thresholds(fdr=m.fdr, psi=m.psi, share=m.share, bins=m.bins)


def version(cfg: Config, stage: str | None) -> ModelVersion:
    """The version in `stage`, else `monitor.stage`'s, else the latest."""
    stage = stage or (cfg.monitor.stage if cfg.monitor else None)
    name = cfg.model_name
    if registry.find_model(name, cwd=cfg.root) is None:
        raise MlopsError(
            f"no registered version of {name} (no {name}@v* tags) to monitor against; "
            "register one with `mlops-actions promote`"
        )
    return registry.resolve(f"{name}#{stage}" if stage else name, cwd=cfg.root)


def read_table(path: Path, name: str) -> Any:
    """A CSV or Parquet table with at least one row; CSV through pyarrow when it can."""
    import pandas as pd

    if not path.is_file():
        raise DataError(f"{name}: not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            table = pd.read_parquet(path)
        else:
            try:
                table = pd.read_csv(path, engine="pyarrow")
            except Exception:
                table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"{name}: the file is empty") from None
    except Exception as exc:
        raise DataError(f"{name}: cannot be read as a table: {exc}") from None
    if len(table) == 0:
        raise DataError(f"{name}: the file has no rows")
    return table


# --- the training table of a version --------------------------------------------------------


def _recorded_md5(cfg: Config, v: ModelVersion) -> tuple[str, str | None]:
    """(the recorded hash covering data.path, the path inside it when it is a directory)."""
    hashes = v.info.data if v.info else {}
    target = posixpath.normpath(_table(cfg))
    for key, md5 in sorted(hashes.items(), key=lambda kv: -len(kv[0])):
        k = posixpath.normpath(key)
        if k == target:
            return md5, None
        if md5.endswith(".dir") and target.startswith(k.rstrip("/") + "/"):
            return md5, target[len(k.rstrip("/")) + 1 :]
    raise DataError(
        f"{_label(v)}: its tag records no data hash for {_table(cfg)} (it records "
        f"{', '.join(hashes) or 'none'}), so its training data cannot be fetched"
    )


def _label(v: ModelVersion) -> str:
    return f"{v.name}@{v.version}"


def _matches(path: Path, md5: str) -> bool:
    """Whether the file has the recorded md5 (DVC 3's, else DVC 2's text-normalised one); the
    second hash is read only when the first does not match."""
    if not path.is_file():
        return False
    return data.file_md5(path) == md5 or data.file_md5(path, legacy=True) == md5


def _file_md5(config: repo.DvcConfig, dir_md5: str, relpath: str) -> str | None:
    """The md5 of `relpath` in the directory listing `dir_md5`, if the cache has the listing."""
    try:
        entries = json.loads(config.cache_object(dir_md5).read_bytes())
    except (OSError, ValueError):
        return None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("relpath") == relpath:
            return str(entry.get("md5"))
    return None


def fetch_reference(cfg: Config, v: ModelVersion, into: Path) -> Path:
    """The training table of `v`, verified against its tag's hash where the hash is known."""
    recorded, inner = _recorded_md5(cfg, v)
    config = repo.read_config(cfg.root)
    md5 = _file_md5(config, recorded, inner) if inner is not None else recorded
    if md5 is not None:
        workspace = cfg.resolve(_table(cfg))
        if _matches(workspace, md5):
            return workspace
        for legacy in (False, True):
            cached = config.cache_object(md5, legacy)
            if _matches(cached, md5):
                return cached
    top = Path(git.run("rev-parse", "--show-toplevel", cwd=cfg.root))
    rel = os.path.relpath(cfg.resolve(_table(cfg)), top)
    out = into / f"reference{Path(_table(cfg)).suffix}"
    proc = data.run_dvc(["get", "--rev", v.commit, str(top), rel, "-o", str(out)], cfg.root)
    if proc.returncode != 0 or not out.is_file():
        why = failure.dvc_message(proc.stderr + proc.stdout)
        raise DataError(
            f"{_label(v)}: its training data {_table(cfg)} (md5 {recorded}) cannot be "
            f"fetched at {v.commit[:7]}: {why}"
        )
    if md5 is not None and not _matches(out, md5):
        raise DataError(
            f"{_label(v)}: the fetched {_table(cfg)} does not match the md5 its tag records"
        )
    return out


# --- decay ----------------------------------------------------------------------------------


def decay_rules(cfg: Config, m: MonitorConfig) -> list[Rule]:
    """`monitor.decay`; by default the primary metric may lose 0.05 (or grow 10% when lower
    is better) against the version's recorded value."""
    if m.decay is not None:
        return [parse_rule(text) for text in m.decay]
    primary = cfg.metrics.primary
    if not primary:
        return []
    lower = lower_is_better(primary, cfg.metrics.lower_is_better, cfg.metrics.higher_is_better)
    return [parse_rule(f"{primary} <= base + 10%" if lower else f"{primary} >= base - 0.05")]


def _load_model(path: Path) -> Any:
    from skops import io as skio

    # The file's sha256 matched the registry tag, so its types are the ones we trained.
    return skio.load(path, trusted=skio.get_untrusted_types(file=path))


def score(cfg: Config, model: Any, x: Any, y: Any) -> dict[str, Any]:
    """The built-in trainer's metrics of `model` on (x, y)."""
    from sklearn.base import is_classifier

    from mlops_actions.training.builtin import classification_metrics, regression_metrics

    if is_classifier(model):
        labels = sorted(getattr(model, "classes_", sorted(set(y))), key=str)
        scores, _ = classification_metrics(model, x, y, list(labels))
        return scores
    return regression_metrics(model, x, y)


def decay(
    cfg: Config,
    m: MonitorConfig,
    v: ModelVersion,
    current: Any,
    features: list[str],
    sources: Sequence[ModelSource] | None,
) -> Decay:
    target = _target(cfg)
    labelled = current[current[target].notna()]
    with tempfile.TemporaryDirectory(prefix="mlops-monitor-") as tmp:
        got = registry.get(cfg, f"{v.name}@{v.version}", Path(tmp) / "model", sources=sources)
        model = _load_model(got.path)
    needed = [str(c) for c in getattr(model, "feature_names_in_", features)]
    x = labelled[needed]
    try:
        scores = score(cfg, model, x, labelled[target])
    except ValueError as exc:
        raise DataError(f"{m.data}: {_label(v)} cannot score this data: {exc}") from None
    recorded = v.info.metrics if v.info else {}
    entries = [
        DecayEntry(k, float(recorded[k]), float(value))
        for k, value in scores.items()
        if isinstance(value, float) and isinstance(recorded.get(k), (int, float))
    ]
    values = {k: value for k, value in scores.items() if value is not None}
    results = gates.evaluate(decay_rules(cfg, m), values, dict(recorded), prefix="decay")
    return Decay(entries, results, len(labelled))


# --- the whole check ------------------------------------------------------------------------


def check(
    cfg: Config, stage: str | None = None, *, sources: Sequence[ModelSource] | None = None
) -> MonitorResult:
    """Drift (and decay, when the monitored data is labelled) of monitor.data against the
    training data of the version in `stage`."""
    m = settings(cfg)
    v = version(cfg, stage)
    current = read_table(cfg.resolve(m.data), m.data)
    with tempfile.TemporaryDirectory(prefix="mlops-monitor-") as tmp:
        reference = read_table(fetch_reference(cfg, v, Path(tmp)), _table(cfg))
    target = _target(cfg)
    features = [str(c) for c in reference.columns if c != target]
    missing = [c for c in features if c not in current.columns]
    if missing:
        shown = ", ".join(missing[:8]) + (
            f", … ({len(missing)} in all)" if len(missing) > 8 else ""
        )
        raise DataError(f"{m.data}: missing columns {_label(v)} needs: {shown}")
    result = drift.compare(reference, current, features, thresholds(m), where=m.data)
    notes: list[str] = []
    found_decay = None
    if target in current.columns and current[target].notna().any():
        try:
            found_decay = decay(cfg, m, v, current, features, sources)
        except MlopsError as exc:
            if isinstance(exc, DataError):
                raise
            notes.append(f"no decay check: {exc}")
            output.warning(f"no decay check: {exc}")
    else:
        notes.append(f"no decay check: {m.data} has no '{target}' column")
    return MonitorResult(
        model=v.name,
        version=v.version,
        tag=v.tag,
        commit=v.commit,
        data=m.data,
        reference=_table(cfg),
        rows_reference=len(reference),
        rows_current=len(current),
        drift=result,
        decay=found_decay,
        notes=notes,
    )


def refresh(cfg: Config) -> str | None:
    """Bring monitor.data up to date: `dvc update` when its .dvc file is an import, `dvc pull`
    when it is tracked otherwise. Returns the .dvc file (root-relative), or None."""
    m = settings(cfg)
    dvc_file = cfg.resolve(m.data + ".dvc")
    if not dvc_file.is_file():
        return None
    name = m.data + ".dvc"
    args = ["update", name] if _deps(dvc_file) else ["pull", name]
    proc = data.run_dvc(args, cfg.root)
    if proc.returncode != 0:
        why = failure.dvc_message(proc.stderr + proc.stdout)
        raise DataError(f"{name}: dvc {args[0]} failed: {why}")
    return name


def _deps(path: Path) -> list[object]:
    from mlops_actions import yaml12

    try:
        loaded = yaml12.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml12.YamlError):
        return []
    deps = loaded.get("deps") if isinstance(loaded, dict) else None
    return deps if isinstance(deps, list) else []
