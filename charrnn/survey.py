"""Listening survey: can people tell the model's tunes from human ones?

Make a blinded set of clips, send the `listen/` folder to listeners, then score what comes back:

    charrnn survey make --machine 10 --human 10 --out survey/ --seconds 30 --random-seed 7
    #   survey/listen/      survey.html, answer_sheet.html, clip_01.wav ...  <- send (zip) this folder
    #   survey/answer_key.csv, survey/tunes.abc                              <- keep these to yourself
    charrnn survey score survey/answer_key.csv responses_*.csv [--out survey/]
    #   prints the results table; writes survey/results.md and survey/results.json

Listeners open listen/survey.html straight from the folder (no server, no internet), pick
"human" or "machine" for each clip, optionally rate it 1-5, and press "Save my answers": the
browser downloads a CSV (listener,clip,answer,rating). Paper answers from answer_sheet.html can
be typed into the same CSV format.

Blinding: human clips are held-out validation tunes, machine clips valid generated tunes; all go
through charrnn.render.write_wav with the same settings (instrument, tempo rule, cut at the bar
line nearest --seconds, fade, loudness), are re-written as bare mono 16-bit WAVs, must last at
least MIN_LENGTH_SHARE of --seconds, and are shuffled before they get their clip_NN names.

From Python (simulate_responses writes made-up answers, for trying the scorer):

    from charrnn import survey
    survey.make_survey("survey/", machine=10, human=10, seconds=30, random_seed=7)
    results = survey.score_files("survey/answer_key.csv", ["anna.csv", "ben.csv"])
    print(results["verdict"])
"""
import csv
import hashlib
import html
import json
import os
import random
import tempfile
from importlib import resources
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .errors import CharrnnError

SOURCES = ("human", "machine")
KEY_COLUMNS = ["clip", "source", "title", "settings", "seconds"]
# A clip must last at least this share of --seconds. Tunes that end sooner would make short clips,
# and if one source tends to write shorter tunes, clip length alone would give the answer away.
MIN_LENGTH_SHARE = 0.8


# ----------------------------------------------------------------------------- make

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
    from .corpus import load_corpus
    from .tune import Tune, header_field

    tunes = load_corpus(data).valid_tunes
    rng.shuffle(tunes)
    for abc in tunes:
        tune = Tune(abc)
        if tune.is_valid:
            yield tune, f"{data}/valid.abc X:{header_field(abc, 'X')}"


def _machine_candidates(model, count, temperature, random_seed, max_tries):
    """Valid generated tunes, in batches, stopping after max_tries tunes whatever their worth."""
    tried = batch = 0
    while tried < max_tries:
        n, seed = min(count, max_tries - tried), random_seed + batch
        for i, tune in enumerate(model.generate(seed="X:", n=n, temperature=temperature, random_seed=seed)):
            if tune.is_valid:
                yield tune, f"seed='X:' temperature={temperature} random_seed={seed} n={n} index={i}"
        tried, batch = tried + n, batch + 1


def _render_some(candidates, count, source, workdir, render, min_seconds):
    """Render candidates until `count` of them last min_seconds or more; returns [(tune, settings, wav)], tried."""
    picked, seen, error = [], 0, None
    for tune, settings in candidates:
        seen += 1
        wav = Path(workdir) / f"{source}_{seen:04d}.wav"
        try:
            render(tune.abc, wav)
        except CharrnnError as e:  # one tune the renderer chokes on should not sink the survey
            error = e
            continue
        if _wav_seconds(wav) >= min_seconds:
            picked.append((tune, settings, wav))
            if len(picked) == count:
                break
    if not picked and error is not None:
        raise CharrnnError(f"no {source} tune could be rendered; the last error: {error}")
    return picked, seen


