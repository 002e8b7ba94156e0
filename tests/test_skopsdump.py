"""skops' writer without its trust lists: the file is the one skops writes, skops trusts the
same types in it, and a writer that reads the lists after all falls back to the real module."""

from __future__ import annotations

import json
import operator
import pickle
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from skops import io as skio

from mlops_actions.training import skopsdump

ROOT = Path(__file__).resolve().parent.parent


def _table() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(
        {
            "a": rng.normal(size=200),
            "b": rng.normal(size=200),
            "colour": rng.choice(["red", "green", "blue"], 200),
        }
    )
    y = (x["a"] + (x["colour"] == "red") > 0.5).astype(int).to_numpy()
    return x, y


def _models() -> dict[str, Any]:
    x, y = _table()
    numeric = x[["a", "b"]]
    encoded = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("categorical", OneHotEncoder(handle_unknown="ignore"), ["colour"])],
                    remainder="passthrough",
                ),
            ),
            ("model", LogisticRegression()),
        ]
    )
    return {
        "logistic": (LogisticRegression(C=0.5).fit(numeric, y), numeric),
        "pipeline": (encoded.fit(x, y), x),
        "forest": (RandomForestClassifier(n_estimators=3, random_state=0).fit(numeric, y), numeric),
        "boosting": (HistGradientBoostingClassifier(max_iter=5).fit(numeric, y), numeric),
        "ridge": (Ridge().fit(numeric, y), numeric),
    }


def _normalized(path: Path) -> tuple[Any, dict[str, bytes]]:
    """The archive with skops' object ids and member names (ids, uuids) numbered in order."""
    names: dict[Any, str] = {}

    def number(value: Any) -> str:
        return names.setdefault(value, f"#{len(names)}")

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: number(v) if k in ("__id__", "file") else walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    with zipfile.ZipFile(path) as archive:
        schema = walk(json.loads(archive.read("schema.json")))
        members = {
            number(name): archive.read(name) for name in archive.namelist() if name != "schema.json"
        }
    return schema, members


_WRITE = """
import pickle, sys
from pathlib import Path
from mlops_actions.training import skopsdump
with open(sys.argv[1], "rb") as f:
    models = pickle.load(f)
for name, model in models.items():
    skopsdump.dump(model, Path(sys.argv[2]) / f"{name}.skops")
print(type(sys.modules["skops.io._trusted_types"]).__name__)
"""


def _received(model: Any) -> Any:
    """The model as the saver child gets it: through pickle (which may share equal values
    that were separate objects, and so number them differently in the archive)."""
    return pickle.loads(pickle.dumps(model))


