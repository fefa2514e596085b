"""Audio of a parsed tune: FluidSynth plays its MIDI, then the WAV is cut, faded and normalised.

WAVs are 16-bit stereo, loudness-normalised: the RMS of the sounding blocks is set to -20 dBFS
(peaks capped at -1 dBFS), so clips of different tunes play equally loud.
Debian tools: fluidsynth + fluid-soundfont-gm.
"""
import os
import tempfile
import wave
from pathlib import Path

import numpy as np

from ..errors import CharrnnError
from .perform import out_path, performance, save_midi
from .tools import find_tool, run_tool

SOUNDFONT = Path(os.environ.get("CHARRNN_SOUNDFONT", "/usr/share/sounds/sf2/FluidR3_GM.sf2"))
TARGET_RMS_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0


def find_soundfont():
    if not SOUNDFONT.is_file():
        raise CharrnnError(f"soundfont {SOUNDFONT} not found: install the Debian package "
                           "'fluid-soundfont-gm' (sudo apt-get install fluid-soundfont-gm) "
                           "or set CHARRNN_SOUNDFONT")
    return SOUNDFONT


def _read_wav(path):
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2, "fluidsynth writes 16-bit audio"
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.reshape(-1, w.getnchannels()).astype(np.float64) / 32768, w.getframerate()


def _write_wav(path, audio, rate):
    pcm = (np.clip(audio, -1, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def normalise(audio, rate):
    """Scale so the sounding 50 ms blocks (within 40 dB of the loudest) have TARGET_RMS_DBFS RMS;
    silence before, between and after notes would otherwise make sparse tunes play louder."""
    block = max(1, int(0.05 * rate))
    n = len(audio) // block * block
    if n == 0 or not np.any(audio):
        return audio
    blocks = np.sqrt((audio[:n].reshape(-1, block, audio.shape[1]) ** 2).mean(axis=(1, 2)))
    sounding = blocks[blocks > blocks.max() * 10 ** (-40 / 20)]
    rms = np.sqrt((sounding ** 2).mean())
    gain = 10 ** (TARGET_RMS_DBFS / 20) / rms
    gain = min(gain, 10 ** (PEAK_CEILING_DBFS / 20) / np.abs(audio).max())
    return audio * gain


def barline_seconds(score):
    """Times in seconds of the bar lines (the end of each bar) of a performance() score."""
    from music21 import stream

    return [d["endTimeSeconds"] for d in score.parts[0].secondsMap
            if isinstance(d["element"], stream.Measure)]


def tune_seconds(score):
    """How long a performance() score plays, in seconds."""
    return max((d["endTimeSeconds"] for d in score.parts[0].secondsMap), default=0.0)


def write_wav(score, path, program=None, tempo=None, seconds=None, fade=0.0, sample_rate=44100, title="",
              chords=True):
    """A parsed tune as a loudness-normalised WAV through FluidSynth, its chord symbols played
    as an accompaniment unless `chords` is False; returns the path.

    seconds: cut at the bar line nearest that time (no cut when the tune is shorter),
    then fade out over the last `fade` seconds.
    """
    fluidsynth, soundfont = find_tool("fluidsynth"), find_soundfont()
    path = out_path(path)
    score = performance(score, program, tempo, title, chords)
    with tempfile.TemporaryDirectory() as tmp:
        mid, raw = Path(tmp) / "tune.mid", Path(tmp) / "raw.wav"
        save_midi(score, mid)
        # -g 0.5: loud enough to keep 16-bit precision, quiet enough not to clip before we normalise;
        # dynamic sample loading reads only the instruments played, not the whole 140 MB soundfont.
        run_tool([fluidsynth, "-ni", "-q", "-o", "synth.dynamic-sample-loading=1", "-F", raw, "-T", "wav",
                  "-O", "s16", "-r", sample_rate, "-g", "0.5", soundfont, mid],
                 "fluidsynth", timeout=60 + tune_seconds(score))
        audio, rate = _read_wav(raw)
    if seconds is not None:
        bars = [t for t in barline_seconds(score) if t > 0] or [seconds]  # no bars: cut at `seconds`
        if seconds < max(bars[-1], tune_seconds(score)):  # a shorter tune plays whole, tail included
            cut = min(bars, key=lambda t: abs(t - seconds))
            audio = audio[: int(round(cut * rate))]
    if fade > 0:
        n = min(len(audio), int(fade * rate))
        audio = audio.copy()
        audio[len(audio) - n:] *= np.linspace(1, 0, n)[:, None]
    _write_wav(path, normalise(audio, rate), rate)
    return path
