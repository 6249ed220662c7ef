"""No e-mail or IP address anywhere in a corpus or index; `kb redact` removes a comment for good."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from kb.corpus.read import load_corpus
from kb.corpus.redact import REMOVED_TEXT
from kb.index.build import build_index
from kb.index.purge import redact_comment
from kb.search import KnowledgeBase

from .conftest import EMBEDDED_CORPUS, FIXTURE_CORPUS, HERE, kb_command

IMPORTS = HERE / "fixtures" / "import"
EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
IPV4 = re.compile(rb"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6 = re.compile(rb"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){4,7}[0-9A-Fa-f]{1,4}(?![0-9A-Fa-f:])")


def scan(folder: Path) -> list[str]:
    found = []
    for f in folder.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            for pattern in (EMAIL, IPV4, IPV6):
                for m in pattern.finditer(data):
                    found.append(f"{f}: {m.group(0)[:60]!r}")
    return found


def test_the_scanner_finds_what_it_looks_for(tmp_path):
    (tmp_path / "x").write_bytes(
        b"mail sam.k@mailbox.example from 192.168.10.7 or 2001:db8:0:0:0:0:2:1"
    )
    assert len(scan(tmp_path)) == 3


@pytest.mark.e2e
def test_imported_corpus_and_its_index_hold_no_email_or_ip(tmp_path, clean_env):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(index))
    # the fixture export carries commenters' e-mails and IPs, in fields and in text
    raw = (IMPORTS / "export.xml").read_bytes()
    assert EMAIL.search(raw) and IPV4.search(raw)
    for args in (
        ["import", "wxr", str(IMPORTS / "export.xml")],
        [
            "import",
            "html",
            str(IMPORTS / "when-she-leaves.html"),
            str(IMPORTS / "when-she-leaves-comment-page-2.html"),
        ],
        ["build"],
    ):
        r = subprocess.run(
            kb_command() + args, env=env, capture_output=True, text=True, timeout=120
        )
        assert r.returncode == 0, r.stderr
    assert scan(corpus) == []
    assert scan(index) == []


def test_embedded_and_fixture_corpora_hold_no_email_or_ip(embedded_index):
    assert scan(EMBEDDED_CORPUS) == []
    assert scan(FIXTURE_CORPUS) == []
    assert scan(embedded_index) == []


def test_redact_removes_the_text_from_corpus_and_index_files(corpus_copy, tmp_path):
    index = tmp_path / "ix"
    build_index(corpus_copy, index)
    word = b"coworker"  # appears only in c-000020
    assert any(word in f.read_bytes() for f in index.rglob("*") if f.is_file())
    report = redact_comment(corpus_copy, index, "c-000020")
    assert not report.already
    assert not any(word in f.read_bytes() for f in corpus_copy.rglob("*") if f.is_file())
    assert not any(word in f.read_bytes() for f in index.rglob("*") if f.is_file())
    assert len(list(index.glob("gen-*"))) == 1  # no earlier generation keeps the text
    kb = KnowledgeBase(index)
    assert not [h for h in kb.search("coworker cheated husband").stories if h.id == "c-000020"]


def test_redacted_thread_stays_readable(corpus_copy, tmp_path):
    index = tmp_path / "ix"
    build_index(corpus_copy, index)
    redact_comment(corpus_copy, index, "c-000001")  # the start of a thread with replies
    corpus = load_corpus(corpus_copy)
    c = corpus.comments["c-000001"]
    assert c.redacted and c.body == REMOVED_TEXT and c.author == "[removed]"
    assert corpus.comments["c-000002"].parent == "c-000001"
    thread = KnowledgeBase(index).thread("c-000003")
    assert [d.id for d in thread] == ["c-000001", "c-000002", "c-000003"]
    assert thread[0].body == REMOVED_TEXT
    text = (corpus_copy / "comments" / "leaving.yaml").read_text()
    assert "girlfriend left me after four years" not in text
    assert "Update: I stopped calling" in text  # the other entries are as they were


def test_redact_is_idempotent_and_unknown_id_is_clear(corpus_copy, tmp_path):
    from kb.errors import NotFoundError

    redact_comment(corpus_copy, None, "c-000020")
    assert redact_comment(corpus_copy, None, "c-000020").already
    with pytest.raises(NotFoundError):
        redact_comment(corpus_copy, None, "c-404")


@pytest.mark.e2e
def test_kb_redact_command(corpus_copy, tmp_path, clean_env):
    env = dict(clean_env, KB_CORPUS=str(corpus_copy), KB_INDEX=str(tmp_path / "ix"))

    def run(*a):
        return subprocess.run(
            kb_command() + list(a), env=env, capture_output=True, text=True, timeout=120
        )

    assert run("build").returncode == 0
    r = run("redact", "c-000010", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["comment"] == "c-000010"
    r = run("search", "wife moved out twelve years", "--json")
    assert "c-000010" not in [h["id"] for h in json.loads(r.stdout)["stories"]]
    r = run("redact", "c-999")
    assert r.returncode == 1 and "no comment" in r.stderr


def _index_holds(index: Path, word: bytes) -> list[str]:
    return [str(f) for f in index.rglob("*") if f.is_file() and word in f.read_bytes()]


def test_a_redacted_comment_imported_again_from_another_source_stays_out(corpus_copy, tmp_path):
    from kb.importers.run import import_files

    redact_comment(corpus_copy, None, "c-000004")
    record = (corpus_copy / "redactions.yaml").read_text()
    assert "c-000004" in record and "sha256:" in record
    assert "husband" not in record and "Priya" not in record  # the record keeps no text
    table = tmp_path / "archive.csv"  # the same comment, as a table of the archive holds it
    table.write_text(
        'Question,Date,Author\n"My husband moved out in the spring and says he '
        'needs space.  We have two kids!",2011-01-09,priya\n',
        "utf-8",
    )
    report = import_files("csv", [table], corpus_copy, article="leaving")
    assert report.comments_added == 0
    assert report.counts("comment") == {"redacted": 1}
    assert "moved out in the spring" not in (corpus_copy / "comments" / "leaving.yaml").read_text()
    other = tmp_path / "other.csv"  # another comment by the same reader is still welcome
    other.write_text("Question,Date,Author\nHe came back after a month.,2011-01-09,Priya\n")
    assert import_files("csv", [other], corpus_copy, article="leaving").comments_added == 1


@pytest.mark.parametrize("how", ["purge skipped", "build lock busy", "another index folder"])
def test_an_unfinished_redaction_is_purged_by_the_next_ordinary_build(corpus_copy, tmp_path, how):
    from kb.errors import BusyError
    from kb.index.generations import build_lock

    index, other = tmp_path / "ix", tmp_path / "app-ix"
    build_index(corpus_copy, index)
    build_index(corpus_copy, other)
    word = b"coworker"  # only in c-000020, so also one of the spelling words
    assert _index_holds(index, word) and _index_holds(other, word)
    if how == "purge skipped":
        redact_comment(corpus_copy, None, "c-000020")
    elif how == "build lock busy":
        with build_lock(index), pytest.raises(BusyError) as err:
            redact_comment(corpus_copy, index, "c-000020", lock_wait=0.2)
        message = str(err.value)
        assert "c-000020 was removed from" in message and "not purged" in message
        assert "next build" in message and "\n" not in message
    else:
        redact_comment(corpus_copy, index, "c-000020")
        assert _index_holds(index, word) == []
    assert not any(word in f.read_bytes() for f in corpus_copy.rglob("*") if f.is_file())
    for folder in (index, other):
        report = build_index(corpus_copy, folder)  # an ordinary build, as the app runs it
        assert report.reason in ("purging redacted comments", "")
        assert _index_holds(folder, word) == [], folder
        assert len(list(folder.glob("gen-*"))) == 1
        kb = KnowledgeBase(folder)
        assert "coworker" not in str(kb.search("coworkr").did_you_mean)
        assert build_index(corpus_copy, folder).up_to_date  # purged once, not at every build


PYYAML_LAYOUT = """article: leaving
comments:
- id: "c-000001"
  author: Sam
  date: 2010-05-02
  body: |
    My girlfriend left me. My friend wrote back:
    id: c-000002
    tags: [none]
  tags:
  - breakup
