"""The one frozen config that rebuilds a model, saved as `config.json` beside the weights."""
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import CharrnnError
from ..files import write_json_atomic

# How training computes; not part of the config, since the saved float32 weights are the same.
# "auto" is mixed_float16 on GPUs with float16 tensor cores (compute capability 7.0 and up), else
# float32 on a GPU; mixed_bfloat16 where the CPU multiplies bfloat16 natively (AMX or
# AVX512-BF16), else float32.
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
TENSOR_CORES = (7, 0)  # Volta: the first GPUs whose float16 products run on tensor cores

# How `charrnn train` spreads a run (charrnn.nn.distribute): one device, every device of this
# machine, or every machine of a TF_CONFIG cluster.
DISTRIBUTE = ("none", "mirrored", "multiworker")


def gpu_capability():
    """The compute capability (major, minor) of this machine's first GPU; None without one."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    return tuple(tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") or (0, 0))


def resolve_precision(precision, cpuinfo="/proc/cpuinfo", has_gpu=None, capability=None):
    """"auto" -> the precision this machine trains fastest in; the others as given.

    bfloat16 products are 3-6x faster than float32 ones on CPUs with bfloat16 units, and slower
    where they are emulated. On a GPU, Keras runs cuDNN's LSTM, in float16 on tensor cores
    (`capability` (major, minor) >= 7.0, read from the GPU when not given), else in float32.
    """
    if precision not in PRECISIONS:
        raise CharrnnError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision != "auto":
        return precision
    if has_gpu is None:
        capability = gpu_capability()
        has_gpu = capability is not None
    if has_gpu:
        return "mixed_float16" if capability is not None and tuple(capability) >= TENSOR_CORES else "float32"
    try:
        flags = set(Path(cpuinfo).read_text().split())
    except OSError:  # not Linux: no cheap way to ask, and float32 is never slow
        return "float32"
    return "mixed_bfloat16" if flags & {"amx_bf16", "avx512_bf16"} else "float32"


ARCHS = ("rnn", "transformer")
# The transformer's defaults where they differ from the fields' (which are the RNN's): a size that
# trains ~4 epochs of data/abc in a 30-minute budget on 2 busy CPU cores (docs/training.md).
TRANSFORMER_DEFAULTS = {"layers": 3, "units": 192, "dropout": 0.1}
# Fixed parts of the transformer's shape, shared by the Keras model and the NumPy sampler.
FFN_MULTIPLIER = 4  # each block's feed-forward layer is FFN_MULTIPLIER * units wide
LAYER_NORM_EPSILON = 1e-5


@dataclass(frozen=True)
class ModelConfig:
    """arch "rnn": Embedding(embedding) -> layers x cell(units) -> Dense. arch "transformer":
    token + position embeddings (units) -> layers x pre-norm block (heads, causal attention over
    `context` characters) -> Dense; `cell` and `embedding` are not used."""

    vocab_size: int
    cell: str = "lstm"  # "lstm" or "gru"
    layers: int = 3
    units: int = 256
    embedding: int = 512
    dropout: float = 0.2
    arch: str = "rnn"  # "rnn" or "transformer"
    heads: int = 4  # transformer: attention heads per block (units must be a multiple)
    context: int = 1024  # transformer: characters it attends over (1,024: 99.8% of tunes whole)

    def __post_init__(self):
        whole = ("vocab_size", "layers", "units", "embedding", "heads", "context")
        for name in whole:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise CharrnnError(f"{name} must be a whole number, not {value!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)):
            raise CharrnnError(f"dropout must be a number, not {self.dropout!r}")
        if self.arch not in ARCHS:
            raise CharrnnError(f"arch must be 'rnn' or 'transformer', not {self.arch!r}")
        if self.cell not in ("lstm", "gru"):
            raise CharrnnError(f"cell must be 'lstm' or 'gru', not {self.cell!r}")
        for name in whole:
            if getattr(self, name) < 1:
                raise CharrnnError(f"{name} must be at least 1")
        if not 0.0 <= self.dropout < 1.0:
            raise CharrnnError(f"dropout must be in [0, 1), not {self.dropout}")
        if self.arch == "transformer" and self.units % self.heads:
            raise CharrnnError(f"units ({self.units}) must be a multiple of heads ({self.heads})")
        if self.arch == "transformer" and self.context < 2:
            raise CharrnnError(f"context must be at least 2, not {self.context}")

    @classmethod
    def defaults(cls, arch="rnn"):
        """{field: default} of every field that has one (all but vocab_size) for that arch: what
        the CLI and train() use for what is not given."""
        values = {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
        return {**values, **TRANSFORMER_DEFAULTS, "arch": arch} if arch == "transformer" else values

    def save(self, path):
        write_json_atomic(path, dataclasses.asdict(self))

    @classmethod
    def load(cls, path):
        try:
            data = json.loads(Path(path).read_text())
            if not isinstance(data, dict):
                raise TypeError(f"a JSON object is needed, not {type(data).__name__}")
            return cls(**data)
        except FileNotFoundError:
            raise CharrnnError(f"{path}: model config not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as e:
            raise CharrnnError(f"{path}: not a valid model config ({e})") from None
        except CharrnnError as e:
            raise CharrnnError(f"{path}: not a valid model config ({e})") from None
