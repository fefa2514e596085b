"""Is this tune new? The corpus tunes nearest to a tune by what a listener hears: its intervals
and rhythm, in any key, with ornaments, grace notes and chord symbols set aside.

    import charrnn
    for m in charrnn.similar(open("my.abc").read(), k=5):    # corpus: data/abc
        print(m.score, m.title, m.collection, m.source_file, m.x, m.bars)
    charrnn similar my.abc -k 5 --json                         # the same from the shell

The first query of a corpus builds its index (charrnn.similarity.index) beside it; later ones
load it. docs/similar.md says how well it finds disguised copies and what scores mean.
"""
import os
from functools import lru_cache
from pathlib import Path

from ..abc.melody import melody
from ..abc.text import split_tunes
from ..checks import check_whole
from ..errors import CharrnnError
from .index import INDEX_FILES, SimilarityIndex, load_index  # noqa: F401
from .match import Match, matching_bars, shared_bars  # noqa: F401
from .profile import bar_terms


def default_corpus_dir():
    """$CHARRNN_DATA, else data/abc in the current folder when it holds a corpus, else the one
    beside the package in a checkout (an installed wheel has none: then data/abc, to be built)."""
    if os.environ.get("CHARRNN_DATA"):
        return Path(os.environ["CHARRNN_DATA"])
    here, checkout = Path("data/abc"), Path(__file__).resolve().parents[2] / "data" / "abc"
    return checkout if not (here / "train.abc").is_file() and (checkout / "train.abc").is_file() else here


def _stamp(folder):
    """What tells a cached index that its corpus or index files changed: their sizes and times."""
    stamp = []
    for name in ("train.abc", "valid.abc", "provenance.csv", *INDEX_FILES):
        try:
            info = os.stat(folder / name)
            stamp.append((name, info.st_size, info.st_mtime_ns))
        except OSError:
            stamp.append((name, None, None))
    return tuple(stamp)


@lru_cache(maxsize=4)  # a process asks one corpus many times (composer, generate): load it once
def _cached_index(folder, stamp):
    return load_index(folder)


def open_index(corpus=None):
    """A SimilarityIndex: `corpus` itself when it is one, else the index of that corpus folder
    (None: default_corpus_dir()), loaded once per process while its files stay the same."""
    if isinstance(corpus, SimilarityIndex):
        return corpus
    folder = Path(corpus) if corpus is not None else default_corpus_dir()
    if not folder.is_dir():
        raise CharrnnError(f"{folder}: no such corpus folder (build it with `charrnn data build --out {folder}`)")
    return _cached_index(folder.resolve(), _stamp(folder))


def tune_text(tune_or_abc):
    """The ABC text of a Tune, or of the first tune of a text (a text with no X: line is one tune)."""
    abc = getattr(tune_or_abc, "abc", tune_or_abc)
    if not isinstance(abc, str):
        raise CharrnnError(f"a tune must be ABC text or a Tune, not {type(abc).__name__}")
    tunes = split_tunes(abc) if "X:" in abc else [abc]
    return tunes[0] if tunes else abc


def nearest(abcs, k=5, corpus=None, split=None, bars=True):
    """For each ABC tune text of `abcs`, its k nearest corpus tunes as Match objects, best first;
    `split` ('train' or 'valid') compares with that part of the corpus only; `bars=False` skips
    finding the matching bars (the slower part, for long batches that need only the scores)."""
    index = open_index(corpus)
    found = index.nearest(list(abcs), k=k, split=split)
    out = []
    for abc, hits in zip(abcs, found):
        mine = bar_terms(melody(abc)) if bars else None
        out.append([Match(score, **index.rows[r], abc=index.texts[r],
                          bars=tuple(shared_bars(mine, bar_terms(melody(index.texts[r])))) if bars else ())
                    for score, r in hits])
    return out


def similar(tune_or_abc, k=5, corpus=None, split=None):
    """The k corpus tunes nearest to one tune (a Tune or ABC text), as Match objects, best first:
    score in [0, 1], title, collection, source_file, x, split, abc and the matching bars.
    `corpus`: a corpus folder (default data/abc) or a SimilarityIndex."""
    check_whole("k", k, 1)
    abc = tune_text(tune_or_abc)
    if len(melody(abc)) < 2:
        raise CharrnnError("the tune has no notes to compare (it needs a K: line and a melody after it)")
    return nearest([abc], k=k, corpus=corpus, split=split)[0]


def nearest_columns(abcs, corpus=None, split=None):
    """For each ABC tune text, its nearest corpus tune as summary columns: nearest (title),
    nearest_collection, nearest_source_file, nearest_x, nearest_score (3 decimals)."""
    rows = []
    for matches in nearest(list(abcs), k=1, corpus=corpus, split=split, bars=False):
        m = matches[0]
        rows.append({"nearest": m.title, "nearest_collection": m.collection, "nearest_source_file": m.source_file,
                     "nearest_x": m.x, "nearest_score": round(m.score, 3)})
    return rows


# A machine tune whose nearest training tune scores above this is refused as a near-copy (survey
# make; generate --max-similarity): bench/similar.py's disguised copies almost all score above it.
MAX_SIMILARITY = 0.5


def score_summary(abcs, corpus=None, split="train"):
    """The distribution of nearest-tune scores of `abcs` against the `split` tunes of a corpus:
    {n, p10, p50, p90, max} and above_rate, the share above MAX_SIMILARITY."""
    scores = [matches[0][0] for matches in open_index(corpus).nearest(list(abcs), k=1, split=split)]
    if not scores:
        return {"n": 0}
    ranked = sorted(scores)
    at = lambda q: round(ranked[min(len(ranked) - 1, int(q * len(ranked)))], 3)  # noqa: E731
    return {"n": len(scores), "p10": at(0.1), "p50": at(0.5), "p90": at(0.9), "max": round(ranked[-1], 3),
            "above_rate": sum(s > MAX_SIMILARITY for s in scores) / len(scores), "threshold": MAX_SIMILARITY}
