"""Untrusted text in a real browser: readers' markup is shown, never run, fetched or styled.

Comment c-000022 of the fixture corpus carries a style sheet, event handlers, javascript:
and data: links, images in Markdown and HTML, frames, a meta refresh, a base element and
a full-page link; c-000005 carries a script. Every page that shows them (the story, the
search results with their threads, the tag page, the article) must raise no dialog,
request nothing from any host but the app's, and keep its own look.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest

from .conftest import BROWSER_WAIT, REPO, new_context

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
MAIN = '[data-testid="stMain"]'

# what the page may hold inside a comment or snippet: text, paragraphs, emphasis, links
DOM_REPORT = """
() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const out = {handlers: [], links: [], embedded: [], styled: [], fixed: []};
  for (const el of main.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) out.handlers.push(el.tagName + ' ' + a.name);
    }
    if (el.tagName === 'A') {
      const href = (el.getAttribute('href') || '').trim();
      const scheme = href.match(/^([a-z][a-z0-9+.-]*):/i);
      if (scheme && !['http', 'https', 'mailto'].includes(scheme[1].toLowerCase()))
        out.links.push(href);
    }
    const pos = getComputedStyle(el).position;
    if (pos === 'fixed' && (el.textContent || '').includes('cover')) out.fixed.push(el.tagName);
  }
  for (const box of main.querySelectorAll('.kb-comment, .kb-snippet')) {
    for (const el of box.querySelectorAll(
        'img, iframe, svg, object, embed, link, meta, base, style, script, form, input, video, audio'))
      out.embedded.push(el.tagName);
    for (const el of box.querySelectorAll('[style]')) out.styled.push(el.tagName);
  }
  out.bodyDisplay = getComputedStyle(document.body).display;
  out.bodyBackground = getComputedStyle(document.body).backgroundColor;
  out.base = document.baseURI;
  return out;
}
"""


class Watch:
    """Everything a page does that a hostile comment might cause."""

    def __init__(self, page):
        self.dialogs, self.requests = [], []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: self.requests.append(r.url))

    def foreign(self) -> list[str]:
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                if "evil" in url or "PHNjcmlwdD" in url:
                    out.append(url)
                continue
            if parts.hostname != "127.0.0.1":
                out.append(url)
        return out


def _settle(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator(IDLE)).to_have_count(1)
    page.wait_for_timeout(300)  # time for anything that would load, run or redirect


def _assert_inert(page, watch: Watch, app_url: str) -> None:
    report = page.evaluate(DOM_REPORT)
    assert watch.dialogs == []
    assert watch.foreign() == []
    assert report["handlers"] == [], report["handlers"]
    assert report["links"] == [], report["links"]
    assert report["embedded"] == [], report["embedded"]
    assert report["styled"] == [], report["styled"]
    assert report["fixed"] == []
    assert report["bodyDisplay"] != "none"
    assert report["bodyBackground"] != "rgb(255, 0, 0)"
    assert report["base"].startswith(app_url)
    assert page.url.startswith(app_url)  # no meta refresh took the page away


def _hover_everything(page) -> None:
    """Move the pointer over each comment, so an onmouseover that survived would fire."""
    boxes = page.locator(f"{MAIN} .kb-comment, {MAIN} .kb-snippet")
    for i in range(min(boxes.count(), 12)):
        if boxes.nth(i).is_visible():
            boxes.nth(i).hover()


def test_story_page_shows_hostile_markup_as_text(app_server, page):
    from playwright.sync_api import expect

    watch = Watch(page)
    page.goto(app_server.url + "/story?comment=c-000022")
    expect(page.get_by_text("Pelican lighthouse note")).to_be_visible()
    expect(
        page.get_by_text("<style>body { display: none !important }</style>", exact=False)
    ).to_be_visible()
    expect(page.get_by_text("onmouseover=", exact=False)).to_be_visible()
    _hover_everything(page)
    _settle(page)
    _assert_inert(page, watch, app_server.url)
    links = page.locator(f"{MAIN} .kb-comment a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    # the Markdown http link keeps its address; the javascript: and data: ones lost theirs
    assert [h for h in hrefs if h is not None] == ["http://evil.example/badge"]
    assert len(hrefs) == 3
    assert all(
        "nofollow" in (links.nth(i).get_attribute("rel") or "") for i in range(links.count())
    )


def test_search_results_and_their_threads_stay_inert(app_server, page):
    from playwright.sync_api import expect

    watch = Watch(page)
    page.goto(app_server.url + "/?q=" + quote("pelican lighthouse boyfriend broke up"))
    expect(page.get_by_text("Readers in your situation")).to_be_visible()
    expect(page.locator(f"{MAIN} mark").first).to_be_visible()
    for i in range(page.get_by_text("Whole conversation").count()):
        page.get_by_text("Whole conversation").nth(i).click()  # render every thread too
    expect(page.get_by_text("Pelican lighthouse note").first).to_be_visible()
    _hover_everything(page)
    _settle(page)
    _assert_inert(page, watch, app_server.url)
    snippets = page.locator(f"{MAIN} .kb-snippet")
    assert snippets.count() >= 2
    for i in range(snippets.count()):  # escaped text; the only markup is <mark>
        tags = set(re.findall(r"</?([a-zA-Z]+)", snippets.nth(i).inner_html()))
        assert tags <= {"mark", "p", "br"}, tags


def test_tag_page_stays_inert(app_server, page):
    from playwright.sync_api import expect

    watch = Watch(page)
    page.goto(app_server.url + "/browse?tag=no-contact")
    expect(page.get_by_text("Pelican lighthouse note").first).to_be_visible()
    _hover_everything(page)
    _settle(page)
    _assert_inert(page, watch, app_server.url)


def test_article_threads_stay_inert(app_server, page):
    from playwright.sync_api import expect

    watch = Watch(page)
    page.goto(app_server.url + "/article?article=affairs")
    expect(page.get_by_text("Pelican lighthouse note")).to_be_visible()
    _settle(page)
    _assert_inert(page, watch, app_server.url)


def test_an_author_page_by_address_shows_only_the_lock(app_server, page):
    from playwright.sync_api import expect

    page.goto(app_server.url + "/author-faq?q=zebra&tag=affair&is_author=1&comment=c-000001")
    expect(
        page.get_by_text("The author's pages are locked").or_(
            page.get_by_label("Author's password")
        )
    ).to_be_visible()
    _settle(page)
    assert (
        page.locator(
            f'{MAIN} [data-testid="stDataFrame"], {MAIN} [data-testid="stTab"], '
            f'{MAIN} [data-testid="stTable"]'
        ).count()
        == 0
    )
    assert page.get_by_text("Suggestions").count() == 0
    assert page.get_by_text("Asked in search").count() == 0


# -- text from the address, names and the author's own fields: never Markdown ------------
EVIL_IMG = "![x](http://evil.example/{}.png)"
EVIL_LINK = "[Sign in again](http://evil.example/phish-{})"
URL_PAYLOADS = [
    ("/browse?tag=", "tag"),
    ("/story?comment=", "comment"),
    ("/article?article=", "article"),
    ("/?like=", "like"),
    ("/?similar=", "similar"),
    ("/?q=", "q"),
    ("/?tag=", "roottag"),
]


def _no_markdown_made(page) -> None:
    """No image in the page, and no link of ours (the fixture comment's kept link aside)."""
    main = page.locator(MAIN)
    assert main.locator("img").count() == 0
    hrefs = [
        main.locator("a").nth(i).get_attribute("href") or ""
        for i in range(main.locator("a").count())
    ]
    outside = [h for h in hrefs if h.startswith(("http", "//")) and "evil" in h]
    assert not [h for h in outside if not h.endswith("/badge")], hrefs
    text = main.inner_text()
    assert "Traceback" not in text and "/tmp/" not in text and str(REPO) not in text


@pytest.mark.parametrize(("path", "name"), URL_PAYLOADS)
@pytest.mark.parametrize("kind", ["image", "link"])
def test_text_from_the_address_is_never_markdown(app_server, page, path, name, kind):
    from playwright.sync_api import expect

    payload = (EVIL_IMG if kind == "image" else EVIL_LINK).format(name)
    watch = Watch(page)
    page.goto(app_server.url + path + quote(payload))
    expect(page.locator(IDLE)).to_have_count(1)
    _settle(page)
    assert watch.foreign() == []
    _no_markdown_made(page)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """The app on a corpus whose author-written fields and a reader's name carry Markdown."""
    import os
    import shutil

    from .conftest import FIXTURE_CORPUS, RunningApp

    work = tmp_path_factory.mktemp("hostile")
    corpus = work / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    img = "![t](http://evil.example/{}.png)"
    (corpus / "site.yaml").write_text(
        f'title: "{img.format("title")} Test Site"\nauthor: Ada Reyes\nauthor_aliases: [Ada]\n'
    )
    tags = (corpus / "tags.yaml").read_text()
    tags = tags.replace("label: Affair", f'label: "Affair {img.format("label")}"')
    tags = tags.replace(
        "description: Infidelity.",
        f'description: "Infidelity [see](http://evil.example/desc) {img.format("desc")}"',
    )
    (corpus / "tags.yaml").write_text(tags)
    art = corpus / "articles" / "affairs.md"
    text = art.read_text().replace(
        'title: "After an affair"',
        f'title: "After an affair {img.format("atitle")}"\n'
        f'summary: "{img.format("summary")} in short"',
    )
    text = text.replace(
        "## Rebuilding",
        f"## Rebuilding {img.format('heading')}\n\n"
        "    indented code in an article\n\n```\nfenced code\n```\n",
    )
    art.write_text(text)
    comments = corpus / "comments" / "affairs.yaml"
    ctext = comments.read_text()
    first = re.search(r'author: "([^"]+)"', ctext).group(1)
    ctext = ctext.replace(
        f'author: "{first}"',
        f'author: "{first}\\n\\n{img.format("name")}\\n\\n[phish](http://evil.example/name-link)"',
        1,
    )
    ctext = ctext.replace(
        "body: |\n",
        "body: |\n      Code follows:\n\n          indented code block in a comment\n\n",
        1,
    )
    comments.write_text(ctext)
    from kb.corpus.read import check_corpus

    assert check_corpus(corpus) == []
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    app = RunningApp(corpus, work / "index", env, work / "app.log")
    yield app
    app.stop()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/article?article=affairs",
        "/article",
        "/browse",
        "/browse?tag=affair",
        "/?q=" + quote("affair cheated trust"),
    ],
)
def test_author_fields_and_names_load_no_images(hostile_app, page, path):
    from playwright.sync_api import expect

    watch = Watch(page)
    page.goto(hostile_app.url + path)
    expect(page.locator(IDLE)).to_have_count(1)
    for i in range(page.get_by_text("Whole conversation").count()):
        page.get_by_text("Whole conversation").nth(i).click()
    _settle(page)
    assert watch.foreign() == []
    _no_markdown_made(page)
    assert "[object Object]" not in page.locator(MAIN).inner_text()


