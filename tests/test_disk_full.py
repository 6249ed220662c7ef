"""A full disk: build, import and redact stop with one line and leave corpus and index intact."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

import pytest

from .conftest import FIXTURE_CORPUS, HERE, kb_command

pytestmark = pytest.mark.e2e


def _digest(folder) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.name.endswith(".lock"):
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def full_disk(tmp_path):
    """A small file system holding a corpus and its index, then filled to the last byte."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {r.stderr.decode().strip()}")
    try:
        shutil.copytree(FIXTURE_CORPUS, disk / "corpus")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
        env.update(
            KB_CORPUS=str(disk / "corpus"),
            KB_INDEX=str(disk / "index"),
            XDG_CACHE_HOME=str(tmp_path / "cache"),
        )
        assert (
            subprocess.run(
                kb_command() + ["build"], env=env, capture_output=True, timeout=60
            ).returncode
            == 0
        )
        with open(disk / "filler", "wb") as fh:  # take every block that is left
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass
        for n in range(1000):  # and the last bytes and inodes too
            try:
                (disk / f"f{n}").write_bytes(b"\0" * 512)
            except OSError:
                break
        yield disk, env
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "--full"],
        [
            "import",
            "csv",
            str(HERE / "fixtures" / "import" / "semicolon.csv"),
            "--article",
            "space",
            "--map",
            "answer=Reply,date=When",
        ],
        ["redact", "c-000004"],
        ["tags", "--suggest"],
    ],
)
def test_a_full_disk_is_one_line_and_changes_nothing(full_disk, argv):
    disk, env = full_disk
    corpus_before, index_before = _digest(disk / "corpus"), _digest(disk / "index")
    r = subprocess.run(kb_command() + argv, env=env, capture_output=True, text=True, timeout=60)
    lines = r.stderr.strip().splitlines()
    assert "Traceback" not in r.stderr, r.stderr
    if argv[0] == "tags":  # reading works; the cache it could not write is not needed
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode == 1 and len(lines) == 1, r.stderr
        assert "No space left on device" in lines[0]
    if argv[0] == "redact":  # the corpus may hold the redaction, never half a file
        text = (disk / "corpus" / "comments" / "leaving.yaml").read_text()
        assert "c-000004" in text
    else:
        assert _digest(disk / "corpus") == corpus_before
    assert _digest(disk / "index") == index_before
