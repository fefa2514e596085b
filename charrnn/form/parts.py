"""The planned-parts rule: each tune held to its plan of parts x bars (charrnn.abc.plan), one of
the form sampler's rules (charrnn.form.rules has the interface and the others).

    rule = PlannedParts(read_plans(form.plans), parse_structure("AABB:8"), vocab, n, lanes)
"""
import numpy as np

from ..abc.plan import is_pickup, plan_so_far
from .bars import PART_END
from .plans import draw_plan, tune_kind
from .rules import Rule


class PlannedParts(Rule):
    """Each tune is held to a plan of parts (charrnn.abc.plan): `given` (parse_structure's, bars
    may be None) or drawn from `table` (charrnn.form.plans) for the tune's meter and type where its
    body starts. Bar lines that would close a part (:| || |] ::) or open an ending are masked out
    until the part's planned last bar; there the bar line the network writes becomes the part's
    closing one (:| when it repeats, else || or, for the last part, |] and the tune's end), which
    the Cadences rule then judges as any other; only a part that repeats may open with |:. A
    part's last bar is the previous part's last with probability `echo` (form.json's part_echo).
    Bars are counted by the bar lines written after music, so a bar that starts with a decoration
    or after a line break counts too; a part's first bar shorter than the meter's is a pickup,
    not counted, as musicians count."""

    def __init__(self, table, given, vocab, n, lanes, echo=0.0):
        self.table, self.given, self.vocab, self.lanes, self.echo = table, given, vocab, lanes, echo
        ids, chars = vocab.char_to_idx, vocab.chars
        self.is_music = np.array([c in "ABCDEFGabcdefgzx" for c in chars])
        self.is_bar = np.array([c in "|:" for c in chars])  # what a bar line starts with
        # The closing bar lines, as the vocabulary can write them (a tiny corpus may lack `:` or `]`)
        double = "||"
        self.closings = {"repeat": ":|" if ":" in ids else double, "double": double,
                         "last": "|]" if "]" in ids else double}
        self.field_letter = np.array([c in "HIJKLMNOPQRSTUVWY" for c in chars])  # [K: or P: in the body
        self.pipe, self.colon, self.bracket, self.close_bracket, self.newline = (ids.get(c, -1) for c in "|:[]\n")
        digits = [ids[c] for c in "0123456789" if c in ids]
        # Masked after a `|` (|| |] endings), after a `[` ([| [1) and after a newline (the tune's end)
        self.after_pipe = np.array([ids[c] for c in "|]" if c in ids] + digits, dtype=np.int64)
        self.after_bracket = np.array([ids[c] for c in "|" if c in ids] + digits, dtype=np.int64)
        self.after_newline = np.array([ids[c] for c in "\nX" if c in ids], dtype=np.int64)
        closed, bars, in_music, has_note, bar_from = plan_so_far(lanes.prime)
        self.plan = [None] * n
        self.part = np.full(n, closed)  # parts closed
        self.bars = np.full(n, bars)  # bars of the current part written (-1: not its first, maybe a pickup)
        self.in_music = np.full(n, in_music)  # music since the last bar line
        self.has_note = np.full(n, has_note)  # music since the last part closed
        # Where the current bar's text began (a column of the lanes' output; negative: in the prime;
        # None: where the body starts)
        self.bar_from = np.array([None if bar_from is None else bar_from - len(lanes.prime)] * n, dtype=object)
        self.target = np.full(n, -1)  # bars planned for the current part (-1: not held to a plan)
        self.repeats = np.zeros(n, dtype=bool)  # the current part repeats: it may open with |:

    def _last_bar(self, active):
        """(a,) the lanes writing the last planned bar of their part (music written in it)."""
        return self.in_music[active] & (self.bars[active] == self.target[active] - 1)

    def mix(self, active, probs, state):
        held = self.lanes.cursor.in_body[active] & (self.target[active] > 0)
        if not held.any():
            return
        prev = self.lanes.last_ids(active)
        before = probs.copy()
        probs[np.ix_(np.flatnonzero(held & (prev == self.pipe)), self.after_pipe)] = 0
        if self.colon >= 0:  # :| and :: close parts; |: may open one that repeats; [K:G] is a field
            opens = (prev == self.pipe) & ~self.has_note[active] & self.repeats[active]
            free = opens | self.field_letter[prev]
            probs[np.flatnonzero(held & ~free & ~self._last_bar(active)), self.colon] = 0
        probs[np.ix_(np.flatnonzero(held & (prev == self.bracket)), self.after_bracket)] = 0
        probs[np.ix_(np.flatnonzero(held & (prev == self.newline)), self.after_newline)] = 0
        total = probs.sum(axis=1, keepdims=True)
        probs /= np.where(total > 0, total, 1)
        empty = np.flatnonzero(total[:, 0] == 0)
        probs[empty] = before[empty]  # nothing left: the network's own choice

    def bar_started(self, lane, j, start, ids):
        """A part's last bar starts: with probability `echo` it is the previous part's last bar
        (human parts often end alike), unless a copy is already being written."""
        if not self.echo or self.lanes.writing_copy(lane) or self.part[lane] < 1:
            return
        if self.bars[lane] != self.target[lane] - 1 or self.lanes.rng.random() >= self.echo:
            return
        ending = next((core for column, core in start[2] if column == PART_END), None)
        if ending:
            copy = self.vocab.encode(ending, where="plan")
            ids[j] = copy[0]
            self.lanes.write(lane, copy[1:])

    def chooses(self, active, ids, copying):
        closing = self.lanes.cursor.in_body[active] & self._last_bar(active) & ~copying & self.is_bar[ids]
        for j in np.flatnonzero(closing):
            lane = active[j]
            plan, part = self.plan[lane], self.part[lane]
            last = part == len(plan) - 1  # the tune ends with its last part
            text = self.closings["repeat" if plan[part][1] else "last" if last else "double"] + ("\n\n" if last else "")
            forced = self.vocab.encode(text, where="plan")
            ids[j] = forced[0]
            self.lanes.write(lane, forced[1:])

    def wrote(self, active, ids, body, state):
        prev = self.lanes.last_ids(active)[body]
        lanes, ids = active[body], ids[body]
        for lane in lanes[[self.plan[lane] is None for lane in lanes]]:  # its body starts: its plan
            self.plan[lane] = draw_plan(self.table, *tune_kind(self.lanes.text(lane)), self.lanes.rng, self.given) or ()
            self._aim(lane)
            if self.bar_from[lane] is None:
                self.bar_from[lane] = self.lanes.length[lane]
        ends = self.is_bar[ids] & self.in_music[lanes]  # a bar line after music: a bar is written
        first = ends & (self.bars[lanes] < 0)
        self.bars[lanes[ends & ~first]] += 1
        for lane in lanes[first]:  # the part's first bar: a pickup is not a bar
            text = self.lanes.text(lane)
            self.bars[lane] = not is_pickup(text, text[len(self.lanes.prime) + self.bar_from[lane]:])
        self.in_music[lanes] = (self.in_music[lanes] | self.is_music[ids]) & ~self.is_bar[ids]
        self.has_note[lanes] |= self.is_music[ids]
        self.bar_from[lanes[self.is_bar[ids]]] = self.lanes.length[lanes[self.is_bar[ids]]] + 1
        closed = (((ids == self.pipe) & self.is_bar[prev]) | ((ids == self.colon) & (prev == self.colon))
                  | ((ids == self.close_bracket) & (prev == self.pipe)))  # :| || :: |] close a part
        for lane in lanes[closed]:
            self.part[lane] += 1
            self.bars[lane], self.has_note[lane] = -1, False
            self._aim(lane)

    def _aim(self, lane):
        """The bars the lane's current part is planned to have (-1: its plan is written or none)."""
        plan, part = self.plan[lane], self.part[lane]
        self.target[lane], self.repeats[lane] = plan[part] if part < len(plan) else (-1, False)

    FIELDS = ("part", "bars", "in_music", "has_note", "bar_from", "target", "repeats")

    def snapshot(self, lane):
        return self.plan[lane], [getattr(self, f)[lane] for f in self.FIELDS]

    def restore(self, lane, saved, mine):
        self.plan[lane], values = saved
        for f, v in zip(self.FIELDS, values):
            getattr(self, f)[lane] = v
