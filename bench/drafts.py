"""What choosing among drafts does to detectability: the best of N by the model's critic, and a draft
drawn in proportion to the critic's odds of human (sampling-importance-resampling), for N = 1, 2, 4, 8.

    python bench/drafts.py [--model RUN_DIR] [-n 400] [--random-seed 5] [--drafts 1,2,4,8] [--music21]

One pool of n x max(N) tunes is sampled with the default settings; tune k's first N drafts are the
candidates at N, so every N chooses from the same tunes. Each chosen set is judged against the
second held-out half (the even-numbered tunes: the critic never saw them) by the report's random forest
(charrnn.evaluation.detectability), on the features read from the text (fast), or with --music21
as the report reads them. Best-of-N keeps the draft the critic likes most; resampling keeps the
spread of the model's tunes while tilting it towards the critic's view of human, which is what
a density-ratio correction asks. Prints one JSON line per N, then a table.
"""
import argparse
import json

import numpy as np

from charrnn.corpus import held_out_halves, load_corpus
from charrnn.critic.features import feature_vector, text_record
from charrnn.evaluation.detectability import detectability
from charrnn.evaluation.measure import default_jobs, measure_tunes
from charrnn.evaluation.novelty import TrainingIndex
from charrnn.generator import load


def choices(margins, drafts, rng):
    """Per tune (rows of `margins` (tunes, drafts): the critic's log odds of human), the index of
    the best draft and of one drawn with probability proportional to its odds."""
    best = margins.argmax(axis=1)
    odds = np.exp(margins - margins.max(axis=1, keepdims=True))
    drawn = np.array([rng.choice(drafts, p=row / row.sum()) for row in odds])
    return best, drawn


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="run folder with critic.json (default: the pretrained model)")
    ap.add_argument("--data", default="data/abc")
    ap.add_argument("-n", type=int, default=400, help="tunes per chosen set (default 400)")
    ap.add_argument("--random-seed", type=int, default=5)
    ap.add_argument("--drafts", default="1,2,4,8")
    ap.add_argument("--music21", action="store_true", help="judge on music21's measurements, as the report does")
    a = ap.parse_args(argv)
    counts = sorted({int(d) for d in a.drafts.split(",")})
    model = load(a.model)
    critic = model.critic()
    corpus = load_corpus(a.data)
    top = max(counts)
    pool = [t.abc for t in model.generate(n=a.n * top, random_seed=a.random_seed, drafts=1)]  # tune k: lanes k*top...
    texts = [text_record(abc) for abc in pool]  # what the critic reads
    vectors = [feature_vector(r) for r in texts]
    usable = [i for i, v in enumerate(vectors) if v is not None]
    margins = np.full(len(pool), -np.inf)  # a tune without notes is never chosen over one with notes
    margins[usable] = critic.margin(np.vstack([vectors[i] for i in usable]))
    margins = margins.reshape(a.n, top)
    human = held_out_halves(corpus.valid_tunes)[1]
    if a.music21:
        index, jobs = TrainingIndex(corpus.train_tunes), default_jobs()
        human_records = measure_tunes(human, index, jobs=jobs)
        records = measure_tunes(pool, index, jobs=jobs)
    else:
        human_records, records = [text_record(abc) for abc in human], texts
    rng = np.random.default_rng(a.random_seed)
    rows = []
    for d in counts:
        best, drawn = choices(margins[:, :d], d, rng)
        row = {"drafts": d, "reading": "music21" if a.music21 else "text"}
        for name, picks in (("best", best), ("resampled", drawn)):
            chosen = [records[k * top + int(j)] for k, j in enumerate(picks)]
            row[f"auc_{name}"] = detectability(human_records, chosen, random_seed=0)["auc"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"{'drafts':>6}  {'best of N':>9}  {'resampled':>9}   (detectability ROC AUC, {rows[0]['reading']} reading,"
          f" against held-out tunes the critic never saw)")
    for r in rows:
        print(f"{r['drafts']:>6}  {r['auc_best']:>9.3f}  {r['auc_resampled']:>9.3f}")


if __name__ == "__main__":
    main()