- id: "c-000002"
  parent: "c-000001"
  author: Ada Reyes
  date: 2010-05-03
  removed_tags:
  - space
  body: |
    Sam, stop calling.
  tags:
  - breakup
"""


def test_edits_and_redaction_find_entries_by_parsing(corpus_copy):
    """PyYAML's own layout (lists at their key's indentation) and a body holding `id:` lines."""
    from kb.corpus.edit import set_comment_tags
    from kb.corpus.read import check_corpus

    path = corpus_copy / "comments" / "leaving.yaml"
    path.write_text(PYYAML_LAYOUT, "utf-8")
    assert check_corpus(corpus_copy) == []
    set_comment_tags(corpus_copy, "c-000002", ["space"], removed=[])
    set_comment_tags(corpus_copy, "c-000001", ["breakup", "space"])
    corpus = load_corpus(corpus_copy)
    assert corpus.comments["c-000002"].tags == ("space",)
    assert corpus.comments["c-000002"].removed_tags == ()
    assert corpus.comments["c-000001"].tags == ("breakup", "space")
    assert "id: c-000002\n    tags: [none]" in path.read_text()  # the body is untouched
    redact_comment(corpus_copy, None, "c-000002")
    corpus = load_corpus(corpus_copy)
    assert corpus.comments["c-000002"].redacted and corpus.comments["c-000002"].tags == ()
    assert corpus.comments["c-000001"].body.startswith("My girlfriend left me.")
    assert corpus.comments["c-000001"].tags == ("breakup", "space")
    assert check_corpus(corpus_copy) == []
