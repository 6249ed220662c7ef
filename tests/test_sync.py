"""``kb sync`` against a local server that answers like a WordPress REST API: what arrives,
what a second sync brings, what it never undoes, and one clear line for every fault."""

import datetime as dt
import json
import socket
import subprocess

import pytest

from kb.corpus.edit import set_comment_tags
from kb.corpus.read import check_corpus, load_corpus
from kb.errors import SyncError
from kb.importers import rest
from kb.importers.sync import stored_sync, sync_site
from kb.index.purge import redact_comment

from .conftest import kb_command
from .restsite import RestSite
from .test_import_shared import corpus_text, snapshot

STORY = (
    "<p>My husband and I haven&#8217;t spoken properly in months &#038; I don&#8217;t "
    "know if it&#8217;s worth fixing. Write to me at "
    '<a href="mailto:dana.k@mailbox.example">dana.k@mailbox.example</a>, or I&#8217;m '
    "on 10.20.30.40 most nights.</p>\n<p>&#8220;Just talk&#8221; they say.</p>\n"
)


@pytest.fixture
def site(monkeypatch):
    monkeypatch.setattr(rest, "BACKOFF", 0.01)
    # pages of 10 instead of 100 (in this process): the same paging over a seventh of the
    # comments (each is parsed as HTML, which is most of a sync's time)
    monkeypatch.setattr(rest, "PER_PAGE", 10)
    s = RestSite()
    s.users[1] = {"id": 1, "name": "Marin Holt"}
    s.terms["categories"] = [
        {"id": 4, "name": "Marriage &amp; family", "slug": "marriage"},
        {"id": 1, "name": "Uncategorized", "slug": "uncategorized"},
    ]
    s.terms["tags"] = [{"id": 9, "name": "Silence", "slug": "silence"}]
    s.add_post(
        10,
        "When the talking stops",
        "<p>Silence is a message too.</p>\n<h2>What it "
        "means</h2>\n<p>It means one of you stopped hoping &#8212; for now.</p>\n",
        slug="when-the-talking-stops",
        date="2024-01-05T08:00:00",
        categories=[4, 1],
        tags=[9],
    )
    s.add_post(
        11,
        "Starting over",
        "<p>A new start needs an old ending.</p>\n",
        slug="starting-over",
        date="2024-02-01T08:00:00",
    )
    s.add_post(
        14,
        "A quiet post",
        "<p>No one has said anything here yet.</p>\n",
        slug="quiet-post",
        date="2024-02-01T09:00:00",
    )
    s.add_post(
        12, "Members only", "", slug="members-only", date="2024-02-02T08:00:00", protected=True
    )
    s.add_comment(
        100,
        10,
        "Dana",
        STORY.replace(
            "</p>\n<p>",
            ' <img src="https://s.w.org/images/core/emoji/14.0.0/72x72/1f642.png" alt="🙂" '
            'class="wp-smiley" style="height: 1em; max-height: 1em;" /></p>\n<p>',
            1,
        ),
        "2024-01-06T20:00:00",
    )
    s.add_comment(
        101,
        10,
        "Marin Holt",
        "<p>Dana, start with ten minutes a day.</p>\n",
        "2024-01-07T09:00:00",
        parent=100,
        author=1,
    )
    s.add_comment(
        102, 10, "Dana", "<p>We tried. It helped a little.</p>\n", "2024-01-08T09:00:00", parent=101
    )
    for n in range(15):  # more than one page
        s.add_comment(
            200 + n,
            11,
            f"Reader {n}",
            f"<p>My story number {n} about starting again after a divorce.</p>\n",
            f"2024-02-{2 + n // 10:02d}T10:{n % 60:02d}:00",
        )
    yield s
    s.close()


