"""Load a trained model and write new tunes, from Python or the command line.

    import charrnn
    model = charrnn.load()                       # the pretrained model
    jigs = model.generate(seed="X:1\\nT:\\nM:6/8\\nL:1/8\\nK:D\\n", n=5, temperature=0.9, random_seed=7)
    print(jigs[0].abc); jigs[0].to_midi("jig.mid")

    charrnn generate -n 10 --temperature 0.9 --seed 'X:1\\nM:6/8\\n' --random-seed 7 --out samples/
"""
import inspect
import os
import re
import sys
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Optional

import numpy as np

from . import steering
from .abc.header import header_controls, with_header
from .abc.plan import parse_structure
from .abc.text import tunebook
from .checks import check_generate, check_score, drafts_for
from .critic import CRITIC_FILE, Critic
from .errors import CharrnnError, check_out_folder
from .files import replacing, write_text_atomic
from .form.config import FORM_FILE, FormConfig
from .form.fit import gain_nats, tune_rows
from .form.sampler import lane_hook
from .nn.attention_step import AttentionStep
from .nn.checkpoint import NotKeras3Weights, read_weights
from .nn.config import ModelConfig
from .nn.keras_io import evaluate_lanes, evaluate_windows, load_keras_model
from .nn.sampling import SAMPLING, START_FILE, StartStates, StartTunes, sample_tunes
from .nn.stepnet import StepNet, blas_threads
from .nn.vocab import Vocabulary
from .similarity.summary import drop_near_copies, summary_columns, write_summary
from .steering import put_titles_back, readable_titles
from .tune import Tune, is_valid_tune

WEIGHT_FILES = ("best.weights.h5", "last.weights.h5")
PRETRAINED = "pretrained"  # the shipped model's folder inside the package


def default_weights_dir():
    """The model used when none is named: $CHARRNN_WEIGHTS, else the pretrained model shipped
    inside the package (charrnn/pretrained/, package data of the wheel)."""
    if os.environ.get("CHARRNN_WEIGHTS"):
        return Path(os.environ["CHARRNN_WEIGHTS"])
    # A wheel or a checkout holds the package as a folder, so its data is a real path CharModel can read.
    return Path(str(resources.files("charrnn") / PRETRAINED))


def _weights_file(folder):
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    raise CharrnnError(f"{folder}: no model weights here (expected {' or '.join(WEIGHT_FILES)}); "
                       "train one with `charrnn train --out FOLDER`")


