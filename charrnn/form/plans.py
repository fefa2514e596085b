"""The plans of a corpus's tunes (parts, bars, repeats: charrnn.abc.plan), counted by meter and
type, and how a tune draws its own.

    rows = count_plans(corpus.train_tunes)         # (("6/8", "jig", "AABB:8", 632), ...): form.json's "plans"
    table = read_plans(rows)
    draw_plan(table, "6/8", "jig", rng)            # ((8, True), (8, True)), as often as the jigs have it
    draw_plan(table, "6/8", "jig", rng, given=parse_structure("AABB"))   # the bars drawn, the parts given

A tune draws from the plans of its meter and type (R:), else of its meter, else of all tunes.
"""
from collections import Counter

from ..abc.header import header_field, normalise_meter
from ..abc.plan import MAX_PART_BARS, MAX_PARTS, MIN_PART_BARS, parse_structure, structure_text, tune_plan
from ..tune import MIN_BARS

DEFAULT_PART_BARS = 8  # a given structure without bars, where no tune of the corpus shows its parts


def tune_kind(abc):
    """(meter, type) a tune's plan is drawn for: M: spelt out ('C' -> '4/4') and R: in lower case."""
    return normalise_meter(header_field(abc, "M")) or "", (header_field(abc, "R") or "").strip().lower()


def count_plans(tunes):
    """((meter, type, structure, count), ...) over `tunes`, most common first. Left out: plans of
    more than MAX_PARTS parts or of parts outside MIN_PART_BARS..MAX_PART_BARS bars (a structure
    cannot ask for them), and of fewer than MIN_BARS bars written (no such tune is valid)."""
    counts = Counter()
    for abc in tunes:
        plan = tune_plan(abc)
        if (len(plan) <= MAX_PARTS and sum(bars for bars, _ in plan) >= MIN_BARS
                and all(MIN_PART_BARS <= bars <= MAX_PART_BARS for bars, _ in plan)):
            counts[(*tune_kind(abc), structure_text(plan))] += 1
    return tuple((*key, count) for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _fits(plan, given):
    """Does `plan` have the parts and repeats of `given` (and its bars, where given)?"""
    return len(plan) == len(given) and all(r == gr and (gb is None or b == gb)
                                           for (b, r), (gb, gr) in zip(plan, given))


def read_plans(rows):
    """count_plans's rows with each structure read: ((meter, type, plan, count), ...)."""
    return tuple((m, k, parse_structure(s), int(c)) for m, k, s, c in rows)


def draw_plan(table, meter, kind, rng, given=None):
    """A plan for a tune of this meter and type, drawn from `table` (read_plans's) by its counts;
    `given` (parse_structure's) keeps the draws to plans like it. A fully given plan is itself."""
    if given is not None and all(bars is not None for bars, _ in given):
        return given
    for keep in (lambda m, k: m == meter and k == kind, lambda m, k: m == meter, lambda m, k: True):
        found = [(plan, c) for m, k, plan, c in table if keep(m, k) and (given is None or _fits(plan, given))]
        if found:
            counts = [c for _, c in found]
            return found[int(rng.choice(len(found), p=[c / sum(counts) for c in counts]))][0]
    if given is None:
        return None
    return tuple((DEFAULT_PART_BARS if bars is None else bars, repeats) for bars, repeats in given)
