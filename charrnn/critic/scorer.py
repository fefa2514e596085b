"""A fitted critic, read from critic.json and scored in NumPy: how human a tune looks to it.

    critic = Critic.load(run_folder / CRITIC_FILE)
    critic.human_probability(abcs)     # (n,): 0 = surely the machine's, 1 = surely human
    critic.best_drafts(texts, drafts)  # per tune, the sound draft it finds most human

The critic reads text features (charrnn.critic.features) with a logistic regression on the
standardised features or with gradient-boosted trees, whichever cross-validated better when
`charrnn critic fit` fitted it with scikit-learn (charrnn.critic.fit); scoring needs only its
numbers, so sampling never imports scikit-learn.
"""
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..abc.bars import MIN_BARS, bar_spans
from ..abc.notation import notation_errors
from ..checks import MAX_DRAFTS
from ..errors import CharrnnError
from ..files import write_text_atomic
from .features import FEATURE_NAMES, feature_vector, text_record

CRITIC_FILE = "critic.json"
FORMAT = "charrnn critic 1"


@dataclass(frozen=True)
class Critic:
    """p(human) = 1 / (1 + exp(-margin)), margin = intercept + ((x - mean) / scale) . coef + the
    leaf value each tree gives x. A logistic critic has no trees; a trees critic no coef."""

    intercept: float
    mean: tuple = ()
    scale: tuple = ()
    coef: tuple = ()
    trees: tuple = ()  # each {"feature", "threshold", "left", "right", "value"}: node lists, leaves left -1
    features: tuple = tuple(FEATURE_NAMES)
    settings: dict = field(default_factory=dict)  # how it was fitted (classifier, C, ...)
    fitted_on: dict = field(default_factory=dict)  # the model, corpus and tunes it was fitted on
    figures: dict = field(default_factory=dict)  # cross-validated AUCs of the fit
    drafts: int = 1  # drafts per tune when a caller names none (charrnn critic fit --drafts)

    def human_probability(self, abcs):
        """(n,) the probability that each tune (ABC text) is human; 0 for one with under 2 notes."""
        vectors = [feature_vector(text_record(abc)) for abc in abcs]
        usable = [i for i, v in enumerate(vectors) if v is not None]
        p = np.zeros(len(vectors))
        if usable:
            p[usable] = 1 / (1 + np.exp(-self.margin(np.vstack([vectors[i] for i in usable]))))
        return p

    def margin(self, x):
        """(n,) log odds of human for feature vectors x (n, features)."""
        z = np.full(len(x), self.intercept)
        if self.coef:
            z += ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.coef)
        if self.trees:
            z += _tree_values(self.trees, x)
        return z

    def best_drafts(self, texts, drafts):
        """texts holds `drafts` drafts per tune, tune by tune (tune k: texts[k * drafts: (k + 1) * drafts]);
        returns, per tune, the draft with the highest human_probability (the first of equals) among
        its sound drafts (is_sound), or among all when none is: a fault costs more than a tell."""
        sound = np.array([is_sound(text) for text in texts])
        scores = (self.human_probability(texts) + 2 * sound).reshape(-1, drafts)  # (tunes, drafts); p <= 1
        return [texts[k * drafts + int(best)] for k, best in enumerate(scores.argmax(axis=1))]

    def save(self, path):
        # One line a field: a trees critic holds thousands of numbers.
        fields = {"format": FORMAT, **asdict(self)}
        write_text_atomic(path, "{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                                                   for k, v in fields.items()) + "\n}\n")

    @classmethod
    def load(cls, path):
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            critic = cls(intercept=float(data["intercept"]), mean=tuple(map(float, data.get("mean", ()))),
                         scale=tuple(map(float, data.get("scale", ()))), coef=tuple(map(float, data.get("coef", ()))),
                         trees=tuple(_checked_tree(t) for t in data.get("trees", ())),
                         features=tuple(data["features"]), settings=dict(data.get("settings", {})),
                         fitted_on=dict(data.get("fitted_on", {})), figures=dict(data.get("figures", {})),
                         drafts=int(data.get("drafts", 1)))
            if not 1 <= critic.drafts <= MAX_DRAFTS:
                raise ValueError(f"drafts {critic.drafts}, expected 1 to {MAX_DRAFTS}")
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            raise CharrnnError(f"{path}: not a valid critic file ({e})") from None
        if list(critic.features) != FEATURE_NAMES:
            raise CharrnnError(f"{path}: fitted on other features than this charrnn reads; refit it with "
                               "`charrnn critic fit`")
        if critic.coef and (not len(critic.mean) == len(critic.scale) == len(critic.coef) == len(FEATURE_NAMES)
                            or min(critic.scale) <= 0):
            raise CharrnnError(f"{path}: mean, scale and coef need {len(FEATURE_NAMES)} numbers each, "
                               "scales above 0")
        return critic


def is_sound(abc):
    """Whether a draft is a tune a player can read: no notation error (charrnn.abc.notation) and at
    least MIN_BARS bars. Of the shipped model's drafts, 99% of the sound ones are valid tunes
    (bench/quality.py's test) against 72% of the others."""
    return len(bar_spans(abc)) >= MIN_BARS and not notation_errors(abc, complete=True)


def _checked_tree(tree):
    """A tree of critic.json as lists, checked so that scoring cannot index out of it."""
    tree = {k: list(tree[k]) for k in ("feature", "threshold", "left", "right", "value")}
    nodes = len(tree["value"])
    if any(len(v) != nodes for v in tree.values()) or not nodes:
        raise ValueError("a tree's node lists differ in length")
    # Children come after their node (so scoring walks down and stops) and features exist.
    inner = [i for i, child in enumerate(tree["left"]) if child != -1]
    if any(not i < tree["left"][i] < nodes or not i < tree["right"][i] < nodes for i in inner) or \
            any(not 0 <= tree["feature"][i] < len(FEATURE_NAMES) for i in inner):
        raise ValueError("a tree points outside itself or its features")
    return tree


def _tree_values(trees, x):
    """(n,) the sum over trees of the leaf each row of x reaches (left where x[feature] <= threshold).
    All trees are walked at once: their nodes laid end to end, one column of `node` (n, trees) each."""
    starts = np.cumsum([0] + [len(t["value"]) for t in trees[:-1]])  # (trees,) each tree's root

    def joined(key, shift=False):
        parts = [np.asarray(t[key]) for t in trees]
        if shift:  # a child's index into the joined nodes; leaves keep -1
            parts = [np.where(part >= 0, part + start, -1) for part, start in zip(parts, starts)]
        return np.concatenate(parts)

    feature, threshold, value = joined("feature"), joined("threshold").astype(float), joined("value").astype(float)
    left, right = joined("left", shift=True), joined("right", shift=True)
    node, rows = np.tile(starts, (len(x), 1)), np.arange(len(x))[:, None]
    while True:
        inner = left[node] >= 0  # (n, trees): not yet at a leaf
        if not inner.any():
            return value[node].sum(axis=1)
        goes_left = x[rows, feature[node]] <= threshold[node]
        node = np.where(inner, np.where(goes_left, left[node], right[node]), node)
