"""Fit a model's critic: its own tunes against human ones, saved as critic.json.

    charrnn critic fit --model runs/folk [--data data/abc] [-n 4000] [--random-seed 0] [--drafts 3]

The human side is the corpus's training tunes and the first of its held-out halves (the one
form.json is fitted on: charrnn.corpus.held_out_halves); the second stays unseen, so `charrnn
evaluate` can judge drafts on it honestly. The machine side is n tunes the model writes with its
default settings (form.json on, one draft). From then on the model keeps the best of `--drafts`
drafts when a caller names no number (CharModel.default_drafts).
"""
import dataclasses
import math

from ..corpus import HALVES, held_out_halves, load_corpus, model_corpus
from ..checks import check_drafts
from ..errors import CharrnnError
from ..generator import as_model
from ..nn.sampling import SAMPLING
from .scorer import CRITIC_FILE

DEFAULT_N = 4000  # generated tunes: about as many as the human ones, whose thousands the trees need
MIN_HUMAN = 20  # held-out tunes in the first half, at the least
MAX_TRAINING_TUNES = 20_000  # of a bigger corpus, every k-th: trees fit in minutes
DEFAULT_DRAFTS = 3  # the model's drafts per tune once it has a critic: the most that keep 5,000 chars/s on Zen 4


def fit_model_critic(model=None, data=None, n=DEFAULT_N, random_seed=0, save=True, kind="best",
                     drafts=DEFAULT_DRAFTS):
    """Fit critic.json for `model` (a run folder, a CharModel or None: the pretrained one) against
    `data`'s training tunes and the first of its held-out halves (default: the model's corpus);
    returns the Critic. The training tunes are most of the human side: the network learnt from
    them too, and with a few hundred tunes the critic picked drafts for that sample's quirks.
    kind: "best" (the classifier that cross-validates better), "logistic" or "trees".
    drafts: the model's drafts per tune from now on, when a caller names none (critic.json's `drafts`)."""
    from .fit import fit_critic  # scikit-learn: loaded here, never when sampling

    check_drafts(drafts)
    if n is None or isinstance(n, bool) or not isinstance(n, int) or n < 10:
        raise CharrnnError(f"-n must be a whole number of at least 10 generated tunes, not {n!r}")
    model = as_model(model)
    data = data if data is not None else model_corpus(model.folder)
    corpus = load_corpus(data)
    tunes = corpus.valid_tunes
    held_out = held_out_halves(tunes)[0]
    if len(held_out) < MIN_HUMAN:
        raise CharrnnError(f"{data}/valid.abc: {len(tunes)} held-out tunes; a critic needs at least "
                           f"{2 * MIN_HUMAN} (it is fitted on one half)")
    training = corpus.train_tunes[::math.ceil(len(corpus.train_tunes) / MAX_TRAINING_TUNES) or 1]
    human = list(training) + list(held_out)
    machine = [t.abc for t in model.generate(n=n, random_seed=random_seed, drafts=1)]
    fitted_on = {"model": str(model.folder), "weights": model.weights_file.name, "corpus": str(data),
                 "human": f"{len(training)} training tunes and {HALVES[0]}: {len(held_out)} of {len(tunes)}",
                 "machine": f"{n} tunes of the model, random seed {random_seed}",
                 "sampling": {"seed": SAMPLING.seed, "temperature": SAMPLING.temperature, "top_k": SAMPLING.top_k,
                              "top_p": SAMPLING.top_p, "max_chars": SAMPLING.max_chars,
                              "form": model.form is not None}}
    critic = dataclasses.replace(fit_critic(human, machine, random_seed=random_seed, fitted_on=fitted_on, kind=kind),
                                 drafts=drafts)
    if save:
        critic.save(model.folder / CRITIC_FILE)
    return critic


def _fit(args):
    critic = fit_model_critic(args.model, args.data, n=args.n, random_seed=args.random_seed, kind=args.kind,
                              drafts=args.drafts)
    aucs = ", ".join(f"C {c}: {auc:.3f}" for c, auc in critic.figures["cv_auc_logistic"].items())
    print(f"fitted on {critic.fitted_on['human_tunes']} human and {critic.fitted_on['machine_tunes']} generated "
          f"tunes; cross-validated AUC of the logistic regression {aucs}; of the trees "
          f"{critic.figures['cv_auc_trees']:.3f}; kept: {critic.settings['kind']}")
    print(f"-> {critic.fitted_on['model']}/{CRITIC_FILE} (the model now keeps the best of {critic.drafts} drafts "
          "unless told otherwise)")
    return 0


def register_cli(subparsers):
    p = subparsers.add_parser("critic", help="a human-vs-machine classifier that keeps the best of several drafts")
    sub = p.add_subparsers(dest="critic_command", required=True)
    fit = sub.add_parser("fit", help=f"fit the model's {CRITIC_FILE} on its own tunes and human ones")
    fit.add_argument("--model", default=None, help="run folder (default: the pretrained model)")
    fit.add_argument("--data", default=None,
                     help="corpus folder whose valid.abc is held out (default: the model's, from train_args.json)")
    fit.add_argument("-n", type=int, default=DEFAULT_N, help=f"tunes to generate (default {DEFAULT_N})")
    fit.add_argument("--random-seed", type=int, default=0)
    fit.add_argument("--drafts", type=int, default=DEFAULT_DRAFTS,
                     help=f"drafts per tune the model keeps the best of from now on, when not told (default "
                          f"{DEFAULT_DRAFTS}; 1 leaves its tunes as they were)")
    fit.add_argument("--kind", choices=("best", "logistic", "trees"), default="best",
                     help="the classifier: the one that cross-validates better (default), a logistic regression, "
                          "or gradient-boosted trees")
    fit.set_defaults(func=_fit)