def test_a_first_sync_brings_every_post_and_approved_comment(tmp_path, site):
    corpus = tmp_path / "corpus"
    report = sync_site(corpus, site.url, build=False).as_dict()
    assert report["articles"]["added_slugs"] == [
        "when-the-talking-stops",
        "starting-over",
        "quiet-post",
    ]
    assert report["password_protected"] == ["Members only"]
    assert report["articles"]["skipped"] == {"unpublished": 1}
    assert report["comments"]["added"] == 18
    assert report["fetched"] == {"posts": 4, "comments": 18}
    assert any("page=2" in h and "/comments" in h for h in site.hits)  # read page after page
    kb = load_corpus(corpus)
    assert kb.site.author == "Marin Holt" and kb.site.title == "Harbour Notes"
    assert kb.comments["wp-10-101"].is_author and kb.comments["wp-10-101"].parent == "wp-10-100"
    assert kb.comments["wp-10-102"].parent == "wp-10-101"
    dana = kb.comments["wp-10-100"].body
    # WordPress's typographic quotes undone, as the export has the text; & as written
    assert "haven't spoken properly in months & I don't know" in dana
    assert '\n\n"Just talk" they say.' in dana and "<p>" not in dana
    assert "most nights. 🙂" in dana and "s.w.org" not in dana  # WordPress's emoji image
    assert set(kb.articles["when-the-talking-stops"].tags) == {"marriage", "silence"}
    assert kb.articles["when-the-talking-stops"].summary == ""  # WordPress's, not the author's
    assert [s.heading for s in kb.articles["when-the-talking-stops"].sections][1:] == [
        "What it means"
    ]
    text = corpus_text(corpus)
    for private in (
        "dana.k@",
        "mailbox.example",
        "10.20.30.40",
        "gravatar",
        "0123456789abcdef",
        "commenter.example",
        "mailto",
    ):
        assert private not in text
    assert stored_sync(corpus)["url"] == site.url
    assert check_corpus(corpus) == []


def _days_ago(days: float) -> str:
    when = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def test_a_second_sync_reads_only_changed_posts_and_brings_exactly_what_changed(tmp_path, site):
    corpus = tmp_path / "corpus"
    sync_site(corpus, site.url, build=False)
    set_comment_tags(corpus, "wp-10-100", ["silence"], ["marriage"])
    before = snapshot(corpus)
    site.hits.clear()
    again = sync_site(corpus, None, build=False).as_dict()
    assert again["since"] == stored_sync(corpus)["last_sync"] or again["since"]
    assert all("modified_after=" in h for h in site.hits if "/posts" in h)
    assert again["fetched"]["posts"] == 0  # none changed since the first sync
    assert again["articles"]["added"] == 0 and again["comments"]["added"] == 0
    assert again["comments"]["updated"] == [] and again["articles"]["updated"] == []
    assert again["comments"]["unchanged"] == 18
    assert {k: v for k, v in snapshot(corpus).items() if k != "site.yaml"} == {
        k: v for k, v in before.items() if k != "site.yaml"
    }
    site.add_comment(103, 10, "Sam", "<p>Same here, eleven years.</p>\n", _days_ago(0.1))
    site.add_comment(104, 14, "Ro", "<p>The first comment here.</p>\n", _days_ago(0.1))
    site.comments[0]["content"]["rendered"] = STORY.replace("most nights", "most evenings")
    site.posts[1]["content"]["rendered"] = "<p>A new start needs an old ending, said well.</p>\n"
    site.posts[1]["modified_gmt"] = _days_ago(0.1)
    site.hits.clear()
    third = sync_site(corpus, None, build=False).as_dict()
    # the changed post, and the unchanged one whose first comment this is (asked for by id)
    assert third["fetched"]["posts"] == 2
    assert any("/posts" in h and "include=14" in h for h in site.hits)
    assert third["comments"]["added"] == 2 and third["comments"]["updated"] == ["wp-10-100"]
    assert load_corpus(corpus).comments["wp-10-103"].article == "when-the-talking-stops"
    assert load_corpus(corpus).comments["wp-14-104"].article == "quiet-post"
    assert third["articles"]["updated"] == ["starting-over"]
    kb = load_corpus(corpus)
    assert kb.comments["wp-10-103"].body.strip() == "Same here, eleven years."
    assert kb.comments["wp-10-103"].parent is None
    assert "said well" in kb.articles["starting-over"].body
    assert "most evenings" in kb.comments["wp-10-100"].body
    assert kb.comments["wp-10-100"].tags == ("silence",)  # the author's edits stay
    assert kb.comments["wp-10-100"].removed_tags == ("marriage",)
    assert check_corpus(corpus) == []


