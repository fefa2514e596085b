"""A tune: its ABC text and music21's one parse of it, cached. The only definition of what
`parses` and `is_valid` mean; MIDI, audio and sheet music are written from the cached parse.

    tune = Tune(abc)
    tune.title, tune.meter, tune.key, tune.bars, tune.parses, tune.is_valid
    tune.nearest(k=5)                 # the corpus tunes it sounds like (charrnn.similarity)
    tune.to_midi("tune.mid"); tune.to_wav("tune.wav", seconds=20); tune.to_score("tune.svg")
"""
from dataclasses import dataclass
from functools import cached_property

from .abc.bars import MIN_BARS  # noqa: F401 (what a tune needs, read here by the layers above)
from .abc.header import header_field
from .errors import CharrnnError
from .music import audio, engrave, perform
from .music.score import has_notes, read_score, title_of
from .similarity import similar


def is_valid_tune(parses, bars, midi_ok, min_bars=MIN_BARS):
    """The validity test of bench/quality.py, `charrnn evaluate` and `--valid-only`: music21
    parses it into a part with notes, at least `min_bars` bars, and it converts to MIDI."""
    return bool(parses and bars >= min_bars and midi_ok)


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
    def _parsed(self):
        """(music21's Score, None), or (None, the CharrnnError saying why it cannot read the text)."""
        try:
            return read_score(self.abc), None
        except CharrnnError as e:
            return None, e

    def to_stream(self):
        """The tune as a music21 Score (parsed once, cached; do not change it); a CharrnnError
        when music21 cannot read it as one tune."""
        score, error = self._parsed
        if score is None:
            raise error
        return score

    def playable_stream(self):
        """to_stream, and a CharrnnError when the tune has no notes."""
        score = self.to_stream()
        if not has_notes(score):
            raise CharrnnError(f"music21 finds no notes in {title_of(self.abc)!r}")
        return score

    @property
    def bars(self):
        """Number of measures music21 finds in the first part (0 when it cannot parse)."""
        score = self._parsed[0]
        if score is None or not score.parts:
            return 0
        return len(score.parts[0].getElementsByClass("Measure"))

    @property
    def parses(self):
        """music21 parses it into a part with notes."""
        score = self._parsed[0]
        return score is not None and has_notes(score)

    def converts_to_midi(self, workdir=None):
        """It parses and music21 writes it as MIDI, as to_midi does (into `workdir`, else a temp folder)."""
        return self.parses and perform.converts_to_midi(self._parsed[0], workdir)

    @cached_property
    def is_valid(self):
        """is_valid_tune: parses into at least MIN_BARS bars and converts to MIDI (repeats played out)."""
        could_pass = self.parses and self.bars >= MIN_BARS  # convert only a tune that could pass
        return is_valid_tune(self.parses, self.bars, could_pass and self.converts_to_midi())

    def to_midi(self, path, program=None, tempo=None, chords=True):
        """Write a MIDI file (music21 writes it), chord symbols played as an accompaniment unless
        `chords` is False; program: a General MIDI number or an instrument name; returns the path."""
        return perform.write_midi(self.playable_stream(), path, program=program, tempo=tempo, title=self.title,
                                  chords=chords)

    def to_wav(self, path, **options):
        """Render audio through FluidSynth (see charrnn.music.audio.write_wav); returns the path."""
        return audio.write_wav(self.playable_stream(), path, title=self.title, **options)

    def to_score(self, path, fmt=None, annotate=False, bar_numbers=False):
        """Engrave sheet music (SVG, PNG, PDF or MusicXML by the path's suffix; annotate: an SVG whose
        notes carry their place in the text, see charrnn.music.scorebars; bar_numbers: numbered
        bars, a pickup not counted); returns the path."""
        return engrave.write_score(self.abc, path, fmt, parsed=self.playable_stream, annotate=annotate,
                                   bar_numbers=bar_numbers)

    def nearest(self, k=5, corpus=None):
        """The k corpus tunes nearest to this one (charrnn.similarity.similar): is it new?"""
        return similar(self.abc, k=k, corpus=corpus)

    def __str__(self):
        return self.abc
