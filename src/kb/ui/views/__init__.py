"""The page scripts Streamlit runs, one per view; each calls its page's ``render()``.

They are kept this small so that Streamlit's AppTest can open each view by its file,
and live in ``views/``, not ``pages/``: beside the app's script, a ``pages/`` folder
makes Streamlit list pages from the folder instead of ``st.navigation``.
"""
