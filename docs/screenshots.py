"""Take screenshots of the app's main pages at desktop and phone width (Debian's chromium).

Usage: .venv/bin/python docs/screenshots.py  (indexes the embedded corpus with its vectors,
then starts the app on it)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, RunningApp  # noqa: E402

VIEWS = {
    "search": "/?q=my+wife+moved+out+after+12+years+and+says+she+needs+space",
    "browse": "/browse",
    "tag": "/browse?tag=no-contact",
    "article": "/article?article=giving-space-without-disappearing",
    "story": "/story?comment=c-100002",
    "section": "/article?article=giving-space-without-disappearing&section=how-long-is-too-long",
    "offtopic": "/?q=my+cat+keeps+scratching+the+sofa",
    "plain": "/?q=cant+stop+stalking+my+ex+on+insta.+how+do+people+actually+stop+looking",
}
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def main() -> None:
    """Start the app, visit each view at each size, save PNGs under docs/."""
    from playwright.sync_api import sync_playwright

    from kb.index.build import build_index
    from kb.semantic import build as vector_build

    work = Path(tempfile.mkdtemp())
    # the index with its vectors, as a reader finds it once the first start is over
    build_index(REPO / "corpus", work / "index")
    vector_build.complete(work / "index")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    app = RunningApp(REPO / "corpus", work / "index", env, work / "app.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for size, (w, h) in SIZES.items():
                page = browser.new_page(viewport={"width": w, "height": h})
                page.set_default_timeout(60000)
                for name, path in VIEWS.items():
                    page.goto(app.url + path)
                    page.wait_for_selector(
                        '[data-testid="stApp"][data-test-script-state="notRunning"]'
                    )
                    page.wait_for_timeout(1500)
                    out = REPO / "docs" / f"{name}-{size}.png"
                    page.screenshot(path=str(out), full_page=False)
                    print(out.relative_to(REPO))
                page.close()
            browser.close()
    finally:
        app.stop()


if __name__ == "__main__":
    main()
