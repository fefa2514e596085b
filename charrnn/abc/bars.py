"""The one bar-line lexer, and what is read with it: structure (parts, repeats, endings) and bars
as note sequences.

    bar_lines("|:GABc dBAG:|2 FDEF G4||")  ->  [(0, 2, "|:"), (11, 13, ":|"), (23, 25, "||")]

A bar line is optional colons, one of `[|  |]  ||  |`, optional colons; or a run of colons (`::`).
Text that can hold bar-line characters without being one is masked first: quoted text ("A|B"),
!decorations!, {grace notes}, field lines (M:C|), inline fields ([M:3/4]) and comments.
"""
import re
from collections import Counter

from .header import split_header, tune_body

MIN_BARS = 8  # a tune needs this many bars to count as one

_BAR = re.compile(r":*(?:\[\||\|\]|\|\||\|):*|::+")
# Queries at the end of text being written, where masking the whole text at each character would
# cost too much: a bar line then only spaces just behind; a closing bar line (:| |] || ::) at the end.
_AFTER_BAR = re.compile(r"(?:\||::)[:\]]*[ \t\n]*$")
_PART_CLOSE = re.compile(r"(?::\||\|\]|\|\||::)$")
_FIRST_ENDING = re.compile(r"[|\]]\s*\[?1")  # |1 or [1: a first ending, which leads back, not home
NOTE_START = frozenset("ABCDEFGabcdefgzx^=_({\"~.")  # what can begin a bar's music after its bar line
_NOTE_LETTER = re.compile(r"[A-Ga-g]")
_MASK = re.compile(r'"[^"\n]*"|![^!\n]*!|\{[^}\n]*\}|^[A-Za-z]:.*$|\[[A-Za-z]:[^\]\n]*\]|%.*$', re.M)


def first_bar_line(text, start=0):
    """(start, end, token) of the first bar line at or after `start`, or None."""
    m = _BAR.search(mask(text), start)
    return (m.start(), m.end(), m.group()) if m else None


def follows_bar_line(text, start=0, end=None):
    """Is a bar line, then only spaces, just behind text[start:end]'s end?"""
    end = len(text) if end is None else end
    return _AFTER_BAR.search(text, max(start, end - 8), end) is not None


def is_bar_start(text, i, body):
    """Does a bar start at text[i]: the first character that can begin a note after a bar line
    (so `|1`, `|]`, a line continuation or a field do not start one)? `body` is body_start(text)."""
    return body is not None and body <= i < len(text) and text[i] in NOTE_START and follows_bar_line(text, body, i)


def core_end(abc, i):
    """Where the bar starting at i ends: the start of its closing bar line (or the text's end)."""
    bar = first_bar_line(abc, i)
    return bar[0] if bar else len(abc)


def closes_part(text):
    """Does text end with a bar line that closes a part or the tune (:| |] || ::)?"""
    return _PART_CLOSE.search(text) is not None


def last_note_letter(text):
    """The letter (upper case) of the last note in `text`, chord symbols, decorations, grace notes
    and inline fields aside; None when it holds no note."""
    letters = _NOTE_LETTER.findall(mask(text))
    return letters[-1].upper() if letters else None


def leaves_home(bar, tonic):
    """Does a closing bar (its text since the bar started) end away from the tonic letter?
    A first ending leads back into the part, so it is never held to the tonic."""
    last = last_note_letter(bar)
    return tonic is not None and last is not None and last != tonic and not _FIRST_ENDING.search(bar)


def mask(text):
    """text with every masked stretch blanked out (same length, so positions still hold)."""
    return _MASK.sub(lambda m: " " * len(m.group()), text)


def bar_lines(text, masked=None):
    """(start, end, token) of each bar line in ABC text (a tune body, or a whole tune);
    `masked`: mask(text), where the caller has it already."""
    return [(m.start(), m.end(), m.group()) for m in _BAR.finditer(mask(text) if masked is None else masked)]


_AROUND = re.compile(r"^[A-Za-z]:.*$|%.*$", re.M)  # field lines and comments: next to a bar, not in it


def bar_spans(abc):
    """(start, end) in `abc` of each bar's music as written, 1 bar = the text between two bar lines
    (a pickup before the first counts). Bar lines, spaces, comments and field lines around a bar
    are left out; chords, quoted text and decorations are in it. A `\\` line continuation is space.

    bar_spans("K:D\\n|:DFA dfa|gfe dcB:|")  ->  [(6, 13), (14, 21)]
    """
    body = split_header(abc)[1]
    offset = len(abc) - len(body)
    masked = mask(body).replace("\\\n", "  ")
    edges = _AROUND.sub(lambda m: " " * len(m.group()), body).replace("\\\n", "  ")
    cuts = [0] + [x for start, end, _ in bar_lines(body) for x in (start, end)] + [len(body)]
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        if masked[start:end].strip():
            core = edges[start:end]
            lead, trail = len(core) - len(core.lstrip()), len(core) - len(core.rstrip())
            spans.append((offset + start + lead, offset + end - trail))
    return spans


