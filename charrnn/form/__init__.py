"""Form: how the sampler shapes a tune (bars that come back, parts that close on the tonic, bars
written again when they break notation), in one package.

    bars.py     the bars of a tune as the mixture sees them (TuneBars, the copy columns)
    config.py   form.json: the copy weights and the rules' settings (FormConfig)
    cache.py    the character cache (experimental)
    cursor.py   where each sampling lane is in its tune (LaneCursor)
    rules.py    the sampling rules, one class each (SamplingRule)
    sampler.py  FormSampler: the rules over the lanes, the hook of charrnn.nn.sampling's loop
    fit.py      scoring the mixture on held-out tunes and fitting its weights
    command.py  `charrnn form fit`
"""
