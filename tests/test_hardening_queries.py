"""Hostile queries: whatever a reader, a link or a command line sends, an answer or one message.

Generated inputs mix arbitrary Unicode (lone surrogates, control and format characters,
unassigned code points), query-language syntax, markup and very long text. Library calls
return results or raise one :class:`KbError` with a one-line message; the app's pages
never fail; the installed command exits 0 with JSON or prints one line on stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import subprocess
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import tagstats
from kb.errors import KbError
from kb.model import SORTS
from kb.search import MAX_QUERY_CHARS, Filters

from .conftest import FIXTURE_CORPUS, REPO, URL_PARAMS, kb_command

TRIED: Counter = Counter()  # generated inputs per test, printed at the end of the module

FAST = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
SLOW = settings(FAST, max_examples=20)

SYNTAX = [
    'title:"x AND (',
    "AND",
    "OR",
    "NOT",
    "*",
    "?",
    "~2",
    "^3",
    "body:wife^100",
    "NEAR/3",
    '"',
    "'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\\",
    "/",
    "-",
    "+",
    "!",
    ":",
    "field:value",
    "a:b:c",
    "[a TO z]",
    "{* TO *}",
    "%s",
    "{0}",
    "${x}",
    "../..",
    "'; DROP TABLE comments; --",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\ud800",
    "\udfff",
    "\U0010ffff",
    "\uffff",
    "🙂💔",
    "ß",
    "İ",
    "ﬃ",
    "e\u0301",
    "ǅ",
    "ᴬ",
    "١٢٣",
]
WORDS = [
    "wife",
    "left",
    "moved",
    "out",
    "space",
    "husband",
    "cheated",
    "coworker",
    "blocked",
    "girlfriend",
    "weeks",
    "texting",
    "boyfriend",
    "broke",
    "up",
]
CHARACTERS = st.one_of(
    st.characters(),  # any assigned code point but surrogates
    st.characters(categories=["Cs"]),  # lone surrogates: what undecodable bytes become
    st.characters(categories=["Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Mn"]),
)
HOSTILE = st.one_of(
    st.text(CHARACTERS, max_size=300),
    st.lists(st.sampled_from(SYNTAX + WORDS), max_size=30).map(" ".join),
    st.lists(st.sampled_from(SYNTAX + WORDS), max_size=30).map("".join),
    st.tuples(st.sampled_from(SYNTAX + WORDS + ["a", "é", "word "]), st.integers(1, 6000)).map(
        lambda p: p[0] * p[1]
    ),
)
NO_SURROGATES = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=200),
    st.lists(
        st.sampled_from([s for s in SYNTAX if not 0xD800 <= ord(s[0]) < 0xE000] + WORDS),
        max_size=20,
    ).map(" ".join),
    st.tuples(st.sampled_from(WORDS + ["é", "*"]), st.integers(1, 3000)).map(lambda p: p[0] * p[1]),
)
DATES = st.one_of(st.none(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
INTS = st.one_of(st.integers(-10, 300), st.integers(-(2**70), 2**70))


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if TRIED:
        print(
            "\nhostile inputs tried: "
            + ", ".join(f"{k} {n}" for k, n in sorted(TRIED.items()))
            + f"; total {sum(TRIED.values())}"
        )


def _one_line(exc: Exception) -> None:
    text = str(exc)
    assert text and "\n" not in text and len(text) < 400, text
    assert "Traceback" not in text


def _clean_snippet(snippet: str) -> bool:
    """Tell whether a snippet is escaped text with only <mark> tags."""
    return "<" not in re.sub(r"</?mark>", "", snippet)


# -- the library -------------------------------------------------------------------------
@FAST
@given(
    text=HOSTILE,
    tags=st.lists(st.one_of(st.sampled_from(["breakup", "space", "affair"]), HOSTILE), max_size=2),
    article=st.one_of(st.none(), st.sampled_from(["leaving", "space"]), HOSTILE),
    since=DATES,
    until=DATES,
    answered=st.booleans(),
    limit=INTS,
    offset=INTS,
)
def test_search_answers_any_text_and_filters(
    kb, text, tags, article, since, until, answered, limit, offset
):
    TRIED["search"] += 1
    filters = Filters(
        tags=tuple(tags), article=article, since=since, until=until, answered=answered
    )
    try:
        r = kb.search(text, filters=filters, limit=limit, offset=offset)
    except KbError as exc:
        _one_line(exc)
        return
    assert bool(r.advice or r.stories) != bool(r.message)  # results, or one message
    if r.message:
        assert "\n" not in r.message
    assert len(r.query) <= MAX_QUERY_CHARS
    assert r.truncated == (len(text) > MAX_QUERY_CHARS)
    for hit in r.advice + r.stories:
        assert _clean_snippet(hit.snippet)
    json.dumps(r.as_dict(), ensure_ascii=False).encode("utf-8")  # printable as the CLI does


def test_query_length_is_capped(kb):
    r = kb.search("my wife moved out " * 50_000)
    assert r.truncated and len(r.query) <= MAX_QUERY_CHARS
    assert r.stories  # the beginning still finds her story
    assert MAX_QUERY_CHARS <= 5000


@FAST
@given(
    comment_id=st.one_of(
        HOSTILE, st.sampled_from(["c-000010", "c-000005", "leaving#intro", "c-000011"])
    ),
    limit=INTS,
)
def test_similar_answers_any_id(kb, comment_id, limit):
    TRIED["similar"] += 1
    try:
        hits = kb.similar(comment_id, limit=limit)
    except KbError as exc:
        _one_line(exc)
        return
    assert all(h.kind == "story" and _clean_snippet(h.snippet) for h in hits)


@FAST
@given(
    tags=st.lists(
        st.one_of(st.sampled_from(["breakup", "space", "affair", "no-contact"]), HOSTILE),
        max_size=3,
    ),
    sort=st.one_of(st.sampled_from(SORTS), HOSTILE),
    limit=INTS,
    offset=INTS,
    threshold=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_browse_answers_any_tags(kb, tags, sort, limit, offset, threshold):
    TRIED["browse"] += 1
    try:
        total, hits = tagstats.browse(
            kb, tags, sort=sort, limit=limit, offset=offset, threshold=threshold
        )
    except KbError as exc:
        _one_line(exc)
        return
    assert total >= 0 and len(hits) <= max(1, limit)
    if offset <= 0 and threshold is None:
        assert len(hits) == min(total, max(1, limit))


def test_browse_with_a_negative_offset_starts_at_the_first(kb):
    assert [h.id for h in tagstats.browse(kb, ["breakup"], offset=-5)[1]] == [
        "c-000005",
        "c-000001",
    ]


@pytest.mark.parametrize("cid", ["\udcff", "c-0000\ud800", "x" * 10_000])
def test_an_id_no_document_can_carry_is_not_found_in_one_short_line(kb, cid):
    for call in (kb.similar, kb.get, kb.thread):
        with pytest.raises(KbError, match="no comment") as info:
            call(cid)
        _one_line(info.value)


def test_generated_text_really_is_hostile():
    """The strategies above reach what they claim: surrogates, controls, syntax, long text."""
    seen = Counter()

    @settings(FAST, max_examples=400)
    @given(HOSTILE)
    def look(text):
        seen["surrogate"] += any(0xD800 <= ord(c) < 0xE000 for c in text)
        seen["control"] += any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text)
        seen["syntax"] += any(s in text for s in ("AND", "title:", "*", '"', "<script>"))
        seen["long"] += len(text) > MAX_QUERY_CHARS

    look()
    assert all(seen[k] >= 5 for k in ("surrogate", "control", "syntax", "long")), seen


# -- the app -------------------------------------------------------------------------------
APP = str(REPO / "app.py")
PAGES = "src/kb/ui/views/"


@pytest.fixture(scope="module")
def app_env(tmp_path_factory):
    """The app's settings for this module: a private corpus copy and index."""
    import shutil

    import streamlit as st

    work = tmp_path_factory.mktemp("hostile-app")
    shutil.copytree(FIXTURE_CORPUS, work / "corpus")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_CORPUS", str(work / "corpus"))
        mp.setenv("KB_INDEX", str(work / "index"))
        st.cache_resource.clear()
        st.cache_data.clear()
        yield work
        st.cache_resource.clear()
        st.cache_data.clear()


