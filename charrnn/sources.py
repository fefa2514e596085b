"""The tunes of a corpus's sources, streamed: ABC and MIDI files read in pieces, normalised by worker
processes, exact duplicates dropped, in the order of the files, with a record of what was skipped.

    skips = Skips()
    for tune in unique_tunes(corpus_files(["oneills1850", "my_tunes/"]), skips, workers=4):
        ...                                   # AbcTune records, as read_tunes' order, no duplicates
    print(skips.lines())                      # "bad.mid: midi2abc cannot convert it: ...", counts

Memory stays bounded however large the input: a file is read a piece (about PIECE_CHARS) at a time,
at most two work items per worker are in flight, and duplicates are found by a 16-byte hash of each
tune's body, not by its text.
"""
import hashlib
import os
import re
import signal
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from .abc.header import FIELD, header_field
from .abc.repeats import implicit_repeats
from .abc.text import read_abc_pieces, split_tunes, strip_comment
from .errors import CharrnnError
from .music.midi import MIDI_SUFFIXES, midi_to_abc
from .music.tools import find_tool

DEFAULT_COLLECTIONS = ("oneills1850", "ryansMammoth", "airdsAirs")
SUFFIXES = (".abc",) + MIDI_SUFFIXES
PIECE_CHARS = 1 << 20  # a work item: about 1 M characters (many small files, or a piece of a big one)
MIDI_WEIGHT = 1 << 15  # a MIDI file counts as 32 K characters of work (one midi2abc run)
POOL_MIN_BYTES = 8 << 20  # below 8 MB, starting worker processes costs more than they save
# Header fields that shape the music; the rest (Z: transcriber, N: notes, B: book, S:, I:, ...)
# is bibliography, kept in provenance.csv rather than spent on model capacity.
MUSICAL_HEADERS = set("XTRMLQPK")
# Control characters (but tab) mean binary data, not notation: such a tune is skipped, not learnt.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
NO_TUNES = "no tunes (a tune starts with an 'X:' line and needs a 'K:' line)"


@dataclass(frozen=True)
class AbcTune:
    """One tune's normalised text and where it came from."""

    text: str  # starts with "X:", ends with "\n", no blank lines
    collection: str
    source: str
    x: str
    title: str


@dataclass
class Skips:
    """What a build left out: one line per file it could not use, one per folder naming the files it
    did not read (unread_files), and tunes dropped by reason."""

    files: list = field(default_factory=list)
    unread: list = field(default_factory=list)  # [(folder, files)]
    tunes: Counter = field(default_factory=Counter)

    def lines(self):
        out = [f"skipped {path}: {why}" for path, why in self.files]
        for folder, other in self.unread:  # a tune book saved as .txt is not read: say so
            names = ", ".join(f.name for f in other[:3]) + (", ..." if len(other) > 3 else "")
            out.append(f"skipped {len(other)} file{'s' * (len(other) > 1)} in {folder}: not .abc or MIDI "
                       f"({names}): rename ABC text to .abc to read it")
        if self.tunes:
            counts = ", ".join(f"{n} {why}" for why, n in self.tunes.most_common())
            out.append(f"dropped {sum(self.tunes.values())} tunes: {counts}")
        return out


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
        found = FIELD.match(line)
        if not in_body:
            if not found:
                continue  # stray text inside the header
            key = found.group(1)
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


def body_hash(text):
    """What makes two tunes the same, as 16 bytes: everything but the X: line, whitespace ignored."""
    return hashlib.blake2b(re.sub(r"\s+", "", text.split("\n", 1)[1]).encode(), digest_size=16).digest()


def music21_collection_dir(name):
    """The folder of one of the ABC collections that music21 ships, or None."""
    from music21 import corpus  # imported here: music21 takes a second to load

    folder = Path(corpus.__file__).parent / name
    return folder if folder.is_dir() and any(folder.glob("*.abc")) else None


def source_files(source):
    """(collection, file) pairs for a SOURCE: a music21 collection name, an .abc or MIDI file, a folder."""
    path = Path(source)
    if path.is_file():
        return [(path.parent.name, path)]
    folder = path if path.is_dir() else music21_collection_dir(source)
    if folder is None:
        raise CharrnnError(f"{source}: not an .abc or MIDI file, a folder, or a music21 collection "
                           f"(such as {', '.join(DEFAULT_COLLECTIONS)})")
    files = sorted(f for f in folder.rglob("*") if f.suffix.lower() in SUFFIXES and f.is_file())
    if not files:
        raise CharrnnError(f"{source}: folder holds no .abc files (nor {'/'.join(MIDI_SUFFIXES)})")
    return [(folder.name, f) for f in files]


def _outside(out):
    """A test of paths: not under folder `out` (None: every path passes)."""
    out = Path(out).resolve() if out is not None else None
    return lambda path: out is None or out not in Path(path).resolve().parents


def unread_files(sources, out=None):
    """[(folder, files)]: per folder among the sources, the files under it that are neither .abc nor
    MIDI, which a build does not read (hidden ones, such as .git's, and the corpus folder `out` aside)."""
    found, outside = [], _outside(out)
    for source in map(Path, sources):
        if source.is_dir():
            other = sorted(f for f in source.rglob("*") if f.is_file() and f.suffix.lower() not in SUFFIXES
                           and not any(part.startswith(".") for part in f.relative_to(source).parts) and outside(f))
            if other:
                found.append((source, other))
    return found


