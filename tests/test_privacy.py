"""No e-mail or IP address anywhere in a corpus or index; `kb redact` removes a comment for good."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from kb.corpus import load_corpus
from kb.index import build_index
from kb.redact import REMOVED_TEXT, redact_comment
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
    (tmp_path / "x").write_bytes(b"mail sam.k@mailbox.example from 192.168.10.7 or 2001:db8:0:0:0:0:2:1")
    assert len(scan(tmp_path)) == 3


@pytest.mark.e2e
def test_imported_corpus_and_its_index_hold_no_email_or_ip(tmp_path, clean_env):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(index))
    # the fixture export carries commenters' e-mails and IPs, in fields and in text
    raw = (IMPORTS / "export.xml").read_bytes()
    assert EMAIL.search(raw) and IPV4.search(raw)
    for args in (["import", "wxr", str(IMPORTS / "export.xml")],
                 ["import", "html", str(IMPORTS / "when-she-leaves.html"),
                  str(IMPORTS / "when-she-leaves-comment-page-2.html")],
                 ["build"]):
        r = subprocess.run(kb_command() + args, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    assert scan(corpus) == []
    assert scan(index) == []


def test_embedded_and_fixture_corpora_hold_no_email_or_ip(tmp_path):
    build_index(EMBEDDED_CORPUS, tmp_path / "ix")
    assert scan(EMBEDDED_CORPUS) == []
    assert scan(FIXTURE_CORPUS) == []
    assert scan(tmp_path / "ix") == []


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
    assert [d["id"] for d in thread] == ["c-000001", "c-000002", "c-000003"]
    assert thread[0]["body"] == REMOVED_TEXT
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
    run = lambda *a: subprocess.run(kb_command() + list(a), env=env, capture_output=True,  # noqa: E731
                                    text=True, timeout=120)
    assert run("build").returncode == 0
    r = run("redact", "c-000010", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["comment"] == "c-000010"
    r = run("search", "wife moved out twelve years", "--json")
    assert "c-000010" not in [h["id"] for h in json.loads(r.stdout)["stories"]]
    r = run("redact", "c-999")
    assert r.returncode == 1 and "no comment" in r.stderr
