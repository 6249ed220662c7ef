"""The author's pages: locked without the password, guessing slowed and then stopped, and
nothing private (suggestions to review, the weak-search log, tag editing) on any reader
page, whatever its query parameters.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.auth import hash_password

from .conftest import FIXTURE_CORPUS, REPO, URL_PARAMS

pytestmark = pytest.mark.e2e
APP = str(REPO / "app.py")
PAGES = "src/kb/ui/views/"
PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD, iterations=1000)
MARKER = "quokka trebuchet"  # a weak search a reader made: only the author may see it
TRIED: Counter = Counter()


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    """A private corpus and index, with one weak search recorded by a reader's visit."""
    import shutil

    import streamlit as st

    work = tmp_path_factory.mktemp("author")
    shutil.copytree(FIXTURE_CORPUS, work / "corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_CORPUS", str(work / "corpus"))
        mp.setenv("KB_INDEX", str(work / "index"))
        st.cache_resource.clear()
        st.cache_data.clear()
        at = _open(None)
        at.text_area(key="q").input(MARKER).run()  # typed: only typed searches are counted
        assert not at.exception
        from kb import searchlog

        assert searchlog.read(work / "index") == {MARKER: 1}
        yield work
        st.cache_resource.clear()
        st.cache_data.clear()
    if TRIED:
        print(f"\nauthor pages: {sum(TRIED.values())} reader page runs with generated parameters")


@pytest.fixture
def fresh_lock(app_env):
    """Forget the wrong tries of earlier tests (they are counted server-wide)."""
    from kb.ui import signin

    signin._failures.clear()
    yield
    signin._failures.clear()


class Clock:
    """Stands in for the time module inside kb.ui.signin: records sleeps, can jump ahead."""

    def __init__(self):
        self.offset = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch, fresh_lock):
    from kb.ui import signin

    fake = Clock()
    monkeypatch.setattr(signin, "time", fake)
    return fake


def _open(page: str | None, params: dict | None = None, secret: str = HASH):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["author_password_hash"] = secret
    if page:  # a page is chosen after a first run, as a reader follows the navigation
        at.run()
        at.switch_page(PAGES + page)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    return at.run()


def _everything(at) -> str:
    """Return the text of every element the run produced, data frames included."""
    parts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def _private_things(at) -> list[str]:
    """Name what only the author should see, if this run shows any of it."""
    found = []
    if at.tabs:
        found.append("the tag editing tabs")
    if at.dataframe:
        found.append("a data table")
    if MARKER in _everything(at):
        found.append("the weak-search log")
    if any(getattr(b, "label", "") == "Sign out" for b in at.button):
        found.append("a signed-in session")
    try:
        signed_in = bool(at.session_state["is_author"])
    except KeyError:
        signed_in = False
    if signed_in:
        found.append("is_author in the session")
    return found


def _sign_in(at, password: str):
    at.text_input(key="author_password").input(password)
    at.button[0].click()
    return at.run()


def test_what_the_detector_looks_for_is_there_once_signed_in(app_env, fresh_lock):
    at = _sign_in(_open("author_faq.py"), PASSWORD)
    assert not at.exception
    at.number_input(key="faq_min").set_value(1).run()
    assert "the weak-search log" in _private_things(at) and "a data table" in _private_things(at)
    at.switch_page(PAGES + "author_tags.py").run()
    assert "the tag editing tabs" in _private_things(at)


@pytest.mark.parametrize("page", ["author_faq.py", "author_tags.py"])
def test_author_pages_are_locked_without_the_password(app_env, fresh_lock, page):
    at = _open(page)
    assert not at.exception
    assert at.text_input(key="author_password") is not None
    assert _private_things(at) == []
    at = _open(page, secret="")  # no hash configured: locked, and it says so
    assert "no password is configured" in at.info[0].value and _private_things(at) == []


def test_a_wrong_password_takes_time(app_env, fresh_lock):
    at = _open("author_tags.py")
    start = time.monotonic()
    at = _sign_in(at, "guess")
    assert time.monotonic() - start >= 0.5
    assert "Wrong password" in at.error[0].value and _private_things(at) == []


def test_the_fifth_wrong_password_in_a_minute_locks_the_pages(app_env, clock):
    at = _open("author_tags.py")
    for n in range(5):
        at = _sign_in(at, f"guess {n}")
        assert "Wrong password" in at.error[0].value
    assert clock.slept == sorted(clock.slept) and clock.slept[0] > 0  # each try slower
    assert sum(clock.slept) >= 5
    at.run()
    assert "Too many wrong passwords" in at.error[0].value
    assert not at.text_input  # no form: the right password cannot even be tried
    again = _open("author_faq.py")  # another tab or browser is locked out as well
    assert "Too many wrong passwords" in again.error[0].value and not again.text_input
    clock.offset += 58
    assert "Too many wrong passwords" in _open("author_tags.py").error[0].value
    clock.offset += 3  # a minute has passed
    at = _sign_in(_open("author_tags.py"), PASSWORD)
    assert not at.exception and at.tabs


READER_PAGES = [None, "search.py", "story.py", "article.py", "browse.py"]
VALUES = st.one_of(
    st.sampled_from(
        [
            "1",
            "true",
            "True",
            "author-tags",
            "author-faq",
            "c-000001",
            "affair",
            PASSWORD,
            HASH,
            "../author_tags.py",
        ]
    ),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
)


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    page=st.sampled_from(READER_PAGES),
    params=st.dictionaries(st.sampled_from(URL_PARAMS), VALUES, min_size=1, max_size=5),
)
def test_reader_pages_never_show_private_things_whatever_the_parameters(
    app_env, fresh_lock, page, params
):
    TRIED["reader"] += 1
    at = _open(page, params)
    assert not at.exception
    assert _private_things(at) == []


def _malformed(kind: str) -> str:
    scheme, _, salt, digest = HASH.split("$")
    return {
        "huge iterations": f"{scheme}${10**30}${salt}${digest}",
        "space": HASH + " ",
        "capitals": f"{scheme}$1000${salt}${digest.upper()}",
        "junk": "not a hash",
    }[kind]


@pytest.mark.parametrize("kind", ["huge iterations", "space", "capitals", "junk"])
def test_a_malformed_hash_in_secrets_is_one_clear_line(app_env, fresh_lock, kind):
    at = _open("author_tags.py", secret=_malformed(kind))
    assert not at.exception
    assert "is not a hash made by `kb password`" in at.error[0].value
    assert not at.text_input and _private_things(at) == []
