"""The author's tag review in a real browser, and the original-site links of an imported site."""

import os
import re
import shutil

import pytest

from .conftest import BROWSER_WAIT, EMBEDDED_CORPUS, HERE, RunningApp

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
WAIT = BROWSER_WAIT  # generous: an Apply rebuilds the index, and the machine may be busy
PASSWORD = "open sesame"


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT)
    return expect


def _env():
    return {k: v for k, v in os.environ.items() if not k.startswith("KB_")}


@pytest.fixture(scope="module")
def author_app(tmp_path_factory):
    """The app on a writable copy of the embedded corpus, with an author's password."""
    from kb.auth import hash_password
    from kb.index.build import build_index

    work = tmp_path_factory.mktemp("author-app")
    corpus = work / "corpus"
    shutil.copytree(EMBEDDED_CORPUS, corpus)
    build_index(corpus, work / "index")
    (work / ".streamlit").mkdir()
    (work / ".streamlit" / "secrets.toml").write_text(
        f'author_password_hash = "{hash_password(PASSWORD, iterations=1000)}"\n'
    )
    app = RunningApp(corpus, work / "index", _env(), work / "app.log", cwd=work)
    app.corpus = corpus
    yield app
    app.stop()


def _sign_in(page, url):
    expect = _expect()
    page.goto(url + "/author-tags")
    box = page.get_by_label("Author's password")
    expect(box).to_be_visible()
    box.fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(re.compile(r"^\d+ suggestions at or above"))).to_be_visible()
    _expect()(page.locator(IDLE)).to_have_count(1)


def _rows(page) -> list[tuple[str, str]]:
    """Return (tag, comment) of each row the review grid holds (from its accessible table)."""
    _expect()(page.locator("[data-testid=stDataFrame] tr").nth(2)).to_be_attached()
    cells = page.locator("[data-testid=stDataFrame] tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(c => c.innerText))"
    )
    return [(c[3], c[4]) for c in cells if len(c) >= 5]


def _count(page) -> int:
    text = page.get_by_text(re.compile(r"^\d+ suggestions at or above")).inner_text()
    return int(text.split()[0])


def test_the_review_queue_shrinks_after_apply_and_a_reload(author_app, page):
    expect = _expect()
    _sign_in(page, author_app.url)
    before = _count(page)
    assert before > 2
    rows = _rows(page)
    decided = [rows[0], rows[1]]
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_be_visible()
    # tick "accept" on the first row and "reject" on the second: the grid is drawn on a
    # canvas, so click the checkboxes where they are (both columns are 80 px wide)
    box = grid.bounding_box()
    header, row_h = 35, 35
    first_y = box["y"] + header + row_h / 2
    page.mouse.click(box["x"] + 40, first_y)  # accept, row 1
    page.mouse.click(box["x"] + 120, first_y + row_h)  # reject, row 2
    apply = page.get_by_role("button", name="Apply: accept 1, reject 1")
    expect(apply).to_be_enabled()
    apply.click()
    expect(page.get_by_text("Saved: 1 accepted, 1 rejected.")).to_be_visible()
    _expect()(page.locator(IDLE)).to_have_count(1)
    expect(page.get_by_text(f"{before - 2} suggestions at or above")).to_be_visible()
    text = (author_app.corpus / "comments").glob("*.yaml")
    assert any("removed_tags" in f.read_text() for f in text)
    page.reload()
    expect(
        page.get_by_label("Author's password").or_(
            page.get_by_text(re.compile(r"^\d+ suggestions at or above"))
        )
    ).to_be_visible()
    if page.get_by_label("Author's password").count():
        _sign_in(page, author_app.url)
    expect(page.get_by_text(re.compile(r"^\d+ suggestions at or above"))).to_be_visible()
    _expect()(page.locator(IDLE)).to_have_count(1)
    # not offered again (the relearned model may offer other rows)
    assert not [r for r in _rows(page) if r in decided], decided


def test_browse_draws_without_waiting_for_suggestions(author_app, page):
    expect = _expect()
    page.goto(author_app.url + "/browse")
    expect(page.get_by_role("heading", name="Browse by tag")).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    expect(page.get_by_text("Tagged by the author").first).to_be_attached()


@pytest.fixture(scope="module")
def imported_app(tmp_path_factory):
    """The app on a site imported from a WordPress export."""
    from kb.cli import main

    work = tmp_path_factory.mktemp("imported")
    corpus = work / "corpus"
    export = HERE / "fixtures" / "import" / "export.xml"
    assert (
        main(
            ["import", "wxr", str(export), "--corpus", str(corpus), "--index", str(work / "index")]
        )
        == 0
    )
    app = RunningApp(corpus, work / "index", _env(), work / "app.log")
    yield app
    app.stop()


def test_article_and_story_link_to_the_original_site(imported_app, page):
    expect = _expect()
    page.goto(imported_app.url + "/article?article=when-she-leaves")
    link = page.get_by_role("link", name=re.compile("This article on the original site"))
    expect(link).to_be_visible()
    assert link.get_attribute("href") == "https://heartwise.example/2010/03/when-she-leaves/"
    assert link.get_attribute("target") == "_blank"
    assert (
        "leaves this site" in link.inner_text()
        or "leaves this site" in (link.get_attribute("title") or "") + link.text_content()
    )
    page.goto(imported_app.url + "/story?comment=wp-12-102")
    link = page.get_by_role("link", name=re.compile("comment on the original site"))
    expect(link).to_be_visible()
    assert link.get_attribute("href") == (
        "https://heartwise.example/2010/03/when-she-leaves/#comment-102"
    )
    # kb's own links stay inside kb
    inside = page.locator("a.kb-link:not(.kb-out)").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    assert inside and all(h.startswith("./") for h in inside)
