"""Read a Keras 3 `.weights.h5` file with h5py alone: sampling needs no TensorFlow.

Keras 3 saves a model's weights by path, not by layer name: each layer is a group named after
its class in snake case, numbered in model order (`embedding`, `lstm`, `lstm_1`, `lstm_2`,
`dense`), and a recurrent layer's weights sit under its cell (`layers/lstm_1/cell/vars/0..2`).
`read_weights` walks the same paths Keras' loader does for `charrnn.nn.model.build_model`'s
model and returns the arrays `layer.get_weights()` would hold after `model.load_weights`
(tests/test_checkpoint.py checks they are equal). A transformer's layers (charrnn.nn.transformer)
are read the same way: `embedding`, `embedding_1` (positions), `layer_normalization_N`,
`multi_head_attention_N/{query,key,value,output}_dense`, `dense_N`.
"""
from pathlib import Path

import numpy as np

from .config import FFN_MULTIPLIER


class NotKeras3Weights(Exception):
    """The file is HDF5 but not laid out as Keras 3 saves a model's weights (e.g. Keras 2's)."""


def expected_shapes(config):
    """{layer name: [weight shapes]} of build_model(config), in get_weights() order."""
    if config.arch == "transformer":
        return _transformer_shapes(config)
    units, cell = config.units, config.cell
    gates = (4 if cell == "lstm" else 3) * units
    shapes = {"embedding": [(config.vocab_size, config.embedding)]}
    for i in range(config.layers):
        inputs = config.embedding if i == 0 else units
        bias = (gates,) if cell == "lstm" else (2, gates)  # GRU: reset_after, input and recurrent biases
        shapes[f"{cell}_{i}"] = [(inputs, gates), (units, gates), bias]
    shapes["logits"] = [(units, config.vocab_size), (config.vocab_size,)]
    return shapes


def _transformer_shapes(config):
    """charrnn.nn.transformer's layers in model order. Attention: query, key, value kernels
    (U, heads, U / heads) and biases (heads, U / heads), then the output kernel (heads, U / heads, U)
    and bias (U,)."""
    units, heads, wide = config.units, config.heads, FFN_MULTIPLIER * config.units
    norm = [(units,), (units,)]  # gamma, beta
    shapes = {"embedding": [(config.vocab_size, units)], "positions": [(config.context, units)]}
    for i in range(config.layers):
        shapes[f"block_{i}_norm_1"] = norm
        shapes[f"block_{i}_attention"] = [(units, heads, units // heads), (heads, units // heads)] * 3 + [
            (heads, units // heads, units), (units,)]
        shapes[f"block_{i}_norm_2"] = norm
        shapes[f"block_{i}_ffn_1"] = [(units, wide), (wide,)]
        shapes[f"block_{i}_ffn_2"] = [(wide, units), (units,)]
    shapes["final_norm"] = norm
    shapes["logits"] = [(units, config.vocab_size), (config.vocab_size,)]
    return shapes


# Each layer's Keras class (snake case, as Keras 3 names its h5 group) and where its weights sit.
_KINDS = {"embedding": "embedding", "positions": "embedding", "norm": "layer_normalization",
          "attention": "multi_head_attention", "ffn": "dense", "logits": "dense"}
_ATTENTION_VARS = [f"{part}_dense/vars/{j}" for part in ("query", "key", "value", "output") for j in (0, 1)]


def _paths(config):
    """{layer name: [the h5 dataset of each weight]}, numbered as Keras numbers them: per class,
    in model order."""
    if config.arch != "transformer":
        paths = {"embedding": ["layers/embedding/vars/0"], "logits": [f"layers/dense/vars/{j}" for j in (0, 1)]}
        for i in range(config.layers):
            group = f"layers/{config.cell}{'' if i == 0 else f'_{i}'}/cell/vars"
            paths[f"{config.cell}_{i}"] = [f"{group}/{j}" for j in range(3)]
        return paths
    paths, counts = {}, {}
    for name, shapes in _transformer_shapes(config).items():
        kind = _KINDS[next(k for k in _KINDS if k in name.split("_"))]
        n = counts[kind] = counts.get(kind, -1) + 1
        group = f"layers/{kind}{'' if n == 0 else f'_{n}'}"
        inner = _ATTENTION_VARS if kind == "multi_head_attention" else [f"vars/{j}" for j in range(len(shapes))]
        paths[name] = [f"{group}/{v}" for v in inner]
    return paths


def _array(dataset):
    value = dataset[()]
    if dataset.attrs.get("dtype") == "bfloat16":  # Keras' marker; stored as 16-bit words
        value = (np.asarray(value).view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    return np.asarray(value, dtype=np.float32)


def _holds_data(group):
    import h5py

    found = []
    group.visititems(lambda _, obj: found.append(1) if isinstance(obj, h5py.Dataset) else None)
    return bool(found)


def read_weights(path, config):
    """{layer name: [arrays]} for a model of `config`, read from a Keras 3 `.weights.h5`.

    Raises FileNotFoundError, OSError (not HDF5), NotKeras3Weights (another layout), or
    ValueError (a weight missing or of another shape than `config` gives).
    """
    import h5py  # ~0.1 s; only a model load needs it

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    with h5py.File(path, "r") as f:
        if "layers" not in f:
            raise NotKeras3Weights(f"{path}: no 'layers' group")
        weights, paths = {}, _paths(config)
        for name, shapes in expected_shapes(config).items():
            missing = [p for p in paths[name] if not isinstance(f.get(p), h5py.Dataset)]
            if missing:
                raise ValueError(f"layer {name}: no weights at {missing[0]} (a model of another config?)")
            arrays = [_array(f[p]) for p in paths[name]]
            for j, (array, shape) in enumerate(zip(arrays, shapes)):
                if array.shape != shape:
                    raise ValueError(f"layer {name} weight {j} has shape {array.shape}, "
                                     f"the config's model needs {shape}")
            weights[name] = arrays
        used = {p.split("/")[1] for layer in paths.values() for p in layer}
        extra = sorted(n for n in f["layers"] if n not in used and _holds_data(f["layers"][n]))
        if extra:
            raise ValueError(f"weights for layers the config's model does not have: {extra}")
    return weights
