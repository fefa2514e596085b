"""The form sampler's rules, one object each, behind one interface (`SamplingRule`).

    BarCopies      a bar starts as a copy of an earlier bar, with the mixture's weights (form.json)
    Cadences       a part or tune that closes away from the tonic writes its closing bar again
    NotationRetry  a bar that makes a notation error (charrnn.abc.notation) is written again
    CharacterCache the network's probabilities mixed with what followed similar states (experimental)
    HeaderFields   the caller's header fields (R: M: L: K:) written where the network writes its header
    PlannedParts   each tune's plan (parts x bars): a part closes at its planned bar and not before
                   (charrnn.form.parts)

charrnn.form.sampler.FormSampler runs them over the lanes, in the order of its list: at a bar
start the first rule that refuses the bar just written sends the lane back to that bar's start;
every rule's state is saved there (`snapshot`) and restored when any rule sends the lane back,
`restore` being told whether it was this rule. A new rule is a new class here and an entry in
FormSampler's list.
"""
from typing import Protocol

import numpy as np

from ..abc.bars import closes_part, leaves_home
from ..abc.header import FIELD_ORDER
from ..abc.notation import notation_errors
from ..tune import MIN_BARS
from .cache import LaneCache
from .config import LOOP_COUNT, offer_weights

RETRY_PENDING, RETRY_WRITING = 1, 2  # Cadences.retry: a closing bar is being written again


class SamplingRule(Protocol):
    passes: int  # how often the rule may make a lane write a bar again (bounds the steps)

    def mix(self, active, probs, state):
        """Change the active lanes' probabilities (a, V) in place before the draw."""

    def refuses_bar(self, lane, lanes, upto):
        """At a bar start (`upto`: the text with the new bar's first note): send the lane back to
        write the bar just finished again?"""

    def bar_started(self, lane, j, start, ids):
        """A bar start was kept; `start` is (new_bar, place in part, offers). May write a copy."""

    def chooses(self, active, ids, copying):
        """Replace drawn ids (a,) of lanes not writing a copy (`copying` (a,) mask) before anything
        reads them."""

    def wrote(self, active, ids, body, state):
        """This step's characters are chosen (`body`: lanes whose character is body text)."""

    def refuses_end(self, lane, lanes):
        """The lane's tune ends here: send it back to its last bar instead?"""

    def rewinds(self, lane, done, lanes):
        """At a closing bar line or the tune's end (nothing refused): send the lane back?"""

    def rewound(self, lane):
        """This rule's refusal sends the lane back."""

    def snapshot(self, lane):
        """The rule's state of a lane, saved where its bar starts."""

    def restore(self, lane, saved, mine):
        """The lane goes back to where `saved` was taken; `mine`: this rule sent it."""


class Rule:
    """SamplingRule's hooks, doing nothing: a rule overrides the ones it needs."""

    passes = 0

    def mix(self, active, probs, state):
        pass

    def refuses_bar(self, lane, lanes, upto):
        return False

    def bar_started(self, lane, j, start, ids):
        pass

    def chooses(self, active, ids, copying):
        pass

    def wrote(self, active, ids, body, state):
        pass

    def refuses_end(self, lane, lanes):
        return False

    def rewinds(self, lane, done, lanes):
        return False

    def rewound(self, lane):
        pass

    def snapshot(self, lane):
        return None

    def restore(self, lane, saved, mine):
        pass


