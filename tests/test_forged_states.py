"""Forged widget states over kb serve's websocket: an error, never a traceback, in the page.

The browser sends widget values as protobuf messages; anyone can send others (an index
far out of range, a value of the wrong type). Streamlit then fails in its own code while
reading them; the page must get a generic message and the server's log the details.
"""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from .conftest import FIXTURE_CORPUS, RunningApp

pytestmark = pytest.mark.e2e

FORGED = {
    "selectbox": [
        ("int_value", 10**9),
        ("string_value", "nope"),
        ("double_value", 1e300),
        ("int_array_value", [1, 2]),
    ],
    "multiselect": [
        ("int_array_value", [10**6, -5]),
        ("string_array_value", ["nope"]),
        ("int_value", 7),
        ("bool_value", True),
    ],
}


def _set(state, field: str, value) -> None:
    if isinstance(value, list):
        getattr(state, field).data.extend(value)
    else:
        setattr(state, field, value)


async def _run(ws, query: str, page: str, forged=()):
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    for wid, field, value in forged:
        state = msg.rerun_script.widget_states.widgets.add()
        state.id = wid
        _set(state, field, value)
    await ws.send(msg.SerializeToString())
    widgets, errors, texts = {}, [], []
    while True:
        fm = ForwardMsg()
        fm.ParseFromString(await asyncio.wait_for(ws.recv(), 30))
        if fm.WhichOneof("type") == "script_finished":
            return widgets, errors, texts
        if fm.WhichOneof("type") == "delta" and fm.delta.WhichOneof("type") == "new_element":
            el = fm.delta.new_element
            kind = el.WhichOneof("type")
            texts.append(str(getattr(el, kind)))
            if kind == "exception":
                errors.append(el.exception)
            elif getattr(getattr(el, kind), "id", ""):
                widgets[getattr(el, kind).id] = kind


async def _forge_all(url: str):
    import websockets

    out = []
    async with websockets.connect(
        url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"], max_size=None
    ) as ws:
        widgets, errors, _ = await _run(ws, "tag=breakup", "browse")
        assert errors == [] and set(widgets.values()) >= {"selectbox", "multiselect"}
        for wid, kind in widgets.items():
            for field, value in FORGED.get(kind, []):
                _, errors, texts = await _run(ws, "tag=breakup", "browse", [(wid, field, value)])
                out.append((kind, field, errors, texts))
    return out


def test_forged_widget_states_never_send_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    app = RunningApp(
        FIXTURE_CORPUS, tmp_path / "index", env, tmp_path / "serve.log", via_kb_serve=True
    )
    results: list = []

    def forge() -> None:  # in a thread of its own: a browser test may own this one's loop
        results.extend(asyncio.run(_forge_all(app.url)))

    try:
        worker = threading.Thread(target=forge)
        worker.start()
        worker.join(timeout=240)
    finally:
        app.stop()
    assert len(results) == 8
    failed = [r for r in results if r[2]]
    assert failed, "some forged value must fail, or the test proves nothing"
    for kind, field, errors, texts in results:
        for e in errors:
            assert list(e.stack_trace) == [], (kind, field)
            assert e.type == "" and "Error" not in e.message and ".py" not in e.message
        assert not any("Traceback" in t or "site-packages" in t for t in texts), (kind, field)
    assert "Traceback" in (tmp_path / "serve.log").read_text()  # the details are in the log
