"""The encoded corpus: a text file's characters as vocabulary ids in a .npy file, written a chunk
at a time and read back memory-mapped, so a corpus larger than memory can be trained on.

    encode_file("train.abc", "train.ids.npy", vocab, n_chars)   # n_chars: the file's length in characters
    ids = open_ids("train.ids.npy")                             # np.memmap, read-only
"""
import numpy as np
from numpy.lib.format import open_memmap

CHUNK_CHARS = 1 << 20  # characters encoded at a time: 1 M, about 10 MB of scratch


def ids_dtype(vocab_size):
    """The smallest unsigned type that holds every id: uint8 up to 256 characters, else uint16."""
    return np.uint8 if vocab_size <= 1 << 8 else np.uint16 if vocab_size <= 1 << 16 else np.uint32


def encode_file(text_path, npy_path, vocab, n_chars, chunk=CHUNK_CHARS):
    """Write the ids of the UTF-8 text file `text_path` (n_chars characters) to `npy_path`."""
    dtype = ids_dtype(len(vocab))
    # open_memmap writes the .npy header and sizes the file; the ids go in with plain writes, since
    # pages written through a map stay in this process's resident memory until it is closed.
    offset = open_memmap(npy_path, mode="w+", dtype=dtype, shape=(n_chars,)).offset
    done = 0
    with open(text_path, encoding="utf-8", newline="") as f, open(npy_path, "r+b") as out:  # newline="": as written
        out.seek(offset)
        while text := f.read(chunk):
            out.write(vocab.encode(text, where=str(text_path)).astype(dtype).tobytes())
            done += len(text)
    if done != n_chars:
        raise ValueError(f"{text_path}: {done} characters, expected {n_chars}")


def open_ids(npy_path):
    """The ids in a .npy file, memory-mapped read-only (pages are read as training reaches them)."""
    return np.load(npy_path, mmap_mode="r")
