"""`charrnn evaluate`: an honest report card for a model and the tunes it writes.

    charrnn evaluate --out report/              # the pretrained model, 200 tunes: 1 draft and its default
    charrnn evaluate --model runs/folk --temperatures 0.7,0.9,1.0,1.2 -n 200 --out report/
    charrnn evaluate --drafts 1,2,8 --out report/   # the best of 1, 2 and 8 drafts (charrnn.critic)

Writes into --out: report.json (every number), report.md (the same, for people, with short
explanations), PNG figures and the generated tunes (tunes_t1.abc, ...). Each generated set is
measured beside the held-out human tunes of the corpus, measured the same way, so every rate
has a human reference next to it:

- likelihood: validation loss, accuracy and bits per character, with the xz and Kneser-Ney
  n-gram baselines on the same split;
- validity: music21 parse, MIDI, header, bar lengths, abc2midi errors and warnings;
- structure: bars, parts, repeats, endings, final note on the tonic;
- novelty: longest run shared with a training tune, bars found in training, near-copies, and the
  score of the nearest training tune by ear (charrnn.similarity: key, ornaments and bar lines aside);
- musical statistics (MGEval style) with a human-vs-human ceiling, and detectability (ROC AUC).

With drafts > 1 the model's critic, fitted on the training tunes and the first of the held-out
halves (charrnn.corpus.held_out_halves), picks each tune's best draft; detectability is then
measured against the second half only (the even-numbered tunes), which the critic never saw (for
every set, one draft included, so the figures compare).
"""
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from ..checks import check_drafts, drafts_for
from ..corpus import HALVES, held_out_halves, load_corpus, model_corpus
from ..errors import CharrnnError, check_out_folder
from ..files import write_text_atomic
from ..generator import as_model, default_weights_dir
from ..nn.sampling import SAMPLING
from ..similarity import score_summary
from .baselines import baseline_bpc
from .detectability import detectability
from .features import compare_features, feature_counts
from .figures import plot_sweep, sample_figures
from .measure import default_jobs, finite, measure_tunes, public_record, summarise
from .novelty import TrainingIndex
from .report import num, pct, render_markdown, sample_label

DEFAULT_N = 200
DEFAULT_TEMPERATURES = (SAMPLING.temperature,)
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


def parse_drafts(text):
    """'1,4' -> (1, 4); a CharrnnError for anything that is not whole numbers of drafts."""
    try:
        values = tuple(int(v) for v in str(text).split(",") if v.strip())
    except ValueError:
        raise CharrnnError(f"--drafts: expected whole numbers separated by commas, got {text!r}") from None
    return checked_drafts(values)


def checked_drafts(values):
    """The numbers of drafts to measure, each checked (charrnn.checks.check_drafts), as a tuple."""
    values = tuple(values)
    if not values:
        raise CharrnnError("drafts: expected at least one number of drafts, such as 1 or 1,4")
    for d in values:
        check_drafts(d)
    return values


def load_model(model):
    """(model object, name): an object with generate/evaluate_bpc is used as it is; a path or None
    goes through charrnn.load (None: the pretrained model)."""
    loaded = as_model(model)
    if loaded is model:
        return model, getattr(model, "name", type(model).__name__)
    return loaded, str(getattr(loaded, "folder", model or "pretrained"))


def generate_tunes(model, n, temperature, random_seed=0, seed=SAMPLING.seed, max_chars=SAMPLING.max_chars,
                   drafts=1, **options):
    """n tunes from the model as ABC strings, each the best of `drafts` (one: the model's own);
    `options`: generate's others, such as structure."""
    tunes = model.generate(seed=seed, n=n, temperature=temperature, max_chars=max_chars,
                           random_seed=random_seed, drafts=drafts, **options)
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
    if getattr(model, "form", None) is not None:
        # Scored on the held-out half the form's weights were not fitted on (charrnn form fit).
        result["form"] = model.form_bpc(held_out_halves(corpus.valid_tunes)[1])
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


def _sample_tag(t, drafts):
    return f"t{t:g}" + (f"_d{drafts}" if drafts > 1 else "")


