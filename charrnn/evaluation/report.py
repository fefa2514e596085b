"""report.md: the numbers of report.json with short explanations, for musicians and engineers."""
from ..tune import MIN_BARS
from .features import FEATURES, KL_SMOOTHING
from .measure import PARSE_TIMEOUT_S
from .novelty import NEAR_COPY_BAR_SHARE


def pct(x):
    return "–" if x is None else f"{100 * x:.0f}%"


def num(x, digits=2):
    return "–" if x is None else f"{x:.{digits}f}"


def sample_label(sample):
    """'T = 1', or 'T = 1, best of 3 drafts' for a set the critic chose from."""
    drafts = sample.get("drafts", 1)
    return f"T = {sample['temperature']:g}" + (f", best of {drafts} drafts" if drafts > 1 else "")


def _mean_overlap(comparison):
    values = [c["overlap"] for c in comparison.values() if c]
    return sum(values) / len(values) if values else None


def _glance_rows(report):
    """(label, human value, [value per temperature]) for the summary table."""
    human = report["human"]["summary"]
    samples = [s["summary"] for s in report["samples"]]

    def row(label, key, fmt=pct):
        return label, fmt(human.get(key)), [fmt(s.get(key)) for s in samples]

    def nested(label, key, q):
        return label, num(human[key][q], 0), [num(s[key][q], 0) for s in samples]

    return [
        row("valid: music21 parses it into >= 8 bars and it converts to MIDI", "valid_rate"),
        row("complete: header with X, T, M, L, K and >= 8 bars", "complete_rate"),
        row("inner bars exactly as long as M: demands", "inner_bar_share"),
        row("abc2midi errors per tune", "abc2midi_errors_mean", num),
        row("abc2midi warnings per tune", "abc2midi_warnings_mean", num),
        row("tunes abc2midi reads without an error", "abc2midi_clean_rate"),
        nested("median bars per tune", "bars", "p50"),
        row("parts per tune (mean)", "parts_mean", num),
        row("with repeat signs |: :|", "repeat_rate"),
        row("with first and second endings", "ending_rate"),
        row("last note is the tonic of K:", "tonic_ending_rate"),
        row("bars that repeat another bar of the tune (notes and durations)", "repeated_bar_share"),
        row("bars equal to the bar four later", "bar_plus4_share"),
        nested("longest run shared with a training tune (median characters)", "longest_run", "p50"),
        row("bars found in the training tunes (mean)", "bar_share_mean"),
        row("near-copies of training tunes", "near_copy_rate"),
        ("nearest training tune by ear: median score, 0-1 (charrnn similar)",
         num(human["nearest_score"].get("p50")), [num(s["nearest_score"].get("p50")) for s in samples]),
        ("nearest training tune scores above " + num(human["nearest_score"].get("threshold")),
         pct(human["nearest_score"].get("above_rate")), [pct(s["nearest_score"].get("above_rate")) for s in samples]),
        ("musical statistics: mean overlap with human tunes (human column: half vs half)",
         pct(_mean_overlap(report["human"]["musical_ceiling"])),
         [pct(_mean_overlap(s["musical"])) for s in report["samples"]]),
        ("detectability: ROC AUC telling them from human tunes (0.5 = cannot tell)",
         num((report["human"]["detectability_ceiling"] or {}).get("auc")),
         [num((s["detectability"] or {}).get("auc")) for s in report["samples"]]),
    ]


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report):
    """report.md: the numbers of report.json with short explanations, for musicians and engineers."""
    lk = report["likelihood"]
    temps = [sample_label(s) for s in report["samples"]]
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
    rows = [["the model", num(scores.get("bits_per_char"), 3), num(scores.get("loss"), 3),
             pct(scores.get("accuracy"))]]
    rows += [[_baseline_name(name), num(bpc, 3), "", ""] for name, bpc in lk["baselines"].items()]
    md += [_table(["", "bits per character", "loss (nats)", "next character right"], rows), "",
           f"Same split for all: {lk['train_chars']:,} training and {lk['valid_chars']:,} held-out "
           "characters.", ""]
    if lk.get("model_error"):
        md += [f"The model could not score the held-out text: {lk['model_error']}", ""]
    if lk.get("form"):
        form = lk["form"]
        md += [f"With its form (copied bars, `form.json`), on the half of the held-out tunes the form was "
               f"not fitted on ({form['chars']:,} characters): {num(form['with_form'], 3)} bits per "
               f"character, against {num(form['network'], 3)} for the network alone on the same characters.", ""]

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
    tag = sample_label(s)
    summary, human = s["summary"], report["human"]["summary"]
    fig = s.get("figures", {})
    md = [f"## Generated tunes at {tag}", "",
          f"The {summary['tunes']} tunes are in `{s['tunes_file']}`.", "",
          "### Validity", "",
          f"- {pct(summary['parse_rate'])} parse with music21 (human: {pct(human['parse_rate'])}); "
          f"{pct(summary['valid_rate'])} also have at least {MIN_BARS} bars and convert to MIDI "
          f"(human: {pct(human['valid_rate'])}).",
          f"- Bar lengths: {pct(summary['inner_bar_share'])} of inner bars (all but the first and last, "
          f"where pickups go) last exactly what M: and L: demand (human: {pct(human['inner_bar_share'])}; "
          "human tunes miss mostly around section pickups, which split a bar across a double bar line).",
          f"- abc2midi, a second strict reader: {num(summary['abc2midi_errors_mean'])} errors and "
          f"{num(summary['abc2midi_warnings_mean'])} warnings per tune (human: "
          f"{num(human['abc2midi_errors_mean'])} and {num(human['abc2midi_warnings_mean'])}). "
          "Its most frequent complaints (share of tunes):", ""]
    md += [f"  - {kind}: {pct(share)}" for kind, share in summary["abc2midi_top_messages"].items()]
    if summary["timed_out"]:
        md += ["", f"{summary['timed_out']} tunes took music21 over {PARSE_TIMEOUT_S} s and count "
               "as invalid."]
    md += ["", "### Structure", "",
           f"Median {num(summary['bars']['p50'], 0)} bars per tune (human {num(human['bars']['p50'], 0)}); "
           f"{num(summary['parts_mean'], 1)} parts on average (human {num(human['parts_mean'], 1)}); "
           f"{pct(summary['repeat_rate'])} use repeat signs (human {pct(human['repeat_rate'])}); "
           f"{pct(summary['tonic_ending_rate'])} end on the tonic of their key (human "
           f"{pct(human['tonic_ending_rate'])}). Form: {pct(summary['repeated_bar_share'])} of bars repeat "
           f"another bar of their tune (human {pct(human['repeated_bar_share'])}), and "
           f"{pct(summary['bar_plus4_share'])} equal the bar four later (human {pct(human['bar_plus4_share'])}).", ""]
    if fig.get("structure"):
        md += [f"![structure]({fig['structure']})", ""]
    md += ["### Novelty", "",
           "Is the model composing or quoting? For each tune: the longest stretch of its music text "
           "(after the header) that also occurs in one training tune, and the share of its bars, as "
           "note sequences, that occur somewhere in training. Short common phrases are normal in folk "
           "music; the human column shows how much real unseen tunes share. A near-copy has half its "
           f"text in one training tune or {NEAR_COPY_BAR_SHARE:.0%} of its bars in training "
           "(human held-out tunes that are flagged are mostly the same tune printed in another book).", "",
           f"Longest shared run: median {num(summary['longest_run']['p50'], 0)} characters "
           f"(10th-90th percentile {num(summary['longest_run']['p10'], 0)}-"
           f"{num(summary['longest_run']['p90'], 0)}; "
           f"human {num(human['longest_run']['p50'], 0)}). Bars found in training: "
           f"{pct(summary['bar_share_mean'])} (human {pct(human['bar_share_mean'])}). Near-copies: "
           f"{pct(summary['near_copy_rate'])} (human {pct(human['near_copy_rate'])}).", ""]
    if fig.get("novelty"):
        md += [f"![novelty]({fig['novelty']})", ""]
    md += ["### Musical statistics", "",
           "Features of Yang & Lerch's MGEval, pooled over each set of tunes. Overlap is the area shared "
           "by the two histograms (100% = identical); KL divergence (nats) is how badly the generated "
           "histogram predicts the human one (0 = identical). The ceiling compares two halves of the "
           "human tunes: no generated set should be expected to beat it.", ""]
    ceiling = report["human"]["musical_ceiling"]
    rows = []
    for name, (title, _, _) in FEATURES.items():
        c, h = s["musical"].get(name), ceiling.get(name)
        rows.append([title, pct(c and c["overlap"]), pct(h and h["overlap"]),
                     num(c and c["kl"], 3), num(h and h["kl"], 3)])
    md += [_table(["feature", "overlap", "ceiling", "KL", "ceiling KL"], rows), ""]
    if fig.get("musical"):
        md += [f"![musical statistics]({fig['musical']})", ""]
    det, ceil = s["detectability"], report["human"]["detectability_ceiling"]
    md += ["### Detectability", "",
           "A random forest learns to tell generated from human tunes using only their features "
           "(pitch-class, interval and note-length shares, pitch range, notes per bar, repeated bars, "
           "the last note, and shape: bars, parts, bars per part, loops, notes outside the key), tested on "
           "tunes it did not learn from (5-fold cross-validation). ROC AUC 0.5 means it cannot tell "
           "them apart; 1.0 means it always can. Its human tunes: "
           f"{report.get('detectability_human', 'all held-out tunes')}"
           + (" (the critic that chose among the drafts is another classifier, fitted on the other half)."
              if max(report.get("drafts", [1])) > 1 else "."), "",
           f"AUC {num(det and det['auc'])} ± {num(det and det['auc_std'])} (human half vs half: "
           f"{num(ceil and ceil['auc'])})." if det else "Too few parsable tunes to train the classifier.",
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
            f"divergence mixes {KL_SMOOTHING:.1%} of a uniform distribution into both sides so "
            "that an unused category costs a bounded amount.",
            "- Time per stage (s): " + ", ".join(f"{k} {v}" for k, v in report["timings_s"].items()) + ".",
            ""]
