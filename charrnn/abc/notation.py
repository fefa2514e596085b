"""Notation errors: text that breaks ABC's rules, whatever a parser then makes of it.

    notation_errors("K:G\\n|:GABc dBAG:|2 FDEF G4|]")  ->  [(17, 'a second ending with no first ending before it')]

The mistakes behind most of the shipped model's tunes that music21 could not play or abc2midi
reported an error in (of 4,233 human tunes in data/abc, how many make each):

- ending numbers out of order: a second ending (`:|2`, `[2`) that no first ending and repeat
  sign lead to, or a first ending while one is still open (none);
- a repeat opened (`|:`) and closed by a double bar line (`||`, `|]`) instead of `:|` (6);
- stacked accidentals (`^=c`, `=_B`): one note, one accidental; `^^` and `__` are doubles (none);
- a chord (`[CEG]`) that meets a bar line or the line's end before its `]` (1), and quoted text
  (`"Am"`) that the line ends before it closes (none);
- a tie (`-`) between two different notes, or to a rest (129: a slur written as a tie, which
  abc2midi reports as an error);
- a part (`P:B`) in the body that the header's P: line does not name (5);
- a header line that is not a field (`RHhornpipe` before `K:`), or a meter that is not one
  (`M:G|`, `[M:VD]`), and a whole tune with no K: line (none);
- and, in a whole tune (`complete`), a repeat or a first ending left open, or a tie to nothing,
  at its end (12).

The form sampler (charrnn.form.rules) writes a bar again when it makes one of them.
"""
import re
from functools import lru_cache

from .bars import ENDING, bar_lines, ends_repeat, is_double, mask, starts_repeat
from .header import body_start, fields_in, header_field, is_key, is_meter, split_header

_LOOSE = re.compile(r"\[(\d)")  # [1 with no bar line before it: a shorthand some transcribers use
_STACKED = re.compile(r"(?:\^[=_]|_[=^]|=[=^_]|\^\^\^|___)[A-Ga-g]")
_CHORD = re.compile(r"\[(?=[_=^A-Ga-g])[^\]\n|]*\]")  # [CEG]: a tie to or from a chord is not checked
# A tied note (letter and octave), its length and a broken rhythm, the tie, then what may stand
# between it and the next note (bar lines, endings, spaces, decorations), then that note or rest.
_TIE = re.compile(r"([A-Ga-g][,']*)[\d/]*[<>]*-(?:[\s|:\]\d.~HTuvLMPSO()<>\\]|\[(?=\d))*([_=^]*)([A-Ga-gzx[]?[,']*)")
_PART = re.compile(r"^P:\s*(\S)", re.M)
_OPEN_CHORD = re.compile(r"\[(?![|\d]|[A-Za-z]:)[^\]|\n]*(?=[|\n])")  # not [| or [1 or [K:..]
_OPEN_QUOTE = re.compile(r'"[^"\n]*\n')  # (mask() has blanked the quotes that close)


def _endings(masked, lines):
    """(index, number) of each ending mark, in order."""
    marks = {}
    for _, end, _ in lines:
        m = ENDING.match(masked, end)
        if m:
            marks[m.start(1)] = int(m.group(1))
    for m in _LOOSE.finditer(masked):
        marks.setdefault(m.start(1), int(m.group(1)))
    return sorted(marks.items())


def _ties(masked, complete):
    """(index, what) of each tie that does not join two notes of the same pitch."""
    if "-" not in masked:  # (the sampler asks at every bar start: most bars have no tie)
        return
    masked = _CHORD.sub(lambda m: "[" + " " * (len(m.group()) - 1), masked)
    end = len(masked.rstrip())
    for m in _TIE.finditer(masked):
        note, other = m.group(1), m.group(3)
        if other.startswith("["):
            continue
        if other.startswith(("z", "x")) or (other and other != note):
            yield m.start(), "a tie between different notes"
        elif not other and complete and m.end() >= end:
            yield m.start(), "a tie to nothing at the end"


def _parts(abc):
    """(index, what) of each body P: line naming a part that the header's P: does not."""
    if "P:" not in abc:
        return []
    header, body = split_header(abc)
    named = header_field(header, "P") or ""
    offset = len(abc) - len(body)
    return [(offset + m.start(), f"part {m.group(1)} is not in the header's P:")
            for m in _PART.finditer(body) if m.group(1) not in named]


_FIELD_CHECKS = {"M": (is_meter, "a meter that is not one"), "K": (is_key, "a key that is not one")}


def _garbled_fields(abc, start):
    """(index, what) of a header line that is not a field and of each meter or key that is not one;
    `start`: body_start(abc)."""
    if start is None:  # the header is still being written
        return []
    return _garbled_header(abc[:start]) + [(start + i, what) for i, what in _bad_values(abc[start:])]


def _bad_values(text):
    """(index, what) of each M: or K: field in text, on its line or inline, whose value is not one."""
    return [(i, _FIELD_CHECKS[letter][1]) for i, letter, value in fields_in(text, "MK")
            if not _FIELD_CHECKS[letter][0](value)]


@lru_cache(maxsize=1024)  # the sampler asks at every bar start; a tune's header stays the same
def _garbled_header(header):
    errors = _bad_values(header)
    fields, rest = split_header(header)  # it stops at a line that is not a field
    if rest.strip():
        errors.append((len(fields) + 1 if fields else 0, "a header line that is not a field"))
    return errors


def notation_errors(abc, complete=False):
    """[(index, what)] of each notation error in `abc`, by index: a tune so far, or with
    `complete` a whole tune (then what is left open at its end is an error too)."""
    masked = mask(abc).replace("\\\n", "  ")  # a line continuation is space
    lines, start = bar_lines(abc, masked), body_start(abc)
    errors = [(m.start(), "stacked accidentals") for m in _STACKED.finditer(masked)]
    errors += list(_ties(masked, complete)) + _parts(abc) + _garbled_fields(abc, start)
    errors += [(m.start(), "a chord left open") for m in _OPEN_CHORD.finditer(masked)]
    errors += [(m.start(), "quoted text left open") for m in _OPEN_QUOTE.finditer(masked + "\n" * complete)]
    # Events in order: bar lines with repeat signs or double (a plain | changes nothing) and
    # ending marks (their numbers).
    events = sorted([(start, tok) for start, _, tok in lines if tok != "|"] + _endings(masked, lines),
                    key=lambda e: e[0])
    first_open = second_due = repeat_open = False  # an ending 1 awaits its :|; a :| closed one; a |: awaits its :|
    for index, what in events:
        if isinstance(what, int):
            if what == 1 and first_open:
                errors.append((index, "a first ending while one is open"))
            elif what > 1 and not second_due:
                errors.append((index, "a second ending with no first ending before it"))
            first_open, second_due = what == 1, False
            continue
        if ends_repeat(what):
            first_open, second_due, repeat_open = False, first_open, False
        elif is_double(what) and repeat_open:
            errors.append((index, f"a repeat opened with |: and closed with {what}"))
            repeat_open = False
        repeat_open = repeat_open or starts_repeat(what)
    if complete and start is None:
        errors.append((0, "a tune with no K: line"))  # music21 reads no music without one
    if complete and (repeat_open or first_open):
        errors.append((len(masked.rstrip()), "a repeat left open at the end"))
    return sorted(errors)
