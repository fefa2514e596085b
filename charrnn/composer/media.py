"""Rendered tunes by id: score (SVG, abcm2ps), audio (WAV, FluidSynth) and MIDI (music21).

    store = MediaStore()                  # a fresh temporary folder, removed by store.close()
    store = MediaStore(folder, clear=True)  # that folder, emptied now and removed by store.close()
    item = store.render(abc, {"program": "flute", "tempo": 90, "chords": True})
    #  {"id", "abc", "valid", "score", "audio", "midi", "problems", "sound", "bar_boxes", "score_size"}
    store.sound(abc, {"program": 0})      # the audio (and MIDI) again in another sound: no score
    store.score(abc)                      # the score only (two tunes side by side): no audio
    store.path(item["id"], "tune.mid")    # made on first request
    store.path(item["id"], "score.svg")   # the file, or None: ids are looked up, never used as paths

Files are written from one music21 parse of the tune (a Tune: to_score, to_wav, to_midi) into
the store's own folder; only the newest MAX_ITEMS tunes are kept. `sound` is how it plays: a
General MIDI program or instrument name, beats a minute (None: the tune's own), chords on or off;
the answer's "sound" says what was used. bar_boxes: where each bar sits in the score's SVG
(charrnn.music.scorebars), for clicking a bar.
"""
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..music.perform import check_options, tune_tempo
from ..music.scorebars import bar_boxes, score_size
from ..tune import MIN_BARS, Tune

FILES = {"score.svg": "image/svg+xml", "audio.wav": "audio/wav", "tune.mid": "audio/midi"}
MAX_ITEMS = 200
UNMADE = {"score.svg": "no score: the engraver cannot read this text as music (check the header and the bars)",
          "audio.wav": "no audio: the text does not play as music (try a lower temperature, or vary the bars "
                       "that look wrong)"}
WAV_RATE = 22050  # Hz: half of CD rate halves the audio work; a fiddle sounds the same


class MediaStore:
    def __init__(self, folder=None, clear=False, max_items=MAX_ITEMS):
        self._owned = folder is None or clear
        self.folder = Path(tempfile.mkdtemp(prefix="charrnn-composer-") if folder is None else folder)
        if clear:  # what a killed server left: ids nobody can ask for any more
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_items = max_items
        self._items = OrderedDict()  # id -> folder
        self._lock = threading.Lock()

    def render(self, abc, sound=None):
        """Write the score and the audio of one tune (the MIDI file when first asked for).

        The audio renders in a second thread (FluidSynth is a subprocess) while this one engraves
        the score and counts the bars; a part that fails is None, its reason in "problems"."""
        return self._make(abc, sound, score=True)

    def sound(self, abc, sound=None):
        """The audio (and MIDI) of a tune in another sound, under a new id: no score, no sampling."""
        return self._make(abc, sound, score=False)

    def score(self, abc):
        """The score (and MIDI) of a tune to look at beside another: no audio, so no FluidSynth wait."""
        return self._make(abc, None, score=True, audio=False)

    def _make(self, abc, sound, score, audio=True):
        tune = self._known(abc) or Tune(abc)
        options = self._options(tune, sound or {})
        item_id = uuid.uuid4().hex
        folder = self.folder / item_id
        folder.mkdir()
        made, problems = {}, []
        bars = tune.bars  # music21 parses it once, here; score, audio and MIDI are written from that
        with ThreadPoolExecutor(1) as pool:
            wav = pool.submit(tune.to_wav, folder / "audio.wav", sample_rate=WAV_RATE, **options) if audio else None
            if score:
                self._try("score.svg", lambda: tune.to_score(folder / "score.svg", annotate=True, bar_numbers=True),
                          made, problems)
            if wav is not None:
                self._try("audio.wav", wav.result, made, problems)
        if bars:  # music21 reads it: its MIDI file is made when first asked for
            made["tune.mid"] = True
        plays = "audio.wav" in made if audio else bars > 0
        if plays and bars < MIN_BARS:
            problems.append(f"only {bars} bars (a tune needs at least {MIN_BARS})")
        self._remember(item_id, folder, tune, options)
        urls = {name: f"/api/media/{item_id}/{name}" if name in made else None for name in FILES}
        svg = (folder / "score.svg").read_text(encoding="utf-8") if "score.svg" in made else ""
        return {"id": item_id, "abc": abc, "valid": plays and bars >= MIN_BARS,
                "score": urls["score.svg"], "audio": urls["audio.wav"], "midi": urls["tune.mid"],
                "problems": problems, "sound": {**options, "tempo": options["tempo"] or self._tempo(tune)},
                "bar_boxes": bar_boxes(svg, abc) if svg else [], "score_size": score_size(svg) if svg else None}

    def _known(self, abc):
        """The Tune of a kept item with this text: its music21 parse is cached, so another sound
        skips the parse (about a third of the time for a 16-bar tune)."""
        with self._lock:
            return next((tune for _, tune, _, _ in reversed(self._items.values()) if tune.abc == abc), None)

    @staticmethod
    def _options(tune, sound):
        """{program, tempo, chords} for Tune.to_wav/to_midi; a CharrnnError for a bad program or tempo."""
        program = check_options(sound.get("program"), sound.get("tempo"))
        return {"program": program, "tempo": sound.get("tempo"), "chords": bool(sound.get("chords", True))}

    @staticmethod
    def _tempo(tune):
        return tune_tempo(tune.to_stream()) if tune.parses else None

    @staticmethod
    def _try(name, write, made, problems):
        """write(); a failure is one problem in a musician's words (the tools' own words would name
        their internals: 'music21 cannot parse ... string index out of range')."""
        try:
            write()
            made[name] = True
        except Exception:  # CharrnnError from the tools, or music21 internals on odd ABC: never a crash
            problems.append(UNMADE[name])

    def _remember(self, item_id, folder, tune, options):
        with self._lock:
            self._items[item_id] = (folder, tune, options, threading.Lock())
            while len(self._items) > self.max_items:
                _, (old, _, _, _) = self._items.popitem(last=False)
                shutil.rmtree(old, ignore_errors=True)

    def path(self, item_id, name):
        """The file `name` of tune `item_id` (the MIDI file made now if needed), or None."""
        if name not in FILES:
            return None
        with self._lock:
            folder, tune, options, lock = self._items.get(item_id, (None, None, None, None))
        if folder is None:
            return None
        if name == "tune.mid":
            with lock:
                if not (folder / name).is_file():
                    try:
                        tune.to_midi(folder / name, **options)
                    except Exception:  # CharrnnError or music21 internals: no file
                        return None
        return folder / name if (folder / name).is_file() else None

    def close(self):
        if self._owned:
            shutil.rmtree(self.folder, ignore_errors=True)
