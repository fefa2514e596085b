"""Check a MIDI file's accompaniment against the chord symbols of its tune: the test of the
chord floors and of bench/chords.py (which holds music21's accompaniment against abc2midi's).

    expected = chord_symbol_times(abc)            # [(quarter, {pitch classes}, "D7"), ...] repeats played out
    notes = midi_notes("tune.mid")                # [(start, end, channel, pitch, velocity)] in quarters
    report = check_chords(expected, notes, channels={2})

For every chord symbol, `on_beat`: the accompaniment notes that start on the symbol's place have
exactly the symbol's pitch classes; `heard`: those that start before the next symbol do;
`released`: the notes started on the symbol end by the next symbol's place.
"""
TOLERANCE = 0.02  # quarters: abc2midi starts its notes a tick late


def chord_symbol_times(abc):
    """[(offset in quarters, frozenset of pitch classes, figure)] of a tune's chord symbols in
    playing order (music21 reads them; repeats played out). "N.C." has no pitch classes."""
    from music21 import harmony, stream

    from .score import read_score

    score = read_score(abc)
    if score[stream.Measure]:
        score = score.expandRepeats()
    melody = score.parts[0].flatten()
    return [(float(melody.elementOffset(cs)), frozenset(p.pitchClass for p in cs.pitches), cs.figure)
            for cs in melody.getElementsByClass(harmony.ChordSymbol)]


def midi_notes(path):
    """[(start, end, channel, pitch, velocity)] of every note in a MIDI file, times in quarters."""
    from music21 import midi

    mf = midi.MidiFile()
    mf.open(str(path))
    try:
        mf.read()
    finally:
        mf.close()
    tpq, notes = mf.ticksPerQuarterNote, []
    for track in mf.tracks:
        tick, sounding = 0, {}
        for event in track.events:
            if event.isDeltaTime():
                tick += event.time
            elif event.isNoteOn():
                sounding.setdefault((event.channel, event.pitch), []).append((tick, event.velocity))
            elif event.isNoteOff() and sounding.get((event.channel, event.pitch)):
                start, velocity = sounding[(event.channel, event.pitch)].pop(0)
                notes.append((start / tpq, tick / tpq, event.channel, event.pitch, velocity))
    return sorted(notes)


def check_chords(expected, notes, channels):
    """[{figure, at, on_beat, heard, released}] for each chord symbol with pitch classes,
    judged on the notes of the accompaniment `channels`."""
    part = [n for n in notes if n[2] in channels]
    out = []
    for i, (at, classes, figure) in enumerate(expected):
        if not classes:
            continue
        following = expected[i + 1][0] if i + 1 < len(expected) else float("inf")
        onset = [n for n in part if abs(n[0] - at) <= TOLERANCE]
        window = [n for n in part if at - TOLERANCE <= n[0] < following - TOLERANCE]
        out.append({"figure": figure, "at": at,
                    "on_beat": {n[3] % 12 for n in onset} == classes,
                    "heard": {n[3] % 12 for n in window} == classes,
                    "released": bool(onset) and all(n[1] <= following + TOLERANCE for n in onset)})
    return out
