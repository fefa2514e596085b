"""Listening survey: scoring against hand-computed numbers, malformed input, making clips, and the
web form driven in a real headless browser (Debian chromium through Playwright)."""
import csv
import json
import math
import re
import shutil
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from charrnn import render, survey
from charrnn.cli import main
from charrnn.corpus import load_corpus
from charrnn.errors import CharrnnError
from charrnn.tune import Tune

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_key(path, sources):
    return write_csv(path, ["clip", "source", "title", "settings", "seconds"],
                     [[clip, source, "", "", 10] for clip, source in sources.items()])


# ----------------------------------------------------------------------------- score

def test_score_seed_report_totals(tmp_path):
    """350 answers, 175 correct: the seed report's published totals, error rate 50%."""
    sources = {f"clip_{i:02d}": "machine" if i % 2 else "human" for i in range(1, 11)}
    key = write_key(tmp_path / "answer_key.csv", sources)
    # 35 listeners x 10 clips. Even listeners get the human clips right and the machine clips wrong,
    # odd listeners the reverse: 5 right each, so 175 of 350.
    paths = []
    for n in range(35):
        rows = [[f"L{n}", clip, "human" if n % 2 == 0 else "machine", ""] for clip in sources]
        paths.append(write_csv(tmp_path / f"r{n}.csv", ["listener", "clip", "answer", "rating"], rows))
    r = survey.score_files(key, paths, out=tmp_path / "results")

    assert r["overall"] == {"answers": 350, "correct": 175, "incorrect": 175, "accuracy": 0.5, "error_rate": 0.5}
    # 17 odd listeners get the 5 machine clips right; 18 even ones the 5 human clips.
    assert r["machine_clips"]["correct"] == 85 and r["machine_clips"]["error_rate"] == pytest.approx(90 / 175)
    assert r["human_clips"]["correct"] == 90 and r["human_clips"]["error_rate"] == pytest.approx(85 / 175)
    assert r["totals"] == {"said_machine": 170, "said_human": 180}
    assert r["bias_toward_machine"] == pytest.approx(170 / 350 - 0.5)
    assert r["clips"][0] == {"clip": "clip_01", "source": "machine", "said_machine": 17, "said_human": 18,
                             "correct": 17, "mean_rating": None}
    assert r["binomial_p"] == pytest.approx(1.0)
    # Wilson interval by hand: centre p, half-width z/(1+z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2)).
    z, n, p = NormalDist().inv_cdf(0.975), 350, 0.5
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert r["wilson_95"] == pytest.approx([0.5 - half, 0.5 + half])
    assert r["wilson_95"] == pytest.approx([0.4479, 0.5521], abs=1e-4)
    # Hit rate (85+.5)/176 equals the false-alarm rate (85+.5)/176: no discrimination at all.
    assert r["d_prime"] == pytest.approx(0.0)
    assert len(r["listeners"]) == 35 and r["listeners"][0]["accuracy"] == 0.5
    assert r["verdict"].startswith("No: listeners could not reliably tell")

    md = (tmp_path / "results" / "results.md").read_text()
    assert "| all clips | 350 | 175 | 175 | 50.0% |" in md
    assert json.loads((tmp_path / "results" / "results.json").read_text())["overall"]["correct"] == 175


def test_score_small_hand_example(tmp_path, capsys):
    key = write_key(tmp_path / "key.csv", {"c1": "machine", "c2": "human", "c3": "machine", "c4": "human"})
    header = ["listener", "clip", "answer", "rating"]
    ann = write_csv(tmp_path / "ann.csv", header, [["ann", "c1", "machine", 5], ["ann", "c2", "human", 4],
                                                   ["ann", "c3", "machine", ""], ["ann", "c4", "machine", 2]])
    # Bob's file has no listener column (he is named after the file), answers in capitals,
    # a clip written as its file name, and skips c4.
    bob = write_csv(tmp_path / "bob.csv", ["clip", "answer"], [["c1", "Human"], ["c2.wav", "human"], ["c3", "MACHINE"]])

    assert main(["survey", "score", str(key), str(ann), str(bob), "--out", str(tmp_path)]) == 0
    assert "| c1 | 1 | 1 | machine | 1 | 5.0 |" in capsys.readouterr().out
    r = json.loads((tmp_path / "results.json").read_text())
    assert r["overall"]["answers"] == 7 and r["overall"]["correct"] == 5
    assert r["machine_clips"]["correct"] == 3 and r["machine_clips"]["answers"] == 4
    assert r["human_clips"]["correct"] == 2 and r["human_clips"]["answers"] == 3
    assert [c["said_machine"] for c in r["clips"]] == [1, 0, 2, 1]
    assert [c["said_human"] for c in r["clips"]] == [1, 2, 0, 0]
    assert r["bias_toward_machine"] == pytest.approx(0.0)  # said machine 4 of 7; machine clips 4 of 7
    assert r["binomial_p"] == pytest.approx(58 / 128)  # P(X>=5) + P(X<=2), X ~ Binomial(7, 1/2)
    # Log-linear corrected rates: hits (3+.5)/(4+1) = .7, false alarms (1+.5)/(3+1) = .375.
    z = NormalDist().inv_cdf
    assert r["d_prime"] == pytest.approx(z(0.7) - z(0.375))
    assert r["listeners"] == [
        {"listener": "ann", "answers": 4, "correct": 3, "incorrect": 1, "accuracy": 0.75, "error_rate": 0.25},
        {"listener": "bob", "answers": 3, "correct": 2, "incorrect": 1, "accuracy": 2 / 3, "error_rate": 1 / 3}]
    assert r["mean_rating"] == {"machine": 5.0, "human": 3.0}


