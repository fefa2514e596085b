"""The report card's figures: musical statistics, novelty and structure per temperature, and the
temperature sweep (PNG files, human held-out tunes beside generated ones)."""
from collections import Counter

import numpy as np

from .features import FEATURES, categories


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


GENERATED_COLOUR, HUMAN_COLOUR = "#d95f02", "#1b9e77"


def _bars_side_by_side(ax, cats, human, generated, title, xlabel):
    """Two share histograms over the same categories: human held-out vs generated."""
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


def _save(plt, fig, path):
    """Lay the figure out, write it as a PNG, free it; returns the file name."""
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path.name


def sample_figures(out, tag, records, human, gen_counts, human_counts):
    """musical_<tag>.png, novelty_<tag>.png, structure_<tag>.png; returns their file names."""
    plt = _pyplot()
    names = {}

    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5))
    for ax, name in zip(axes.flat, FEATURES):
        title, xlabel, _ = FEATURES[name]
        cats = categories(name, human_counts[name], gen_counts[name])
        if name in ("key", "meter"):
            cats = cats[:12]  # the common ones; the rest are a long thin tail
        _bars_side_by_side(ax, cats, human_counts[name], gen_counts[name], title, xlabel)
    axes.flat[0].legend(fontsize=8)
    axes.flat[-1].axis("off")
    fig.suptitle(f"Musical statistics, generated ({tag}) vs held-out human tunes")
    names["musical"] = _save(plt, fig, out / f"musical_{tag}.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, xlabel in ((axes[0], "longest_run", "longest run of characters shared with a training tune"),
                            (axes[1], "bar_share", "share of bars (note sequences) found in training")):
        _hist(ax, *[[r[key] for r in rs if r.get(key) is not None] for rs in (human, records)])
        ax.set_xlabel(xlabel, fontsize=9)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Novelty against the training tunes ({tag})")
    names["novelty"] = _save(plt, fig, out / f"novelty_{tag}.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    _hist(axes[0], *[[r["bars"] for r in rs if r["parses"]] for rs in (human, records)])
    axes[0].set_xlabel("bars per tune (music21 measures)", fontsize=9)
    axes[0].legend(fontsize=8)
    parts = [Counter(min(r["parts"], 5) for r in rs) for rs in (human, records)]
    _bars_side_by_side(axes[1], [0, 1, 2, 3, 4, 5], parts[0], parts[1], "Parts per tune",
                       "parts (sections between ||, :| or |: ; 5 = five or more)")
    fig.suptitle(f"Structure ({tag})")
    names["structure"] = _save(plt, fig, out / f"structure_{tag}.png")
    return names


def plot_sweep(path, report):
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
    return _save(plt, fig, path)
