"""More training text from the same tunes: each training tune transposed into other keys.

    charrnn data transpose --data data/abc --out data/abc-transposed            # shifts -5 -2 +2 +5
    charrnn data transpose --data data/abc --out data/abc-t2 --shifts=-2,2
    charrnn train --data data/abc-transposed --out runs/t --init-from charrnn/pretrained

The new corpus folder holds the source's tunes as they were (train.abc and valid.abc, in the same
order), then one copy of the training tunes per shift, appended to train.abc in the corpus's order:
a lane of training text reads a run of one book's tunes in one key, as it does in the source, and
never one tune twice in a row. The held-out tunes stay as they are, so validation compares with
runs trained on the source, and start.abc names the source's start tunes, in their own keys, for
the runs trained on it (a sampling lane takes the key of the tune it read; charrnn.corpus).
abcMIDI's abc2abc transposes (charrnn.music.abc2abc); its pitches, chord symbols and key are put
into each tune as written (charrnn.abc.transpose.splice_pitches), so the copies keep the corpus's
way of writing. A tune abc2abc does not give back note for note
(about 1% of O'Neill's: key changes inside a tune, K:none) has no copies; the summary counts them.
"""
import csv
import sys
from pathlib import Path

from .abc.transpose import splice_pitches
from .corpus import START_FILE, CorpusWriter, corpus_start_tunes, is_valid_index, load_corpus
from .errors import CharrnnError, check_out_folder
from .files import write_text_atomic
from .music.abc2abc import transpose_tunes
from .sources import AbcTune

TRANSPOSE_SHIFTS = (-5, -2, 2, 5)  # semitones: D -> A, C, E, G; most copies land in common folk keys


def _provenance(folder, corpus):
    """(split, AbcTune) of every source tune in the source's order: provenance.csv's rows, or the
    split rule's order without it."""
    train, valid = list(corpus.train_tunes), list(corpus.valid_tunes)
    path = Path(folder) / "provenance.csv"
    rows = []
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f)]
    if [r.get("split") for r in rows].count("train") != len(train) or \
            [r.get("split") for r in rows].count("valid") != len(valid):
        rows = [{"split": "valid" if is_valid_index(i) else "train"} for i in range(len(train) + len(valid))]
    tunes = {"train": iter(train), "valid": iter(valid)}
    out = []
    for row in rows:
        text = next(tunes[row["split"]], None)
        if text is not None:
            out.append((row["split"], AbcTune(text.strip("\n") + "\n", row.get("collection", ""),
                                              row.get("source_file", ""), row.get("x", ""), row.get("title", ""))))
    return out


def transpose_corpus(data="data/abc", out="data/abc-transposed", shifts=TRANSPOSE_SHIFTS):
    """Write a corpus folder: `data`'s tunes, then its training tunes transposed by each of `shifts`
    (semitones). Returns a summary dict (tunes written per shift, tunes without copies, characters)."""
    shifts = [int(s) for s in shifts]
    if not shifts or any(s == 0 or abs(s) > 11 for s in shifts) or len(set(shifts)) != len(shifts):
        raise CharrnnError(f"shifts must be distinct semitones from -11 to 11, not 0: {shifts}")
    source = Path(data)
    corpus = load_corpus(source)
    out = check_out_folder(out)
    if out.resolve() == source.resolve():
        raise CharrnnError(f"{out}: the transposed corpus needs its own folder (not the source's)")
    tunes = _provenance(source, corpus)
    train = [t for split, t in tunes if split == "train"]
    copies = {s: [splice_pitches(t.text, moved) for t, moved in zip(train, transpose_tunes([t.text for t in train], s))]
              for s in shifts}
    out.mkdir(parents=True, exist_ok=True)
    writer = CorpusWriter(out)
    try:
        for split, tune in tunes:
            writer.add(tune, split=split)
        # Sampling lanes start after the source's start tunes, in their own keys (corpus_start_tunes).
        write_text_atomic(out / START_FILE, corpus_start_tunes(source, corpus))
        for s in shifts:
            for tune, text in zip(train, copies[s]):
                if text is not None:
                    writer.add(AbcTune(text, f"{tune.collection} {s:+d}", tune.source, tune.x, tune.title),
                               split="train")
        vocab = writer.commit()
    except BaseException:
        writer.discard()
        raise
    if vocab.char_to_idx != corpus.vocab.char_to_idx:
        print(f"{out}: the vocabulary differs from {source}'s ({len(vocab)} characters, not {len(corpus.vocab)}): "
              "a model trained on the source cannot be fine-tuned on it", file=sys.stderr)
    return {"shifts": shifts, "source_train_tunes": len(train), "valid_tunes": writer.tunes["valid"],
            "copies": {s: sum(c is not None for c in copies[s]) for s in shifts},
            "train_tunes": writer.tunes["train"], "train_chars": writer.chars["train"],
            "vocab_size": len(vocab), "out": str(out)}