class Cadences(Rule):
    """A bar that closes a part or the tune (:| |] ||) off the tonic of K: is written again, up to
    `tries` times; the bar written again must close its part too (one that ends on a plain bar line
    is a failed try), and when the tries run out the first closing bar is written back. So the
    retries choose how a part ends, not where."""

    def __init__(self, tries, n, lanes):
        self.passes, self.lanes = tries, lanes
        self.tried = np.zeros(n, dtype=np.int64)  # retries spent on the current closing bar
        self.judged = np.zeros(n, dtype=bool)  # the current bar closed a part and was kept
        # RETRY_PENDING until the bar written again has its first note, then RETRY_WRITING.
        self.retry = np.zeros(n, dtype=np.int8)
        self.first = [None] * n  # ids of the first closing bar, kept if no try closes

    def refuses_bar(self, lane, lanes, upto):
        return self.retry[lane] == RETRY_WRITING  # the bar written again did not close its part

    def bar_started(self, lane, j, start, ids):
        self.retry[lane] = RETRY_WRITING if self.retry[lane] else 0
        self.judged[lane] = False

    def rewound(self, lane):
        self.tried[lane] += 1

    def rewinds(self, lane, done, lanes):
        if not self.passes or not lanes.has_bar(lane) or lanes.writing_copy(lane) or self.judged[lane]:
            return False  # (a tune that ends on the bar that closed its part: judged once, there)
        if not (done or closes_part(lanes.text(lane))):
            return False
        if leaves_home(lanes.bar_text(lane), lanes.cursor.tonic[lane]) and self.tried[lane] < self.passes:
            if not self.tried[lane]:
                self.first[lane] = lanes.bar_ids(lane)
            self.tried[lane] += 1
            return True
        self.tried[lane], self.judged[lane], self.retry[lane], self.first[lane] = 0, True, 0, None
        return False

    def snapshot(self, lane):
        return self.retry[lane], self.tried[lane], self.first[lane]

    def restore(self, lane, saved, mine):
        self.judged[lane] = False
        if not mine:  # another rule's retry: the bar again, as a cadence try if it was one
            retry, self.tried[lane], self.first[lane] = saved
            self.retry[lane] = RETRY_PENDING if retry else 0
        elif self.tried[lane] > self.passes:  # out of tries: the first closing bar, written as a copy
            self.lanes.write(lane, self.first[lane])
            self.retry[lane] = 0
        else:
            self.retry[lane] = RETRY_PENDING


class NotationRetry(Rule):
    """A bar that makes a notation error is written again, up to `tries` times. The check runs
    where the next bar starts, on the text up to its first note (so a bar's bar line, its ending
    number and where its last tie leads are part of it), and where the tune ends (then what is left
    open counts too, and so does a tune of fewer than MIN_BARS bars: it is written on)."""

    def __init__(self, tries, n):
        self.passes = tries
        self.errors = np.zeros(n, dtype=np.int64)  # errors in the text where the current bar started
        self.started = np.zeros(n, dtype=bool)  # the lane has started a bar
        self.fixes = np.zeros(n, dtype=np.int64)  # rewrites of the current bar
        self.pending = np.zeros(n, dtype=np.int64)  # errors counted at this step's bar start

    def _breaks(self, lane, errors):
        """More errors than where the bar started (a bar line can join the one before: `|` +
        `|` = `||`), with rewrites left?"""
        return self.started[lane] and self.fixes[lane] < self.passes and errors > self.errors[lane]

    def refuses_bar(self, lane, lanes, upto):
        self.pending[lane] = len(notation_errors(upto)) if self.passes else 0
        return self._breaks(lane, self.pending[lane])

    def bar_started(self, lane, j, start, ids):
        if start[0]:
            self.fixes[lane] = 0  # a new bar (not the same one written again)
        self.errors[lane], self.started[lane] = self.pending[lane], True

    def refuses_end(self, lane, lanes):
        if lanes.writing_copy(lane) or not self.passes:
            return False
        short = len(lanes.cursor.bars[lane].starts) < MIN_BARS
        return self._breaks(lane, len(notation_errors(lanes.text(lane), complete=True)) + short)

    def rewound(self, lane):
        self.fixes[lane] += 1


def repeat_run(cores):
    """How many of the last bars in a row each repeat an earlier bar of the tune."""
    run = 0
    for k in range(len(cores) - 1, -1, -1):
        if cores[k] is None or cores[k] not in cores[:k]:
            break
        run += 1
    return run


