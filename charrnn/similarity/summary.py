"""`charrnn generate`'s summary.csv: each generated tune's nearest corpus tune, and the tunes
dropped by --max-similarity.

    columns = summary_columns([t.abc for t in tunes], corpus="data/abc")
    tunes, columns = drop_near_copies(tunes, columns, max_similarity=0.5)
    write_summary("samples/summary.csv", [{**row, **c} for row, c in zip(rows, columns)])
"""
import csv
import io
import sys
from pathlib import Path

from ..errors import CharrnnError
from ..files import write_text_atomic
from . import default_corpus_dir, nearest_columns


def summary_columns(abcs, corpus=None, required=False):
    """nearest_columns of each tune; without a corpus, empty columns and a note on stderr, or the
    CharrnnError when `required` (--max-similarity cannot work without one)."""
    try:
        return nearest_columns(abcs, corpus=corpus or default_corpus_dir())
    except CharrnnError as e:
        if required:
            raise
        print(f"note: no nearest tunes in the summary ({e})", file=sys.stderr)
        return [{} for _ in abcs]


def drop_near_copies(tunes, columns, max_similarity):
    """(tunes, columns) without the tunes whose nearest corpus tune scores above max_similarity
    (None: keep all), each dropped one named on stdout."""
    if max_similarity is None:
        return tunes, columns
    kept = []
    for tune, near in zip(tunes, columns):
        if near["nearest_score"] > max_similarity:
            print(f"dropped {tune.title or '(untitled)'!r}: {near['nearest_score']:.2f} like {near['nearest']!r} "
                  f"({near['nearest_collection']}), above --max-similarity {max_similarity}")
        else:
            kept.append((tune, near))
    return [t for t, _ in kept], [n for _, n in kept]


def write_summary(path, rows):
    """summary.csv beside the tunebook: a row per tune, after the rows of earlier runs."""
    if not rows:
        return
    path = Path(path)
    earlier = path.read_text(encoding="utf-8") if path.is_file() else ""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), extrasaction="ignore")
    if not earlier:
        writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, earlier + text.getvalue())
