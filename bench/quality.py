"""Quality benchmark: is the model better than simple baselines, and are its tunes tunes?

    python bench/quality.py [--model RUN_DIR] [--data data/abc] [-n 200] [--temperature 1.0] [--drafts N] [--structure AABB:8]

Measures, with the functions `charrnn evaluate` uses (charrnn.evaluation):

1. held-out bits per character of the model (`model.evaluate_bpc(valid_text)`), and of xz -9e
   and Kneser-Ney character 5- and 7-grams on the same train/validation split;
2. of n generated tunes, the share that music21 parses into a part with >= 8 bars AND that
   convert to MIDI;
3. the share of inner bars (not the first or last) exactly as long as the time signature
   demands, for the generated tunes and for the held-out human tunes measured the same way;
4. the longest run of body characters (after the header) each generated tune shares with any
   training tune: median and percentiles (human held-out tunes for reference);
5. form: bars that repeat another bar of their tune and bars equal to the bar four later (music21
   notes and durations), endings on the tonic of K:, tunes abc2midi reads without an error, and
   with the model's form.json the bits per character on the held-out half it was not fitted on;
6. shape: bars per tune (mean, 90th percentile; music21's measures), parts per tune, tunes that
   play one bar 4+ times and tunes with 6+ repeating bars in a row (bench/loops.py), tunes whose
   first two parts end on the same bar (charrnn.abc.plan.parts_end_alike), and with
   --structure the share of valid tunes whose plan (charrnn.abc.plan) is the one asked for;
7. detectability: cross-validated ROC AUC of a random forest telling them from the human tunes:
   all held-out tunes (one draft only), and the second held-out half (the even-numbered tunes,
   charrnn.corpus.held_out_halves), which the critic never saw (with
   --drafts N > 1 the model's critic keeps the best of N drafts per tune; compare this one).

Prints one JSON line, then a readable table.
"""
import argparse
import json
import sys
import time

from charrnn.abc.plan import parse_structure, parts_end_alike, structure_text
from charrnn.checks import drafts_for
from charrnn.corpus import held_out_halves, load_corpus
from charrnn.errors import CharrnnError
from charrnn.evaluation.detectability import detectability
from charrnn.evaluation.evaluate import DEFAULT_KN_ORDERS, generate_tunes, likelihood, load_model
from charrnn.evaluation.measure import default_jobs, measure_tunes, summarise
from charrnn.evaluation.novelty import TrainingIndex
from charrnn.tune import MIN_BARS
from loops import loop_measures


def _share(flags):
    """The share of True among the flags that are not None."""
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def plan_obeyed(records, structure):
    """The share of valid tunes whose plan (charrnn.abc.plan, as written) is `structure`'s."""
    valid = [r for r in records if r["valid"]]
    want = structure_text(parse_structure(structure))
    return sum(r["plan"] == want for r in valid) / len(valid) if valid else None


