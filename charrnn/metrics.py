"""Measurements of ABC tunes, shared by `charrnn evaluate` and `bench/quality.py`.

Everything here is a plain function of ABC text (or of lists of per-tune records), so each number
in a report can be checked on a tune whose answer is known:

- analyse_tune (measure_tunes for a list): what music21 makes of one tune: does it parse, how
  many bars, which inner bars (not the first or last, where pickups live) last exactly what M:
  demands, does it convert to MIDI; the header; structure (parts, repeats, endings, final note
  vs the tonic of K:); the raw material of the musical statistics (pitches, note lengths, notes
  per bar).
- abc2midi_counts: the errors and warnings abc2midi prints (it exits 0 even on errors).
- TrainingIndex: novelty against the training tunes: the longest run of body characters shared
  with any training tune (a suffix array, so 200 tunes against 1.1 M characters takes seconds)
  and the share of a tune's bars, as note sequences, that occur in some training tune.
- feature_counts / compare_counts: MGEval-style features (Yang & Lerch 2018) pooled over a set of
  tunes, and the overlap area and KL divergence between two such distributions.
- detectability: cross-validated ROC AUC of a classifier that tells two sets of tunes apart.
"""
import io
import math
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import warnings
from collections import Counter
from contextlib import contextmanager, nullcontext, redirect_stderr
from fractions import Fraction
from pathlib import Path

import numpy as np

from .tune import MIN_BARS, Tune, header_field

PARSE_TIMEOUT_S = 30  # music21 can crawl on pathological text; such a tune counts as invalid

# ---------------------------------------------------------------------------------------------
# Header and body


_FIELD_LINE = re.compile(r"^[A-Za-z]:")
REQUIRED_HEADERS = "XTMLK"


def split_header(abc):
    """(header, body): the leading field lines up to and including the first K: line, then the rest.

    A line that is not a field ends the header early (a tune with no K:), so the body is always
    the music, whatever the header lacks.
    """
    lines = abc.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("K:"):
            return "\n".join(lines[:i + 1]), "\n".join(lines[i + 1:])
        if not _FIELD_LINE.match(line):
            return "\n".join(lines[:i]), "\n".join(lines[i:])
    return abc, ""


def tune_body(abc):
    return split_header(abc)[1]


def has_full_header(abc):
    """Starts with X: and its header names T, M, L and K."""
    header = split_header(abc)[0]
    present = {line[0] for line in header.split("\n") if _FIELD_LINE.match(line)}
    return abc.startswith("X:") and set(REQUIRED_HEADERS) <= present


_KEY = re.compile(r"^\s*([A-Ga-g])([#b]?)\s*([A-Za-z]*)")
_MODES = {"": "", "maj": "", "ion": "", "m": "m", "min": "m", "aeo": "m",
          "dor": "dor", "phr": "phr", "lyd": "lyd", "mix": "mix", "loc": "loc"}


def normalise_key(value):
    """A K: value as tonic + mode: 'G', 'Em', 'Ador', 'Bb'; None for K:none, K:HP and the like."""
    m = _KEY.match(value or "")
    if not m:
        return None
    mode = m.group(3).lower()
    mode = _MODES.get(mode if mode == "m" else mode[:3])
    if mode is None:
        mode = ""  # an unknown word after the tonic (exp, clef=...): the tonic is what we know
    return m.group(1).upper() + m.group(2) + mode


_STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
PITCH_CLASS_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def tonic_pitch_class(key_value):
    """Pitch class (0 = C) of the tonic a K: value names, or None."""
    key = normalise_key(key_value)
    if key is None:
        return None
    pc = _STEP_PC[key[0]] + (1 if key[1:2] == "#" else -1 if key[1:2] == "b" else 0)
    return pc % 12


def normalise_meter(value):
    """An M: value with the symbols spelt out: C -> 4/4, C| -> 2/2."""
    value = (value or "").replace(" ", "")
    return {"C": "4/4", "C|": "2/2"}.get(value, value) or None


