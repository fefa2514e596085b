"""A Keras callback that times a fixed run of training batches after a warm-up (the benchmarks' clock)."""
import time

import keras


class BatchTimer(keras.callbacks.Callback):
    """`seconds`: wall time of batches warmup .. warmup + batches - 1 (tracing and the first
    steps' allocations fall in the warm-up, not in the figure)."""

    def __init__(self, warmup, batches):
        super().__init__()
        self.warmup, self.batches = warmup, batches

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.warmup + self.batches - 1:
            self.seconds = time.perf_counter() - self.start
