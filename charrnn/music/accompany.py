"""Guitar-chord symbols ("G"GAB "D7"c2A|) played as an accompaniment part: a bass note and a chord
on the meter's strong beats, in abc2midi's default patterns, softer than the melody, on its own
channel and instrument.

    marks = mark_chord_symbols(score)     # before the melody is touched: symbols become silent marks
    score = score.expandRepeats()         # the marks are played out with the repeats
    part = accompaniment(score)           # a music21 Part (None: no chords), the marks removed

A pattern has one letter per equal slot of the bar, as abc2midi's `%%MIDI gchord`: f the bass
note, c the chord, z silence; each sounds one slot. Where a chord symbol stands, the bass and the
chord sound together (even between slots), so every chord is heard on the beat it is written on.
A chord lasts until the next symbol ("N.C." silences the part).
"""
from ..errors import CharrnnError

# abc2midi 4.84's default gchord patterns (read from its MIDI output); other meters get
# a bass on the first beat and a chord on each other beat (generic_pattern).
PATTERNS = {"2/4": "fzcz", "3/4": "fzczcz", "4/4": "fzczfzcz", "2/2": "fzczfzcz",
            "6/8": "fzcfzc", "9/8": "fzcfzcfzc", "12/8": "fzcfzcfzcfzc"}
ACCOMPANIMENT_PROGRAM = 24  # General MIDI nylon-string guitar: a vamp under a fiddle, not over it
BASS_VELOCITY, CHORD_VELOCITY = 70, 60  # the melody plays at music21's 90
BASS_LOW, CHORD_LOW = 36, 48  # MIDI C2 and C3: the bass in C2-B2, chord roots in C3-B3 (as abc2midi)


def _mark_class():
    from music21 import base

    class ChordMark(base.Music21Object):
        """A chord symbol kept out of music21's note lists (and MIDI) until the repeats are played out."""
        def __init__(self, symbol):
            super().__init__()
            self.symbol = symbol

    return ChordMark


def mark_chord_symbols(score):
    """Swap every chord symbol for a silent ChordMark at the same place; returns how many.
    music21 counts ChordSymbols as notes (ties, graces) and writes them as notes that never end."""
    from music21 import harmony

    mark = _mark_class()
    symbols = list(score.recurse().getElementsByClass(harmony.ChordSymbol))
    for symbol in symbols:
        site = symbol.activeSite
        site.insert(site.elementOffset(symbol), mark(symbol))
        site.remove(symbol)
    return len(symbols)


def generic_pattern(ts):
    """A bass on the first beat and a chord on every other beat, each half a beat long."""
    return "fz" + "cz" * (ts.beatCount - 1)


def pattern_for(ts):
    return PATTERNS.get(ts.ratioString) or generic_pattern(ts)


def _voicing(symbol):
    """(bass MIDI pitch, [chord MIDI pitches]) of a ChordSymbol: the bass (the slash note, else
    the root) in C2-B2, the chord in root position from a root in C3-B3."""
    pitch_classes = sorted({p.pitchClass for p in symbol.pitches})
    root, bass = symbol.root().pitchClass, symbol.bass().pitchClass
    base = CHORD_LOW + root
    chord = [base + (pc - root) % 12 for pc in pitch_classes]
    return BASS_LOW + bass, sorted(chord)


def _read_bars(melody):
    """[(start, end, number)] of the bars of the played-out melody, [(offset, letter, slot length)]
    of the pattern in each, and [(offset, ChordSymbol or NoChord, slot length)] of its chord marks, removed."""
    from music21 import meter, stream

    bars, hits, marks, ts = [], [], [], meter.TimeSignature("4/4")
    for measure in melody.getElementsByClass(stream.Measure):
        ts = measure.timeSignature or ts
        pattern, bar = pattern_for(ts), ts.barDuration.quarterLength
        slot = bar / len(pattern)
        start, end = measure.offset, measure.offset + measure.duration.quarterLength
        bars.append((start, end, measure.number))
        downbeat = start - measure.paddingLeft  # a pickup bar is the end of a full bar
        for k, letter in enumerate(pattern):
            at = downbeat + k * slot
            if letter != "z" and start - 1e-6 <= at < end - 1e-6:
                hits.append((at, letter, slot))
        for el in list(measure.recurse()):
            if type(el).__name__ == "ChordMark":
                marks.append((start + el.getOffsetInHierarchy(measure), el.symbol, slot))
                el.activeSite.remove(el)
    return bars, hits, sorted(marks, key=lambda m: m[0])


def _sound(symbol, letter, length):
    """The bass note (f), the chord (c) or both (b) of a ChordSymbol, `length` quarters long."""
    from music21 import chord, note, pitch

    bass, tones = _voicing(symbol)
    # Pitch objects, not numbers: from numbers music21 spells the chord afresh, slowly (~40 ms a chord).
    pitches = [pitch.Pitch(midi=p) for p in {"f": [bass], "c": tones, "b": [bass, *tones]}[letter]]
    sound = chord.Chord(pitches) if len(pitches) > 1 else note.Note(pitches[0])
    sound.quarterLength = length
    sound.volume.velocity = BASS_VELOCITY if letter == "f" else CHORD_VELOCITY
    return sound


def accompaniment(score, program=ACCOMPANIMENT_PROGRAM):
    """The accompaniment Part of a played-out score whose chord symbols were marked, or None
    when it has none; the marks are removed either way. Its bars mirror the melody's (music21's
    MIDI export wants bars in every part)."""
    from music21 import harmony, instrument, stream

    if not score.parts:
        return None
    bars, hits, marks = _read_bars(score.parts[0])
    for part in score.parts[1:]:  # symbols in other voices are not played: drop their marks
        _read_bars(part)
    if not marks or not bars:
        return None
    # A chord symbol sounds bass and chord on its own place; pattern hits there give way to it.
    placed = {round(at, 6) for at, _, _ in marks}
    hits = sorted([h for h in hits if round(h[0], 6) not in placed] + [(at, "b", slot) for at, _, slot in marks],
                  key=lambda h: h[0])
    part = stream.Part()
    measures = [stream.Measure(number=number) for _, _, number in bars]
    for (start, _, _), measure in zip(bars, measures):
        part.insert(start, measure)
    inst = instrument.Instrument()
    inst.midiProgram = program
    measures[0].insert(0, inst)
    current, m, b = None, 0, 0
    for i, (at, letter, slot) in enumerate(hits):
        while m < len(marks) and marks[m][0] <= at + 1e-6:
            current = marks[m][1]
            m += 1
        while b + 1 < len(bars) and bars[b + 1][0] <= at + 1e-6:
            b += 1
        if current is None or isinstance(current, harmony.NoChord) or not current.pitches:
            continue
        following = hits[i + 1][0] if i + 1 < len(hits) else bars[-1][1]
        length = min(slot, following - at, bars[b][1] - at)  # never over the bar line
        if length > 1e-6:
            measures[b].insert(at - bars[b][0], _sound(current, letter, length))
    return part


def add_accompaniment(score, program=ACCOMPANIMENT_PROGRAM, title=""):
    """The played-out score with its accompaniment part added (when it has chord symbols)."""
    try:
        part = accompaniment(score, program)
    except Exception as e:  # music21 internals on an odd chord symbol
        raise CharrnnError(f"cannot play the chord symbols of {title!r}: {e}") from None
    if part is not None:
        score.insert(0, part)
    return score

