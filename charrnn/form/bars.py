"""The bars of a tune as the form mixture sees them: where bars start, what a copy of one writes,
and which earlier bars each bar is offered (the mixture's columns).

    bar_starts("X:1\\nK:G\\nd|GABc dBAG|GABc d2B2:|")
    ->  [(10, 0, []), (20, 1, [(0, 'GABc dBAG')])]     # (index, place in part, copies on offer)

A bar's *core* is its text up to the next bar line, spaces trimmed: what a copy of the bar writes.
`TuneBars` follows one tune as it is read or written, one bar start at a time, so the sampler and
the scorer see the same bars. Bar lines themselves are read by charrnn.abc.bars.
"""
import re

from ..abc.bars import first_bar_line, is_bar_start, is_section
from ..abc.header import body_start

_PLACED = re.compile(r"\[(?:\d|[A-Za-z]:)")  # an ending [1 or an inline field [V:2] inside a bar
DISTANCES = 16  # a bar may copy one up to 16 bars back (two 8-bar parts)
POSITIONS = 12  # a bar's place in its part: 0..11 (later bars share the last)
PART_END = DISTANCES  # offer column of the previous part's last bar; d bars back is column d - 1
COLUMNS = DISTANCES + 1
# A phrase comes back bar after bar: where the bar just before also repeated the bar d before it,
# the copy of the bar d back is offered in column d - 1 + RUN, with weights of its own.
RUN = COLUMNS
OFFER_COLUMNS = 2 * COLUMNS


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
