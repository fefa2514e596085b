"""Known-answer tests for what `charrnn evaluate` measures: charrnn.abc (header, bars), abc2midi,
charrnn.evaluation (measure, novelty, features, detectability, baselines)."""
import importlib.util
import math
import random
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from charrnn.abc import bars as abc_bars
from charrnn.abc import header as abc_header
from charrnn.evaluation import baselines, detectability, features, measure, novelty
from charrnn.music import abc2midi

# An 8-bar reel in G: two repeated parts, bars of 8 eighths (the last of each part 4 + a half), ending on G.
GOOD = """X:1
T:Good Reel
M:4/4
L:1/8
K:G
|:GABc dBAG|FGAF DEFD|GABc dBAG|FDEF G4:|
|:gfga bgdB|cBAG FGAF|gfga bgdB|cAFA G4:|
"""

# The same tune with bar 3 one eighth short (inner bar) and no T: line.
SHORT_BAR = GOOD.replace("T:Good Reel\n", "").replace("|FGAF DEFD|GABc dBAG|", "|FGAF DEFD|GABc dBA|", 1)

JUNK = "X:1\nT:junk\nM:4/4\nL:1/8\nK:G\n(((]][[ 9/8/7 !!\n"


# ---------------------------------------------------------------------------------------------
# Header, key, meter


def test_split_header_and_full_header():
    header, body = abc_header.split_header(GOOD)
    assert header.splitlines()[-1] == "K:G" and body.startswith("|:GABc")
    assert abc_header.has_full_header(GOOD)
    assert not abc_header.has_full_header(SHORT_BAR)  # no T:
    assert not abc_header.has_full_header("T:x\nX:1\nM:4/4\nL:1/8\nK:G\nabc|\n")  # X: not first
    # No K: line: the body starts at the first line that is not a field.
    assert abc_header.split_header("X:1\nT:t\nabc|def|\n") == ("X:1\nT:t", "abc|def|\n")


@pytest.mark.parametrize("value, key, tonic", [
    ("G", "G", 7), ("Em", "Em", 4), ("E minor", "Em", 4), ("Ador", "Ador", 9), ("ADorian", "Ador", 9),
    ("Bb", "Bb", 10), ("F#m", "F#m", 6), ("Dmix", "Dmix", 2), ("Cmaj", "C", 0), ("none", None, None),
    ("HP", None, None), ("", None, None)])
def test_normalise_key_and_tonic(value, key, tonic):
    assert abc_header.normalise_key(value) == key
    assert abc_header.tonic_pitch_class(value) == tonic


def test_normalise_meter():
    meters = [abc_header.normalise_meter(m) for m in ("C", "C|", "6/8", " 3/4", "")]
    assert meters == ["4/4", "2/2", "6/8", "3/4", None]


# ---------------------------------------------------------------------------------------------
# Structure from the text


def test_structure_two_repeated_parts():
    s = abc_bars.structure_counts(GOOD)
    assert s == {"parts": 2, "repeat_starts": 2, "repeat_ends": 2, "first_endings": 0, "second_endings": 0}


def test_structure_endings_stay_in_one_part():
    tune = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\n|:GABc dBAG|FGAF DEFD|1 GABc dBAG:|2 FDEF G4||\n"
    s = abc_bars.structure_counts(tune)
    assert s == {"parts": 1, "repeat_starts": 1, "repeat_ends": 1, "first_endings": 1, "second_endings": 1}
    bracketed = tune.replace("|1 ", "|[1 ").replace(":|2 ", ":|[2 ")
    assert abc_bars.structure_counts(bracketed) == s


def test_structure_pickup_is_no_part_and_plain_tune_is_one():
    pickup = "X:1\nT:t\nM:6/8\nL:1/8\nK:D\nA|:dfa afd|gfe dcB:|\n"
    assert abc_bars.structure_counts(pickup)["parts"] == 1
    plain = "X:1\nT:t\nM:6/8\nL:1/8\nK:D\ndfa afd|gfe dcB|dfa afd|gfe d3|\n"
    assert abc_bars.structure_counts(plain) == {"parts": 1, "repeat_starts": 0, "repeat_ends": 0,
                                               "first_endings": 0, "second_endings": 0}
    two = "X:1\nT:t\nM:6/8\nL:1/8\nK:D\ndfa afd|gfe dcB||\nfga bag|fed d3|]\n"
    assert abc_bars.structure_counts(two)["parts"] == 2
    # "::" closes one repeated part and opens the next.
    assert abc_bars.structure_counts("X:1\nT:t\nK:D\n|:ab|cd::ef|ga:|\n") == {
        "parts": 2, "repeat_starts": 2, "repeat_ends": 2, "first_endings": 0, "second_endings": 0}


