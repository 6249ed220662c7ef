"""Hostile files: every loader and importer answers a broken or malicious file with one line.

The corpus reader reports each problem as ``path:line: message`` and never raises; the
importers raise one :class:`KbError` (``kb import`` exits 1 with one stderr line) and
leave the corpus byte for byte as it was, or, when the damaged file still reads, leave a
corpus that passes ``kb check``. XML entities are refused before anything is fetched from
disk or network, and YAML is only ever read with a safe loader.
"""

from __future__ import annotations

import ast
import hashlib
import http.server
import os
import random
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.corpus.read import check_corpus, read_corpus
from kb.errors import CorpusError, ImportFormatError, KbError
from kb.importers.run import import_files

from .conftest import FIXTURE_CORPUS, REPO, kb_command, run_kb
from .restsite import serve_in_background
from .test_import_shared import FIXTURES

TRIED: Counter = Counter()
FILES = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
CORPUS_FILES = [
    "site.yaml",
    "tags.yaml",
    "articles/leaving.md",
    "comments/leaving.yaml",
    "articles/new.md",
    "comments/space.yaml",
]
YAML_BITS = [
    "- ",
    ": ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a ",
    "*b",
    "!!python/object/apply:os.system ",
    "!!binary ",
    "---\n",
    "...\n",
    "\n  ",
    "\n",
    "'",
    '"',
    "|\n",
    ">-\n",
    "? ",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "\t",
    "id: ",
    '"c-000001"',
    "2010-13-45",
    "2010-01-01",
    "\ufeff",
    "\x00",
    "\x85",
    "\u2028",
    "comments:",
    "article: leaving",
    "body: ",
    "tags: [",
    "<<: *a",
    "title: ",
    "date: ",
    "parent: ",
    "9" * 400,
    "\\",
    "#",
    "@",
    "`",
]
SOURCES = {
    "wxr": FIXTURES / "export.xml",
    "html": FIXTURES / "when-she-leaves.html",
    "pdf": FIXTURES / "archive.pdf",
    "csv": FIXTURES / "questions.csv",
}


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if TRIED:
        print(
            "\nhostile files tried: "
            + ", ".join(f"{k} {n}" for k, n in sorted(TRIED.items()))
            + f"; total {sum(TRIED.values())}"
        )


