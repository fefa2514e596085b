"""A generated (or read) tune: its ABC text, header fields, and music21 / MIDI / audio / score views."""
import re
from dataclasses import dataclass
from functools import cached_property

from .repeats import explicit_repeats

MIN_BARS = 8  # a tune needs this many bars (music21 measures) to count as a tune


def header_field(abc, key):
    """The first `key:` header value of an ABC tune ('' when absent)."""
    m = re.search(rf"^{key}:(.*)$", abc, flags=re.M)
    return m.group(1).strip() if m else ""


@dataclass(frozen=True)
class Tune:
    abc: str

    @property
    def title(self):
        return header_field(self.abc, "T")

    @property
    def meter(self):
        return header_field(self.abc, "M")

    @property
    def key(self):
        return header_field(self.abc, "K")

    @cached_property
    def _score(self):
        """music21's parse of the text, or None when music21 cannot read it as one tune."""
        import music21

        try:
            score = music21.converter.parse(explicit_repeats(self.abc), format="abc")  # as render.parse
        except Exception:  # music21 raises many types on malformed ABC; any of them means "cannot read"
            return None
        # Text with a second X: line reads as an Opus of several tunes: not one tune.
        return score if isinstance(score, music21.stream.Score) else None

    def to_stream(self):
        """The tune as a music21 Score; a CharrnnError when music21 cannot parse it."""
        from .errors import CharrnnError

        if self._score is None:
            raise CharrnnError(f"music21 cannot parse the tune {self.title!r}")
        return self._score

    @property
    def bars(self):
        """Number of measures music21 finds in the first part (0 when it cannot parse)."""
        if self._score is None or not self._score.parts:
            return 0
        return len(self._score.parts[0].getElementsByClass("Measure"))

    @property
    def parses(self):
        """music21 parses it into a part with notes."""
        score = self._score
        return bool(score is not None and score.parts and score.parts[0].flatten().notes)

    @cached_property
    def is_valid(self):
        """The validity test of bench/quality.py and `charrnn evaluate`: music21 parses it into a
        part with at least MIN_BARS bars, and it converts to MIDI (repeats played out)."""
        from .metrics import converts_to_midi

        return self.parses and self.bars >= MIN_BARS and converts_to_midi(self.abc)

    def to_midi(self, path, program=None, tempo=None):
        """Write a MIDI file (music21 writes it); returns the path."""
        from . import render

        return render.write_midi(self.abc, path, program=program, tempo=tempo)

    def to_wav(self, path, **options):
        """Render audio through FluidSynth (see charrnn.render.write_wav); returns the path."""
        from . import render

        return render.write_wav(self.abc, path, **options)

    def to_score(self, path, **options):
        """Engrave sheet music (SVG, PNG or PDF by the path's suffix); returns the path."""
        from . import render

        return render.write_score(self.abc, path, **options)

    def __str__(self):
        return self.abc
