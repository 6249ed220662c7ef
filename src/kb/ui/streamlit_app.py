"""The script `kb serve` hands to Streamlit (the repository's app.py does the same)."""

from kb.ui.navigation import run

run()