def _write_elsewhere(models: dict[str, Any], folder: Path, script: str = _WRITE) -> str:
    """Write each model to folder/NAME.skops in one fresh interpreter (skops not imported
    yet); what it printed."""
    pickled = folder / "models.pickle"
    pickled.write_bytes(pickle.dumps(models))
    done = subprocess.run(
        [sys.executable, "-c", script, str(pickled), str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


def test_the_file_is_skops_own_and_loads_as_skops_own(tmp_path: Path) -> None:
    models = _models()
    written = _write_elsewhere({name: model for name, (model, _) in models.items()}, tmp_path)
    assert written == "_Unbuilt"  # the lists were never built
    for name, (model, x) in models.items():
        fast, reference = tmp_path / f"{name}.skops", tmp_path / f"{name}-skops.skops"
        skio.dump(_received(model), reference)
        assert _normalized(fast) == _normalized(reference), name
        untrusted = skio.get_untrusted_types(file=fast)  # a forest's trees: never by default
        assert untrusted == skio.get_untrusted_types(file=reference), name
        loaded = skio.load(fast, trusted=untrusted)
        assert np.array_equal(loaded.predict(x), model.predict(x)), name


_READS_THE_LISTS = _WRITE.replace(
    "skopsdump.dump(model",
    """skopsdump.writer()
import skops.io._persist as persist
real = persist.get_state
def get_state(value, context):  # a release that checks trust while writing
    \"\"\"\"\"\" in sys.modules["skops.io._trusted_types"].PRIMITIVE_TYPE_NAMES
    return real(value, context)
persist.get_state = get_state
skopsdump.dump(model""",
)


def test_a_writer_that_reads_the_lists_writes_again_with_the_real_module(tmp_path: Path) -> None:
    model, x = _models()["logistic"]
    target = tmp_path / "model.skops"
    assert "PRIMITIVE_TYPE_NAMES" in _READS_THE_LISTS
    assert _write_elsewhere({"model": model}, tmp_path, _READS_THE_LISTS) == "module"  # real now
    skio.dump(_received(model), tmp_path / "reference.skops")
    assert _normalized(target) == _normalized(tmp_path / "reference.skops")
    assert np.array_equal(skio.load(target).predict(x), model.predict(x))


_IMPORT_FAILS = _WRITE.replace(
    "from mlops_actions.training import skopsdump\n",
    """from mlops_actions.training import skopsdump
stand_in = skopsdump._Unbuilt.__getattr__
def missing(self, name):  # a release whose module asks the lists' module for a new name
    if name == "NUMPY_UFUNC_TYPE_NAMES":
        raise AttributeError(name)
    return stand_in(self, name)
skopsdump._Unbuilt.__getattr__ = missing
""",
)


def test_a_stand_in_that_cannot_be_imported_gives_way_to_the_real_module(tmp_path: Path) -> None:
    model, _ = _models()["logistic"]
    assert "def missing" in _IMPORT_FAILS
    assert _write_elsewhere({"model": model}, tmp_path, _IMPORT_FAILS) == "module"
    skio.dump(_received(model), tmp_path / "reference.skops")
    assert _normalized(tmp_path / "model.skops") == _normalized(tmp_path / "reference.skops")


def test_every_use_of_a_stood_in_list_is_caught() -> None:
    unbuilt = skopsdump._Unbuilt("skops.io._trusted_types")
    uses = [
        list,
        len,
        bool,
        hash,
        str,
        repr,
        lambda v: "x" in v,
        lambda v: v[0],
        lambda v: operator.add(v, ["x"]),
        lambda v: operator.add(["x"], v),
        lambda v: v <= ["x"],
        lambda v: v == ["x"],
        lambda v: f"{v}",
        lambda v: v.copy(),
        lambda v: v.index("x"),
    ]
    for name in ("SKLEARN_ESTIMATOR_TYPE_NAMES", "_SKLEARN_INTERNAL_TYPES", "NUMPY2_NAMES"):
        for use in uses:
            with pytest.raises(skopsdump.TrustListRead):
                use(getattr(unbuilt, name))
    for name in ("get_type_name", "__path__", "np"):
        with pytest.raises(AttributeError):
            getattr(unbuilt, name)


def test_the_saver_child_writes_without_the_lists_and_saving_in_process_keeps_skops_whole(
    tmp_path: Path,
) -> None:
    """In a process that has not imported skops before the fork (`mlops-actions train`) the
    child takes the fast path; one that saves in-process (no fork) imports the real module."""
    script = textwrap.dedent(
        """
        import os, sys
        from pathlib import Path
        from sklearn.linear_model import LogisticRegression
        from mlops_actions.training.saver import ModelSaver

        def lists() -> str:
            return type(sys.modules["skops.io._trusted_types"]).__name__

        model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        with ModelSaver() as saver:
            saver.prepare(Path(sys.argv[1]))
            saver.send(model)
            saver.submit(lists)
            print(*saver.wait())
        del os.fork
        with ModelSaver() as saver:
            saver.prepare(Path(sys.argv[2]))
            saver.save(model)
        print(lists(), len(sys.modules["skops.io._trusted_types"].SKLEARN_ESTIMATOR_TYPE_NAMES) > 50)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "a.skops"), str(tmp_path / "b.skops")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.split() == ["_Unbuilt", "module", "True"]
    for name in ("a", "b"):
        loaded = skio.load(tmp_path / f"{name}.skops")
        assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]