def digest(folder: Path) -> str:
    """Return one hash of every file under a folder, names and bytes."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _one_line(text: str) -> None:
    assert text and "\n" not in text.strip() and "Traceback" not in text, text
    assert len(text) < 1000, text[:200]


def _mutations(seed: bytes):
    """Return a strategy of damaged versions of ``seed``: flipped, cut, spliced, recoded."""

    def flip(args):
        positions, values = args
        data = bytearray(seed)
        for p, v in zip(positions, values, strict=False):
            data[p % len(data)] = v
        return bytes(data)

    def splice(args):
        at, junk = args
        at %= len(seed) + 1
        return seed[:at] + junk + seed[at:]

    def recode(encoding):
        return seed.decode("utf-8", "replace").encode(encoding, "replace")

    return st.one_of(
        st.binary(max_size=3000),
        st.integers(0, len(seed)).map(lambda k: seed[:k]),  # truncated
        st.tuples(
            st.lists(st.integers(0, 10**9), min_size=1, max_size=40),
            st.lists(st.integers(0, 255), min_size=1, max_size=40),
        ).map(flip),
        st.tuples(st.integers(0, 10**9), st.binary(min_size=1, max_size=200)).map(splice),
        st.tuples(
            st.integers(0, 10**9),
            st.lists(
                st.sampled_from(
                    YAML_BITS
                    + [
                        "<",
                        ">",
                        "</",
                        "<![CDATA[",
                        "]]>",
                        "&",
                        "&amp;",
                        "&#0;",
                        "<!ENTITY x 'y'>",
                        "%PDF-",
                        "endobj",
                        "stream",
                        "xref",
                        "obj <<",
                        ">>",
                        "/Length 999999",
                        '","',
                        "\r",
                    ]
                ),
                max_size=30,
            ).map(lambda xs: "".join(xs).encode("utf-8")),
        ).map(splice),
        st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252", "shift_jis"]).map(recode),
    )


# -- the corpus ------------------------------------------------------------------------------
@pytest.fixture
def corpus(tmp_path):
    dst = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, dst)
    return dst


def _problems_are_lines(corpus: Path, problems: list[str]) -> None:
    for p in problems:
        _one_line(p)
        where, line, _ = p.split(":", 2)
        assert os.path.lexists(corpus.parent / where), p  # names a corpus file
        assert line.isdigit() and int(line) >= 1, p


@FILES
@given(target=st.sampled_from(CORPUS_FILES), data=st.data())
def test_any_bytes_in_any_corpus_file_give_file_and_line_problems(corpus, target, data):
    TRIED["corpus"] += 1
    path = corpus / target
    seed = (
        path.read_bytes() if path.exists() else b"---\ntitle: New\ndate: 2011-01-01\n---\n\nText\n"
    )
    content = data.draw(
        st.one_of(
            _mutations(seed),
            st.lists(st.sampled_from(YAML_BITS), max_size=60).map(
                lambda xs: "".join(xs).encode("utf-8", "surrogatepass")
            ),
        )
    )
    original = path.read_bytes() if path.exists() else None
    path.write_bytes(content)
    try:
        before = digest(corpus)
        loaded, problems = read_corpus(corpus)
        assert check_corpus(corpus) == problems
        _problems_are_lines(corpus, problems)
        assert digest(corpus) == before  # reading never writes
    finally:
        if original is None:
            path.unlink()
        else:
            path.write_bytes(original)


def _cut_in_a_string() -> bytes:
    raw = (FIXTURE_CORPUS / "comments" / "leaving.yaml").read_bytes()
    return raw[: raw.index(b'"c-000003"') + 5]


def _deep(n: int) -> str:
    return "[" * n + "]" * n


ALIAS_BOMB = "".join(
    f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}" if i else "x"] * 9) + "]\n"
    for i in range(9)
)


@pytest.mark.parametrize(
    ("name", "target", "content"),
    [
        ("10,000 nested brackets", "comments/leaving.yaml", _deep(10_000).encode()),
        ("10,000 unclosed brackets", "site.yaml", b"[" * 10_000),
        ("10,000 nested mappings", "tags.yaml", b"a: {" * 10_000),
        (
            "nested front matter",
            "articles/leaving.md",
            b"---\ntitle: " + _deep(10_000).encode() + b"\n---\n\nBody\n",
        ),
        ("a billion laughs of aliases", "comments/leaving.yaml", ALIAS_BOMB.encode()),
        (
            "a python object tag",
            "site.yaml",
            b"!!python/object/apply:os.system ['touch /tmp/kb-pwned']\n",
        ),
        ("binary", "comments/space.yaml", bytes(range(256)) * 20),
        ("a PNG", "articles/space.md", b"\x89PNG\r\n\x1a\n" + bytes(200)),
        ("UTF-16", "tags.yaml", (FIXTURE_CORPUS / "tags.yaml").read_text().encode("utf-16")),
        (
            "Latin-1 accents",
            "articles/affairs.md",
            (FIXTURE_CORPUS / "articles" / "affairs.md")
            .read_text()
            .replace("e", "é")
            .encode("latin-1"),
        ),
        ("truncated mid-string", "comments/leaving.yaml", _cut_in_a_string()),
        ("empty front matter", "articles/leaving.md", b"---\n# nothing yet\n---\n\nBody\n"),
        ("NUL bytes", "site.yaml", b"title: a\x00b\nauthor: Ada\n"),
        ("only a BOM", "site.yaml", b"\xef\xbb\xbf"),
    ],
)
def test_hand_made_hostile_corpus_files(corpus, name, target, content):
    (corpus / target).write_bytes(content)
    before = digest(corpus)
    start = time.monotonic()
    problems = check_corpus(corpus)
    assert time.monotonic() - start < 5
    _problems_are_lines(corpus, problems)
    assert digest(corpus) == before
    assert not Path("/tmp/kb-pwned").exists()
    assert problems, name


@pytest.mark.slow  # 12,000 comments, 2 MB of YAML: read twice
def test_a_huge_comments_file_is_read_or_reported_quickly(corpus):
    rnd = random.Random(7)
    words = [
        "left",
        "moved",
        "space",
        "texts",
        "blocked",
        "wife",
        "husband",
        "weeks",
        "months",
        "trust",
        "call",
    ]
    lines = ["article: leaving", "comments:"]
    for k in range(12_000):
        body = " ".join(rnd.choices(words, k=30))
        lines += [
            f'  - id: "h-{k:06d}"',
            '    author: "R"',
            "    date: 2012-01-01",
            f"    body: {body}",
        ]
    others = sum(c.article != "leaving" for c in read_corpus(corpus)[0].comments.values())
    path = corpus / "comments" / "leaving.yaml"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    assert path.stat().st_size > 2_000_000
    start = time.monotonic()
    loaded, problems = read_corpus(corpus)
    assert time.monotonic() - start < 20
    assert problems == [] and len(loaded.comments) == 12_000 + others
    path.write_bytes(path.read_bytes()[:-5000] + b'\n  - id: "h-x"\n    body: [unclosed\n')
    problems = check_corpus(corpus)
    assert len(problems) == 1 and "invalid YAML" in problems[0]


def test_odd_entries_in_the_corpus_folder_are_reported_not_raised(corpus):
    (corpus / "articles" / "folder.md").mkdir()
    (corpus / "articles" / "loop.md").symlink_to(corpus / "articles" / "loop.md")
    (corpus / "comments" / "dangling.yaml").symlink_to(corpus / "nowhere.yaml")
    problems = check_corpus(corpus)
    _problems_are_lines(corpus, problems)
    assert any("loop.md" in p for p in problems)


def test_a_broken_corpus_leaves_the_index_as_it_was(corpus, tmp_path):
    from kb.index.build import build_index
    from kb.index.generations import current_generation

    build_index(corpus, tmp_path / "index")
    before = current_generation(tmp_path / "index")
    (corpus / "comments" / "leaving.yaml").write_bytes(b"[" * 10_000)
    with pytest.raises(CorpusError) as info:
        build_index(corpus, tmp_path / "index")
    _one_line(str(info.value))
    assert current_generation(tmp_path / "index") == before


# -- the importers ---------------------------------------------------------------------------
def _import_and_check(source: str, path: Path, corpus: Path) -> str:
    """Import one file; return 'refused' or 'imported' after checking the promises."""
    before = digest(corpus)
    try:
        import_files(source, [path], corpus, article="leaving" if source == "pdf" else None)
    except KbError as exc:
        _one_line(str(exc))
        assert digest(corpus) == before  # byte for byte as it was
        return "refused"
    problems = check_corpus(corpus)
    assert problems == [], problems[:3]
    return "imported"


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_damaged_files_are_refused_in_one_line_or_imported_soundly(tmp_path, source):
    seed = SOURCES[source].read_bytes()
    outcomes: Counter = Counter()
    pristine = tmp_path / "pristine"
    shutil.copytree(FIXTURE_CORPUS, pristine)
    examples = 40 if source != "pdf" else 25
    corpus = tmp_path / "corpus"
    shutil.copytree(pristine, corpus)

    @settings(FILES, max_examples=examples)
    @given(content=_mutations(seed))
    def run(content):
        TRIED[source] += 1
        path = tmp_path / f"input.{source}"
        path.write_bytes(content)
        outcome = "failed"
        try:
            outcome = _import_and_check(source, path, corpus)
        finally:
            # a refusal left the corpus byte for byte as it was (checked); anything else
            # may have changed it, so the next example starts from a fresh copy
            if outcome != "refused":
                shutil.rmtree(corpus)
                shutil.copytree(pristine, corpus)
        outcomes[outcome] += 1

    run()
    assert outcomes["refused"] > 0, outcomes


def _nested_html(depth: int) -> bytes:
    page = (FIXTURES / "when-she-leaves.html").read_text()
    at = page.index('class="entry-content">') + len('class="entry-content">')
    return (page[:at] + "<div>" * depth + "deep" + "</div>" * depth + page[at:]).encode()


def _nested_replies(depth: int) -> bytes:
    page = (FIXTURES / "when-she-leaves.html").read_text()
    at = page.index('<ol class="comment-list">') + len('<ol class="comment-list">')
    reply = (
        '<li id="comment-{k}" class="comment"><article class="comment-body"><footer '
        'class="comment-meta"><div class="comment-author vcard"><b class="fn">R{k}</b></div>'
        '<div class="comment-metadata"><time datetime="2011-01-01T10:00:00">x</time></div>'
        '</footer><div class="comment-content"><p>reply {k}</p></div></article>'
        '<ol class="children">'
    )
    nested = "".join(reply.format(k=9000 + k) for k in range(depth)) + "</ol></li>" * depth
    return (page[:at] + nested + page[at:]).encode()


def _wxr_with(body: str) -> bytes:
    export = (FIXTURES / "export.xml").read_text()
    at = export.index("<content:encoded><![CDATA[") + len("<content:encoded><![CDATA[")
    return (export[:at] + body + export[at:]).encode()


def _wxr_encoding(name: str) -> bytes:
    return (
        (FIXTURES / "export.xml")
        .read_bytes()
        .replace(b'encoding="UTF-8"', f'encoding="{name}"'.encode(), 1)
    )


@pytest.mark.parametrize(
    ("source", "content", "outcome"),
    [
        ("wxr", _wxr_encoding("eTF-8"), "refused"),
        ("wxr", _wxr_encoding("shift_jis"), "refused"),
        ("wxr", _wxr_encoding("rot13"), "refused"),
        ("wxr", _wxr_encoding("UTF-32"), "refused"),
        (
            "html",
            b'<meta charset="punycode">' + (FIXTURES / "when-she-leaves.html").read_bytes(),
            "refused",
        ),
        (
            "html",
            b'<meta charset="undefined">' + (FIXTURES / "when-she-leaves.html").read_bytes(),
            "refused",
        ),
        ("html", _nested_html(1000), "imported"),
        pytest.param("html", _nested_replies(1200), "imported", marks=pytest.mark.slow),
        ("wxr", _wxr_with("<blockquote>" * 3000 + "deep" + "</blockquote>" * 3000), "imported"),
        ("csv", b"Q,Asked,Topic\n" + b'"' + b"x" * 200_000 + b'",2016-01-01,T\n', "refused"),
        ("csv", b'Q,Asked,Topic\n"never closed,2016-01-01,T\n', "refused"),
        ("csv", b"\x00\x01\x02,\xff\n", "refused"),
        ("pdf", b"%PDF-1.7\n" + b"1 0 obj << /Kids [" * 2000, "refused"),
        (
            "pdf",
            b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 1 0 R >>\nendobj\ntrailer << /Root 1 0 R >>\n",
            "refused",
        ),
        ("pdf", (FIXTURES / "archive.pdf").read_bytes()[:3000], "refused"),
    ],
)
def test_hand_made_hostile_imports(tmp_path, source, content, outcome):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    path = tmp_path / f"input.{source}"
    path.write_bytes(content)
    start = time.monotonic()
    assert _import_and_check(source, path, corpus) == outcome
    assert time.monotonic() - start < 30


# -- XML entities and anything that could reach out --------------------------------------------
class _Listener:
    """A local HTTP server that counts every request made to it."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"<!ENTITY leak 'NETWORK-MARKER'>")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = serve_in_background(self.server)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    server = _Listener()
    yield server
    server.close()


