"""Keeping widgets and the address bar in step, so every view is a shareable link."""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any

import streamlit as st

MAX_LIST = 20  # values of one list in a link (tags): more is no view anyone needs


def url_list(value: str, allowed: Container[str] | None = None) -> list[str]:
    """Return the values of a comma-separated link parameter: known ones, once each, capped."""
    out: dict[str, None] = {}
    for v in value.split(",", 10 * MAX_LIST)[: 10 * MAX_LIST]:
        v = v.strip()
        if v and (allowed is None or v in allowed):
            out[v] = None
            if len(out) >= MAX_LIST:
                break
    return list(out)


def sync_from_url(
    key: str, param: str, default: Any = "", parse: Callable[[str], Any] = lambda v: v
) -> None:
    """Before a widget is drawn: load its value from the URL when the URL changed.

    Also when the widget's value is gone: Streamlit forgets the value of a widget that a run
    did not draw (another page was open), so after Back the URL is the only record of it.
    """
    raw = st.query_params.get(param)
    marker = f"_url_{key}"
    if st.session_state.get(marker) != raw or key not in st.session_state:
        st.session_state[marker] = raw
        st.session_state[key] = parse(raw) if raw is not None else default


def write_to_url(key: str, param: str, value: str | None) -> None:
    """After a widget is drawn: put its value in the URL (or remove it when empty)."""
    current = st.query_params.get(param)
    if value:
        if current != value:
            st.query_params[param] = value
    elif current is not None:
        del st.query_params[param]
    st.session_state[f"_url_{key}"] = value or None