def corpus_files(sources, out=None):
    """Every (collection, file) of the sources, in order; errors for a missing source come before any work,
    as does a missing midi2abc when there are MIDI files. Files under `out`, the corpus being written
    (it may lie in a source folder), are not the corpus's sources: a rebuild does not read the last one."""
    outside = _outside(out)
    files = [pair for source in sources for pair in source_files(source) if outside(pair[1])]
    if any(path.suffix.lower() in MIDI_SUFFIXES for _, path in files):
        find_tool("midi2abc")
    return files


def parse_item(item):
    """Worker: [(file number, 'abc' piece or 'midi' path, weight)] -> [(file number, weight, tunes,
    dropped Counter, notes, error)]; a tune is (text, X: as written, title, body hash)."""
    return [parse_entry(*entry) for entry in item]


def parse_entry(number, kind, data, weight):
    tunes, dropped, notes = [], Counter(), []
    if kind == "error":
        return number, weight, tunes, dropped, notes, data
    try:
        text = data
        if kind == "midi":
            text, skipped = midi_to_abc(data)
            notes += skipped
            dropped.update(f"MIDI tracks skipped ({why.split(': ')[1].split(' (')[0]})" for why in skipped)
        for raw in split_tunes(text):
            if CONTROL.search(raw):
                dropped["with control characters (binary data?)"] += 1
                notes.append(f"skipped tune X:{strip_comment(header_field(raw, 'X'))} "
                             f"({header_field(raw, 'T') or 'untitled'}): control characters (binary data?)")
                continue
            tune = normalise_tune(raw)
            if tune is None:
                dropped["without a K: line or music"] += 1
            else:
                tunes.append((tune, strip_comment(header_field(raw, "X")), header_field(tune, "T"), body_hash(tune)))
        if not tunes and kind == "abc" and "\x00" in text:
            notes.append("not UTF-8 or Latin-1 text (NUL bytes: UTF-16 or binary data?)")
    except CharrnnError as e:
        return number, weight, [], dropped, notes, str(e)
    return number, weight, tunes, dropped, notes, None


def work_items(files, piece_chars=PIECE_CHARS):
    """Work items of about piece_chars: pieces of ABC files and MIDI paths, in file order."""
    item, size = [], 0
    for number, (_, path) in enumerate(files):
        if path.suffix.lower() in MIDI_SUFFIXES:
            entries = [(number, "midi", str(path), MIDI_WEIGHT)]
        else:
            entries = abc_entries(number, path, piece_chars)
        for entry in entries:
            item.append(entry)
            size += entry[3]
            if size >= piece_chars:
                yield item
                item, size = [], 0
    if item:
        yield item


def abc_entries(number, path, piece_chars):
    done = 0
    try:
        for piece, read in read_abc_pieces(path, piece_chars):
            yield number, "abc", piece, read - done
            done = read
    except CharrnnError as e:  # unreadable: its own entry, a skip line
        yield number, "error", str(e), 0


def parsed(items, workers):
    """parse_item over items, in order; with workers > 1 in a process pool, two items per worker ahead."""
    if workers <= 1:
        yield from map(parse_item, items)
        return
    # Workers ignore Ctrl-C: this process stops them (no traceback from each), and drops queued work.
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=signal.signal,
                               initargs=(signal.SIGINT, signal.SIG_IGN))
    try:
        ahead = deque()
        for item in items:
            ahead.append(pool.submit(parse_item, item))
            if len(ahead) >= 2 * workers:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)


def unique_tunes(files, skips, workers=None, progress=None):
    """AbcTune records of every file, in order, exact duplicates dropped; what is left out goes to `skips`.

    workers: processes that parse (default: every core, or none but this one for inputs under
    POOL_MIN_BYTES). progress: a tqdm-like bar, advanced by the bytes read."""
    sizes = [path.stat().st_size if path.is_file() else 0 for _, path in files]
    if workers is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        workers = cores if sum(sizes) >= POOL_MIN_BYTES else 1
    seen, state = set(), {"file": -1}

    def finish(number):  # a file is done: advance the bar to its size, say why it gave nothing
        if number < 0:
            return
        if progress is not None:
            progress.update(max(0, sizes[number] - state["weight"]))
        path = files[number][1]
        if state["error"]:
            skips.files.append((path, state["error"].removeprefix(f"{path}: ")))
        elif not state["found"]:
            notes = list(dict.fromkeys(state["notes"]))[:3]  # each piece of a UTF-16 file says the same
            skips.files.append((path, f"no tunes: {'; '.join(notes)}" if notes else NO_TUNES))
        elif state["notes"]:
            more = len(state["notes"]) - 1
            skips.files.append((path, state["notes"][0] + (f" (and {more} more)" if more else "")))

    for results in parsed(work_items(files), workers):
        for number, weight, tunes, dropped, notes, error in results:
            if number != state["file"]:
                finish(state["file"])
                state = {"file": number, "weight": 0, "found": 0, "notes": [], "error": None}
            state["weight"] += weight
            if progress is not None:
                progress.update(weight)
            state["found"] += len(tunes)
            state["notes"] += notes
            state["error"] = state["error"] or error
            skips.tunes.update(dropped)
            collection, path = files[number]
            for text, x, title, key in tunes:
                if key in seen:
                    skips.tunes["duplicates"] += 1
                    continue
                seen.add(key)
                yield AbcTune(text, collection, path.name, x, title)
    finish(state["file"])
