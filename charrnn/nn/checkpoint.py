"""Read a Keras 3 `.weights.h5` file with h5py alone: sampling needs no TensorFlow.

Keras 3 saves a model's weights by path, not by layer name: each layer is a group named after
its class in snake case, numbered in model order (`embedding`, `lstm`, `lstm_1`, `lstm_2`,
`dense`), and a recurrent layer's weights sit under its cell (`layers/lstm_1/cell/vars/0..2`).
`read_weights` walks the same paths Keras' loader does for `charrnn.nn.model.build_model`'s
model and returns the arrays `layer.get_weights()` would hold after `model.load_weights`
(tests/test_checkpoint.py checks they are equal).
"""
from pathlib import Path

import numpy as np


class NotKeras3Weights(Exception):
    """The file is HDF5 but not laid out as Keras 3 saves a model's weights (e.g. Keras 2's)."""


def expected_shapes(config):
    """{layer name: [weight shapes]} of build_model(config), in get_weights() order."""
    units, cell = config.units, config.cell
    gates = (4 if cell == "lstm" else 3) * units
    shapes = {"embedding": [(config.vocab_size, config.embedding)]}
    for i in range(config.layers):
        inputs = config.embedding if i == 0 else units
        bias = (gates,) if cell == "lstm" else (2, gates)  # GRU: reset_after, input and recurrent biases
        shapes[f"{cell}_{i}"] = [(inputs, gates), (units, gates), bias]
    shapes["logits"] = [(units, config.vocab_size), (config.vocab_size,)]
    return shapes


def _paths(config):
    """{layer name: the h5 group holding its weights}, numbered as Keras numbers them."""
    paths = {"embedding": "layers/embedding/vars", "logits": "layers/dense/vars"}
    for i in range(config.layers):
        paths[f"{config.cell}_{i}"] = f"layers/{config.cell}{'' if i == 0 else f'_{i}'}/cell/vars"
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
        weights = {}
        for name, shapes in expected_shapes(config).items():
            group = f.get(_paths(config)[name])
            if group is None or len(group) != len(shapes):
                raise ValueError(f"layer {name}: no weights at {_paths(config)[name]} "
                                 f"(a model of another config?)")
            arrays = [_array(group[str(j)]) for j in range(len(shapes))]
            for j, (array, shape) in enumerate(zip(arrays, shapes)):
                if array.shape != shape:
                    raise ValueError(f"layer {name} weight {j} has shape {array.shape}, "
                                     f"the config's model needs {shape}")
            weights[name] = arrays
        used = {p.split("/")[1] for p in _paths(config).values()}
        extra = sorted(n for n in f["layers"] if n not in used and _holds_data(f["layers"][n]))
        if extra:
            raise ValueError(f"weights for layers the config's model does not have: {extra}")
    return weights
