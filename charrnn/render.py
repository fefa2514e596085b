"""Render ABC tunes as MIDI (music21), audio (FluidSynth) and sheet music (abcm2ps, Ghostscript).

    charrnn render tunes.abc --midi --wav --png --out rendered/   # every tune, one file per format
    charrnn render tunes.abc --svg --program 0 --tempo 90         # piano; 90 beats a minute

    from charrnn.render import write_midi, write_wav, write_score
    write_midi(abc, "tune.mid")                      # abc: the text of one tune
    write_wav(abc, "clip.wav", seconds=20, fade=2)   # first ~20 s, cut at a bar line, faded out
    write_score(abc, "tune.png")                     # .svg, .png, .pdf or .musicxml

Sound: General MIDI program 40 (violin: these are fiddle tunes) unless `program` says otherwise
(0-127, 0 is the piano). Tempo: the tune's Q: field, else a default for its meter (METER_TEMPO);
`tempo` overrides both and counts the meter's beat (a dotted quarter in 6/8, a half in 2/2).
WAVs are 16-bit stereo, loudness-normalised: the RMS of the sounding blocks is set to -20 dBFS
(peaks capped at -1 dBFS), so clips of different tunes play equally loud.
Scores come from abcm2ps, which engraves ABC faithfully (titles, meter, key, ornaments);
Ghostscript turns its PostScript into PNG or PDF. MusicXML comes from music21.

Debian tools: fluidsynth + fluid-soundfont-gm (WAV), abcm2ps (SVG/PNG/PDF), ghostscript (PNG/PDF).
"""
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .corpus import read_abc_text, split_tunes
from .errors import CharrnnError
from .repeats import explicit_repeats
from .tune import header_field

DEFAULT_PROGRAM = 40  # General MIDI violin (0-based, as music21 and the MIDI bytes count)
# Beats per minute of the meter's beat when the tune has no Q: field: session-ish but unhurried.
METER_TEMPO = {"2/4": 110, "3/4": 120, "4/4": 160, "2/2": 90, "3/2": 80,
               "6/8": 100, "9/8": 100, "12/8": 90}
FALLBACK_TEMPO = 100
SOUNDFONT = Path(os.environ.get("CHARRNN_SOUNDFONT", "/usr/share/sounds/sf2/FluidR3_GM.sf2"))
TARGET_RMS_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0
PNG_DPI = 110
GRACE_QUARTERS = 0.125  # a grace note lasts a 32nd note (less when its principal is short)

FORMATS = ("midi", "wav", "svg", "png", "pdf", "musicxml")
SUFFIX = {"midi": ".mid", "wav": ".wav", "svg": ".svg", "png": ".png", "pdf": ".pdf", "musicxml": ".musicxml"}
SCORE_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".musicxml": "musicxml", ".xml": "musicxml"}
# Tool -> Debian package, for the one-line "install it" message.
PACKAGES = {"fluidsynth": "fluidsynth fluid-soundfont-gm", "abcm2ps": "abcm2ps", "gs": "ghostscript"}
NEEDS = {"wav": ["fluidsynth"], "svg": ["abcm2ps"], "png": ["abcm2ps", "gs"], "pdf": ["abcm2ps", "gs"]}


# ---------------------------------------------------------------------------------------- tools

def _tool(name):
    """The path of a Debian tool, or a CharrnnError that says which package to install."""
    path = shutil.which(name)
    if path is None:
        pkg = PACKAGES[name]
        raise CharrnnError(f"{name} not found: install the Debian package '{pkg.split()[0]}' "
                           f"(sudo apt-get install {pkg})")
    return path


def _soundfont():
    if not SOUNDFONT.is_file():
        raise CharrnnError(f"soundfont {SOUNDFONT} not found: install the Debian package "
                           "'fluid-soundfont-gm' (sudo apt-get install fluid-soundfont-gm) "
                           "or set CHARRNN_SOUNDFONT")
    return SOUNDFONT


def _run(cmd, what, timeout=120, check=True):
    try:
        done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:  # e.g. FluidSynth waiting on a note that never ends
        raise CharrnnError(f"{what} did not finish in {timeout:.0f} s") from None
    lines = (done.stderr or done.stdout).strip().splitlines()
    if check and done.returncode != 0:
        raise CharrnnError(f"{what} failed: {lines[-1] if lines else f'exit status {done.returncode}'}")
    return lines


# ------------------------------------------------------------------------------------- music21

