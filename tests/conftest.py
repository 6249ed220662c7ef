"""Shared fixtures: the tiny corpus, copies of it to break, built indexes."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
FIXTURE_CORPUS = HERE / "corpus"
BAD = HERE / "bad"
REPO = HERE.parent
EMBEDDED_CORPUS = REPO / "corpus"


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the fixture corpus."""
    dst = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, dst)
    return dst


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Path:
    """The fixture corpus, indexed once for the session (read-only for tests)."""
    from kb.index.build import build_index

    index_dir = tmp_path_factory.mktemp("index")
    build_index(FIXTURE_CORPUS, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def embedded_index(tmp_path_factory) -> Path:
    """The embedded corpus, indexed once for the session (read-only for tests)."""
    from kb.index.build import build_index

    index_dir = tmp_path_factory.mktemp("embedded-index")
    build_index(EMBEDDED_CORPUS, index_dir)
    return index_dir


@pytest.fixture
def kb(built_index):
    """A knowledge base over the fixture index."""
    from kb.search import KnowledgeBase

    return KnowledgeBase(built_index)


# Every parameter the app reads from its address (``like`` is ``similar``'s old name, still
# read), and the names a forged link might try besides (author pages, Streamlit's own)
URL_PARAMS = [
    "q",
    "similar",
    "like",
    "comment",
    "article",
    "section",
    "tag",
    "sort",
    "page",
    "ftag",
    "farticle",
    "since",
    "until",
    "answered",
    "is_author",
    "author",
    "review",
    "faq",
    "edit_id",
    "author_password",
    "session",
    "embed",
    "embed_options",
]


def kb_command() -> list[str]:
    """The installed ``kb`` command beside this Python."""
    exe = Path(sys.executable).parent / "kb"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kb.cli"]


@pytest.fixture
def clean_env(tmp_path):
    """An environment for subprocesses without KB_* variables and with a private cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return env


@pytest.fixture
def clean_environ(tmp_path, monkeypatch):
    """This process's environment without KB_* variables and with a private cache, for
    running the command in-process with ``run_kb``."""
    for name in [n for n in os.environ if n.startswith("KB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return monkeypatch


def run_kb(argv: list[str], capsys) -> tuple[int, str, str]:
    """Run the ``kb`` command in-process through ``kb.cli.main``; return its exit code,
    stdout and stderr."""
    from kb.cli import main

    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors leave this way, as in the command
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


# -- the real app in a real browser ----------------------------------------------------
# How long a browser test waits for the page, in ms, for every action and every expect(): the
# first page builds the index and loads the model, which on a busy machine takes 30-60 s
BROWSER_WAIT = 90_000
APP_START = 120  # seconds for the app server to answer its health check on a busy machine
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def pytest_collection_modifyitems(config, items):
    """Skip browser tests where no browser is installed, but never in CI."""
    missing = _browser_missing()
    if not missing:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"browser tests cannot run in CI: {missing}")
    skip = pytest.mark.skip(reason=missing)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def free_port() -> int:
    """Return a TCP port that is free on the loopback interface."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningApp:
    """A Streamlit server running app.py on a corpus, for browser tests."""

    def __init__(
        self, corpus: Path, index: Path, env: dict, log: Path, via_kb_serve=False, cwd: Path = REPO
    ):
        import subprocess
        import time
        import urllib.request

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(env, KB_CORPUS=str(corpus), KB_INDEX=str(index))
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        if via_kb_serve:  # exactly as the README starts it
            cmd = [*kb_command(), "serve", "--port", str(self.port)]
        else:
            cmd = [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(REPO / "app.py"),
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + APP_START
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the app did not start within {APP_START} s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except Exception:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The app on the fixture corpus (the index is built by the app on first start)."""
    work = tmp_path_factory.mktemp("app")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    app = RunningApp(FIXTURE_CORPUS, work / "index", env, work / "app.log")
    yield app
    app.stop()


@pytest.fixture(scope="session")
def embedded_app(tmp_path_factory):
    """The app on the embedded corpus (what a reader of the sample site sees)."""
    work = tmp_path_factory.mktemp("embedded-app")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    app = RunningApp(EMBEDDED_CORPUS, work / "index", env, work / "app.log")
    yield app
    app.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright; expect() waits BROWSER_WAIT in every test."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_WAIT)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_context(browser, **options):
    """A browser context whose pages wait BROWSER_WAIT for every action and navigation."""
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_WAIT)
    return context


@pytest.fixture
def page(browser, request, tmp_path):
    """A fresh browser page; a screenshot is kept when the test fails."""
    context = new_context(browser, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        out = REPO / "test-results"
        out.mkdir(exist_ok=True)
        pg.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the test item (for screenshots on failure)."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep
