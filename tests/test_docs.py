"""The user documentation holds together: every relative link in README.md, docs/ and the model
card resolves, every docs page is reachable from the README, the README and model card stay
short, and the README's Python examples run as written (on the pretrained model)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODEL_CARD = ROOT / "charrnn" / "pretrained" / "README.md"
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", MODEL_CARD, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(page):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # code is not links
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    for target in relative_links(page):
        path = target.split("#")[0]
        assert path and (page.parent / path).exists(), f"{page.relative_to(ROOT)}: broken link {target}"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / t.split("#")[0]).resolve() for t in relative_links(ROOT / "README.md")}
    for page in (ROOT / "docs").glob("*.md"):
        assert page.resolve() in linked, f"README.md does not link {page.relative_to(ROOT)}"


def test_user_documentation_is_short_and_self_contained():
    assert len((ROOT / "README.md").read_text(encoding="utf-8")) <= 12_000
    assert len(MODEL_CARD.read_text(encoding="utf-8")) <= 10_000
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text, f"{page.name} names a path outside the repository"
        assert not re.search(r"\bissue \d+", text, re.I), f"{page.name} names a development issue"


def readme_python():
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_readme_python_examples_run(tmp_path, monkeypatch):
    """Each block runs after the ones before it, in one namespace, as a reader would paste them."""
    blocks = readme_python()
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)  # the examples write (tune.mid) into the current folder
    monkeypatch.delenv("CHARRNN_WEIGHTS", raising=False)
    namespace = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    tunes = namespace["tunes"]
    assert len(tunes) == 3 and all(t.abc.startswith("X:") for t in tunes)
    assert all("R:jig" in t.abc and "K:D" in t.abc for t in namespace["jigs"])
    assert (tmp_path / "tune.mid").stat().st_size > 0
