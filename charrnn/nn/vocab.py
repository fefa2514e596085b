"""The character vocabulary, saved as `char_to_idx.json` beside the weights."""
import json
from pathlib import Path

import numpy as np

from ..errors import CharrnnError, UnknownCharactersError
from ..files import write_text_atomic


class Vocabulary:
    """A fixed mapping between characters and integer ids (sorted by character)."""

    def __init__(self, char_to_idx):
        self.char_to_idx = dict(char_to_idx)
        self.chars = [None] * len(self.char_to_idx)
        for ch, i in self.char_to_idx.items():
            self.chars[i] = ch
        if None in self.chars:
            raise CharrnnError("vocabulary ids must be 0..N-1 with no gaps")
        # A 0x110000-wide lookup table turns encoding into one vectorised gather.
        self._table = np.full(0x110000, -1, dtype=np.int32)
        for ch, i in self.char_to_idx.items():
            self._table[ord(ch)] = i

    @classmethod
    def from_text(cls, text):
        return cls({ch: i for i, ch in enumerate(sorted(set(text)))})

    def __len__(self):
        return len(self.chars)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.char_to_idx == other.char_to_idx

    def encode(self, text, where="text"):
        """Text -> int32 ids; UnknownCharactersError names any character not in the vocabulary."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        ids = self._table[codes]
        if (ids < 0).any():
            raise UnknownCharactersError({chr(c) for c in codes[ids < 0]}, where)
        return ids

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)

    def save(self, path):
        write_text_atomic(path, json.dumps(self.char_to_idx, ensure_ascii=False, indent=0, sort_keys=True))

    @classmethod
    def load(cls, path):
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not all(isinstance(k, str) and len(k) == 1 and isinstance(v, int)
                                                     and not isinstance(v, bool) for k, v in data.items()):
                raise TypeError("a JSON object of one character -> id is needed")
            return cls(data)
        except CharrnnError as e:  # ids with gaps or duplicates: name the file
            raise CharrnnError(f"{path}: not a valid char_to_idx.json ({e})") from None
        except FileNotFoundError:
            raise CharrnnError(f"{path}: vocabulary file not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError, IndexError) as e:
            raise CharrnnError(f"{path}: not a valid char_to_idx.json ({e})") from None