def test_new_comments_only_asks_for_comments_after_the_last_sync(tmp_path, site):
    corpus = tmp_path / "corpus"
    sync_site(corpus, site.url, build=False)
    site.comments[0]["content"]["rendered"] = "<p>An edit the quick sync does not see.</p>\n"
    site.add_comment(103, 10, "Sam", "<p>Same here, eleven years.</p>\n", _days_ago(0.1))
    site.hits.clear()
    quick = sync_site(corpus, None, new_comments_only=True, build=False).as_dict()
    assert any("/comments" in h and "after=" in h for h in site.hits)
    assert quick["fetched"]["comments"] == 1 and quick["comments"]["added"] == 1
    assert quick["comments"]["updated"] == []
    assert sync_site(corpus, None, build=False).as_dict()["comments"]["updated"] == ["wp-10-100"]


def test_a_redacted_comment_never_comes_back(tmp_path, site):
    corpus = tmp_path / "corpus"
    sync_site(corpus, site.url, build=False)
    redact_comment(corpus, None, "wp-10-100")
    site.comments[0]["content"]["rendered"] = "<p>An edit after the redaction.</p>\n"
    report = sync_site(corpus, None, full=True, build=False).as_dict()
    assert report["comments"]["kept_redacted"] == ["wp-10-100"]
    assert report["comments"]["added"] == 0 and report["comments"]["updated"] == []
    text = corpus_text(corpus)
    assert "spoken properly" not in text and "An edit after" not in text


def test_a_dry_run_reports_and_writes_nothing(tmp_path, site):
    corpus = tmp_path / "corpus"
    report = sync_site(corpus, site.url, dry_run=True, build=False).as_dict()
    assert report["dry_run"] and report["comments"]["added"] == 18
    assert not corpus.exists()


def test_comments_naming_their_post_oddly_are_skipped_not_a_crash(tmp_path, site):
    # post ids are whole numbers; a site (or a plugin) that gives one as text, beside a
    # comment on a post it did not list, once stopped the sync with a TypeError
    site.add_comment(500, 10, "Odd", "<p>Text id.</p>", "2024-02-01T10:00:00")["post"] = "77"
    site.add_comment(501, 78, "Gone", "<p>Unlisted post.</p>", "2024-02-01T10:00:00")
    report = sync_site(tmp_path / "corpus", site.url, build=False).as_dict()
    assert report["comments"]["added"] == 18  # every comment of the site but those two
    assert report["comments"]["skipped"] == {"post-not-imported": 2}
    assert any("comment 500: comment skipped (post-not-imported)" in d for d in report["details"])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("fault", "route", "times", "message"),
    [
        ("no-api", "/wp-json", 99, "/wp-json/: 404 Not Found: REST API disabled on this site?"),
        ("500", "/comments", 99, "500 Internal Server Error after 4 tries; the site is busy"),
        ("429", "/posts", 99, "429 Too Many Requests after 4 tries"),
        ("truncated", "/comments", 99, "the answer broke off before its end; try again"),
        ("broken-json", "/posts", 99, "the answer stops in the middle of its JSON"),
        ("html", "/comments", 99, "the site answered with an HTML page, not JSON"),
        (
            "redirect",
            "/wp-json",
            99,
            "redirects to http://localhost.invalid/wp-json/, another host: "
            "not followed (sync from that address, or pass "
            "--follow-redirects)",
        ),
        ("401", "/comments", 99, "401 Unauthorized: the site refuses this to visitors"),
    ],
)
def test_every_network_fault_is_one_line_and_the_corpus_stays(
    tmp_path, site, fault, route, times, message
):
    corpus = tmp_path / "corpus"
    sync_site(corpus, site.url, build=False)
    site.posts[1]["modified_gmt"] = "2099-01-01T00:00:00"
    site.add_comment(900, 10, "Late", "<p>A new one.</p>\n", "2099-01-01T00:00:00")
    before = snapshot(corpus)
    site.fault, site.fault_route, site.fault_times = fault, route, times
    with pytest.raises(SyncError) as err:
        sync_site(corpus, None, build=False)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith(site.url)
    assert snapshot(corpus) == before


def test_a_busy_site_is_tried_again_and_the_sync_goes_through(tmp_path, site):
    site.fault, site.fault_route, site.fault_times = "429", "/comments", 2
    report = sync_site(tmp_path / "corpus", site.url, build=False).as_dict()
    assert report["comments"]["added"] == 18
    assert sum("/comments" in h for h in site.hits) == 2 + 2  # two refused, then two pages


