"""The plot: how cost grows with rows (train: wall time and peak memory) and with tags (models),
each against its peer, on log axes."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot(series: dict[str, Any], path: Path, title: str) -> Path | None:
    """Write the PNG; None (and nothing written) when there is nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")

    train = series.get("train") or {}
    models = series.get("models") or {}
    panels = [p for p in ("wall", "rss", "tags") if (models if p == "tags" else train)]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.4), squeeze=False)
    styles = {"csv": "-", "parquet": "--"}
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel in ("wall", "rss"):
            ours_key, bare_key = ("ours", "bare") if panel == "wall" else ("ours_mb", "bare_mb")
            for fmt, s in train.items():
                style = styles.get(fmt, ":")
                ours_label, bare_label = f"mlops-actions train ({fmt})", f"bare script ({fmt})"
                ax.plot(s["rows"], s[ours_key], style, marker="o", color="C0", label=ours_label)
                ax.plot(s["rows"], s[bare_key], style, marker="s", color="C1", label=bare_label)
            ax.set_xlabel("rows")
            ax.set_ylabel("wall time (s)" if panel == "wall" else "peak memory, process tree (MB)")
            ax.set_title("train: wall time" if panel == "wall" else "train: peak memory")
        else:
            tags = models["tags"]
            ax.plot(tags, models["ours"], marker="o", color="C0", label="mlops-actions models")
            gto = [(t, s) for t, s in zip(tags, models["gto"], strict=True) if s is not None]
            if gto:
                ax.plot(*zip(*gto, strict=True), marker="s", color="C3", label="gto show")
            ax.set_xlabel("tags")
            ax.set_ylabel("wall time (s)")
            ax.set_title("registry listing")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(plain)
        low, high = ax.get_ylim()
        if high / low < 30:  # label the minor ticks only where the axis spans few decades
            ax.yaxis.set_minor_formatter(plain)
            ax.tick_params(axis="y", which="minor", labelsize=7)
        else:
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
