"""What `runs` read of each experiment commit, kept in the clone's git directory: a commit
never changes, so its params, metrics and run record are read once. A row that had a problem
(a metrics object missing from the cache and the remote, say) is not kept: it is read again
next time. A cache of another version of this package is ignored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlops_actions import __version__, git

VERSION = f"{__version__}/2"  # /2: run records keep their sweep


def _path(top: Path) -> Path:
    common = Path(git.run("rev-parse", "--git-common-dir", cwd=top))
    return (common if common.is_absolute() else top / common) / "mlops" / "runs-cache.json"


def load(top: Path) -> dict[str, dict[str, Any]]:
    try:
        raw = json.loads(_path(top).read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict) or raw.get("version") != VERSION:
        return {}
    rows = raw.get("rows")
    return rows if isinstance(rows, dict) else {}


def save(top: Path, saved: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> None:
    """Add the rows read this time (best effort: a read-only clone just reads again)."""
    if not new:
        return
    from mlops_actions.util import write_text

    try:
        path = _path(top)
        path.parent.mkdir(exist_ok=True)
        text = json.dumps({"version": VERSION, "rows": {**saved, **new}}, separators=(",", ":"))
        write_text(path, text)
    except (OSError, ValueError):
        return
