"""Build the training corpus: ABC tunes split, cleaned, de-duplicated and split by tune.

    charrnn data build                       # O'Neill's 1850, Ryan's Mammoth, Aird's Airs -> data/abc/
    charrnn data build ~/tunes/ --out mydata  # your own .abc files

The corpus folder holds `train.abc` and `valid.abc` (one blank line between tunes),
`provenance.csv` (split, collection, source file, X: number, title of every tune) and
`char_to_idx.json`, the vocabulary. Every 10th tune (index 0, 10, 20, ...) is held out,
the same rule `../shared/bench/ngram_bpc.py` uses, so baselines compare on one split.
"""
import csv
import json
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .abc.header import FIELD, header_field
from .abc.repeats import implicit_repeats
from .abc.text import join_tunes, read_abc_text, split_tunes, strip_comment
from .errors import CharrnnError, check_out_folder
from .files import replacing, write_text_atomic
from .nn.vocab import Vocabulary

DEFAULT_COLLECTIONS = ("oneills1850", "ryansMammoth", "airdsAirs")
VALID_EVERY = 10
# Header fields that shape the music; the rest (Z: transcriber, N: notes, B: book, S:, I:, ...)
# is bibliography, kept in provenance.csv rather than spent on model capacity.
MUSICAL_HEADERS = set("XTRMLQPK")


@dataclass(frozen=True)
class AbcTune:
    """One tune's normalised text and where it came from."""

    text: str  # starts with "X:", ends with "\n", no blank lines
    collection: str
    source: str
    x: str
    title: str


def normalise_tune(raw):
    """Clean one tune: comments and non-musical header fields removed, X: made 'X:1', whitespace tidied,
    and repeat starts that the notation implies left out.

    Returns the tune text ending in '\\n', or None when it is not a usable tune
    (no K: field, or no music after it).
    """
    header, body, in_body = [], [], False
    for line in raw.split("\n"):
        line = strip_comment(line).replace("\t", " ")
        if not line.strip():
            continue
        field = FIELD.match(line)
        if not in_body:
            if not field:
                continue  # stray text inside the header
            key = field.group(1)
            value = line[2:].strip()
            if key == "X" and not header:
                # The reference number is the source book's index, not music: random digits
                # the model would learn to imitate (and garble). provenance.csv keeps it.
                header.append("X:1")
            elif key in MUSICAL_HEADERS:
                header.append(f"{key}:{value}")
            if key == "K":
                in_body = True
        else:
            body.append(line)
    if not in_body or not body or not header[0].startswith("X:"):
        return None
    # Implied repeat starts left out (charrnn.abc.repeats): a part then ends right with :| or |]
    # alike, where a written |: would leave the model one bit to remember for a whole part.
    tune = implicit_repeats("\n".join(header + body) + "\n")
    return "\n".join(line for line in tune.split("\n") if line.strip()) + "\n"


def _body_key(text):
    """What makes two tunes the same: everything but the X: line, whitespace ignored."""
    return re.sub(r"\s+", "", text.split("\n", 1)[1])


# Control characters (but tab) mean binary data, not notation: such a tune is skipped, not learnt.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def read_tunes(path, collection=""):
    """All usable tunes of one .abc file, as AbcTune records."""
    path = Path(path)
    tunes = []
    for raw in split_tunes(read_abc_text(path)):
        if CONTROL.search(raw):
            print(f"note: {path}: skipped tune X:{strip_comment(header_field(raw, 'X'))} "
                  f"({header_field(raw, 'T') or 'untitled'}): it holds control characters (binary data?)",
                  file=sys.stderr)
            continue
        text = normalise_tune(raw)
        if text:
            tunes.append(AbcTune(text, collection or path.parent.name, path.name,
                                 strip_comment(header_field(raw, "X")), header_field(text, "T")))
    return tunes


