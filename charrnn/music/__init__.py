"""music21 and the external tools: one parse of a tune (`score`), the tune made playable and
written as MIDI (`perform`), audio through FluidSynth (`audio`), sheet music through abcm2ps and
Ghostscript (`engrave`), abc2midi's check (`abc2midi`), and finding and running a tool (`tools`).
Imports charrnn.abc and the base modules only."""
