"""MGEval-style musical statistics (Yang & Lerch 2018) of sets of measured tunes, and how two
distributions compare (overlap area, KL divergence); feature_vector (charrnn.critic.features)
gives one tune's as numbers."""
from collections import Counter

import numpy as np

# One tune as a vector of numbers (feature_vector) is the critic's too, so it lives below generation.
from ..critic.features import NOTE_LENGTHS, PITCH_CLASS_NAMES, SHAPE_FEATURES, feature_vector, intervals  # noqa: F401

FEATURES = {
    # name: (title, x-axis label, fixed category order or None for sorted-numeric / by-count)
    "pitch_class": ("Pitch classes", "pitch class", PITCH_CLASS_NAMES),
    "pitch_range": ("Pitch range per tune", "semitones from lowest to highest note", None),
    "interval": ("Melodic intervals", "semitones to the next note (+ up, - down; +-12 = octave or more)",
                 list(range(-12, 13))),
    "note_length": ("Note lengths", "fraction of a whole note (1/12 = triplet eighth)", NOTE_LENGTHS),
    "notes_per_bar": ("Notes per bar", "notes in a bar", None),
    "key": ("Keys (K:)", "key", None),
    "meter": ("Meters (M:)", "meter", None),
}


def feature_counts(records):
    """Each MGEval-style feature as a Counter over its categories, pooled over the parsed tunes."""
    counts = {name: Counter() for name in FEATURES}
    for r in records:
        if not r["parses"]:
            continue
        pitches = r["pitches"]
        counts["pitch_class"].update(PITCH_CLASS_NAMES[p % 12] for p in pitches)
        if pitches:
            counts["pitch_range"][max(pitches) - min(pitches)] += 1
        counts["interval"].update(intervals(pitches))
        counts["note_length"].update(r["lengths"])
        counts["notes_per_bar"].update(r["notes_per_bar"])
        counts["key"][r["key"] or "none"] += 1
        counts["meter"][r["meter"] or "none"] += 1
    return counts


def categories(name, *counters):
    """The categories of a feature in display order: fixed, numeric, or most common first."""
    fixed = FEATURES[name][2]
    seen = set().union(*counters)
    if fixed is not None:
        return list(fixed)
    if all(isinstance(c, (int, np.integer)) for c in seen):
        return sorted(seen)
    total = Counter()
    for c in counters:
        total.update(c)
    return sorted(seen, key=lambda c: (-total[c], str(c)))


KL_SMOOTHING = 1e-3


def compare_counts(a, b, cats=None):
    """Overlap area and KL(a || b) of two count distributions over the same categories.

    overlap = sum of min(p, q): 1 for identical distributions, 0 for disjoint ones.
    kl = sum p log(p / q) in nats, after mixing each with 0.1% of a uniform distribution so a
    category one side never uses costs a bounded amount: 0 for identical distributions.
    Returns None when either side is empty.
    """
    cats = list(cats) if cats is not None else sorted(set(a) | set(b), key=str)
    p = np.array([a.get(c, 0) for c in cats], dtype=float)
    q = np.array([b.get(c, 0) for c in cats], dtype=float)
    if not cats or p.sum() == 0 or q.sum() == 0:
        return None
    p, q = p / p.sum(), q / q.sum()
    overlap = float(np.minimum(p, q).sum())
    ps = (1 - KL_SMOOTHING) * p + KL_SMOOTHING / len(cats)
    qs = (1 - KL_SMOOTHING) * q + KL_SMOOTHING / len(cats)
    kl = float(np.sum(ps * np.log(ps / qs)))
    return {"overlap": overlap, "kl": max(kl, 0.0)}


def compare_features(reference, candidate):
    """Per feature, compare_counts(reference, candidate) of feature_counts of two sets of records."""
    ref, cand = feature_counts(reference), feature_counts(candidate)
    return {name: compare_counts(ref[name], cand[name], categories(name, ref[name], cand[name]))
            for name in FEATURES}
