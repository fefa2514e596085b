"""MIDI files as tunes: midi2abc through charrnn.music.midi, and MIDI files in `charrnn data build`."""
import shutil

import pytest

import charrnn
from charrnn.abc.header import header_field
from charrnn.errors import CharrnnError
from charrnn.music.midi import midi_to_abc

pytestmark = pytest.mark.skipif(shutil.which("midi2abc") is None, reason="midi2abc (Debian abcmidi) not installed")

JIG = "X:1\nT:Known\nM:6/8\nL:1/8\nK:G\nGAB c2d|e2d BAG|A2B c2A|B2A G3|dBG e2c|d3 G3|]\n"


def notes(abc):
    """(MIDI pitch, quarter length) of every note music21 reads, tied notes as one."""
    from music21 import converter

    score = converter.parse(abc, format="abc").stripTies()
    return [(n.pitch.midi, float(n.quarterLength)) for n in score.flatten().notes]


def write_midi(abc, path):
    from music21 import converter

    converter.parse(abc, format="abc").write("midi", fp=path)
    return path


def test_midi_of_a_known_tune_comes_back_as_the_same_notes(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_midi(JIG, src / "the_known_jig.mid")
    (src / "reel.abc").write_text("X:3\nT:Reel\nM:C|\nL:1/8\nK:D\nABcd efge|fdec d4|]\n")
    summary = charrnn.build_corpus([str(src)], out=tmp_path / "c")
    assert summary["tunes"] == 2 and summary["skipped"] == []
    corpus = charrnn.load_corpus(tmp_path / "c")
    tunes = corpus.valid_tunes + corpus.train_tunes
    tune = next(t for t in tunes if header_field(t, "T") == "the known jig")  # T: from the file name
    assert tune.startswith("X:1\nT:the known jig\n")
    assert header_field(tune, "M") == "6/8" and header_field(tune, "L") == "1/8"
    assert header_field(tune, "K") in ("G", "Em")  # midi2abc's guess: one sharp
    assert notes(tune) == notes(JIG)


def test_garbage_midi_is_one_skip_line(tmp_path, capsys):
    (tmp_path / "junk.mid").write_bytes(b"\x00\x01 this is not MIDI " * 10)
    with pytest.raises(CharrnnError, match=r"junk.mid: midi2abc cannot convert it: Error: expecting MThd"):
        midi_to_abc(tmp_path / "junk.mid")
    (tmp_path / "ok.abc").write_text(JIG)
    charrnn.build_corpus([str(tmp_path)], out=tmp_path / "c")
    assert capsys.readouterr().err.strip().splitlines() == [
        f"skipped {tmp_path / 'junk.mid'}: midi2abc cannot convert it: Error: expecting MThd"]


def test_a_track_with_chords_is_skipped_with_its_reason(tmp_path):
    from music21 import chord, meter, note, stream

    score = stream.Score()
    melody, chords = stream.Part(), stream.Part()
    for part in (melody, chords):
        part.append(meter.TimeSignature("3/4"))
    for name in "C5 D5 E5 F5 G5 A5".split():
        melody.append(note.Note(name))
    chords.append(chord.Chord(["C3", "E3", "G3"], quarterLength=3))
    chords.append(chord.Chord(["F3", "A3", "C4"], quarterLength=3))
    score.insert(0, melody)
    score.insert(0, chords)
    score.write("midi", fp=tmp_path / "two.mid")
    text, skipped = midi_to_abc(tmp_path / "two.mid")
    assert skipped == ["track 2: polyphonic: up to 3 simultaneous notes"]
    assert header_field(text, "T") == "two (track 1)" and notes(text) == [(n, 1.0) for n in (72, 74, 76, 77, 79, 81)]