# ---------------------------------------------------------------------------------------------
# Structure from the text: parts, repeats, endings


_NOT_MUSIC = re.compile(r'"[^"]*"|![^!\n]*!|\{[^}]*\}|\[[A-Za-z]:[^\]]*\]|%[^\n]*')
_BARLINE = re.compile(r"::|:*\[?\|[|\]]?:*")
_SECOND_ENDING_AHEAD = re.compile(r"\s*\[?2")
_NOTE_LETTER = re.compile(r"[A-Ga-g]")


def structure_counts(abc):
    """Parts, repeat signs and first/second endings written in a tune's body.

    A part is a stretch between section bar lines (||, |], |:, :|, ::) that holds at least one
    ordinary bar line and a note, so a pickup before |: is not a part and a repeat sign that
    leads into a second ending (:|2) does not end one.
    """
    body = _NOT_MUSIC.sub(" ", tune_body(abc))
    counts = {"parts": 0, "repeat_starts": 0, "repeat_ends": 0,
              "first_endings": len(re.findall(r"[\[|]1", body)),
              "second_endings": len(re.findall(r"[\[|]2", body))}
    segment_start, plain_bars = 0, 0
    for bar in _BARLINE.finditer(body):
        token = bar.group()
        starts = token == "::" or token.endswith(":")
        ends = token == "::" or token.startswith(":")
        counts["repeat_starts"] += starts
        counts["repeat_ends"] += ends
        if token == "|":
            plain_bars += 1
            continue
        if ends and not starts and _SECOND_ENDING_AHEAD.match(body, bar.end()):
            continue  # the repeat of a first ending: the part goes on into its second ending
        if plain_bars and _NOTE_LETTER.search(body, segment_start, bar.start()):
            counts["parts"] += 1
        segment_start, plain_bars = bar.end(), 0
    if plain_bars and _NOTE_LETTER.search(body, segment_start):
        counts["parts"] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# One tune through music21


@contextmanager
def _time_limit(seconds):
    """Raise TimeoutError after `seconds` (main thread on Unix only; elsewhere no limit).

    Yields a dict whose 'expired' turns True when the limit struck, since music21 and Tune
    catch every Exception (TimeoutError included) and turn it into "cannot parse".
    """
    state = {"expired": False}
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or not seconds:
        yield state
        return

    def _raise(signum, frame):
        state["expired"] = True
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield state
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _sounding(element):
    """Notes and chords that take time: not grace notes, not chord symbols ("Am")."""
    from music21 import harmony

    return element.duration.quarterLength > 0 and not isinstance(element, harmony.Harmony)


def converts_to_midi(abc, workdir=None):
    """charrnn writes the tune as a MIDI file, the way `charrnn generate` and Tune.to_midi do."""
    from . import render

    with tempfile.TemporaryDirectory() if workdir is None else nullcontext(workdir) as folder:
        try:
            render.write_midi(abc, Path(folder) / "tune.mid")
            return True
        except Exception:  # CharrnnError, or music21 internals on odd input
            return False


def _length_label(quarter_length):
    """A note length as a fraction of a whole note ('1/8', '3/16', '1/12' = triplet eighth)."""
    whole = Fraction(quarter_length).limit_denominator(96) / 4
    label = f"{whole.numerator}/{whole.denominator}" if whole.denominator > 1 else str(whole.numerator)
    return label if label in NOTE_LENGTHS else "other"


NOTE_LENGTHS = ["1/32", "1/16", "1/12", "3/32", "1/8", "3/16", "1/4", "3/8", "1/2", "3/4", "1", "other"]


