"""The composer page in headless Chromium (Debian's chromium through Playwright), against a real
uvicorn server and the shipped model: compose a jig in D, click bar 5 on the score and vary it,
change the instrument and tempo, check the score and the audio, save to the tunebook and download it.

    python -m pytest -q tests/test_composer_e2e.py
    CHARRNN_SCREENSHOT=docs/composer.png python -m pytest -q tests/test_composer_e2e.py   # the README's picture
"""
import os
import socket
import threading
import time
from pathlib import Path

import pytest

import charrnn
from charrnn.composer.app import create_app
from charrnn.corpus import split_tunes
from charrnn.generator import default_weights_dir

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def cpu_seconds():
    """CPU time of this process (the server runs in a thread of it) and of the tools it ran."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def midi_programs_and_tempos(path):
    from music21 import midi

    mf = midi.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    events = [e for t in mf.tracks for e in t.events]
    return ({e.data for e in events if e.type == midi.ChannelVoiceMessages.PROGRAM_CHANGE},
            [int.from_bytes(e.data, "big") for e in events if e.type == midi.MetaEvents.SET_TEMPO])


@pytest.fixture
def server(tmp_path, tiny_corpus):
    uvicorn = pytest.importorskip("uvicorn")
    if not (default_weights_dir() / "best.weights.h5").is_file():
        pytest.skip("no pretrained model in charrnn/pretrained/")
    app = create_app(charrnn.load(), tmp_path / "book.sqlite", media_folder=tmp_path / "media", corpus=tiny_corpus)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_compose_vary_listen_save_download(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400}, accept_downloads=True)
        outside = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)
        page.goto(server + "/")

        page.select_option("#type", "jig")
        assert page.input_value("#meter") == "6/8"  # the tune type sets its meter
        page.select_option("#key", "D")
        page.fill("#seed", "3")
        page.click("#compose")
        page.wait_for_selector("#result:not([hidden])", timeout=60_000)
        first = page.input_value("#abc")
        assert "\nR:jig\nM:6/8\nL:1/8\nK:D\n" in first
        assert page.text_content("#status") == "A playable tune."
        assert page.text_content("#closest").startswith("closest: ")  # its nearest corpus tune and score
        # "compare side by side": a dialog with both scores drawn, the shared bars, closed with Escape.
        assert page.is_hidden("#compare-dialog")
        page.focus("#compare")
        page.keyboard.press("Enter")
        page.wait_for_selector("#compare-dialog[open]", timeout=30_000)
        page.wait_for_function("['compare-tune', 'compare-closest'].every(id => document.getElementById(id).complete"
                               " && document.getElementById(id).naturalWidth > 100)", timeout=30_000)
        closest_title = page.text_content("#closest-label").removeprefix("closest: ")
        assert page.text_content("#compare-closest-title") == f"Closest: {closest_title}"
        assert page.text_content("#compare-bars").startswith(("Shared bars", "No bars"))
        page.keyboard.press("Escape")
        page.wait_for_selector("#compare-dialog", state="hidden")
        page.click("#compare")
        page.wait_for_selector("#compare-dialog[open]", timeout=30_000)
        page.click("#compare-close")
        page.wait_for_selector("#compare-dialog", state="hidden")

        # Bar 5 clicked on the score itself: the box over its notes, laid over the SVG image.
        page.wait_for_function("document.getElementById('score').complete", timeout=30_000)
        page.click('#score-bars rect[data-bar="5"]')
        assert page.eval_on_selector_all("#bars button[aria-pressed=true]", "bs => bs.map(b => b.dataset.bar)") == ["5"]
        assert page.get_attribute('#score-bars rect[data-bar="5"]', "class") == "selected"
        # Keyboard and text selection still select bars.
        page.focus('#bars button[data-bar="2"]')
        page.keyboard.press("Space")
        assert page.eval_on_selector_all("#bars button[aria-pressed=true]", "bs => bs.map(b => b.dataset.bar)") == ["2", "5"]
        page.keyboard.press("Space")
        start, end = page.evaluate("[+document.querySelector('#bars button[data-bar=\"3\"]').dataset.start,"
                                   " +document.querySelector('#bars button[data-bar=\"3\"]').dataset.end]")
        page.evaluate("([a, b]) => { const t = document.getElementById('abc'); t.focus(); t.setSelectionRange(a, b);"
                      " t.dispatchEvent(new MouseEvent('mouseup')); }", [start, end])
        assert page.eval_on_selector_all("#bars button[aria-pressed=true]", "bs => bs.map(b => b.dataset.bar)") == ["3"]
        page.click('#score-bars rect[data-bar="3"]')  # off again
        page.click('#score-bars rect[data-bar="5"]')

        # Another instrument, tempo and no chords: new audio in <= 2 s, the tune and its selection kept.
        audio_before = page.get_attribute("#audio", "src")
        started, cpu = time.perf_counter(), cpu_seconds()
        page.select_option("#program", "flute")
        page.wait_for_function("(a) => document.getElementById('audio').getAttribute('src') !== a",
                               arg=audio_before, timeout=20_000)
        # <= 2 s in CPU seconds of the server and FluidSynth; wall time depends on the shared machine.
        assert cpu_seconds() - cpu <= 2.0 and time.perf_counter() - started < 20
        page.evaluate("() => { const t = document.getElementById('tempo'); t.value = 80;"
                      " t.dispatchEvent(new Event('input')); t.dispatchEvent(new Event('change')); }")
        page.wait_for_function("document.getElementById('tempo-value').value === '80'")
        page.wait_for_function("!document.body.classList.contains('busy')")
        assert page.input_value("#abc") == first
        midi = page.evaluate("async () => new Uint8Array(await (await fetch(document.getElementById('midi').href))"
                             ".arrayBuffer()).join(',')")
        (tmp_path / "resound.mid").write_bytes(bytes(int(x) for x in midi.split(",")))
        programs, tempos = midi_programs_and_tempos(tmp_path / "resound.mid")
        assert programs == {73} and tempos[0] == round(60e6 / (80 * 1.5))  # a flute, 80 dotted quarters a minute

        page.click("#vary")
        page.wait_for_function("(a) => document.getElementById('abc').value !== a", arg=first, timeout=60_000)
        varied = page.input_value("#abc")
        assert varied.split("\n")[:6] == first.split("\n")[:6]
        assert page.is_enabled("#undo") and page.is_hidden("#error")

        # The score is an SVG from the server, drawn; the audio element has a WAV that decodes.
        page.wait_for_function("document.getElementById('score').complete", timeout=30_000)
        score_src = page.get_attribute("#score", "src")
        assert page.evaluate("document.getElementById('score').naturalWidth") > 100
        assert page.evaluate("async (u) => (await fetch(u)).headers.get('content-type')", score_src) == "image/svg+xml"
        seconds = page.evaluate("""async () => {
            const src = document.getElementById('audio').currentSrc || document.getElementById('audio').src;
            const bytes = await (await fetch(src)).arrayBuffer();
            const ctx = new OfflineAudioContext(1, 1, 22050);
            return (await ctx.decodeAudioData(bytes)).duration; }""")
        assert seconds > 5

        # Undo brings the first tune back; a bad parameter shows a message on the page.
        page.click("#undo")
        assert page.input_value("#abc") == first
        page.fill("#temperature", "99")
        page.click("#compose")
        page.wait_for_selector("#error:not([hidden])")
        assert "Temperature" in page.text_content("#error")
        page.fill("#temperature", "1")
        page.fill("#start", "|:DFA \u2603|")
        page.click("#compose")
        page.wait_for_function("document.getElementById('error').textContent.includes('\u2603')")
        page.fill("#start", "")

        page.fill("#save-title", "Kitchen Jig")
        page.click("#save")
        page.wait_for_selector("#book-list li .name:text('Kitchen Jig')")
        if os.environ.get("CHARRNN_SCREENSHOT"):
            page.evaluate("document.getElementById('error').hidden = true")
            page.screenshot(path=os.environ["CHARRNN_SCREENSHOT"], full_page=True)
        with page.expect_download() as download:
            page.click("#download")
        book = Path(download.value.path()).read_text()
        browser.close()
    tunes = split_tunes(book)
    assert len(tunes) == 1 and tunes[0].startswith("X:1\nT:Kitchen Jig\n") and "K:D" in tunes[0]
    assert outside == []  # nothing fetched from anywhere but this server
