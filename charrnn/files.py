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


def check_out_folder(path, option="--out"):
    """A CharrnnError, before any work, when `path` cannot be an output folder: it is a file, a
    folder above it is a file, or the nearest existing folder is not writable. Creates nothing."""
    from .errors import CharrnnError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CharrnnError(f"{path}: {option} must be a folder, and this is a file")
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise CharrnnError(f"{path}: {option} cannot be a folder: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CharrnnError(f"{path}: {option} is not writable ({existing}: permission denied)")
    return path


def check_out_file(path, option="--out"):
    """The same check for an output file: its folder must be one we can write, and it must not be a folder."""
    from .errors import CharrnnError

    path = Path(path)
    if path.is_dir():
        raise CharrnnError(f"{path}: {option} must be a file, and this is a folder")
    check_out_folder(path.parent, option)
    return path
