"""A parsed tune made playable, and written as MIDI (music21 writes it).

    score = charrnn.music.score.parse(abc)
    write_midi(score, "tune.mid", program=40, tempo=100)

performance() plays the repeats out and fixes what music21's ABC reader gets wrong for playback
(shared objects, ties between different pitches, grace notes; guitar-chord symbols are left
out, since music21 plays them as notes that never end), on a copy: the parsed score a
Tune caches stays as music21 read it, for measuring.

Sound: General MIDI program 40 (violin: these are fiddle tunes) unless `program` says otherwise
(0-127, 0 is the piano, or a name from INSTRUMENTS: "flute", "accordion", ...). Tempo: the tune's Q: field, else a default for its meter (METER_TEMPO);
`tempo` overrides both and counts the meter's beat (a dotted quarter in 6/8, a half in 2/2).
"""
import copy
import tempfile
from contextlib import nullcontext
from pathlib import Path

from ..errors import CharrnnError
from .accompany import add_accompaniment, mark_chord_symbols

DEFAULT_PROGRAM = 40  # General MIDI violin (0-based, as music21 and the MIDI bytes count)
# Beats per minute of the meter's beat when the tune has no Q: field: session-ish but unhurried.
METER_TEMPO = {"2/4": 110, "3/4": 120, "4/4": 160, "2/2": 90, "3/2": 80,
               "6/8": 100, "9/8": 100, "12/8": 90}
FALLBACK_TEMPO = 100
# Folk instruments by name -> General MIDI program (0-based); names a musician would type.
INSTRUMENTS = {"fiddle": 40, "violin": 40, "viola": 41, "cello": 42, "flute": 73, "whistle": 78,
               "recorder": 74, "piccolo": 72, "pipes": 109, "bagpipe": 109, "accordion": 21,
               "concertina": 23, "melodeon": 21, "harmonica": 22, "piano": 0, "harpsichord": 6,
               "guitar": 24, "steel guitar": 25, "banjo": 105, "harp": 46, "dulcimer": 15,
               "clarinet": 71, "oboe": 68, "trumpet": 56, "organ": 19}
GRACE_QUARTERS = 0.125  # a grace note lasts a 32nd note (less when its principal is short)


def _unshare(score):
    """music21's ABC reader puts one TimeSignature object in two bars around a short bar;
    MIDI export refuses shared objects, so give each bar its own copy."""
    seen = set()
    for container in list(score.recurse(streamsOnly=True, includeSelf=True)):
        for el in list(container.elements):
            if id(el) in seen:
                container.replace(el, copy.deepcopy(el))
            seen.add(id(el))


def _untie_different_pitches(score):
    """ABC '-' between different pitches (old books use it as a slur) is no tie; music21 would
    swallow the second note, so drop such ties as abc2midi and abcm2ps do."""
    from music21 import tie

    for part in score.parts:
        notes = [n for n in part.recurse().notes if not n.duration.isGrace]
        for a, b in zip(notes, notes[1:]):
            if a.tie is None or a.tie.type not in ("start", "continue"):
                continue
            if [p.ps for p in a.pitches] != [p.ps for p in b.pitches]:
                a.tie = None if a.tie.type == "start" else tie.Tie("stop")
                if b.tie is not None:
                    b.tie = None if b.tie.type == "stop" else tie.Tie("start")


def _play_graces(score):
    """music21 writes a grace note as a zero-length MIDI note whose note-off comes before its
    note-on, so it sounds for ever (FluidSynth never finishes a violin). Play each grace as a
    short note taken from the start of the note it ornaments instead."""
    from music21 import duration

    for container in list(score.recurse(streamsOnly=True)):
        run = []  # graces waiting for their principal note
        for n in list(container.notesAndRests):
            if n.duration.isGrace:
                run.append(n)
                continue
            if run and not n.isRest:
                each = min(GRACE_QUARTERS, n.quarterLength / (2 * len(run)))
                start = n.offset
                for k, grace in enumerate(run):
                    container.remove(grace)
                    played = copy.deepcopy(grace)
                    played.duration = duration.Duration(each)
                    container.insert(start + k * each, played)
                n.quarterLength -= each * len(run)
                container.setElementOffset(n, start + each * len(run))
            else:
                for grace in run:  # a grace before a rest or a bar line: nothing to take time from
                    container.remove(grace)
            run = []
        for grace in run:
            container.remove(grace)


def drop_chord_symbols(score):
    """Leave out guitar-chord symbols ("Em"E2 G2); returns how many. music21 writes them as MIDI
    chords whose note-offs come before their note-ons, which FluidSynth sounds for ever."""
    from music21 import harmony

    symbols = list(score.recurse().getElementsByClass(harmony.ChordSymbol))
    for symbol in symbols:
        symbol.activeSite.remove(symbol)
    return len(symbols)


def unreleased_notes(midi_file):
    """(track, channel, pitch) of every note a music21 MidiFile starts and does not end, or ends
    before it starts: a MIDI file must release every note it starts."""
    bad = []
    for t, track in enumerate(midi_file.tracks):
        sounding = {}
        for event in track.events:
            if event.isNoteOn():
                key = (event.channel, event.pitch)
                sounding[key] = sounding.get(key, 0) + 1
            elif event.isNoteOff():
                key = (event.channel, event.pitch)
                if sounding.get(key, 0) == 0:
                    bad.append((t, *key))  # an end before its start
                else:
                    sounding[key] -= 1
        bad.extend((t, *key) for key, count in sounding.items() for _ in range(count))
    return bad


