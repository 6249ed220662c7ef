"""The lock on the author's pages: a password form, slowed down after wrong tries.

The password's hash comes from Streamlit secrets (``author_password_hash``);
with none configured the pages say so and show nothing private, and a malformed one
is named in one line. Pages call :func:`require_author` before any private work; it
stops the run otherwise. Wrong tries are counted per browser session and per client
address (:class:`kb.auth.Throttle`): each wrong try waits longer, and after five in a
minute that session and that address are refused for a minute; others are not.
"""

from __future__ import annotations

import time

import streamlit as st

from kb.auth import Throttle, hash_problem, verify_password

MAX_TRIES = 5
LOCK_SECONDS = 60
SECRET = "author_password_hash"


@st.cache_resource(show_spinner=False)
def _failures() -> Throttle:
    """Wrong tries of this server's sessions, by session and by client address."""
    return Throttle(MAX_TRIES, window=60.0, lock=LOCK_SECONDS, clock=lambda: time.monotonic())


def _keys() -> tuple[str, ...]:
    """The keys a try is counted under: this browser session and the client's address."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    session = ctx.session_id if ctx else "none"
    try:
        address = st.context.ip_address or "unknown"
    except Exception:  # no request context (tests)
        address = "unknown"
    return (f"session:{session}", f"address:{address}")


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
    problem = hash_problem(stored)
    if problem:
        st.error(f"The author's pages are locked: `{SECRET}` in the app's secrets is not a "
                 f"hash made by `kb password`: {problem}.")
        st.stop()
    throttle, keys = _failures(), _keys()
    wait = throttle.wait(*keys)
    if wait > 0:
        st.error(f"Too many wrong passwords. Try again in {int(wait) + 1} s.")
        st.stop()
    with st.form("sign_in"):
        password = st.text_input("Author's password", type="password", key="author_password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        allowed, count = throttle.attempt(*keys)
        if allowed and verify_password(password, stored):
            throttle.success(*keys)
            st.session_state["is_author"] = True
            st.rerun()
        time.sleep(min(0.5 * count, 3.0))
        st.error("Wrong password." if allowed else "Too many wrong passwords. Try again later.")
    st.stop()