class CharModel:
    """A trained model from a run folder: config.json + char_to_idx.json + *.weights.h5."""

    def __init__(self, folder, weights_file=None, read_form=True):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise CharrnnError(f"{self.folder}: model folder not found")
        self.config = ModelConfig.load(self.folder / "config.json")
        self.vocab = Vocabulary.load(self.folder / "char_to_idx.json")
        if len(self.vocab) != self.config.vocab_size:
            raise CharrnnError(f"{self.folder}: char_to_idx.json has {len(self.vocab)} characters but "
                               f"config.json says vocab_size={self.config.vocab_size}")
        self.weights_file = Path(weights_file) if weights_file else _weights_file(self.folder)
        step_net = AttentionStep if self.config.arch == "transformer" else StepNet
        self.net = step_net(self.config, self._read_weights())
        # Lanes start after real tunes (start.abc, written by `charrnn train`); runs trained before
        # there was one start after warm-up tunes the network writes itself.
        start_file = self.folder / START_FILE
        self.start = (StartTunes.load(self.net, self.vocab, start_file) if start_file.is_file()
                      else StartStates(self.net, self.vocab))
        # Copied bars and cadences on the tonic (charrnn.form), fitted by `charrnn form fit`.
        # `read_form=False` leaves it unread: refitting it, or training from these weights.
        form_file = self.folder / FORM_FILE
        self.form = FormConfig.load(form_file) if read_form and form_file.is_file() else None
        self._critic = None  # critic.json, read on the first call that samples drafts

    def _read_weights(self):
        """The weights as arrays, read with h5py (no TensorFlow); Keras' own loader for files
        in another layout (a Keras 2 .h5), where it can read them."""
        try:
            return read_weights(self.weights_file, self.config)
        except FileNotFoundError:
            raise CharrnnError(f"{self.weights_file}: weights file not found") from None
        except NotKeras3Weights:
            return {layer.name: [np.asarray(w) for w in layer.get_weights()]
                    for layer in self.keras_model.layers if layer.weights}
        except Exception as e:  # h5py raises OSError on a file that is not HDF5; ValueError on shapes
            raise CharrnnError(f"{self.weights_file}: cannot load these weights into the model of "
                               f"{self.folder / 'config.json'} (corrupt file or other config): "
                               f"{str(e).splitlines()[0][:200]}") from None

    @cached_property
    def keras_model(self):
        """The Keras model (batch and sequence length free, not stateful) with these weights,
        built on first use: it imports TensorFlow, which sampling does not need."""
        return self._load_keras(batch_size=None, seq_len=None, stateful=False)

    def _load_keras(self, batch_size, seq_len, stateful):
        return load_keras_model(self.config, self.weights_file, self.folder / "config.json", batch_size, seq_len,
                                stateful)

    def keras_generator(self):
        """The design's batch-1 stateful generator: batch size 1, sequence length 1, state kept
        from one call to the next. `model(ids)` on ids of shape (1, 1) gives logits (1, 1, V)."""
        return self._load_keras(batch_size=1, seq_len=1, stateful=True)

    def export(self, out) -> Path:
        """Write a shippable copy: config.json, char_to_idx.json and best.weights.h5 holding the
        model's weights only (the run's checkpoints also hold Adam's state, three times larger),
        plus the run's log.csv, history.png, train_args.json, best.json, form.json, critic.json and
        start.abc when present."""
        import shutil

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.config.save(out / "config.json")
        self.vocab.save(out / "char_to_idx.json")
        with replacing(out / "best.weights.h5") as tmp:
            self.keras_model.save_weights(tmp)
        for name in ("log.csv", "history.png", "train_args.json", "best.json", FORM_FILE, CRITIC_FILE,
                     START_FILE):
            if (self.folder / name).is_file() and (self.folder / name).resolve() != (out / name).resolve():
                shutil.copyfile(self.folder / name, out / name)
        return out

    def generate(self, seed: str = SAMPLING.seed, n: int = 1, temperature: float = SAMPLING.temperature,
                 top_k: Optional[int] = SAMPLING.top_k, top_p: Optional[float] = SAMPLING.top_p,
                 max_chars: int = SAMPLING.max_chars, random_seed: Optional[int] = None, form=True,
                 type: Optional[str] = None, meter: Optional[str] = None, key: Optional[str] = None,
                 length: Optional[str] = None, title: Optional[str] = None,
                 structure: Optional[str] = None, drafts: int = SAMPLING.drafts) -> list[Tune]:
        """Sample n new tunes; returns a list of Tune.

        seed: the text every tune starts with ("X:", the start of a header line, by default).
        n: how many tunes. max_chars: the most characters a tune may have.
        temperature: below 1 safer, plainer tunes; above 1 wilder ones (0 < temperature <= 5).
        top_k, top_p: draw each character from the k likeliest, or from the likeliest that make up
            top_p of the probability (None: all).
        random_seed: the same number gives the same tunes (None: new ones each call).
        form: True samples with the model's form.json when it has one (copied bars, cadences on
            the tonic, notation retries, at least 8 bars); False samples the network alone; a
            FormConfig uses that one.
        type, meter, key, length, title: header fields R:, M:, K:, L:, T: ("jig", "6/8", "D",
            "1/8", "The Kesh"). With the default seed each tune writes its own header (and title)
            with the given fields in it; with a seed text of your own the fields are set in (or
            added to) its header.
        structure: the parts every tune is held to, as musicians write form with the bars after a
            colon: "AABB:8" (two parts of 8 bars, each repeated), "AB:8,16", or "AABB" (the bars
            drawn). None: with form, each tune draws a plan from form.json's (its meter's and type's).
        drafts: sample this many drafts per tune and keep the one the model's critic (critic.json,
            `charrnn critic fit`) finds most human; each draft costs a tune's sampling. None: the
            model's default (default_drafts).
        """
        drafts = drafts_for(self, drafts)
        check_generate(seed, n, temperature, top_k, top_p, max_chars, random_seed, drafts)
        given = header_controls(type=type, meter=meter, key=key, length=length, title=title)
        plan = None if structure is None else parse_structure(structure)
        critic = self.critic() if drafts > 1 else None
        header = None
        if given and seed in ("X:", "") and "T" not in given:  # each tune writes its own title, then its header
            seed, header = "X:1\nT:", given
        elif given:
            seed = with_header("" if seed == "X:" else seed, lambda: "", type=type, meter=meter, key=key,
                               length=length, title=title)
        seed, titles = readable_titles(seed, self.vocab)  # a given title may hold any letter
        rng = np.random.default_rng(random_seed)
        form = self.form if form is True else (form or None)
        with blas_threads():
            texts = sample_tunes(self.net, self.vocab, seed, n * drafts, rng, temperature=temperature, top_k=top_k,
                                 top_p=top_p, max_chars=max_chars, hook=lane_hook(form, self.vocab, header, plan),
                                 start=self.start)
        if critic is not None:  # lanes k * drafts ... (k + 1) * drafts - 1 are tune k's drafts
            texts = critic.best_drafts(texts, drafts)
        return [Tune(put_titles_back(t, titles)) for t in texts]

    def default_drafts(self):
        """Drafts per tune when a caller names none: what the model's critic.json says (the number
        `charrnn critic fit` chose by measurement), or 1 without a critic."""
        return self.critic().drafts if (self.folder / CRITIC_FILE).is_file() else 1

    def critic(self):
        """The model's critic (critic.json beside the weights), read once; a CharrnnError when
        there is none."""
        if self._critic is None:
            path = self.folder / CRITIC_FILE
            if not path.is_file():
                raise CharrnnError(f"{self.folder}: no {CRITIC_FILE}, so drafts > 1 has nothing to choose "
                                   f"with; run `charrnn critic fit --model {self.folder}`")
            self._critic = Critic.load(path)
        return self._critic

    def form_bpc(self, tunes: list[str], form=None) -> dict:
        """Bits per character of held-out tunes: {'network': the network alone, 'with_form': with
        the mixture of `form` (default: the model's form.json): its character cache, if it has one,
        and its bar copies, 'chars': characters scored}."""
        form = form or self.form
        if form is None:
            raise CharrnnError(f"{self.folder}: no {FORM_FILE}; run `charrnn form fit --model {self.folder}`")
        rows, network, cached, chars = tune_rows(self.net, self.vocab, tunes, cache=form.cache())
        gain = gain_nats(form.array(), rows) / np.log(2)
        return {"network": network / chars, "with_form": (cached - gain) / chars, "chars": chars}

    def continue_tune(self, abc: str = "", n: int = 1, **options) -> list[Tune]:
        """Keep `abc` and write on (see charrnn.steering.continue_tune); returns a list of Tune."""
        return steering.continue_tune(self, abc, n=n, **options)

    def vary(self, abc: str, bars, n: int = 1, **options) -> list[Tune]:
        """New versions of the chosen bars, best first (see charrnn.steering.vary)."""
        return steering.vary(self, abc, bars, n=n, **options)

    def fill(self, abc: str, n: int = 1, **options) -> list[Tune]:
        """The tune with its `*` bars filled in (see charrnn.steering.fill)."""
        return steering.fill(self, abc, n=n, **options)

    def evaluate_bpc(self, text: str, batch_size: int = 16, seq_len: int = 128) -> dict:
        """Loss (nats), accuracy and bits per character of `text`, read in stateful lanes as in
        training (validation metrics of `charrnn train` use the same measure); a transformer reads
        it in windows of whole tunes, as its training validates (seq_len is not used)."""
        ids = self.vocab.encode(text, where="evaluation text")
        if len(ids) < 2:
            raise CharrnnError("evaluation text needs at least 2 characters")
        if self.config.arch == "transformer":
            return evaluate_windows(self.keras_model, ids, self.vocab, self.config.context, batch_size)
        return evaluate_lanes(self._load_keras, ids, batch_size, seq_len)