def bars_so_far(text):
    """(bars, open): the bars of music in a stretch of body text being written, and whether the
    last of them is still open (music after the last bar line). Ending numbers (`|1`) belong to
    their bar line here: a bar line followed only by one holds no music yet."""
    masked = mask(text).replace("\\\n", "  ")
    cuts = [0] + [x for start, end, _ in bar_lines(text, masked) for x in (start, end)] + [len(text)]
    segments = [masked[a:b] for a, b in zip(cuts[::2], cuts[1::2])]
    music = [bool(_LEADING_ENDING.sub("", seg).strip()) for seg in segments]
    return sum(music), music[-1]


def ends_repeat(token):  # :|  ::  :|:  :|]
    return token.startswith(":")


def starts_repeat(token):  # |:  ::  :|:  ||:
    return token.endswith(":")


def is_section(token):  # a part ends or starts here: :|  |:  ::  ||  |]  [|
    return ends_repeat(token) or starts_repeat(token) or is_double(token)


def is_closing(token):  # a part ends here: :|  ::  ||  |]  [|  (|: only starts one)
    return ends_repeat(token) or is_double(token)


def is_double(token):  # || |] [|: the section lines a repeat without |: also goes back to
    return any(s in token for s in ("||", "|]", "[|"))


ENDING = re.compile(r"\s*\[?(\d)")  # |1, :|2, | [1: the ending (its number) a bar line leads into
_LEADING_ENDING = re.compile(r"^\s*\[?\d")


def structure_counts(abc):
    """Parts, repeat signs and first/second endings written in a tune's body.

    A part is a stretch between section bar lines (||, |], |:, :|, ::) that holds at least one
    ordinary bar line and a note, so a pickup before |: is not a part and a repeat sign that
    leads into a second ending (:|2) does not end one.
    """
    body = tune_body(abc)
    masked = mask(body)
    counts = {"parts": 0, "repeat_starts": 0, "repeat_ends": 0,
              "first_endings": len(re.findall(r"[\[|]1", masked)),
              "second_endings": len(re.findall(r"[\[|]2", masked))}
    segment_start, plain_bars = 0, 0
    for start, end, token in bar_lines(body):
        starts, ends = starts_repeat(token), ends_repeat(token)
        counts["repeat_starts"] += starts
        counts["repeat_ends"] += ends
        if token == "|":
            plain_bars += 1
            continue
        ending = ENDING.match(masked, end)
        if ends and not starts and ending and ending.group(1) == "2":
            continue  # the repeat of a first ending: the part goes on into its second ending
        if plain_bars and _NOTE_LETTER.search(masked, segment_start, start):
            counts["parts"] += 1
        segment_start, plain_bars = end, 0
    if plain_bars and _NOTE_LETTER.search(masked, segment_start):
        counts["parts"] += 1
    return counts


_BAR_NOTE = re.compile(r"\(\d|[_=^]*[A-Ga-gz][,']*\d*/*\d*|[<>]")


def bar_note_sequences(abc):
    """The bars of a tune's body as note sequences: pitches, rests, lengths and tuplet marks only.

    Chord symbols, decorations, grace notes, slurs, ties, spaces and line breaks are dropped, so
    'A2 (Bc) d2' and '"D"A2Bc !trill!d2' are the same bar. Bars of fewer than 3 notes (pickups,
    long final notes) are left out: they occur in every tune and say nothing about copying.
    The body is cut at every '|' (not at '[' or ']': chords [CEG] sit inside bars).
    """
    bars = []
    for chunk in mask(tune_body(abc)).split("|"):
        notes = _BAR_NOTE.findall(chunk)
        if sum(1 for t in notes if t[-1:] not in "<>" and not t.startswith("(")) >= 3:
            bars.append("".join(notes))
    return bars


def repeated_bar_share(tunes):
    """The share of bars (bar_note_sequences) equal to another bar of the same tune, over all bars
    of `tunes`: the text's own reading of phrase repetition (charrnn.evaluation reads notes and
    durations with music21; this needs no parser, for calibrating the sampler)."""
    repeated = total = 0
    for abc in tunes:
        counts = Counter(bar_note_sequences(abc))
        repeated += sum(c for c in counts.values() if c > 1)
        total += sum(counts.values())
    return repeated / total if total else 0.0
