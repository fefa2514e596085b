"""Measurements of ABC tunes, shared by `charrnn evaluate` and `bench/quality.py`.

Each number can be checked on a tune whose answer is known:

- analyse_tune (measure_tunes for a list): what music21 makes of one tune, parsed once (a Tune)
  and measured from that one parse: does it parse, how many bars, which inner bars (not the first
  or last, where pickups live) last exactly what M: demands, does it convert to MIDI; the header;
  structure (parts, repeats, endings, final note vs the tonic of K:); the raw material of the
  musical statistics (pitches, note lengths, notes per bar).
- measure_tunes adds abc2midi's errors and warnings and (with a TrainingIndex) novelty.
- summarise: rates and averages over a set of records.
"""
import io
import math
import multiprocessing
import os
import signal
import tempfile
import threading
import warnings
from collections import Counter
from contextlib import contextmanager, redirect_stderr

import numpy as np

from ..abc.bars import structure_counts
from ..abc.plan import structure_text, tune_plan
from ..abc.header import has_full_header, header_field, normalise_key, normalise_meter, tonic_pitch_class
from ..critic.features import form_counts, length_label
from ..music.abc2midi import abc2midi_counts
from ..tune import MIN_BARS, Tune, is_valid_tune
from .novelty import novelty

LOOP_TIMES = 4  # a tune that plays one bar this many times (as written) loops

PARSE_TIMEOUT_S = 30  # music21 can crawl on pathological text; such a tune counts as invalid


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


def bar_signatures(measures):
    """Each bar as its notes and durations: ((top MIDI pitch or 'r', quarter length), ...); bars
    with nothing that sounds are left out. Two bars are the same bar when their signatures are."""
    bars = []
    for m in measures:
        sig = tuple(("r" if n.isRest else max(p.midi for p in n.pitches), float(n.duration.quarterLength))
                    for n in m.recurse().notesAndRests if _sounding(n) and (n.isRest or n.pitches))
        if sig:
            bars.append(sig)
    return bars


def _outside_key(part, notes):
    """The share of sounding notes whose pitch class the key signature's scale lacks (accidentals
    that are heard: a C natural in D major, a G sharp in A minor)."""
    signature = part.recurse().getElementsByClass("KeySignature").first()
    if signature is None or not notes:
        return 0.0
    scale = {p.pitchClass for p in signature.asKey("major").getPitches()}
    heard = [max(n.pitches, key=lambda p: p.midi).pitchClass for n in notes if n.pitches]
    return sum(pc not in scale for pc in heard) / max(1, len(heard))


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
    found["lengths"] = [length_label(n.duration.quarterLength) for n in notes]
    found["notes_per_bar"] = [sum(1 for n in m.recurse().notes if _sounding(n)) for m in measures]
    found.update(form_counts(bar_signatures(measures)))
    found["outside_key"] = _outside_key(part, notes)
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
              "ends_on_tonic": None, "pitches": [], "lengths": [], "notes_per_bar": [], "outside_key": 0.0,
              **form_counts([])}
    record.update(structure_counts(abc))
    record["plan"] = structure_text(tune_plan(abc))
    tune = Tune(abc)  # parsed once: the measurements and the MIDI conversion share its parse
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
                    record["midi_ok"] = tune.converts_to_midi(workdir)
        except TimeoutError:
            pass
        if limit["expired"]:
            record.update(timed_out=True, midi_ok=False)  # whatever finished is not the whole story
    record["valid"] = is_valid_tune(record["parses"], record["bars"], record["midi_ok"], min_bars)
    record["complete"] = record["header_ok"] and record["bars"] >= min_bars
    return record


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


def _ratio(records, part, whole):
    """A pooled rate: the sum of `part` over the sum of `whole` (None when whole is 0)."""
    total = sum(r.get(whole, 0) for r in records)
    return sum(r.get(part, 0) for r in records) / total if total else None


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
        "bars_mean": _mean(r["bars"] for r in parsed),
        "loop_rate": _share(r["bar_most"] >= LOOP_TIMES for r in parsed),
        "plans": dict(Counter(r.get("plan", "") for r in records).most_common(5)),
        "parts": dict(sorted(Counter(r["parts"] for r in records).items())),
        "parts_mean": _mean(r["parts"] for r in records),
        "repeat_rate": _share(r["repeat_starts"] + r["repeat_ends"] > 0 for r in records),
        "ending_rate": _share(r["first_endings"] > 0 and r["second_endings"] > 0 for r in records),
        "tonic_ending_rate": _share(r["ends_on_tonic"] for r in records),
        "repeated_bar_share": _ratio(records, "bars_repeated", "bars_measured"),
        "bar_plus4_share": _ratio(records, "bars_plus4_equal", "bars_plus4"),
    }
    if records and "longest_run" in records[0]:
        summary["longest_run"] = _percentiles([r["longest_run"] for r in records])
        summary["longest_run_share"] = _percentiles([r["longest_run_share"] for r in records])
        summary["bar_share_mean"] = _mean(r["bar_share"] for r in records)
        summary["near_copy_rate"] = _share(r["near_copy"] for r in records)
    return summary


def finite(value):
    """value, or None where it is NaN or infinite (JSON has no NaN)."""
    return value if value is None or math.isfinite(value) else None
