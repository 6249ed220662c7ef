"""What the import tests share: the fixture folder, a corpus with a site, the command in-process."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kb.settings import Settings

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "import"
SHARED = HERE.parent.parent / "shared" / "fixtures" / "wordpress-importer"

SITE = "title: Heartwise Advice\nauthor: Ada Reyes\nauthor_aliases: [Ada]\n"


def make_site(corpus: Path) -> Path:
    """Create a corpus folder with only a site.yaml naming the author."""
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "site.yaml").write_text(SITE)
    return corpus


def run_import(capsys, corpus: Path, *argv: str) -> dict:
    """Run ``kb import ... --json`` in-process through the command's own parser; return the report."""
    from kb.cli import _common
    from kb.importers.command import register

    parser = argparse.ArgumentParser(prog="kb")
    register(parser.add_subparsers(dest="command", required=True), _common)
    args = parser.parse_args(["import", *argv, "--json"])
    args.settings = Settings(corpus=corpus, index=corpus.parent / "index")
    capsys.readouterr()
    assert args.func(args) == 0
    return json.loads(capsys.readouterr().out)


def snapshot(corpus: Path) -> dict[str, bytes]:
    """Return every file of a corpus folder with its bytes."""
    return {
        str(p.relative_to(corpus)): p.read_bytes() for p in sorted(corpus.rglob("*")) if p.is_file()
    }


def corpus_text(corpus: Path) -> str:
    """Return all the text of a corpus folder, for looking for what must not be there."""
    return "\n".join(p.read_text() for p in sorted(corpus.rglob("*")) if p.is_file())
