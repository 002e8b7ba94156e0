"""The Mermaid diagrams of the README and the docs pages parse with the real Mermaid parser at the
version GitHub renders and at the newest, and the lifecycle diagram shows every tag the registry
writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_mermaid import PACKAGES, blocks, parse

ROOT = Path(__file__).resolve().parent.parent
# Every Markdown file a reader sees: the README, the site's pages, BENCHMARKS.md (a page too).
MARKDOWN = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("**/*.md"))]


def diagrams() -> list[str]:
    return [d for path in MARKDOWN for d in blocks(path.read_text(encoding="utf-8"))]


def lifecycle() -> str:
    [diagram] = [d for d in diagrams() if d.startswith("stateDiagram-v2")]
    return diagram


@pytest.mark.parametrize("package", PACKAGES)
def test_every_diagram_of_the_readme_and_the_docs_parses(package: str) -> None:
    found = diagrams()
    assert found, "the docs draw their diagrams in ```mermaid blocks"
    parsed = parse(found, package)
    results = parsed["results"]
    assert all(r["ok"] for r in results), results  # type: ignore[union-attr,index]


def test_the_parser_rejects_a_broken_lifecycle() -> None:
    """The check has teeth: an arrow with no target state does not parse."""
    broken = lifecycle().replace("registered --> deregistered:", "registered --> :")
    parsed = parse([broken], "mermaid")
    assert parsed["results"][0]["ok"] is False  # type: ignore[index]


def test_the_lifecycle_shows_every_tag_and_event() -> None:
    diagram = lifecycle()
    for shown in (
        "NAME@vX.Y.Z",
        "NAME#staging#N",
        "NAME#prod#N",
        "NAME#staging!#N",
        "NAME@vX.Y.Z!",
        "NAME@deprecated",
        "mlops-registered",
        "mlops-assigned",
    ):
        assert shown in diagram, shown
    states = set(re.findall(r"(\w+) --> ", diagram)) | set(re.findall(r"--> (\w+)", diagram))
    assert states == {"registered", "staging", "prod", "deregistered"}
