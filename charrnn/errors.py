"""The one exception type charrnn raises for bad input.

The CLI turns a CharrnnError into a one-line message on stderr and exit code 2;
Python callers can catch it (it is a ValueError) and read the message.
"""


class CharrnnError(ValueError):
    """Bad input: a file, a folder, a checkpoint or an argument we cannot use."""


class UnknownCharactersError(CharrnnError):
    """Text holds characters that the model's vocabulary does not know."""

    def __init__(self, chars, where="text"):
        self.chars = sorted(set(chars))
        shown = ", ".join(repr(c) for c in self.chars[:20])
        more = f" and {len(self.chars) - 20} more" if len(self.chars) > 20 else ""
        super().__init__(f"{where}: characters not in the model's vocabulary: {shown}{more}")