@pytest.mark.parametrize("rows, header, message", [
    ([["a", "clip_99", "human"]], ["listener", "clip", "answer"], "unknown clip 'clip_99'"),
    ([["a", "c1", "human"], ["a", "c1", "machine"]], ["listener", "clip", "answer"], "duplicate answer"),
    ([["a", "c1"]], ["listener", "clip"], r"missing column\(s\) answer"),
    ([["a", "c1", "robot"]], ["listener", "clip", "answer"], "answer must be human or machine"),
    ([["a", "c1", "human", "9"]], ["listener", "clip", "answer", "rating"], "rating must be 1-5"),
    ([], ["listener", "clip", "answer"], "no answers"),
])
def test_score_rejects_malformed(tmp_path, rows, header, message):
    key = write_key(tmp_path / "key.csv", {"c1": "machine", "c2": "human"})
    bad = write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(CharrnnError, match=message):
        survey.score_files(key, [bad])


def test_score_counts_nothing_twice(tmp_path, capsys):
    key = write_key(tmp_path / "key.csv", {"c1": "machine", "c2": "human"})
    a = write_csv(tmp_path / "a.csv", ["listener", "clip", "answer"], [["ann", "c1", "human"]])
    copy = shutil.copy(a, tmp_path / "a_copy.csv")
    with pytest.raises(CharrnnError, match="same file as"):
        survey.score_files(key, [a, copy])
    again = write_csv(tmp_path / "again.csv", ["listener", "clip", "answer"], [["ann", "c2", "human"], ["ann", "c1", "machine"]])
    assert main(["survey", "score", str(key), str(a), str(again)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("charrnn: error:") and "duplicate answer: listener 'ann' already answered c1" in err


# ----------------------------------------------------------------------------- make

class StubModel:
    """Stands in for a trained model: "generates" given tunes (or junk) in order."""

    def __init__(self, tunes):
        self.tunes, self.calls = list(tunes), 0

    def generate(self, seed="X:", n=1, temperature=1.0, random_seed=None, **_):
        self.calls += 1
        picked, self.tunes = self.tunes[:n], self.tunes[n:] + self.tunes[:n]
        return [Tune(abc) for abc in picked]


@pytest.fixture(scope="module")
def made_survey(tmp_path_factory, tiny_corpus):
    out = tmp_path_factory.mktemp("survey")
    model = StubModel(load_corpus(tiny_corpus).train_tunes[:8])
    key = survey.make_survey(out, machine=2, human=2, seconds=4, random_seed=3, model=model,
                             data=tiny_corpus, fade=0.5, sample_rate=22050, max_similarity=1.0)
    return out, key


def test_make_survey_is_blind(made_survey, tiny_corpus):
    from scipy.io import wavfile

    out, key = made_survey
    listen = out / "listen"
    assert sorted(p.name for p in listen.iterdir()) == [
        "answer_sheet.html", "clip_01.wav", "clip_02.wav", "clip_03.wav", "clip_04.wav", "survey.html"]
    assert sorted(r["source"] for r in key) == ["human", "human", "machine", "machine"]
    # Human clips are held-out validation tunes only.
    valid_titles = {Tune(t).title for t in load_corpus(tiny_corpus).valid_tunes}
    assert all(r["title"] in valid_titles for r in key if r["source"] == "human")
    # Every clip: same format, about the same length, one timestamp; no answer in the folder.
    for row in key:
        wav = listen / f"{row['clip']}.wav"
        rate, data = wavfile.read(wav)
        assert rate == 22050 and data.ndim == 1 and data.dtype.name == "int16"
        assert 0.8 * 4 <= len(data) / rate <= 8
        rms_dbfs = 20 * np.log10(np.sqrt(np.mean((data / 32768.0) ** 2)))
        assert -35 < rms_dbfs < -12  # about the renderer's -20 dBFS: not silent, not clipped
        assert wav.stat().st_mtime == (listen / "clip_01.wav").stat().st_mtime
    page = (listen / "survey.html").read_text()
    assert '"clip_01", "clip_02", "clip_03", "clip_04"' in page
    sheet = (listen / "answer_sheet.html").read_text()
    assert "__CLIPS" not in page and not any(r["title"] in page + sheet for r in key if r["title"])
    with open(out / "answer_key.csv") as f:
        assert [r["clip"] for r in csv.DictReader(f)] == ["clip_01", "clip_02", "clip_03", "clip_04"]
    assert (out / "tunes.abc").read_text().count("X:") == 4


def test_make_survey_too_few_valid_tunes(tmp_path, tiny_corpus):
    junk = StubModel(["X:1\nT:junk\nK:C\n|]\n"])
    with pytest.raises(CharrnnError, match="only 0 of 3 generated tunes were valid"):
        survey.make_survey(tmp_path, machine=1, human=0, seconds=2, model=junk, data=tiny_corpus, max_tries=3)
    assert junk.calls == 3


def test_make_survey_refuses_near_copies_of_training_tunes(tmp_path, tiny_corpus, capsys):
    copier = StubModel(load_corpus(tiny_corpus).train_tunes[:3])  # valid tunes, but the training tunes themselves
    with pytest.raises(CharrnnError, match=r"not near-copies \(3 refused\)"):
        survey.make_survey(tmp_path, machine=1, human=0, seconds=2, model=copier, data=tiny_corpus, max_tries=3)
    assert "scores above 0.50 are refused (charrnn similar): 3 refused" in capsys.readouterr().err


def test_make_cli_with_tiny_model(tmp_path, tiny_run, tiny_corpus, capsys):
    """The real path through charrnn.load: either a survey or the clear 'too few valid tunes' error."""
    rc = main(["survey", "make", "--machine", "1", "--human", "1", "--seconds", "2", "--fade", "0.2",
               "--model", str(tiny_run), "--data", str(tiny_corpus), "--out", str(tmp_path / "s")])
    print("survey make with the tiny model: exit", rc)
    if rc == 0:
        assert len(list((tmp_path / "s" / "listen").glob("clip_*.wav"))) == 2
    else:
        assert rc == 2 and "generated tunes were valid" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the page, in a browser

def test_survey_page_in_browser(made_survey, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM}")
    out, key = made_survey
    answers = {row["clip"]: ("human", "machine")[i % 2] for i, row in enumerate(key)}

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto((out / "listen" / "survey.html").as_uri())
            assert page.locator("audio").count() == len(key)
            # The clips load from the folder: the browser decodes each WAV's length.
            durations = page.evaluate("""() => Promise.all([...document.querySelectorAll('audio')].map(a =>
                a.readyState >= 1 ? a.duration : new Promise(r => a.addEventListener('loadedmetadata', () => r(a.duration)))))""")
            assert all(d > 3 for d in durations)

            page.fill("#listener", "Tester, T.")
            page.click("#save")  # nothing answered yet: no download, a prompt instead
            assert "Please choose human or machine for: clip_01" in page.text_content("#status")
            for i, (clip, answer) in enumerate(answers.items()):
                page.check(f'input[name="{clip}"][value="{answer}"]')
                page.select_option(f'select[name="rating-{clip}"]', str(i % 5 + 1))
            with page.expect_download() as download:
                page.click("#save")
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
        finally:
            browser.close()

    assert saved.name == "responses_Tester_T_.csv"
    with open(saved, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["listener"], r["clip"], r["answer"], r["rating"]) for r in rows] == [
        ("Tester, T.", clip, answer, str(i % 5 + 1)) for i, (clip, answer) in enumerate(answers.items())]
    r = survey.score_files(out / "answer_key.csv", [saved], out=tmp_path)
    assert r["overall"]["answers"] == len(key)
    assert r["overall"]["correct"] == sum(answers[row["clip"]] == row["source"] for row in key)


def test_same_meter_same_program_and_tempo(tmp_path, tiny_corpus):
    """Machine tunes that carry a fast Q: field and human ones that carry none: clips of a meter
    still play at one tempo, by one instrument; the README and the key say so."""
    valid = load_corpus(tiny_corpus).valid_tunes
    quick = [re.sub(r"\nT:[^\n]*", f"\nT:Machine {i}", t, count=1).replace("\nK:", "\nQ:1/4=240\nK:", 1)
             for i, t in enumerate(valid)]
    key = survey.make_survey(tmp_path / "s", machine=4, human=4, seconds=3, random_seed=1,
                             model=StubModel(quick), data=tiny_corpus, fade=0.2, sample_rate=22050,
                             program="flute")
    with open(tmp_path / "s" / "answer_key.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and {r["program"] for r in rows} == {"73"}
    by_meter = {}
    for r in rows:
        by_meter.setdefault(r["meter"], set()).add((r["program"], r["tempo"], r["chords"]))
        assert float(r["tempo"]) == render.METER_TEMPO["4/4" if r["meter"] == "C" else r["meter"]]
    assert all(len(v) == 1 for v in by_meter.values())
    shared = {r["meter"] for r in rows if r["source"] == "human"} & {r["meter"] for r in rows if r["source"] == "machine"}
    assert len(shared) >= 2
    readme = (tmp_path / "s" / "README.md").read_text()
    assert "flute (General MIDI program 73)" in readme and "6/8 at 100" in readme and "chord symbols are silent" in readme
    assert all(r["tempo"] == float(next(x for x in rows if x["clip"] == r["clip"])["tempo"]) for r in key)


def test_sound_rule_checks_its_options():
    assert survey.sound_rule("Accordion", 90, True) == {"program": 21, "tempo": 90, "chords": True}
    with pytest.raises(CharrnnError, match="kazoo"):
        survey.sound_rule("kazoo")
