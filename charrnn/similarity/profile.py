"""A tune's profile: the interval and rhythm n-grams of its melody, the same in every key.

    terms(melody(abc))  ->  int64 array, one id per n-gram occurrence

Each note after the first is a symbol: the interval from the note before (semitones, so a
transposed tune gives the same symbols) and its length against the tune's most common length
(so a tune written in L:1/16 or in halved values gives the same symbols too). A profile holds
n-grams of those symbols (melody and rhythm together) and n-grams of the intervals alone (the
melody heard through a changed rhythm). An id packs the n-gram's symbols base 512; the two kinds
use apart symbol ranges and no symbol is 0, so ids of different n-grams never meet.
"""
from collections import Counter

import numpy as np

MAX_INTERVAL = 12  # a leap of more than an octave is heard as one of an octave
MAX_LENGTH_STEP = 6  # lengths in half-octave steps: 1/8 .. 8 times the common length
JOINT_NS = (3, 4)
INTERVAL_NS = (4, 5)
_BASE = 512
_INTERVAL_SYMBOLS = 400  # interval-only symbols start here; joint symbols are 1 .. 325


def symbols(notes):
    """(joint symbols, interval symbols) of a melody: int arrays one shorter than it."""
    if len(notes) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pitch = np.array([n.pitch for n in notes], np.int64)
    length = np.array([n.length for n in notes], np.float64)
    common = Counter(length.round(6).tolist()).most_common(1)[0][0]
    interval = np.clip(np.diff(pitch), -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    steps = np.clip(np.round(2 * np.log2(length[1:] / common)), -MAX_LENGTH_STEP, MAX_LENGTH_STEP).astype(np.int64)
    joint = 1 + interval * (2 * MAX_LENGTH_STEP + 1) + steps + MAX_LENGTH_STEP
    return joint, _INTERVAL_SYMBOLS + interval


def ngram_ids(seq, n):
    """The id of each n-gram of a symbol sequence (base-512 digits), in order."""
    if len(seq) < n:
        return np.zeros(0, np.int64)
    ids = np.zeros(len(seq) - n + 1, np.int64)
    for j in range(n):
        ids = ids * _BASE + seq[j:len(seq) - n + 1 + j]
    return ids


def terms(notes, joint_ns=JOINT_NS, interval_ns=INTERVAL_NS):
    """Every n-gram id of a melody's profile, once per occurrence."""
    joint, interval = symbols(notes)
    parts = [ngram_ids(joint, n) for n in joint_ns] + [ngram_ids(interval, n) for n in interval_ns]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def bar_terms(notes, n=3):
    """{bar index: set of joint n-gram ids that start in that bar}: which bars two tunes share."""
    joint, _ = symbols(notes)
    ids = ngram_ids(joint, n)
    found = {}
    for i, term in enumerate(ids.tolist()):
        found.setdefault(notes[i + 1].bar, set()).add(term)
    return found