# ---------------------------------------------------------------------------------------------
# One tune through music21


def test_analyse_good_tune():
    r = measure.analyse_tune(GOOD)
    assert r["parses"] and r["midi_ok"] and r["valid"] and r["complete"] and r["header_ok"]
    assert r["bars"] == 8
    assert r["inner_bars"] == 6 and r["inner_bars_ok"] == 6
    assert r["ends_on_tonic"] is True
    assert r["key"] == "G" and r["meter"] == "4/4"
    assert r["notes_per_bar"] == [8, 8, 8, 5, 8, 8, 8, 5]
    assert r["pitches"][:4] == [67, 69, 71, 72]  # G4 A4 B4 C5
    assert Counter(r["lengths"]) == {"1/8": 56, "1/2": 2}


def test_analyse_wrong_bar_length():
    r = measure.analyse_tune(SHORT_BAR)
    assert r["parses"]
    assert r["inner_bars"] == 6 and r["inner_bars_ok"] == 5  # the 7-eighth bar
    assert not r["header_ok"] and not r["complete"]  # no T:
    assert r["valid"]  # music21 still reads it and writes MIDI


def test_analyse_short_junk_and_not_tonic():
    assert not measure.analyse_tune(JUNK)["parses"]
    assert not measure.analyse_tune(JUNK)["valid"]
    short = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\nGABc dBAG|FGAF DEFD|\n"
    r = measure.analyse_tune(short)
    assert r["parses"] and r["bars"] == 2 and not r["valid"] and not r["complete"]
    assert r["ends_on_tonic"] is False  # ends on D in G
    assert measure.analyse_tune(short.replace("K:G", "K:D"))["ends_on_tonic"] is True


def test_time_limit_marks_the_tune(monkeypatch):
    monkeypatch.setattr(measure, "PARSE_TIMEOUT_S", 1e-4)  # music21 needs far longer than this
    r = measure.analyse_tune(GOOD)
    assert r["timed_out"] and not r["valid"]
    assert measure.summarise([r])["timed_out"] == 1


def test_chord_symbols_and_grace_notes_are_not_notes():
    tune = "X:1\nT:t\nM:2/4\nL:1/8\nK:D\n\"D\"{e}dc BA|\"G\"B2 d2|\n"
    r = measure.analyse_tune(tune)
    assert r["notes_per_bar"] == [4, 2]
    assert len(r["pitches"]) == 6


# ---------------------------------------------------------------------------------------------
# abc2midi


needs_abc2midi = pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi not installed")


@needs_abc2midi
def test_abc2midi_counts():
    assert abc2midi.abc2midi_counts(GOOD) == {"errors": 0, "warnings": 0, "messages": {}}
    wrong = abc2midi.abc2midi_counts(SHORT_BAR)
    # The short bar sits in a repeated part: abc2midi warns on each of the two passes.
    assert wrong["errors"] == 0 and wrong["warnings"] == 2
    assert wrong["messages"] == {
        "Warning: Track # Bar # has #/# time units while the time signature has #": 1,
        "Warning: Track # Bar # has #/# time units while the time signature has # in repeat": 1}
    bad = abc2midi.abc2midi_counts(GOOD.replace("|FGAF DEFD|", "|FGAF ]]DEFD|", 1))
    assert bad["errors"] == 2 and bad["messages"] == {"Error: Chord already finished": 2}


# ---------------------------------------------------------------------------------------------
# Novelty


def test_suffix_array_matches_sorting():
    rng = random.Random(0)
    for _ in range(100):
        text = "".join(rng.choice("ab\x00é|") for _ in range(rng.randint(0, 40)))
        assert novelty.suffix_array(text).tolist() == sorted(range(len(text)), key=lambda i: text[i:])


def _tune(title, body):
    return f"X:1\nT:{title}\nM:4/4\nL:1/8\nK:G\n{body}\n"


