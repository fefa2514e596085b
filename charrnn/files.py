"""Atomic writes: a file is written beside its destination, then renamed over it, so a crash or
kill mid-write leaves the old file or the new one, never half of one."""
import json
import os
from pathlib import Path


def write_text_atomic(path, text):
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_json_atomic(path, data, **options):
    return write_text_atomic(path, json.dumps(data, indent=2, **options) + "\n")
