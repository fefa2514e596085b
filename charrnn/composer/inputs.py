"""What the composer checks before any work, and the small readings of a tune its answers carry.

    check_music("I would like a happy tune please", "Opening bars")   # CharrnnError: not ABC music
    check_title("   ")                                               # CharrnnError: blank
    header_settings("X:1\\nT:A\\nR:jig\\nM:6/8\\nK:G\\n...")            # {"type": "jig", "meter": "6/8", "key": "G"}
    honest_title("The Boys -- JIG", "reel")                          # "The Boys" (a reel is no jig)
    cap_bars(abc, 64)                                                # the tune cut after its 64th bar

Music is checked as text (charrnn.abc): two or more letters outside notes, rests and the
one-letter decorations in one run of letters mean words, not bars; a tune to save or render must also read in music21 (the app).
"""
import re

from ..abc.bars import bar_spans, mask
from ..abc.header import TYPE_METERS, header_field, set_field, split_header
from ..errors import CharrnnError

# Letters a tune's body may hold outside quotes, !decorations! and fields: notes, rests, the
# spacer y and the one-letter decorations (~ is not a letter).
MUSIC_LETTERS = set("ABCDEFGabcdefgzZxXyHLMOPSTuv")
_WORD = re.compile(r"[^\W\d_]+")
# Letters outside MUSIC_LETTERS in one run of letters that make it a word: the model itself
# writes a stray one now and then ("kB2", "Idc": ABC's user-definable symbols), which abcm2ps and
# music21 pass over; "tune", "Dear diary" or "I would like" hold two or more.
WORDLIKE = 2
DANCES = set(TYPE_METERS) | {"march", "air", "set dance", "barndance", "fling", "schottische", "slow air"}
_DANCE_SUFFIX = re.compile(r"\s*(?:--|-|,|\()\s*(" + "|".join(sorted(DANCES, key=len, reverse=True))
                           + r")\)?\s*\.?$", re.I)


def check_music(text, field):
    """A CharrnnError naming `field` when the body of `text` holds words rather than notes."""
    body = split_header(text)[1] if re.search(r"^K:", text, re.M) else text
    for word in _WORD.finditer(mask(body)):
        if sum(c not in MUSIC_LETTERS for c in word.group()) >= WORDLIKE:
            line_start = body.rfind("\n", 0, word.start()) + 1  # the line it is on, as the musician wrote it
            words = " ".join(body[line_start:].split("\n", 1)[0].split())
            shown = words if len(words) <= 30 else words[:27] + "..."
            raise CharrnnError(f"{field}: '{shown}' is words, not ABC music. Write notes as letters A-G and "
                               "a-g (z is a rest) with | between the bars, e.g. |:DFA dfa|")


def check_title(title):
    """The title trimmed, or a CharrnnError saying what a title may hold (any letters, one line)."""
    title = (title or "").strip()
    if not title:
        raise CharrnnError("The title is blank: write a name.")
    if "%" in title:
        raise CharrnnError(f"Title '{title[:40]}': ABC reads % as the start of a comment, so a title "
                           "cannot hold it; write 'per cent' or leave it out.")
    if len(title) > 100 or "\n" in title or "\r" in title:
        raise CharrnnError("The title must be one line of at most 100 characters.")
    return title


def header_settings(abc):
    """{type, meter, key} as the tune's own header says them (R:, M:, K:); missing ones left out."""
    found = {"type": header_field(abc, "R"), "meter": header_field(abc, "M"), "key": header_field(abc, "K")}
    return {k: v.strip() for k, v in found.items() if v and v.strip()}


def honest_title(abc, given_title=None):
    """The tune with its T: line freed of a corpus-style dance suffix (" -- JIG") that names
    another dance than its R: line: the model learnt titles such as 'The Boys -- JIG'. A title the
    musician gave is kept as written."""
    title, dance = header_field(abc, "T"), (header_field(abc, "R") or "").strip().lower()
    if given_title or not title:
        return abc
    m = _DANCE_SUFFIX.search(title)
    if not m or m.group(1).lower() == dance:
        return abc
    return set_field(abc, "T", title[:m.start()].strip() or "Untitled")


def cap_bars(abc, most):
    """The tune cut after its `most`-th bar (closed with |]) when it has more; else as it is."""
    spans = bar_spans(abc)
    if len(spans) <= most:
        return abc
    return abc[:spans[most - 1][1]].rstrip() + "|]\n"
