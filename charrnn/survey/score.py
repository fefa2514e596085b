"""Score a listening survey: read the answer key and the response CSVs, and say whether listeners
could tell the machine's tunes from the human ones (accuracy, exact binomial test, Wilson
interval, d'), as results.md and results.json."""
import csv
import hashlib
import io
import json
import random
from pathlib import Path
from statistics import NormalDist

from ..errors import CharrnnError, check_out_folder
from .make import SOURCES


def _read_spreadsheet_text(path):
    """A CSV as spreadsheet programs save it: UTF-8 (with or without a BOM), UTF-16 (with a BOM),
    else Latin-1 (Windows-1252 in older Excel: every byte is a character)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _read_csv(path, required):
    path = Path(path)
    if not path.is_file():
        raise CharrnnError(f"{path}: no such file")
    with io.StringIO(_read_spreadsheet_text(path), newline="") as f:
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
    out = check_out_folder(Path(out) if out is not None else Path(key_path).parent)
    key = read_key(key_path)
    results = score(key, read_responses(response_paths, key))
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