def load(path=None, read_form: bool = True) -> "CharModel":
    """A reusable model: `path` is a run folder (None: the pretrained model);
    `read_form=False` leaves its form.json unread."""
    return CharModel(default_weights_dir() if path is None else path, read_form=read_form)


def as_model(model, read_form=True):
    """A loaded model as it is (anything with `generate`), else load(model): a run folder, or None
    for the pretrained model."""
    return model if hasattr(model, "generate") else load(model, read_form=read_form)


def generate(*args, model=None, **options) -> list[Tune]:
    """Sample new tunes with `model`: a run folder, a loaded CharModel, or None (the pretrained
    model). Every other argument is CharModel.generate's:

    """
    return as_model(model).generate(*args, **options)


generate.__doc__ += CharModel.generate.__doc__.split("\n", 2)[2]
generate.__signature__ = inspect.signature(CharModel.generate).replace(parameters=[
    *list(inspect.signature(CharModel.generate).parameters.values())[1:],
    inspect.Parameter("model", inspect.Parameter.KEYWORD_ONLY, default=None)])


def generate_valid(model, n, max_attempts, random_seed=None, **options):
    """Keep sampling until n tunes pass Tune.is_valid (>= 8 bars, MIDI) or max_attempts tunes were tried.

    Returns (valid tunes, attempts used)."""
    rng = np.random.default_rng(random_seed)
    valid, attempts = [], 0
    while len(valid) < n and attempts < max_attempts:
        batch = min(max(2 * (n - len(valid)), 4), max_attempts - attempts)
        tunes = model.generate(n=batch, random_seed=int(rng.integers(2**63)), **options)
        attempts += batch
        valid.extend(t for t in tunes if t.is_valid)
    return valid[:n], attempts


