"""Does the similarity index find disguised copies, and how fast? (charrnn.similarity, docs/similar.md)

    python bench/similar.py [--data data/abc] [--tunes 100] [--random-seed 1] [--generated samples/tunebook.abc]

Disguised copies: --tunes training tunes picked at random; in each, two bars (not the first) are
replaced by bars of other training tunes, ornaments are taken off and others put on (grace notes,
rolls, !trill!), repeats without endings are written out (A A B B), bar lines are moved (pairs of
bars joined) in common time, and abc2abc transposes the whole by a random shift (-5..+6, not 0).
For each representation the index is built over the corpus (train and validation tunes) and each
copy is looked up: top-1 and top-5 are how often the original is the nearest tune and among the
five nearest. Held-out human tunes (valid.abc) are looked up against the training tunes only:
their nearest scores, beside the disguised copies' (default index), give the threshold that
separates them. --generated adds the nearest scores of a file of generated tunes. The speed
figures (build, load, one query, 400 queries) are the default index's. Prints JSON lines.
"""
import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from machine import cpu_name
from sklearn.feature_extraction.text import TfidfVectorizer

from charrnn.abc.bars import bar_spans
from charrnn.abc.header import header_field, split_header
from charrnn.abc.repeats import explicit_repeats
from charrnn.abc.text import read_abc_text, split_tunes
from charrnn.music.abc2abc import transpose_tunes
from charrnn.similarity import MAX_SIMILARITY, similar
from charrnn.similarity.index import SimilarityIndex, load_index

REPRESENTATIONS = {  # name: (joint n's, interval n's) of the profile
    "joint 3,4 + interval 4,5 (default)": ((3, 4), (4, 5)),
    "joint 3,4": ((3, 4), ()),
    "interval 4,5": ((), (4, 5)),
    "joint 2,3,4,5": ((2, 3, 4, 5), ()),
}


def change_bars(abc, donors, rng):
    """`abc` with two bars (not the first) replaced by bars of the donor tunes."""
    spans = [s for s in bar_spans(abc)[1:] if re.search(r"[A-Ga-g]", abc[slice(*s)])]
    edits = {}
    for start, end in rng.sample(spans, min(2, len(spans))):
        donor_spans = bar_spans(rng.choice(donors))
        edits[start, end] = rng.choice(donors)[slice(*rng.choice(donor_spans))] if donor_spans else ""
    out, at = [], 0
    for (start, end), text in sorted(edits.items()):
        out += [abc[at:start], text]
        at = end
    return "".join(out) + abc[at:]


def reornament(body, rng):
    """Ornaments off (grace notes, !decorations!, rolls), then new ones on about one note in six
    (not inside chord symbols, chords or field lines)."""
    body = re.sub(r"\{[^}\n]*\}|![^!\n]*!|~", "", body)
    pieces = re.split(r'("[^"\n]*"|\[[^\]\n]*\]|^[A-Za-z]:.*$)', body, flags=re.M)
    return "".join(piece if i % 2 else re.sub(
        r"(?<![_=^A-Ga-g,'/\d])(?=[_=^]?[A-Ga-g])",
        lambda m: rng.choice(["{g}", "~", "!trill!", "{ag}"]) if rng.random() < 1 / 6 else "", piece)
        for i, piece in enumerate(pieces))


def write_out_repeats(body):
    """|: A :| written out as A | A |, in a tune whose repeats have no endings."""
    if re.search(r"[|\[][12]", body):
        return body
    return re.sub(r"\|:(.*?):\|", lambda m: f"|{m.group(1)}|{m.group(1)}|", body, flags=re.S)


def join_bar_pairs(body):
    """Every other plain bar line in a line taken out (4/4 read as 8/4): the bars are moved."""
    return "\n".join(re.sub(r"([^|:\]\[]+\|)([^|:\]\[]+)\|(?![:\]|])", r"\1\2", line) for line in body.split("\n"))


def disguise(abc, donors, rng):
    header, body = split_header(change_bars(abc, donors, rng))
    body = reornament(write_out_repeats(split_header(explicit_repeats(header + "\n" + body))[1]), rng)
    if header_field(abc, "M").replace(" ", "") in ("C", "4/4", "2/4", "C|", "2/2"):
        body = join_bar_pairs(body)
    return header + "\n" + body


def disguised_copies(train, count, rng):
    """(training-tune positions, disguised texts) of `count` random tunes, each transposed by abc2abc."""
    picked = rng.sample(range(len(train)), count)
    shifts = {i: rng.choice([s for s in range(-5, 7) if s]) for i in picked}
    texts = {i: disguise(train[i], train, rng) for i in picked}
    by_shift = defaultdict(list)
    for i in picked:
        by_shift[shifts[i]].append(i)
    for shift, members in by_shift.items():
        for i, text in zip(members, transpose_tunes([texts[i] for i in members], shift)):
            texts[i] = text
    return picked, [texts[i] for i in picked]


