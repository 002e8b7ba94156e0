"""MkDocs hooks (mkdocs.yml `hooks:`): the site's Benchmarks page is BENCHMARKS.md itself.

`make bench` writes BENCHMARKS.md at the repository root, where GitHub shows it, with links
relative to the root (`docs/benchmarks.png`). The page is added to the site as `benchmarks.md`
with those links made relative to docs/, so the file is neither copied nor edited by hand.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

SOURCE = "BENCHMARKS.md"
PAGE = "benchmarks.md"
_ROOT_LINK = re.compile(r"\]\(docs/")


def benchmarks_page(text: str) -> str:
    """BENCHMARKS.md's Markdown with links into docs/ made relative to docs/."""
    return _ROOT_LINK.sub("](", text)


def on_files(files: Files, config: Any) -> Files:
    root = Path(config.config_file_path).parent
    text = (root / SOURCE).read_text(encoding="utf-8")
    files.append(File.generated(config, PAGE, content=benchmarks_page(text)))
    return files