def make_survey(out, machine=10, human=10, seconds=30.0, random_seed=7, model=None, data="data/abc",
                temperature=1.0, program=None, tempo=None, fade=2.0, sample_rate=44100, max_tries=None):
    """Write a blinded listening survey to `out` (see the module docstring); returns the key rows.

    `model` is a run folder / weights path for charrnn.load, or an already-loaded model.
    At most `max_tries` tunes are generated (default 5 per machine clip); too few valid ones
    is a CharrnnError rather than a survey with fewer machine clips than asked for.
    """
    from .render import write_wav

    if machine < 0 or human < 0 or machine + human == 0:
        raise CharrnnError("a survey needs at least one clip (--machine and --human are counts >= 0)")
    if seconds <= 0:
        raise CharrnnError(f"--seconds must be positive, not {seconds}")
    out = Path(out)
    listen = out / "listen"
    if listen.exists() and any(listen.iterdir()):
        raise CharrnnError(f"{listen} is not empty: pick a new --out folder so old clips cannot mix in")
    if machine and (model is None or isinstance(model, (str, os.PathLike))):
        import charrnn  # load first: a bad --model should fail before minutes of rendering

        model = charrnn.load(model)
    rng = random.Random(random_seed)

    # Every clip, human or machine, goes through this one function: same instrument, tempo rule,
    # cut, fade and loudness, so only the music differs.
    def render(abc, path):
        write_wav(abc, path, program=program, tempo=tempo, seconds=seconds, fade=fade, sample_rate=sample_rate)
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
            candidates = _machine_candidates(model, machine, temperature, random_seed, max_tries)
            picked, seen = _render_some(candidates, machine, "machine", work, render, min_seconds)
            if len(picked) < machine:
                raise CharrnnError(f"only {len(picked)} of {max_tries} generated tunes were valid ABC lasting "
                                   f"{min_seconds:.0f} s or more; need {machine} (train the model "
                                   f"longer, lower --temperature, or ask for fewer --machine clips)")
            chosen += [("machine", *p) for p in picked]

        # Shuffle, then number: the clip number says nothing about the source. Files are written in
        # clip order and given one timestamp, so not even file times follow the source.
        rng.shuffle(chosen)
        listen.mkdir(parents=True, exist_ok=True)
        width = max(2, len(str(len(chosen))))
        key, stamp = [], None
        for i, (source, tune, settings, wav) in enumerate(chosen, 1):
            clip = f"clip_{i:0{width}d}"
            _write_plain_wav(wav, listen / f"{clip}.wav")
            stamp = stamp or (listen / f"{clip}.wav").stat().st_mtime
            key.append({"clip": clip, "source": source, "title": tune.title, "settings": settings,
                        "seconds": round(_wav_seconds(listen / f"{clip}.wav"), 2), "abc": tune.abc})
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
    return key


def _survey_html(clips):
    template = resources.files("charrnn").joinpath("survey_template.html").read_text(encoding="utf-8")
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


# ----------------------------------------------------------------------------- score

def _read_csv(path, required):
    path = Path(path)
    if not path.is_file():
        raise CharrnnError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: spreadsheets often add a BOM
        reader = csv.DictReader(f)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        missing = [c for c in required if c not in columns]
        if missing:
            raise CharrnnError(f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(columns) or 'none'})")
        reader.fieldnames = columns
        # Line numbers as a spreadsheet shows them: the header is line 1.
        return [(n, {k: (v or "").strip() for k, v in row.items() if k}) for n, row in enumerate(reader, 2)]


def read_key(path):
    """The answer key as {clip: source}."""
    key = {}
    for line, row in _read_csv(path, ["clip", "source"]):
        clip, source = row["clip"].removesuffix(".wav"), row["source"].lower()
        if source not in SOURCES:
            raise CharrnnError(f"{path}, line {line}: source must be human or machine, not {row['source']!r}")
        if clip in key:
            raise CharrnnError(f"{path}, line {line}: {clip} appears twice in the key")
        key[clip] = source
    if not key:
        raise CharrnnError(f"{path}: the answer key lists no clips")
    return key


