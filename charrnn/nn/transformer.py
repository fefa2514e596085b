"""The char-level Transformer: decoder-only, causal, pre-norm, over a whole tune at a time.

    model = build_transformer(ModelConfig(vocab_size=94, arch="transformer"))
    logits = model(ids)  # ids (batch, T <= context) -> logits (batch, T, vocab_size)

ids -> token Embedding + position Embedding (units) -> Dropout -> `layers` blocks of
    x + Dropout(MultiHeadAttention(LayerNorm(x), causal))
    x + Dropout(Dense(units)(gelu(Dense(4 * units)(LayerNorm(x)))))
-> LayerNorm -> Dense logits. Positions are learned, 0 .. context - 1: a window of training text
starts at a tune's start, and sampling starts each tune at position 0 (charrnn.nn.windows).
Layer names are fixed (`block_{i}_attention`, ...) so charrnn.nn.checkpoint finds them, and
charrnn.nn.attention_step computes the same function in NumPy.
"""
import keras
from keras import layers

from .config import FFN_MULTIPLIER, LAYER_NORM_EPSILON, ModelConfig


def gelu(x):
    """GELU, tanh form: what the NumPy sampler computes (NumPy has no erf)."""
    return keras.activations.gelu(x, approximate=True)


class PositionIds(layers.Layer):
    """ids (batch, T) -> positions (1, T): 0 .. T - 1, for the position Embedding."""

    def call(self, ids):
        return keras.ops.arange(keras.ops.shape(ids)[1], dtype="int32")[None, :]


def build_transformer(config: ModelConfig, precision="float32"):
    """A Keras model mapping ids (batch, T) to logits (batch, T, vocab_size), T <= context.

    Not stateful, any batch size: every call sees its windows from position 0. `precision` as build_model's
    (already resolved: "float32" or "mixed_bfloat16"); the logits are float32.
    """
    units, heads = config.units, config.heads
    ids = keras.Input(shape=(None,), dtype="int32", name="ids")  # any batch, any length
    tokens = layers.Embedding(config.vocab_size, units, name="embedding", dtype=precision)(ids)  # (B, T, U)
    positions = layers.Embedding(config.context, units, name="positions", dtype=precision)(
        PositionIds(name="position_ids")(ids))  # (1, T, U)
    x = layers.Dropout(config.dropout, name="embedding_dropout", dtype=precision)(tokens + positions)
    for i in range(config.layers):
        h = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name=f"block_{i}_norm_1", dtype=precision)(x)
        h = layers.MultiHeadAttention(heads, units // heads, name=f"block_{i}_attention", dtype=precision)(
            h, h, use_causal_mask=True)  # (B, T, U): position t sees 0..t
        x = x + layers.Dropout(config.dropout, name=f"block_{i}_dropout_1", dtype=precision)(h)
        h = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name=f"block_{i}_norm_2", dtype=precision)(x)
        h = layers.Dense(FFN_MULTIPLIER * units, activation=gelu, name=f"block_{i}_ffn_1", dtype=precision)(h)
        h = layers.Dense(units, name=f"block_{i}_ffn_2", dtype=precision)(h)  # (B, T, U)
        x = x + layers.Dropout(config.dropout, name=f"block_{i}_dropout_2", dtype=precision)(h)
    x = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="final_norm", dtype=precision)(x)
    logits = layers.Dense(config.vocab_size, name="logits", dtype="float32")(x)  # (B, T, V)
    return keras.Model(ids, logits, name="charrnn_transformer")
