"""The encoded corpus: a text file's characters as vocabulary ids in a .npy file, written a chunk
at a time and read back memory-mapped, so a corpus larger than memory can be trained on.

    encode_file("train.abc", "train.ids.npy", vocab, n_chars)   # n_chars: the file's length in characters
    ids = open_ids("train.ids.npy")                             # np.memmap, read-only
"""
import numpy as np
from numpy.lib.format import open_memmap

CHUNK_CHARS = 1 << 22  # characters encoded at a time: 4 M, a few tens of MB of scratch at most


def ids_dtype(vocab_size):
    """The smallest unsigned type that holds every id: uint8 up to 256 characters, else uint16."""
    return np.uint8 if vocab_size <= 1 << 8 else np.uint16 if vocab_size <= 1 << 16 else np.uint32


def encode_file(text_path, npy_path, vocab, n_chars, chunk=CHUNK_CHARS):
    """Write the ids of the UTF-8 text file `text_path` (n_chars characters) to `npy_path`."""
    ids = open_memmap(npy_path, mode="w+", dtype=ids_dtype(len(vocab)), shape=(n_chars,))
    done = 0
    with open(text_path, encoding="utf-8", newline="") as f:  # newline="": characters as written
        while text := f.read(chunk):
            ids[done:done + len(text)] = vocab.encode(text, where=str(text_path))
            done += len(text)
    if done != n_chars:
        raise ValueError(f"{text_path}: {done} characters, expected {n_chars}")
    ids.flush()
    del ids  # closes the map: the file is complete once this returns


def open_ids(npy_path):
    """The ids in a .npy file, memory-mapped read-only (pages are read as training reaches them)."""
    return np.load(npy_path, mmap_mode="r")