def meter_tempo(score):
    """METER_TEMPO for a parsed tune's first meter (FALLBACK_TEMPO for one it lacks); no Q: asked."""
    from music21 import meter

    ts = score.recurse().getElementsByClass(meter.TimeSignature).first() or meter.TimeSignature("4/4")
    return METER_TEMPO.get(ts.ratioString, FALLBACK_TEMPO)


def tune_tempo(score):
    """The beats a minute (of the meter's beat) a parsed tune plays at without `tempo`: its first
    Q: mark, else METER_TEMPO for its meter."""
    from music21 import meter, tempo

    ts = score.recurse().getElementsByClass(meter.TimeSignature).first() or meter.TimeSignature("4/4")
    mark = score.recurse().getElementsByClass(tempo.MetronomeMark).first()
    if mark is not None and mark.number:
        return round(mark.getQuarterBPM() / ts.beatDuration.quarterLength, 1)
    return meter_tempo(score)


def _set_tempo(score, bpm):
    """Keep the tune's Q: marks unless bpm overrides; with none, use the meter's default."""
    from music21 import meter, stream, tempo

    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    if marks and bpm is None:
        return
    for mark in marks:
        mark.activeSite.remove(mark)
    ts = score.recurse().getElementsByClass(meter.TimeSignature).first() or meter.TimeSignature("4/4")
    bpm = bpm or METER_TEMPO.get(ts.ratioString, FALLBACK_TEMPO)
    first = score.parts[0]
    first = first.getElementsByClass(stream.Measure).first() or first
    first.insert(0, tempo.MetronomeMark(number=bpm, referent=ts.beatDuration))


def _set_program(score, program):
    from music21 import instrument

    for old in list(score.recurse().getElementsByClass(instrument.Instrument)):
        old.activeSite.remove(old)
    for part in score.parts:
        inst = instrument.Instrument()
        inst.midiProgram = program
        part.insert(0, inst)


def program_number(program):
    """A General MIDI program 0-127 from a number, a numeral or an instrument name (INSTRUMENTS);
    None gives DEFAULT_PROGRAM. A CharrnnError for anything else."""
    if program is None:
        return DEFAULT_PROGRAM
    if isinstance(program, str) and not program.strip().isdigit():
        name = " ".join(program.lower().split())
        if name not in INSTRUMENTS:
            raise CharrnnError(f"program {program!r} is no General MIDI number 0-127 nor an instrument "
                               f"charrnn knows ({', '.join(sorted(INSTRUMENTS))})")
        return INSTRUMENTS[name]
    return int(program)


def check_options(program, tempo):
    """The General MIDI program to use; a CharrnnError for a bad program or tempo."""
    program = program_number(program)
    if not 0 <= program <= 127:
        raise CharrnnError(f"program must be a General MIDI program 0-127, got {program}")
    if tempo is not None and not tempo > 0:
        raise CharrnnError(f"tempo must be positive beats a minute, got {tempo}")
    return program


def performance(score, program=None, tempo=None, title="", chords=True):
    """A copy of a parsed tune as it will sound: repeats played out, tempo and General MIDI program
    set, and with `chords` its chord symbols played by a second part (charrnn.music.accompany)."""
    from music21 import stream

    program = check_options(program, tempo)
    score = copy.deepcopy(score)
    try:
        _unshare(score)
        if chords:
            mark_chord_symbols(score)
        else:
            drop_chord_symbols(score)
        _untie_different_pitches(score)
        _play_graces(score)
        _set_tempo(score, tempo)
        _set_program(score, program)
        # Repeats played out here (music21's MIDI export would do it too) so bar times match the MIDI.
        score = score.expandRepeats() if score[stream.Measure] else score
    except Exception as e:  # music21 internals on odd input (unmatched repeats, ...)
        raise CharrnnError(f"music21 cannot perform {title!r}: {e}") from None
    return add_accompaniment(score, title=title) if chords else score


def save_midi(score, path):
    from music21.midi import translate

    try:
        mf = translate.streamToMidiFile(score)
    except Exception as e:
        raise CharrnnError(f"music21 cannot write MIDI: {e}") from None
    stuck = unreleased_notes(mf)
    if stuck:  # would sound for ever in a synthesizer
        raise CharrnnError(f"music21 wrote MIDI notes that never end (track, channel, pitch: {stuck[:3]})")
    mf.open(str(path), "wb")
    try:
        mf.write()
    finally:
        mf.close()


def out_path(path):
    """path as a Path whose folder exists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_midi(score, path, program=None, tempo=None, title="", chords=True):
    """A parsed tune as a MIDI file; returns the path."""
    path = out_path(path)
    save_midi(performance(score, program, tempo, title, chords), path)
    return path


def converts_to_midi(score, workdir=None):
    """A parsed tune converts to MIDI the way `charrnn generate` and Tune.to_midi write it."""
    with tempfile.TemporaryDirectory() if workdir is None else nullcontext(workdir) as folder:
        try:
            write_midi(score, Path(folder) / "tune.mid", chords=False)  # validity is the melody's
            return True
        except Exception:  # CharrnnError, or music21 internals on odd input
            return False
