"""charrnn.render on a real O'Neill's tune: MIDI notes, WAV length and loudness, SVG/PNG/PDF scores,
and a multi-tune file with a malformed tune in the middle."""
import argparse
import shutil
import subprocess
import wave

import numpy as np
import pytest

from charrnn import render
from charrnn.abc.text import read_abc_text, split_tunes
from charrnn.music import tools
from charrnn.errors import CharrnnError

BROKEN = "X:99\nT:Broken Tune\nM:4/4\nL:1/8\nK:D\nABc d2 | [[[ ))) &&& | (3 |\n"
# The Enchanted Valley (O'Neill's 1), first line, worked out by hand from the ABC in G minor:
# G3-A (Bcd=e) | f4 (g2dB) | ({d}c3-B) G2-E2 | F4 (D2=E^F) |
# '-' between different pitches is no tie (both notes sound); {d} is a grace note and sounds.
FIRST_LINE = [67, 69, 70, 72, 74, 76, 77, 79, 74, 70, 74, 72, 70, 67, 63, 65, 62, 64, 66]
needs = {tool: pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} not installed")
         for tool in ("fluidsynth", "abcm2ps", "gs", "abc2midi")}


@pytest.fixture(scope="module")
def tunes(oneills_file):
    return split_tunes(read_abc_text(oneills_file))


@pytest.fixture(scope="module")
def valley(tunes):
    assert "T: The Enchanted Valley" in tunes[0]
    return tunes[0]


def midi_events(path):
    """(note-on pitches in time order, programs, tempos in microseconds per quarter) of a MIDI file."""
    from music21 import midi

    mf = midi.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    notes, programs, tempos = [], [], []
    for track in mf.tracks:
        tick = 0
        for e in track.events:
            if e.isDeltaTime():
                tick += e.time
            elif e.type == midi.ChannelVoiceMessages.NOTE_ON and e.velocity > 0:
                notes.append((tick, e.pitch))
            elif e.type == midi.ChannelVoiceMessages.PROGRAM_CHANGE:
                programs.append(e.data)
            elif e.type == midi.MetaEvents.SET_TEMPO:
                tempos.append(int.from_bytes(e.data, "big"))
    return [p for _, p in sorted(notes)], set(programs), tempos


def test_midi_has_the_tunes_notes(valley, tmp_path):
    path = render.write_midi(valley, tmp_path / "valley.mid")
    pitches, programs, tempos = midi_events(path)
    assert pitches[: len(FIRST_LINE)] == FIRST_LINE
    assert programs == {render.DEFAULT_PROGRAM}
    assert tempos[0] == round(60e6 / render.METER_TEMPO["2/4"])  # no Q: field: the 2/4 default


@needs["abc2midi"]
@pytest.mark.parametrize("index", [0, 14])  # 14: Raking Red Haired Pat, whose first part repeats
def test_midi_matches_abc2midi(tunes, index, tmp_path):
    """abc2midi, an independent ABC player, sounds the same notes (count and pitches)."""
    (tmp_path / "tune.abc").write_text(tunes[index] + "\n")
    subprocess.run(["abc2midi", tmp_path / "tune.abc", "-o", tmp_path / "ref.mid"], capture_output=True)
    ours, _, _ = midi_events(render.write_midi(tunes[index], tmp_path / "tune.mid"))
    reference, _, _ = midi_events(tmp_path / "ref.mid")
    assert len(ours) == len(reference) > 100
    assert ours == reference


def test_midi_program_and_tempo(valley, tmp_path):
    _, programs, tempos = midi_events(render.write_midi(valley, tmp_path / "a.mid", program=0, tempo=60))
    assert programs == {0} and tempos[0] == 1_000_000
    with_q = valley.replace("K:Gm", "Q:1/4=140\nK:Gm")
    _, _, tempos = midi_events(render.write_midi(with_q, tmp_path / "b.mid"))
    assert tempos[0] == round(60e6 / 140)
    with pytest.raises(CharrnnError, match="0-127"):
        render.write_midi(valley, tmp_path / "c.mid", program=200)


def read_wav(path):
    with wave.open(str(path)) as w:
        assert (w.getsampwidth(), w.getframerate()) == (2, 44100)
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float) / 32768
        return audio.reshape(-1, w.getnchannels()), w.getframerate()


