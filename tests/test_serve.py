"""`kb serve` as the README starts it: a shared link is the first thing a fresh server sees."""

import os

import pytest

from tests.conftest import FIXTURE_CORPUS, RunningApp

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.mark.parametrize("path, text", [
    ("/story?comment=c-000003", "Give her a few quiet weeks"),
    ("/article?article=leaving&section=when-to-reach-out", "Readers' conversations"),
    ("/browse?tag=affair", "Affair: 1 comments"),
])
def test_deep_link_opens_first_on_a_fresh_kb_serve(tmp_path_factory, page, path, text):
    """Each link is the first request to its own freshly started server."""
    from playwright.sync_api import expect

    work = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    app = RunningApp(FIXTURE_CORPUS, work / "index", env, work / "serve.log", via_kb_serve=True)
    try:
        page.goto(app.url + path)
        expect(page.get_by_text(text).first).to_be_visible()
        assert page.get_by_text("KeyError").count() == 0
    finally:
        app.stop()
