"""Writing into a corpus: appending as text, and all files or none."""

import datetime as dt
import os
from pathlib import Path

import pytest
import yaml

from kb.corpus.write import ChangeSet, append_entries, render_article, render_comment
from kb.errors import StoreError

NEW = [
    render_comment(
        "wp-1-9", "Kim", dt.datetime(2020, 5, 1, 9, 30), "Line one.\nLine two.", parent="c-1"
    )
]


def _ids(text: str) -> list[str]:
    return [c["id"] for c in yaml.safe_load(text)["comments"]]


def test_entries_are_appended_after_hand_comments_and_odd_layout():
    text = (
        '# hand notes\narticle: a\ncomments:\n- id: "c-1"   # the first one\n  author: Sam\n'
        "  date: 2010-01-01\n  body: Hi.\n\n# trailing note\n"
    )
    new = append_entries(text, "comments", NEW, Path("a.yaml"))
    assert new.startswith(text)
    assert _ids(new) == ["c-1", "wp-1-9"]
    entry = yaml.safe_load(new)["comments"][1]
    assert entry == {
        "id": "wp-1-9",
        "parent": "c-1",
        "author": "Kim",
        "date": dt.datetime(2020, 5, 1, 9, 30),
        "body": "Line one.\nLine two.\n",
    }
    assert '- id: "wp-1-9"\n  parent: "c-1"\n  author: "Kim"' in new


def test_entries_go_inside_the_list_when_other_keys_follow_it():
    text = 'article: a\ncomments:\n  - id: "c-1"\n    author: Sam\nnotes: keep me\n'
    new = append_entries(text, "comments", NEW, Path("a.yaml"))
    assert _ids(new) == ["c-1", "wp-1-9"] and yaml.safe_load(new)["notes"] == "keep me"
    assert new.endswith("notes: keep me\n")


@pytest.mark.parametrize(
    "text",
    [
        "article: a\ncomments: []\n",
        "article: a\ncomments:\n",
        "article: a\n",
        "article: a\ncomments: [] # none yet",
    ],
)
def test_an_empty_or_missing_list_is_started(text):
    assert _ids(append_entries(text, "comments", NEW, Path("a.yaml"))) == ["wp-1-9"]


def test_a_new_file_gets_its_head():
    new = append_entries(None, "comments", NEW, Path("a.yaml"), head={"article": "a"})
    assert new.startswith("article: a\ncomments:\n  - id:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("comments: [{id: c-1, author: Sam}]\n", "not written as a block list"),
        ("comments:\n  - id: [unclosed\n", "a.yaml:3: invalid YAML"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_files_that_cannot_be_extended_safely_are_refused(text, message):
    with pytest.raises(StoreError, match=message):
        append_entries(text, "comments", NEW, Path("a.yaml"))


def test_article_text_has_front_matter_then_body():
    text = render_article(
        "Why: a title",
        dt.date(2010, 3, 1),
        "Body.\n\n## Part",
        ["x", "y"],
        summary="S",
        url="https://e.example/a/",
    )
    assert text == (
        "---\ntitle: 'Why: a title'\ndate: 2010-03-01\ntags: [x, y]\nsummary: S\n"
        "url: https://e.example/a/\n---\n\nBody.\n\n## Part\n"
    )


def test_a_failed_rename_puts_every_file_back(tmp_path, monkeypatch):
    old = tmp_path / "old.yaml"
    old.write_text("before\n")
    changes = ChangeSet()
    changes.put(old, "after\n", "before\n")
    changes.put(tmp_path / "sub" / "new.md", "new\n", None)
    changes.put(tmp_path / "third.md", "third\n", None)
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError):
        changes.commit()
    monkeypatch.setattr(os, "replace", real)
    assert old.read_text() == "before\n"
    assert not (tmp_path / "sub" / "new.md").exists() and not (tmp_path / "third.md").exists()
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_a_file_changed_since_it_was_read_stops_the_whole_change(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("edited meanwhile\n")
    changes = ChangeSet()
    changes.put(tmp_path / "b.md", "new\n", None)
    changes.put(path, "mine\n", "as read\n")
    with pytest.raises(StoreError, match="changed while importing"):
        changes.commit()
    assert path.read_text() == "edited meanwhile\n" and not (tmp_path / "b.md").exists()