def write_tunes(tunes, out):
    """Each tune as tune_NNN.abc and .mid, plus tunebook.abc with all of them; returns the rows.

    A folder that already holds tunes keeps them: numbering goes on after the highest tune_NNN,
    and the new tunes are added to the end of its tunebook.abc."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1)) for p in out.glob("tune_*.abc") if (m := re.fullmatch(r"tune_(\d+)\.abc", p.name))]
    first = max(taken, default=0) + 1
    rows = []
    for i, tune in enumerate(tunes, first):
        stem = out / f"tune_{i:03d}"
        write_text_atomic(stem.with_suffix(".abc"), tune.abc)
        midi = None
        if tune.parses:  # a short tune still gets its MIDI file; the summary says it is not valid
            try:
                midi = tune.to_midi(stem.with_suffix(".mid"))
            except Exception as e:  # music21 can parse a tune yet fail to write its MIDI
                print(f"note: {stem.name}: no MIDI ({e})", file=sys.stderr)
        # Tune.is_valid's test, from the MIDI just written rather than a second conversion.
        valid = is_valid_tune(tune.parses, tune.bars, midi is not None)
        rows.append({"file": stem.name, "title": tune.title or "(untitled)", "meter": tune.meter,
                     "key": tune.key, "bars": tune.bars, "valid": valid, "midi": midi is not None})
    # A tune book numbers its tunes 1..n, so `abc2midi tunebook.abc 3` or abcm2ps -e 3 finds tune 3.
    book_file = out / "tunebook.abc"
    earlier = book_file.read_text(encoding="utf-8").rstrip("\n") if book_file.is_file() else ""
    count = len(re.findall(r"^X:", earlier, flags=re.M))
    new = tunebook([t.abc for t in tunes], first=count + 1)
    write_text_atomic(book_file, earlier + "\n\n" + new if earlier else new)
    return rows


def _run(args):
    check_out_folder(args.out)  # before the sampling, not after it
    check_generate(args.seed.replace("\\n", "\n"), args.n, args.temperature, args.top_k, args.top_p,
                   args.max_chars, args.random_seed, 1 if args.drafts is None else args.drafts)
    header_controls(type=args.type, meter=args.meter, key=args.key, length=args.length, title=args.title)
    if args.structure is not None:
        parse_structure(args.structure)
    check_score("--max-similarity", args.max_similarity)
    model = load(args.model)
    options = dict(seed=args.seed.replace("\\n", "\n"), temperature=args.temperature, top_k=args.top_k,
                   top_p=args.top_p, max_chars=args.max_chars, form=not args.no_form, type=args.type,
                   meter=args.meter, key=args.key, length=args.length, title=args.title, structure=args.structure,
                   drafts=args.drafts)
    if args.valid_only:
        max_attempts = args.max_attempts or 10 * args.n
        tunes, attempts = generate_valid(model, args.n, max_attempts, random_seed=args.random_seed, **options)
        print(f"{len(tunes)} valid tunes from {attempts} attempts (cap {max_attempts})")
    else:
        tunes = model.generate(n=args.n, random_seed=args.random_seed, **options)
    near = summary_columns([t.abc for t in tunes], args.data, required=args.max_similarity is not None)
    tunes, near = drop_near_copies(tunes, near, args.max_similarity)
    rows = write_tunes(tunes, args.out)
    write_summary(Path(args.out) / "summary.csv", [{**row, **n} for row, n in zip(rows, near)])
    for row in rows:
        print(f"{row['file']}: {row['title'][:40]:40s}  M:{row['meter']:6s} K:{row['key']:6s} "
              f"{row['bars']:3d} bars  {'valid' if row['valid'] else 'INVALID'}")
    print(f"wrote {len(rows)} tune{'s' * (len(rows) != 1)} (.abc, .mid), tunebook.abc and summary.csv "
          f"(nearest corpus tunes) to {Path(args.out)}/")
    return 0 if len(tunes) == args.n else 1


def _export(args):
    check_out_folder(args.out)
    out = load(args.run).export(args.out)
    print(f"exported {args.run} -> {out}/")
    return 0


def register_cli(subparsers):
    e = subparsers.add_parser("export", help="copy a run's best weights (without optimizer state) "
                                             "with its config, vocabulary and log into a folder")
    e.add_argument("run", help="run folder written by `charrnn train`")
    e.add_argument("--out", required=True, help="destination folder, e.g. runs/folk-export/")
    e.set_defaults(func=_export)

    p = subparsers.add_parser("generate", help="write new tunes with a trained model")
    p.add_argument("-n", type=int, default=1, help="number of tunes")
    p.add_argument("--seed", default=SAMPLING.seed, help=r"text that starts every tune; '\n' for newlines")
    p.add_argument("--temperature", type=float, default=SAMPLING.temperature,
                   help=f"below 1: safer, plainer tunes; above 1: wilder ones (default {SAMPLING.temperature:g})")
    p.add_argument("--top-k", type=int, default=SAMPLING.top_k,
                   help="draw each character from the k likeliest only (default: all)")
    p.add_argument("--top-p", type=float, default=SAMPLING.top_p,
                   help="draw each character from the likeliest ones that make up this share of the "
                        "probability, e.g. 0.9 (default: all)")
    p.add_argument("--max-chars", type=int, default=SAMPLING.max_chars)
    p.add_argument("--type", help="tune type, the R: field: jig, reel, hornpipe, ...")
    p.add_argument("--meter", help="the M: field: 6/8, 4/4, C, C|, ...")
    p.add_argument("--key", help="key and mode, the K: field: D, Em, Ador, Gmix, ...")
    p.add_argument("--length", help="unit note length, the L: field (default: each tune's own)")
    p.add_argument("--title", help="the T: field (default: each tune writes its own)")
    p.add_argument("--structure", help="parts and bars every tune is held to, as musicians write form: AABB:8 "
                                       "(two 8-bar parts, each repeated), AB:8,16, AABB (default: each tune "
                                       "draws a plan like the corpus's tunes of its meter and type)")
    p.add_argument("--random-seed", type=int, default=None)
    p.add_argument("--drafts", type=int, default=SAMPLING.drafts,
                   help="sample this many drafts per tune and keep the one the model's critic finds most "
                        "human (`charrnn critic fit`); N drafts cost N times the sampling (default: the model's, "
                        "from its critic.json; 1 without one)")
    p.add_argument("--model", default=None, help="run folder (default: the pretrained model)")
    p.add_argument("--out", default="samples", help="output folder (default: samples/)")
    p.add_argument("--valid-only", action="store_true", help="keep sampling until n tunes parse")
    p.add_argument("--no-form", action="store_true",
                   help="sample the network alone, without the model's form.json: no copied bars, no cadence "
                        "or notation retries, no 8-bar minimum")
    p.add_argument("--max-attempts", type=int, default=None, help="cap for --valid-only (default 10 x n)")
    p.add_argument("--max-similarity", type=float, default=None, metavar="S",
                   help="drop tunes whose nearest corpus tune scores above S (0..1; charrnn similar)")
    p.add_argument("--data", default=None, help="corpus the summary's nearest tunes come from (default: data/abc)")
    p.set_defaults(func=_run)
