"""MIDI files as ABC tunes: abcMIDI's midi2abc writes each track as a voice; every monophonic
voice becomes one tune, with the meter midi2abc reads from the file and the key it guesses.

    text, skipped = midi_to_abc("tunes/kesh.mid")   # "X:1\\nT:kesh\\nM:6/8\\nL:1/8\\nQ:..\\nK:G\\n..."

A track with chords is skipped, not guessed at: "polyphonic: up to N simultaneous notes"
(midi2abc cannot pick out a top line, and one picked by hand would often be an accompaniment's).
Drum tracks (MIDI channel 10) and tracks without notes are skipped too, each with its reason.
"""
import re
from pathlib import Path

from ..errors import CharrnnError
from .tools import ToolTimeout, find_tool, run_tool

MIDI_SUFFIXES = (".mid", ".midi")
# -gk: guess the key from the notes (most files carry none, or C); -ga: place the first bar line where
# the fewest notes are tied across bars (a pickup); -noly: no lyrics; -bpl 4: four bars a line.
# Without -u/-aul, L: comes from the file's own beat resolution, which midi2abc's manual recommends.
MIDI2ABC_OPTIONS = ("-gk", "-ga", "-noly", "-bpl", "4")
HEADER = re.compile(r"^([A-Za-z]):\s*(.*?)\s*(?:%.*)?$")
CHORD = re.compile(r"\[([^\]:|]*)\]")  # [CEG]; inline fields such as [K:G] have a ':'
NOTE = re.compile(r"[A-Ga-g]")


def midi_to_abc(path, timeout=30):
    """(ABC text with one tune per usable track, [reason a track was skipped, ...]).

    A CharrnnError naming the file when midi2abc cannot read it or runs past `timeout` s."""
    path = Path(path)
    exe = find_tool("midi2abc")
    try:
        done, lines = run_tool([exe, path, *MIDI2ABC_OPTIONS], f"{path}: midi2abc", timeout=timeout, check=False)
    except ToolTimeout as e:
        raise CharrnnError(str(e)) from None
    if done.returncode != 0 or "K:" not in done.stdout:
        why = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        raise CharrnnError(f"{path}: midi2abc cannot convert it: {why}")
    header, voices = parse_midi2abc(done.stdout)
    title = re.sub(r"[_\s]+", " ", path.stem).strip() or "untitled"
    tunes, skipped = [], []
    for number, body in voices:
        name = title if len(voices) == 1 else f"{title} (track {number})"
        reason = voice_problem(body)
        if reason:
            skipped.append(f"track {number}: {reason}")
            continue
        fields = [f"X:{number}", f"T:{name}"] + [f"{k}:{header[k]}" for k in "MLQK" if k in header]
        music = [line for line in body if not line.startswith("%")]
        tunes.append("\n".join(fields + music) + "\n")
    return "\n".join(tunes), skipped


def parse_midi2abc(text):
    """midi2abc's output -> ({field: value} of its header, [(voice number, body lines), ...])."""
    header, voices, in_body = {}, [], False
    for line in text.splitlines():
        line = line.rstrip().removesuffix("\\").rstrip()  # '\' continues a staff line: layout only
        if not in_body:
            field = HEADER.match(line)
            if field and field.group(1) in "MLQK":
                header[field.group(1)] = field.group(2)
            in_body = bool(field) and field.group(1) == "K"
        elif line.startswith("V:"):
            voices.append((line[2:].split()[0] if line[2:].split() else str(len(voices) + 1), []))
        elif line:
            if not voices:  # a file with one track may have no V: line
                voices.append(("1", []))
            voices[-1][1].append(line)
    return header, voices


def voice_problem(body):
    """Why a voice cannot be a tune (percussion, chords, no notes), or None."""
    if any(re.fullmatch(r"%%MIDI channel 10\b.*", line) for line in body):
        return "percussion (MIDI channel 10)"
    music = " ".join(line for line in body if not line.startswith(("%", "w:", "W:")))
    widest = max((len(NOTE.findall(chord)) for chord in CHORD.findall(music)), default=0)
    if widest > 1:
        return f"polyphonic: up to {widest} simultaneous notes"
    if not NOTE.search(re.sub(r"\[[^\]]*:[^\]]*\]|\"[^\"]*\"|![^!]*!", "", music)):
        return "no notes"
    return None
