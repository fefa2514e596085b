"""Make a blinded listening survey: clips of held-out human tunes and valid generated tunes, all
rendered the same way, shuffled, with a web form, a paper answer sheet and the answer key.
(The package docstring, charrnn.survey, says how to run it.)"""
import csv
import html
import json
import os
import random
import sys
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

from ..abc.header import header_field
from ..checks import check_drafts, check_score, drafts_for
from ..corpus import load_corpus, model_corpus
from ..errors import CharrnnError, check_out_folder
from ..files import write_text_atomic
from ..generator import as_model, default_weights_dir
from ..music.perform import DEFAULT_PROGRAM, INSTRUMENTS, check_options, meter_tempo
from ..nn.sampling import SAMPLING
from ..similarity import MAX_SIMILARITY, open_index
from ..tune import Tune

SOURCES = ("human", "machine")
KEY_COLUMNS = ["clip", "source", "title", "settings", "seconds", "meter", "program", "tempo", "chords"]
# A clip must last at least this share of --seconds. Tunes that end sooner would make short clips,
# and if one source tends to write shorter tunes, clip length alone would give the answer away.
MIN_LENGTH_SHARE = 0.8


# ----------------------------------------------------------------------------- make

def sound_rule(program=None, tempo=None, chords=False):
    """The one way every clip of a survey is played: a General MIDI program (number or name),
    a tempo (None: by meter) and chords on or off; a CharrnnError for a bad program or tempo."""
    return {"program": check_options(program, tempo), "tempo": tempo, "chords": bool(chords)}


def clip_sound(tune, rule):
    """Tune.to_wav's program, tempo and chords for one clip under a survey's rule: the tempo is the
    rule's, else the meter's default, never the tune's Q: (human and machine tunes carry it unevenly)."""
    return {"program": rule["program"], "chords": rule["chords"],
            "tempo": rule["tempo"] or meter_tempo(tune.playable_stream())}


def _wav_seconds(path):
    from scipy.io import wavfile

    rate, data = wavfile.read(path, mmap=True)
    return len(data) / rate


def _write_plain_wav(src, dst):
    """Copy a WAV as bare 16-bit mono PCM: no metadata chunks, same format for every clip."""
    from scipy.io import wavfile

    rate, data = wavfile.read(src)
    # To floats in [-1, 1), whatever the sample format.
    scale = 1.0 if data.dtype.kind == "f" else 2.0 ** (8 * data.dtype.itemsize - 1)
    data = data.astype(np.float64) / scale
    if data.ndim == 2:
        data = data.mean(axis=1)  # mono halves the size; folk-tune clips lose nothing that matters
    data = data * 32768
    wavfile.write(dst, rate, np.clip(np.round(data), -32768, 32767).astype(np.int16))


def _human_candidates(data, rng):
    """Held-out validation tunes (never trained on), valid ones only, in a random order."""
    tunes = load_corpus(data).valid_tunes
    rng.shuffle(tunes)
    for abc in tunes:
        tune = Tune(abc)
        if tune.is_valid:
            yield tune, f"{data}/valid.abc X:{header_field(abc, 'X')}"


def _machine_candidates(model, count, temperature, random_seed, max_tries, drafts=1):
    """Valid generated tunes, in batches, stopping after max_tries tunes whatever their worth
    (each the best of `drafts`, which the critic chose)."""
    tried = batch = 0
    while tried < max_tries:
        n, seed = min(count, max_tries - tried), random_seed + batch
        tunes = model.generate(seed=SAMPLING.seed, n=n, temperature=temperature, random_seed=seed, drafts=drafts)
        for i, tune in enumerate(tunes):
            if tune.is_valid:
                yield tune, (f"seed='X:' temperature={temperature} random_seed={seed} n={n} index={i}"
                             + (f" drafts={drafts}" if drafts != 1 else ""))
        tried, batch = tried + n, batch + 1


def _new_enough(candidates, data, max_similarity, refused):
    """The candidates whose nearest training tune (charrnn similar) scores at most max_similarity,
    its score added to their settings; each refused one is appended to `refused`."""
    index = open_index(data)
    for tune, settings in candidates:
        score = index.nearest([tune.abc], k=1, split="train")[0][0][0]
        if score > max_similarity:
            refused.append((tune.title, score))
            continue
        yield tune, f"{settings} nearest_training_score={score:.2f}"


