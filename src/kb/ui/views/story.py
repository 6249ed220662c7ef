"""Page script: story (see kb.ui.story_page)."""

from kb.ui.story_page import render

render()