def _xml_attacks(secret: Path, url: str) -> dict[str, bytes]:
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    channel = (
        b'<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>'
        b"<title>&x;</title><wp:wxr_version>1.2</wp:wxr_version></channel></rss>\n"
    )
    file_url = secret.as_uri().encode()
    return {
        "external file entity": head
        + b'<!DOCTYPE rss [<!ENTITY x SYSTEM "'
        + file_url
        + b'">]>\n'
        + channel,
        "external network entity": head
        + b'<!DOCTYPE rss [<!ENTITY x SYSTEM "'
        + url.encode()
        + b'/entity">]>\n'
        + channel,
        "parameter entity": head
        + b'<!DOCTYPE rss [<!ENTITY % p SYSTEM "'
        + url.encode()
        + b'/param"> %p; <!ENTITY x "y">]>\n'
        + channel,
        "external DTD": head
        + b'<!DOCTYPE rss SYSTEM "'
        + url.encode()
        + b'/dtd">\n'
        + channel.replace(b"&x;", b"t"),
        "external DTD on disk": head
        + b'<!DOCTYPE rss SYSTEM "'
        + file_url
        + b'">\n'
        + channel.replace(b"&x;", b"t"),
        "billion laughs": (FIXTURES / "billion-laughs.xml").read_bytes(),
        "quadratic blowup": head
        + b'<!DOCTYPE rss [<!ENTITY x "'
        + b"A" * 100_000
        + b'">]>\n'
        + channel.replace(b"&x;", b"&x;" * 20_000),
        "xinclude": head
        + channel.replace(
            b"<title>&x;</title>",
            b'<title><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="'
            + file_url
            + b'" parse="text"/></title>',
        ),
    }


