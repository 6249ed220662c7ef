"""Page script: article (see kb.ui.article_page)."""

from kb.ui.article_page import render

render()
