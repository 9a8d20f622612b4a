"""The docs' Python snippets are the examples' code: every ```python block in the tutorial,
docs/deployment.md and the README must appear word for word in the example program of its
page, which tests/server/test_examples.py runs and checks over a real socket. A page's
example is the first examples/*.py file it links to. Relative links between pages must
point at files that exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs" / "tutorial").glob("*.md")) + [
    ROOT / "docs" / "deployment.md",
    ROOT / "README.md",
]
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)
EXAMPLE_LINK = re.compile(r"\]\(([./]*examples/[\w.]+\.py)\)")
LINK = re.compile(r"\]\(([^)#:]+)(?:#[^)]*)?\)")


def _ids(pages):
    return [str(p.relative_to(ROOT)) for p in pages]


def test_every_chapter_is_there():
    names = {p.name for p in PAGES}
    for n, stem in enumerate(
        ["hello", "async", "router", "request", "response", "exceptions", "extend"], 1
    ):
        assert f"{n}-{stem}.md" in names


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_python_blocks_are_the_example_code(page):
    text = page.read_text()
    blocks = BLOCK.findall(text)
    if not blocks:
        return
    link = EXAMPLE_LINK.search(text)
    if page.name == "README.md" and page.parent == ROOT:
        example = ROOT / "examples" / "hello.py"  # the README runs it
    else:
        assert link, f"{page.name} has Python code but links to no example"
        example = (page.parent / link.group(1)).resolve()
    code = example.read_text()
    missing = [b for b in blocks if b not in code]
    assert missing == [], f"not in {example.relative_to(ROOT)}:\n" + "\n---\n".join(missing)


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_relative_links_resolve(page):
    broken = [
        target
        for target in LINK.findall(page.read_text())
        if not target.startswith(("http", "mailto")) and not (page.parent / target).exists()
    ]
    assert broken == []
