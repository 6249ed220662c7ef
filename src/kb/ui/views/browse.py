"""Page script: browse (see kb.ui.browse_page)."""

from kb.ui.browse_page import render

render()
