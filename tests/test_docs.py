"""The reference site: `mkdocs build --strict` passes, every nav page and included file is there,
Mermaid fences reach mermaid.js, and the Pages workflow publishes it with the least it needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml
from mkdocs.config import load_config

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOCS_WORKFLOW = ROOT / ".github" / "workflows" / "docs.yml"
PINNED = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def _mkdocs(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SITE_URL"}
    env["NO_MKDOCS_2_WARNING"] = "1"  # the theme's end-of-life notice, printed on every build
    return subprocess.run(
        [str(BIN / "mkdocs"), "build", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def _nav_pages(nav: list[Any]) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = _mkdocs(ROOT, "--strict", "--site-dir", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_every_nav_page_is_built(site: Path) -> None:
    config = load_config(str(ROOT / "mkdocs.yml"))
    pages = _nav_pages(config["nav"])
    assert {"index.md", "sweeps.md", "troubleshooting.md", "architecture.md"} <= set(pages)
    for page in pages:
        built = site / ("index.html" if page == "index.md" else f"{page[:-3]}/index.html")
        assert built.is_file(), page
        assert "--8<--" not in built.read_text(encoding="utf-8"), f"{page}: a snippet not included"


def test_the_benchmarks_page_is_benchmarks_md_with_its_plot(site: Path) -> None:
    """BENCHMARKS.md stays where `make bench` writes it; the page shows it, plot included."""
    page = (site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    first = next(line for line in (ROOT / "BENCHMARKS.md").read_text().splitlines() if line)
    assert first.startswith("# ") and f">{first[2:]}<" in page
    for src in re.findall(r'<img[^>]* src="([^"]+)"', page):
        assert (site / "benchmarks" / src).resolve().is_file(), src
    assert "benchmarks.png" in page
    assert not (ROOT / "docs" / "benchmarks.md").exists()  # no copy to go stale


def test_pages_include_the_tested_examples_themselves(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    example = yaml.safe_load((ROOT / "examples" / "one-step.yml").read_text())
    assert example["name"] in index


def test_a_broken_link_fails_the_build_without_the_flag(tmp_path: Path) -> None:
    """`strict: true` is in mkdocs.yml itself, so `mkdocs build` and `mkdocs serve` refuse too."""
    for name in ("mkdocs.yml", "BENCHMARKS.md", "action.yml", "params.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ("docs", "examples", "scripts"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "docs" / "security.md").write_text("# Security\n\nSee [gates](gates.md).\n")
    proc = _mkdocs(tmp_path)
    assert proc.returncode != 0
    assert "security.md" in proc.stderr and "gates.md" in proc.stderr, proc.stderr


def _markdown_as_the_site_renders_it() -> markdown.Markdown:
    config = load_config(str(ROOT / "mkdocs.yml"))
    return markdown.Markdown(
        extensions=config["markdown_extensions"], extension_configs=config["mdx_configs"]
    )


def test_every_mermaid_diagram_reaches_mermaid_js_whole() -> None:
    """Material runs mermaid.js on <pre class="mermaid">: the diagram's text, not highlighted."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    diagrams = [
        diagram
        for page in pages
        for diagram in re.findall(
            r"^```mermaid\n(.*?)^```$", page.read_text(encoding="utf-8"), re.M | re.S
        )
    ]
    assert diagrams
    md = _markdown_as_the_site_renders_it()
    for diagram in diagrams:
        html = md.reset().convert(f"```mermaid\n{diagram}```\n")
        assert html.startswith('<pre class="mermaid"><code>'), html[:80]
        assert "<span" not in html
        first = diagram.splitlines()[0].strip()
        assert first in html


def test_the_readmes_workflow_is_the_tested_example_itself() -> None:
    """GitHub shows the README without includes, so its one workflow is a copy of
    examples/reusable.yml (which the workflow tests run): the copy must not drift."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Use it in GitHub Actions\n", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"^```yaml\n(.*?)^```$", section, re.M | re.S)[0]
    assert block == (ROOT / "examples" / "reusable.yml").read_text(encoding="utf-8")


def test_the_readme_stays_short_and_links_every_page() -> None:
    """The README is the front door (at most 300 lines); the reference is the site, and every
    page of its nav is linked from the README's table, by a link GitHub can follow."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    assert "make test" in text
    pages = _nav_pages(load_config(str(ROOT / "mkdocs.yml"))["nav"])
    linked = set(re.findall(r"\]\((docs/[\w-]+\.md)\)", text))
    for page in pages:
        if page == "benchmarks.md":  # BENCHMARKS.md itself, at the root
            assert "](BENCHMARKS.md)" in text
        else:
            assert f"docs/{page}" in linked, page
            assert (ROOT / "docs" / page).is_file(), page


def test_headings_get_permalinks_and_admonitions_render() -> None:
    md = _markdown_as_the_site_renders_it()
    html = md.convert("## Gates\n\n!!! warning\n    Review `params.yaml`.\n\n| a |\n| - |\n| 1 |\n")
    assert 'class="headerlink" href="#gates"' in html
    assert 'class="admonition warning"' in html
    assert "<table>" in html


# ---- the Pages workflow ----------------------------------------------------------------------


def _workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(DOCS_WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def test_the_docs_workflow_runs_only_for_main() -> None:
    workflow = _workflow()
    assert workflow[True] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    assert workflow["permissions"] == {}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_the_docs_workflow_gives_each_job_the_least_it_needs() -> None:
    jobs = _workflow()["jobs"]
    assert set(jobs) == {"build", "deploy"}
    build, deploy = jobs["build"], jobs["deploy"]
    assert build["permissions"] == {"contents": "read", "pages": "read"}
    checkout = build["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"persist-credentials": False}
    [run] = [s for s in build["steps"] if "run" in s]
    assert run["run"] == "make docs"
    [upload] = [s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert upload["with"] == {"path": "site"}  # where `make docs` builds
    # Only the deploy job can write to Pages; it checks out nothing and runs nothing of ours.
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    [step] = deploy["steps"]
    assert step["uses"].startswith("actions/deploy-pages@") and "run" not in step


def test_the_docs_workflow_pins_every_action_by_full_sha_and_names_its_version() -> None:
    lines = [line for line in DOCS_WORKFLOW.read_text().splitlines() if "uses:" in line]
    assert len(lines) == 5
    used = set()
    for line in lines:
        match = PINNED.match(line)
        assert match, line
        used.add(match[1])
    assert {"actions/configure-pages", "actions/upload-pages-artifact"} <= used
    assert "actions/deploy-pages" in used


def test_zizmor_as_an_auditor_finds_nothing_in_the_docs_workflow() -> None:
    proc = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--no-progress", "--persona=auditor", DOCS_WORKFLOW],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and "No findings to report" in proc.stdout, proc.stdout
