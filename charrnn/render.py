"""Render ABC tunes as MIDI (music21), audio (FluidSynth) and sheet music (abcm2ps, Ghostscript).

    charrnn render tunes.abc --midi --wav --png --out rendered/   # every tune, one file per format
    charrnn render tunes.abc --wav --program flute --tempo 90     # a flute, 90 beats a minute
    charrnn render tunes.abc --midi --no-chords                   # the melody only, chord symbols silent

    from charrnn.render import write_midi, write_wav, write_score
    write_midi(abc, "tune.mid")                      # abc: the text of one tune
    write_wav(abc, "clip.wav", seconds=20, fade=2)   # first ~20 s, cut at a bar line, faded out
    write_score(abc, "tune.png")                     # .svg, .png, .pdf or .musicxml

Each tune is parsed by music21 once (a Tune) and every format is written from that parse; the
work itself is in charrnn.music (perform: MIDI, tempo and instrument; accompany: chord symbols
played as a bass-and-chord part; audio; engrave). docs/rendering.md says more.
Debian tools: fluidsynth + fluid-soundfont-gm (WAV), abcm2ps (SVG/PNG/PDF), ghostscript (PNG/PDF).
"""
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .abc.text import read_abc_text, tunes_with_lines
from .errors import CharrnnError, check_out_folder
from .music import perform
from .music.audio import find_soundfont
from .music.perform import DEFAULT_PROGRAM, INSTRUMENTS, METER_TEMPO, check_options  # noqa: F401 (part of this API)
from .music.tools import find_tool
from .tune import Tune

FORMATS = ("midi", "wav", "svg", "png", "pdf", "musicxml")
SUFFIX = {"midi": ".mid", "wav": ".wav", "svg": ".svg", "png": ".png", "pdf": ".pdf", "musicxml": ".musicxml"}
NEEDS = {"wav": ["fluidsynth"], "svg": ["abcm2ps"], "png": ["abcm2ps", "gs"], "pdf": ["abcm2ps", "gs"]}


def performance(abc, program=None, tempo=None, chords=True):
    """The tune as it will sound (a music21 Score): repeats played out, tempo and program set,
    chord symbols as a second part unless `chords` is False."""
    tune = Tune(abc)
    check_options(program, tempo)  # a bad option is reported before a bad tune, as always
    return perform.performance(tune.playable_stream(), program, tempo, tune.title, chords)


def write_midi(abc, path, program=None, tempo=None, chords=True):
    """One tune as a MIDI file (music21 writes it); returns the path."""
    return Tune(abc).to_midi(path, program=program, tempo=tempo, chords=chords)


def write_wav(abc, path, program=None, tempo=None, seconds=None, fade=0.0, sample_rate=44100, chords=True):
    """One tune as a loudness-normalised WAV through FluidSynth (see charrnn.music.audio); returns the path."""
    return Tune(abc).to_wav(path, program=program, tempo=tempo, seconds=seconds, fade=fade,
                            sample_rate=sample_rate, chords=chords)


def write_score(abc, path, fmt=None):
    """Engrave one tune: SVG, PNG, PDF or MusicXML by the path's suffix; returns the path."""
    return Tune(abc).to_score(path, fmt)


# ----------------------------------------------------------------------------------- whole files

@dataclass
class RenderResult:
    title: str
    line: int  # where the tune's X: line is in the file (1-based)
    outputs: dict = field(default_factory=dict)  # format -> Path
    seconds: dict = field(default_factory=dict)  # format -> seconds it took
    error: str = None

    @property
    def ok(self):
        return self.error is None


