"""A reader's way through the app in a real browser: Back and Forward, sections, phones,
searches the site does not cover, links to the original site."""

import re

import pytest

from .conftest import BROWSER_WAIT, new_context

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
BOX = '[data-testid="stMain"] textarea'
WAIT = BROWSER_WAIT  # generous: the first page loads the model, and the machine may be busy


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT)
    return expect


def idle(page):
    _expect()(page.locator(IDLE)).to_have_count(1)


def search(page, url, text):
    expect = _expect()
    page.goto(url + "/")
    box = page.locator(BOX).first
    expect(box).to_be_visible()
    box.fill(text)
    box.press("Control+Enter")
    expect(page.get_by_text("Readers in your situation")).to_be_visible()
    idle(page)
    return box


def _first_story_ids(page) -> list[str]:
    return page.locator("a.kb-link", has_text=re.compile(r"^Open .*'s conversation$")).evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )


QUERY = "my wife moved out and says she needs space"


@pytest.mark.parametrize("link", ["conversation", "like"])
def test_back_and_forward_keep_the_search(embedded_app, page, link):
    expect = _expect()
    box = search(page, embedded_app.url, QUERY)
    results = _first_story_ids(page)
    assert results
    if link == "conversation":
        page.locator("a.kb-link", has_text=re.compile(r"^Open .*'s conversation$")).first.click()
        expect(page.get_by_role("heading", name="A reader's story")).to_be_visible()
    else:
        page.locator("a.kb-link", has_text=re.compile(r"^More stories like ")).first.click()
        expect(page.get_by_role("heading", name=re.compile(r"^Stories like "))).to_be_visible()
    idle(page)
    away = page.url
    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?q=my"))
    expect(box).to_have_value(QUERY)
    expect(page.get_by_text("Readers in your situation")).to_be_visible()
    idle(page)
    assert _first_story_ids(page) == results  # the same results
    page.go_forward()
    expect(page).to_have_url(away)
    if link == "conversation":
        expect(page.get_by_role("heading", name="A reader's story")).to_be_visible()
    else:
        expect(page.get_by_role("heading", name=re.compile(r"^Stories like "))).to_be_visible()
    # the page's own way back leads to the same search too
    page.locator("a.kb-link", has_text="Back to the search").first.click()
    expect(page).to_have_url(re.compile(r"/\?q=my"))
    expect(box).to_have_value(QUERY)
    idle(page)
    assert _first_story_ids(page) == results


def test_read_this_section_opens_at_the_section(embedded_app, page):
    expect = _expect()
    search(page, embedded_app.url, QUERY)
    # a section with a heading of its own (an article's opening has none to scroll to), the
    # second such if the list has two (whether the vectors are ready changes the list)
    links = page.locator(
        "a.kb-link:not([href*='section=intro'])", has_text=re.compile(r"^Read the section ")
    )
    expect(links.first).to_be_attached()
    idle(page)
    link = links.nth(1) if links.count() > 1 else links.first
    href = link.get_attribute("href")
    anchor = re.search(r"section=([^&]+)", href).group(1)
    link.click()
    expect(page.locator(".kb-wanted")).to_be_visible()
    heading = page.locator(f"[id='{anchor}']").first
    expect(heading).to_be_in_viewport()
    idle(page)
    # scrolled to it (near the top of the window), not left 3,000 px down
    page.wait_for_function(
        "id => { const r = document.getElementById(id).getBoundingClientRect();"
        " return r.top >= 0 && r.top < 450; }",
        arg=anchor,
        timeout=WAIT,
    )


def test_phone_shows_the_first_story_within_two_screens(embedded_app, browser):
    expect = _expect()
    context = new_context(
        browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        search(page, embedded_app.url, QUERY)
        story = page.locator("a.kb-link", has_text=re.compile(r"^Open .*'s conversation$")).first
        expect(story).to_be_attached()
        top = story.evaluate(
            'e => e.closest(\'[data-testid="stVerticalBlockBorderWrapper"], '
            '[data-testid="stVerticalBlock"]\').getBoundingClientRect().top'
        )
        scroller = page.evaluate(
            "document.querySelector('[data-testid=\"stMain\"]').scrollTop + window.scrollY"
        )
        assert top + scroller < 2 * 844, top
        # the box holds several lines; example buttons wrap instead of being cut
        page.goto(embedded_app.url + "/")
        expect(page.locator(BOX)).to_be_visible()
        assert page.locator(BOX).evaluate("e => e.getBoundingClientRect().height") > 60
        button = page.get_by_role("button", name=re.compile("^My wife moved out"))
        expect(button).to_be_visible()
        assert button.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    finally:
        context.close()


@pytest.mark.parametrize(
    "text", ["my cat keeps scratching the sofa", "how do i fix a leaking kitchen tap"]
)
def test_a_question_the_site_does_not_cover_says_so(embedded_app, page, text):
    expect = _expect()
    search(page, embedded_app.url, text)
    notice = page.get_by_text("Nothing here is really about that; these are the closest.")
    expect(notice).to_be_visible()
    box = notice.bounding_box()
    heading = page.get_by_text("Readers in your situation").bounding_box()
    assert box["y"] < heading["y"]  # said at the top, above the results


def test_a_covered_question_gets_no_such_notice(embedded_app, page):
    search(page, embedded_app.url, QUERY)
    assert page.get_by_text("Nothing here is really about that").count() == 0


def test_links_look_like_links_and_name_where_they_go(embedded_app, page):
    expect = _expect()
    search(page, embedded_app.url, QUERY)
    links = page.locator("a.kb-link", has_text=re.compile(r"^Open .*'s conversation$"))
    names = links.all_inner_texts()
    assert len(names) >= 3 and len(set(names)) > 1
    style = links.first.evaluate(
        "e => { const s = getComputedStyle(e); return [s.textDecorationLine, s.color]; }"
    )
    assert "underline" in style[0] and style[1] != "rgb(49, 51, 63)"
    expect(page).to_have_title(re.compile(r"my wife moved out.* · Staying Close"))
    links.nth(1).focus()
    page.keyboard.press("Shift+Tab")  # reach it by keyboard, as its focus ring is for
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.textContent, "
        "getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused[0] == names[1] and focused[1] != "none", focused
    # the menu offers pages, none of them an empty story page
    page.get_by_role("button", name="Read").click()
    menu = page.get_by_role("menu", name="Read")
    expect(menu.get_by_role("menuitem", name="Articles")).to_be_visible()
    names = menu.get_by_role("menuitem").all_inner_texts()
    assert "Browse by tag" in names and not [n for n in names if "story" in n.lower()], names
