"""Build the training corpus: ABC tunes split, cleaned, de-duplicated and split by tune.

    charrnn data build                         # O'Neill's 1850, Ryan's Mammoth, Aird's Airs -> data/abc/
    charrnn data build ~/tunes/ --out mydata    # your own .abc and .mid files, folders of them
    charrnn data build big/ --workers 2         # parsing processes (default: every core)

The corpus folder holds `train.abc` and `valid.abc` (one blank line between tunes),
`provenance.csv` (split, collection, source file, X: number, title of every tune),
`char_to_idx.json`, the vocabulary, and the same texts as ids for training to memory-map
(`train.ids.npy`, `valid.ids.npy`, with `ids.json` saying what they encode; `load_ids`). Every
10th tune (index 0, 10, 20, ...) is held out, the same rule `../shared/bench/ngram_bpc.py` uses,
so baselines compare on one split. The build streams (`charrnn.sources`): files are written a tune
at a time into temporary files, renamed into place only when all is done, so memory stays bounded
and an interrupted build leaves the old corpus, never half of a new one.
"""
import csv
import json
import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Optional

from .abc.text import join_tunes, read_abc_text, split_tunes
from .errors import CharrnnError, check_out_folder
from .files import temp_path, write_json_atomic
from .nn.ids import encode_file, ids_dtype, open_ids
from .nn.sampling import START_FILE
from .nn.vocab import Vocabulary
from .sources import DEFAULT_COLLECTIONS, Skips, corpus_files, unique_tunes, unread_files

VALID_EVERY = 10
START_TUNES = 64  # tunes a run's start.abc holds (charrnn.nn.sampling.StartTunes)
START_TUNE_CHARS = 500  # the longest start tune: lanes read their start tunes in this many steps
SPLITS = ("train", "valid")
NO_TUNES = "no ABC tunes found (a tune starts with an 'X:' line and needs a 'K:' line)"


def is_valid_index(i):
    """The split rule: every VALID_EVERY-th tune (index 0, 10, ...) is validation."""
    return i % VALID_EVERY == 0


def split_train_valid(tunes):
    """Deterministic split by tune (is_valid_index)."""
    valid = [t for i, t in enumerate(tunes) if is_valid_index(i)]
    train = [t for i, t in enumerate(tunes) if not is_valid_index(i)]
    return train, valid


def held_out_halves(tunes):
    """(the held-out tunes form.json and critic.json are fitted on, the ones left to judge them):
    the tunes at odd positions (1, 3, 5, ...) and at even ones (2, 4, 6, ...), `HALVES` in words.

    Alternate tunes, not the first and the second half: held-out tunes follow the corpus's sources
    in order, so the two halves would come from different collections, and a judge would tell them
    apart, and tell the model's tunes (which follow the whole corpus) from the second half, by
    collection alone. Works on any list in the held-out tunes' order (their measured records too)."""
    return tunes[0::2], tunes[1::2]


HALVES = ("the odd-numbered held-out tunes (1, 3, 5, ...)", "the even-numbered held-out tunes (2, 4, 6, ...)")


