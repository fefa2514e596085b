"""Training on several devices or machines: a tf.distribute strategy, and lanes that stay on their replica.

    strategy = make_strategy("mirrored")           # every GPU here (or every logical CPU device)
    with strategy.scope():
        model = build_model(config, batch_size=lanes_per_replica(64, strategy), ...)
    model.fit(distribute_lanes(strategy, ids, 64, 64), ...)

"none" is TensorFlow's default strategy (one device: nothing changes). "mirrored" is
MirroredStrategy; "multiworker" is MultiWorkerMirroredStrategy, the same command on every
machine with TF_CONFIG naming the cluster and this machine's task.

A stateful model reads lane i of batch k+1 after lane i of batch k, so every replica keeps a fixed
set of lanes all the run: with R replicas, replica r owns rows [r*B/R, (r+1)*B/R) of every batch of
B lanes, and its own recurrent state of shape (B/R, units) (Keras makes one state variable per
replica, each updated by its own replica). The global batch is still the B lanes, and Keras
averages the loss over all of them, so a step under R replicas is the step one device takes.

One machine: Keras hands the global batches to strategy.experimental_distribute_dataset, which
cuts each batch into R contiguous row blocks, block r to replica r (tests/test_distribute.py
checks it). Several machines: tf.data's auto-sharding would give each worker every Nth *batch*,
which breaks the lanes, so each worker builds only its own replicas' rows of every batch
(distribute_datasets_from_function), reading nothing else of the corpus.
"""
import functools
import json
import os
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from ..errors import CharrnnError
from .config import DISTRIBUTE
from .data import lane_starts, make_dataset
from .runstate import RESUME_DIR, STATE_FILE


def make_strategy(name):
    """The tf.distribute strategy `name` (one of DISTRIBUTE) stands for."""
    if name not in DISTRIBUTE:
        raise CharrnnError(f"distribute must be one of {', '.join(DISTRIBUTE)}, not {name!r}")
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        # MirroredStrategy alone takes every GPU, or only CPU:0 when there is none; logical CPU
        # devices (tf.config.set_logical_device_configuration) are named so that they count too.
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    try:
        cluster = json.loads(os.environ["TF_CONFIG"])["cluster"]
    except (KeyError, ValueError, TypeError):
        raise CharrnnError("--distribute multiworker needs TF_CONFIG, a JSON object with this "
                           "machine's 'cluster' and 'task' (see docs/training.md)") from None
    if not isinstance(cluster, dict):
        raise CharrnnError(f"TF_CONFIG's cluster must be a JSON object, not {cluster!r}")
    return tf.distribute.MultiWorkerMirroredStrategy()


def lanes_per_replica(batch_size, strategy):
    """The rows of each batch one replica reads: the batch size its model (and state) is built with."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise CharrnnError(f"--batch-size {batch_size} does not divide among {replicas} replicas; "
                           f"use a multiple of {replicas}")
    return batch_size // replicas


def is_chief(strategy):
    """Whether this process writes the run folder: always, except a multi-worker run's non-chief
    workers (the chief is task 'chief', or worker 0 when the cluster has none)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    cluster = resolver.cluster_spec().as_dict()
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                             and "chief" not in cluster)


def distribute_lanes(strategy, ids, batch_size, seq_len, overlap=False):
    """The (x, y) batches of make_dataset for `strategy`: a plain dataset of global batches on one
    machine, or a distributed dataset in which each worker reads only its replicas' rows."""
    # TensorFlow has no public "how many machines"; every strategy's `extended` answers this one.
    if not strategy.extended._in_multi_worker_mode():
        return make_dataset(ids, batch_size, seq_len, overlap)
    distributed = strategy.distribute_datasets_from_function(
        functools.partial(worker_lanes, ids=ids, batch_size=batch_size, seq_len=seq_len, overlap=overlap))
    # Its cardinality is the worker dataset's: one element per local replica and step. Keras
    # counts steps by it, and would warn that the data ran out at the end of every epoch.
    distributed._cardinality = lane_starts(len(ids), batch_size, seq_len, overlap)[1]
    return distributed