def slug(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "untitled"


def render_file(abc_path, out_dir, formats=("midi",), program=None, tempo=None, chords=True):
    """Render every tune of an ABC file into out_dir as NNN-title.<ext>; returns RenderResults.

    A tune music21 cannot read gets an error (with title and line) and no outputs; the rest render.
    A missing Debian tool stops everything up front with a CharrnnError.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise CharrnnError(f"unknown format(s) {sorted(unknown)}; choose from {', '.join(FORMATS)}")
    out_dir = check_out_folder(out_dir)
    check_options(program, tempo)
    for fmt in formats:
        for tool in NEEDS.get(fmt, []):
            find_tool(tool)
    if "wav" in formats:
        find_soundfont()
    tunes = tunes_with_lines(read_abc_text(abc_path))
    if not tunes:
        raise CharrnnError(f"{abc_path}: no tunes (no line starts with 'X:')")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = {"midi": lambda tune, p: tune.to_midi(p, program, tempo, chords),
               "wav": lambda tune, p: tune.to_wav(p, program=program, tempo=tempo, chords=chords),
               "svg": Tune.to_score, "png": Tune.to_score, "pdf": Tune.to_score, "musicxml": Tune.to_score}
    results = []
    for i, (line, abc) in enumerate(tunes, 1):
        tune = Tune(abc)
        result = RenderResult(title=tune.title or "untitled", line=line)
        try:
            tune.playable_stream()  # the rule: a tune music21 cannot read is skipped in every format
            for fmt in formats:
                start = time.perf_counter()
                path = out_dir / f"{i:03d}-{slug(result.title)}{SUFFIX[fmt]}"
                result.outputs[fmt] = writers[fmt](tune, path)
                result.seconds[fmt] = time.perf_counter() - start
        except CharrnnError as e:
            result.error = str(e)
        results.append(result)
    return results


# -------------------------------------------------------------------------------------------- CLI

def register_cli(subparsers):
    p = subparsers.add_parser("render", help="render every tune of an ABC file as MIDI, WAV and sheet music")
    p.add_argument("file", metavar="FILE.abc")
    p.add_argument("--midi", action="store_true",
                   help="MIDI through music21 (the default when no format is given)")
    p.add_argument("--wav", action="store_true", help="audio through FluidSynth, loudness-normalised")
    score = p.add_mutually_exclusive_group()
    for fmt, name in (("svg", "SVG"), ("png", "PNG"), ("pdf", "PDF"), ("musicxml", "MusicXML")):
        score.add_argument(f"--{fmt}", action="store_true", help=f"sheet music as {name}")
    p.add_argument("--out", metavar="DIR", help="output folder (default: the file's name without .abc)")
    p.add_argument("--program", metavar="N|NAME",
                   help=f"General MIDI program 0-127 or an instrument: {', '.join(sorted(INSTRUMENTS))} "
                        f"(default {DEFAULT_PROGRAM}, violin)")
    p.add_argument("--tempo", type=float, metavar="BPM",
                   help="beats a minute, the meter's beat (default: the tune's Q:, else one per meter)")
    p.add_argument("--no-chords", dest="chords", action="store_false",
                   help="leave guitar-chord symbols (\"Em\") silent; by default a bass-and-chord part plays them")
    p.set_defaults(func=run)


def run(args):
    formats = [f for f in FORMATS if getattr(args, f)] or ["midi"]
    out = Path(args.out) if args.out else Path(Path(args.file).stem)
    existed = out.exists()
    results = render_file(args.file, out, formats, program=args.program, tempo=args.tempo, chords=args.chords)
    if not any(r.ok for r in results):
        if not existed and not any(out.iterdir()):
            out.rmdir()  # refused: leave nothing behind
        first = results[0]
        raise CharrnnError(f"{args.file}: none of its {len(results)} tunes could be rendered "
                           f"(line {first.line}, {first.title!r}: {first.error})")
    for i, r in enumerate(results, 1):
        if r.ok:
            took = "  ".join(f"{f} {s:.2f}s" for f, s in r.seconds.items())
            print(f"{i:3d} {r.title}: {took}")
        else:
            print(f"{args.file}:{r.line}: skipped {r.title!r}: {r.error}", file=sys.stderr)
    done = sum(r.ok for r in results)
    print(f"rendered {done} of {len(results)} tunes -> {out}/")
    return 0