def test_xml_entities_are_refused_without_reading_disk_or_network(tmp_path, listener):
    secret = tmp_path / "secret.txt"
    marker = "SECRET-MARKER-" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]
    secret.write_text(marker)
    refused: list[str] = []
    for n, (name, xml) in enumerate(_xml_attacks(secret, listener.url).items()):
        corpus = tmp_path / f"corpus-{n}"
        shutil.copytree(FIXTURE_CORPUS, corpus)
        before = digest(corpus)
        path = tmp_path / "attack.xml"
        path.write_bytes(xml)
        start = time.monotonic()
        try:
            import_files("wxr", [path], corpus)
        except ImportFormatError as exc:
            _one_line(str(exc))
            assert marker not in str(exc) and "NETWORK-MARKER" not in str(exc)
            assert digest(corpus) == before, name
            refused.append(name)
        assert time.monotonic() - start < 5, name
        everything = b"".join(p.read_bytes() for p in corpus.rglob("*") if p.is_file())
        assert marker.encode() not in everything and b"NETWORK-MARKER" not in everything, name
    assert listener.hits == []
    # every declared entity is refused; a DTD or XInclude reference is left unread
    assert set(_xml_attacks(secret, listener.url)) - set(refused) <= {
        "external DTD",
        "external DTD on disk",
        "xinclude",
    }


