"""What a query tune and a corpus tune share, bar by bar, and one nearest-tune answer.

    matching_bars(query_abc, corpus_abc)  ->  [(1, 1), (2, 2), (5, 9)]   # bar numbers, from 1

A query bar matches the corpus bar whose interval-and-rhythm trigrams (charrnn.similarity.profile)
overlap its own most, when at least half of the two bars' trigrams are shared (Jaccard >= 0.5):
the same bar in another key, or with a note or an ornament changed.
"""
from dataclasses import asdict, dataclass, field

from ..abc.bars import bar_spans
from ..abc.melody import melody
from .profile import bar_terms

MIN_BAR_OVERLAP = 0.5


def matching_bars(query_abc, corpus_abc):
    """[(query bar, corpus bar)], both numbered from 1 as bar_spans counts them, in query order."""
    return shared_bars(bar_terms(melody(query_abc)), bar_terms(melody(corpus_abc)))


def shared_bars(query, corpus):
    """matching_bars from the two tunes' bar_terms (a query's are read once for all its matches)."""
    pairs = []
    for q, mine in sorted(query.items()):
        best, overlap = None, 0.0
        for c, theirs in corpus.items():
            jaccard = len(mine & theirs) / len(mine | theirs)
            if jaccard > overlap or (jaccard == overlap and best is not None and abs(c - q) < abs(best - q)):
                best, overlap = c, jaccard
        if best is not None and overlap >= MIN_BAR_OVERLAP:
            pairs.append((q + 1, best + 1))
    return pairs


def bar_text(abc, number):
    """The written text of bar `number` (from 1) of a tune, '' when it has no such bar."""
    spans = bar_spans(abc)
    return abc[slice(*spans[number - 1])] if 0 < number <= len(spans) else ""


@dataclass(frozen=True)
class Match:
    """One corpus tune near a query tune: its score in [0, 1], provenance, text and shared bars."""

    score: float
    title: str
    collection: str
    source_file: str
    x: str
    split: str
    abc: str = field(repr=False)
    bars: tuple = ()  # ((query bar, corpus bar), ...), numbered from 1

    def label(self):
        """'TITLE (collection), 0.62', as the composer and the generate summary show it."""
        return f"{self.title or '(untitled)'} ({self.collection or self.source_file}), {self.score:.2f}"

    def as_dict(self, with_abc=False):
        data = asdict(self)
        data["score"] = round(self.score, 4)
        data["bars"] = [list(pair) for pair in self.bars]
        if not with_abc:
            del data["abc"]
        return data
