"""The Streamlit entry point: `streamlit run app.py` (reads KB_CORPUS and KB_INDEX)."""

from kb.ui.navigation import run

run()