def test_the_command_refuses_an_external_entity_in_one_line(
    tmp_path, listener, clean_environ, capsys
):
    secret = tmp_path / "secret.txt"
    marker = "CLI-SECRET-" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]
    secret.write_text(marker)
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    before = digest(corpus)
    clean_environ.setenv("KB_CORPUS", str(corpus))
    clean_environ.setenv("KB_INDEX", str(tmp_path / "index"))
    attacks = _xml_attacks(secret, listener.url)
    for name in ("external file entity", "external network entity"):
        path = tmp_path / "attack.xml"
        path.write_bytes(attacks[name])
        code, out, err = run_kb(["import", "wxr", str(path)], capsys)
        assert code == 1, err
        assert len(err.strip().splitlines()) == 1 and "refused" in err
        assert marker not in out + err
    assert digest(corpus) == before
    assert listener.hits == []


def test_pages_and_pdfs_that_point_elsewhere_fetch_nothing(tmp_path, listener):
    from fpdf import FPDF

    page = (FIXTURES / "when-she-leaves.html").read_text()
    at = page.index('class="entry-content">') + len('class="entry-content">')
    lures = (
        f'<img src="{listener.url}/img"><iframe src="{listener.url}/frame"></iframe>'
        f'<link rel="stylesheet" href="{listener.url}/css"><script src="{listener.url}/js">'
        f'</script><object data="{listener.url}/obj"></object>'
        f'<svg><image href="{listener.url}/svg"/></svg>'
    )
    html = f'<!DOCTYPE html SYSTEM "{listener.url}/dtd">' + page[:at] + lures + page[at:]
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    (tmp_path / "page.html").write_text(html)
    assert _import_and_check("html", tmp_path / "page.html", corpus) == "imported"
    text = "\n".join(p.read_text("utf-8") for p in corpus.rglob("*.*") if p.is_file())
    assert listener.url not in text  # no address of theirs reaches the corpus

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.cell(0, 8, "Comments on: Lures")
    pdf.ln()
    pdf.cell(0, 8, "Sam says:", link=f"{listener.url}/pdf-link")
    pdf.ln()
    pdf.cell(0, 8, "March 2, 2010 at 10:15 am")
    pdf.ln()
    pdf.cell(0, 8, "Click here for more.", link=f"{listener.url}/pdf-link-2")
    pdf.output(str(tmp_path / "lure.pdf"))
    _import_and_check("pdf", tmp_path / "lure.pdf", corpus)
    assert listener.hits == []


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("wxr", "truncated.xml"),
        ("wxr", "billion-laughs.xml"),
        ("pdf", "not-a-pdf.pdf"),
        ("csv", "latin1.csv"),
        ("html", "no-article.html"),
    ],
)
def test_the_command_refuses_bad_imports_in_one_line_and_writes_nothing(
    tmp_path, clean_env, source, name
):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    before = digest(corpus)
    env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(tmp_path / "index"))
    args = ["import", source, str(FIXTURES / name)] + (
        ["--article", "leaving"] if source == "pdf" else []
    )
    r = subprocess.run(kb_command() + args, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("kb: ")
    assert "Traceback" not in r.stderr
    assert digest(corpus) == before


# -- YAML only through the safe loader ---------------------------------------------------------
SRC = REPO / "src"


def test_yaml_is_only_loaded_safely_everywhere_in_src():
    unsafe_names = {
        "unsafe_load",
        "full_load",
        "full_load_all",
        "unsafe_load_all",
        "FullLoader",
        "UnsafeLoader",
        "Loader",
        "UnsafeConstructor",
        "FullConstructor",
    }
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        where = path.relative_to(REPO)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "yaml"
                and node.attr in unsafe_names
            ):
                found.append(f"{where}:{node.lineno}: yaml.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "yaml":
                found += [
                    f"{where}:{node.lineno}: from yaml import {a.name}"
                    for a in node.names
                    if a.name in unsafe_names
                ]
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "yaml"
                and node.func.attr in ("load", "load_all")
            ):
                loader = [k.value for k in node.keywords if k.arg == "Loader"] + node.args[1:2]
                if not loader:
                    found.append(f"{where}:{node.lineno}: yaml.{node.func.attr} without a Loader")
                    continue
                found += _unsafe_loader(path, loader[0], node.lineno)
        text = path.read_text("utf-8")  # and by name, however it is reached
        for name in ("unsafe_load", "full_load", "FullLoader", "UnsafeLoader", "yaml.Loader"):
            found += [f"{where}: mentions {name}"] if name in text else []
    assert found == []


