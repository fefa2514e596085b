"""One tune's features as numbers, the same for the report's judge and the critic: a record (what
a tune's melody, bars and form measure) turned into a vector by feature_vector.

    record = text_record(abc)       # read from the ABC text alone: fast, no music21
    vector = feature_vector(record)  # (FEATURES,) floats, or None for a tune with under 2 notes

charrnn.evaluation builds its records with music21 (measure.analyse_tune) and reads them with the
same feature_vector, so the report's classifier and the critic look at the same features while
each measures them its own way.
"""
from collections import Counter
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..abc.bars import bar_spans, structure_counts
from ..abc.header import header_field, tonic_pitch_class
from ..abc.melody import melody, scale_pitch_classes

PITCH_CLASS_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
NOTE_LENGTHS = ["1/32", "1/16", "1/12", "3/32", "1/8", "3/16", "1/4", "3/8", "1/2", "3/4", "1", "other"]
INTERVAL_LIMIT = 12  # steps are clipped to an octave up or down
SHAPE_NAMES = ["bars", "parts", "bars_per_part", "bar_most", "outside_key"]  # the vector's last columns
SHAPE_FEATURES = len(SHAPE_NAMES)
FEATURE_NAMES = ([f"pitch_class {c}" for c in PITCH_CLASS_NAMES]
                 + [f"interval {s:+d}" for s in range(-INTERVAL_LIMIT, INTERVAL_LIMIT + 1)]
                 + [f"note_length {c}" for c in NOTE_LENGTHS]
                 + ["pitch_range", "notes_per_bar", "repeated_bars", "bar_plus4", "ends_on_tonic"] + SHAPE_NAMES)


def intervals(pitches, limit=INTERVAL_LIMIT):
    """Steps between consecutive melody notes in semitones, clipped to +-limit (octave leaps)."""
    return [max(-limit, min(limit, b - a)) for a, b in zip(pitches, pitches[1:])]


@lru_cache(maxsize=1024)  # a tune has a handful of distinct lengths; Fraction's limit_denominator is slow
def length_label(quarter_length):
    """A note length as a fraction of a whole note ('1/8', '3/16', '1/12' = triplet eighth)."""
    whole = Fraction(quarter_length).limit_denominator(96) / 4
    label = f"{whole.numerator}/{whole.denominator}" if whole.denominator > 1 else str(whole.numerator)
    return label if label in NOTE_LENGTHS else "other"


def form_counts(bars):
    """Phrase repetition of a tune's bars (any comparable signatures): how many bars equal another
    bar of the tune, how often the most frequent bar comes, and how many equal the bar four later
    (of those that have one)."""
    counts = Counter(bars)
    return {"bars_measured": len(bars), "bars_repeated": sum(counts[b] > 1 for b in bars),
            "bar_most": max(counts.values(), default=0),
            "bars_plus4": max(len(bars) - 4, 0),
            "bars_plus4_equal": sum(bars[i] == bars[i + 4] for i in range(len(bars) - 4))}


def text_record(abc):
    """What feature_vector reads, measured on the text (charrnn.abc.melody): bars are bar_spans,
    a bar's signature its (pitch, length) notes, the key signature the header's K:."""
    try:
        notes = melody(abc)
    except (ValueError, ZeroDivisionError):  # text the network wrote may hold what melody cannot read
        notes = []
    bars = len(bar_spans(abc))
    per_bar = [[] for _ in range(bars)]
    for note in notes:
        if note.bar < bars:
            per_bar[note.bar].append((note.pitch, note.length))
    key = header_field(abc, "K")
    record = {"parses": True, "bars": bars, "pitches": [n.pitch for n in notes],
              "lengths": [length_label(4 * n.length) for n in notes],
              "notes_per_bar": [len(bar) for bar in per_bar], "outside_key": _outside_key(key, notes),
              "ends_on_tonic": None, **form_counts([tuple(bar) for bar in per_bar if bar]),
              **structure_counts(abc)}
    tonic = tonic_pitch_class(key)
    if notes and tonic is not None:
        record["ends_on_tonic"] = notes[-1].pitch % 12 == tonic
    return record


def _outside_key(key, notes):
    """The share of notes whose pitch class the key signature's scale lacks."""
    scale = scale_pitch_classes(key)
    if scale is None or not notes:
        return 0.0
    return sum(n.pitch % 12 not in scale for n in notes) / len(notes)


def feature_vector(record):
    """One tune's musical features as numbers (FEATURE_NAMES): pitch-class, interval and
    note-length shares, pitch range, mean notes per bar, form (the share of bars that repeat
    another bar, the share equal to the bar four later, whether it ends on the tonic) and shape
    (bars, parts, bars per part, how often its most frequent bar comes: loops; the share of notes
    outside the key signature). None when the tune did not parse or has under 2 notes."""
    if not record["parses"] or len(record["pitches"]) < 2:
        return None
    pitches = record["pitches"]
    pc = np.bincount([p % 12 for p in pitches], minlength=12) / len(pitches)
    steps = intervals(pitches)
    iv = np.bincount([s + INTERVAL_LIMIT for s in steps], minlength=2 * INTERVAL_LIMIT + 1) / len(steps)
    lengths = Counter(record["lengths"])
    ln = np.array([lengths[c] for c in NOTE_LENGTHS], dtype=float) / max(1, len(record["lengths"]))
    per_bar = record["notes_per_bar"]
    form = [record.get("bars_repeated", 0) / max(1, record.get("bars_measured", 0)),
            record.get("bars_plus4_equal", 0) / max(1, record.get("bars_plus4", 0)),
            {True: 1.0, False: 0.0}.get(record.get("ends_on_tonic"), 0.5)]
    bars, parts = record.get("bars", 0), record.get("parts", 0)
    shape = [bars, parts, bars / max(1, parts), record.get("bar_most", 0), record.get("outside_key", 0.0)]
    extra = [max(pitches) - min(pitches), float(np.mean(per_bar)) if per_bar else 0.0, *form, *shape]
    return np.concatenate([pc, iv, ln, extra])