def _render_some(candidates, count, source, workdir, render, min_seconds):
    """Render candidates until `count` of them last min_seconds or more; returns
    [(tune, settings, wav, sound)], tried."""
    picked, seen, error = [], 0, None
    for tune, settings in candidates:
        seen += 1
        wav = Path(workdir) / f"{source}_{seen:04d}.wav"
        try:
            sound = render(tune, wav)
        except CharrnnError as e:  # one tune the renderer chokes on should not sink the survey
            error = e
            continue
        if _wav_seconds(wav) >= min_seconds:
            picked.append((tune, settings, wav, sound))
            if len(picked) == count:
                break
    if not picked and error is not None:
        raise CharrnnError(f"no {source} tune could be rendered; the last error: {error}")
    return picked, seen


def make_survey(out, machine=10, human=10, seconds=30.0, random_seed=7, model=None, data=None,
                temperature=SAMPLING.temperature, program=None, tempo=None, fade=2.0, sample_rate=44100, max_tries=None,
                chords=False, max_similarity=MAX_SIMILARITY, drafts=SAMPLING.drafts):
    """Write a blinded listening survey to `out` (see the module docstring); returns the key rows.

    `model` is a run folder / weights path for charrnn.load, or an already-loaded model.
    `data`: the corpus whose valid.abc gives the human tunes (default: the model's own corpus).
    At most `max_tries` tunes are generated (default 5 per machine clip); too few valid ones
    is a CharrnnError rather than a survey with fewer machine clips than asked for.
    program, tempo, chords: the one sound rule of every clip (sound_rule, clip_sound), written into
    OUT/README.md and each row of the answer key. Chords are off by default: a corpus whose tunes
    carry chord symbols unevenly would give the source away.
    A generated tune whose nearest training tune scores above `max_similarity` (charrnn.similarity)
    is refused: a machine clip must not be a near-copy of a human tune.
    drafts: each machine tune is the best of this many drafts, chosen by the model's critic.json
        (None: the model's default, CharModel.default_drafts).
    """
    if machine < 0 or human < 0 or machine + human == 0:
        raise CharrnnError("a survey needs at least one clip (--machine and --human are counts >= 0)")
    check_score("--max-similarity", max_similarity)
    check_drafts(1 if drafts is None else drafts)
    if seconds <= 0:
        raise CharrnnError(f"--seconds must be positive, not {seconds}")
    rule = sound_rule(program, tempo, chords)
    out = check_out_folder(out)
    listen = out / "listen"
    if listen.exists() and any(listen.iterdir()):
        raise CharrnnError(f"{listen} is not empty: pick a new --out folder so old clips cannot mix in")
    if machine:
        model = as_model(model)  # load first: a bad --model should fail before minutes of rendering
        drafts = drafts_for(model, drafts)
        if drafts > 1:
            model.critic()  # and a model without critic.json
    if data is None:
        folder = getattr(model, "folder", None) or (default_weights_dir() if model is None else model)
        data = model_corpus(folder)
    rng = random.Random(random_seed)

    # Every clip, human or machine, goes through this one function: same instrument, tempo rule,
    # accompaniment rule, cut, fade and loudness, so only the music differs.
    def render(tune, path):
        sound = clip_sound(tune, rule)
        tune.to_wav(path, seconds=seconds, fade=fade, sample_rate=sample_rate, **sound)
        return sound
    min_seconds = MIN_LENGTH_SHARE * seconds

    with tempfile.TemporaryDirectory() as work:
        chosen = []
        if human:
            picked, seen = _render_some(_human_candidates(data, rng), human, "human", work, render, min_seconds)
            if len(picked) < human:
                raise CharrnnError(f"{data}: only {len(picked)} of {seen} valid validation tunes last "
                                   f"{min_seconds:.0f} s or more; need {human} (lower --human or --seconds)")
            chosen += [("human", *p) for p in picked]
        if machine:
            max_tries = max_tries or 5 * machine
            candidates, refused = _machine_candidates(model, machine, temperature, random_seed, max_tries,
                                                         drafts), []
            candidates = _new_enough(candidates, data, max_similarity, refused)
            picked, seen = _render_some(candidates, machine, "machine", work, render, min_seconds)
            print(f"survey: machine tunes whose nearest training tune scores above {max_similarity:.2f} are "
                  f"refused (charrnn similar): {len(refused)} refused", file=sys.stderr)
            if len(picked) < machine:
                near = f" and not near-copies ({len(refused)} refused)" if refused else ""
                raise CharrnnError(f"only {len(picked)} of {max_tries} generated tunes were valid ABC lasting "
                                   f"{min_seconds:.0f} s or more{near}; need {machine} (train the model "
                                   f"longer, lower --temperature, or ask for fewer --machine clips)")
            chosen += [("machine", *p) for p in picked]

        # Shuffle, then number: the clip number says nothing about the source. Files are written in
        # clip order and given one timestamp, so not even file times follow the source.
        rng.shuffle(chosen)
        listen.mkdir(parents=True, exist_ok=True)
        width = max(2, len(str(len(chosen))))
        key, stamp = [], None
        for i, (source, tune, settings, wav, sound) in enumerate(chosen, 1):
            clip = f"clip_{i:0{width}d}"
            _write_plain_wav(wav, listen / f"{clip}.wav")
            stamp = stamp or (listen / f"{clip}.wav").stat().st_mtime
            key.append({"clip": clip, "source": source, "title": tune.title, "settings": settings,
                        "seconds": round(_wav_seconds(listen / f"{clip}.wav"), 2), "abc": tune.abc,
                        "meter": tune.meter, **sound})
    for row in key:
        os.utime(listen / f"{row['clip']}.wav", (stamp, stamp))

    clips = [row["clip"] for row in key]
    (listen / "survey.html").write_text(_survey_html(clips), encoding="utf-8")
    (listen / "answer_sheet.html").write_text(_answer_sheet_html(clips), encoding="utf-8")
    with open(out / "answer_key.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, KEY_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(key)
    (out / "tunes.abc").write_text("\n".join(f"% {r['clip']} ({r['source']})\n{r['abc'].strip()}\n" for r in key),
                                   encoding="utf-8")
    write_text_atomic(out / "README.md", _readme(key, rule, seconds, fade, sample_rate, random_seed, temperature,
                                                   drafts or 1))
    return key


def _instrument_name(program):
    names = [name for name, number in INSTRUMENTS.items() if number == program]
    return f"{names[0]} (General MIDI program {program})" if names else f"General MIDI program {program}"


def _readme(key, rule, seconds, fade, sample_rate, random_seed, temperature, drafts=1):
    """How the clips were made: what a reader of the results needs to judge them."""
    tempo = (f"{rule['tempo']:g} beats a minute for every clip (the meter's beat)" if rule["tempo"] else
             "by meter, the same for every clip of a meter: " + ", ".join(
                 f"{m} at {t:g}" for m, t in sorted({(r['meter'], r['tempo']) for r in key})) +
             " beats a minute of the meter's beat (the tunes' own Q: fields are not used)")
    chords = ("guitar-chord symbols are played as a bass-and-chord accompaniment (charrnn.music.accompany)"
              if rule["chords"] else "none: guitar-chord symbols are silent, every clip is the melody alone")
    sources = {s: sum(r["source"] == s for r in key) for s in SOURCES}
    default = " (charrnn's default)" if rule["program"] == DEFAULT_PROGRAM else ""
    best_of = f", each the best of {drafts} drafts by the model's critic" if drafts > 1 else ""
    return f"""# Listening survey: how the clips were made

{sources['human']} human clips (held-out validation tunes) and {sources['machine']} machine clips (valid tunes
generated at temperature {temperature:g}{best_of}), shuffled with random seed {random_seed}. Send `listen/`; keep
`answer_key.csv` and `tunes.abc` to yourself.

Every clip was played the same way, so that only the music differs:

- Instrument: {_instrument_name(rule['program'])}{default}.
- Tempo: {tempo}.
- Accompaniment: {chords}.
- Cut at the bar line nearest {seconds:g} s, faded out over {fade:g} s, loudness-normalised (-20 dBFS RMS),
  16-bit mono at {sample_rate} Hz (FluidSynth with the FluidR3 General MIDI soundfont).

`answer_key.csv` gives each clip's source, meter, program, tempo and whether chords were played.
"""


def _survey_html(clips):
    template = resources.files("charrnn.survey").joinpath("template.html").read_text(encoding="utf-8")
    return template.replace("__CLIPS_JSON__", json.dumps(clips))


def _answer_sheet_html(clips):
    rows = "\n".join(f"<tr><td>{html.escape(c)}</td><td>&#9744; human &nbsp; &#9744; machine</td>"
                     f"<td>1 &nbsp; 2 &nbsp; 3 &nbsp; 4 &nbsp; 5</td></tr>" for c in clips)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Human or machine? Answer sheet</title>
<style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto}} table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #999;padding:.6rem;text-align:left}}</style></head><body>
<h1>Human or machine? Answer sheet</h1>
<p>Name or initials: ______________________</p>
<p>For each clip, tick who you think wrote the tune: a person or a computer program.
Circle a rating if you like (1 = dull, 5 = lovely); the rating is optional.</p>
<table><tr><th>Clip</th><th>Who wrote it?</th><th>Rating (optional)</th></tr>
{rows}
</table></body></html>
"""
