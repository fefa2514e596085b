"""Notation errors: text that breaks ABC's rules, whatever a parser then makes of it.

    notation_errors("K:G\\n|:GABc dBAG:|2 FDEF G4|]")  ->  [(19, 'a second ending with no first ending before it')]

Three mistakes, each found in none of the 4,233 human tunes of data/abc and behind most of the
shipped model's tunes that music21 could not play:

- ending numbers out of order: a second ending (`:|2`, `[2`) that no first ending and repeat
  sign lead to, or a first ending while one is still open;
- a repeat opened (`|:`) and closed by a double bar line (`||`, `|]`) instead of `:|`;
- stacked accidentals (`^=c`, `=_B`): one note, one accidental (`^^` and `__` are doubles).

The sampler (charrnn.nn.form) writes a bar again when it makes one of them.
"""
import re

from .bars import bar_lines, ends_repeat, is_double, mask, starts_repeat

_AFTER_BAR = re.compile(r"\s*\[?(\d)")  # |1  :|2  | [1: the ending a bar line leads into
_LOOSE = re.compile(r"\[(\d)")  # [1 with no bar line before it: a shorthand some transcribers use
_STACKED = re.compile(r"(?:\^[=_]|_[=^]|=[=^_]|\^\^\^|___)[A-Ga-g]")


def _endings(masked, lines):
    """(index, number) of each ending mark, in order."""
    marks = {}
    for _, end, _ in lines:
        m = _AFTER_BAR.match(masked, end)
        if m:
            marks[m.start(1)] = int(m.group(1))
    for m in _LOOSE.finditer(masked):
        marks.setdefault(m.start(1), int(m.group(1)))
    return sorted(marks.items())


def notation_errors(abc):
    """[(index, what)] of each notation error in `abc` (a tune or a tune so far), by index."""
    masked = mask(abc).replace("\\\n", "  ")  # a line continuation is space
    lines = bar_lines(abc)
    errors = [(m.start(), "stacked accidentals") for m in _STACKED.finditer(masked)]
    # Events in order: bar lines (their repeat signs) and ending marks (their numbers).
    events = sorted([(start, tok) for start, _, tok in lines] + _endings(masked, lines))
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
    return sorted(errors)
