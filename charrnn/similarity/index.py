"""The similarity index of a corpus folder: every tune's profile (charrnn.similarity.profile) as a
row of TF-IDF weights, stored beside the corpus as plain arrays and JSON, and queried by cosine.

    index = load_index("data/abc")            # builds similar.npz + similar.json once, then loads them
    index.nearest(["X:1\\nK:G\\nGABc dedB|..."], k=5)   # [[(score, row), ...]] per tune, best first

similar.json holds the corpus files' SHA-1 digests: an index whose corpus has changed since is
built again. Weights: 1 + log(count) times the smoothed IDF, rows scaled to unit length, so a
score is a cosine in [0, 1] (1: the same n-grams in the same proportions). A query n-gram that no
corpus tune has still counts in the query's length, with the largest IDF, so a new tune is not
scored as if it held only what it shares.
"""
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from scipy import sparse

from ..abc.header import header_field
from ..abc.melody import melody
from ..abc.text import read_abc_text, split_tunes
from ..errors import CharrnnError
from ..files import replacing, write_json_atomic
from .profile import INTERVAL_NS, JOINT_NS, terms

INDEX_FILES = ("similar.npz", "similar.json")
CORPUS_FILES = ("train.abc", "valid.abc", "provenance.csv")
SPLITS = ("train", "valid")
VERSION = 1


def corpus_digest(folder):
    """{file name: SHA-1} of the corpus files the index is built from (missing ones left out)."""
    folder = Path(folder)
    return {name: hashlib.sha1((folder / name).read_bytes()).hexdigest()
            for name in CORPUS_FILES if (folder / name).is_file()}