def read_responses(paths, key):
    """All answers as [(listener, clip, answer, rating or None)], each (listener, clip) at most once.

    A file without a listener column (or with it blank) counts as one listener named after the file.
    """
    answers, seen, digests = [], {}, {}
    for path in paths:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).is_file() else None
        rows = _read_csv(path, ["clip", "answer"])
        if digest in digests:
            twin = "listed twice" if Path(path) == Path(digests[digest]) else f"the same file as {digests[digest]}"
            raise CharrnnError(f"{path}: {twin} (its answers would count twice)")
        digests[digest] = path
        if not rows:
            raise CharrnnError(f"{path}: no answers in this file")
        for line, row in rows:
            where = f"{path}, line {line}"
            listener = row.get("listener") or Path(path).stem
            clip, answer = row["clip"].removesuffix(".wav"), row["answer"].lower()
            if clip not in key:
                raise CharrnnError(f"{where}: unknown clip {row['clip']!r} (not in the answer key)")
            if answer not in SOURCES:
                raise CharrnnError(f"{where}: answer must be human or machine, not {row['answer']!r}")
            if (listener, clip) in seen:
                raise CharrnnError(f"{where}: duplicate answer: listener {listener!r} already answered {clip} "
                                   f"at {seen[listener, clip]}")
            seen[listener, clip] = where
            rating = row.get("rating") or None
            if rating is not None:
                if rating not in {"1", "2", "3", "4", "5"}:
                    raise CharrnnError(f"{where}: rating must be 1-5 or blank, not {rating!r}")
                rating = int(rating)
            answers.append((listener, clip, answer, rating))
    return answers


def _tally(rows):
    n = len(rows)
    correct = sum(answer == source for _, _, answer, source in rows)
    return {"answers": n, "correct": correct, "incorrect": n - correct,
            "accuracy": correct / n if n else None, "error_rate": (n - correct) / n if n else None}


def _mean(values):
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None


def score(key, answers, alpha=0.05):
    """Score answers [(listener, clip, answer, rating)] against key {clip: source}; returns a dict."""
    from scipy.stats import binomtest

    if not answers:
        raise CharrnnError("no answers to score")
    rows = [(listener, clip, answer, key[clip]) for listener, clip, answer, _ in answers]
    ratings = {(listener, clip): rating for listener, clip, _, rating in answers}

    clips = []
    for clip, source in key.items():
        votes = [answer for _, c, answer, _ in rows if c == clip]
        clips.append({"clip": clip, "source": source, "said_machine": votes.count("machine"),
                      "said_human": votes.count("human"), "correct": votes.count(source),
                      "mean_rating": _mean(r for (_, c), r in ratings.items() if c == clip)})

    overall = _tally(rows)
    by_source = {s: _tally([r for r in rows if r[3] == s]) for s in SOURCES}
    n, k = overall["answers"], overall["correct"]
    test = binomtest(k, n, 0.5)
    ci = test.proportion_ci(confidence_level=0.95, method="wilson")

    # Signal detection with "machine" as the signal: hits = machine clips called machine,
    # false alarms = human clips called machine. The log-linear correction (add 0.5 to each count,
    # 1 to each total; Hautus 1995) keeps z finite when a rate is 0 or 1.
    said_machine = sum(answer == "machine" for _, _, answer, _ in rows)
    d_prime = criterion = None
    n_m, n_h = by_source["machine"]["answers"], by_source["human"]["answers"]
    if n_m and n_h:
        z = NormalDist().inv_cdf
        hit = (by_source["machine"]["correct"] + 0.5) / (n_m + 1)
        false_alarm = (by_source["human"]["incorrect"] + 0.5) / (n_h + 1)
        d_prime, criterion = z(hit) - z(false_alarm), -(z(hit) + z(false_alarm)) / 2

    listeners = {}
    for row in rows:
        listeners.setdefault(row[0], []).append(row)
    results = {
        "clips": clips,
        "totals": {"said_machine": said_machine, "said_human": n - said_machine},
        "overall": overall, "machine_clips": by_source["machine"], "human_clips": by_source["human"],
        # How much more often listeners said "machine" than the clip mix would make a fair guesser say it.
        "said_machine_rate": said_machine / n,
        "machine_share": n_m / n,
        "bias_toward_machine": said_machine / n - n_m / n,
        "binomial_p": test.pvalue,
        "wilson_95": [ci.low, ci.high],
        "d_prime": d_prime, "criterion_c": criterion,
        "listeners": [{"listener": name, **_tally(r)} for name, r in listeners.items()],
        "mean_rating": {s: _mean(r for (_, c), r in ratings.items() if key[c] == s) for s in SOURCES},
    }
    results["verdict"] = _verdict(results, alpha)
    return results


