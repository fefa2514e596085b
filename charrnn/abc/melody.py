"""A tune's melody as a listener hears it, read from the ABC text alone (no parser): one note per
sounded pitch, in semitones, with its length in whole notes and the bar it stands in.

    melody("X:1\\nL:1/8\\nK:D\\n|:{g}F2 ~A>B !trill!d2|")  ->  [Note(66, 0.25, 0), Note(69, 0.1875, 0), ...]

The key signature (K:, with its mode) and accidentals carried through a bar make the pitches;
note lengths follow L:, broken rhythm (> <), tuplets and ties between equal pitches. Grace notes,
decorations, chord symbols and rests are not notes; a chord is heard as its top note. Repeats are
read as written (neither expanded nor dropped). charrnn.similarity builds its profiles on this.

    bar_numbers("M:6/8\nL:1/8\nK:D\nA|DFA dfa|gfe dcB|")  ->  [0, 1, 2]   (0: the pickup)
"""
import re
from bisect import bisect_right
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from .bars import bar_lines, bar_spans, mask
from .header import fields_in, header_field, normalise_key, normalise_meter, split_header

_STEP = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F": -1}  # sharps of the major key on that letter
_MODE_SHIFT = {"": 0, "lyd": 1, "mix": -1, "dor": -2, "m": -3, "phr": -4, "loc": -5}
_SHARP_ORDER, _FLAT_ORDER = "FCGDAEB", "BEADGCF"
_ACCIDENTAL = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
# What mask() keeps that still matters: notes (with a tie), chords, tuplets, broken rhythm.
_EVENT = re.compile(r"(?P<chord>\[(?P<inner>[^\]|\n]*)\](?P<clen>\d*/*\d*)(?P<ctie>-?))"
                    r"|(?P<note>(?P<acc>\^\^|__|[_=^])?(?P<letter>[A-Ga-g])(?P<oct>[,']*)(?P<len>\d*/*\d*)(?P<tie>-?))"
                    r"|(?P<rest>[zxZX]\d*/*\d*)|\((?P<tuplet>[2-9])(?::\d*){0,2}|(?P<broken>[<>]+)")
_INNER_NOTE = re.compile(r"(\^\^|__|[_=^])?([A-Ga-g])([,']*)(\d*/*\d*)")
DEFAULT_UNIT = Fraction(1, 8)  # L: where a tune gives none
_TUPLET_TIME = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}  # (p: p notes in the time of this many; others in 2


class Note(NamedTuple):
    pitch: int  # semitones, middle C = 60
    length: float  # whole notes
    bar: int  # index into bar_spans(abc): the bar the note is written in


def key_signature(key_value):
    """{letter: semitone alteration} a K: value implies ('D' -> {'F': 1, 'C': 1}); {} for K:none."""
    key = normalise_key(key_value)
    if key is None:
        return {}
    tonic, rest = key[0], key[1:]
    accidental = 7 if rest.startswith("#") else -7 if rest.startswith("b") else 0
    sharps = _FIFTHS[tonic] + accidental + _MODE_SHIFT[rest.lstrip("#b")]
    if sharps >= 0:
        return {letter: 1 for letter in _SHARP_ORDER[:sharps]}
    return {letter: -1 for letter in _FLAT_ORDER[:-sharps]}


def scale_pitch_classes(key_value):
    """The pitch classes (0 = C) of the scale a K: value's key signature implies; None for K:none."""
    if normalise_key(key_value) is None:
        return None
    signature = key_signature(key_value)
    return {(step + signature.get(letter, 0)) % 12 for letter, step in _STEP.items()}


def note_length(text):
    """A length suffix as a fraction of the unit: '' -> 1, '3' -> 3, '/' -> 1/2, '3/2', '//' -> 1/4 ('/0' -> 1)."""
    number, slash, rest = text.partition("/")
    length = Fraction(int(number) if number else 1)
    if not slash:
        return length
    digits = rest.replace("/", "")
    divisor = int(digits) if digits else 2 ** (1 + rest.count("/"))
    return length / divisor if divisor else length  # 'A/0' (the model writes it now and then): read as 'A'



def _pitch(acc, letter, octave, signature, carried):
    """Semitones of one written note; an accidental is carried to the same note for the rest of its bar."""
    step, octave_shift = letter.upper(), (1 if letter.islower() else 0) + octave.count("'") - octave.count(",")
    where = (step, octave_shift)
    if acc:
        carried[where] = _ACCIDENTAL[acc]
    alter = carried.get(where, signature.get(step, 0))
    return 60 + 12 * octave_shift + _STEP[step] + alter


