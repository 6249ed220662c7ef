"""The running app in a real browser: search, shared links, tags, articles, hostile text."""

import re
from urllib.parse import quote

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def wait_idle(page):
    from playwright.sync_api import expect

    expect(page.locator(IDLE)).to_have_count(1)


def test_situation_search_shows_advice_and_stories(app_server, page):
    from playwright.sync_api import expect

    page.goto(app_server.url + "/")
    box = page.locator('[data-testid="stMain"] textarea').first
    expect(box).to_be_visible()
    box.fill("my wife moved out after twelve years and says she needs space")
    box.press("Control+Enter")
    expect(page.get_by_text("Readers in your situation")).to_be_visible()
    expect(page.get_by_text("What space means", exact=True)).to_be_visible()
    expect(page.get_by_text("a few weeks is a good first stretch").first).to_be_visible()
    wait_idle(page)
    assert re.search(r"[?&]q=my(\+|%20)wife", page.url)


def test_shared_search_link_reopens_results(app_server, page):
    from playwright.sync_api import expect

    page.goto(app_server.url + "/?q=" + quote("cheated husband coworker"))
    expect(page.get_by_text("Readers in your situation")).to_be_visible()
    expect(page.get_by_text("coworker").first).to_be_visible()


def test_shared_comment_link_opens_the_whole_thread(app_server, page):
    from playwright.sync_api import expect

    page.goto(app_server.url + "/?comment=c-000003")
    expect(page.get_by_text("A reader's story")).to_be_visible()
    expect(page.get_by_text("she wrote to me")).to_be_visible()
    expect(page.get_by_text("Give her a few quiet weeks")).to_be_visible()


def test_browse_a_tag(app_server, page):
    from playwright.sync_api import expect

    page.goto(app_server.url + "/browse")
    expect(page.get_by_text("Browse by tag").first).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Affair \(1\)")).click()
    expect(page.get_by_text("Affair: 1 comments")).to_be_visible()
    expect(page.get_by_text("coworker").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"tag=affair"))


def test_read_an_article_with_its_conversations(app_server, page):
    from playwright.sync_api import expect

    page.goto(app_server.url + "/article?article=leaving&section=when-to-reach-out")
    expect(page.get_by_role("heading", name="When a partner leaves")).to_be_visible()
    expect(page.get_by_role("heading", name="When to reach out")).to_be_visible()
    expect(page.get_by_text("Readers' conversations")).to_be_visible()
    expect(page.get_by_text("My girlfriend left me after four years")).to_be_visible()


def test_hostile_comment_stays_inert(app_server, page):
    from playwright.sync_api import expect

    dialogs, requests = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(app_server.url + "/story?comment=c-000005")
    expect(page.get_by_text("My boyfriend broke up with me")).to_be_visible()
    # the markup the reader typed is shown as text, not run
    expect(page.get_by_text("<script>alert('xss')</script>", exact=False)).to_be_visible()
    wait_idle(page)
    page.wait_for_timeout(500)
    assert dialogs == []
    assert (
        page.locator(
            '[data-testid="stMain"] img[onerror], [data-testid="stMain"] [onerror]'
        ).count()
        == 0
    )
    assert (
        page.locator(
            "[data-testid=\"stMain\"] a[href^='javascript:'], [data-testid=\"stMain\"] a[href^='data:']"
        ).count()
        == 0
    )
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg != "rgb(255, 0, 0)"
    assert not [u for u in requests if u.endswith("/x") or u.startswith("data:")]
