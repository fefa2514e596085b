"""Fit a model's form (charrnn.form: copied bars, cadences on the tonic) on held-out tunes.

    charrnn form fit --model runs/folk --data data/abc      # writes runs/folk/form.json
    charrnn form fit --model runs/folk --plans-only         # the plans alone, the rest kept

The copy weights are fitted by EM on one half of the held-out tunes (the network never trained on
them, so its likelihoods there are honest; charrnn.corpus.held_out_halves) and scored on the other,
which the fit never saw: bits per character of the network alone and of the mixture, on the same
characters.
The plans (parts x bars, charrnn.form.plans) are counted on the training tunes, by meter and type.
Then the sampler's copy_scale is chosen (calibrate_copies): of COPY_SCALES, the one whose sampled
tunes repeat bars most nearly as often as the fitted tunes do (charrnn.form.config says why the fitted
weights copy too little).
"""
import dataclasses

from ..abc.bars import repeated_bar_share
from ..corpus import HALVES, held_out_halves, load_corpus
from ..errors import CharrnnError
from ..generator import as_model
from .config import DEFAULT_CADENCE_TRIES, FORM_FILE, FormConfig
from .fit import fit_cache, fit_weights, tune_rows
from .plans import count_plans

COPY_SCALES = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)  # copy_scale's candidates, tried in order
CALIBRATION_TUNES = 100  # tunes sampled at each copy_scale tried (a few seconds each)


def calibrate_copies(model, form, target, n=CALIBRATION_TUNES, random_seed=0):
    """(copy_scale, [(scale, share of repeated bars), ...]): COPY_SCALES are tried in order until
    n sampled tunes repeat at least `target` of their bars. The smallest scale within a point of
    the closest is chosen: a larger one must bring the tunes nearer (a model that writes no bars
    to copy keeps 1)."""
    tried = []
    for scale in COPY_SCALES:
        tunes = model.generate(n=n, random_seed=random_seed, form=dataclasses.replace(form, copy_scale=scale),
                               drafts=1)
        tried.append((scale, repeated_bar_share([t.abc for t in tunes])))
        if tried[-1][1] >= target:
            break
    closest = min(abs(share - target) for _, share in tried)
    return next(scale for scale, share in tried if abs(share - target) <= closest + 0.01), tried


def fit_plans(model=None, data="data/abc", save=True):
    """Count `data`'s plans into the model's form.json, keeping the rest of it; returns the figures."""
    model = as_model(model, read_form=False)
    path = model.folder / FORM_FILE
    if not path.is_file():
        raise CharrnnError(f"{model.folder}: no {FORM_FILE} to add plans to; run `charrnn form fit` first")
    tunes = load_corpus(data).train_tunes
    form = dataclasses.replace(FormConfig.load(path, plans=False), plans=count_plans(tunes))
    if save:
        form.save(path)
    return {"form": form, "path": str(path), "tunes": len(tunes)}