class BarCopies(Rule):
    """At each bar start, a copy of an earlier bar of the tune with the mixture's weight
    (charrnn.form.config), else the network's own bar. Copies do not make loops: a bar already
    written LOOP_COUNT times keeps `loop_weight` of its copy weight, and after `max_run` bars in a
    row that repeat earlier ones no copy is offered (sampling rules: the scored mixture has neither)."""

    def __init__(self, weights, rng, vocab, lanes, loop_weight, max_run):
        self.w, self.rng, self.vocab, self.lanes = weights, rng, vocab, lanes
        self.loop_weight, self.max_run = loop_weight, max_run

    def _weights(self, lane, pos, offers):
        """The copy weights of `offers`, loops and long runs held back."""
        cores = self.lanes.cursor.bars[lane].cores
        if self.max_run and repeat_run(cores) >= self.max_run:
            return np.zeros(len(offers))
        weights = offer_weights(self.w, pos, [c for c, _ in offers])
        if self.loop_weight < 1:
            weights = weights * [self.loop_weight if cores.count(core) >= LOOP_COUNT else 1 for _, core in offers]
        return weights

    def bar_started(self, lane, j, start, ids):
        _, pos, offers = start
        weights = self._weights(lane, pos, offers)
        r = self.rng.random()
        if offers and r < weights.sum():
            core = offers[int(np.searchsorted(np.cumsum(weights), r, side="right"))][1]
            copy = self.vocab.encode(core)
            ids[j] = copy[0]
            self.lanes.write(lane, copy[1:])


class CharacterCache(Rule):
    """Experimental: the network's probabilities mixed with a character cache over the tune's body
    (charrnn.form.cache); made at the first step, when the state's width is known."""

    def __init__(self, theta, lam, n):
        self.theta, self.lam, self.n, self.cache = theta, lam, n, None

    def mix(self, active, probs, state):
        h = state[-1][0]  # (a, U): the top layer's output, which gave these probs
        if self.cache is None:
            self.cache = LaneCache(self.n, h.shape[1], self.theta, self.lam)
        self.cache.mix(active, probs, h)

    def wrote(self, active, ids, body, state):
        self.cache.add(active[body], state[-1][0][body], ids[body])

    def snapshot(self, lane):
        return self.cache.count[lane]

    def restore(self, lane, saved, mine):
        self.cache.count[lane] = saved


MAX_HEADER_LINES = 12  # a header still going after this many lines ends with the given fields


class HeaderFields(Rule):
    """The header fields a caller gave ({'R': 'jig', 'K': 'D'}), written where the network writes
    its header: a line it starts with a given field's letter gets the given value, and the fields
    not yet written go just before its K: line (the header's last). Each tune keeps its own title
    and whatever fields the caller left to the network (a jig in D still chooses its L:)."""

    def __init__(self, given, vocab, n, lanes):
        self.given, self.vocab, self.lanes = dict(given), vocab, lanes
        self.pending = [set(given) for _ in range(n)]  # fields each lane has still to write

    def chooses(self, active, ids, copying):
        cursor = self.lanes.cursor
        starts = cursor.line_start[active] & ~cursor.in_body[active] & ~copying
        for j in np.flatnonzero(starts):
            lane = active[j]
            pending, letter = self.pending[lane], self.vocab.chars[ids[j]]
            if not pending or letter == "X":
                continue
            if letter in pending and letter != "K":
                pending.discard(letter)
                self._write(lane, j, ids, f"{letter}:{self.given[letter]}\n")
            elif letter == "K" or not letter.isalpha() or self.lanes.text(lane).count("\n") > MAX_HEADER_LINES:
                # The header ends here: the missing fields first, then the K: line.
                lines = "".join(f"{f}:{self.given[f]}\n" for f in FIELD_ORDER if f in pending and f != "K")
                pending.clear()
                self._write(lane, j, ids, lines + (f"K:{self.given['K']}\n" if "K" in self.given else "K"))

    def _write(self, lane, j, ids, text):
        forced = self.vocab.encode(text, where="header")
        ids[j] = forced[0]
        self.lanes.write(lane, forced[1:])