def corpus_rows(folder):
    """(rows, texts): each corpus tune's provenance (split, collection, source_file, x, title) and
    its ABC text, train tunes then validation tunes. Without a provenance.csv that matches the
    tunes, a row names the corpus file and the tune's own X: and T:."""
    folder = Path(folder)
    if not (folder / "train.abc").is_file():
        raise CharrnnError(f"{folder}: no train.abc here, so no corpus to compare with "
                           f"(build one with `charrnn data build --out {folder}`)")
    texts = {s: split_tunes(read_abc_text(folder / f"{s}.abc")) if (folder / f"{s}.abc").is_file() else []
             for s in SPLITS}
    listed = {s: [] for s in SPLITS}
    if (folder / "provenance.csv").is_file():
        with open(folder / "provenance.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                listed.setdefault(row.get("split"), []).append(row)
    rows = []
    for s in SPLITS:
        own = listed[s] if len(listed[s]) == len(texts[s]) else None
        for i, abc in enumerate(texts[s]):
            row = own[i] if own else {"collection": "", "source_file": f"{s}.abc",
                                      "x": header_field(abc, "X"), "title": header_field(abc, "T")}
            rows.append({"split": s, "collection": row["collection"], "source_file": row["source_file"],
                         "x": row["x"], "title": row["title"]})
    if not rows:
        raise CharrnnError(f"{folder / 'train.abc'}: no ABC tunes found (a tune starts with an 'X:' line)")
    return rows, texts["train"] + texts["valid"]


def _counts(abcs, ns, progress=None):
    """(row numbers, term ids, counts) of the profiles of `abcs` (ns: (joint n's, interval n's)),
    one entry per distinct term of a tune."""
    rows, ids, counts = [], [], []
    for i, abc in enumerate(abcs):
        found, n = np.unique(terms(melody(abc), *ns), return_counts=True)
        rows.append(np.full(len(found), i))
        ids.append(found)
        counts.append(n)
        if progress is not None:
            progress.update(1)
    empty = np.zeros(0, np.int64)
    return (np.concatenate(rows or [empty]), np.concatenate(ids or [empty]), np.concatenate(counts or [empty]))


def _unit_rows(matrix, extra_square=None):
    """Rows scaled to length 1 (`extra_square`: squared weight each row has outside the matrix)."""
    square = np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
    if extra_square is not None:
        square = square + extra_square
    scale = np.divide(1.0, np.sqrt(square), out=np.zeros_like(square), where=square > 0)
    return sparse.diags(scale) @ matrix


class SimilarityIndex:
    """A corpus's tune profiles: `matrix` (tunes x terms, unit rows), `terms` (sorted n-gram ids),
    `idf`, `rows` (provenance of each tune), the folder they came from and `ns`, the n-gram sizes
    of the profiles ((joint, interval): charrnn.similarity.profile.terms)."""

    def __init__(self, folder, matrix, term_ids, idf, rows, digest, ns=(JOINT_NS, INTERVAL_NS)):
        self.folder, self.matrix, self.terms, self.idf = Path(folder), matrix.tocsr(), term_ids, idf
        self.rows, self.digest, self.ns = rows, digest, ns
        self._texts = None

    @classmethod
    def build(cls, folder, progress=None, ns=(JOINT_NS, INTERVAL_NS)):
        """Profile every tune of corpus `folder` (progress: a tqdm bar to advance a tune at a time;
        ns: other n-gram sizes than the stored index's, to compare them)."""
        digest = corpus_digest(folder)
        rows, texts = corpus_rows(folder)
        if progress is not None:
            progress.reset(total=len(texts))
        row, ids, counts = _counts(texts, ns, progress)
        term_ids, column = np.unique(ids, return_inverse=True)
        df = np.bincount(column, minlength=len(term_ids))
        idf = (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
        weights = (1 + np.log(counts)) * idf[column]
        matrix = sparse.csr_matrix((weights.astype(np.float32), (row, column)), shape=(len(texts), len(term_ids)))
        index = cls(folder, _unit_rows(matrix).astype(np.float32), term_ids, idf, rows, digest, ns)
        index._texts = texts
        return index

    def save(self):
        """similar.npz, then similar.json (which names the corpus digest the arrays were built from)."""
        npz, meta = (self.folder / name for name in INDEX_FILES)
        with replacing(npz) as tmp:
            with open(tmp, "wb") as f:  # a file object: np.savez adds no suffix to it
                np.savez(f, data=self.matrix.data, indices=self.matrix.indices, indptr=self.matrix.indptr,
                         shape=np.array(self.matrix.shape), terms=self.terms, idf=self.idf,
                         digest=np.array(json.dumps(self.digest, sort_keys=True)))
        write_json_atomic(meta, {"version": VERSION, "joint_ns": list(self.ns[0]), "interval_ns": list(self.ns[1]),
                                 "corpus": self.digest, "rows": self.rows}, ensure_ascii=False)

    @classmethod
    def read(cls, folder):
        """The stored index of `folder`, or None when there is none or it is not of this corpus."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / INDEX_FILES[1]).read_text(encoding="utf-8"))
            with np.load(folder / INDEX_FILES[0], allow_pickle=False) as arrays:
                stored = json.loads(str(arrays["digest"]))
                matrix = sparse.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]),
                                           shape=tuple(arrays["shape"]))
                term_ids, idf = arrays["terms"], arrays["idf"]
        except (OSError, ValueError, KeyError):
            return None
        settings = (meta.get("version"), meta.get("joint_ns"), meta.get("interval_ns"))
        if settings != (VERSION, list(JOINT_NS), list(INTERVAL_NS)) or stored != meta.get("corpus") \
                or stored != corpus_digest(folder) or len(meta.get("rows", [])) != matrix.shape[0]:
            return None
        return cls(folder, matrix, term_ids, idf, meta["rows"], stored)

    @property
    def texts(self):
        """The ABC text of each indexed tune, in row order (read from the corpus when first asked)."""
        if self._texts is None:
            self._texts = corpus_rows(self.folder)[1]
        return self._texts

    def vectors(self, abcs):
        """The unit TF-IDF rows of `abcs` over this index's terms (unknown terms count in the length)."""
        row, ids, counts = _counts(abcs, self.ns)
        column = np.searchsorted(self.terms, ids)
        known = (column < len(self.terms)) & (self.terms[np.minimum(column, len(self.terms) - 1)] == ids)
        weight = 1 + np.log(counts)
        unknown = np.bincount(row[~known], (weight[~known] * (np.log(1 + len(self.rows)) + 1)) ** 2,
                              minlength=len(abcs))
        matrix = sparse.csr_matrix((weight[known] * self.idf[column[known]], (row[known], column[known])),
                                   shape=(len(abcs), len(self.terms)))
        return _unit_rows(matrix, unknown)

    def scores(self, abcs):
        """(len(abcs), tunes) array of cosine scores in [0, 1]."""
        # tunes x terms times terms x queries: the row-major product, several times faster than Q @ M.T
        return np.clip((self.matrix @ self.vectors(abcs).T).toarray().T, 0.0, 1.0)

    def nearest(self, abcs, k=5, split=None):
        """For each tune of `abcs`, [(score, row number)] of its k nearest corpus tunes, best first;
        `split` ('train' or 'valid') compares with that part of the corpus only."""
        scores = self.scores(abcs)
        if split is not None:
            scores[:, [r["split"] != split for r in self.rows]] = -1.0
        k = min(k, scores.shape[1])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k else np.zeros((len(abcs), 0), int)
        found = []
        for i, candidates in enumerate(top):
            ranked = sorted(candidates.tolist(), key=lambda c: (-scores[i, c], c))
            found.append([(float(scores[i, c]), c) for c in ranked if scores[i, c] >= 0])
        return found


def load_index(folder, build=True, progress=None):
    """The similarity index of corpus `folder`: the stored one when it is of this corpus, else
    (with `build`) built now, with a line on stderr and a tqdm bar, and stored beside the corpus
    (kept in memory only, with a line saying so, where the folder is not writable)."""
    folder = Path(folder)
    index = SimilarityIndex.read(folder)
    if index is not None:
        return index
    if not build:
        raise CharrnnError(f"{folder}: no similarity index of this corpus (similar.npz, similar.json)")
    from tqdm import tqdm  # imported here: `import charrnn` stays light

    corpus_rows(folder)  # no corpus: the error before the message
    print(f"building the similarity index of {folder} (once; it is kept beside the corpus)", file=sys.stderr)
    bar = progress or tqdm(unit="tunes", desc="similarity index", disable=None, file=sys.stderr)
    try:
        index = SimilarityIndex.build(folder, bar)
    finally:
        bar.close()
    try:
        index.save()
    except OSError as e:
        print(f"note: {folder}: the similarity index is not saved ({e.strerror or e}); it is used from memory",
              file=sys.stderr)
    return index
