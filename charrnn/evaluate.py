"""`charrnn evaluate`: an honest report card for a model and the tunes it writes.

    charrnn evaluate --out report/                               # the pretrained model, 200 tunes
    charrnn evaluate --model runs/folk --temperatures 0.7,0.9,1.0,1.2 -n 200 --out report/

Writes into --out: report.json (every number), report.md (the same, for people, with short
explanations), PNG figures and the generated tunes (tunes_t1.abc, ...). Each generated set is
measured beside the held-out human tunes of the corpus, measured the same way, so every rate
has a human reference next to it:

- likelihood: validation loss, accuracy and bits per character, with the xz and Kneser-Ney
  n-gram baselines on the same split;
- validity: music21 parse, MIDI, header, bar lengths, abc2midi errors and warnings;
- structure: bars, parts, repeats, endings, final note on the tonic;
- novelty: longest run shared with a training tune, bars found in training, near-copies;
- musical statistics (MGEval style) with a human-vs-human ceiling, and detectability (ROC AUC).
"""
import json
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from . import metrics
from .baselines import baseline_bpc
from .corpus import load_corpus
from .errors import CharrnnError
from .files import write_text_atomic

DEFAULT_N = 200
DEFAULT_TEMPERATURES = (1.0,)
DEFAULT_KN_ORDERS = (5, 7)


# ---------------------------------------------------------------------------------------------
# Inputs


def parse_temperatures(text):
    """'0.7,0.9,1.0' -> (0.7, 0.9, 1.0); a CharrnnError for anything that is not positive numbers."""
    try:
        values = tuple(float(v) for v in str(text).split(",") if v.strip())
    except ValueError:
        raise CharrnnError(f"--temperatures: expected numbers separated by commas, got {text!r}") from None
    if not values or any(not v > 0 for v in values):
        raise CharrnnError(f"--temperatures: expected positive numbers, got {text!r}")
    return values


def load_model(model):
    """(model object, name): an object with generate/evaluate_bpc is used as it is; a path or None
    goes through charrnn.load (None: the pretrained model)."""
    if hasattr(model, "generate") and hasattr(model, "evaluate_bpc"):
        return model, getattr(model, "name", type(model).__name__)
    from . import load

    loaded = load(model)
    return loaded, str(getattr(loaded, "folder", model or "pretrained"))


def generate_tunes(model, n, temperature, random_seed=0, seed="X:", max_chars=2000):
    """n tunes from the model as ABC strings."""
    tunes = model.generate(seed=seed, n=n, temperature=temperature, max_chars=max_chars,
                           random_seed=random_seed)
    return [getattr(t, "abc", t) for t in tunes]


def likelihood(model, corpus, kn_orders=DEFAULT_KN_ORDERS):
    """The model's held-out loss/accuracy/bpc and the baselines' bpc on the same split.

    When the model cannot score the held-out text (characters it does not know, a text too short
    for its lanes), 'model' is None and 'model_error' says why: the rest of the report still stands.
    """
    result = {"model": None}
    try:
        result["model"] = {k: float(v) for k, v in model.evaluate_bpc(corpus.valid_text).items()}
    except ValueError as e:  # CharrnnError is one
        result["model_error"] = str(e)
    result["baselines"] = baseline_bpc(corpus.train_text, corpus.valid_text, kn_orders)
    result.update(train_chars=len(corpus.train_text), valid_chars=len(corpus.valid_text))
    return result


# ---------------------------------------------------------------------------------------------
# The evaluation


class _Clock:
    """Seconds spent per stage, for the report (where the 5 minutes go)."""

    def __init__(self, log):
        self.spent, self.log = {}, log or (lambda message: None)

    def __call__(self, stage, fn, *args, **kwargs):
        self.log(f"{stage} ...")
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        self.spent[stage] = round(self.spent.get(stage, 0.0) + time.perf_counter() - start, 2)
        return result


