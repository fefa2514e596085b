"""Atomic writes: a file is written beside its destination, then renamed over it, so a crash or
kill mid-write leaves the old file or the new one, never half of one.

    write_text_atomic(path, text); write_json_atomic(path, data)
    with replacing(path) as tmp:        # any writer that takes a path (Keras weights, a figure)
        model.save_weights(tmp)
"""
import json
import os
from contextlib import contextmanager
from pathlib import Path


def temp_path(path):
    """The temporary name beside `path`, keeping its suffixes: best.weights.h5 -> best.tmp.weights.h5
    (writers such as Keras and matplotlib read the format from the suffix)."""
    path = Path(path)
    stem, dot, suffixes = path.name.partition(".")
    return path.with_name(f"{stem}.tmp{dot}{suffixes}")


@contextmanager
def replacing(path):
    """Yield a temporary path beside `path`; when the block succeeds, rename it over `path`."""
    tmp = temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():  # the block failed: leave the old file, not a half-written one
            tmp.unlink()


def write_text_atomic(path, text):
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_json_atomic(path, data, **options):
    return write_text_atomic(path, json.dumps(data, indent=2, **options) + "\n")

