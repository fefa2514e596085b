"""The form sampler: the lane hook of charrnn.nn.sampling's loop that runs the rules of
charrnn.form.rules over a LaneCursor.

    hook = FormSampler(form, vocab, prime="X:", n=200, rng=rng)   # form: a FormConfig (form.json)
    sample_tunes(net, vocab, "X:", 200, rng, hook=...)            # charrnn.generator builds it

Each step the loop draws a character per lane; the sampler may write the next character of a
copied bar instead (`choose`), and may send a lane back to where its current bar started
(`rewinds`, then `restore`), with its network state, text and every rule's state as they were
there. Bookkeeping is vectorised per step; Python runs only for lanes that start or close a bar
(about one step in ten) or are writing a copy.
"""
import numpy as np

from .cursor import LaneCursor
from .parts import PlannedParts
from .plans import read_plans
from .rules import BarCopies, Cadences, CharacterCache, HeaderFields, NotationRetry

NOBODY = -1  # refused_by: no rule refused the lane's bar
# A lane sent back more often than this writes on without retries. Of the shipped model's lanes 99%
# are sent back at most 17 times; the few past 32 had lost their way (bars of blanks rewritten
# hundreds of times) and held a whole batch of lanes for thousands of steps.
MAX_REWINDS = 32


class FormSampler:
    """`form` (a FormConfig, or None for no copies or retries), `header` ({field letter: value}
    to write into each tune's header, or None) and `structure` (charrnn.abc.plan's parse_structure:
    the parts every tune is held to, or None: each draws its own from form.json's plans, if any)
    choose the rules."""

    def __init__(self, form, vocab, prime, n, rng, header=None, structure=None):
        self.vocab, self.prime, self.rng = vocab, prime, rng
        self.prime_id = vocab.char_to_idx.get(prime[-1:] or "\n", -1)
        self.cursor = LaneCursor(vocab, prime, n)
        self.closing = np.array([c in "|]:" for c in vocab.chars])
        self.queue = [[] for _ in range(n)]  # ids still to write (a copied bar)
        self.copying = np.zeros(n, dtype=bool)  # lanes with ids left in their queue
        self.saved = [None] * n  # each lane as it was where its current bar started
        self.refused_by = np.full(n, NOBODY)  # the rule that refused the lane's bar this step
        self.rewound = np.zeros(n, dtype=np.int64)  # times the lane was sent back (MAX_REWINDS)
        self.out = self.length = None  # the loop's arrays, seen at each step
        # In the order they are asked: a failed cadence try is refused before its notation is
        # checked, and at a tune's end the notation check comes before the cadence's judgement.
        self.rules = [HeaderFields(header, vocab, n, self)] if header else []
        if form is not None:
            self.rules += [Cadences(form.cadence_tries, n, self), NotationRetry(form.notation_tries, n),
                           BarCopies(form.sampling_array(), rng, vocab, self, form.loop_weight,
                                     form.max_run)]
        if form is not None and form.cache() is not None:
            self.rules.append(CharacterCache(*form.cache(), n))
        table = read_plans(form.plans) if form is not None else ()
        if (structure is not None or table) and "|" in vocab.char_to_idx:  # last: it masks what the rules before it mixed
            self.rules.append(PlannedParts(table, structure, vocab, n, self, form.part_echo if form else 0.0))

    # What the rules read and write of a lane.
    def text(self, lane):
        return self.cursor.text(lane, self.out, self.length)

    def bar_text(self, lane):
        """The lane's text since its current bar started."""
        return self.text(lane)[len(self.prime) + self.saved[lane]["length"]:]

    def bar_ids(self, lane):
        return self.out[lane, self.saved[lane]["length"]:self.length[lane]].tolist()

    def last_ids(self, active):
        """(a,) the id each active lane wrote last (the prime's last before it wrote any)."""
        if self.out is None:
            return np.full(len(active), self.prime_id)
        at = self.length[active] - 1
        return np.where(at >= 0, self.out[active, np.maximum(at, 0)], self.prime_id)

    def has_bar(self, lane):
        return self.saved[lane] is not None

    def writing_copy(self, lane):
        return bool(self.queue[lane])

    def write(self, lane, ids):
        """The lane writes `ids` next, whatever the network would draw."""
        self.queue[lane] = list(ids)
        self.copying[lane] = bool(self.queue[lane])

    # The loop's hook (charrnn.nn.sampling.LaneHook).
    def max_steps(self, cap):
        return cap * (2 + sum(rule.passes for rule in self.rules))  # retries rewrite bars; this bounds them

    def mix(self, active, probs, state):
        """The active lanes' probs (a, V) as the rules make them; `state`'s rows are the lanes'."""
        for rule in self.rules:
            rule.mix(active, probs, state)

    def choose(self, active, ids, out, length, logits, state, prev1, prev2):
        """The ids the lanes write this step: sampled, or the next character of a copy."""
        self.out, self.length = out, length
        cursor = self.cursor
        body = cursor.in_body[active]  # before this step's character: it is body text
        copying = self.copying[active]
        for j in np.flatnonzero(copying):
            lane = active[j]
            ids[j] = self.queue[lane].pop(0)
            self.copying[lane] = bool(self.queue[lane])
        for rule in self.rules:
            rule.chooses(active, ids, copying)
        copying = self.copying[active] | copying  # a rule may have begun writing a lane's text
        for j in np.flatnonzero(cursor.bar_starts(active, ids) & ~copying):
            lane = active[j]
            text = self.text(lane)
            upto = text + self.vocab.chars[ids[j]]  # the bar just written, its bar line, ending and next note
            refusing = NOBODY if self.rewound[lane] >= MAX_REWINDS else \
                next((r for r, rule in enumerate(self.rules) if rule.refuses_bar(lane, self, upto)), NOBODY)
            if refusing != NOBODY:
                self.refused_by[lane] = refusing
                continue
            new_bar = self.saved[lane] is None or self.saved[lane]["length"] != length[lane]
            at = cursor.snapshot(lane)
            start = (new_bar, *cursor.start_bar(lane, upto, len(text)))
            for rule in self.rules:
                rule.bar_started(lane, j, start, ids)
            self.saved[lane] = dict(length=length[lane], prev=(prev1[lane], prev2[lane]), logits=logits[j].copy(),
                                    state=[[s[j].copy() for s in layer] for layer in state], cursor=at,
                                    rules=[rule.snapshot(lane) for rule in self.rules])
        cursor.advance(active, ids, prev1, out, length)
        for rule in self.rules:
            rule.wrote(active, ids, body, state)
        return ids

    def rewinds(self, active, ids, out, length, done):
        """A mask over active: lanes that go back to write their current bar again."""
        self.out, self.length = out, length
        back = np.zeros(len(active), dtype=bool)
        refused = self.refused_by[active] != NOBODY
        asked = self.rewound[active] < MAX_REWINDS
        for j in np.flatnonzero((done | (self.closing[ids] & self.cursor.in_body[active]) | refused) & asked):
            lane = active[j]
            cause = self.refused_by[lane]
            if cause == NOBODY and done[j]:
                cause = next((r for r, rule in enumerate(self.rules) if rule.refuses_end(lane, self)), NOBODY)
            if cause != NOBODY:
                self.refused_by[lane] = cause
                self.rules[cause].rewound(lane)
                back[j] = True
                continue
            cause = next((r for r, rule in enumerate(self.rules) if rule.rewinds(lane, done[j], self)), NOBODY)
            self.refused_by[lane], back[j] = cause, cause != NOBODY
        return back

    def restore(self, active, back, logits, state, length, prev1, prev2):
        """Put the lanes in `back` (a mask over active) as they were where their bar started."""
        for j in np.flatnonzero(back):
            lane = active[j]
            self.rewound[lane] += 1
            saved = self.saved[lane]
            length[lane] = saved["length"]
            prev1[lane], prev2[lane] = saved["prev"]
            logits[j] = saved["logits"]
            for layer, values in zip(state, saved["state"]):
                for s, v in zip(layer, values):
                    s[j] = v
            self.cursor.restore(lane, saved["cursor"], length[lane])
            self.write(lane, [])
            cause, self.refused_by[lane] = self.refused_by[lane], NOBODY
            for r, (rule, rule_saved) in enumerate(zip(self.rules, saved["rules"])):
                rule.restore(lane, rule_saved, r == cause)


def lane_hook(form, vocab, header=None, structure=None):
    """What sample_tunes takes as `hook` to write with `form` (a FormConfig; None: the network
    alone), `header` and `structure` (FormSampler's); None when there is nothing to do."""
    if form is None and not header and structure is None:
        return None
    return lambda prime, n, rng: FormSampler(form, vocab, prime, n, rng, header=header, structure=structure)