def _fields(body):
    """(position, 'K' or 'L', value) of each key or unit-length change in a tune body or header."""
    # A bare `K:` (the network writes one now and then) changes nothing.
    return [(i, letter, value.strip()) for i, letter, value in fields_in(body, "KL") if value.strip()]


@lru_cache(maxsize=4096)
def _sounded(text, unit, tuplet):
    """note_length(text) * unit * tuplet: a tune has few distinct ones, and Fraction arithmetic is slow."""
    return note_length(text) * unit * tuplet


def unit_length(value, default=DEFAULT_UNIT):
    """An L: value as a fraction of a whole note ('1/8' -> 1/8); `default` when it does not read."""
    try:
        return Fraction(value.replace(" ", ""))
    except (ValueError, ZeroDivisionError):
        return default


def melody(abc):
    """The notes of a tune (one ABC tune's text) in order: [Note(pitch, length, bar)]."""
    header, body = split_header(abc)
    offset = len(abc) - len(body)
    signature, unit = {}, DEFAULT_UNIT
    for _, field, value in _fields(header):
        signature, unit = (key_signature(value), unit) if field == "K" else (signature, unit_length(value, unit))
    starts = [start for start, _ in bar_spans(abc)]
    masked = mask(body).replace("\\\n", "  ")
    changes = sorted([(start, "|", "") for start, _, _ in bar_lines(body, masked)] + _fields(body))
    events = sorted(changes + [(m.start(), "", m) for m in _EVENT.finditer(masked)], key=lambda e: e[0])
    notes, carried, tuplet, broken, tied = [], {}, [], None, False
    for position, kind, match in events:
        if kind == "|":
            carried = {}
        elif kind == "K":
            signature, carried = key_signature(match), {}
        elif kind == "L":
            unit = unit_length(match, unit)
        elif match.group("tuplet"):
            p = int(match.group("tuplet"))
            tuplet = [Fraction(_TUPLET_TIME.get(p, 2), p)] * p
        elif match.group("broken"):
            broken = match.group("broken")
        elif match.group("rest"):
            tied, broken = False, None
        else:
            if match.group("chord"):
                inner = [m.groups() for m in _INNER_NOTE.finditer(match.group("inner"))]
                if not inner:
                    continue
                pitches = [_pitch(a, letter, o, signature, carried) for a, letter, o, _ in inner]
                length = _sounded(inner[0][3], unit, tuplet.pop() if tuplet else 1) * note_length(match.group("clen"))
                pitch, tie = max(pitches), match.group("ctie")
            else:
                pitch = _pitch(match.group("acc"), match.group("letter"), match.group("oct"), signature, carried)
                length, tie = _sounded(match.group("len"), unit, tuplet.pop() if tuplet else 1), match.group("tie")
            if broken and notes:
                dots = len(broken)
                factor = Fraction(2 ** (dots + 1) - 1, 2 ** dots)  # >: 3/2 then 1/2; >>: 7/4 then 1/4
                first, second = (factor, 2 - factor) if broken[0] == ">" else (2 - factor, factor)
                notes[-1] = notes[-1]._replace(length=notes[-1].length * first)
                length *= second
            broken = None
            if tied and notes and notes[-1].pitch == pitch:  # a tie between equal pitches: one note heard
                notes[-1] = notes[-1]._replace(length=notes[-1].length + length)
            else:
                bar = max(bisect_right(starts, offset + position) - 1, 0)
                notes.append(Note(pitch, length, bar))
            tied = bool(tie)
    return [Note(n.pitch, float(n.length), n.bar) for n in notes]


def bar_numbers(abc):
    """The number a musician (and abcm2ps -j) gives each bar of bar_spans(abc): 0 for an opening
    pickup, a first bar whose notes last less than the meter asks, then 1, 2, ... A first bar with
    a rest in it (melody leaves rests out) or a tune without a meter counts from 1."""
    spans = bar_spans(abc)
    meter = normalise_meter(header_field(abc, "M"))
    try:
        full = Fraction(meter) if meter else None
    except (ValueError, ZeroDivisionError):
        full = None
    first = abc[spans[0][0]:spans[0][1]] if spans else ""
    heard = sum(Fraction(n.length).limit_denominator(256) for n in melody(abc) if n.bar == 0) if full else 0
    pickup = bool(full) and len(spans) > 1 and 0 < heard < full and not re.search(r"[zx]", mask(first))
    return [i + (0 if pickup else 1) for i in range(len(spans))]
