"""Form: bars that come back, and parts that come home. A bar-level cache over the tune's own past.

The continuous cache of Grave et al. (ICLR 2017) mixes, per character, the model with a pointer
to what followed similar states; per character, a copy drifts off after a character or two. Here
the pointer is over whole bars: at each bar start (charrnn.abc.form) the next bar is the model's
own with weight 1 - sum(w), or a copy of an earlier bar c of the tune with weight w[pos, c]:
the bar d = 1..16 back, or the previous part's last bar. pos is the bar's place in its part.
A phrase that comes back does so bar after bar, so the bar d back has two columns: one for when
the bar just before repeated the bar d before it (a run under way), one for when it did not.
The copies one bar is offered weigh at most CAP together (`offer_weights`).

    p(bar) = (1 - sum_c w[pos, c]) p_model(bar) + sum_c w[pos, c] [bar starts with core_c] p_model(first note) p_model(rest | core_c)

A copy replaces the model's first note character, so its branch costs p_model(a note starts),
and the text after the copy is the model's again: the mixture is a distribution over text, and
its bits per character are exact. charrnn.nn.form_fit scores it and fits w by EM on held-out
tunes; `FormSampler` samples it.

p_model may itself be the network mixed with a character cache (charrnn.nn.cache: what followed
similar states earlier in the body), when form.json gives it a weight: then every p_model above,
in scoring and in sampling, is that mixture. The bar copies bring back whole bars; the character
cache makes a tune's own motifs likelier inside the bars the network writes.

Copies at sampling: a network that writes its own bars repeats them far less than it predicts
repeats in human text it is shown (0.9% of its bars against 43% of human ones), so weights fitted
on human text leave sampled tunes short of copies: 30% of bars repeat another, against 43%. The
sampler multiplies the weights of copies that start a run by `copy_scale` (a bar's offers capped
at CAP), which `charrnn form fit` chooses so that sampled tunes repeat bars as often as the human
tunes it fitted on; bits per character are those of the fitted weights (copy_scale 1). A run
under way goes on with its fitted weights: scaled too, runs fed on themselves, and 15% of tunes
repeated 6 bars or more in a row (human tunes: 0.7%; now 10%).

Cadences: a part or tune that closes (:| |] ||) on a bar whose last note is not the tonic of K:
goes back to that bar's start and writes it again, up to `cadence_tries` times. The bar written
again must close its part as well: one that ends on a plain bar line is a failed try, and when the
tries run out the first closing bar is written back as it was. So the retries choose how a part
ends, not where: without that rule, every try that did not close let the part run on (3 tries
made the shipped model's tunes 16% longer). That one is a sampling rule, not part of the scored
mixture (charrnn.form says so in its figures).

Notation: a bar that makes a notation error (charrnn.abc.notation: endings out of order, a `|:`
closed by `||`, stacked accidentals, a tie between different notes, ...) goes back to its start
and is written again, up to `notation_tries` times. The check runs where the next bar starts, on
the text up to its first note (so a bar's bar line, the ending number after it and where its
last tie leads are part of it), and where the tune ends (then what is left open counts too,
and so does ending before MIN_BARS bars: a tune that short is written on from its last bar).
15% of the shipped model's tunes made such an error; they were 74% of its tunes that music21
could not play and 34% of those abc2midi reported an error in. A sampling rule too: the scored
mixture does not have it.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..abc.form import (COLUMNS, MIN_BARS, NOTE_START, OFFER_COLUMNS, POSITIONS, TuneBars, body_start,
                        closes_part, follows_bar_line, is_bar_start, leaves_home, tonic_letter)
from ..abc.notation import notation_errors
from ..errors import CharrnnError
from ..files import write_json_atomic
from .cache import LaneCache

FORM_FILE = "form.json"
CAP = 0.8  # the most weight the copies offered to one bar may have together: the network keeps a share
DEFAULT_CADENCE_TRIES = 4  # a closing bar off the tonic is written again at most 4 times
DEFAULT_NOTATION_TRIES = 8  # a bar that makes a notation error is written again at most 8 times
RETRY_PENDING, RETRY_WRITING = 1, 2  # FormSampler.retry: a closing bar is being written again


@dataclass(frozen=True)
class FormConfig:
    """What the sampler does for form, saved as form.json beside the weights."""

    weights: tuple = field(default_factory=tuple)  # (POSITIONS, OFFER_COLUMNS) copy weights, as nested tuples
    cadence_tries: int = DEFAULT_CADENCE_TRIES
    notation_tries: int = DEFAULT_NOTATION_TRIES
    fitted_on: str = ""  # which tunes the weights were fitted on (for the model card)
    copy_scale: float = 1.0  # the sampler's weights: the fitted ones times this (a bar's offers capped at CAP)
    cache_theta: float = 0.0  # the character cache (charrnn.nn.cache) under the bar mixture:
    cache_lambda: float = 0.0  # its sharpness and weight; weight 0: none

    def array(self):
        """The fitted weights, (POSITIONS, OFFER_COLUMNS): the mixture that scores text. Weights
        of COLUMNS columns (fitted before phrase runs had columns of their own) serve both."""
        w = np.asarray(self.weights, dtype=np.float64)
        if w.shape == (POSITIONS, COLUMNS):
            w = np.hstack([w, w])
        if w.shape != (POSITIONS, OFFER_COLUMNS) or (w < 0).any() or (w >= 1).any():
            raise CharrnnError(f"form weights must be {POSITIONS} x {OFFER_COLUMNS}, each in [0, 1)")
        if self.cadence_tries < 0 or self.notation_tries < 0:
            raise CharrnnError(f"form cadence_tries and notation_tries must be 0 or more, not "
                               f"{self.cadence_tries} and {self.notation_tries}")
        if not self.copy_scale > 0:
            raise CharrnnError(f"form copy_scale must be above 0, not {self.copy_scale}")
        if not (0 <= self.cache_lambda < 1 and self.cache_theta >= 0):
            raise CharrnnError(f"form cache_lambda must be in [0, 1) and cache_theta at least 0, not "
                               f"{self.cache_lambda} and {self.cache_theta}")
        return w

    def cache(self):
        """(theta, lam) of the character cache, or None."""
        return (self.cache_theta, self.cache_lambda) if self.cache_lambda > 0 else None

    def sampling_array(self):
        """The weights the sampler copies with: array(), the copies that start a run (or copy the
        previous part's last bar) times copy_scale; a run under way goes on as in human tunes.
        (offer_weights caps what one bar is offered.)"""
        w = self.array().copy()
        w[:, :COLUMNS] *= self.copy_scale
        return w

    def save(self, path):
        write_json_atomic(path, {"weights": [list(map(float, row)) for row in self.weights],
                                 "cadence_tries": self.cadence_tries, "notation_tries": self.notation_tries,
                                 "fitted_on": self.fitted_on,
                                 "copy_scale": self.copy_scale, "cache_theta": self.cache_theta,
                                 "cache_lambda": self.cache_lambda})

    @classmethod
    def load(cls, path):
        try:
            data = json.loads(Path(path).read_text())
            form = cls(weights=tuple(tuple(row) for row in data["weights"]),
                       cadence_tries=int(data.get("cadence_tries", 0)),
                       notation_tries=int(data.get("notation_tries", DEFAULT_NOTATION_TRIES)),
                       fitted_on=str(data.get("fitted_on", "")),
                       copy_scale=float(data.get("copy_scale", 1.0)), cache_theta=float(data.get("cache_theta", 0.0)),
                       cache_lambda=float(data.get("cache_lambda", 0.0)))
            form.array()
            return form
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise CharrnnError(f"{path}: not a valid form file ({e})") from None


def offer_weights(w, pos, columns):
    """The weights of the copies offered to one bar (at place `pos`, from `columns`), scaled down
    to sum to CAP when they sum to more: the network always keeps a share. Scoring and sampling
    both weigh a bar's copies with this."""
    weights = w[pos, columns]
    total = weights.sum()
    return weights * (CAP / total) if total > CAP else weights


class FormSampler:
    """The lane hook of charrnn.nn.sampling._sample_lanes: copies bars, and takes closing bars
    that leave the tonic again. Bookkeeping is vectorised per step; Python runs only for lanes
    that start or close a bar (about one step in ten) or are writing a copy."""

    def __init__(self, form, vocab, prime, n, rng):
        self.w, self.tries, self.notation_tries = form.sampling_array(), form.cadence_tries, form.notation_tries
        self.vocab, self.rng, self.prime = vocab, rng, prime
        chars = vocab.chars
        self.note_start = np.array([c in NOTE_START for c in chars])
        self.bar_char = np.array([c == "|" for c in chars])
        self.colon = np.array([c == ":" for c in chars])  # `::` is a bar line too
        self.keeps_bar = np.array([c in ":] \t\n" for c in chars])  # still just after a bar line
        self.closing = np.array([c in "|]:" for c in chars])
        self.newline, self.k_id = vocab.char_to_idx.get("\n", -1), vocab.char_to_idx.get("K", -1)
        self.in_body = np.full(n, body_start(prime) is not None)
        self.line_start = np.full(n, prime.endswith("\n") or not prime)
        self.k_line = np.full(n, prime.rsplit("\n", 1)[-1].startswith("K"))
        self.after_bar = np.full(n, follows_bar_line(prime))
        self.tonic = [tonic_letter(prime)] * n
        # Bars already in the prime (a composer's opening) can be copied as well.
        opening, body = TuneBars(), body_start(prime)
        for i in range(len(prime)):
            if is_bar_start(prime, i, body):
                opening.bar_start(prime, i)
        self.bars = [TuneBars() for _ in range(n)]
        for bars in self.bars:
            bars.restore(opening.snapshot())
        self.queue = [[] for _ in range(n)]  # ids still to write of a copied bar
        self.copying = np.zeros(n, dtype=bool)  # lanes with ids left in their queue
        self.texts, self.decoded = [prime] * n, np.zeros(n, dtype=np.int64)  # text of out[:decoded]
        self.saved = [None] * n  # each lane as it was where its current bar started
        self.tried = np.zeros(n, dtype=np.int64)  # retries spent on the current closing bar
        self.judged = np.zeros(n, dtype=bool)  # the current bar closed a part and was kept
        # A closing bar being written again: RETRY_PENDING until its first note, then RETRY_WRITING;
        # a bar start while RETRY_WRITING means the try ended on a plain bar line (failed).
        self.retry = np.zeros(n, dtype=np.int8)
        self.failed = np.zeros(n, dtype=bool)
        self.first = [None] * n  # ids of the first closing bar (bar start to bar line), kept if no try closes
        # A bar that made a notation error (charrnn.abc.notation) goes back to its start: `broken`
        # until the restore; `fixes` counts the rewrites of the bar.
        self.broken = np.zeros(n, dtype=bool)
        self.fixes = np.zeros(n, dtype=np.int64)
        self.cache_config, self.cache = form.cache(), None  # LaneCache, made at the first step

    def mix(self, active, probs, state):
        """Mix the active lanes' probs (a, V) with their character caches (a no-op without one).
        The lanes' rows of `state` are 0..a-1 (with form, finished rows are dropped at once)."""
        if self.cache_config is None:
            return
        h = state[-1][0]  # (a, U): the top layer's output, which gave these probs
        if self.cache is None:
            self.cache = LaneCache(len(self.in_body), h.shape[1], *self.cache_config)
        self.cache.mix(active, probs, h)

    def max_steps(self, cap):
        return cap * (2 + self.tries + self.notation_tries)  # retries rewrite bars; this bounds them

    def _text(self, lane, out, length):
        """The lane's text so far (prime + written columns), decoding only what is new."""
        self.texts[lane] += self.vocab.decode(out[lane, self.decoded[lane]:length[lane]])
        self.decoded[lane] = length[lane]
        return self.texts[lane]

    def choose(self, active, ids, out, length, logits, state, prev1, prev2):
        """The ids the lanes write this step: sampled, or the next character of a copy."""
        body = self.in_body[active]  # before this step's character: it is body text
        copying = self.copying[active]
        for j in np.flatnonzero(copying):
            lane = active[j]
            ids[j] = self.queue[lane].pop(0)
            self.copying[lane] = bool(self.queue[lane])
        starts = self.in_body[active] & self.after_bar[active] & self.note_start[ids] & ~copying
        for j in np.flatnonzero(starts):
            lane = active[j]
            if self.retry[lane] == RETRY_WRITING:  # the bar written again did not close its part
                self.failed[lane] = True
                continue
            text = self._text(lane, out, length)
            upto = text + self.vocab.chars[ids[j]]  # the bar just written, its bar line, ending and next note
            errors = len(notation_errors(upto)) if self.notation_tries else 0
            if self._breaks_notation(lane, errors):
                self.broken[lane] = True
                continue
            if self.saved[lane] is None or self.saved[lane]["length"] != length[lane]:
                self.fixes[lane] = 0  # a new bar (not the same one written again)
            self.retry[lane] = RETRY_WRITING if self.retry[lane] else 0
            bars = self.bars[lane]
            self.saved[lane] = dict(length=length[lane], prev=(prev1[lane], prev2[lane]), logits=logits[j].copy(),
                                    state=[[s[j].copy() for s in layer] for layer in state], bars=bars.snapshot(),
                                    flags=(self.after_bar[lane], self.line_start[lane]),
                                    cached=0 if self.cache is None else self.cache.count[lane],
                                    cadence=(self.retry[lane], self.tried[lane], self.first[lane]), errors=errors)
            pos, offers = bars.bar_start(upto, len(text))
            self.judged[lane] = False
            weights = offer_weights(self.w, pos, [c for c, _ in offers])
            r = self.rng.random()
            if offers and r < weights.sum():
                core = offers[int(np.searchsorted(np.cumsum(weights), r, side="right"))][1]
                copy = self.vocab.encode(core)
                ids[j], self.queue[lane] = copy[0], list(copy[1:])
                self.copying[lane] = bool(self.queue[lane])
        newline = ids == self.newline
        for j in np.flatnonzero(newline & self.k_line[active] & ~self.in_body[active]):
            self.tonic[active[j]] = tonic_letter(self._text(active[j], out, length) + "\n")
        self.in_body[active] |= newline & self.k_line[active]
        self.k_line[active] = ~newline & (self.k_line[active] | (self.line_start[active] & (ids == self.k_id)))
        self.line_start[active] = newline
        double_colon = self.colon[ids] & self.colon[prev1[active]]
        self.after_bar[active] = self.bar_char[ids] | double_colon | (self.after_bar[active] & self.keeps_bar[ids])
        if self.cache is not None:
            self.cache.add(active[body], state[-1][0][body], ids[body])
        return ids

    def _breaks_notation(self, lane, errors):
        """Did the lane's current bar make a notation error (the text has more `errors` than it
        had where the bar started: a bar line can join the one before, `|` + `|` = `||`), with
        rewrites left?"""
        saved = self.saved[lane]
        return saved is not None and self.fixes[lane] < self.notation_tries and errors > saved["errors"]

    def _ending_problems(self, lane, out, length):
        """Notation errors of a whole tune, plus one when it ends before MIN_BARS bars."""
        short = len(self.bars[lane].starts) < MIN_BARS
        return len(notation_errors(self._text(lane, out, length), complete=True)) + short

    def rewinds(self, active, ids, out, length, done):
        """A mask over active: lanes that go back to write their current bar again: it made a
        notation error, or it closed a part or the tune away from the tonic."""
        back = np.zeros(len(active), dtype=bool)
        for j in np.flatnonzero(done | (self.closing[ids] & self.in_body[active]) | self.failed[active]
                                | self.broken[active]):
            lane = active[j]
            saved = self.saved[lane]
            if self.broken[lane] or (done[j] and not self.queue[lane] and self.notation_tries and self._breaks_notation(
                    lane, self._ending_problems(lane, out, length))):
                self.broken[lane], back[j] = True, True
                self.fixes[lane] += 1
                continue
            if not self.tries:
                continue
            if self.failed[lane]:  # back to the bar's start: another try, or (tried > tries) the first closing bar
                self.failed[lane], back[j] = False, True
                self.tried[lane] += 1
                continue
            if saved is None or self.queue[lane] or self.judged[lane]:
                continue  # (a tune that ends on the bar that closed its part: judged once, there)
            text = self._text(lane, out, length)
            if not (done[j] or closes_part(text)):
                continue
            if leaves_home(text[len(self.prime) + saved["length"]:], self.tonic[lane]) and self.tried[lane] < self.tries:
                if not self.tried[lane]:
                    self.first[lane] = out[lane, saved["length"]:length[lane]].tolist()
                self.tried[lane] += 1
                back[j] = True
            else:
                self.tried[lane], self.judged[lane], self.retry[lane], self.first[lane] = 0, True, 0, None
        return back

    def restore(self, active, back, logits, state, length, prev1, prev2):
        """Put the lanes in `back` (a mask over active) as they were where their bar started."""
        for j in np.flatnonzero(back):
            lane = active[j]
            saved = self.saved[lane]
            length[lane] = saved["length"]
            if self.decoded[lane] > length[lane]:  # the text it takes back is written anew
                self.texts[lane] = self.texts[lane][:len(self.prime) + length[lane]]
                self.decoded[lane] = length[lane]
            prev1[lane], prev2[lane] = saved["prev"]
            logits[j] = saved["logits"]
            for layer, values in zip(state, saved["state"]):
                for s, v in zip(layer, values):
                    s[j] = v
            self.bars[lane].restore(saved["bars"])
            if self.cache is not None:
                self.cache.count[lane] = saved["cached"]
            self.after_bar[lane], self.line_start[lane] = saved["flags"]
            self.in_body[lane], self.k_line[lane] = True, False
            self.queue[lane], self.judged[lane] = [], False
            if self.broken[lane]:  # a notation error: the bar again, as a cadence try if it was one
                retry, self.tried[lane], self.first[lane] = saved["cadence"]
                self.retry[lane], self.broken[lane] = RETRY_PENDING if retry else 0, False
            elif self.tried[lane] > self.tries:  # out of tries: the first closing bar, written as a copy
                self.queue[lane], self.retry[lane] = list(self.first[lane]), 0
            else:
                self.retry[lane] = RETRY_PENDING
            self.copying[lane] = bool(self.queue[lane])