def retrieval(index, queries, answers):
    found = index.nearest(queries, k=5)
    ranks = [[r for _, r in hits] for hits in found]
    return {"top1": float(np.mean([h[0] == a for h, a in zip(ranks, answers)])),
            "top5": float(np.mean([a in h for h, a in zip(ranks, answers)])),
            "answer_scores": [hits[h.index(a)][0] if a in h else 0.0 for hits, h, a in zip(found, ranks, answers)]}


def char_ngrams(texts, queries, answers):
    """The exact-text baseline: TF-IDF over character 3..5-grams of the bodies (not key-invariant)."""
    start = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(3, 5), sublinear_tf=True)
    matrix = vectorizer.fit_transform([split_header(t)[1] for t in texts])
    build = time.perf_counter() - start
    start = time.perf_counter()
    scores = (vectorizer.transform([split_header(q)[1] for q in queries]) @ matrix.T).toarray()
    query = (time.perf_counter() - start) / len(queries)
    top = np.argsort(-scores, axis=1)[:, :5]
    return {"representation": "character 3-5-grams of the text", "build_s": round(build, 2),
            "query_ms": round(1000 * query, 2), "top1": float(np.mean(top[:, 0] == answers)),
            "top5": float(np.mean([a in row for row, a in zip(top, answers)]))}


def summary(scores):
    q = np.percentile(scores, [5, 25, 50, 75, 95]).round(3).tolist()
    return {"n": len(scores), "p5": q[0], "p25": q[1], "median": q[2], "p75": q[3], "p95": q[4]}


def threshold(copies, human):
    """The score that best tells copies (above) from human tunes (at or below): balanced accuracy."""
    best = max(np.unique(np.concatenate([copies, human])),
               key=lambda t: np.mean(np.asarray(copies) > t) + np.mean(np.asarray(human) <= t))
    return {"threshold": round(float(best), 3), "copies_above": float(np.mean(np.asarray(copies) > best)),
            "human_above": float(np.mean(np.asarray(human) > best))}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="data/abc")
    p.add_argument("--tunes", type=int, default=100)
    p.add_argument("--random-seed", type=int, default=1)
    p.add_argument("--generated", help="an ABC file of generated tunes: their nearest scores too")
    args = p.parse_args()
    rng = random.Random(args.random_seed)
    cpu = cpu_name()
    with tempfile.TemporaryDirectory() as folder:  # a copy: the bench neither reads nor leaves an index in --data
        for name in ("train.abc", "valid.abc", "provenance.csv"):
            (Path(folder) / name).write_bytes((Path(args.data) / name).read_bytes())
        start = time.perf_counter()
        index = load_index(folder)
        build = time.perf_counter() - start
        start = time.perf_counter()
        index = load_index(folder)
        load = time.perf_counter() - start
        train = [t for t, r in zip(index.texts, index.rows) if r["split"] == "train"]
        valid = [t for t, r in zip(index.texts, index.rows) if r["split"] == "valid"]
        picked, copies = disguised_copies(train, args.tunes, rng)  # train rows come first in the index
        start = time.perf_counter()
        for q in copies:
            index.nearest([q], k=5)
        one = (time.perf_counter() - start) / len(copies)
        start = time.perf_counter()
        for q in copies:
            similar(q, k=5, corpus=index)
        one_with_bars = (time.perf_counter() - start) / len(copies)
        batch = (train * 400)[:400]
        start = time.perf_counter()
        index.nearest(batch, k=5)
        many = time.perf_counter() - start
        rows = []
        for name, ns in REPRESENTATIONS.items():
            start = time.perf_counter()
            alt = SimilarityIndex.build(folder, ns=ns)
            built = time.perf_counter() - start
            start = time.perf_counter()
            found = retrieval(alt, copies, picked)
            query = (time.perf_counter() - start) / len(copies)
            rows.append({"representation": name, "build_s": round(built, 2), "query_ms": round(1000 * query, 2),
                         "top1": found["top1"], "top5": found["top5"]})
        rows.append(char_ngrams(index.texts, copies, np.array(picked)))
        copy_scores = retrieval(index, copies, picked)["answer_scores"]
        human = [hits[0][0] for hits in index.nearest(valid, k=1, split="train")]
        print(json.dumps({"cpu": cpu, "tunes": len(index.rows), "build_s": round(build, 2), "load_s": round(load, 3),
                          "query_ms": round(1000 * one, 2), "similar_with_bars_ms": round(1000 * one_with_bars, 2),
                          "queries_400_s": round(many, 2)}))
        for row in rows:
            print(json.dumps(row))
        out = {"disguised_copies": summary(copy_scores), "held_out_human": summary(human),
               **threshold(copy_scores, human), "at_max_similarity": MAX_SIMILARITY,
               "copies_above_max": float(np.mean(np.asarray(copy_scores) > MAX_SIMILARITY)),
               "human_above_max": float(np.mean(np.asarray(human) > MAX_SIMILARITY))}
        if args.generated:
            generated = split_tunes(read_abc_text(args.generated))
            scores = [hits[0][0] for hits in index.nearest(generated, k=1, split="train")]
            out["generated"] = {**summary(scores), "above_max": float(np.mean(np.asarray(scores) > MAX_SIMILARITY))}
        print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