def worker_lanes(context, ids, batch_size, seq_len, overlap=False):
    """One worker's dataset (tf.distribute.InputContext `context`): for every batch, the rows of
    each of its replicas in turn, as the distributed iterator hands them out; no auto-sharding."""
    rows = batch_size // context.num_replicas_in_sync
    local = context.num_replicas_in_sync // context.num_input_pipelines  # this worker's replicas
    first = context.input_pipeline_id * local  # the replica id of the first
    blocks = [((first + j) * rows, (first + j + 1) * rows) for j in range(local)]
    dataset = make_dataset(ids, batch_size, seq_len, overlap, blocks=blocks)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options)


def patch_multiworker_fit(model, strategy):
    """Work around Keras 3's fit under MultiWorkerMirroredStrategy (Keras 3.15, TensorFlow 2.21;
    tensorflow/tensorflow#72388); nothing changes on one machine.

    fit builds the metrics from a first batch that it averages across workers with
    strategy.reduce, which fails for an (x, y) pair: compile_model has built them from a replica's
    batch shape (charrnn.nn.model.build_training_state), so that build is turned off. And it
    averages each step's logs with strategy.reduce(..., axis=0), which fails for scalars: the steps
    return them as shape (1,) (every replica holds the same, all-reduced metric values, so the
    average is that value)."""
    if not strategy.extended._in_multi_worker_mode():
        return
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    for name in ("train_step", "test_step"):
        step = getattr(model, name)
        setattr(model, name, lambda data, step=step: {k: tf.reshape(v, [1]) for k, v in step(data).items()})


def adam(strategy, learning_rate, global_clipnorm):
    """Adam with its gradient clipped to `global_clipnorm`, the norm of the whole global batch's
    gradient as on one device. (Keras clips each replica's part before it sums them: under R
    replicas the sum could reach R times the norm.)"""
    if strategy.num_replicas_in_sync == 1:
        return keras.optimizers.Adam(learning_rate, global_clipnorm=global_clipnorm)
    return _SummedThenClippedAdam(learning_rate, global_clipnorm)


class _SummedThenClippedAdam(keras.optimizers.Adam):
    """Keras' TensorFlow update step (all-reduce, then apply), with the clip between the two."""

    def __init__(self, learning_rate, global_clipnorm):
        super().__init__(learning_rate, name="adam")  # no clipnorm: Keras would clip each replica's part
        self.clip_after_sum = global_clipnorm

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        variables = [v.value if isinstance(v, keras.Variable) else v for v in trainable_variables]
        # The Embedding's gradient comes as IndexedSlices, a row per character read, repeats
        # included; made dense (a vocabulary's rows) as Keras' own clip makes it, Adam sees the sum.
        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        summed = self._all_reduce_sum_gradients(list(zip(grads, variables)))  # the global batch's gradient
        clipped, _ = tf.clip_by_global_norm([g for g, _ in summed], self.clip_after_sum)
        tf.__internal__.distribute.interim.maybe_merge_call(
            self._distributed_tf_update_step, self._distribution_strategy,
            list(zip(clipped, [v for _, v in summed])), learning_rate)


def scratch_run_folder(out):
    """Where a non-chief worker writes: a temporary folder holding the run's resume state (read
    from `out`, which every worker must see), so it resumes where the chief does. Delete it after."""
    out, scratch = Path(out), Path(tempfile.mkdtemp(prefix="charrnn-worker-"))
    for name in (STATE_FILE, "best.json"):
        if (out / name).exists():
            shutil.copy(out / name, scratch / name)
    if (out / RESUME_DIR).is_dir():
        shutil.copytree(out / RESUME_DIR, scratch / RESUME_DIR)
    return scratch
