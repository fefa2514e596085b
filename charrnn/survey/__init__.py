"""Listening survey: can people tell the model's tunes from human ones?

Make a blinded set of clips, send the `listen/` folder to listeners, then score what comes back:

    charrnn survey make --machine 10 --human 10 --out survey/ --seconds 30 --random-seed 7
    #   survey/listen/      survey.html, answer_sheet.html, clip_01.wav ...  <- send (zip) this folder
    #   survey/answer_key.csv, survey/tunes.abc                              <- keep these to yourself
    #   survey/README.md: how every clip was played (instrument, tempo rule, accompaniment rule, cut)
    charrnn survey score survey/answer_key.csv responses_*.csv [--out survey/]
    #   prints the results table; writes survey/results.md and survey/results.json

Listeners open listen/survey.html straight from the folder (no server, no internet), pick
"human" or "machine" for each clip, optionally rate it 1-5, and press "Save my answers": the
browser downloads a CSV (listener,clip,answer,rating). Paper answers from answer_sheet.html can
be typed into the same CSV format.

Blinding: human clips are held-out validation tunes, machine clips valid generated tunes; all go
through Tune.to_wav (charrnn.music.audio) with the same settings (instrument, tempo by meter unless
--tempo, chords only with --chords, cut at the bar line nearest --seconds, fade, loudness), are re-written as bare mono 16-bit WAVs, must last at
least MIN_LENGTH_SHARE of --seconds, and are shuffled before they get their clip_NN names.

From Python (simulate_responses writes made-up answers, for trying the scorer):

    from charrnn import survey
    survey.make_survey("survey/", machine=10, human=10, seconds=30, random_seed=7)
    results = survey.score_files("survey/answer_key.csv", ["anna.csv", "ben.csv"])
    print(results["verdict"])
"""
import argparse
from pathlib import Path

from ..nn.sampling import SAMPLING
from ..similarity import MAX_SIMILARITY
from .make import KEY_COLUMNS, MIN_LENGTH_SHARE, SOURCES, clip_sound, make_survey, sound_rule  # noqa: F401
from .score import format_markdown, read_key, read_responses, score, score_files, simulate_responses  # noqa: F401


# ----------------------------------------------------------------------------- CLI

def _make_cli(args):
    key = make_survey(args.out, machine=args.machine, human=args.human, seconds=args.seconds,
                      random_seed=args.random_seed, model=args.model, data=args.data,
                      temperature=args.temperature, program=args.program, tempo=args.tempo,
                      fade=args.fade, sample_rate=args.sample_rate, chords=args.chords,
                      max_similarity=args.max_similarity, drafts=args.drafts)
    out = Path(args.out)
    print(f"{len(key)} clips -> {out / 'listen'}/ (send this folder; open survey.html)")
    print(f"answer key -> {out / 'answer_key.csv'} (keep it to yourself); "
          f"score with: charrnn survey score {out / 'answer_key.csv'} RESPONSES.csv ...")
    return 0


def _score_cli(args):
    results = score_files(args.key, args.responses, out=args.out)
    print(format_markdown(results))
    out = Path(args.out) if args.out else Path(args.key).parent
    print(f"-> {out / 'results.md'}, {out / 'results.json'}")
    return 0


def register_cli(subparsers):
    p = subparsers.add_parser("survey", help="blinded human-vs-machine listening survey")
    sub = p.add_subparsers(dest="survey_command", required=True)

    make = sub.add_parser("make", help="render blinded clips, a web form, an answer sheet and the key")
    make.add_argument("--machine", type=int, default=10, help="clips of generated tunes (default 10)")
    make.add_argument("--human", type=int, default=10, help="clips of held-out human tunes (default 10)")
    make.add_argument("--out", required=True, help="survey folder (the clips go in OUT/listen/)")
    make.add_argument("--seconds", type=float, default=30.0, help="clip length, cut at the nearest bar line")
    make.add_argument("--random-seed", type=int, default=7, help="picks tunes, seeds generation, shuffles clips")
    make.add_argument("--model", default=None, help="run folder or weights (default: the shipped model)")
    make.add_argument("--data", default=None, help="corpus folder whose valid.abc gives the human tunes "
                                                   "(default: the model's own, from its train_args.json)")
    make.add_argument("--temperature", type=float, default=SAMPLING.temperature)
    make.add_argument("--drafts", type=int, default=SAMPLING.drafts,
                      help="each machine tune is the best of this many drafts, chosen by the model's critic "
                           "(`charrnn critic fit`; default: the model's, from its critic.json; 1 without one)")
    make.add_argument("--program", default=None, metavar="N|NAME",
                      help="General MIDI program 0-127 or an instrument name (fiddle, flute, accordion, ...; "
                           "default: the fiddle), the same for every clip")
    make.add_argument("--tempo", type=float, default=None,
                      help="beats a minute for every clip (default: by meter, the same for a meter's clips)")
    make.add_argument("--chords", action=argparse.BooleanOptionalAction, default=False,
                      help="play guitar-chord symbols as an accompaniment in every clip (default: off)")
    make.add_argument("--fade", type=float, default=2.0, help="fade-out seconds at the end of each clip")
    make.add_argument("--sample-rate", type=int, default=44100)
    make.add_argument("--max-similarity", type=float, default=MAX_SIMILARITY, metavar="S",
                      help=f"refuse generated tunes whose nearest training tune scores above S "
                           f"(charrnn similar; default {MAX_SIMILARITY})")
    make.set_defaults(func=_make_cli)

    sc = sub.add_parser("score", help="score response CSVs against the answer key")
    sc.add_argument("key", metavar="KEY", help="answer_key.csv written by `survey make`")
    sc.add_argument("responses", metavar="RESPONSES", nargs="+", help="response CSVs (listener,clip,answer,rating)")
    sc.add_argument("--out", default=None, help="folder for results.md / results.json (default: the key's folder)")
    sc.set_defaults(func=_score_cli)
