"""Chord symbols played as an accompaniment part (charrnn.music.accompany), read back from the MIDI:
right pitch classes on the beat each symbol stands on, released before the next, on their own
channel and softer than the melody; abc2midi's default patterns; tunes without chords unchanged."""
import argparse
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from charrnn import render
from charrnn.abc.text import read_abc_text, split_tunes
from charrnn.errors import CharrnnError
from charrnn.music.accompany import ACCOMPANIMENT_PROGRAM
from charrnn.music.chordcheck import check_chords, chord_symbol_times, midi_notes
from charrnn.music.perform import unreleased_notes
from charrnn.tune import Tune

TUNES = split_tunes(read_abc_text(Path(__file__).parent / "data" / "chord_tunes.abc"))
MELODY, ACCOMPANIMENT = 1, 2  # MIDI channels (1-based, as music21 reads them)
QUALITIES = ("X:1\nT:Qualities\nM:4/4\nL:1/8\nK:G\n"
             '"Am"A2 "D7"d2 "G/B"B2 "Edim"e2|"Bb"B2 "F#m"f2 "Dsus4"d2 "Caug"c2|"N.C."G8|]\n')
# Pitch classes worked out by hand (C=0): what each symbol must sound, bass included.
EXPECTED = {"Am": {9, 0, 4}, "D7": {2, 6, 9, 0}, "G/B": {11, 7, 2}, "Edim": {4, 7, 10},
            "Bb": {10, 2, 5}, "F#m": {6, 9, 1}, "Dsus4": {2, 7, 9}, "Caug": {0, 4, 8}}
BASS = {"Am": 9, "D7": 2, "G/B": 11, "Edim": 4, "Bb": 10, "F#m": 6, "Dsus4": 2, "Caug": 0}
needs_fluidsynth = pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth not installed")
needs_abc2midi = pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi not installed")


def read_midi_file(path):
    from music21 import midi

    mf = midi.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    return mf


def strip_chords(abc):
    return re.sub(r'"[^"^_<>@\n][^"\n]*"', "", abc)


def test_twenty_tunes_with_chords():
    assert len(TUNES) == 20 and all('"' in t for t in TUNES)
    assert {Tune(t).meter for t in TUNES} >= {"2/4", "3/4", "4/4", "6/8", "9/8", "12/8", "2/2", "C|"}


@pytest.mark.parametrize("index", range(20))
def test_every_chord_symbol_sounds_on_its_beat(index, tmp_path):
    abc = TUNES[index]
    path = Tune(abc).to_midi(tmp_path / "tune.mid")
    notes = midi_notes(path)
    expected = chord_symbol_times(abc)
    rows = check_chords(expected, notes, {ACCOMPANIMENT})
    assert len(rows) == sum(bool(classes) for _, classes, _ in expected) >= 4
    wrong = [(r["figure"], r["at"]) for r in rows if not (r["on_beat"] and r["released"])]
    assert wrong == []
    melody = [n for n in notes if n[2] == MELODY]
    part = [n for n in notes if n[2] == ACCOMPANIMENT]
    assert {n[2] for n in notes} == {MELODY, ACCOMPANIMENT}
    assert max(n[4] for n in part) < min(n[4] for n in melody)  # softer than the melody
    assert max(n[1] for n in part) <= max(n[1] for n in melody) + 1e-6  # ends with the tune
    assert all(any(abs(m[0] - at) < 1e-6 for m in melody) for at, _, _ in expected)  # on a melody note
    assert unreleased_notes(read_midi_file(path)) == []


def test_chord_qualities_by_hand(tmp_path):
    from music21 import midi

    times = chord_symbol_times(QUALITIES)
    assert [set(classes) for _, classes, _ in times[:-1]] == list(EXPECTED.values())  # in written order
    notes = midi_notes(render.write_midi(QUALITIES, tmp_path / "q.mid"))
    part = [n for n in notes if n[2] == ACCOMPANIMENT]
    for (at, _, _), figure in zip(times, EXPECTED):
        onset = sorted(n[3] for n in part if abs(n[0] - at) < 1e-6)
        assert {p % 12 for p in onset} == EXPECTED[figure], figure
        assert onset[0] % 12 == BASS[figure] and onset[0] < 48 <= onset[1], figure  # the bass, below the chord
    assert not [n for n in part if n[0] >= 8 - 1e-6]  # N.C.: the last bar has no accompaniment
    programs = {e.data for t in read_midi_file(tmp_path / "q.mid").tracks for e in t.events
                if e.type == midi.ChannelVoiceMessages.PROGRAM_CHANGE and e.channel == ACCOMPANIMENT}
    assert programs == {ACCOMPANIMENT_PROGRAM}


