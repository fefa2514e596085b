"""The composer: a local web page where a musician steers the model bar by bar.

    charrnn serve [--model DIR] [--host 127.0.0.1] [--port 8000] [--tunebook FILE]

    from charrnn.composer.app import create_app       # FastAPI app, e.g. for TestClient
    app = create_app(charrnn.load(), tunebook="tunebook.sqlite")

Modules: app (routes, JSON API under /api/), bodies (request bodies and limits), inputs (music
checked before work), messages (errors in a musician's words), work (time budgets, slots and
cancel), media (rendered score/audio/MIDI by id), tunebook (SQLite), server (the `charrnn serve`
command), static/ (the page).
Nothing here imports FastAPI until an app is made, so `charrnn --help` stays fast.
"""
