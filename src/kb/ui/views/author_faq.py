"""Page script: author_faq (see kb.ui.author_faq_page)."""

from kb.ui.author_faq_page import render

render()