def measure(model=None, data="data/abc", n=200, temperature=1.0, random_seed=0, human_n=None,
            kn_orders=DEFAULT_KN_ORDERS, jobs=None, drafts=None, structure=None):
    """The benchmark's numbers as a flat dict."""
    started = time.perf_counter()
    jobs = default_jobs() if jobs is None else jobs
    corpus = load_corpus(data)
    model, name = load_model(model)
    drafts = drafts_for(model, drafts)
    lk = likelihood(model, corpus, kn_orders)
    index = TrainingIndex(corpus.train_tunes)
    options = {} if structure is None else {"structure": structure}
    start = time.perf_counter()
    tunes = generate_tunes(model, n, temperature, random_seed, drafts=drafts, **options)
    generate_s = time.perf_counter() - start
    generated_records = measure_tunes(tunes, index, jobs=jobs)
    human_tunes = corpus.valid_tunes[:human_n]
    human_records = measure_tunes(human_tunes, index, jobs=jobs)
    generated, human = summarise(generated_records), summarise(human_records)
    detect = (detectability(human_records, generated_records, random_seed=random_seed) or {}) if drafts == 1 else {}
    unseen = held_out_halves(human_records)[1]
    detect_unseen = detectability(unseen, generated_records, random_seed=random_seed) or {}
    form = lk.get("form") or {}
    scores = lk["model"] or {}
    result = {
        "model": name, "data": str(data), "n": n, "temperature": temperature, "random_seed": random_seed,
        "drafts": drafts, "generate_chars_per_s": sum(map(len, tunes)) / generate_s,
        "valid_bpc": scores.get("bits_per_char"), "valid_loss": scores.get("loss"),
        "valid_accuracy": scores.get("accuracy"),
        **{f"{k}_bpc": v for k, v in lk["baselines"].items()},
        "validity_rate": generated["valid_rate"], "parse_rate": generated["parse_rate"],
        "inner_bar_share_generated": generated["inner_bar_share"],
        "inner_bar_share_human": human["inner_bar_share"],
        "validity_rate_human": human["valid_rate"],
        "longest_run_median": generated["longest_run"]["p50"],
        "longest_run_p10": generated["longest_run"]["p10"],
        "longest_run_p90": generated["longest_run"]["p90"],
        "longest_run_median_human": human["longest_run"]["p50"],
        "near_copy_rate": generated["near_copy_rate"],
        "near_copy_rate_human": human["near_copy_rate"],
        "valid_bpc_form_half": form.get("with_form"), "valid_bpc_network_half": form.get("network"),
        "repeated_bar_share": generated["repeated_bar_share"],
        "repeated_bar_share_human": human["repeated_bar_share"],
        "bar_plus4_share": generated["bar_plus4_share"], "bar_plus4_share_human": human["bar_plus4_share"],
        "tonic_ending_rate": generated["tonic_ending_rate"],
        "tonic_ending_rate_human": human["tonic_ending_rate"],
        "abc2midi_clean_rate": generated["abc2midi_clean_rate"],
        "abc2midi_clean_rate_human": human["abc2midi_clean_rate"],
        "detectability_auc": detect.get("auc"), "detectability_auc_second_half": detect_unseen.get("auc"),
        "structure": structure,
        "plan_obeyed_rate": plan_obeyed(generated_records, structure) if structure else None,
        "human_tunes": human["tunes"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    for side, summary, abcs in (("", generated, tunes), ("_human", human, human_tunes)):
        result.update({f"bars_mean{side}": summary["bars_mean"], f"bars_p90{side}": summary["bars"]["p90"],
                       f"parts_mean{side}": summary["parts_mean"], f"loop_rate{side}": summary["loop_rate"],
                       f"run_of_6_rate{side}": loop_measures(abcs)["run_of_6"],
                       f"parts_end_alike_rate{side}": _share([parts_end_alike(abc) for abc in abcs])})
    if lk.get("model_error"):
        result["valid_bpc_error"] = lk["model_error"]
    return result


def _fmt(value, kind):
    if value is None:
        return "-"
    return {"bpc": f"{value:.3f}", "pct": f"{100 * value:.1f}%", "int": f"{value:.0f}", "bars": f"{value:.2f}"}[kind]


def table(r):
    """The result as aligned text lines."""
    rows = [("held-out bits per character: model", _fmt(r["valid_bpc"], "bpc"))]
    rows += [(f"  baseline {k[:-4]}", _fmt(v, "bpc")) for k, v in r.items()
             if k.endswith("_bpc") and k != "valid_bpc"]
    rows += [
        (f"valid tunes (music21 part >= {MIN_BARS} bars, MIDI), of {r['n']}",
         _fmt(r["validity_rate"], "pct")),
        ("  held-out human tunes, same test", _fmt(r["validity_rate_human"], "pct")),
        ("inner bars of the right length: generated", _fmt(r["inner_bar_share_generated"], "pct")),
        ("  held-out human tunes", _fmt(r["inner_bar_share_human"], "pct")),
        ("longest run shared with a training tune: median (chars)", _fmt(r["longest_run_median"], "int")),
        ("  10th / 90th percentile",
         f"{_fmt(r['longest_run_p10'], 'int')} / {_fmt(r['longest_run_p90'], 'int')}"),
        ("  held-out human tunes, median", _fmt(r["longest_run_median_human"], "int")),
        ("near-copies of training tunes", _fmt(r["near_copy_rate"], "pct")),
        ("  held-out human tunes", _fmt(r["near_copy_rate_human"], "pct")),
        ("held-out bpc, even-numbered tunes (form fitted on the odd): with form",
         _fmt(r["valid_bpc_form_half"], "bpc")),
        ("  network alone, same characters", _fmt(r["valid_bpc_network_half"], "bpc")),
        ("bars that repeat another bar of the tune", _fmt(r["repeated_bar_share"], "pct")),
        ("  held-out human tunes", _fmt(r["repeated_bar_share_human"], "pct")),
        ("bars equal to the bar four later", _fmt(r["bar_plus4_share"], "pct")),
        ("  held-out human tunes", _fmt(r["bar_plus4_share_human"], "pct")),
        ("last note is the tonic of K:", _fmt(r["tonic_ending_rate"], "pct")),
        ("  held-out human tunes", _fmt(r["tonic_ending_rate_human"], "pct")),
        ("tunes abc2midi reads without an error", _fmt(r["abc2midi_clean_rate"], "pct")),
        ("  held-out human tunes", _fmt(r["abc2midi_clean_rate_human"], "pct")),
        ("bars per tune: mean / 90th percentile",
         f"{_fmt(r['bars_mean'], 'bars')} / {_fmt(r['bars_p90'], 'int')}"),
        ("  held-out human tunes", f"{_fmt(r['bars_mean_human'], 'bars')} / {_fmt(r['bars_p90_human'], 'int')}"),
        ("parts per tune", _fmt(r["parts_mean"], "bars")),
        ("  held-out human tunes", _fmt(r["parts_mean_human"], "bars")),
        ("tunes that play one bar 4+ times", _fmt(r["loop_rate"], "pct")),
        ("  held-out human tunes", _fmt(r["loop_rate_human"], "pct")),
        ("tunes with 6+ repeating bars in a row", _fmt(r["run_of_6_rate"], "pct")),
        ("  held-out human tunes", _fmt(r["run_of_6_rate_human"], "pct")),
        ("tunes whose first two parts end on the same bar", _fmt(r["parts_end_alike_rate"], "pct")),
        ("  held-out human tunes", _fmt(r["parts_end_alike_rate_human"], "pct")),
        *([(f"valid tunes with the plan {r['structure']}", _fmt(r["plan_obeyed_rate"], "pct"))] if r["structure"] else []),
        ("detectability ROC AUC (0.5: cannot tell from human)", _fmt(r["detectability_auc"], "bpc")),
        ("  against the even-numbered held-out tunes (the critic never saw)",
         _fmt(r["detectability_auc_second_half"], "bpc")),
        (f"characters of tunes per second, generating (best of {r['drafts']})",
         f"{r['generate_chars_per_s']:.0f}"),
        ("seconds", f"{r['seconds']:.0f}"),
    ]
    width = max(len(label) for label, _ in rows)
    return [f"{label:<{width}}  {value:>8}" for label, value in rows]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="run folder (default: the pretrained model)")
    ap.add_argument("--data", default="data/abc")
    ap.add_argument("-n", type=int, default=200, help="tunes to generate (default 200)")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--random-seed", type=int, default=0)
    ap.add_argument("--structure", default=None, help="the plan every tune is held to (AABB:8; default: drawn)")
    ap.add_argument("--drafts", type=int, default=None,
                    help="drafts per tune; the model's critic keeps the most human (default: the model's, from "
                         "its critic.json; 1 without one)")
    ap.add_argument("--human-n", type=int, default=None,
                    help="measure only the first N held-out human tunes (default: all)")
    ap.add_argument("--kn-orders", default="5,7,9",
                    help="Kneser-Ney n-gram orders for the baselines (default 5,7,9)")
    ap.add_argument("--jobs", type=int, default=None,
                    help="processes that measure tunes (default: one per CPU, at most 4)")
    a = ap.parse_args(argv)
    try:
        result = measure(a.model, a.data, a.n, a.temperature, a.random_seed, a.human_n,
                         kn_orders=tuple(int(k) for k in a.kn_orders.split(",")), jobs=a.jobs, drafts=a.drafts,
                         structure=a.structure)
    except CharrnnError as e:
        print(f"quality: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    print("\n".join(table(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