def test_a_sign_in_lasts_across_tabs_of_one_browser_only(browser, tmp_path):
    """The session cookie lets a second tab in; another browser, or after sign-out, is locked."""
    import os
    import time

    from playwright.sync_api import expect

    from kb.auth import hash_password

    from .conftest import FIXTURE_CORPUS, RunningApp

    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'author_password_hash = "{hash_password("open sesame", 1000)}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env["STREAMLIT_SECRETS_FILES"] = str(secrets)
    app = RunningApp(FIXTURE_CORPUS, tmp_path / "index", env, tmp_path / "app.log")
    mine = new_context(browser)
    other = new_context(browser)
    try:
        first = mine.new_page()
        first.goto(app.url + "/author-faq")
        first.get_by_label("Author's password").fill("open sesame")
        first.get_by_role("button", name="Sign in").click()
        expect(first.get_by_text("reader questions;")).to_be_visible()
        deadline = time.monotonic() + BROWSER_WAIT / 1000
        while time.monotonic() < deadline:  # the cookie is set by a script in the page, soon after
            cookies = {c["name"]: c for c in mine.cookies()}
            if "kb_author" in cookies:
                break
            first.wait_for_timeout(100)
        assert "kb_author" in cookies and cookies["kb_author"]["expires"] == -1  # session only
        assert "open sesame" not in cookies["kb_author"]["value"]
        second = mine.new_page()  # a new tab of the same browser
        second.goto(app.url + "/author-tags")
        expect(second.get_by_role("tab", name="Suggestions")).to_be_visible()
        stranger = other.new_page()
        stranger.goto(app.url + "/author-faq")
        expect(stranger.get_by_label("Author's password")).to_be_visible()
        assert stranger.get_by_text("reader questions;").count() == 0
        stranger.context.add_cookies([{**cookies["kb_author"], "value": "kb1.9999999999.00"}])
        stranger.goto(app.url + "/author-faq")  # a forged cookie is no key
        expect(stranger.get_by_label("Author's password")).to_be_visible()
        second.get_by_role("button", name="Sign out").click()
        expect(second.get_by_label("Author's password")).to_be_visible()
        third = mine.new_page()
        third.goto(app.url + "/author-faq")
        expect(third.get_by_label("Author's password")).to_be_visible()
        assert third.get_by_text("reader questions;").count() == 0
    finally:
        mine.close()
        other.close()
        app.stop()