def fit_form(model=None, data="data/abc", cadence_tries=DEFAULT_CADENCE_TRIES, copy_scale=None, cache=False,
             save=True):
    """Fit form.json for `model` (a run folder, a CharModel, or None: the pretrained one) on the
    first of `data`'s held-out halves; returns the figures, scored on the second.
    `cache` fits the character cache under the bar copies (charrnn.form.cache) first; `copy_scale`
    None calibrates it (calibrate_copies), a number sets it."""
    if cadence_tries < 0:  # before any loading: bad input costs nothing
        raise CharrnnError(f"--cadence-tries must be 0 or more, not {cadence_tries}")
    if copy_scale is not None and not copy_scale > 0:
        raise CharrnnError(f"--copy-scale must be above 0, not {copy_scale}")
    model = as_model(model, read_form=False)  # the file it replaces may be unreadable
    if model.config.arch != "rnn":  # it reads held-out text in long stateful lanes
        raise CharrnnError(f"{model.folder}: form.json is fitted for RNN models only, not a {model.config.arch}")
    corpus = load_corpus(data)
    tunes = corpus.valid_tunes
    if len(tunes) < 4:
        raise CharrnnError(f"{data}/valid.abc: {len(tunes)} held-out tunes; fitting form needs at least 4")
    fit_on, score_on = held_out_halves(tunes)
    cache = fit_cache(model.net, model.vocab, fit_on) if cache else None  # (theta, lam)
    rows, _, _, _ = tune_rows(model.net, model.vocab, fit_on, cache=cache)
    theta, lam = cache or (0.0, 0.0)
    weights = fit_weights(rows)
    form = FormConfig(weights=tuple(map(tuple, weights.tolist())), cadence_tries=cadence_tries,
                      fitted_on=f"{HALVES[0]}: {len(fit_on)} of {len(tunes)} in {data}",
                      cache_theta=theta, cache_lambda=lam, plans=count_plans(corpus.train_tunes))
    target = repeated_bar_share(fit_on)
    tried = []
    if copy_scale is None:
        copy_scale, tried = calibrate_copies(model, form, target)
    form = dataclasses.replace(form, copy_scale=copy_scale)
    path = model.folder / FORM_FILE
    if save:
        form.save(path)
    return {"form": form, "path": str(path), "bars_fitted": len(rows), "repeated_bars_fitted": target,
            "copy_scales_tried": tried,
            "scored_on": f"{HALVES[1]}: {len(score_on)}", **model.form_bpc(score_on, form)}


def _plans_line(result):
    kinds = {}
    for meter, kind, structure, count in result["form"].plans:
        kinds.setdefault((meter, kind), []).append((structure, count))
    top = sorted(kinds.items(), key=lambda kv: -sum(c for _, c in kv[1]))[:3]
    return "plans: " + "; ".join(f"{m} {k or '(no R:)'}: " + ", ".join(f"{s} {c}" for s, c in plans[:3])
                                 for (m, k), plans in top)


def _fit(args):
    if args.plans_only:
        result = fit_plans(args.model, args.data)
        print(f"{_plans_line(result)} ... ({result['tunes']} training tunes) -> {result['path']}")
        return 0
    result = fit_form(args.model, args.data, cadence_tries=args.cadence_tries, copy_scale=args.copy_scale,
                      cache=args.cache)
    form = result["form"]
    if form.cache():
        print(f"character cache: theta {form.cache_theta:g}, weight {form.cache_lambda:g}")
    if result["copy_scales_tried"]:
        tried = ", ".join(f"{s:g}: {100 * r:.0f}%" for s, r in result["copy_scales_tried"])
        print(f"repeated bars: {100 * result['repeated_bars_fitted']:.0f}% in the tunes fitted on; sampled at "
              f"copy_scale {tried} -> {result['form'].copy_scale:g}")
    print(_plans_line(result))
    print(f"fitted on {result['bars_fitted']} bars ({result['form'].fitted_on}); on {result['scored_on']}: "
          f"network alone {result['network']:.3f}, with form {result['with_form']:.3f} bits per character "
          f"-> {result['path']}")
    return 0


def register_cli(subparsers):
    p = subparsers.add_parser("form", help="copied bars and cadences on the tonic for a trained model")
    sub = p.add_subparsers(dest="form_command", required=True)
    fit = sub.add_parser("fit", help=f"fit the model's {FORM_FILE} on held-out tunes")
    fit.add_argument("--model", default=None, help="run folder (default: the pretrained model)")
    fit.add_argument("--data", default="data/abc", help="corpus folder whose valid.abc is held out")
    fit.add_argument("--cadence-tries", type=int, default=DEFAULT_CADENCE_TRIES,
                     help="times a part's closing bar off the tonic is written again (0: never)")
    fit.add_argument("--cache", action="store_true",
                     help="experimental: add a character cache under the bar copies (charrnn.form.cache): fewer "
                          "bits per character on held-out tunes, but sampled tunes less often valid")
    fit.add_argument("--copy-scale", type=float, default=None,
                     help="the sampler's copy weights are the fitted ones times this "
                          "(default: chosen so sampled tunes repeat bars as the human ones do)")
    fit.add_argument("--plans-only", action="store_true",
                     help="count the training tunes' plans (parts x bars) into form.json and keep the rest of it")
    fit.set_defaults(func=_fit)
