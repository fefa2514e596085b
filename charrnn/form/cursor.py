"""Where each sampling lane is in its tune: header or body, its text, its bars and its tonic.

    cursor = LaneCursor(vocab, prime="X:", n=200)
    starts = cursor.bar_starts(active, ids)   # lanes whose character this step starts a bar
    cursor.advance(active, ids, prev1, out, length)

The rules of charrnn.form.rules read the lanes through it; it is vectorised per step, and
decodes a lane's text only when a rule asks for it.
"""
import numpy as np

from ..abc.bars import NOTE_START, follows_bar_line, is_bar_start
from ..abc.header import body_start, tonic_letter
from .bars import TuneBars


class LaneCursor:
    def __init__(self, vocab, prime, n):
        self.vocab, self.prime = vocab, prime
        chars = vocab.chars
        self.note_start = np.array([c in NOTE_START for c in chars])
        self.bar_char = np.array([c == "|" for c in chars])
        self.colon = np.array([c == ":" for c in chars])  # `::` is a bar line too
        self.keeps_bar = np.array([c in ":] \t\n" for c in chars])  # still just after a bar line
        self.newline, self.k_id = vocab.char_to_idx.get("\n", -1), vocab.char_to_idx.get("K", -1)
        self.in_body = np.full(n, body_start(prime) is not None)
        self.line_start = np.full(n, prime.endswith("\n") or not prime)
        self.k_line = np.full(n, prime.rsplit("\n", 1)[-1].startswith("K"))
        self.after_bar = np.full(n, follows_bar_line(prime))
        self.tonic = [tonic_letter(prime)] * n
        # Bars already in the prime (a composer's opening) can be copied as well.
        opening, body = TuneBars(), body_start(prime)
        for i in range(len(prime)):
            if is_bar_start(prime, i, body):
                opening.bar_start(prime, i)
        self.bars = [TuneBars() for _ in range(n)]
        for bars in self.bars:
            bars.restore(opening.snapshot())
        self.texts, self.decoded = [prime] * n, np.zeros(n, dtype=np.int64)  # text of out[:decoded]

    def text(self, lane, out, length):
        """The lane's text so far (prime + written columns), decoding only what is new."""
        self.texts[lane] += self.vocab.decode(out[lane, self.decoded[lane]:length[lane]])
        self.decoded[lane] = length[lane]
        return self.texts[lane]

    def bar_starts(self, active, ids):
        """A mask over active: this step's character starts a bar (a note after a bar line, in the body)."""
        return self.in_body[active] & self.after_bar[active] & self.note_start[ids]

    def start_bar(self, lane, text, i):
        """A bar starts at text[i]: (its place in its part, the earlier bars on offer) as TuneBars gives them."""
        return self.bars[lane].bar_start(text, i)

    def advance(self, active, ids, prev1, out, length):
        """Read this step's characters `ids` (prev1: each lane's character before them)."""
        newline = ids == self.newline
        for j in np.flatnonzero(newline & self.k_line[active] & ~self.in_body[active]):
            self.tonic[active[j]] = tonic_letter(self.text(active[j], out, length) + "\n")
        self.in_body[active] |= newline & self.k_line[active]
        self.k_line[active] = ~newline & (self.k_line[active] | (self.line_start[active] & (ids == self.k_id)))
        self.line_start[active] = newline
        double_colon = self.colon[ids] & self.colon[prev1[active]]
        self.after_bar[active] = self.bar_char[ids] | double_colon | (self.after_bar[active] & self.keeps_bar[ids])

    def snapshot(self, lane):
        return self.bars[lane].snapshot(), self.after_bar[lane], self.line_start[lane]

    def restore(self, lane, saved, length):
        """The lane as it was at `saved` (a snapshot taken where its bar started, `length` columns in)."""
        bars, self.after_bar[lane], self.line_start[lane] = saved
        if self.decoded[lane] > length:  # the text it takes back is written anew
            self.texts[lane] = self.texts[lane][:len(self.prime) + length]
            self.decoded[lane] = length
        self.bars[lane].restore(bars)
        self.in_body[lane], self.k_line[lane] = True, False
