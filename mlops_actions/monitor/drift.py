"""Drift per feature between a reference table and a current one, with scipy.stats.

- numeric features: the two-sample Kolmogorov-Smirnov test (`scipy.stats.ks_2samp`) and the
  population stability index (PSI) on the reference's quantile bins;
- categorical features (strings, booleans, categories): chi-squared on the category counts
  (`scipy.stats.chi2_contingency`) and the PSI of the category shares;
- the p-values of all features are adjusted together (Benjamini-Hochberg,
  `scipy.stats.false_discovery_control`), so testing 30 features does not raise 30 chances of
  a false alarm.

A feature drifts when its adjusted p-value is at most `fdr` AND its PSI is at least `psi`:
on a large sample the test alone rejects shifts too small to matter, on a small one PSI alone is
noisy. Plain functions, typed records, nothing printed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlops_actions.errors import DataError

EPSILON = 1e-4  # the share given to an empty bin, so PSI stays finite


@dataclass(frozen=True)
class Thresholds:
    fdr: float = 0.05
    psi: float = 0.1
    share: float = 0.0
    bins: int = 10


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    test: str  # "ks" or "chi2"
    statistic: float
    p_value: float  # the test's own
    p_adjusted: float  # Benjamini-Hochberg, across the table's features
    psi: float
    drifted: bool

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "test": self.test,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "psi": self.psi,
            "drifted": self.drifted,
        }


@dataclass(frozen=True)
class DriftResult:
    features: list[FeatureDrift]
    thresholds: Thresholds

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    @property
    def share(self) -> float:
        return len(self.drifted) / len(self.features) if self.features else 0.0

    @property
    def alarm(self) -> bool:
        """More than `share` of the features drifted (with share 0: any feature)."""
        return bool(self.drifted) and self.share > self.thresholds.share


def psi(expected: Any, actual: Any) -> float:
    """The population stability index of two count vectors over the same bins."""
    import numpy as np

    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    e = np.maximum(e / max(e.sum(), 1.0), EPSILON)
    a = np.maximum(a / max(a.sum(), 1.0), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def quantile_edges(reference: Any, bins: int) -> Any:
    """The interior edges of `bins` quantile bins of the reference (ties merge bins)."""
    import numpy as np

    return np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))


def bin_counts(values: Any, edges: Any) -> Any:
    import numpy as np

    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)


def numeric(reference: Any, current: Any, bins: int) -> tuple[float, float, float]:
    """(KS statistic, KS p-value, PSI) of two float arrays without missing values."""
    from scipy import stats

    if len(reference) == 0 or len(current) == 0:
        return 0.0, 1.0, 0.0
    ks = stats.ks_2samp(reference, current)
    edges = quantile_edges(reference, bins)
    index = psi(bin_counts(reference, edges), bin_counts(current, edges))
    return float(ks.statistic), float(ks.pvalue), index


def categorical(reference: Any, current: Any) -> tuple[float, float, float]:
    """(chi-squared statistic, p-value, PSI) of two pandas Series of categories."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    ref = reference.astype(str).value_counts()
    cur = current.astype(str).value_counts()
    table = pd.concat([ref, cur], axis=1).fillna(0).to_numpy(dtype=float).T
    if table.shape[1] < 2 or ref.sum() == 0 or cur.sum() == 0:
        return 0.0, 1.0, 0.0
    chi2 = stats.chi2_contingency(table, correction=False)
    index = psi(table[0], table[1])
    stat, p = float(chi2.statistic), float(chi2.pvalue)
    return stat, (p if math.isfinite(p) else 1.0), float(np.nan_to_num(index))


def is_numeric(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series)) and not pd.api.types.is_bool_dtype(series)


def _feature(
    ref: Any, cur: Any, name: str, bins: int, where: str
) -> tuple[str, float, float, float]:
    import numpy as np

    if not is_numeric(ref):
        return ("chi2", *categorical(ref.dropna(), cur.dropna()))
    if not is_numeric(cur) and cur.notna().any():
        raise DataError(
            f"{where}: column '{name}' is numeric in the training data but holds "
            f"{cur.dtype} values here"
        )
    r = ref.to_numpy(dtype=float, na_value=np.nan)
    c = cur.to_numpy(dtype=float, na_value=np.nan)
    return ("ks", *numeric(r[~np.isnan(r)], c[~np.isnan(c)], bins))


def compare(
    reference: Any,
    current: Any,
    features: Sequence[str],
    thresholds: Thresholds,
    *,
    where: str = "the monitored data",
) -> DriftResult:
    """Drift of each of `features` (columns of both DataFrames) from reference to current."""
    from scipy import stats

    raw = [
        (name, *_feature(reference[name], current[name], name, thresholds.bins, where))
        for name in features
    ]
    if not raw:
        return DriftResult([], thresholds)
    adjusted = stats.false_discovery_control([p for *_, p, _ in raw], method="bh")
    out = []
    for (name, test, stat, p, index), adj in zip(raw, adjusted, strict=True):
        drifted = float(adj) <= thresholds.fdr and index >= thresholds.psi
        out.append(FeatureDrift(name, test, stat, p, float(adj), index, drifted))
    return DriftResult(out, thresholds)