def _run(page: str | None, params: dict[str, str]):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["author_password_hash"] = "pbkdf2_sha256$1000$00$00"
    if page:  # a page is chosen after a first run, as a reader follows the navigation
        at.run()
        at.switch_page(PAGES + page)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def _page_is_sound(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) <= 1  # one clear message at most
    for box in list(at.error) + list(at.warning):
        assert "Traceback" not in box.value


@pytest.mark.e2e
@SLOW
@given(
    page=st.sampled_from([None, "story.py", "article.py", "browse.py", "search.py"]),
    params=st.dictionaries(
        st.one_of(st.sampled_from(URL_PARAMS), NO_SURROGATES), NO_SURROGATES, max_size=4
    ),
)
def test_reader_pages_survive_any_query_parameters(app_env, page, params):
    TRIED["app"] += 1
    _page_is_sound(_run(page, params))


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("browse.py", {"tag": "breakup,\U0001f494\u202e", "sort": "\x01", "page": "-1e309"}),
        ("browse.py", {"tag": ",,,,", "page": "99999999999999999999999"}),
        ("article.py", {"article": "leaving", "page": "NaN", "section": "<script>"}),
        ("article.py", {"article": "../../../etc/passwd"}),
        ("article.py", {"article": "\x00"}),
        ("search.py", {"q": "x" * 100_000}),
        (
            "search.py",
            {
                "q": "wife",
                "since": "99999-99-99",
                "until": "0000-00-00",
                "answered": "\x7f",
                "ftag": "\u0000,affair",
                "farticle": "../..",
            },
        ),
        ("search.py", {"like": "c-000010\x00"}),
        ("story.py", {"comment": "c-000003" * 5000}),
    ],
)
def test_reader_pages_survive_hand_made_parameters(app_env, page, params):
    at = _run(page, params)
    _page_is_sound(at)
    if "q" in params and len(params["q"]) > MAX_QUERY_CHARS:
        assert any("only its beginning" in c.value for c in at.caption)


