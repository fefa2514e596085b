"""Chord symbols as accompaniment, two ways on the same tunes: charrnn's music21 part
(charrnn.music.accompany) against abc2midi's %%MIDI gchord defaults.

    python bench/chords.py [tests/data/chord_tunes.abc]

For every chord symbol (charrnn.music.chordcheck): the accompaniment notes that start on its
place have its pitch classes (on_beat), the notes before the next symbol do (heard), the notes
started on it end by the next (released); melody_aligned: a melody note starts where the symbol's
first accompaniment note does. Figures: share of symbols passing, MIDI seconds a tune, the
symbols abc2midi warns about. Prints one JSON line per way, with the CPU.
"""
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name

from charrnn.abc.text import read_abc_text, split_tunes
from charrnn.music.chordcheck import TOLERANCE, check_chords, chord_symbol_times, midi_notes
from charrnn.tune import Tune


def music21_way(abc, path):
    Tune(abc).to_midi(path)
    return midi_notes(path), {1}, {2}, []


def abc2midi_way(abc, path):
    src = path.with_suffix(".abc")
    src.write_text(abc + "\n", encoding="utf-8")
    done = subprocess.run(["abc2midi", src, "-o", path], capture_output=True, text=True, timeout=30)
    warnings = [line for line in done.stdout.splitlines() if "chord" in line.lower()]
    notes = midi_notes(path)
    # abc2midi: the melody on channel 1, bass and chords on two channels of their own
    return notes, {1}, {n[2] for n in notes} - {1}, warnings


def measure(way, tunes, folder):
    totals = {"on_beat": 0, "heard": 0, "released": 0, "melody_aligned": 0}
    symbols, seconds, warned = 0, 0.0, []
    for i, abc in enumerate(tunes):
        start = time.perf_counter()
        notes, melody, accompaniment, warnings = way(abc, Path(folder) / f"{way.__name__}{i}.mid")
        seconds += time.perf_counter() - start
        warned += warnings
        starts = {round(n[0], 2) for n in notes if n[2] in melody}
        for row in check_chords(chord_symbol_times(abc), notes, accompaniment):
            symbols += 1
            for k in ("on_beat", "heard", "released"):
                totals[k] += row[k]
            first = min((n[0] for n in notes if n[2] in accompaniment and n[0] >= row["at"] - TOLERANCE),
                        default=None)
            totals["melody_aligned"] += first is not None and any(abs(first - s) <= TOLERANCE for s in starts)
    return {"way": way.__name__, "tunes": len(tunes), "symbols": symbols,
            **{k: round(v / symbols, 3) for k, v in totals.items()},
            "seconds_per_tune": round(seconds / len(tunes), 3), "chord_warnings": warned[:5], "cpu": cpu_name()}


def main(path="tests/data/chord_tunes.abc"):
    tunes = split_tunes(read_abc_text(path))
    with tempfile.TemporaryDirectory() as folder:
        for way in (music21_way, abc2midi_way):
            print(json.dumps(measure(way, tunes, folder)))


if __name__ == "__main__":
    main(*sys.argv[1:])