def _score_measurements(score, abc):
    """Bars, inner-bar lengths, tonic ending and raw musical features of a parsed tune."""
    part = score.parts[0]
    measures = list(part.getElementsByClass("Measure"))
    found = {"bars": len(measures)}
    # What M: demands: the tune's first time signature (inline meter changes are rare here).
    ts = part.recurse().getElementsByClass("TimeSignature").first()
    if ts is not None and len(measures) > 2:
        want = ts.barDuration.quarterLength
        inner = measures[1:-1]  # the first and last bar may be pickups that complete each other
        found["inner_bars"] = len(inner)
        found["inner_bars_ok"] = sum(abs(m.duration.quarterLength - want) < 1e-6 for m in inner)
    notes = [n for n in part.recurse().notes if _sounding(n)]
    # A chord stands for its top note: the melody.
    pitches = [max(p.midi for p in n.pitches) for n in notes if n.pitches]
    found["pitches"] = pitches
    found["lengths"] = [_length_label(n.duration.quarterLength) for n in notes]
    found["notes_per_bar"] = [sum(1 for n in m.recurse().notes if _sounding(n)) for m in measures]
    tonic = tonic_pitch_class(header_field(abc, "K"))
    if notes and tonic is not None:
        found["ends_on_tonic"] = tonic in {p.pitchClass for p in notes[-1].pitches}
    return found


def analyse_tune(abc, min_bars=MIN_BARS, workdir=None):
    """Everything music21 and the text say about one tune, as a JSON-friendly dict.

    valid: music21 parses it into a part with at least `min_bars` bars, and it converts to MIDI.
    complete: its header has X, T, M, L, K and it has at least `min_bars` bars.
    """
    record = {"chars": len(abc), "title": header_field(abc, "T"), "header_ok": has_full_header(abc),
              "key": normalise_key(header_field(abc, "K")), "meter": normalise_meter(header_field(abc, "M")),
              "parses": False, "bars": 0, "inner_bars": 0, "inner_bars_ok": 0, "midi_ok": False,
              "ends_on_tonic": None, "pitches": [], "lengths": [], "notes_per_bar": []}
    record.update(structure_counts(abc))
    tune = Tune(abc)
    # music21 warns (through warnings and straight to stderr) about every odd token of
    # generated text: hundreds of lines that would bury the report's own output.
    with warnings.catch_warnings(), redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        limit = {"expired": False}
        try:
            with _time_limit(PARSE_TIMEOUT_S) as limit:
                if tune.parses:
                    score = tune.to_stream()
                    record["parses"] = True
                    record.update(_score_measurements(score, abc))
                    record["midi_ok"] = converts_to_midi(abc, workdir)
        except TimeoutError:
            pass
        if limit["expired"]:
            record.update(timed_out=True, midi_ok=False)  # whatever finished is not the whole story
    record["valid"] = record["parses"] and record["bars"] >= min_bars and record["midi_ok"]
    record["complete"] = record["header_ok"] and record["bars"] >= min_bars
    return record


# ---------------------------------------------------------------------------------------------
# abc2midi


_ABC2MIDI_LINE = re.compile(r"^(Error|Warning) in line-char [0-9-]+ : (.*)$", re.M)


def abc2midi_counts(abc, workdir=None, timeout=20):
    """{'errors': n, 'warnings': n, 'messages': {kind: n}} from abc2midi; None without abc2midi.

    abc2midi exits 0 even on errors, so we count its 'Error in line-char' and
    'Warning in line-char' lines. It runs in check-only mode (-c): no MIDI file is written.
    A message kind is its text with numbers as '#' ('Track # Bar # has #/# time units ...').
    """
    exe = shutil.which("abc2midi")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() if workdir is None else nullcontext(workdir) as folder:
        path = Path(folder) / "tune.abc"
        path.write_text(abc, encoding="utf-8")
        try:
            proc = subprocess.run([exe, str(path), "-c"], cwd=folder, capture_output=True,
                                  text=True, errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"errors": 1, "warnings": 0, "messages": {"Error: abc2midi timed out": 1}}
    found = _ABC2MIDI_LINE.findall(proc.stdout + proc.stderr)
    kinds = Counter(f"{level}: {re.sub(r'[0-9]+', '#', text.strip())}" for level, text in found)
    return {"errors": sum(level == "Error" for level, _ in found),
            "warnings": sum(level == "Warning" for level, _ in found),
            "messages": dict(kinds)}