def parse(abc):
    """music21's Score of one tune; a CharrnnError naming the tune when music21 cannot read it."""
    import music21

    title = header_field(abc, "T") or "untitled"
    try:
        # Implied repeat starts written out: music21 would repeat `A :| B :|` from the top.
        score = music21.converter.parse(explicit_repeats(abc), format="abc")
    except Exception as e:  # music21 raises many types on malformed ABC; all mean "cannot read"
        why = " ".join(str(e).split()) or type(e).__name__  # one line: ABC errors quote the bad text
        raise CharrnnError(f"music21 cannot parse {title!r}: {why}") from None
    if not isinstance(score, music21.stream.Score):
        raise CharrnnError(f"expected one tune, got {len(score.scores)} (split the file first)")
    if not score.flatten().notes:
        raise CharrnnError(f"music21 finds no notes in {title!r}")
    return score


def _unshare(score):
    """music21's ABC reader puts one TimeSignature object in two bars around a short bar;
    MIDI export refuses shared objects, so give each bar its own copy."""
    seen = set()
    for container in list(score.recurse(streamsOnly=True, includeSelf=True)):
        for el in list(container.elements):
            if id(el) in seen:
                container.replace(el, copy.deepcopy(el))
            seen.add(id(el))


def _untie_different_pitches(score):
    """ABC '-' between different pitches (old books use it as a slur) is no tie; music21 would
    swallow the second note, so drop such ties as abc2midi and abcm2ps do."""
    from music21 import tie

    for part in score.parts:
        notes = [n for n in part.recurse().notes if not n.duration.isGrace]
        for a, b in zip(notes, notes[1:]):
            if a.tie is None or a.tie.type not in ("start", "continue"):
                continue
            if [p.ps for p in a.pitches] != [p.ps for p in b.pitches]:
                a.tie = None if a.tie.type == "start" else tie.Tie("stop")
                if b.tie is not None:
                    b.tie = None if b.tie.type == "stop" else tie.Tie("start")


def _play_graces(score):
    """music21 writes a grace note as a zero-length MIDI note whose note-off comes before its
    note-on, so it sounds for ever (FluidSynth never finishes a violin). Play each grace as a
    short note taken from the start of the note it ornaments instead."""
    from music21 import duration

    for container in list(score.recurse(streamsOnly=True)):
        run = []  # graces waiting for their principal note
        for n in list(container.notesAndRests):
            if n.duration.isGrace:
                run.append(n)
                continue
            if run and not n.isRest:
                each = min(GRACE_QUARTERS, n.quarterLength / (2 * len(run)))
                start = n.offset
                for k, grace in enumerate(run):
                    container.remove(grace)
                    played = copy.deepcopy(grace)
                    played.duration = duration.Duration(each)
                    container.insert(start + k * each, played)
                n.quarterLength -= each * len(run)
                container.setElementOffset(n, start + each * len(run))
            else:
                for grace in run:  # a grace before a rest or a bar line: nothing to take time from
                    container.remove(grace)
            run = []
        for grace in run:
            container.remove(grace)


def _set_tempo(score, bpm):
    """Keep the tune's Q: marks unless bpm overrides; with none, use the meter's default."""
    from music21 import meter, stream, tempo

    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    if marks and bpm is None:
        return
    for mark in marks:
        mark.activeSite.remove(mark)
    ts = score.recurse().getElementsByClass(meter.TimeSignature).first() or meter.TimeSignature("4/4")
    bpm = bpm or METER_TEMPO.get(ts.ratioString, FALLBACK_TEMPO)
    first = score.parts[0]
    first = first.getElementsByClass(stream.Measure).first() or first
    first.insert(0, tempo.MetronomeMark(number=bpm, referent=ts.beatDuration))


def _set_program(score, program):
    from music21 import instrument

    for old in list(score.recurse().getElementsByClass(instrument.Instrument)):
        old.activeSite.remove(old)
    for part in score.parts:
        inst = instrument.Instrument()
        inst.midiProgram = program
        part.insert(0, inst)


def _check_options(program, tempo):
    """The General MIDI program to use; a CharrnnError for a bad program or tempo."""
    program = DEFAULT_PROGRAM if program is None else int(program)
    if not 0 <= program <= 127:
        raise CharrnnError(f"program must be a General MIDI program 0-127, got {program}")
    if tempo is not None and not tempo > 0:
        raise CharrnnError(f"tempo must be positive beats a minute, got {tempo}")
    return program