def test_longest_run_known_answer():
    index = novelty.TrainingIndex([_tune("One", "abcdefgh|"), _tune("Two", "zzzzcdeQ|")])
    run, source, text = index.longest_run(_tune("New", "xxcdefyy|"))
    assert (run, source, text) == (4, 0, "cdef")
    # A run may not span two training tunes: "h|\n" ends One and "zzzz" opens Two, but the
    # 7 characters "h|\nzzzz" are in no single tune.
    assert index.longest_run(_tune("New", "h|\nzzzz"))[:2] == (4, 1)
    assert index.longest_run(_tune("Nothing", "QQ"))[0] == 1
    assert index.longest_run("X:1\nT:empty\nK:G\n")[0] == 0


def test_copied_tune_is_a_near_copy():
    index = novelty.TrainingIndex([GOOD, _tune("Other", "ABcd efge|")])
    found = novelty.novelty(GOOD.replace("X:1", "X:99"), index)
    body = abc_header.tune_body(GOOD)
    assert found["longest_run"] == len(body) and found["longest_run_source"] == "Good Reel"
    assert found["longest_run_share"] == 1.0 and found["bar_share"] == 1.0 and found["near_copy"]
    fresh = novelty.novelty(_tune("Fresh", "|:e2e2 fgaf|g2g2 abag|e2e2 fgaf|g2f2 e4:|"), index)
    assert not fresh["near_copy"] and fresh["bar_share"] == 0.0


def test_bar_share_counts_note_sequences():
    index = novelty.TrainingIndex([_tune("Train", '|"G"GABc !trill!dBAG|(FG)AF DEFD|')])
    # Two of four bars are training bars once chord symbols, decorations and slurs are ignored;
    # the one-note pickup is not counted.
    share, bars = index.bar_share(_tune("Test", "D|GABc dBAG|FGAF DEFD|ABcd efga|gfed cBAG|"))
    assert (share, bars) == (0.5, 4)
    assert abc_bars.bar_note_sequences(_tune("t", "[CEG]2 c/d/ e>f|(3ABc d2|")) == ["CEGc/d/e>f", "(3ABcd2"]


# ---------------------------------------------------------------------------------------------
# Sets of tunes: summaries and distributions


def test_summarise_rates():
    records = [measure.analyse_tune(t) for t in (GOOD, SHORT_BAR, JUNK)]
    s = measure.summarise(records)
    assert s["tunes"] == 3
    assert s["parse_rate"] == pytest.approx(2 / 3) and s["valid_rate"] == pytest.approx(2 / 3)
    assert s["complete_rate"] == pytest.approx(1 / 3)
    assert s["inner_bars"] == 12 and s["inner_bar_share"] == pytest.approx(11 / 12)
    assert s["repeat_rate"] == pytest.approx(2 / 3)


def test_compare_counts_known_answers():
    same = features.compare_counts(Counter(a=1, b=3), Counter(a=10, b=30))
    assert same == {"overlap": pytest.approx(1.0), "kl": pytest.approx(0.0, abs=1e-12)}
    disjoint = features.compare_counts(Counter(a=5), Counter(b=5))
    assert disjoint["overlap"] == 0.0 and disjoint["kl"] > 5
    half = features.compare_counts(Counter(a=1, b=1), Counter(a=2))
    assert half["overlap"] == pytest.approx(0.5)
    # Without smoothing KL(p||q) would be infinite here; with it, it is large but finite.
    assert 2 < half["kl"] < 10
    assert features.compare_counts(Counter(), Counter(a=1)) is None


def _record(pitches, lengths=None, per_bar=(4, 4)):
    return {"parses": True, "pitches": list(pitches), "lengths": lengths or ["1/8"] * len(pitches),
            "notes_per_bar": list(per_bar), "key": "G", "meter": "4/4"}


def test_feature_counts_known_tune():
    counts = features.feature_counts([_record([60, 62, 64, 60, 79]), {"parses": False}])
    assert counts["pitch_class"] == Counter(C=2, D=1, E=1, G=1)
    assert counts["pitch_range"] == Counter({19: 1})
    assert counts["interval"] == Counter({2: 2, -4: 1, 12: 1})  # +19 is clipped to an octave
    assert counts["note_length"] == Counter({"1/8": 5})
    assert counts["key"] == Counter(G=1) and counts["meter"] == Counter({"4/4": 1})