def evaluate(model=None, data=None, out="report", n=DEFAULT_N, temperatures=DEFAULT_TEMPERATURES,
             random_seed=0, seed=SAMPLING.seed, max_chars=SAMPLING.max_chars, kn_orders=DEFAULT_KN_ORDERS, human_n=None,
             jobs=None, plots=True, log=None, drafts=None):
    """Measure a model and n of its tunes per temperature and number of drafts; write report.json,
    report.md and plots.

    model: a run folder, None (the pretrained model) or a loaded model object.
    data: the corpus folder (default: the one the model was trained on, charrnn.corpus.model_corpus).
    human_n: measure only the first human_n held-out tunes (default: all of them).
    drafts: drafts per tune, each value a set of tunes (> 1 needs the model's critic.json); with any
        above 1, detectability is measured against the second held-out half. None: one
        draft and the model's default (CharModel.default_drafts), when that is more.
    jobs: processes that measure tunes (default: default_jobs(), one per CPU up to 4).
    Returns the report as a dict (what report.json holds).
    """
    if n < 1:
        raise CharrnnError(f"-n must be at least 1, got {n}")
    temperatures, drafts = tuple(temperatures), None if drafts is None else checked_drafts(drafts)
    if not temperatures or any(not 0 < t < float("inf") for t in temperatures):
        raise CharrnnError(f"temperatures must be positive and finite, got {temperatures}")
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    clock = _Clock(log)
    started = time.perf_counter()
    out = check_out_folder(out)
    model, model_name = clock("load model", load_model, model)
    if drafts is None:
        drafts = tuple(sorted({1, drafts_for(model, None)}))
    if max(drafts) > 1 and hasattr(model, "critic"):
        model.critic()  # no critic.json: say so now, not after the human tunes are measured
    if data is None:
        data = model_corpus(getattr(model, "folder", None) or default_weights_dir())
    corpus = load_corpus(data)
    out.mkdir(parents=True, exist_ok=True)
    train_tunes, human_tunes = corpus.train_tunes, corpus.valid_tunes[:human_n]
    if len(human_tunes) < 2:
        raise CharrnnError(f"{data}: valid.abc needs at least 2 held-out tunes to compare against")

    report = {"model": model_name, "data": str(data), "n": n, "temperatures": list(temperatures),
              "drafts": list(drafts),
              "random_seed": random_seed, "seed": seed, "max_chars": max_chars, "jobs": jobs,
              "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "train_tunes": len(train_tunes), "human_tunes": len(human_tunes)}
    report["likelihood"] = clock("likelihood and baselines", likelihood, model, corpus, kn_orders)
    index = clock("index training tunes", TrainingIndex, train_tunes)
    human = clock("measure held-out human tunes", measure_tunes, human_tunes, index, jobs=jobs)
    half_a, half_b = held_out_halves(human)
    # The critic was fitted on the training tunes and the first of the held-out halves: with drafts the
    # judge compares every set with the second, which the critic never saw.
    judged_on = half_b if max(drafts) > 1 else human
    report["detectability_human"] = (f"{HALVES[1]}, {len(half_b)} tunes the critic was not fitted on"
                                     if max(drafts) > 1 else "all held-out tunes")
    report["human"] = {
        "summary": {**summarise(human),
                    "nearest_score": clock("nearest training tunes of human tunes", score_summary, human_tunes, data)},
        "musical_ceiling": compare_features(half_a, half_b),
        "detectability_ceiling": detectability(half_a, half_b, random_seed),
    }
    human_counts = feature_counts(human)
    report["samples"] = []
    for t, d in [(t, d) for t in temperatures for d in drafts]:
        tag = _sample_tag(t, d)
        abcs = clock(f"generate ({tag})", generate_tunes, model, n, t, random_seed, seed, max_chars, d)
        tunes_file = f"tunes_{tag}.abc"
        (out / tunes_file).write_text("\n".join(a.rstrip("\n") + "\n" for a in abcs), encoding="utf-8")
        records = clock(f"measure generated tunes ({tag})", measure_tunes, abcs, index, jobs=jobs)
        sample = {"temperature": t, "drafts": d, "tunes_file": tunes_file,
                  "summary": {**summarise(records), "nearest_score": score_summary(abcs, data)},
                  "musical": compare_features(human, records),
                  "detectability": clock(f"detectability ({tag})", detectability,
                                         judged_on, records, random_seed),
                  "examples": _examples(abcs, records),
                  "figures": {}}
        if plots:
            sample["figures"] = clock(f"figures ({tag})", sample_figures, out, tag, records, human,
                                      feature_counts(records), human_counts)
        sample["tunes"] = [dict(public_record(r), index=i) for i, r in enumerate(records)]
        report["samples"].append(sample)
    if plots and len(temperatures) > 1:  # over temperature, at the first number of drafts
        sweep = [s for s in report["samples"] if s["drafts"] == drafts[0]]
        report["sweep_figure"] = plot_sweep(out / "sweep.png", {**report, "samples": sweep})
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
        return finite(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------
# Command line


def _list_arg(parse):
    def parsed(text):
        import argparse

        try:
            return parse(text)
        except CharrnnError as e:  # argparse shows an ArgumentTypeError's own message
            raise argparse.ArgumentTypeError(str(e).split(": ", 1)[-1]) from None
    return parsed


def register_cli(subparsers):
    p = subparsers.add_parser("evaluate", help="report card of a model and its tunes (JSON, Markdown, plots)")
    p.add_argument("--model", default=None, help="run folder (default: the pretrained model)")
    p.add_argument("--data", default=None,
                   help="corpus folder (default: the one the model was trained on, from its train_args.json)")
    p.add_argument("-n", type=int, default=DEFAULT_N, help=f"tunes per temperature (default {DEFAULT_N})")
    p.add_argument("--temperatures", type=_list_arg(parse_temperatures), default=DEFAULT_TEMPERATURES,
                   help="comma-separated sampling temperatures (default 1.0), e.g. 0.7,0.9,1.0,1.2")
    p.add_argument("--drafts", type=_list_arg(parse_drafts), default=None,
                   help="comma-separated drafts per tune, each a set of tunes, e.g. 1,4: the model's critic keeps "
                        "each tune's most human draft (default: 1 and the model's own, from its critic.json)")
    p.add_argument("--random-seed", type=int, default=0)
    p.add_argument("--seed", default=SAMPLING.seed, help=r"text that starts every tune; '\n' for newlines")
    p.add_argument("--max-chars", type=int, default=SAMPLING.max_chars)
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
                      log=log, drafts=args.drafts)
    lk = report["likelihood"]
    if lk.get("model_error"):
        print(f"note: the model could not score the held-out text: {lk['model_error']}")
    print(f"held-out bits per character: model {num((lk['model'] or {}).get('bits_per_char'), 3)}, "
          + ", ".join(f"{k} {num(v, 3)}" for k, v in lk["baselines"].items()))
    if lk.get("form"):
        print(f"held-out bits per character with form (the even-numbered held-out tunes): "
              f"{num(lk['form']['with_form'], 3)} (network alone {num(lk['form']['network'], 3)})")
    for s in report["samples"]:
        m = s["summary"]
        print(f"{sample_label(s)}: valid {pct(m['valid_rate'])}, inner bars right "
              f"{pct(m['inner_bar_share'])}, repeated bars {pct(m['repeated_bar_share'])}, ends on the tonic "
              f"{pct(m['tonic_ending_rate'])}, abc2midi clean {pct(m['abc2midi_clean_rate'])}, "
              f"near-copies {pct(m['near_copy_rate'])}, nearest training tune {num(m['nearest_score'].get('p50'))} "
              f"(median; human {num(report['human']['summary']['nearest_score'].get('p50'))}), detectability AUC "
              f"{num((s['detectability'] or {}).get('auc'))}")
    print(f"detectability: against {report['detectability_human']}")
    print(f"report: {Path(args.out) / 'report.md'} ({report['timings_s']['total']:.0f} s)")
    return 0
