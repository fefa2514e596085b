"""Screenshot of examples/survey/listen/survey.html in headless Chromium (Debian chromium + Playwright).

    python examples/survey_screenshot.py    # -> examples/survey_screenshot.png
"""
from pathlib import Path
from playwright.sync_api import sync_playwright
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = b.new_page(viewport={"width": 900, "height": 700})
    page.goto(Path("examples/survey/listen/survey.html").resolve().as_uri())
    page.wait_for_function("[...document.querySelectorAll('audio')].every(a => a.readyState >= 1)")
    page.fill("#listener", "A. Listener")
    for clip, ans, rating in [("clip_01", "human", "4"), ("clip_02", "machine", "2"), ("clip_03", "human", "")]:
        page.check(f'input[name="{clip}"][value="{ans}"]')
        if rating: page.select_option(f'select[name="rating-{clip}"]', rating)
    page.click("#save")  # unanswered clips: the page says which, and marks their rows
    page.screenshot(path="examples/survey_screenshot.png", full_page=True)
    b.close()