def _temperature_tag(t):
    return f"t{t:g}"


def evaluate(model=None, data="data/abc", out="report", n=DEFAULT_N, temperatures=DEFAULT_TEMPERATURES,
             random_seed=0, seed="X:", max_chars=2000, kn_orders=DEFAULT_KN_ORDERS, human_n=None,
             jobs=None, plots=True, log=None):
    """Measure a model and n of its tunes per temperature; write report.json, report.md and plots.

    model: a run folder, None (the pretrained model) or a loaded model object.
    human_n: measure only the first human_n held-out tunes (default: all of them).
    jobs: processes that measure tunes (default: metrics.default_jobs(), one per CPU up to 4).
    Returns the report as a dict (what report.json holds).
    """
    if n < 1:
        raise CharrnnError(f"-n must be at least 1, got {n}")
    temperatures = tuple(temperatures)
    if not temperatures or any(not t > 0 for t in temperatures):
        raise CharrnnError(f"temperatures must be positive, got {temperatures}")
    jobs = metrics.default_jobs() if jobs is None else max(1, int(jobs))
    clock = _Clock(log)
    started = time.perf_counter()
    corpus = load_corpus(data)
    model, model_name = clock("load model", load_model, model)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train_tunes, human_tunes = corpus.train_tunes, corpus.valid_tunes[:human_n]
    if len(human_tunes) < 2:
        raise CharrnnError(f"{data}: valid.abc needs at least 2 held-out tunes to compare against")

    report = {"model": model_name, "data": str(data), "n": n, "temperatures": list(temperatures),
              "random_seed": random_seed, "seed": seed, "max_chars": max_chars, "jobs": jobs,
              "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "train_tunes": len(train_tunes), "human_tunes": len(human_tunes)}
    report["likelihood"] = clock("likelihood and baselines", likelihood, model, corpus, kn_orders)
    index = clock("index training tunes", metrics.TrainingIndex, train_tunes)
    human = clock("measure held-out human tunes", metrics.measure_tunes, human_tunes, index, jobs=jobs)
    half_a, half_b = metrics.halves(human)
    report["human"] = {
        "summary": metrics.summarise(human),
        "musical_ceiling": metrics.compare_features(half_a, half_b),
        "detectability_ceiling": metrics.detectability(half_a, half_b, random_seed),
    }
    human_counts = metrics.feature_counts(human)
    report["samples"] = []
    for t in temperatures:
        tag = _temperature_tag(t)
        abcs = clock(f"generate ({tag})", generate_tunes, model, n, t, random_seed, seed, max_chars)
        tunes_file = f"tunes_{tag}.abc"
        (out / tunes_file).write_text("\n".join(a.rstrip("\n") + "\n" for a in abcs), encoding="utf-8")
        records = clock(f"measure generated tunes ({tag})", metrics.measure_tunes, abcs, index, jobs=jobs)
        sample = {"temperature": t, "tunes_file": tunes_file,
                  "summary": metrics.summarise(records),
                  "musical": metrics.compare_features(human, records),
                  "detectability": clock(f"detectability ({tag})", metrics.detectability,
                                         human, records, random_seed),
                  "examples": _examples(abcs, records),
                  "figures": {}}
        if plots:
            sample["figures"] = clock(f"figures ({tag})", _sample_figures, out, tag, records, human,
                                      metrics.feature_counts(records), human_counts)
        sample["tunes"] = [dict(metrics.public_record(r), index=i) for i, r in enumerate(records)]
        report["samples"].append(sample)
    if plots and len(temperatures) > 1:
        report["sweep_figure"] = _plot_sweep(out / "sweep.png", report)
    report["timings_s"] = dict(clock.spent, total=round(time.perf_counter() - started, 2))
    write_text_atomic(out / "report.json", json.dumps(_json_safe(report), indent=1, ensure_ascii=False))
    write_text_atomic(out / "report.md", render_markdown(report))
    return report


def _examples(abcs, records, k=2):
    """Tunes worth reading in the report: the first k valid ones, and the one closest to training."""
    picks = [(i, "a valid tune") for i, r in enumerate(records) if r["valid"]][:k]
    if records:
        closest = max(range(len(records)), key=lambda i: records[i].get("longest_run_share") or 0)
        picks = [(i, why) for i, why in picks if i != closest]
        picks.append((closest, "the tune closest to a training tune"))
    return [{"index": i, "why": why, "abc": abcs[i], "longest_run": records[i].get("longest_run"),
             "longest_run_source": records[i].get("longest_run_source")} for i, why in picks]


def _json_safe(value):
    """NaN and infinities become None: JSON has neither."""
    if isinstance(value, float):
        return metrics.finite(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Figures


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


GENERATED_COLOUR, HUMAN_COLOUR = "#d95f02", "#1b9e77"


def _bars_side_by_side(ax, cats, human, generated, title, xlabel):
    """Two share histograms over the same categories: human held-out vs generated."""
    import numpy as np

    x = np.arange(len(cats))
    for counts, offset, colour, label in ((human, -0.2, HUMAN_COLOUR, "human (held-out)"),
                                          (generated, 0.2, GENERATED_COLOUR, "generated")):
        total = sum(counts.values()) or 1
        ax.bar(x + offset, [counts.get(c, 0) / total for c in cats], width=0.4, color=colour, label=label)
    step = -(-len(cats) // 13)  # at most 13 tick labels, so they stay readable
    ax.set_xticks(x[::step])
    ax.set_xticklabels([str(c) for c in cats][::step], rotation=45 if len(cats) > 8 else 0, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel("share", fontsize=8)


def _hist(ax, human_values, generated_values):
    """Density histograms of a per-tune value, human vs generated (an empty side is left out)."""
    sides = [(v, c, label) for v, c, label in ((human_values, HUMAN_COLOUR, "human (held-out)"),
                                                (generated_values, GENERATED_COLOUR, "generated")) if v]
    if sides:
        values, colours, labels = zip(*sides)
        ax.hist(list(values), bins=20, color=list(colours), label=list(labels), density=True)
    ax.set_ylabel("density", fontsize=9)


def _sample_figures(out, tag, records, human, gen_counts, human_counts):
    """musical_<tag>.png, novelty_<tag>.png, structure_<tag>.png; returns their file names."""
    plt = _pyplot()
    names = {}

    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5))
    for ax, name in zip(axes.flat, metrics.FEATURES):
        title, xlabel, _ = metrics.FEATURES[name]
        cats = metrics.categories(name, human_counts[name], gen_counts[name])
        if name in ("key", "meter"):
            cats = cats[:12]  # the common ones; the rest are a long thin tail
        _bars_side_by_side(ax, cats, human_counts[name], gen_counts[name], title, xlabel)
    axes.flat[0].legend(fontsize=8)
    axes.flat[-1].axis("off")
    fig.suptitle(f"Musical statistics, generated ({tag}) vs held-out human tunes")
    fig.tight_layout()
    names["musical"] = f"musical_{tag}.png"
    fig.savefig(out / names["musical"], dpi=80)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, xlabel in ((axes[0], "longest_run", "longest run of characters shared with a training tune"),
                            (axes[1], "bar_share", "share of bars (note sequences) found in training")):
        _hist(ax, *[[r[key] for r in rs if r.get(key) is not None] for rs in (human, records)])
        ax.set_xlabel(xlabel, fontsize=9)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Novelty against the training tunes ({tag})")
    fig.tight_layout()
    names["novelty"] = f"novelty_{tag}.png"
    fig.savefig(out / names["novelty"], dpi=80)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    _hist(axes[0], *[[r["bars"] for r in rs if r["parses"]] for rs in (human, records)])
    axes[0].set_xlabel("bars per tune (music21 measures)", fontsize=9)
    axes[0].legend(fontsize=8)
    parts = [Counter(min(r["parts"], 5) for r in rs) for rs in (human, records)]
    _bars_side_by_side(axes[1], [0, 1, 2, 3, 4, 5], parts[0], parts[1], "Parts per tune",
                       "parts (sections between ||, :| or |: ; 5 = five or more)")
    fig.suptitle(f"Structure ({tag})")
    fig.tight_layout()
    names["structure"] = f"structure_{tag}.png"
    fig.savefig(out / names["structure"], dpi=80)
    plt.close(fig)
    return names


def _plot_sweep(path, report):
    plt = _pyplot()
    temps = [s["temperature"] for s in report["samples"]]
    series = [("valid_rate", "valid tunes"), ("inner_bar_share", "inner bars of the right length"),
              ("abc2midi_clean_rate", "no abc2midi errors"), ("near_copy_rate", "near-copies")]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in series:
        ax.plot(temps, [s["summary"].get(key) for s in report["samples"]], marker="o", label=label)
    ax.plot(temps, [(s["detectability"] or {}).get("auc") for s in report["samples"]], marker="s",
            linestyle="--", label="detectability AUC")
    ax.set_xlabel("sampling temperature")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title("Temperature sweep")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path.name


# ---------------------------------------------------------------------------------------------
# The Markdown report


def _pct(x):
    return "–" if x is None else f"{100 * x:.0f}%"


def _num(x, digits=2):
    return "–" if x is None else f"{x:.{digits}f}"


def _mean_overlap(comparison):
    values = [c["overlap"] for c in comparison.values() if c]
    return sum(values) / len(values) if values else None


def _glance_rows(report):
    """(label, human value, [value per temperature]) for the summary table."""
    human = report["human"]["summary"]
    samples = [s["summary"] for s in report["samples"]]

    def row(label, key, fmt=_pct):
        return label, fmt(human.get(key)), [fmt(s.get(key)) for s in samples]

    def nested(label, key, q):
        return label, _num(human[key][q], 0), [_num(s[key][q], 0) for s in samples]

    return [
        row("valid: music21 parses it into >= 8 bars and it converts to MIDI", "valid_rate"),
        row("complete: header with X, T, M, L, K and >= 8 bars", "complete_rate"),
        row("inner bars exactly as long as M: demands", "inner_bar_share"),
        row("abc2midi errors per tune", "abc2midi_errors_mean", _num),
        row("abc2midi warnings per tune", "abc2midi_warnings_mean", _num),
        row("tunes abc2midi reads without an error", "abc2midi_clean_rate"),
        nested("median bars per tune", "bars", "p50"),
        row("parts per tune (mean)", "parts_mean", _num),
        row("with repeat signs |: :|", "repeat_rate"),
        row("with first and second endings", "ending_rate"),
        row("last note is the tonic of K:", "tonic_ending_rate"),
        nested("longest run shared with a training tune (median characters)", "longest_run", "p50"),
        row("bars found in the training tunes (mean)", "bar_share_mean"),
        row("near-copies of training tunes", "near_copy_rate"),
        ("musical statistics: mean overlap with human tunes (human column: half vs half)",
         _pct(_mean_overlap(report["human"]["musical_ceiling"])),
         [_pct(_mean_overlap(s["musical"])) for s in report["samples"]]),
        ("detectability: ROC AUC telling them from human tunes (0.5 = cannot tell)",
         _num((report["human"]["detectability_ceiling"] or {}).get("auc")),
         [_num((s["detectability"] or {}).get("auc")) for s in report["samples"]]),
    ]


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report):
    """report.md: the numbers of report.json with short explanations, for musicians and engineers."""
    lk = report["likelihood"]
    temps = [f"T = {s['temperature']:g}" for s in report["samples"]]
    md = [f"# Report card: {report['model']}", "",
          f"{report['n']} tunes generated per temperature from the seed `{report['seed']!r}` "
          f"(random seed {report['random_seed']}), each set measured beside the "
          f"{report['human_tunes']} held-out human tunes of `{report['data']}` (tunes the model never "
          f"trained on), measured the same way. Novelty is checked against the "
          f"{report['train_tunes']} training tunes. Made {report['created']} in "
          f"{report['timings_s']['total']:.0f} s.", "",
          "## At a glance", "",
          _table(["", "human (held-out)"] + temps,
                 [[label, h] + vals for label, h, vals in _glance_rows(report)]), ""]

    md += ["## 1. Likelihood: how well the model predicts tunes it has not seen", "",
           "Bits per character: how surprised a model is, on average, by each next character of the "
           "held-out tunes (lower is better; 1 bit is one fair coin toss). The two baselines know "
           "nothing about music: xz is a general-purpose compressor given the training tunes first, "
           "and the n-gram model predicts each character from the few before it. A model that is not "
           "clearly below them has learnt little beyond copying short phrases.", ""]
    scores = lk["model"] or {}
    rows = [["the model", _num(scores.get("bits_per_char"), 3), _num(scores.get("loss"), 3),
             _pct(scores.get("accuracy"))]]
    rows += [[_baseline_name(name), _num(bpc, 3), "", ""] for name, bpc in lk["baselines"].items()]
    md += [_table(["", "bits per character", "loss (nats)", "next character right"], rows), "",
           f"Same split for all: {lk['train_chars']:,} training and {lk['valid_chars']:,} held-out "
           "characters.", ""]
    if lk.get("model_error"):
        md += [f"The model could not score the held-out text: {lk['model_error']}", ""]

    for s in report["samples"]:
        md += _sample_section(report, s)

    if report.get("sweep_figure"):
        md += ["## Temperature sweep", "",
               "Lower temperatures play safe (more valid, more copying); higher ones take risks "
               "(more errors, more novelty). The table at the top has every number per temperature.", "",
               f"![temperature sweep]({report['sweep_figure']})", ""]
    md += _method_notes(report)
    return "\n".join(md) + "\n"


def _baseline_name(name):
    if name == "xz":
        return "xz -9e (compressor)"
    return f"Kneser-Ney {name[2:]}-gram (characters)"


def _sample_section(report, s):
    tag = f"T = {s['temperature']:g}"
    summary, human = s["summary"], report["human"]["summary"]
    fig = s.get("figures", {})
    md = [f"## Generated tunes at {tag}", "",
          f"The {summary['tunes']} tunes are in `{s['tunes_file']}`.", "",
          "### Validity", "",
          f"- {_pct(summary['parse_rate'])} parse with music21 (human: {_pct(human['parse_rate'])}); "
          f"{_pct(summary['valid_rate'])} also have at least {metrics.MIN_BARS} bars and convert to MIDI "
          f"(human: {_pct(human['valid_rate'])}).",
          f"- Bar lengths: {_pct(summary['inner_bar_share'])} of inner bars (all but the first and last, "
          f"where pickups go) last exactly what M: and L: demand (human: {_pct(human['inner_bar_share'])}; "
          "human tunes miss mostly around section pickups, which split a bar across a double bar line).",
          f"- abc2midi, a second strict reader: {_num(summary['abc2midi_errors_mean'])} errors and "
          f"{_num(summary['abc2midi_warnings_mean'])} warnings per tune (human: "
          f"{_num(human['abc2midi_errors_mean'])} and {_num(human['abc2midi_warnings_mean'])}). "
          "Its most frequent complaints (share of tunes):", ""]
    md += [f"  - {kind}: {_pct(share)}" for kind, share in summary["abc2midi_top_messages"].items()]
    if summary["timed_out"]:
        md += ["", f"{summary['timed_out']} tunes took music21 over {metrics.PARSE_TIMEOUT_S} s and count "
               "as invalid."]
    md += ["", "### Structure", "",
           f"Median {_num(summary['bars']['p50'], 0)} bars per tune (human {_num(human['bars']['p50'], 0)}); "
           f"{_num(summary['parts_mean'], 1)} parts on average (human {_num(human['parts_mean'], 1)}); "
           f"{_pct(summary['repeat_rate'])} use repeat signs (human {_pct(human['repeat_rate'])}); "
           f"{_pct(summary['tonic_ending_rate'])} end on the tonic of their key (human "
           f"{_pct(human['tonic_ending_rate'])}).", ""]
    if fig.get("structure"):
        md += [f"![structure]({fig['structure']})", ""]
    md += ["### Novelty", "",
           "Is the model composing or quoting? For each tune: the longest stretch of its music text "
           "(after the header) that also occurs in one training tune, and the share of its bars, as "
           "note sequences, that occur somewhere in training. Short common phrases are normal in folk "
           "music; the human column shows how much real unseen tunes share. A near-copy has half its "
           f"text in one training tune or {metrics.NEAR_COPY_BAR_SHARE:.0%} of its bars in training "
           "(human held-out tunes that are flagged are mostly the same tune printed in another book).", "",
           f"Longest shared run: median {_num(summary['longest_run']['p50'], 0)} characters "
           f"(10th-90th percentile {_num(summary['longest_run']['p10'], 0)}-"
           f"{_num(summary['longest_run']['p90'], 0)}; "
           f"human {_num(human['longest_run']['p50'], 0)}). Bars found in training: "
           f"{_pct(summary['bar_share_mean'])} (human {_pct(human['bar_share_mean'])}). Near-copies: "
           f"{_pct(summary['near_copy_rate'])} (human {_pct(human['near_copy_rate'])}).", ""]
    if fig.get("novelty"):
        md += [f"![novelty]({fig['novelty']})", ""]
    md += ["### Musical statistics", "",
           "Features of Yang & Lerch's MGEval, pooled over each set of tunes. Overlap is the area shared "
           "by the two histograms (100% = identical); KL divergence (nats) is how badly the generated "
           "histogram predicts the human one (0 = identical). The ceiling compares two halves of the "
           "human tunes: no generated set should be expected to beat it.", ""]
    ceiling = report["human"]["musical_ceiling"]
    rows = []
    for name, (title, _, _) in metrics.FEATURES.items():
        c, h = s["musical"].get(name), ceiling.get(name)
        rows.append([title, _pct(c and c["overlap"]), _pct(h and h["overlap"]),
                     _num(c and c["kl"], 3), _num(h and h["kl"], 3)])
    md += [_table(["feature", "overlap", "ceiling", "KL", "ceiling KL"], rows), ""]
    if fig.get("musical"):
        md += [f"![musical statistics]({fig['musical']})", ""]
    det, ceil = s["detectability"], report["human"]["detectability_ceiling"]
    md += ["### Detectability", "",
           "A random forest learns to tell generated from human tunes using only the musical features "
           "above (pitch-class, interval and note-length shares, pitch range, notes per bar), tested on "
           "tunes it did not learn from (5-fold cross-validation). ROC AUC 0.5 means it cannot tell "
           "them apart; 1.0 means it always can.", "",
           f"AUC {_num(det and det['auc'])} ± {_num(det and det['auc_std'])} (human half vs half: "
           f"{_num(ceil and ceil['auc'])})." if det else "Too few parsable tunes to train the classifier.",
           ""]
    md += _example_tunes(s)
    return md


def _example_tunes(s):
    md = ["### Examples", ""] if s["examples"] else []
    for ex in s["examples"]:
        source = (f"; its longest run shared with training is {ex['longest_run']} characters, from "
                  f"“{ex['longest_run_source']}”") if ex.get("longest_run_source") else ""
        md += [f"Tune {ex['index'] + 1}, {ex['why']}{source}:", "",
               "```abc", ex["abc"].rstrip("\n"), "```", ""]
    return md


def _method_notes(report):
    return ["## How these numbers are made", "",
            "- music21 (the same reader `charrnn render` uses) parses each tune; bars are its measures. "
            "MIDI conversion is the one `charrnn generate` writes.",
            "- abc2midi runs in check mode; it exits 0 even on errors, so its `Error in line-char` and "
            "`Warning in line-char` lines are counted. Old tune books use `-` between different notes as "
            "a slur, which abc2midi reports as a tie error: compare with the human column.",
            "- Parts are stretches between section bar lines (`||`, `|]`, `|:`, `:|`) holding at least "
            "one ordinary bar; a repeat that leads into a second ending does not end a part.",
            "- Novelty uses a suffix array of all training tune bodies; bars are compared as note "
            "sequences (pitches, rests and lengths; chord symbols, ornaments, slurs and spacing "
            "dropped), counting only bars of 3 or more notes.",
            "- Musical statistics use the melody (the top note of a chord), no grace notes. KL "
            f"divergence mixes {metrics.KL_SMOOTHING:.1%} of a uniform distribution into both sides so "
            "that an unused category costs a bounded amount.",
            "- Time per stage (s): " + ", ".join(f"{k} {v}" for k, v in report["timings_s"].items()) + ".",
            ""]


# ---------------------------------------------------------------------------------------------
# Command line


def _temperatures_arg(text):
    import argparse

    try:
        return parse_temperatures(text)
    except CharrnnError as e:  # argparse shows an ArgumentTypeError's own message
        raise argparse.ArgumentTypeError(str(e).split(": ", 1)[-1]) from None


def register_cli(subparsers):
    p = subparsers.add_parser("evaluate", help="report card of a model and its tunes (JSON, Markdown, plots)")
    p.add_argument("--model", default=None, help="run folder (default: the pretrained weights/)")
    p.add_argument("--data", default="data/abc", help="corpus folder (default: data/abc)")
    p.add_argument("-n", type=int, default=DEFAULT_N, help=f"tunes per temperature (default {DEFAULT_N})")
    p.add_argument("--temperatures", type=_temperatures_arg, default=DEFAULT_TEMPERATURES,
                   help="comma-separated sampling temperatures (default 1.0), e.g. 0.7,0.9,1.0,1.2")
    p.add_argument("--random-seed", type=int, default=0)
    p.add_argument("--seed", default="X:", help=r"text that starts every tune; '\n' for newlines")
    p.add_argument("--max-chars", type=int, default=2000)
    p.add_argument("--jobs", type=int, default=None,
                   help="processes that measure tunes with music21 (default: one per CPU, at most 4)")
    p.add_argument("--out", required=True, help="folder for report.json, report.md and figures")
    p.set_defaults(func=run)


def run(args):
    def log(message):
        print(f"evaluate: {message}", file=sys.stderr, flush=True)

    report = evaluate(model=args.model, data=args.data, out=args.out, n=args.n,
                      temperatures=args.temperatures, random_seed=args.random_seed,
                      seed=args.seed.replace("\\n", "\n"), max_chars=args.max_chars, jobs=args.jobs,
                      log=log)
    lk = report["likelihood"]
    if lk.get("model_error"):
        print(f"note: the model could not score the held-out text: {lk['model_error']}")
    print(f"held-out bits per character: model {_num((lk['model'] or {}).get('bits_per_char'), 3)}, "
          + ", ".join(f"{k} {_num(v, 3)}" for k, v in lk["baselines"].items()))
    for s in report["samples"]:
        m = s["summary"]
        print(f"T={s['temperature']:g}: valid {_pct(m['valid_rate'])}, inner bars right "
              f"{_pct(m['inner_bar_share'])}, near-copies {_pct(m['near_copy_rate'])}, detectability AUC "
              f"{_num((s['detectability'] or {}).get('auc'))}")
    print(f"report: {Path(args.out) / 'report.md'} ({report['timings_s']['total']:.0f} s)")
    return 0
