"""Held-out bits per character of two simple baselines, for a train/test text pair.

A trained model is only worth its weights if it predicts held-out tunes better than:

- xz -9e: compress the test text with the training text as preamble; the extra compressed
  bits per test character are an upper bound on what a general-purpose compressor learns.
- an interpolated Kneser-Ney character n-gram model (order 5 by default).

Both follow `../shared/bench/ngram_bpc.py` exactly (same formulas, same discount), so the numbers
compare with that script's on the same split; the n-gram counts here are built from whole n-gram
strings with collections.Counter instead of nested per-character dicts, which makes the 1.1 M
character corpus take seconds rather than minutes.
"""
import lzma
import math
from collections import Counter

XZ_PRESET = 9 | lzma.PRESET_EXTREME


def xz_bpc(train, test):
    """Bits per test character that xz -9e spends on `test` after it has seen `train`."""
    if not test:
        return float("nan")
    both = lzma.compress((train + test).encode("utf-8"), preset=XZ_PRESET)
    only = lzma.compress(train.encode("utf-8"), preset=XZ_PRESET)
    return (len(both) - len(only)) * 8 / len(test)


def _ngram_counts(text, length):
    """How often each substring of `length` characters occurs in text."""
    return Counter(text[i:i + length] for i in range(len(text) - length + 1))


def _context_tables(grams):
    """Per context (all but the last character): total count and number of distinct next characters."""
    totals, types = Counter(), Counter()
    for gram, count in grams.items():
        totals[gram[:-1]] += count
        types[gram[:-1]] += 1
    return totals, types


class KneserNey:
    """Interpolated Kneser-Ney character model of a given order (context = order - 1 characters).

    The highest order uses raw counts; every lower order uses continuation counts (how many
    distinct characters precede an n-gram), discounted by `discount`, down to a uniform
    distribution over `vocab_size` characters.
    """

    def __init__(self, train, order=5, discount=0.75, vocab_size=None):
        if order < 1:
            raise ValueError("order must be at least 1")
        self.order, self.discount = order, discount
        self.vocab_size = vocab_size or len(set(train))
        # tables[n] serves contexts of n characters: (gram counts, context totals, context types).
        self.tables = []
        top = _ngram_counts(train, order)
        seen = set(top)  # distinct raw n-grams one order up, walking down
        for n in range(order - 1, -1, -1):
            if n == order - 1:
                grams = top
            else:
                # Continuation count of gram g: distinct characters x with x+g in the training text.
                grams = Counter(g[1:] for g in seen)
                # The raw (n+1)-grams: suffixes of the longer ones, plus the one that opens the text.
                seen = set(grams) | ({train[:n + 1]} if len(train) > n else set())
            self.tables.append((grams, *_context_tables(grams)))
        self.tables.reverse()

    def prob(self, context, char):
        """P(char | the last order-1 characters of context)."""
        p = 1.0 / self.vocab_size
        for n in range(self.order):
            if len(context) < n:
                break
            history = context[len(context) - n:] if n else ""
            grams, totals, types = self.tables[n]
            total = totals.get(history)
            if not total:
                continue  # unseen context: keep the lower-order estimate
            count = grams.get(history + char, 0)
            p = max(count - self.discount, 0) / total + self.discount * types[history] / total * p
        return p

    def bits_per_char(self, test):
        """Mean -log2 P over test, each character predicted from the test text before it."""
        if not test:
            return float("nan")
        k = self.order - 1
        bits = 0.0
        for i, char in enumerate(test):
            bits -= math.log2(self.prob(test[max(0, i - k):i], char))
        return bits / len(test)


def kn_bpc(train, test, order=5, discount=0.75):
    """Held-out bits per character of an interpolated Kneser-Ney n-gram model trained on `train`."""
    vocab_size = len(set(train) | set(test))
    return KneserNey(train, order, discount, vocab_size).bits_per_char(test)


def baseline_bpc(train, test, kn_orders=(5,)):
    """{'xz': bpc, 'kn5': bpc, ...} for one train/test pair."""
    result = {"xz": xz_bpc(train, test)}
    for order in kn_orders:
        result[f"kn{order}"] = kn_bpc(train, test, order)
    return result
