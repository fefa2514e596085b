"""How much the detectability classifier gains from seeing a tune's shape (bars, parts, bars per
part, its most repeated bar, notes outside the key): its AUC with and without those features.

    python bench/judge.py TUNES.abc [TUNES.abc ...] [--data data/abc]

TUNES.abc: generated tunes (e.g. a report's tunes_t1.abc); they are told from the held-out
tunes of --data, as `charrnn evaluate` does. Prints one JSON line per file.
"""
import argparse
import json

from charrnn.abc.text import read_abc_text, split_tunes
from charrnn.evaluation.detectability import detectability
from charrnn.evaluation.features import SHAPE_FEATURES, feature_vector
from charrnn.evaluation.measure import measure_tunes


def without_shape(record):
    v = feature_vector(record)
    return None if v is None else v[:-SHAPE_FEATURES]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("tunes", nargs="+")
    p.add_argument("--data", default="data/abc")
    args = p.parse_args()
    human = measure_tunes(split_tunes(read_abc_text(f"{args.data}/valid.abc")), jobs=2)
    for path in args.tunes:
        records = measure_tunes(split_tunes(read_abc_text(path)), jobs=2)
        row = {"tunes": path}
        for name, features in (("auc_without_shape", without_shape), ("auc", feature_vector)):
            row[name] = round(detectability(human, records, 0, features=features)["auc"], 3)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
