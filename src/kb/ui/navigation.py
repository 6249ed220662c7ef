"""The app's entry: page setup and navigation. Pages live in their own modules."""

from __future__ import annotations

import streamlit as st

from kb.ui import routes


def run() -> None:
    """Build the navigation and run the page the URL names."""
    st.set_page_config(layout="wide")
    pages = routes.make_pages()
    nav = st.navigation(
        {
            "Read": [pages["search"], pages["browse"], pages["article"], pages["story"]],
            "Author": [pages["author-faq"], pages["author-tags"]],
        },
        position="top",
    )
    nav.run()
