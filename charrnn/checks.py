"""Argument checks for sampling, generation, steering and training, and their limits, stated once.

    check_sampling(temperature=0.9, top_k=None, top_p=0.95, random_seed=7)
    check_whole("n", n, 1, MAX_LANES)

The Python API, the CLI and the composer's request models (which read the same limits) call
these, so a bad argument gets the same one-line CharrnnError wherever it comes from.
"""
import math
import numbers

from .errors import CharrnnError

MAX_TEMPERATURE = 5.0  # above it every character is near-uniform noise
MAX_TOP_K = 1000
MAX_RANDOM_SEED = 2**63 - 1  # NumPy's generators take any non-negative int; JSON clients need a bound
MAX_TRAIN_SEED = 2**32 - 1  # Keras' set_random_seed takes 32 bits
MAX_LANES = 256  # tunes or candidates one steering call samples at once
MAX_DRAFTS = 16  # drafts per tune: each costs a tune's sampling


def check_whole(name, value, low, high=None):
    """A whole number (not a bool) in [low, high]; None passes (the caller's default)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low or (
            high is not None and value > high):
        span = f"at least {low}" if high is None else f"from {low} to {high}"
        raise CharrnnError(f"{name} must be a whole number {span}, not {value!r}")


def check_positive(name, value, high=math.inf, what="a positive number"):
    """A finite number in (0, high]; None passes."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= high or not math.isfinite(
            value):
        raise CharrnnError(f"{name} must be {what}, not {value!r}")


def check_score(name, value):
    """A similarity score limit: a number from 0 to 1; None passes."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise CharrnnError(f"{name} must be a number from 0 to 1, not {value!r}")


def check_sampling(temperature, top_k, top_p, random_seed=None):
    check_positive("temperature", temperature, MAX_TEMPERATURE, f"a number above 0 and at most {MAX_TEMPERATURE:g}")
    check_whole("top_k", top_k, 1, MAX_TOP_K)
    check_positive("top_p", top_p, 1.0, "a number above 0 and at most 1")
    check_whole("random_seed", random_seed, 0, MAX_RANDOM_SEED)


def check_text(name, value, example):
    if not isinstance(value, str):
        raise CharrnnError(f"{name} must be text (a str such as {example!r}), not {value!r}")


def check_generate(seed, n, temperature, top_k, top_p, max_chars, random_seed, drafts=1):
    """generate()'s arguments: a CharrnnError naming the first one of the wrong type or out of range."""
    check_text("seed", seed, "X:")
    if not seed:
        raise CharrnnError("seed must not be empty (use 'X:' to start a tune)")
    check_whole("n", n, 1)
    check_whole("max_chars", max_chars, 1)
    check_sampling(temperature, top_k, top_p, random_seed)
    check_drafts(drafts)


def check_drafts(drafts):
    """Drafts per tune: a whole number from 1 to MAX_DRAFTS (None is not a default here)."""
    if drafts is None:
        raise CharrnnError(f"drafts must be a whole number from 1 to {MAX_DRAFTS}, not None")
    check_whole("drafts", drafts, 1, MAX_DRAFTS)


def drafts_for(model, drafts):
    """The drafts per tune to sample: `drafts`, checked, or when None the model's default (its
    critic.json's, CharModel.default_drafts; 1 for a model that names none, such as a stand-in)."""
    if drafts is None:
        default = getattr(model, "default_drafts", None)
        drafts = default() if default is not None else 1
    check_drafts(drafts)
    return drafts


def check_train(epochs, save_every, batch_size, seq_len, learning_rate, random_seed, time_limit=None):
    for name, value in (("epochs", epochs), ("save_every", save_every), ("batch_size", batch_size),
                        ("seq_len", seq_len)):
        if value is None or isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise CharrnnError(f"{name} must be a whole number at least 1, not {value!r}")
    check_positive("learning_rate", learning_rate)
    check_positive("time_limit", time_limit, what="a positive number of minutes")
    check_whole("random_seed", random_seed, 0, MAX_TRAIN_SEED)