@needs_abc2midi
@pytest.mark.parametrize("meter, bar", [("2/4", "A4"), ("3/4", "A6"), ("4/4", "A8"), ("2/2", "A8"), ("C|", "A8"),
                                        ("6/8", "A6"), ("9/8", "A9"), ("12/8", "A12")])
def test_patterns_are_abc2midis_defaults(meter, bar, tmp_path):
    """One chord a bar: our bass-and-chord onsets fall where abc2midi's gchord defaults put theirs."""
    abc = f'X:1\nT:Pattern\nM:{meter}\nL:1/8\nK:G\n"G"{bar}|"D"{bar}|"Em"{bar}|]\n'
    (tmp_path / "t.abc").write_text(abc)
    subprocess.run(["abc2midi", tmp_path / "t.abc", "-o", tmp_path / "ref.mid"], capture_output=True, timeout=30)
    theirs = sorted({round(n[0], 2) for n in midi_notes(tmp_path / "ref.mid") if n[2] != MELODY})
    ours = sorted({round(n[0], 2) for n in midi_notes(render.write_midi(abc, tmp_path / "ours.mid"))
                   if n[2] == ACCOMPANIMENT})
    assert ours == theirs and len(ours) >= 6


def test_tunes_without_chords_give_the_same_midi(oneills_file, tmp_path):
    """Chords on or off, a tune without chord symbols writes the same bytes; a tune with them keeps
    its melody note for note and tick for tick."""
    for i, abc in enumerate(split_tunes(read_abc_text(oneills_file))[:3]):
        assert not chord_symbol_times(abc)
        on = render.write_midi(abc, tmp_path / f"{i}-on.mid").read_bytes()
        assert on == render.write_midi(abc, tmp_path / f"{i}-off.mid", chords=False).read_bytes()
    for abc in TUNES[:4]:
        with_chords = [n for n in midi_notes(render.write_midi(abc, tmp_path / "c.mid")) if n[2] == MELODY]
        stripped = midi_notes(render.write_midi(strip_chords(abc), tmp_path / "s.mid"))
        silent = midi_notes(render.write_midi(abc, tmp_path / "n.mid", chords=False))
        assert with_chords == stripped == silent and len(stripped) >= 15


def test_named_instruments(tmp_path):
    notes = render.performance(TUNES[1], program="flute")
    from music21 import instrument

    programs = [i.midiProgram for i in notes.recurse().getElementsByClass(instrument.Instrument)]
    assert programs[0] == 73 and ACCOMPANIMENT_PROGRAM in programs
    assert render.check_options("Accordion", None) == 21 and render.check_options("0", None) == 0
    with pytest.raises(CharrnnError, match="instrument charrnn knows"):
        render.check_options("kazoo", None)


def cli(argv):
    parser = argparse.ArgumentParser(prog="charrnn")
    render.register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_program_name_and_no_chords(tmp_path, capsys):
    src = tmp_path / "two.abc"
    src.write_text(TUNES[0] + "\n\n" + TUNES[1] + "\n")
    assert cli(["render", str(src), "--program", "whistle", "--out", str(tmp_path / "a")]) == 0
    assert cli(["render", str(src), "--no-chords", "--out", str(tmp_path / "b")]) == 0
    a = midi_notes(tmp_path / "a" / "001-chord-test-polka.mid")
    b = midi_notes(tmp_path / "b" / "001-chord-test-polka.mid")
    assert {n[2] for n in a} == {MELODY, ACCOMPANIMENT} and {n[2] for n in b} == {MELODY}
    with pytest.raises(CharrnnError, match="kazoo"):
        cli(["render", str(src), "--program", "kazoo", "--out", str(tmp_path / "c")])


@needs_fluidsynth
def test_audio_with_chords_renders_fast(tmp_path):
    """The floor: under 5 s a tune on 2 cores (the longest of the twenty, repeats played out)."""
    longest = max(TUNES, key=lambda t: Tune(t).bars)
    start = time.perf_counter()
    path = render.write_wav(longest, tmp_path / "tune.wav")
    assert time.perf_counter() - start < 5
    assert path.stat().st_size > 100_000
