"""`charrnn evaluate` and what it measures, one module a job:

- measure: one tune through music21 (parsed once) and abc2midi, a set of tunes, their summary
- novelty: the training tunes as a suffix array; longest shared run, bars found in training
- features: MGEval-style musical statistics and their comparison
- detectability: can a classifier tell two sets of tunes apart
- baselines: xz and Kneser-Ney bits per character
- figures, report: the PNG figures and report.md
- evaluate: the whole report card, and its sub-command

It may import any layer below it (tune, generator, corpus, music, abc, nn), never cli."""