def _verdict(r, alpha):
    acc, p, (lo, hi), n = r["overall"]["accuracy"], r["binomial_p"], r["wilson_95"], r["overall"]["answers"]
    facts = f"{acc:.0%} of {n} answers were right (95% CI {lo:.0%}-{hi:.0%}, exact binomial p = {p:.3g})"
    if p < alpha and acc > 0.5:
        return f"Yes: listeners could tell the machine's tunes from the human ones, better than guessing: {facts}."
    if p < alpha:
        return f"No, and worse than guessing: listeners mixed the two up more often than chance would: {facts}."
    return f"No: listeners could not reliably tell the machine's tunes from the human ones: {facts}, which is consistent with guessing."


def _pct(x):
    return "-" if x is None else f"{x:.1%}"


def format_markdown(r):
    lines = ["# Listening survey: human or machine?", "",
             "| clip | said machine | said human | true source | correct | mean rating |",
             "|---|---:|---:|---|---:|---:|"]
    for c in r["clips"]:
        lines.append(f"| {c['clip']} | {c['said_machine']} | {c['said_human']} | {c['source']} | "
                     f"{c['correct']} | {'-' if c['mean_rating'] is None else c['mean_rating']} |")
    t = r["totals"]
    lines += [f"| **total** | {t['said_machine']} | {t['said_human']} | | {r['overall']['correct']} | |", "",
              "| answers on | answers | correct | incorrect | error rate |", "|---|---:|---:|---:|---:|"]
    for label, name in [("all clips", "overall"), ("machine clips", "machine_clips"), ("human clips", "human_clips")]:
        s = r[name]
        lines.append(f"| {label} | {s['answers']} | {s['correct']} | {s['incorrect']} | {_pct(s['error_rate'])} |")
    d = "-" if r["d_prime"] is None else f"{r['d_prime']:.2f} (criterion c = {r['criterion_c']:.2f})"
    lines += ["",
              f"- Bias toward \"machine\": listeners said machine on {_pct(r['said_machine_rate'])} of answers; "
              f"machine clips were {_pct(r['machine_share'])} of answers (bias {r['bias_toward_machine']:+.1%}).",
              f"- Accuracy {_pct(r['overall']['accuracy'])}, 95% Wilson interval "
              f"{_pct(r['wilson_95'][0])} to {_pct(r['wilson_95'][1])}; exact binomial test against 50%: "
              f"p = {r['binomial_p']:.3g}.",
              f"- d' = {d} (\"machine\" as the signal; 0 = no discrimination).",
              f"- Mean rating: human tunes {r['mean_rating']['human'] or '-'}, "
              f"machine tunes {r['mean_rating']['machine'] or '-'} (1-5).",
              "", "| listener | answers | correct | accuracy |", "|---|---:|---:|---:|"]
    lines += [f"| {x['listener']} | {x['answers']} | {x['correct']} | {_pct(x['accuracy'])} |" for x in r["listeners"]]
    lines += ["", f"**{r['verdict']}**", "",
              "_The binomial test and interval treat every answer as independent; answers from the same "
              "listener or on the same clip are not quite, so with few listeners or clips read them as optimistic._", ""]
    return "\n".join(lines)


