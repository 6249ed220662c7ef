"""The lock on the author's pages: a password form, slowed down after wrong tries.

The password's hash comes from Streamlit secrets (``author_password_hash``);
with none configured the pages say so and show nothing private. Pages call
:func:`require_author` before any private work; it stops the run otherwise.
"""

from __future__ import annotations

import threading
import time

import streamlit as st

from kb.auth import verify_password

MAX_TRIES = 5
LOCK_SECONDS = 60
SECRET = "author_password_hash"


@st.cache_resource(show_spinner=False)
def _failures() -> dict:
    """Wrong tries across all sessions of this server (guessing from many tabs is slowed too)."""
    return {"count": 0, "until": 0.0, "lock": threading.Lock()}


def _configured_hash() -> str | None:
    try:
        value = st.secrets.get(SECRET)
    except Exception:  # no secrets file at all
        return None
    return str(value) if value else None


def require_author() -> None:
    """Show the sign-in form and stop the page unless the author is signed in."""
    if st.session_state.get("is_author"):
        with st.sidebar:
            if st.button("Sign out", key="sign_out"):
                st.session_state["is_author"] = False
                st.rerun()
        return
    stored = _configured_hash()
    if not stored:
        st.info("The author's pages are locked and no password is configured. Put "
                f"`{SECRET}` in `.streamlit/secrets.toml` (make one with `kb password`).")
        st.stop()
    state = _failures()
    wait = state["until"] - time.monotonic()
    if wait > 0:
        st.error(f"Too many wrong passwords. Try again in {int(wait) + 1} s.")
        st.stop()
    with st.form("sign_in"):
        password = st.text_input("Author's password", type="password", key="author_password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        if verify_password(password, stored):
            with state["lock"]:
                state["count"] = 0
            st.session_state["is_author"] = True
            st.rerun()
        with state["lock"]:
            state["count"] += 1
            count = state["count"]
            if count >= MAX_TRIES:
                state["until"] = time.monotonic() + LOCK_SECONDS
                state["count"] = 0
        time.sleep(min(0.5 * count, 3.0))
        st.error("Wrong password.")
    st.stop()
