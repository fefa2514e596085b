"""Phrase structure read from the text, left to right: where bars start, what they hold, where parts end.

    bar_starts("X:1\\nK:G\\nd|GABc dBAG|GABc d2B2:|")
    ->  [(10, 0, []), (20, 1, [(0, 'GABc dBAG')])]     # (index, place in part, copies on offer)

A bar starts at the first character that can begin a note after a bar line (so `|1`, `|]`, a
line continuation or a field do not start one). Its *core* is its text up to the next bar line,
spaces trimmed: what a copy of the bar writes. `TuneBars` follows one tune as it is read or
written, one bar start at a time, so the sampler and the scorer see the same bars
(charrnn.nn.form).
"""
import re

from .bars import first_bar_line, is_section, mask
from .header import normalise_key

NOTE_START = frozenset("ABCDEFGabcdefgzx^=_({\"~.")
_AFTER_BAR = re.compile(r"(?:\||::)[:\]]*[ \t\n]*$")  # a bar line, then only spaces, is just behind
_KEY_LINE = re.compile(r"^K:(.*)$", re.M)
_NOTE_LETTER = re.compile(r"[A-Ga-g]")
_ENDING = re.compile(r"[|\]]\s*\[?1")  # |1 or [1: a first ending, which leads back, not home
_PLACED = re.compile(r"\[(?:\d|[A-Za-z]:)")  # an ending [1 or an inline field [V:2] inside a bar
_PART_CLOSE = re.compile(r"(?::\||\|\]|\|\||::)$")
MIN_BARS = 8  # a tune needs this many bars to count as one (charrnn.tune's validity test)
DISTANCES = 16  # a bar may copy one up to 16 bars back (two 8-bar parts)
POSITIONS = 12  # a bar's place in its part: 0..11 (later bars share the last)
PART_END = DISTANCES  # offer column of the previous part's last bar; d bars back is column d - 1
COLUMNS = DISTANCES + 1
# A phrase comes back bar after bar: where the bar just before also repeated the bar d before it,
# the copy of the bar d back is offered in column d - 1 + RUN, with weights of its own.
RUN = COLUMNS
OFFER_COLUMNS = 2 * COLUMNS


def body_start(abc):
    """Index of the first character after the K: line (None before the K: line is complete)."""
    m = re.search(r"^K:.*\n", abc, flags=re.M)
    return m.end() if m else None


def follows_bar_line(text, start=0, end=None):
    """Is a bar line, then only spaces, just behind text[start:end]'s end?"""
    end = len(text) if end is None else end
    return _AFTER_BAR.search(text, max(start, end - 8), end) is not None


def is_bar_start(text, i, body):
    """Does a bar start at text[i]? `body` is body_start(text)."""
    return body is not None and body <= i < len(text) and text[i] in NOTE_START and follows_bar_line(text, body, i)


class TuneBars:
    """The bars of one tune so far: their cores, the last bar of the previous part, and the
    place of the current bar in its part."""

    def __init__(self):
        self.starts, self.cores = [], []
        self.part_end, self.pos = None, 0

    def bar_start(self, text, i):
        """A bar starts at text[i] (text holds at least everything before it).

        Returns (pos, offers): the bar's place in its part, and [(column, core)] of the earlier
        bars it could copy: d bars back (column d - 1, or d - 1 + RUN when the bar just before
        repeated the bar d before it) and the previous part's last bar (PART_END).
        """
        if self.starts:
            segment = text[self.starts[-1]:i]
            bar = first_bar_line(segment)
            core = segment[:bar[0]].rstrip() if bar else ""
            # Not copied: a bar broken over lines, or one holding an ending ([1) or an inline field
            # ([V:2], [K:D]), which belong where they stand: copies of them broke the tune's structure
            # and let it run on.
            core = core if core and "\n" not in core and not _PLACED.search(core) else None
            self.cores.append(core)
            if bar and is_section(bar[2]):
                self.part_end, self.pos = core or self.part_end, 0
            else:
                self.pos += 1
        self.starts.append(i)
        cores, k = self.cores, len(self.cores)

        def column(d):  # d - 1, or d - 1 + RUN when the bar just before repeated the bar d before it
            return d - 1 + (RUN if k > d and cores[k - 1] is not None and cores[k - 1] == cores[k - 1 - d] else 0)

        offers = [(column(d), cores[k - d]) for d in range(1, min(k, DISTANCES) + 1) if cores[k - d]]
        if self.part_end:
            offers.append((PART_END, self.part_end))
        return min(self.pos, POSITIONS - 1), offers

    def snapshot(self):
        return list(self.starts), list(self.cores), self.part_end, self.pos

    def restore(self, saved):
        starts, cores, self.part_end, self.pos = saved
        self.starts, self.cores = list(starts), list(cores)


def bar_starts(abc):
    """[(i, pos, offers)] for every bar start of a tune, as TuneBars.bar_start gives them."""
    body = body_start(abc)
    bars = TuneBars()
    return [(i, *bars.bar_start(abc, i)) for i in range(len(abc)) if is_bar_start(abc, i, body)]


def core_end(abc, i):
    """Where the bar starting at i ends: the start of its closing bar line (or the text's end)."""
    bar = first_bar_line(abc, i)
    return bar[0] if bar else len(abc)


def tonic_letter(abc):
    """The letter of the tonic that the tune's K: line names ('G' for K:Gmix), or None."""
    m = _KEY_LINE.search(abc)
    key = normalise_key(m.group(1)) if m else None
    return key[0] if key else None


def last_note_letter(text):
    """The letter (upper case) of the last note in `text`, chord symbols, decorations, grace notes
    and inline fields aside; None when it holds no note."""
    letters = _NOTE_LETTER.findall(mask(text))
    return letters[-1].upper() if letters else None


def closes_part(text):
    """Does text end with a bar line that closes a part or the tune (:| |] || ::)?"""
    return _PART_CLOSE.search(text) is not None


def leaves_home(bar, tonic):
    """Does a closing bar (its text since the bar started) end away from the tonic letter?
    A first ending leads back into the part, so it is never held to the tonic."""
    last = last_note_letter(bar)
    return tonic is not None and last is not None and last != tonic and not _ENDING.search(bar)