def score_files(key_path, response_paths, out=None):
    """Score response CSVs against the key; writes results.md and results.json to `out` (default: the key's folder)."""
    key = read_key(key_path)
    results = score(key, read_responses(response_paths, key))
    out = Path(out) if out is not None else Path(key_path).parent
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(format_markdown(results), encoding="utf-8")
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def simulate_responses(key_path, out, listeners=10, accuracy=0.5, random_seed=0):
    """Write made-up response CSVs (each answer right with probability `accuracy`): for trying the scorer."""
    rng, key, out = random.Random(random_seed), read_key(key_path), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(1, listeners + 1):
        path = out / f"responses_sim{i:02d}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["listener", "clip", "answer", "rating"])
            for clip, source in key.items():
                other = "human" if source == "machine" else "machine"
                writer.writerow([f"sim{i:02d}", clip, source if rng.random() < accuracy else other, rng.randint(1, 5)])
        paths.append(path)
    return paths


# ----------------------------------------------------------------------------- CLI

def _make_cli(args):
    key = make_survey(args.out, machine=args.machine, human=args.human, seconds=args.seconds,
                      random_seed=args.random_seed, model=args.model, data=args.data,
                      temperature=args.temperature, program=args.program, tempo=args.tempo,
                      fade=args.fade, sample_rate=args.sample_rate)
    out = Path(args.out)
    print(f"{len(key)} clips -> {out / 'listen'}/ (send this folder; open survey.html)")
    print(f"answer key -> {out / 'answer_key.csv'} (keep it to yourself); "
          f"score with: charrnn survey score {out / 'answer_key.csv'} RESPONSES.csv ...")
    return 0


def _score_cli(args):
    results = score_files(args.key, args.responses, out=args.out)
    print(format_markdown(results))
    out = Path(args.out) if args.out else Path(args.key).parent
    print(f"-> {out / 'results.md'}, {out / 'results.json'}")
    return 0


def register_cli(subparsers):
    p = subparsers.add_parser("survey", help="blinded human-vs-machine listening survey")
    sub = p.add_subparsers(dest="survey_command", required=True)

    make = sub.add_parser("make", help="render blinded clips, a web form, an answer sheet and the key")
    make.add_argument("--machine", type=int, default=10, help="clips of generated tunes (default 10)")
    make.add_argument("--human", type=int, default=10, help="clips of held-out human tunes (default 10)")
    make.add_argument("--out", required=True, help="survey folder (the clips go in OUT/listen/)")
    make.add_argument("--seconds", type=float, default=30.0, help="clip length, cut at the nearest bar line")
    make.add_argument("--random-seed", type=int, default=7, help="picks tunes, seeds generation, shuffles clips")
    make.add_argument("--model", default=None, help="run folder or weights (default: the shipped model)")
    make.add_argument("--data", default="data/abc", help="corpus folder whose valid.abc gives the human tunes")
    make.add_argument("--temperature", type=float, default=1.0)
    make.add_argument("--program", type=int, default=None, help="General MIDI instrument (default: the renderer's)")
    make.add_argument("--tempo", type=float, default=None, help="beats per minute (default: the renderer's rule)")
    make.add_argument("--fade", type=float, default=2.0, help="fade-out seconds at the end of each clip")
    make.add_argument("--sample-rate", type=int, default=44100)
    make.set_defaults(func=_make_cli)

    sc = sub.add_parser("score", help="score response CSVs against the answer key")
    sc.add_argument("key", metavar="KEY", help="answer_key.csv written by `survey make`")
    sc.add_argument("responses", metavar="RESPONSES", nargs="+", help="response CSVs (listener,clip,answer,rating)")
    sc.add_argument("--out", default=None, help="folder for results.md / results.json (default: the key's folder)")
    sc.set_defaults(func=_score_cli)
