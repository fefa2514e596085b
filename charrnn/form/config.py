"""What the form sampler does, saved as form.json beside the weights: the mixture's copy weights,
the retry rules' settings and the corpus's plans (parts and bars) by meter and type.

The mixture, over whole bars: at each bar start the next bar is the network's own with weight
1 - sum(w), or a copy of an earlier bar c of the tune with weight w[pos, c] (charrnn.form.bars
lays out the columns: the bar d = 1..16 back, for a run under way or not, and the previous part's
last bar); pos is the bar's place in its part.

    p(bar) = (1 - sum_c w[pos, c]) p_model(bar) + sum_c w[pos, c] [bar starts with core_c] p_model(first note) p_model(rest | core_c)

A copy replaces the model's first note character, so its branch costs p_model(a note starts), and
the text after it is the model's again: the mixture is a distribution over text and its bits per
character are exact (charrnn.form.fit scores and fits it). p_model may be the network mixed with
a character cache (charrnn.form.cache) when form.json gives it a weight.

The sampler copies with the fitted weights of copies that start a run times `copy_scale`: a
network that writes its own bars repeats them far less than it predicts repeats in human text, so
the fitted weights alone leave sampled tunes short of copies (the model card has the figures).
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CharrnnError
from ..files import write_json_atomic
from .bars import COLUMNS, OFFER_COLUMNS, POSITIONS
from .plans import read_plans

FORM_FILE = "form.json"
CAP = 0.8  # the most weight the copies offered to one bar may have together: the network keeps a share
DEFAULT_CADENCE_TRIES = 4  # a closing bar off the tonic is written again at most 4 times
DEFAULT_NOTATION_TRIES = 8  # a bar that makes a notation error is written again at most 8 times
LOOP_COUNT = 3  # a bar written this many times is a loop in the making
DEFAULT_LOOP_WEIGHT = 0.2  # the share of its copy weight such a bar keeps (1: no limit)
DEFAULT_MAX_RUN = 6  # after this many repeating bars in a row, no copy (0: no limit)


@dataclass(frozen=True)
class FormConfig:
    """What the sampler does for form, saved as form.json beside the weights."""

    weights: tuple = field(default_factory=tuple)  # (POSITIONS, OFFER_COLUMNS) copy weights, as nested tuples
    cadence_tries: int = DEFAULT_CADENCE_TRIES
    notation_tries: int = DEFAULT_NOTATION_TRIES
    fitted_on: str = ""  # which tunes the weights were fitted on (for the model card)
    copy_scale: float = 1.0  # the sampler's weights: the fitted ones times this (a bar's offers capped at CAP)
    cache_theta: float = 0.0  # the character cache (charrnn.form.cache) under the bar mixture:
    cache_lambda: float = 0.0  # its sharpness and weight; weight 0: none
    loop_weight: float = DEFAULT_LOOP_WEIGHT  # sampling: a bar written LOOP_COUNT times keeps this share
    max_run: int = DEFAULT_MAX_RUN  # sampling: no copy after this many repeating bars in a row
    plans: tuple = ()  # ((meter, type, structure, count), ...): the corpus's plans (charrnn.form.plans)
    part_echo: float = 0.0  # sampling: a planned part's last bar is the previous part's last this often

    def array(self):
        """The fitted weights, (POSITIONS, OFFER_COLUMNS): the mixture that scores text. Weights
        of COLUMNS columns (fitted before phrase runs had columns of their own) serve both."""
        w = np.asarray(self.weights, dtype=np.float64)
        if w.shape == (POSITIONS, COLUMNS):
            w = np.hstack([w, w])
        if w.shape != (POSITIONS, OFFER_COLUMNS) or (w < 0).any() or (w >= 1).any():
            raise CharrnnError(f"form weights must be {POSITIONS} x {OFFER_COLUMNS}, each in [0, 1)")
        if not 0 <= self.loop_weight <= 1 or self.max_run < 0:
            raise CharrnnError(f"form loop_weight must be in [0, 1] and max_run 0 or more, not "
                               f"{self.loop_weight} and {self.max_run}")
        if self.cadence_tries < 0 or self.notation_tries < 0:
            raise CharrnnError(f"form cadence_tries and notation_tries must be 0 or more, not "
                               f"{self.cadence_tries} and {self.notation_tries}")
        read_plans(self.plans)  # a CharrnnError naming a structure that does not read
        if not 0 <= self.part_echo <= 1:
            raise CharrnnError(f"form part_echo must be in [0, 1], not {self.part_echo}")
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
                                 "cache_lambda": self.cache_lambda, "loop_weight": self.loop_weight,
                                 "max_run": self.max_run, "part_echo": self.part_echo,
                                 "plans": [list(row) for row in self.plans]})

    @classmethod
    def load(cls, path, plans=True):
        """The form.json at `path`; `plans=False` leaves its plans out (they are being counted again)."""
        try:
            data = json.loads(Path(path).read_text())
            data = data if plans else {**data, "plans": []}
            form = cls(weights=tuple(tuple(row) for row in data["weights"]),
                       cadence_tries=int(data.get("cadence_tries", 0)),
                       notation_tries=int(data.get("notation_tries", DEFAULT_NOTATION_TRIES)),
                       fitted_on=str(data.get("fitted_on", "")),
                       copy_scale=float(data.get("copy_scale", 1.0)), cache_theta=float(data.get("cache_theta", 0.0)),
                       cache_lambda=float(data.get("cache_lambda", 0.0)),
                       loop_weight=float(data.get("loop_weight", DEFAULT_LOOP_WEIGHT)),
                       max_run=int(data.get("max_run", DEFAULT_MAX_RUN)),
                       part_echo=float(data.get("part_echo", 0.0)),
                       plans=tuple((str(m), str(k), str(s), int(c)) for m, k, s, c in data.get("plans", [])))
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