def start_tunes(tunes, count=START_TUNES, max_chars=START_TUNE_CHARS):
    """`count` tunes spread evenly over `tunes` (the training split, whose collections keep tunes of
    a kind together, so the spread keeps the corpus's mix of kinds), skipping those longer than
    max_chars: the tunes sampling lanes start after (charrnn.nn.sampling.StartTunes)."""
    short = [t for t in tunes if len(t) <= max_chars] or sorted(tunes, key=len)[:1]
    count = min(count, len(short))
    return [short[i * len(short) // count] for i in range(count)]


def corpus_start_tunes(folder, corpus):
    """The start tunes of a run trained on corpus `folder`, as one text: the corpus's own start.abc
    when it has one (a transposed corpus keeps its source's, in their own keys: a lane takes the
    key of the tune it read), else start_tunes of its training tunes."""
    path = Path(folder) / START_FILE
    return join_tunes(split_tunes(read_abc_text(path)) if path.is_file() else start_tunes(corpus.train_tunes))


def collect_tunes(sources, skips=None, workers=1):
    """Every tune of the sources, in order, exact duplicates dropped (same body, whitespace ignored)."""
    tunes = list(unique_tunes(corpus_files(sources), skips or Skips(), workers=workers))
    if not tunes:
        raise CharrnnError(f"{', '.join(map(str, sources))}: {NO_TUNES}")
    return tunes


class CorpusWriter:
    """The corpus files written a tune at a time, under temporary names beside their places;
    commit() adds the vocabulary and the ids and renames everything into place (discard() drops it)."""

    NAMES = ("train.abc", "valid.abc", "provenance.csv", "char_to_idx.json",
             "train.ids.npy", "valid.ids.npy", "ids.json")  # renamed in this order: ids.json last

    def __init__(self, out):
        self.out = Path(out)
        self.tmp = {name: temp_path(self.out / name) for name in self.NAMES}
        self.files = {s: open(self.tmp[f"{s}.abc"], "w", encoding="utf-8", newline="") for s in SPLITS}
        self.csv_file = open(self.tmp["provenance.csv"], "w", newline="", encoding="utf-8")
        self.provenance = csv.writer(self.csv_file)
        self.provenance.writerow(["split", "collection", "source_file", "x", "title"])
        self.tunes = {s: 0 for s in SPLITS}
        self.chars = {s: 0 for s in SPLITS}
        self.charset = set()

    def add(self, tune, split=None):
        """Append a tune to `split`; by default the split rule (is_valid_index) over the tunes added so far."""
        split = split or ("valid" if is_valid_index(sum(self.tunes.values())) else "train")
        text = "\n" + tune.text if self.tunes[split] else tune.text  # join_tunes: a blank line between
        self.files[split].write(text)
        self.tunes[split] += 1
        self.chars[split] += len(text)
        self.charset.update(tune.text)
        self.provenance.writerow([split, tune.collection, tune.source, tune.x, tune.title])

    def commit(self):
        """Vocabulary, ids, then every file renamed into place; returns the vocabulary."""
        self.close()
        vocab = Vocabulary({ch: i for i, ch in enumerate(sorted(self.charset))})
        vocab.save(self.tmp["char_to_idx.json"])
        for s in SPLITS:
            encode_file(self.tmp[f"{s}.abc"], self.tmp[f"{s}.ids.npy"], vocab, self.chars[s])
        write_json_atomic(self.tmp["ids.json"], {**{f"{s}.abc": self.tmp[f"{s}.abc"].stat().st_size
                                                    for s in SPLITS}, "char_to_idx": vocab.char_to_idx},
                          ensure_ascii=False)
        for name in self.NAMES:
            os.replace(self.tmp[name], self.out / name)
        return vocab

    def close(self):
        for f in (*self.files.values(), self.csv_file):
            f.close()

    def discard(self):
        self.close()
        for path in self.tmp.values():
            path.unlink(missing_ok=True)


def build_corpus(sources=DEFAULT_COLLECTIONS, out="data/abc", workers: Optional[int] = None, progress=None) -> dict:
    """Write train.abc, valid.abc, provenance.csv, char_to_idx.json and the ids into `out`.

    Files that give no tunes are skipped with a line each on stderr, and dropped tunes are counted
    there. workers: parsing processes (default: every core). progress: a tqdm bar over the input's
    bytes, or None for one shown on a terminal. Returns a summary dict (tune and character counts,
    vocabulary size, the skip lines).
    """
    from tqdm import tqdm  # imported here: `import charrnn` stays light

    out = check_out_folder(out)
    sources = list(sources) or list(DEFAULT_COLLECTIONS)
    files = corpus_files(sources, out)  # a missing source is an error before anything is written
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    writer, skips = CorpusWriter(out), Skips()
    bar = progress or tqdm(total=sum(p.stat().st_size for _, p in files if p.is_file()), unit="B", unit_scale=True,
                           desc="data build", disable=None, file=sys.stderr)
    try:
        for tune in unique_tunes(files, skips, workers=workers, progress=bar):
            writer.add(tune)
        bar.close()
        if not sum(writer.tunes.values()):
            n = len(skips.files)
            why = (f"no ABC tunes found: {n} file{'s' * (n > 1)} skipped, the first {skips.lines()[0][8:]}"
                   if skips.files else NO_TUNES)
            raise CharrnnError(f"{', '.join(map(str, sources))}: {why}")
        vocab = writer.commit()
    except BaseException:  # Ctrl-C included: the old corpus stays, no temporary file is left
        bar.close()
        writer.discard()
        if created and not any(out.iterdir()):
            out.rmdir()
        raise
    skips.unread = unread_files(sources, out)
    for line in skips.lines():  # the skip summary: one line a file, then the tunes dropped
        print(line, file=sys.stderr)
    train, valid = writer.tunes["train"], writer.tunes["valid"]
    return {"tunes": train + valid, "train_tunes": train, "valid_tunes": valid,
            "train_chars": writer.chars["train"], "valid_chars": writer.chars["valid"],
            "vocab_size": len(vocab), "out": str(out), "skipped": skips.lines()}


def load_ids(folder, vocab):
    """(train ids, valid ids) of a corpus folder under `vocab`: train.ids.npy and valid.ids.npy,
    memory-mapped, when ids.json says they encode these very texts with this vocabulary; else the
    texts encoded here (an UnknownCharactersError names characters `vocab` lacks)."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        if meta["char_to_idx"] == vocab.char_to_idx and all(
                (folder / f"{s}.abc").stat().st_size == meta[f"{s}.abc"] for s in SPLITS):
            return tuple(open_ids(folder / f"{s}.ids.npy") for s in SPLITS)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no ids, or not these: encode the text
    corpus = load_corpus(folder)
    dtype = ids_dtype(len(vocab))
    return (vocab.encode(corpus.train_text, where=str(folder / "train.abc")).astype(dtype),
            vocab.encode(corpus.valid_text, where=str(folder / "valid.abc")).astype(dtype))


@dataclass(frozen=True)
class Corpus:
    """A built corpus folder, read back: texts and vocabulary."""

    train_text: str
    valid_text: str
    vocab: Vocabulary

    @cached_property  # split once: evaluation and surveys read these lists repeatedly
    def train_tunes(self):
        return split_tunes(self.train_text)

    @cached_property
    def valid_tunes(self):
        return split_tunes(self.valid_text)


def load_corpus(folder="data/abc") -> "Corpus":
    """Read a corpus folder written by build_corpus; a clear error if it is not one."""
    folder = Path(folder)
    train_path, valid_path = folder / "train.abc", folder / "valid.abc"
    if not train_path.is_file():
        raise CharrnnError(f"{folder}: no train.abc here (build one with `charrnn data build --out {folder}`)")
    train_text = read_abc_text(train_path)
    valid_text = read_abc_text(valid_path) if valid_path.is_file() else ""
    if not split_tunes(train_text):
        raise CharrnnError(f"{train_path}: no ABC tunes found (a tune starts with an 'X:' line)")
    vocab_path = folder / "char_to_idx.json"
    vocab = Vocabulary.load(vocab_path) if vocab_path.is_file() else Vocabulary.from_text(train_text + valid_text)
    return Corpus(train_text, valid_text, vocab)


def model_corpus(folder):
    """The corpus folder the model in run folder `folder` was trained on, from its train_args.json.

    New runs record an absolute path; a relative one (the pretrained model records data/abc) is
    looked for in the current folder, then in the run folder and each folder above it, so the
    pretrained model finds the corpus of the checkout it lies in."""
    folder = Path(folder)
    args_path = folder / "train_args.json"
    try:
        data = json.loads(args_path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CharrnnError(f"{folder}: the model does not record its corpus ({args_path} missing or "
                           "without 'data'); pass --data") from None
    recorded = Path(data)
    above = [folder, *folder.resolve().parents]
    candidates = [recorded] if recorded.is_absolute() else [recorded, *(f / recorded for f in above)]
    for candidate in candidates:
        if (candidate / "train.abc").is_file():
            return candidate
    raise CharrnnError(f"{folder}: the model's corpus {data} is not found; build it with "
                       f"`charrnn data build --out {data}` or pass --data")