# ---------------------------------------------------------------------------------------------
# Novelty against the training tunes


_SEPARATOR = "\x00"  # between training bodies, so no shared run can span two tunes
_BAR_NOTE = re.compile(r"\(\d|[_=^]*[A-Ga-gz][,']*\d*/*\d*|[<>]")
_BAR_SPLIT = re.compile(r"\|")  # not on [ or ]: chords [CEG] sit inside bars


def suffix_array(text):
    """Start positions of text's suffixes in sorted order (prefix doubling with numpy).

    Sorted the way Python compares strings (by code point, a prefix before its extensions),
    so a binary search with string slices agrees with it.
    """
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rank = np.unique(codes, return_inverse=True)[1].reshape(-1).astype(np.int64) + 1  # dense: 1..n
    # 0 is kept for "past the end", which sorts before every character.
    k = 1
    while True:
        # Sort by (rank of the first k characters, rank of the next k): the first 2k characters.
        second = np.zeros(n, dtype=np.int64)
        second[:max(n - k, 0)] = rank[k:]
        key = rank * (n + 1) + second  # ranks are <= n, so this orders by (rank, second)
        order = np.argsort(key)
        sorted_key = key[order]
        new_rank = np.empty(n, dtype=np.int64)
        new_rank[order] = np.cumsum(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        rank = new_rank
        if rank.max() == n:  # every suffix told apart
            return order
        k *= 2


def bar_note_sequences(abc):
    """The bars of a tune's body as note sequences: pitches, rests, lengths and tuplet marks only.

    Chord symbols, decorations, grace notes, slurs, ties, spaces and line breaks are dropped, so
    'A2 (Bc) d2' and '"D"A2Bc !trill!d2' are the same bar. Bars of fewer than 3 notes (pickups,
    long final notes) are left out: they occur in every tune and say nothing about copying.
    """
    body = _NOT_MUSIC.sub(" ", tune_body(abc))
    bars = []
    for chunk in _BAR_SPLIT.split(body):
        notes = _BAR_NOTE.findall(chunk)
        if sum(1 for t in notes if t[-1:] not in "<>" and not t.startswith("(")) >= 3:
            bars.append("".join(notes))
    return bars


class TrainingIndex:
    """The training tunes, indexed for novelty questions about other tunes."""

    def __init__(self, train_tunes):
        self.titles = [header_field(t, "T") for t in train_tunes]
        bodies = [tune_body(t).replace(_SEPARATOR, "") for t in train_tunes]
        self.text = "".join(body + _SEPARATOR for body in bodies)
        self.starts = np.cumsum([0] + [len(b) + 1 for b in bodies])[:-1]
        self._sa = suffix_array(self.text).tolist()
        self.bars = {bar for t in train_tunes for bar in bar_note_sequences(t)}

    def _find(self, query):
        """A position where query occurs in the training text, or -1 (binary search, O(log n))."""
        text, sa, size = self.text, self._sa, len(query)
        lo, hi = 0, len(sa)
        while lo < hi:
            mid = (lo + hi) // 2
            if text[sa[mid]:sa[mid] + size] < query:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(sa) and text[sa[lo]:sa[lo] + size] == query:
            return sa[lo]
        return -1

    def longest_run(self, abc):
        """(length, training tune index, the run) of the longest body substring shared with training.

        Walks the body once, only asking whether the best run so far can grow by one character
        from each start: at most 2 x len(body) searches.
        """
        body = tune_body(abc).replace(_SEPARATOR, "")
        best, where, start = 0, -1, 0
        for i in range(len(body)):
            while i + best < len(body):
                pos = self._find(body[i:i + best + 1])
                if pos < 0:
                    break
                best, where, start = best + 1, pos, i
        if best == 0:
            return 0, None, ""
        tune = int(np.searchsorted(self.starts, where, side="right") - 1)
        return best, tune, body[start:start + best]

    def bar_share(self, abc):
        """(share of the tune's bars found in some training tune, number of bars counted)."""
        bars = bar_note_sequences(abc)
        if not bars:
            return None, 0
        return sum(bar in self.bars for bar in bars) / len(bars), len(bars)


# A near-copy: most of the tune's music is in one training tune, or nearly all its bars are
# (each bar may come from a different tune). Human held-out tunes are measured the same way
# in every report, as the reference.
NEAR_COPY_RUN_SHARE = 0.5
NEAR_COPY_BAR_SHARE = 0.9


def novelty(abc, index):
    """Longest shared run (characters and share of the body), bar share and the near-copy flag."""
    body_chars = len(tune_body(abc).strip())
    run, source, _ = index.longest_run(abc)
    share, bars = index.bar_share(abc)
    run_share = min(1.0, run / body_chars) if body_chars else None
    near_copy = bool((run_share is not None and run_share >= NEAR_COPY_RUN_SHARE)
                     or (share is not None and bars >= MIN_BARS and share >= NEAR_COPY_BAR_SHARE))
    return {"body_chars": body_chars, "longest_run": run, "longest_run_share": run_share,
            "longest_run_source": index.titles[source] if source is not None else None,
            "bar_share": share, "bars_counted": bars, "near_copy": near_copy}


# ---------------------------------------------------------------------------------------------
# A set of tunes


def _measure_one(job):
    """analyse_tune and abc2midi_counts of one tune (a worker's unit of work)."""
    abc, min_bars = job
    with tempfile.TemporaryDirectory() as folder:
        record = analyse_tune(abc, min_bars=min_bars, workdir=folder)
        counts = abc2midi_counts(abc, workdir=folder)
    record["abc2midi_errors"] = counts and counts["errors"]
    record["abc2midi_warnings"] = counts and counts["warnings"]
    record["abc2midi_messages"] = counts and counts["messages"]
    return record


def default_jobs():
    """Worker processes for measure_tunes: one per CPU, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def measure_tunes(abcs, index=None, min_bars=MIN_BARS, jobs=1):
    """One record per tune: analyse_tune, abc2midi counts and (with an index) novelty.

    music21 is the cost (about 0.1-0.3 s a tune), so jobs > 1 spreads the tunes over worker
    processes. They are spawned, not forked: a fork of a process that has loaded TensorFlow
    (as `charrnn evaluate` has, to generate) can deadlock on a lock some TensorFlow thread held.
    """
    work = [(abc, min_bars) for abc in abcs]
    if jobs > 1 and len(work) > 1:
        with multiprocessing.get_context("spawn").Pool(min(jobs, len(work))) as pool:
            records = pool.map(_measure_one, work, chunksize=4)
    else:
        records = [_measure_one(job) for job in work]
    if index is not None:
        for record, abc in zip(records, abcs):
            record.update(novelty(abc, index))
    return records


RAW_FIELDS = ("pitches", "lengths", "notes_per_bar")


def public_record(record):
    """A record without its raw note lists (for report.json)."""
    return {k: v for k, v in record.items() if k not in RAW_FIELDS}


def _share(flags):
    flags = [bool(f) for f in flags if f is not None]
    return sum(flags) / len(flags) if flags else None


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _percentiles(values, qs=(10, 50, 90)):
    values = [v for v in values if v is not None]
    if not values:
        return {f"p{q}": None for q in qs}
    return {f"p{q}": float(np.percentile(values, q)) for q in qs}


def _top_messages(records, k=5):
    """The k abc2midi message kinds that most tunes get, as {kind: share of tunes}."""
    tunes_with = Counter(kind for r in records for kind in (r.get("abc2midi_messages") or {}))
    return {kind: count / len(records) for kind, count in tunes_with.most_common(k)}


def summarise(records):
    """Rates and averages over a set of measured tunes (None where nothing could be measured)."""
    parsed = [r for r in records if r["parses"]]
    inner = sum(r["inner_bars"] for r in records)
    summary = {
        "tunes": len(records),
        "timed_out": sum(bool(r.get("timed_out")) for r in records),
        "parse_rate": _share(r["parses"] for r in records),
        "valid_rate": _share(r["valid"] for r in records),
        "midi_rate": _share(r["midi_ok"] for r in records),
        "header_rate": _share(r["header_ok"] for r in records),
        "complete_rate": _share(r["complete"] for r in records),
        "inner_bars": inner,
        "inner_bar_share": sum(r["inner_bars_ok"] for r in records) / inner if inner else None,
        "abc2midi_errors_mean": _mean(r.get("abc2midi_errors") for r in records),
        "abc2midi_warnings_mean": _mean(r.get("abc2midi_warnings") for r in records),
        "abc2midi_clean_rate": _share(r.get("abc2midi_errors") == 0 if r.get("abc2midi_errors") is not None
                                      else None for r in records),
        "abc2midi_top_messages": _top_messages(records),
        "bars": _percentiles([r["bars"] for r in parsed]),
        "parts": dict(sorted(Counter(r["parts"] for r in records).items())),
        "parts_mean": _mean(r["parts"] for r in records),
        "repeat_rate": _share(r["repeat_starts"] + r["repeat_ends"] > 0 for r in records),
        "ending_rate": _share(r["first_endings"] > 0 and r["second_endings"] > 0 for r in records),
        "tonic_ending_rate": _share(r["ends_on_tonic"] for r in records),
    }
    if records and "longest_run" in records[0]:
        summary["longest_run"] = _percentiles([r["longest_run"] for r in records])
        summary["longest_run_share"] = _percentiles([r["longest_run_share"] for r in records])
        summary["bar_share_mean"] = _mean(r["bar_share"] for r in records)
        summary["near_copy_rate"] = _share(r["near_copy"] for r in records)
    return summary


# ---------------------------------------------------------------------------------------------
# Musical statistics (MGEval style) and their comparison


def _intervals(pitches, limit=12):
    """Steps between consecutive melody notes in semitones, clipped to +-limit (octave leaps)."""
    return [max(-limit, min(limit, b - a)) for a, b in zip(pitches, pitches[1:])]


FEATURES = {
    # name: (title, x-axis label, fixed category order or None for sorted-numeric / by-count)
    "pitch_class": ("Pitch classes", "pitch class", PITCH_CLASS_NAMES),
    "pitch_range": ("Pitch range per tune", "semitones from lowest to highest note", None),
    "interval": ("Melodic intervals", "semitones to the next note (+ up, - down; +-12 = octave or more)",
                 list(range(-12, 13))),
    "note_length": ("Note lengths", "fraction of a whole note (1/12 = triplet eighth)", NOTE_LENGTHS),
    "notes_per_bar": ("Notes per bar", "notes in a bar", None),
    "key": ("Keys (K:)", "key", None),
    "meter": ("Meters (M:)", "meter", None),
}


def feature_counts(records):
    """Each MGEval-style feature as a Counter over its categories, pooled over the parsed tunes."""
    counts = {name: Counter() for name in FEATURES}
    for r in records:
        if not r["parses"]:
            continue
        pitches = r["pitches"]
        counts["pitch_class"].update(PITCH_CLASS_NAMES[p % 12] for p in pitches)
        if pitches:
            counts["pitch_range"][max(pitches) - min(pitches)] += 1
        counts["interval"].update(_intervals(pitches))
        counts["note_length"].update(r["lengths"])
        counts["notes_per_bar"].update(r["notes_per_bar"])
        counts["key"][r["key"] or "none"] += 1
        counts["meter"][r["meter"] or "none"] += 1
    return counts


def categories(name, *counters):
    """The categories of a feature in display order: fixed, numeric, or most common first."""
    fixed = FEATURES[name][2]
    seen = set().union(*counters)
    if fixed is not None:
        return list(fixed)
    if all(isinstance(c, (int, np.integer)) for c in seen):
        return sorted(seen)
    total = Counter()
    for c in counters:
        total.update(c)
    return sorted(seen, key=lambda c: (-total[c], str(c)))


KL_SMOOTHING = 1e-3


def compare_counts(a, b, cats=None):
    """Overlap area and KL(a || b) of two count distributions over the same categories.

    overlap = sum of min(p, q): 1 for identical distributions, 0 for disjoint ones.
    kl = sum p log(p / q) in nats, after mixing each with 0.1% of a uniform distribution so a
    category one side never uses costs a bounded amount: 0 for identical distributions.
    Returns None when either side is empty.
    """
    cats = list(cats) if cats is not None else sorted(set(a) | set(b), key=str)
    p = np.array([a.get(c, 0) for c in cats], dtype=float)
    q = np.array([b.get(c, 0) for c in cats], dtype=float)
    if not cats or p.sum() == 0 or q.sum() == 0:
        return None
    p, q = p / p.sum(), q / q.sum()
    overlap = float(np.minimum(p, q).sum())
    ps = (1 - KL_SMOOTHING) * p + KL_SMOOTHING / len(cats)
    qs = (1 - KL_SMOOTHING) * q + KL_SMOOTHING / len(cats)
    kl = float(np.sum(ps * np.log(ps / qs)))
    return {"overlap": overlap, "kl": max(kl, 0.0)}


def compare_features(reference, candidate):
    """Per feature, compare_counts(reference, candidate) of feature_counts of two sets of records."""
    ref, cand = feature_counts(reference), feature_counts(candidate)
    return {name: compare_counts(ref[name], cand[name], categories(name, ref[name], cand[name]))
            for name in FEATURES}


def halves(items):
    """Two halves (even and odd positions) of a list: a human-vs-human ceiling."""
    return items[0::2], items[1::2]


# ---------------------------------------------------------------------------------------------
# Detectability


def feature_vector(record):
    """One tune's musical features as numbers: pitch-class, interval and note-length shares,
    pitch range and mean notes per bar (None when the tune did not parse or has no notes)."""
    if not record["parses"] or len(record["pitches"]) < 2:
        return None
    pitches = record["pitches"]
    pc = np.bincount([p % 12 for p in pitches], minlength=12) / len(pitches)
    steps = _intervals(pitches)
    iv = np.bincount([s + 12 for s in steps], minlength=25) / len(steps)
    lengths = Counter(record["lengths"])
    ln = np.array([lengths[c] for c in NOTE_LENGTHS], dtype=float) / max(1, len(record["lengths"]))
    per_bar = record["notes_per_bar"]
    extra = [max(pitches) - min(pitches), float(np.mean(per_bar)) if per_bar else 0.0]
    return np.concatenate([pc, iv, ln, extra])


def detectability(records_a, records_b, random_seed=0, folds=5, trees=200):
    """How well a random forest tells set b from set a by their features: cross-validated ROC AUC.

    0.5 means it cannot tell them apart, 1.0 that it always can. Returns None when either set has
    fewer tunes with features than there are folds.
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    xa = [v for v in map(feature_vector, records_a) if v is not None]
    xb = [v for v in map(feature_vector, records_b) if v is not None]
    if len(xa) < folds or len(xb) < folds:
        return None
    x = np.vstack(xa + xb)
    y = np.r_[np.zeros(len(xa)), np.ones(len(xb))]
    clf = RandomForestClassifier(n_estimators=trees, min_samples_leaf=2, class_weight="balanced",
                                 random_state=random_seed, n_jobs=1)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_seed)
    scores = cross_val_score(clf, x, y, cv=cv, scoring="roc_auc")
    return {"auc": float(scores.mean()), "auc_std": float(scores.std()),
            "n_a": len(xa), "n_b": len(xb), "folds": folds}


def finite(value):
    """value, or None where it is NaN or infinite (JSON has no NaN)."""
    return value if value is None or math.isfinite(value) else None
