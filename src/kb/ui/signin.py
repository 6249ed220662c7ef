"""The lock on the author's pages: a password form, slowed down after wrong tries.

The password's hash comes from Streamlit secrets (``author_password_hash``);
with none configured the pages say so and show nothing private, and a malformed one
is named in one line. Pages call :func:`require_author` before any private work; it
stops the run otherwise. Wrong tries are counted per browser session and per client
address (:class:`kb.auth.Throttle`): each wrong try waits longer, and after five in a
minute that session and that address are refused for a minute; others are not.

A sign-in lasts for the browser session, in every tab: the browser gets a session
cookie holding an expiry (12 hours at most) and its HMAC under a key that is new at each
server start, changes with the password's hash, and is replaced at each sign-out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import streamlit as st

from kb.auth import Throttle, check_token, hash_problem, make_token, verify_password

MAX_TRIES = 5
LOCK_SECONDS = 60
SECRET = "author_password_hash"
COOKIE = "kb_author"
COOKIE_TTL = 12 * 3600  # a sign-in lasts for the browser session, at most 12 hours


@st.cache_resource(show_spinner=False)
def _failures() -> Throttle:
    """Wrong tries of this server's sessions, by session and by client address."""
    return Throttle(MAX_TRIES, window=60.0, lock=LOCK_SECONDS, clock=lambda: time.monotonic())


@st.cache_resource(show_spinner=False)
def _cookie_keys() -> dict:
    """This server's key for sign-in cookies: new at each start, replaced at each sign-out."""
    return {"key": secrets.token_bytes(32)}


def _cookie_key(stored: str) -> bytes:
    # bound to the password's hash too: a new password ends every sign-in
    return hmac.new(_cookie_keys()["key"], stored.encode(), hashlib.sha256).digest()


def _set_cookie(value: str, max_age: int | None = None) -> None:
    """Set or clear the sign-in cookie in the browser (a session cookie unless ``max_age``)."""
    import streamlit.components.v1 as components

    age = f"; Max-Age={max_age}" if max_age is not None else ""
    components.html(
        "<script>window.parent.document.cookie = "
        + json.dumps(f"{COOKIE}={value}; Path=/; SameSite=Strict{age}")
        + ";</script>",
        height=0,
    )


def _cookie_sign_in(stored: str) -> bool:
    try:
        token = st.context.cookies.get(COOKIE)
    except Exception:  # no browser request (tests, bare runs)
        return False
    return bool(token) and check_token(_cookie_key(stored), token, time.time())


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
    stored = _configured_hash()
    if not st.session_state.get("is_author") and stored and not hash_problem(stored):
        # another tab of this browser signed in: its cookie stands for the password
        st.session_state["is_author"] = _cookie_sign_in(stored)
    if st.session_state.get("is_author"):
        if st.session_state.pop("_set_cookie", False) and stored:
            _set_cookie(make_token(_cookie_key(stored), time.time(), COOKIE_TTL))
        with st.sidebar:
            signed_out = st.button("Sign out", key="sign_out")
        if not signed_out:
            return
        st.session_state["is_author"] = False
        _cookie_keys()["key"] = secrets.token_bytes(32)  # every tab's cookie ends with it
        _set_cookie("", max_age=0)
    if not stored:
        st.info(
            "The author's pages are locked and no password is configured. Put "
            f"`{SECRET}` in `.streamlit/secrets.toml` (make one with `kb password`)."
        )
        st.stop()
    problem = hash_problem(stored)
    if problem:
        st.error(
            f"The author's pages are locked: `{SECRET}` in the app's secrets is not a "
            f"hash made by `kb password`: {problem}."
        )
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
            st.session_state["_set_cookie"] = True
            st.rerun()
        time.sleep(min(0.5 * count, 3.0))
        st.error("Wrong password." if allowed else "Too many wrong passwords. Try again later.")
    st.stop()