def test_a_slow_site_is_a_timeout_that_says_how_long(tmp_path, site):
    site.fault, site.fault_route = "slow", "/posts"
    with pytest.raises(
        SyncError,
        match=r"/wp-json/wp/v2/posts\?.*: no answer within 1 s "
        r"\(timed out\)",
    ):
        sync_site(tmp_path / "corpus", site.url, timeout=1, build=False)
    assert not (tmp_path / "corpus").exists()


def test_no_answer_at_all(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(SyncError, match="connection refused: nothing answers at that address"):
        sync_site(tmp_path / "corpus", url, build=False)


def test_a_redirect_to_another_host_is_followed_only_when_asked(tmp_path, site):
    site.fault, site.fault_route = "redirect", "/wp-json"
    with pytest.raises(
        SyncError, match="localhost.invalid"
    ):  # followed, and that host is not there
        sync_site(tmp_path / "corpus", site.url, follow_redirects=True, build=False)


def test_sites_without_pretty_links_are_read_through_rest_route(tmp_path, site):
    site.fault, site.fault_route = "no-api", "/wp-json/"  # only the /wp-json/ path is missing
    site.fault_times = 1
    report = sync_site(tmp_path / "corpus", site.url, build=False).as_dict()
    assert report["comments"]["added"] == 18
    assert any(h.startswith("/?rest_route=/wp/v2/comments") for h in site.hits)


@pytest.mark.e2e
def test_the_command_syncs_builds_and_reports(tmp_path, site, clean_env):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(index))
    r = subprocess.run(
        kb_command() + ["sync", site.url], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"sync: {site.url}"
    assert "articles: 3 added, 0 updated, 0 unchanged, 1 skipped (unpublished 1)" in lines
    assert "comments: 18 added, 0 updated, 0 unchanged" in lines
    assert "  skipped, password-protected: Members only" in lines
    assert any(line.startswith("index: updated") for line in lines)
    found = json.loads(
        subprocess.run(
            kb_command() + ["search", "husband", "spoken", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout
    )
    assert "wp-10-100" in [h["id"] for h in found["stories"]]
    r = subprocess.run(
        kb_command() + ["sync", "--no-build", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0 and "dry run: nothing written" in r.stdout
    assert "nothing new on the site: the corpus was up to date" in r.stdout
    site.fault, site.fault_route = "500", "/comments"
    r = subprocess.run(
        kb_command() + ["sync"], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr and "after 4 tries" in r.stderr


@pytest.mark.e2e
def test_a_sync_stopped_between_any_two_renames_leaves_a_sound_corpus_the_next_completes(
    tmp_path, site, clean_env
):
    import shutil
    import sys

    from .test_crash_safety import _STOP_AT_RENAME, corpus_files

    first = tmp_path / "first"
    sync_site(first, site.url, build=False)
    site.add_comment(103, 10, "Sam", "<p>Same here, eleven years.</p>\n", _days_ago(0.1))
    site.add_comment(104, 14, "Ro", "<p>The first comment here.</p>\n", _days_ago(0.1))
    site.comments[0]["content"]["rendered"] = STORY.replace("most nights", "most evenings")
    done = tmp_path / "done"
    shutil.copytree(first, done)
    written = sync_site(done, None, build=False).as_dict()["written"]
    assert len(written) == 2  # two comments files; site.yaml's sync record is renamed last

    def files(root):  # the corpus proper: no staging leftovers of a killed process
        return {k: v for k, v in corpus_files(root).items() if k != "site.yaml"}

    for stop_after in range(len(written) + 1):
        corpus = tmp_path / f"c{stop_after}"
        shutil.copytree(first, corpus)
        env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(tmp_path / "ix"))
        r = subprocess.run(
            [sys.executable, "-c", _STOP_AT_RENAME, str(stop_after), "sync", "--no-build"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 137, r.stderr
        assert check_corpus(corpus) == [], stop_after
        assert stored_sync(corpus) == stored_sync(first)  # the record of the sync comes last
        again = sync_site(corpus, None, build=False).as_dict()
        assert files(corpus) == files(done), stop_after
        assert again["comments"]["added"] + len(again["comments"]["updated"]) <= 3