# -- the command -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    import os

    work = tmp_path_factory.mktemp("hostile-cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(
        KB_CORPUS=str(FIXTURE_CORPUS),
        KB_INDEX=str(work / "index"),
        XDG_CACHE_HOME=str(work / "cache"),
    )
    r = subprocess.run(kb_command() + ["build"], env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return env


ARGV = [
    [b"search", b"\xff\xfe broken bytes", b"--json"],
    [b"similar", b"\xff", b"--json"],
    [b"browse", b"--tag", b"\xed\xa0\x80", b"--json"],
    [b"search", b"--json", b"--", b"--json"],
    [b"search", b'title:"x AND (', b"--tag", b"", b"--article", b"../..", b"--json"],
    [b"search", b"x", b"--limit", b"99999999999999999999999999", b"--json"],
    [b"search", b"x" * 120_000, b"--json"],
    [b"browse", b"--tag", b"breakup", b"--offset", b"-7", b"--json"],
    [b"search", b"\x1b]0;owned\x07\x1b[2J", b"--json"],
]


@pytest.mark.e2e
@pytest.mark.parametrize("argv", ARGV, ids=lambda a: repr(b" ".join(a)[:40]))
def test_hostile_command_lines_give_json_or_one_line(cli_env, argv):
    r = subprocess.run(kb_command() + argv, env=cli_env, capture_output=True, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err
    if r.returncode == 0:
        data = json.loads(r.stdout.decode("utf-8"))
        assert isinstance(data, dict)
    else:
        assert r.returncode in (1, 2) and r.stdout == b""
        assert len(err.strip().splitlines()) == 1 and err.startswith("kb:"), err
        assert len(err) < 500


def test_huge_ints_do_not_overflow(kb):
    r = kb.search("wife", limit=2**70, offset=-(2**70))
    assert r.stories
    assert not math.isnan(r.stories[0].score)


def test_hostile_text_is_answered_quickly(kb):
    """Long made-up words never reach the spelling automata, which take most of a second each."""
    import random
    import string
    import time

    rnd = random.Random(1)
    texts = [
        "a" * 2000,
        "left" * 500,
        "abcdefghijklmnopqrstuvwxyz" * 76,
        " ".join(["qwertyuiopasdfgh"] * 120),
    ]
    texts += [
        " ".join(
            "".join(rnd.choice(string.ascii_lowercase) for _ in range(n))
            for _ in range(2000 // (n + 1))
        )
        for n in (5, 12, 30)
    ]
    kb.search("warm up")
    start = time.perf_counter()
    for text in texts:
        kb.search(text)
    assert time.perf_counter() - start < 1.5
