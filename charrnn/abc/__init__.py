"""ABC notation as text (no music21): files and tunes (`text`), header fields (`header`), bar
lines (`bars`) and implied repeat starts (`repeats`). Imports nothing above charrnn.errors."""
