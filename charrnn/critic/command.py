"""Fit a model's critic: its own tunes against held-out human ones, saved as critic.json.

    charrnn critic fit --model runs/folk [--data data/abc] [-n 800] [--random-seed 0]

The human side is the first half of the corpus's held-out tunes (the half form.json is fitted
on); the second half stays unseen, so `charrnn evaluate` can judge drafts on it honestly. The
machine side is n tunes the model writes with its default settings (form.json on, one draft).
"""
from ..corpus import load_corpus, model_corpus
from ..errors import CharrnnError
from ..form.fit import held_out_halves
from ..generator import as_model
from ..nn.sampling import SAMPLING
from .scorer import CRITIC_FILE

DEFAULT_N = 800  # generated tunes: a few hundred per class fit 54 weights well
MIN_HUMAN = 20  # held-out tunes in the first half, at the least


def fit_model_critic(model=None, data=None, n=DEFAULT_N, random_seed=0, save=True, kind="best"):
    """Fit critic.json for `model` (a run folder, a CharModel or None: the pretrained one) against
    the first half of `data`'s held-out tunes (default: the model's corpus); returns the Critic.
    kind: "best" (the classifier that cross-validates better), "logistic" or "trees"."""
    from .fit import fit_critic  # scikit-learn: loaded here, never when sampling

    if n is None or isinstance(n, bool) or not isinstance(n, int) or n < 10:
        raise CharrnnError(f"-n must be a whole number of at least 10 generated tunes, not {n!r}")
    model = as_model(model)
    data = data if data is not None else model_corpus(model.folder)
    tunes = load_corpus(data).valid_tunes
    human = held_out_halves(tunes)[0]
    if len(human) < MIN_HUMAN:
        raise CharrnnError(f"{data}/valid.abc: {len(tunes)} held-out tunes; a critic needs at least "
                           f"{2 * MIN_HUMAN} (it is fitted on the first half)")
    machine = [t.abc for t in model.generate(n=n, random_seed=random_seed)]
    fitted_on = {"model": str(model.folder), "weights": model.weights_file.name, "corpus": str(data),
                 "human": f"held-out tunes 1-{len(human)} of {len(tunes)}",
                 "machine": f"{n} tunes of the model, random seed {random_seed}",
                 "sampling": {"seed": SAMPLING.seed, "temperature": SAMPLING.temperature, "top_k": SAMPLING.top_k,
                              "top_p": SAMPLING.top_p, "max_chars": SAMPLING.max_chars,
                              "form": model.form is not None}}
    critic = fit_critic(human, machine, random_seed=random_seed, fitted_on=fitted_on, kind=kind)
    if save:
        critic.save(model.folder / CRITIC_FILE)
    return critic


def _fit(args):
    critic = fit_model_critic(args.model, args.data, n=args.n, random_seed=args.random_seed, kind=args.kind)
    aucs = ", ".join(f"C {c}: {auc:.3f}" for c, auc in critic.figures["cv_auc_logistic"].items())
    print(f"fitted on {critic.fitted_on['human_tunes']} human and {critic.fitted_on['machine_tunes']} generated "
          f"tunes; cross-validated AUC of the logistic regression {aucs}; of the trees "
          f"{critic.figures['cv_auc_trees']:.3f}; kept: {critic.settings['kind']}")
    print(f"-> {critic.fitted_on['model']}/{CRITIC_FILE}")
    return 0


def register_cli(subparsers):
    p = subparsers.add_parser("critic", help="a human-vs-machine classifier that keeps the best of several drafts")
    sub = p.add_subparsers(dest="critic_command", required=True)
    fit = sub.add_parser("fit", help=f"fit the model's {CRITIC_FILE} on its own tunes and held-out human ones")
    fit.add_argument("--model", default=None, help="run folder (default: the pretrained model)")
    fit.add_argument("--data", default=None,
                     help="corpus folder whose valid.abc is held out (default: the model's, from train_args.json)")
    fit.add_argument("-n", type=int, default=DEFAULT_N, help=f"tunes to generate (default {DEFAULT_N})")
    fit.add_argument("--random-seed", type=int, default=0)
    fit.add_argument("--kind", choices=("best", "logistic", "trees"), default="best",
                     help="the classifier: the one that cross-validates better (default), a logistic regression, "
                          "or gradient-boosted trees")
    fit.set_defaults(func=_fit)