def _unsafe_loader(path: Path, expr: ast.expr, line: int) -> list[str]:
    """Resolve the Loader a module passes to yaml.load and tell whether it is safe."""
    import importlib

    module = ".".join(path.relative_to(SRC).with_suffix("").parts)
    loader = importlib.import_module(module)
    for part in ast.unparse(expr).split("."):
        loader = yaml if part == "yaml" and loader is not yaml else getattr(loader, part)
    safe = issubclass(loader, yaml.constructor.SafeConstructor) and not issubclass(
        loader, yaml.constructor.FullConstructor
    )
    python_tags = [
        t
        for t in list(loader.yaml_constructors) + list(loader.yaml_multi_constructors)
        if t and "python" in t
    ]
    if safe and not python_tags:
        return []
    return [f"{path.relative_to(REPO)}:{line}: yaml.load with {loader.__name__}"]


def test_the_scan_would_catch_an_unsafe_loader(tmp_path):
    bad = ast.parse("import yaml\nyaml.load(text, Loader=yaml.Loader)\n")
    call = next(n for n in ast.walk(bad) if isinstance(n, ast.Call))
    assert _unsafe_loader(SRC / "kb" / "corpus" / "yamlfile.py", call.keywords[0].value, 2)
    good = ast.parse("yaml.load(text, Loader=LineLoader)").body[0].value
    assert _unsafe_loader(SRC / "kb" / "corpus" / "yamlfile.py", good.keywords[0].value, 1) == []


DEEP = 3000


def _deep_chain(corpus, n: int) -> None:
    lines = ["article: space", "comments:"]
    for i in range(n):
        lines.append(f'  - id: "d-{i}"')
        if i:
            lines.append(f'    parent: "d-{i - 1}"')
        who = "Ada Reyes" if i % 2 else f"Reader {i}"
        lines += [
            f'    author: "{who}"',
            "    date: 2020-01-01",
            f'    body: "message {i} about needing space"',
        ]
    (corpus / "comments" / "space.yaml").write_text("\n".join(lines) + "\n")


@pytest.mark.e2e
def test_a_reply_chain_thousands_deep_builds_without_a_cliff(corpus_copy, tmp_path, clean_env):
    """3,000 replies each answering the one before: thread work is linear (was cubic: 126 s).

    The limit is a hang guard fifty times the time it takes, not a speed target.
    """
    import json

    _deep_chain(corpus_copy, DEEP)
    env = dict(clean_env, KB_CORPUS=str(corpus_copy), KB_INDEX=str(tmp_path / "ix"))
    r = subprocess.run(
        kb_command() + ["build", "--json"], env=env, capture_output=True, text=True, timeout=100
    )
    assert r.returncode == 0, r.stderr
    from kb.search import KnowledgeBase

    kb = KnowledgeBase(tmp_path / "ix")
    thread = kb.thread(f"d-{DEEP - 1}")
    assert len(thread) == DEEP and [d.id for d in thread[:2]] == ["d-0", "d-1"]
    assert [d.depth for d in thread[:3]] == [0, 1, 2] and thread[-1].depth == 64
    first = kb.get("d-0")
    assert first.replies[0] == "d-1" and len(first.replies) == 51  # direct + 50 later
    assert json.loads(r.stdout)["comments"] >= DEEP


