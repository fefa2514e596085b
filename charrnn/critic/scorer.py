"""A fitted critic, read from critic.json and scored in NumPy: how human a tune looks to it.

    critic = Critic.load(run_folder / CRITIC_FILE)
    critic.human_probability(abcs)     # (n,): 0 = surely the machine's, 1 = surely human
    critic.best_drafts(texts, drafts)  # per tune, the draft it finds most human

The critic is a logistic regression on standardised text features (charrnn.critic.features),
fitted with scikit-learn by `charrnn critic fit` (charrnn.critic.fit); scoring needs only its
numbers, so sampling never imports scikit-learn.
"""
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CharrnnError
from ..files import write_json_atomic
from .features import FEATURE_NAMES, feature_vector, text_record

CRITIC_FILE = "critic.json"
FORMAT = "charrnn critic 1"


@dataclass(frozen=True)
class Critic:
    """Standardise (x - mean) / scale, then p(human) = 1 / (1 + exp(-(x . coef + intercept)))."""

    mean: tuple
    scale: tuple
    coef: tuple
    intercept: float
    features: tuple = tuple(FEATURE_NAMES)
    settings: dict = field(default_factory=dict)  # how it was fitted (classifier, C, ...)
    fitted_on: dict = field(default_factory=dict)  # the model, corpus and tunes it was fitted on
    figures: dict = field(default_factory=dict)  # cross-validated AUCs of the fit

    def human_probability(self, abcs):
        """(n,) the probability that each tune (ABC text) is human; 0 for one with under 2 notes."""
        vectors = [feature_vector(text_record(abc)) for abc in abcs]
        usable = [i for i, v in enumerate(vectors) if v is not None]
        p = np.zeros(len(vectors))
        if usable:
            x = (np.vstack([vectors[i] for i in usable]) - np.asarray(self.mean)) / np.asarray(self.scale)
            p[usable] = 1 / (1 + np.exp(-(x @ np.asarray(self.coef) + self.intercept)))
        return p

    def best_drafts(self, texts, drafts):
        """texts holds `drafts` drafts per tune, tune by tune (tune k: texts[k * drafts: (k + 1) * drafts]);
        returns, per tune, the draft with the highest human_probability (the first of equals)."""
        scores = self.human_probability(texts).reshape(-1, drafts)  # (tunes, drafts)
        return [texts[k * drafts + int(best)] for k, best in enumerate(scores.argmax(axis=1))]

    def save(self, path):
        write_json_atomic(path, {"format": FORMAT, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def load(cls, path):
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            critic = cls(mean=tuple(map(float, data["mean"])), scale=tuple(map(float, data["scale"])),
                         coef=tuple(map(float, data["coef"])), intercept=float(data["intercept"]),
                         features=tuple(data["features"]), settings=dict(data.get("settings", {})),
                         fitted_on=dict(data.get("fitted_on", {})), figures=dict(data.get("figures", {})))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise CharrnnError(f"{path}: not a valid critic file ({e})") from None
        if list(critic.features) != FEATURE_NAMES:
            raise CharrnnError(f"{path}: fitted on other features than this charrnn reads; refit it with "
                               "`charrnn critic fit`")
        if not len(critic.mean) == len(critic.scale) == len(critic.coef) == len(FEATURE_NAMES) or \
                min(critic.scale) <= 0:
            raise CharrnnError(f"{path}: mean, scale and coef need {len(FEATURE_NAMES)} numbers each, "
                               "scales above 0")
        return critic
