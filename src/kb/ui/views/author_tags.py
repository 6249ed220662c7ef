"""Page script: author_tags (see kb.ui.author_tags_page)."""

from kb.ui.author_tags_page import render

render()
