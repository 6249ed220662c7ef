"""`kb serve` as the README starts it: a shared link is the first thing a fresh server sees."""

import os

import pytest

from tests.conftest import FIXTURE_CORPUS, RunningApp

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.mark.parametrize(
    "path, text",
    [
        ("/story?comment=c-000003", "Give her a few quiet weeks"),
        ("/article?article=leaving&section=when-to-reach-out", "Readers' conversations"),
        ("/browse?tag=affair", "Affair: 1 comments"),
    ],
)
def test_deep_link_opens_first_on_a_fresh_kb_serve(tmp_path_factory, page, path, text):
    """Each link is the first request to its own freshly started server."""
    from playwright.sync_api import expect

    work = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    app = RunningApp(FIXTURE_CORPUS, work / "index", env, work / "serve.log", via_kb_serve=True)
    try:
        page.goto(app.url + path)
        expect(page.get_by_text(text).first).to_be_visible()
        assert page.get_by_text("KeyError").count() == 0
    finally:
        app.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped) counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_kb_serve_stops_its_app_server_on_a_signal(tmp_path_factory, signame):
    """The Streamlit server `kb serve` started goes with it: no orphan keeps the port."""
    import signal
    import socket
    import time

    work = tmp_path_factory.mktemp("serve-stop")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    app = RunningApp(FIXTURE_CORPUS, work / "index", env, work / "serve.log", via_kb_serve=True)
    children = _children(app.proc.pid)
    try:
        assert children, "kb serve runs the app server as its child"
        app.proc.send_signal(getattr(signal, signame))
        assert app.proc.wait(30) == 0
        deadline = time.monotonic() + 30
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [c for c in children if _alive(c)]
        with socket.socket() as s:  # the port is free again (no listener; TIME_WAIT is fine)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", app.port))
    finally:
        app.stop()
        for c in children:  # whatever the outcome, leave no server behind
            if _alive(c):
                os.kill(c, signal.SIGKILL)
