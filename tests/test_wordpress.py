"""Against a real WordPress (Debian's packages): its own exporter's file and its own REST API
give kb the same corpus, and a second sync brings exactly what changed on the site.

Needs ``apt-get install --no-install-recommends wordpress mariadb-server php-cli php-mysql
php-mbstring php-xml`` (``.ci/run`` installs them). Without them the tests are skipped,
except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from kb.corpus.read import check_corpus, load_corpus

from .conftest import kb_command
from .test_import_shared import corpus_text
from .wordpress_site import PACKAGES, WordPressSite, missing

pytestmark = [pytest.mark.wordpress, pytest.mark.e2e]

PRIVATE = (
    "Buy now",
    "Thrown away",
    "Waiting for moderation",
    "mailbox.example",
    "harbour.example",
    "10.20.30.40",
    "192.0.2.44",
    "198.51.100.7",
    "203.0.113.9",
    "dana.example",
    "gravatar",
    "pingback.example",
)

# Posts and threaded comments in every status, made with WordPress's own functions;
# every comment has an e-mail address and an IP, some also in their text.
CONTENT = r"""
wp_update_user(['ID' => 1, 'display_name' => 'Marin Holt']);
foreach (get_posts(['post_type' => 'any', 'post_status' => 'any', 'numberposts' => -1]) as $p) {
    wp_delete_post($p->ID, true);  // the sample post and page wp_install() made
}
update_option('permalink_structure', '/%year%/%monthnum%/%postname%/');
flush_rewrite_rules(false);
$cat = wp_insert_term('Marriage & family', 'category', ['slug' => 'marriage']);
function post($title, $slug, $text, $date, $extra = []) {
    return wp_insert_post(array_merge(['post_title' => $title, 'post_name' => $slug,
        'post_content' => $text, 'post_status' => 'publish', 'post_author' => 1,
        'post_date' => $date], $extra));
}
function comment($post, $name, $text, $date, $extra = []) {
    return wp_insert_comment(array_merge(['comment_post_ID' => $post,
        'comment_author' => $name, 'comment_content' => $text, 'comment_date' => $date,
        'comment_author_email' => strtolower($name) . '.k@mailbox.example',
        'comment_author_IP' => '192.0.2.44', 'comment_author_url' => 'https://dana.example/',
        'comment_approved' => 1], $extra));
}
$ids = [];
$talk = post('When the talking stops', 'when-the-talking-stops',
    "Silence is a message too.\n\n<h2>What it means</h2>\nIt means one of you stopped " .
    "hoping &mdash; for now. Don't panic...\n\n[caption id=\"\" align=\"alignnone\" " .
    "width=\"300\"]<img src=\"http://127.0.0.1/x.jpg\" width=\"300\" height=\"200\" /> " .
    "Two chairs, facing away.[/caption]", '2024-01-05 08:00:00',
    ['post_category' => [$cat['term_id']], 'tags_input' => ['Silence']]);
$ids['talk'] = $talk;
$ids['dana'] = comment($talk, 'Dana', "We haven't spoken in months & I don't know if " .
    "it's \"worth it\". Write to me at dana.k@mailbox.example or 10.20.30.40 most nights.",
    '2024-01-06 20:00:00');
$ids['reply'] = comment($talk, 'Marin Holt', "Dana, start with ten minutes a day.",
    '2024-01-07 09:00:00', ['user_id' => 1, 'comment_parent' => $ids['dana'],
    'comment_author_email' => 'marin@harbour.example', 'comment_author_IP' => '198.51.100.7']);
$ids['follow'] = comment($talk, 'Dana', "We tried. It helped a little.",
    '2024-01-08 09:00:00', ['comment_parent' => $ids['reply']]);
$ids['pending'] = comment($talk, 'Pat', "Waiting for moderation.", '2024-01-09 09:00:00',
    ['comment_approved' => 0]);
$ids['spam'] = comment($talk, 'Cheap', "Buy now", '2024-01-09 10:00:00',
    ['comment_approved' => 'spam']);
$ids['trash'] = comment($talk, 'Gone', "Thrown away", '2024-01-09 11:00:00',
    ['comment_approved' => 'trash']);
$ids['ping'] = comment($talk, 'Other blog', "A mention elsewhere", '2024-01-09 12:00:00',
    ['comment_type' => 'pingback', 'comment_author_url' => 'https://pingback.example/']);
$start = post('Starting over', 'starting-over', "A new start needs an old ending.",
    '2024-02-01 08:00:00');
$ids['start'] = $start;
$ids['kit'] = comment($start, 'Kit', "Three weeks since she left.", '2024-02-02 08:00:00');
$ids['kit_reply'] = comment($start, 'Marin Holt', "Kit, write down what you miss.",
    '2024-02-03 08:00:00', ['user_id' => 1, 'comment_parent' => $ids['kit']]);
$ids['kit_more'] = comment($start, 'Kit', "I wrote it. It was a short list.",
    '2024-02-04 08:00:00', ['comment_parent' => $ids['kit_reply']]);
$locked = post('Members only', 'members-only', "Behind a password.", '2024-03-01 08:00:00',
    ['post_password' => 'secret']);
comment($locked, 'Lou', "Behind the password too.", '2024-03-02 08:00:00',
    ['comment_author_IP' => '203.0.113.9']);
$draft = post('Not yet', 'not-yet', "A draft.", '2024-03-05 08:00:00',
    ['post_status' => 'draft']);
post('About', 'about', "The page about the site.", '2024-01-01 08:00:00',
    ['post_type' => 'page']);
echo json_encode($ids);
"""


@pytest.fixture(scope="module")
def wordpress(tmp_path_factory):
    lacking = missing()
    if lacking:
        message = f"a real WordPress needs apt packages ({PACKAGES}); missing: " + ", ".join(
            lacking
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    site = WordPressSite(tmp_path_factory.mktemp("wp"))
    started = time.monotonic()
    try:
        site.start()
        site.ids = site.php(CONTENT)
        site.timings["content"] = time.monotonic() - started - site.timings["start"]
        site.wxr = site.export(site.folder / "export.xml")
        site.timings["site built"] = time.monotonic() - started
        print(f"\nWordPress site: {json.dumps({k: round(v, 1) for k, v in site.timings.items()})}")
        yield site
    finally:
        site.stop()


def _kb(env, *argv, ok=True):
    r = subprocess.run(
        kb_command() + list(argv), env=env, capture_output=True, text=True, timeout=300
    )
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def _env(clean_env, corpus, index):
    return dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(index))


def _cid(site, name):
    post = (
        site.ids["talk"]
        if name in ("dana", "reply", "follow", "pending", "spam", "trash", "ping")
        else site.ids["start"]
    )
    return f"wp-{post}-{site.ids[name]}"


def _files(corpus):
    return {
        str(p.relative_to(corpus)): p.read_bytes()
        for p in sorted(corpus.rglob("*"))
        if p.is_file() and p.name != "site.yaml"
    }


def test_wordpress_s_own_export_imports_exactly(wordpress, tmp_path, clean_env):
    site = wordpress
    assert "WordPress/6." in site.wxr.read_text()[:2000]
    corpus = tmp_path / "corpus"
    env = _env(clean_env, corpus, tmp_path / "index")
    report = json.loads(_kb(env, "import", "wxr", str(site.wxr), "--json").stdout)
    assert report["formats"][str(site.wxr)].startswith(
        "WordPress export 1.2 (self-hosted, WordPress 6."
    )
    assert report["articles"]["added_slugs"] == ["when-the-talking-stops", "starting-over"]
    assert report["articles"]["skipped"] == {"page": 1, "unpublished": 2}
    assert report["comments"]["added"] == 6
    # WordPress's exporter leaves spam out; the rest is counted by why it is skipped
    assert report["comments"]["skipped"] == {
        "pending": 1,
        "trash": 1,
        "pingback": 1,
        "post-not-imported": 1,
    }
    kb = load_corpus(corpus)
    approved = ["dana", "reply", "follow", "kit", "kit_reply", "kit_more"]
    assert sorted(kb.comments) == sorted(_cid(site, n) for n in approved)
    assert kb.comments[_cid(site, "reply")].parent == _cid(site, "dana")
    assert kb.comments[_cid(site, "follow")].parent == _cid(site, "reply")
    assert kb.comments[_cid(site, "kit_more")].parent == _cid(site, "kit_reply")
    assert kb.site.author == "Marin Holt"
    assert sorted(c.id for c in kb.comments.values() if c.is_author) == sorted(
        [_cid(site, "reply"), _cid(site, "kit_reply")]
    )
    talk = kb.articles["when-the-talking-stops"]
    assert set(talk.tags) == {"marriage", "silence"}
    assert "Two chairs, facing away." in talk.body and "x.jpg" not in talk.body
    text = corpus_text(corpus)
    for private in PRIVATE:
        assert private not in text
    assert check_corpus(corpus) == []
    again = json.loads(_kb(env, "import", "wxr", str(site.wxr), "--json").stdout)
    assert again["articles"]["added"] == 0 and again["comments"]["added"] == 0


def test_a_sync_gets_what_the_export_gives_and_after_it_adds_nothing(
    wordpress, tmp_path, clean_env
):
    site = wordpress
    from_export, from_site = tmp_path / "from-export", tmp_path / "from-site"
    export_env = _env(clean_env, from_export, tmp_path / "index-a")
    site_env = _env(clean_env, from_site, tmp_path / "index-b")
    _kb(export_env, "import", "wxr", str(site.wxr))
    started = time.monotonic()
    first = _kb(site_env, "sync", site.url)
    print(f"\nfirst sync: {time.monotonic() - started:.1f} s\n{first.stdout}")
    assert (
        "articles: 2 added, 0 updated, 0 unchanged, 1 skipped (unpublished 1)" in first.stdout
    )  # the draft is not public
    assert "comments: 6 added, 0 updated, 0 unchanged" in first.stdout
    assert "  skipped, password-protected: Members only" in first.stdout
    assert "index: updated" in first.stdout
    # the same articles and comments, to the byte, whichever way they came
    assert _files(from_site) == _files(from_export)
    for private in PRIVATE:
        assert private not in corpus_text(from_site)
    assert check_corpus(from_site) == []
    after_import = json.loads(_kb(export_env, "sync", site.url, "--json").stdout)
    assert after_import["articles"]["added"] == 0 and after_import["articles"]["updated"] == []
    assert after_import["comments"]["added"] == 0 and after_import["comments"]["updated"] == []
    assert after_import["comments"]["unchanged"] == 6
    found = json.loads(
        _kb(site_env, "search", "we", "have", "not", "spoken", "in", "months", "--json").stdout
    )
    assert _cid(site, "dana") in [h["id"] for h in found["stories"]]


def test_a_second_sync_brings_exactly_a_new_and_an_edited_comment(wordpress, tmp_path, clean_env):
    site = wordpress
    corpus = tmp_path / "corpus"
    env = _env(clean_env, corpus, tmp_path / "index")
    _kb(env, "sync", site.url, "--no-build")
    before = _files(corpus)
    new = site.php(
        """
        $new = wp_insert_comment(['comment_post_ID' => (int) $argv[1], 'comment_author' => 'Sam',
            'comment_content' => "Same here, eleven years. sam@mailbox.example",
            'comment_author_email' => 'sam@mailbox.example', 'comment_author_IP' => '192.0.2.44',
            'comment_parent' => (int) $argv[2], 'comment_approved' => 1]);
        wp_update_comment(['comment_ID' => (int) $argv[3],
            'comment_content' => "Three weeks since she left me. Today is better."]);
        echo json_encode(['new' => $new]);
    """,
        str(site.ids["talk"]),
        str(site.ids["reply"]),
        str(site.ids["kit"]),
    )["new"]
    second = json.loads(_kb(env, "sync", "--json").stdout)
    assert second["since"]  # only what changed since the first sync was asked for
    assert second["comments"]["added"] == 1
    assert second["comments"]["updated"] == [_cid(site, "kit")]
    assert second["articles"]["added"] == 0 and second["articles"]["updated"] == []
    kb = load_corpus(corpus)
    sam = kb.comments[f"wp-{site.ids['talk']}-{new}"]
    assert sam.parent == _cid(site, "reply") and "[e-mail removed]" in sam.body
    assert (
        kb.comments[_cid(site, "kit")].body.strip() == "Three weeks since she left me. "
        "Today is better."
    )
    after = _files(corpus)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"comments/starting-over.yaml", "comments/when-the-talking-stops.yaml"}
    assert second["index"] is not None
    assert check_corpus(corpus) == []


def test_pages_come_in_when_asked_and_the_same_either_way(wordpress, tmp_path, clean_env):
    site = wordpress
    from_export, from_site = tmp_path / "from-export", tmp_path / "from-site"
    _kb(
        _env(clean_env, from_export, tmp_path / "ia"),
        "import",
        "wxr",
        str(site.wxr),
        "--include-pages",
    )
    report = json.loads(
        _kb(
            _env(clean_env, from_site, tmp_path / "ib"),
            "sync",
            site.url,
            "--include-pages",
            "--no-build",
            "--json",
        ).stdout
    )
    assert "about" in report["articles"]["added_slugs"]
    assert report["index"] is None  # --no-build
    assert load_corpus(from_site).articles["about"].body.strip() == "The page about the site."
    assert (from_site / "articles" / "about.md").read_bytes() == (
        from_export / "articles" / "about.md"
    ).read_bytes()
