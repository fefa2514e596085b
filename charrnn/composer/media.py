"""Rendered tunes by id: score (SVG, abcm2ps), audio (WAV, FluidSynth) and MIDI (music21).

    store = MediaStore()                  # a fresh temporary folder, removed by store.close()
    item = store.render(abc)              # {"id", "abc", "valid", "score", "audio", "midi", "problems"}
    store.path(item["id"], "tune.mid")    # made on first request
    store.path(item["id"], "score.svg")   # the file, or None: ids are looked up, never used as paths

Files are written from one music21 parse of the tune (a Tune: to_score, to_wav, to_midi) into
the store's own folder; only the newest MAX_ITEMS tunes are kept.
"""
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import CharrnnError
from ..tune import MIN_BARS, Tune

FILES = {"score.svg": "image/svg+xml", "audio.wav": "audio/wav", "tune.mid": "audio/midi"}
MAX_ITEMS = 200
WAV_RATE = 22050  # Hz: half of CD rate halves the audio work; a fiddle sounds the same


class MediaStore:
    def __init__(self, folder=None):
        self._owned = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="charrnn-composer-") if folder is None else folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._items = OrderedDict()  # id -> folder
        self._lock = threading.Lock()

    def render(self, abc):
        """Write the score and the audio of one tune (the MIDI file when first asked for).

        The audio renders in a second thread (FluidSynth is a subprocess) while this one engraves
        the score and counts the bars; a part that fails is None, its reason in "problems"."""
        item_id = uuid.uuid4().hex
        folder = self.folder / item_id
        folder.mkdir()
        made, problems = {}, []
        tune = Tune(abc)
        bars = tune.bars  # music21 parses it once, here; score, audio and MIDI are written from that
        with ThreadPoolExecutor(1) as pool:
            audio = pool.submit(tune.to_wav, folder / "audio.wav", sample_rate=WAV_RATE)
            self._try("score.svg", lambda: tune.to_score(folder / "score.svg"), made, problems)
            self._try("audio.wav", audio.result, made, problems)
        if bars:  # music21 reads it: its MIDI file is made when first asked for
            made["tune.mid"] = True
        if "audio.wav" in made and bars < MIN_BARS:
            problems.append(f"only {bars} bars (a tune needs at least {MIN_BARS})")
        self._remember(item_id, folder, tune)
        urls = {name: f"/api/media/{item_id}/{name}" if name in made else None for name in FILES}
        return {"id": item_id, "abc": abc, "valid": "audio.wav" in made and bars >= MIN_BARS,
                "score": urls["score.svg"], "audio": urls["audio.wav"], "midi": urls["tune.mid"],
                "problems": problems}

    @staticmethod
    def _try(name, write, made, problems):
        try:
            write()
            made[name] = True
        except CharrnnError as e:
            problems.append(f"{name.split('.')[0]}: {e}")
        except Exception as e:  # music21 internals on odd ABC: reported, never a crash
            problems.append(f"{name.split('.')[0]}: {type(e).__name__}: {' '.join(str(e).split())[:200]}")

    def _remember(self, item_id, folder, tune):
        with self._lock:
            self._items[item_id] = (folder, tune, threading.Lock())
            while len(self._items) > MAX_ITEMS:
                _, (old, _, _) = self._items.popitem(last=False)
                shutil.rmtree(old, ignore_errors=True)

    def path(self, item_id, name):
        """The file `name` of tune `item_id` (the MIDI file made now if needed), or None."""
        if name not in FILES:
            return None
        with self._lock:
            folder, tune, lock = self._items.get(item_id, (None, None, None))
        if folder is None:
            return None
        if name == "tune.mid":
            with lock:
                if not (folder / name).is_file():
                    try:
                        tune.to_midi(folder / name)
                    except Exception:  # CharrnnError or music21 internals: no file
                        return None
        return folder / name if (folder / name).is_file() else None

    def close(self):
        if self._owned:
            shutil.rmtree(self.folder, ignore_errors=True)