def test_identical_sets_compare_as_identical():
    records = [_record([60 + i % 7, 62, 64 + i % 3]) for i in range(20)]
    for result in features.compare_features(records, list(reversed(records))).values():
        assert result["overlap"] == pytest.approx(1.0) and result["kl"] == pytest.approx(0.0, abs=1e-12)


def test_detectability():
    rng = np.random.default_rng(0)

    white, black = [60, 62, 64, 65, 67, 69, 71], [61, 63, 66, 68, 70]

    def tunes(keys, count):
        return [_record(rng.choice(keys, size=16).tolist()) for _ in range(count)]

    same = detectability.detectability(tunes(white, 40), tunes(white, 40), random_seed=0, trees=50)
    assert 0.3 < same["auc"] < 0.7
    apart = detectability.detectability(tunes(white, 40), tunes(black, 40), random_seed=0, trees=50)
    assert apart["auc"] > 0.95
    assert detectability.detectability(tunes(white, 3), tunes(white, 40)) is None  # fewer tunes than folds


def test_measure_tunes_and_public_record():
    index = novelty.TrainingIndex([GOOD])
    records = measure.measure_tunes([GOOD, JUNK, SHORT_BAR], index)
    assert [r["near_copy"] for r in records] == [True, False, True]  # SHORT_BAR is GOOD, edited
    assert [r["valid"] for r in records] == [True, False, True]
    public = measure.public_record(records[0])
    assert "pitches" not in public and public["valid"]
    # Worker processes give the same records, in the same order.
    assert measure.measure_tunes([GOOD, JUNK, SHORT_BAR], index, jobs=2) == records


# ---------------------------------------------------------------------------------------------
# Baselines


def test_kn_known_answer():
    # Order 1 is a discounted unigram: P(a) = (2 - 0.75)/3 + 0.75 * 2/3 * 1/2 = 2/3 exactly.
    assert baselines.kn_bpc("aab", "a", order=1) == pytest.approx(-math.log2(2 / 3))
    # A character never seen in training keeps only the back-off mass: 0.75 * 2/3 * 1/3.
    assert baselines.kn_bpc("aab", "c", order=1) == pytest.approx(-math.log2(0.75 * 2 / 3 / 3))


def test_kn_matches_shared_reference():
    path = Path(__file__).resolve().parents[2] / "shared" / "bench" / "ngram_bpc.py"
    if not path.is_file():
        pytest.skip("../shared/bench/ngram_bpc.py not here")
    spec = importlib.util.spec_from_file_location("ngram_bpc", path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    rng = random.Random(1)
    train = "".join(rng.choice("abcd|\n") for _ in range(3000)) + GOOD * 3
    test = "".join(rng.choice("abcde|\n") for _ in range(300)) + GOOD
    for order in (1, 2, 3, 5):
        expected = ref.kn_bpc(train, test, order)
        assert baselines.kn_bpc(train, test, order) == pytest.approx(expected, abs=1e-12)


def test_xz_learns_from_training_text():
    rng = random.Random(2)
    seen = "".join(rng.choice("abcdefgh") for _ in range(5000))
    fresh = "".join(rng.choice("abcdefgh") for _ in range(5000))
    assert baselines.xz_bpc(seen, seen) < 0.5 < 2.5 < baselines.xz_bpc(seen, fresh)
    assert math.isnan(baselines.xz_bpc(seen, ""))
    assert set(baselines.baseline_bpc(seen, fresh, kn_orders=(2,))) == {"xz", "kn2"}


def test_judge_sees_shape_loops_and_notes_outside_the_key():
    """The detectability features hold bars, parts, bars per part, the most repeated bar and the
    share of notes the key signature lacks."""
    looped = ("X:1\nT:t\nM:4/4\nL:1/8\nK:D\n|:DFAd fdAF|DFAd fdAF|DFAd fdAF|=c2B2 A4:|\n"
              "|:DFAd fdAF|GABc dcBA|DFAd fdAF|GFED D4:|\n")
    r = measure.analyse_tune(looped)
    assert (r["bars"], r["parts"], r["bar_most"]) == (8, 2, 5)
    assert r["outside_key"] == pytest.approx(1 / 56)  # the C natural; the C sharps are D major's
    v = features.feature_vector(r)
    assert list(v[-5:]) == pytest.approx([8, 2, 4, 5, 1 / 56])
