"""Novelty against the training tunes.

TrainingIndex holds the training tune bodies as one text with a suffix array, so the longest run of
body characters a tune shares with any training tune takes a binary search per step (200 tunes
against 1.1 M characters in seconds), and the training bars as note sequences, so the share of a
tune's bars found in training is a set lookup.
"""
import numpy as np

from ..abc.bars import bar_note_sequences
from ..abc.header import header_field, tune_body
from ..tune import MIN_BARS

_SEPARATOR = "\x00"  # between training bodies, so no shared run can span two tunes


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
