"""Rendered tunes by id: score (SVG, abcm2ps), audio (WAV, FluidSynth) and MIDI (music21).

    store = MediaStore()                  # a fresh temporary folder, removed by store.close()
    store = MediaStore(folder, clear=True)  # that folder, emptied now and removed by store.close()
    item = store.render(abc, {"program": "flute", "tempo": 90, "chords": True})
    #  {"id", "abc", "valid", "score", "audio", "midi", "problems", "sound", "bar_boxes", "score_size"}
    store.sound(abc, {"program": 0})      # the audio (and MIDI) again in another sound: no score
    store.score(abc)                      # the score only (two tunes side by side): no audio
    store.path(item["id"], "tune.mid")    # made on first request
    store.path(item["id"], "score.svg")   # the file, or None: ids are looked up, never used as paths

Audio and MIDI come from one music21 parse of the tune (a Tune: to_wav, to_midi), the score from
its text (abcm2ps), each into
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
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from ..abc.bars import mask
from ..music.perform import check_options, tune_tempo
from ..music.scorebars import bar_boxes, score_size
from ..tune import MIN_BARS, Tune

FILES = {"score.svg": "image/svg+xml", "audio.wav": "audio/wav", "tune.mid": "audio/midi"}
MAX_ITEMS = 200
KEPT_TUNES = 32  # parsed texts kept: the newest tunes and their versions
UNMADE = {"score.svg": "no score: the engraver cannot read this text as music (check the header and the bars)",
          "audio.wav": "no audio: the text does not play as music (try a lower temperature, or vary the bars "
                       "that look wrong)"}
TOO_SLOW = ("no audio yet: this tune takes long to play back (music21 is slow on some tunes, such as ones "
            "full of triplets); press “Show my edits” again in a minute")
WAV_RATE = 22050  # Hz: half of CD rate halves the audio work; a fiddle sounds the same


def without_slurs(abc):
    """The tune as it sounds: slurs `( )` left out (tuplets `(3` kept). music21 spans each slur
    over the notes one by one, re-sorting the stream at each: a tune of 200 slurred triplets took
    it 12 s to parse and 40 s to play back; without its slurs, well under a second. A slur does
    not change what MIDI plays; the score keeps them (abcm2ps reads the text as written)."""
    masked = mask(abc)  # quoted text, decorations and fields keep their brackets
    return "".join(c for i, c in enumerate(abc)
                   if not ((c == "(" and masked[i] == "(" and not abc[i + 1:i + 2].isdigit()) or
                           (c == ")" and masked[i] == ")")))


class MediaStore:
    def __init__(self, folder=None, clear=False, max_items=MAX_ITEMS, workers=2):
        self._owned = folder is None or clear
        self.folder = Path(tempfile.mkdtemp(prefix="charrnn-composer-") if folder is None else folder)
        if clear:  # what a killed server left: ids nobody can ask for any more
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_items = max_items
        self._items = OrderedDict()  # id -> (folder, text, sound options, lock): texts, not parses (memory)
        self._tunes = OrderedDict()  # text -> Tune (its music21 parse), newest last
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="media")  # parses and audio

    def render(self, abc, sound=None, wait=None):
        """Write the score and the audio of one tune (the MIDI file when first asked for).

        abcm2ps engraves the score from the text in this thread while a worker parses the tune
        with music21 and renders its audio (FluidSynth); a part that fails is None, its reason in
        "problems". `wait`: the most seconds to wait for the audio (music21 takes tens of seconds
        on some tunes full of triplets): past it the answer comes without audio, saying so, and the
        worker finishes in the background (the next request for the same text finds it parsed)."""
        return self._make(abc, sound, score=True, wait=wait)

    def sound(self, abc, sound=None, wait=None):
        """The audio (and MIDI) of a tune in another sound, under a new id: no score, no sampling."""
        return self._make(abc, sound, score=False, wait=wait)

    def score(self, abc, wait=None):
        """The score (and MIDI) of a tune to look at beside another: no audio, so no FluidSynth wait."""
        return self._make(abc, None, score=True, audio=False, wait=wait)

    def parses(self, abc, wait=None):
        """Does music21 read `abc` as a tune with notes: True, False, or None when it has not
        finished within `wait` seconds (it goes on in the background)."""
        try:
            return self._pool.submit(lambda: self.tune(abc).parses).result(timeout=wait)
        except FutureTimeout:
            return None

    def tune(self, abc):
        """The Tune that plays this text (without_slurs), kept for the newest texts: music21 parses
        each text once (about a third of a render's time), however many requests ask."""
        with self._lock:
            tune = self._tunes.pop(abc, None) or Tune(without_slurs(abc))
            self._tunes[abc] = tune
            while len(self._tunes) > KEPT_TUNES:
                self._tunes.popitem(last=False)
            return tune

    def _make(self, abc, sound, score, audio=True, wait=None):
        tune = self.tune(abc)
        options = self._options(tune, sound or {})
        item_id = uuid.uuid4().hex
        folder = self.folder / item_id
        folder.mkdir()
        made, problems = {}, []

        def parse_and_play():  # in a worker (its own dict and list: it may finish after the answer)
            played, trouble = {}, []
            if audio:
                self._try("audio.wav", lambda: tune.to_wav(folder / "audio.wav", sample_rate=WAV_RATE, **options),
                          played, trouble)
            return tune.bars, self._tempo(tune), played, trouble

        heavy = self._pool.submit(parse_and_play)
        if score:
            self._try("score.svg", lambda: Tune(abc).to_score(folder / "score.svg", annotate=True, bar_numbers=True),
                      made, problems)
        try:
            bars, tempo, played, trouble = heavy.result(timeout=wait)
            made.update(played)
            problems += trouble
        except FutureTimeout:
            bars, tempo = None, None
            problems.append(TOO_SLOW)
        if bars:  # music21 reads it: its MIDI file is made when first asked for
            made["tune.mid"] = True
        plays = bars is not None and ("audio.wav" in made if audio else bars > 0)
        if plays and bars < MIN_BARS:
            problems.append(f"only {bars} bars (a tune needs at least {MIN_BARS})")
        self._remember(item_id, folder, abc, options)
        urls = {name: f"/api/media/{item_id}/{name}" if name in made else None for name in FILES}
        svg = (folder / "score.svg").read_text(encoding="utf-8") if "score.svg" in made else ""
        return {"id": item_id, "abc": abc, "valid": plays and bars >= MIN_BARS,
                "score": urls["score.svg"], "audio": urls["audio.wav"], "midi": urls["tune.mid"],
                "problems": problems, "sound": {**options, "tempo": options["tempo"] or tempo},
                "bar_boxes": bar_boxes(svg, abc) if svg else [], "score_size": score_size(svg) if svg else None}

    @staticmethod
    def _options(tune, sound):
        """{program, tempo, chords} for Tune.to_wav/to_midi; a CharrnnError for a bad program or tempo."""
        program = check_options(sound.get("program"), sound.get("tempo"))
        return {"program": program, "tempo": sound.get("tempo"), "chords": bool(sound.get("chords", True))}

    @staticmethod
    def _tempo(tune):
        """The tune's own tempo, or None (music21 divides by a zero beat on some meters the model
        writes: seen once in 500 soak requests, a 500 before this)."""
        try:
            return tune_tempo(tune.to_stream()) if tune.parses else None
        except Exception:
            return None

    @staticmethod
    def _try(name, write, made, problems):
        """write(); a failure is one problem in a musician's words (the tools' own words would name
        their internals: 'music21 cannot parse ... string index out of range')."""
        try:
            write()
            made[name] = True
        except Exception:  # CharrnnError from the tools, or music21 internals on odd ABC: never a crash
            problems.append(UNMADE[name])

    def _remember(self, item_id, folder, abc, options):
        with self._lock:
            self._items[item_id] = (folder, abc, options, threading.Lock())
            while len(self._items) > self.max_items:
                _, (old, _, _, _) = self._items.popitem(last=False)
                shutil.rmtree(old, ignore_errors=True)

    def path(self, item_id, name):
        """The file `name` of tune `item_id` (the MIDI file made now if needed), or None."""
        if name not in FILES:
            return None
        with self._lock:
            folder, abc, options, lock = self._items.get(item_id, (None, None, None, None))
        if folder is None:
            return None
        if name == "tune.mid":
            with lock:
                if not (folder / name).is_file():
                    try:
                        self.tune(abc).to_midi(folder / name, **options)  # parsed again if it has aged out
                    except Exception:  # CharrnnError or music21 internals: no file
                        return None
        return folder / name if (folder / name).is_file() else None

    def close(self):
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._owned:
            shutil.rmtree(self.folder, ignore_errors=True)
