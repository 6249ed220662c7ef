"""Page script: search (see kb.ui.search_page)."""

from kb.ui.search_page import render

render()