def test_snippets_of_a_huge_text_take_linear_time_and_pick_the_same_window():
    """An 800 KB text: the window search was quadratic (37-52 s for one search)."""
    import time

    from kb.analysis import terms
    from kb.snippets import plain, snippet

    rng = random.Random(7)
    words = [
        "wife",
        "left",
        "years",
        "needs",
        "space",
        "time",
        "apart",
        "husband",
        "affair",
        "kids",
        "trust",
        "house",
    ]
    big = " ".join(rng.choice(words) for _ in range(150_000))
    wanted = set(terms("wife space affair kids"))
    started = time.perf_counter()
    out = snippet(big, wanted)
    assert time.perf_counter() - started < 10  # a hang guard; it takes about 0.2 s
    assert out.count("<mark>") >= 4

    def reference(text: str, width: int = 260) -> int:  # the window rule, written plainly
        from kb.analysis import tokens

        toks = [(s, a) for s, a, _ in tokens(plain(text)) if s in wanted]
        keys = [
            (len({s for s, x in toks[i:] if x - a <= width}), -i) for i, (_, a) in enumerate(toks)
        ]
        return toks[-max(keys)[1]][1] if toks else 0

    for _ in range(200):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 300)))
        start = reference(text)
        got = snippet(text, wanted)
        assert plain(text)[start : start + 20].split(" ")[0] in got.replace("<mark>", "").replace(
            "</mark>", ""
        )


def test_a_comment_over_the_size_limit_is_one_line_at_check_and_import(corpus_copy, tmp_path):
    from kb.corpus.read import MAX_BODY, check_corpus
    from kb.importers.run import import_files

    path = corpus_copy / "comments" / "space.yaml"
    huge = "word " * (MAX_BODY // 5 + 10)
    path.write_text(
        path.read_text() + f'  - id: "c-huge"\n    author: "Big"\n'
        f"    date: 2020-01-01\n    body: {huge}\n"
    )
    problems = check_corpus(corpus_copy)
    assert len(problems) == 1
    assert (
        "space.yaml:16: comment c-huge: body of 100,049 characters; the limit is 100,000"
        in problems[0]
    )
    path.write_text(path.read_text().split('  - id: "c-huge"')[0])
    table = tmp_path / "big.csv"
    table.write_text(
        f"Question,Date,Author\n{'word ' * 22_000},2020-01-01,Big\nA short one.,2020-01-02,Small\n"
    )
    report = import_files("csv", [table], corpus_copy, article="space")
    assert report.comments_added == 1 and report.counts("comment") == {"too-long": 1}
    assert any(
        "big.csv:2" in s.line() and "the limit is 100,000" in s.line() for s in report.skipped
    )


def test_an_alias_bomb_inside_a_valid_comment_is_refused_before_any_edit(corpus):
    """Nested aliases read small but expand when an edit copies the values (out of memory)."""
    from kb.corpus.edit import set_comment_tags
    from kb.errors import EditError
    from kb.index.build import build_index

    path = corpus / "comments" / "leaving.yaml"
    text = path.read_text()
    bomb = "".join(
        f"      l{i}: &l{i} [" + ",".join([f"*l{i - 1}" if i else "x"] * 9) + "]\n"
        for i in range(9)
    )
    path.write_text(
        text.replace("    tags: [breakup]\n", "    tags: [breakup]\n    extra:\n" + bomb, 1)
    )
    problems = check_corpus(corpus)
    assert len(problems) == 1 and "leaving.yaml:" in problems[0]
    assert "more than 50 YAML aliases" in problems[0]
    with pytest.raises(CorpusError):
        build_index(corpus, corpus.parent / "ix")
    with pytest.raises(EditError, match="YAML aliases"):
        set_comment_tags(corpus, "c-000004", ["space"])