def performance(abc, program=None, tempo=None):
    """The tune as it will sound: repeats played out, tempo and General MIDI program set."""
    from music21 import stream

    program = _check_options(program, tempo)
    score = parse(abc)
    try:
        _unshare(score)
        _untie_different_pitches(score)
        _play_graces(score)
        _set_tempo(score, tempo)
        _set_program(score, program)
        # Repeats played out here (music21's MIDI export would do it too) so bar times match the MIDI.
        return score.expandRepeats() if score[stream.Measure] else score
    except Exception as e:  # music21 internals on odd input (unmatched repeats, ...)
        raise CharrnnError(f"music21 cannot perform {header_field(abc, 'T')!r}: {e}") from None


def _save_midi(score, path):
    from music21.midi import translate

    try:
        mf = translate.streamToMidiFile(score)
    except Exception as e:
        raise CharrnnError(f"music21 cannot write MIDI: {e}") from None
    mf.open(str(path), "wb")
    try:
        mf.write()
    finally:
        mf.close()


def _out(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_midi(abc, path, program=None, tempo=None):
    """One tune as a MIDI file (music21 writes it); returns the path."""
    path = _out(path)
    _save_midi(performance(abc, program, tempo), path)
    return path


# ----------------------------------------------------------------------------------------- audio

def _read_wav(path):
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2, "fluidsynth writes 16-bit audio"
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.reshape(-1, w.getnchannels()).astype(np.float64) / 32768, w.getframerate()


def _write_wav(path, audio, rate):
    pcm = (np.clip(audio, -1, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def normalise(audio, rate):
    """Scale so the sounding 50 ms blocks (within 40 dB of the loudest) have TARGET_RMS_DBFS RMS;
    silence before, between and after notes would otherwise make sparse tunes play louder."""
    block = max(1, int(0.05 * rate))
    n = len(audio) // block * block
    if n == 0 or not np.any(audio):
        return audio
    blocks = np.sqrt((audio[:n].reshape(-1, block, audio.shape[1]) ** 2).mean(axis=(1, 2)))
    sounding = blocks[blocks > blocks.max() * 10 ** (-40 / 20)]
    rms = np.sqrt((sounding ** 2).mean())
    gain = 10 ** (TARGET_RMS_DBFS / 20) / rms
    gain = min(gain, 10 ** (PEAK_CEILING_DBFS / 20) / np.abs(audio).max())
    return audio * gain


def barline_seconds(score):
    """Times in seconds of the bar lines (the end of each bar) of a performance() score."""
    from music21 import stream

    return [d["endTimeSeconds"] for d in score.parts[0].secondsMap
            if isinstance(d["element"], stream.Measure)]


def tune_seconds(score):
    """How long a performance() score plays, in seconds."""
    return max((d["endTimeSeconds"] for d in score.parts[0].secondsMap), default=0.0)


def write_wav(abc, path, program=None, tempo=None, seconds=None, fade=0.0, sample_rate=44100):
    """One tune as a loudness-normalised WAV through FluidSynth; returns the path.

    seconds: cut at the bar line nearest that time (no cut when the tune is shorter),
    then fade out over the last `fade` seconds.
    """
    fluidsynth, soundfont = _tool("fluidsynth"), _soundfont()
    path = _out(path)
    score = performance(abc, program, tempo)
    with tempfile.TemporaryDirectory() as tmp:
        mid, raw = Path(tmp) / "tune.mid", Path(tmp) / "raw.wav"
        _save_midi(score, mid)
        # -g 0.5: loud enough to keep 16-bit precision, quiet enough not to clip before we normalise.
        _run([fluidsynth, "-ni", "-q", "-F", raw, "-T", "wav", "-O", "s16", "-r", sample_rate,
              "-g", "0.5", soundfont, mid], "fluidsynth", timeout=60 + tune_seconds(score))
        audio, rate = _read_wav(raw)
    if seconds is not None:
        bars = [t for t in barline_seconds(score) if t > 0] or [seconds]  # no bars: cut at `seconds`
        if seconds < max(bars[-1], tune_seconds(score)):  # a shorter tune plays whole, tail included
            cut = min(bars, key=lambda t: abs(t - seconds))
            audio = audio[: int(round(cut * rate))]
    if fade > 0:
        n = min(len(audio), int(fade * rate))
        audio = audio.copy()
        audio[len(audio) - n:] *= np.linspace(1, 0, n)[:, None]
    _write_wav(path, normalise(audio, rate), rate)
    return path


# ----------------------------------------------------------------------------------------- score

def write_score(abc, path, fmt=None):
    """Engrave one tune: SVG (abcm2ps), PNG or PDF (abcm2ps + Ghostscript), MusicXML (music21)."""
    path = Path(path)
    fmt = fmt or SCORE_FORMATS.get(path.suffix.lower())
    if fmt not in SCORE_FORMATS.values():
        raise CharrnnError(f"{path}: cannot tell the score format; use .svg, .png, .pdf or .musicxml")
    path = _out(path)
    if fmt == "musicxml":
        parse(abc).write("musicxml", fp=str(path))
        return path
    abcm2ps = _tool("abcm2ps")
    gs = _tool("gs") if fmt in ("png", "pdf") else None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "tune.abc"
        src.write_text(abc.rstrip("\n") + "\n", encoding="utf-8")
        # abcm2ps: -g one SVG per tune, -E one EPS per tune (cropped to the music), else a PS page.
        flag, ext = {"svg": ("-g", "svg"), "png": ("-E", "eps"), "pdf": (None, "ps")}[fmt]
        # abcm2ps exits 1 on what it only warns about (a "Bad tie" between different pitches)
        # and still engraves; only a missing output file is a failure.
        errors = _run([abcm2ps, "-q", *([flag] if flag else []), "-O", tmp / f"out.{ext}", src],
                      "abcm2ps", check=False)
        made = sorted(tmp.glob(f"out*.{ext}"))
        if not made:
            raise CharrnnError(f"abcm2ps cannot engrave {header_field(abc, 'T')!r}: "
                               f"{errors[-1] if errors else 'no output'}")
        if fmt == "svg":
            shutil.move(made[0], path)
        else:
            device = ["-dEPSCrop", "-sDEVICE=png16m", f"-r{PNG_DPI}", "-dTextAlphaBits=4",
                      "-dGraphicsAlphaBits=4"] if fmt == "png" else ["-sDEVICE=pdfwrite"]
            _run([gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", *device, f"-sOutputFile={path}", made[0]],
                 "ghostscript")
    return path


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


def tunes_with_lines(text):
    """(line number of the X: line, tune text) for each tune that corpus.split_tunes finds."""
    lines, start, found = text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 0, []
    for tune in split_tunes(text):
        start = lines.index(tune.split("\n", 1)[0], start) + 1
        found.append((start, tune))
    return found


def slug(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "untitled"


def render_file(abc_path, out_dir, formats=("midi",), program=None, tempo=None):
    """Render every tune of an ABC file into out_dir as NNN-title.<ext>; returns RenderResults.

    A tune music21 cannot read gets an error (with title and line) and no outputs; the rest render.
    A missing Debian tool stops everything up front with a CharrnnError.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise CharrnnError(f"unknown format(s) {sorted(unknown)}; choose from {', '.join(FORMATS)}")
    _check_options(program, tempo)
    for fmt in formats:
        for tool in NEEDS.get(fmt, []):
            _tool(tool)
    if "wav" in formats:
        _soundfont()
    tunes = tunes_with_lines(read_abc_text(abc_path))
    if not tunes:
        raise CharrnnError(f"{abc_path}: no tunes (no line starts with 'X:')")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = {"midi": lambda abc, p: write_midi(abc, p, program, tempo),
               "wav": lambda abc, p: write_wav(abc, p, program, tempo),
               "svg": write_score, "png": write_score, "pdf": write_score, "musicxml": write_score}
    results = []
    for i, (line, abc) in enumerate(tunes, 1):
        result = RenderResult(title=header_field(abc, "T") or "untitled", line=line)
        try:
            parse(abc)  # the rule: a tune music21 cannot read is skipped in every format
            for fmt in formats:
                start = time.perf_counter()
                path = out_dir / f"{i:03d}-{slug(result.title)}{SUFFIX[fmt]}"
                result.outputs[fmt] = writers[fmt](abc, path)
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
    p.add_argument("--program", type=int, metavar="N",
                   help=f"General MIDI program 0-127 (default {DEFAULT_PROGRAM}, violin; 0 is piano)")
    p.add_argument("--tempo", type=float, metavar="BPM",
                   help="beats a minute, the meter's beat (default: the tune's Q:, else one per meter)")
    p.set_defaults(func=run)


def run(args):
    formats = [f for f in FORMATS if getattr(args, f)] or ["midi"]
    out = Path(args.out) if args.out else Path(Path(args.file).stem)
    results = render_file(args.file, out, formats, program=args.program, tempo=args.tempo)
    for i, r in enumerate(results, 1):
        if r.ok:
            took = "  ".join(f"{f} {s:.2f}s" for f, s in r.seconds.items())
            print(f"{i:3d} {r.title}: {took}")
        else:
            print(f"{args.file}:{r.line}: skipped {r.title!r}: {r.error}", file=sys.stderr)
    done = sum(r.ok for r in results)
    print(f"rendered {done} of {len(results)} tunes -> {out}/")
    return 0 if done else 1