@needs["fluidsynth"]
def test_wav_duration_and_loudness(valley, tmp_path):
    import music21

    quarters = music21.converter.parse(valley, format="abc").highestTime  # no repeats in this tune
    expected = quarters * 60 / render.METER_TEMPO["2/4"]  # 48.25 quarters at 110 a minute: 26.3 s
    audio, rate = read_wav(render.write_wav(valley, tmp_path / "valley.wav"))
    assert expected <= len(audio) / rate <= expected + 4  # plus the last note's release
    rms = 20 * np.log10(np.sqrt((audio ** 2).mean()))
    assert -23 < rms < -19  # normalised to -20 dBFS over the sounding part: not silent, not clipped
    assert np.abs(audio).max() < 1


@needs["fluidsynth"]
def test_wav_clip_ends_on_a_bar_line(valley, tmp_path):
    audio, rate = read_wav(render.write_wav(valley, tmp_path / "clip.wav", seconds=10, fade=1.5))
    bar = 2 * 60 / render.METER_TEMPO["2/4"]  # a 2/4 bar, 1.09 s; the tune starts with a whole bar
    bars = len(audio) / rate / bar
    assert abs(len(audio) / rate - 10) <= bar / 2 and abs(bars - round(bars)) < 0.01
    assert np.abs(audio[-100:]).max() < 0.01  # faded out
    assert np.abs(audio[: rate]).max() > 0.1


@needs["abcm2ps"]
def test_svg_has_title_and_notes(valley, tmp_path):
    svg = render.write_score(valley, tmp_path / "valley.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "The Enchanted Valley" in svg
    assert svg.count("<use") > 100  # abcm2ps draws note heads, clefs and accidentals as <use> glyphs


@needs["abcm2ps"]
@needs["gs"]
def test_png_and_pdf(valley, tmp_path):
    from matplotlib import image

    path = render.write_score(valley, tmp_path / "valley.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(str(path))[..., :3].mean(axis=-1)  # 0 black .. 1 white
    dark = pixels < 0.5
    assert pixels.shape[1] > 600 and 0.01 < dark.mean() < 0.3  # ink on paper, not a blank page
    assert dark[: pixels.shape[0] // 10].any()  # the title line at the top
    assert render.write_score(valley, tmp_path / "valley.pdf").read_bytes()[:5] == b"%PDF-"


def test_musicxml_and_bad_suffix(valley, tmp_path):
    xml = render.write_score(valley, tmp_path / "valley.musicxml").read_text()
    assert "The Enchanted Valley" in xml and "<note" in xml
    with pytest.raises(CharrnnError, match="score format"):
        render.write_score(valley, tmp_path / "valley.jpg")


def cli(argv):
    """The render sub-command as charrnn's main() wires it."""
    parser = argparse.ArgumentParser(prog="charrnn")
    render.register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@needs["abcm2ps"]
def test_malformed_tune_is_skipped(tunes, tmp_path, capsys):
    abc = tmp_path / "three.abc"
    abc.write_text(f"{tunes[0]}\n\n{BROKEN}\n{tunes[2]}\n")
    broken_line = abc.read_text().split("\n").index("X:99") + 1
    results = render.render_file(abc, tmp_path / "out", formats=("midi", "svg"))
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].title == "Broken Tune" and results[1].line == broken_line and not results[1].outputs
    for r in (results[0], results[2]):
        assert all(p.stat().st_size > 1000 for p in r.outputs.values()) and set(r.outputs) == {"midi", "svg"}

    assert cli(["render", str(abc), "--midi", "--out", str(tmp_path / "cli")]) == 0
    err = capsys.readouterr().err
    assert f"three.abc:{broken_line}: skipped 'Broken Tune'" in err and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == [
        "001-the-enchanted-valley.mid", "003-the-little-heathy-hill.mid"]

    only_broken = tmp_path / "broken.abc"
    only_broken.write_text(BROKEN)
    with pytest.raises(CharrnnError, match="none of its 1 tunes could be rendered"):
        cli(["render", str(only_broken), "--out", str(tmp_path / "none")])


def test_missing_tool_names_the_debian_package(valley, tmp_path, monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(tools.shutil, "which",
                        lambda name: None if name == "fluidsynth" else real_which(name))
    with pytest.raises(CharrnnError, match=r"install the Debian package 'fluidsynth'"):
        render.write_wav(valley, tmp_path / "x.wav")
    abc = tmp_path / "one.abc"
    abc.write_text(valley)
    with pytest.raises(CharrnnError, match="fluidsynth not found"):  # before any tune is rendered
        cli(["render", str(abc), "--midi", "--wav", "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()