def music21_collection_dir(name):
    """The folder of one of the ABC collections that music21 ships, or None."""
    from music21 import corpus  # imported here: music21 takes a second to load

    folder = Path(corpus.__file__).parent / name
    return folder if folder.is_dir() and any(folder.glob("*.abc")) else None


def source_files(source):
    """(collection, file) pairs for a SOURCE: a music21 collection name, an .abc file or a folder."""
    path = Path(source)
    if path.is_file():
        return [(path.parent.name, path)]
    folder = path if path.is_dir() else music21_collection_dir(source)
    if folder is None:
        raise CharrnnError(f"{source}: not an .abc file, a folder, or a music21 collection "
                           f"(such as {', '.join(DEFAULT_COLLECTIONS)})")
    files = sorted(folder.rglob("*.abc"))
    if not files:
        raise CharrnnError(f"{source}: folder holds no .abc files")
    return [(folder.name, f) for f in files]


def collect_tunes(sources):
    """Read every source, in order, dropping exact duplicates (same body, whitespace ignored)."""
    seen, tunes = set(), []
    for source in sources:
        for collection, path in source_files(source):
            for tune in read_tunes(path, collection):
                key = _body_key(tune.text)
                if key not in seen:
                    seen.add(key)
                    tunes.append(tune)
    if not tunes:
        raise CharrnnError(f"{', '.join(map(str, sources))}: no ABC tunes found "
                           "(a tune starts with an 'X:' line and needs a 'K:' line)")
    return tunes


def split_train_valid(tunes):
    """Deterministic split by tune: every VALID_EVERY-th tune (index 0, 10, ...) is validation."""
    valid = [t for i, t in enumerate(tunes) if i % VALID_EVERY == 0]
    train = [t for i, t in enumerate(tunes) if i % VALID_EVERY != 0]
    return train, valid


def build_corpus(sources=DEFAULT_COLLECTIONS, out="data/abc"):
    """Write train.abc, valid.abc, provenance.csv and char_to_idx.json into `out`.

    Returns a summary dict (tune and character counts, vocabulary size).
    """
    out = check_out_folder(out)
    tunes = collect_tunes(list(sources) or DEFAULT_COLLECTIONS)
    train, valid = split_train_valid(tunes)
    out.mkdir(parents=True, exist_ok=True)
    train_text = join_tunes(t.text for t in train)
    valid_text = join_tunes(t.text for t in valid)
    write_text_atomic(out / "train.abc", train_text)
    write_text_atomic(out / "valid.abc", valid_text)
    with replacing(out / "provenance.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["split", "collection", "source_file", "x", "title"])
        for i, t in enumerate(tunes):
            split = "valid" if i % VALID_EVERY == 0 else "train"
            writer.writerow([split, t.collection, t.source, t.x, t.title])
    vocab = Vocabulary.from_text(train_text + valid_text)
    vocab.save(out / "char_to_idx.json")
    return {"tunes": len(tunes), "train_tunes": len(train), "valid_tunes": len(valid),
            "train_chars": len(train_text), "valid_chars": len(valid_text),
            "vocab_size": len(vocab), "out": str(out)}


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


def load_corpus(folder="data/abc"):
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

    New runs record an absolute path; a relative one (the shipped weights/ records data/abc) is
    looked for in the current folder, then beside the run folder, so the shipped model's corpus
    is found wherever the repository is, as its weights are."""
    folder = Path(folder)
    args_path = folder / "train_args.json"
    try:
        data = json.loads(args_path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CharrnnError(f"{folder}: the model does not record its corpus ({args_path} missing or "
                           "without 'data'); pass --data") from None
    recorded = Path(data)
    candidates = [recorded] if recorded.is_absolute() else [recorded, folder / recorded, folder.parent / recorded]
    for candidate in candidates:
        if (candidate / "train.abc").is_file():
            return candidate
    raise CharrnnError(f"{folder}: the model's corpus {data} (in {args_path.name}) is not found; pass --data")
