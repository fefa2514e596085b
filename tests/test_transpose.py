"""Transposed copies of the corpus: abc2abc's pitches spliced into the tunes as written (known
answers), checked against music21 on real tunes, and `charrnn data transpose` end to end."""
import csv
import re
import subprocess
import sys

import pytest

from charrnn.abc.text import join_tunes, read_abc_text, split_tunes
from charrnn.abc.transpose import PITCH, splice_pitches
from charrnn.augment import transpose_corpus
from charrnn.corpus import start_tunes
from charrnn.errors import CharrnnError
from charrnn.music.abc2abc import transpose_tunes
from charrnn.music.score import parse

TUNE = """X:1
T:The Test Reel
M:C|
L:1/8
K:D
% a comment with A B C
"D"~F2 AF A/B/c d2|!trill!e2 {g}fe "A7"d>c B,A,|[1 =F^G_Bd' c'2 z2:|
w: la la
"""
# What abc2abc -t 2 writes for it: the pitches two semitones up, but also its own spacing, "/2"
# for "/", no roll, and "maj" after the key.
ABC2ABC = """X:1
T:The Test Reel
M:C|
L:1/8
K:Emaj
% a comment with A B C
"E"G2 BG B/2c/2d e2|!trill!f2 {a}gf "B7"e>d CB,|[1 =G^A=ce' d'2 z2:|
w: la la
"""
SPLICED = """X:1
T:The Test Reel
M:C|
L:1/8
K:E
% a comment with A B C
"E"~G2 BG B/c/d e2|!trill!f2 {a}gf "B7"e>d CB,|[1 =G^A=ce' d'2 z2:|
w: la la
"""


def test_splice_takes_pitches_chords_and_key_and_keeps_the_rest():
    assert splice_pitches(TUNE, ABC2ABC) == SPLICED


def test_splice_keeps_the_mode_as_written():
    minor = TUNE.replace("K:D\n", "K:Bm\n")
    assert "\nK:C#m\n" in splice_pitches(minor, ABC2ABC.replace("K:Emaj", "K:C#m"))
    dorian = TUNE.replace("K:D\n", "K:ADor\n")
    assert "\nK:BDor\n" in splice_pitches(dorian, ABC2ABC.replace("K:Emaj", "K:Bdor"))


@pytest.mark.parametrize("other", [
    ABC2ABC.replace("B/2c/2d", "B/2c/2"),                # a note fewer
    ABC2ABC.replace('"B7"', ""),                          # a chord symbol fewer
    ABC2ABC.replace("K:Emaj\n", ""),                      # no key
])
def test_splice_gives_none_when_the_texts_do_not_pair_up(other):
    assert splice_pitches(TUNE, other) is None


def test_splice_gives_none_for_a_key_change_inside_the_tune():
    changing = TUNE.replace("|[1", "|[K:G] [1")
    assert splice_pitches(changing, ABC2ABC.replace("|[1", "|[K:A] [1")) is None


def _pitches(abc):
    return [p.midi for n in parse(abc).recurse().notes for p in n.pitches]


def _writing(abc):
    """The text with pitches and the key's tonic taken out: what transposition must not change."""
    return PITCH.sub("#", re.sub(r"(?m)^K:.*$", "K:", abc))


@pytest.mark.parametrize("shift", [-5, 2])
def test_real_tunes_sound_shifted_and_read_as_written(oneills_file, shift):
    tunes = split_tunes(read_abc_text(oneills_file))[:20]
    spliced = [splice_pitches(t, moved) for t, moved in zip(tunes, transpose_tunes(tunes, shift))]
    assert sum(s is not None for s in spliced) >= 18
    for tune, new in zip(tunes, spliced):
        if new is None:
            continue
        before, after = _pitches(tune), _pitches(new)
        assert len(after) == len(before) > 0
        assert all(b - a == shift for a, b in zip(before, after)), tune.split("\n")[1]
        assert _writing(new) == _writing(tune)


def test_transpose_corpus_keeps_the_source_and_appends_copies(tiny_corpus, tmp_path):
    out = tmp_path / "t"
    summary = transpose_corpus(tiny_corpus, out, shifts=(-2, 3))
    source_train = read_abc_text(tiny_corpus / "train.abc")
    train = read_abc_text(out / "train.abc")
    assert train.startswith(source_train)  # the source's tunes first, as they were
    assert (out / "valid.abc").read_bytes() == (tiny_corpus / "valid.abc").read_bytes()
    assert (out / "char_to_idx.json").read_bytes() == (tiny_corpus / "char_to_idx.json").read_bytes()
    n = summary["source_train_tunes"]
    assert n == len(split_tunes(source_train))
    assert summary["train_tunes"] == n + sum(summary["copies"].values()) == len(split_tunes(train))
    assert all(c >= n - 2 for c in summary["copies"].values())
    copies = split_tunes(train)[n:]
    # The first copy of -2 is the first training tune two semitones down, and so on, in order.
    first = split_tunes(source_train)[0]
    assert [b - a for a, b in zip(_pitches(first), _pitches(copies[0]))] == [-2] * len(_pitches(first))
    with open(out / "provenance.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == summary["train_tunes"] + summary["valid_tunes"]
    assert rows[-1]["collection"].endswith(" +3") and rows[-1]["split"] == "train"
    # Runs trained on it start their lanes after the source's start tunes, in their own keys.
    assert read_abc_text(out / "start.abc") == join_tunes(start_tunes(split_tunes(source_train)))
    # Ids written for training to memory-map agree with the text.
    from charrnn.corpus import load_ids, load_corpus
    train_ids, _ = load_ids(out, load_corpus(out).vocab)
    assert len(train_ids) == len(train)


def test_transpose_corpus_rejects_bad_shifts_and_its_own_source(tiny_corpus, tmp_path):
    for shifts in [(), (0,), (2, 2), (12,)]:
        with pytest.raises(CharrnnError, match="shifts"):
            transpose_corpus(tiny_corpus, tmp_path / "t", shifts=shifts)
    with pytest.raises(CharrnnError, match="its own folder"):
        transpose_corpus(tiny_corpus, tiny_corpus, shifts=(2,))
    assert not (tmp_path / "t").exists()


def test_cli_data_transpose_then_train(tiny_corpus, tmp_path):
    out = tmp_path / "t"
    cmd = [sys.executable, "-m", "charrnn", "data", "transpose", "--data", str(tiny_corpus), "--out", str(out),
           "--shifts=-2,2"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "copies -2:" in done.stdout and str(out) in done.stdout
    # These 50 tunes have no key with a sharp in its name; two semitones up, some do (K:F#m): the
    # vocabulary grows by '#', and the command says a model of the source cannot fine-tune on it.
    assert "vocabulary differs" in done.stderr
    first = (out / "train.abc").read_bytes()
    assert subprocess.run(cmd, capture_output=True).returncode == 0  # again: the same corpus
    assert (out / "train.abc").read_bytes() == first
    bad = subprocess.run(cmd[:-1] + ["--shifts=two"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "--shifts" in bad.stderr
    import charrnn
    charrnn.train(data=out, out=tmp_path / "run", epochs=1, batch_size=8, seq_len=32, layers=1, units=16,
                  embedding=8, verbose=False)
    assert (tmp_path / "run" / "best.weights.h5").is_file()
    assert (tmp_path / "run" / "start.abc").read_text() == (out / "start.abc").read_text()
