"""The one exception type charrnn raises for bad input.

The CLI turns a CharrnnError into a one-line message on stderr and exit code 2;
Python callers can catch it (it is a ValueError) and read the message. check_out_folder and
check_out_file refuse an output path before any work is done.
"""
import os
from pathlib import Path


class CharrnnError(ValueError):
    """Bad input: a file, a folder, a checkpoint or an argument we cannot use."""


class Stopped(CharrnnError):
    """Work stopped because its caller no longer wants the answer: a cancelled request, or one
    whose time budget is spent (the composer's requests; see charrnn.nn.sampling's `cancelled`)."""


class UnknownCharactersError(CharrnnError):
    """Text holds characters that the model's vocabulary does not know."""

    def __init__(self, chars, where="text"):
        self.chars = sorted(set(chars))
        shown = ", ".join(repr(c) for c in self.chars[:20])
        more = f" and {len(self.chars) - 20} more" if len(self.chars) > 20 else ""
        super().__init__(f"{where}: characters not in the model's vocabulary: {shown}{more}")


def check_out_folder(path, option="--out"):
    """A CharrnnError, before any work, when `path` cannot be an output folder: it is a file, a
    folder above it is a file, or the nearest existing folder is not writable. Creates nothing."""
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
    path = Path(path)
    if path.is_dir():
        raise CharrnnError(f"{path}: {option} must be a file, and this is a folder")
    check_out_folder(path.parent, option)
    return path
