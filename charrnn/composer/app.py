"""The composer's FastAPI app: the page, the JSON API under /api/, rendered media by id.

    from fastapi.testclient import TestClient
    from charrnn.composer.app import create_app
    client = TestClient(create_app(charrnn.load(), tunebook=tmp / "book.sqlite"))
    client.post("/api/compose", json={"type": "jig", "meter": "6/8", "key": "D", "random_seed": 7}).json()
    client.post("/api/sound", json={"abc": abc, "program": "flute", "tempo": 90, "chords": False}).json()
    client.post("/api/compare", json={"abc": abc}).json()   # {"tune": ..., "closest": ...}: two scores

Endpoints are plain `def`s, so FastAPI runs them in its threadpool: sampling and rendering never
block the event loop, and two tabs compose at once (the NumPy sampler keeps its state per call).
Bad input answers 4xx with {"error": "one line"}; files are looked up by generated id only.
"""
from contextlib import asynccontextmanager
from importlib import resources
from typing import Optional, Union

from fastapi import FastAPI
from fastapi import Path as UrlPath
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from ..abc.bars import bar_spans
from ..checks import MAX_RANDOM_SEED, MAX_TEMPERATURE, MAX_TOP_K
from ..errors import CharrnnError
from ..similarity import similar
from ..similarity.command import bar_runs
from ..tune import Tune
from .media import FILES, MediaStore
from .tunebook import Tunebook

MAX_BODY = 64 * 1024  # bytes; a long tune is ~1 KB
MAX_ABC = 20000
REQUEST_CANDIDATES = 64  # a page request's versions to rank: its time, not an argument's range
STATIC = {"composer.js": "text/javascript; charset=utf-8", "composer.css": "text/css; charset=utf-8"}


# ------------------------------------------------------------------------------------- requests

class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sound(_Body):
    """How the audio and MIDI play: a General MIDI program or instrument name, beats a minute of the
    meter's beat (None: the tune's Q:, else its meter's), guitar chords played or silent."""
    program: Optional[Union[int, str]] = Field(None, union_mode="left_to_right")
    tempo: Optional[float] = Field(None, gt=0, le=400)
    chords: bool = True


class Sampling(Sound):
    temperature: float = Field(1.0, gt=0, le=MAX_TEMPERATURE)
    top_p: Optional[float] = Field(None, gt=0, le=1)
    top_k: Optional[int] = Field(None, ge=1, le=MAX_TOP_K)
    random_seed: Optional[int] = Field(None, ge=0, le=MAX_RANDOM_SEED)


class Compose(Sampling):
    meter: Optional[str] = Field(None, max_length=10)
    key: Optional[str] = Field(None, max_length=20)
    type: Optional[str] = Field(None, max_length=30)
    title: Optional[str] = Field(None, max_length=100)
    seed: str = Field("", max_length=5000)  # the tune's opening: a header, bars or both


class Continue(Sampling):
    abc: str = Field(min_length=1, max_length=MAX_ABC)


class Vary(Sampling):
    abc: str = Field(min_length=1, max_length=MAX_ABC)
    bars: list[int] = Field(min_length=1, max_length=64)
    candidates: int = Field(8, ge=1, le=REQUEST_CANDIDATES)


class Fill(Sampling):
    abc: str = Field(min_length=1, max_length=MAX_ABC)
    candidates: int = Field(8, ge=1, le=REQUEST_CANDIDATES)


class Abc(_Body):
    abc: str = Field(min_length=1, max_length=MAX_ABC)


class Render(Sound):
    abc: str = Field(min_length=1, max_length=MAX_ABC)


class Save(_Body):
    abc: str = Field(min_length=1, max_length=MAX_ABC)
    title: Optional[str] = Field(None, max_length=100, pattern=r"^[^\n\r%]*$")
    settings: dict = Field(default_factory=dict)


class Rename(_Body):
    title: str = Field(min_length=1, max_length=100, pattern=r"^[^\n\r%]*$")


# ------------------------------------------------------------------------------------ middleware

class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes gets 413 before any route reads it."""

    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _too_large(self.limit, scope, receive, send)
        chunks, size, more = [], 0, True
        while more:  # chunked bodies have no length up front: read at most limit + 1 bytes
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await _too_large(self.limit, scope, receive, send)
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(limit, scope, receive, send):
    await _error(413, f"request body over {limit} bytes")(scope, receive, send)


def _error(status, message):
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status)


def _validation_message(exc):
    first = exc.errors()[0]
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid request")


# ------------------------------------------------------------------------------------------ app

def create_app(model, tunebook, media_folder=None, max_body=MAX_BODY, corpus=None):
    """The composer over a loaded CharModel and a tunebook file (created when missing); `corpus`:
    the folder whose nearest tune each answer names (default data/abc, charrnn.similarity)."""
    book = Tunebook(tunebook)
    media = MediaStore(media_folder)

    @asynccontextmanager
    async def lifespan(app):
        yield
        media.close()  # the rendered files live as long as the server

    app = FastAPI(title="charrnn composer", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    model_name = f"{model.folder.resolve().name}/{model.weights_file.name}"
    app.state.media, app.state.book = media, book
    app.add_middleware(BodyLimit, limit=max_body)

    @app.exception_handler(CharrnnError)
    def bad_input(request, exc):
        return _error(400, exc)

    @app.exception_handler(RequestValidationError)
    def bad_request(request, exc):
        return _error(422, _validation_message(exc))

    @app.exception_handler(HTTPException)
    def http_error(request, exc):
        return _error(exc.status_code, exc.detail)

    @app.exception_handler(Exception)
    def crash(request, exc):  # a bug, not bad input: still one line of JSON, no stack trace
        return _error(500, f"internal error: {type(exc).__name__}")

    def sampling(body):
        return dict(temperature=body.temperature, top_p=body.top_p, top_k=body.top_k, random_seed=body.random_seed)

    def answer(tune, settings, body):
        item = media.render(tune.abc, sound(body))
        item.update(bars=bar_spans(tune.abc), title=tune.title, settings=settings, closest=closest(tune.abc))
        return item

    def sound(body):
        return {"program": body.program, "tempo": body.tempo, "chords": body.chords}

    def closest(abc):
        """The nearest corpus tune ("closest: TITLE (collection), 0.62"), None without a corpus or notes."""
        try:
            match = nearest_match(abc)
        except CharrnnError:
            return None
        return {**match.as_dict(), "label": f"closest: {match.label()}"}

    def nearest_match(abc):
        """The corpus tune nearest to `abc` (a Match), or a CharrnnError naming why there is none."""
        matches = similar(abc, k=1, corpus=corpus)
        if not matches:
            raise CharrnnError("the corpus has no tunes to compare with")
        return matches[0]

    def readable(abc):
        """A 400 when music21 cannot read the tune (the model could still, but nothing would play)."""
        if not Tune(abc).parses:
            raise CharrnnError("music21 cannot read this ABC as one tune with notes; check the header "
                               "(X:, M:, L:, K:) and the bars")

    # ------------------------------------------------------------------ page
    @app.get("/")
    def page():
        return Response(resources.files(__package__).joinpath("static/index.html").read_text("utf-8"),
                        media_type="text/html; charset=utf-8")

    @app.get("/static/{name}")
    def static(name: str):
        if name not in STATIC:
            return _error(404, f"no static file {name!r}")
        return Response(resources.files(__package__).joinpath(f"static/{name}").read_text("utf-8"),
                        media_type=STATIC[name])

    @app.get("/api/media/{item_id}/{name}")
    def media_file(item_id: str, name: str):
        path = media.path(item_id, name)
        if path is None:
            return _error(404, "no such file (it may have expired; compose again)")
        return FileResponse(path, media_type=FILES[name], filename=name)

    # --------------------------------------------------------------- compose
    @app.post("/api/compose")
    def compose(body: Compose):
        tune = model.continue_tune(body.seed, type=body.type, meter=body.meter, key=body.key,
                                   title=body.title, **sampling(body))[0]
        return answer(tune, body.model_dump(), body)

    @app.post("/api/continue")
    def continue_(body: Continue):
        return answer(model.continue_tune(body.abc, **sampling(body))[0], body.model_dump(exclude={"abc"}), body)

    @app.post("/api/vary")
    def vary(body: Vary):
        readable(body.abc)
        tune = model.vary(body.abc, body.bars, candidates=body.candidates, **sampling(body))[0]
        return answer(tune, body.model_dump(exclude={"abc"}), body)

    @app.post("/api/fill")
    def fill(body: Fill):
        tune = model.fill(body.abc, candidates=body.candidates, **sampling(body))[0]
        return answer(tune, body.model_dump(exclude={"abc"}), body)

    @app.post("/api/render")
    def render_abc(body: Render):
        readable(body.abc)
        return answer(Tune(body.abc), {}, body)

    @app.post("/api/sound")
    def resound(body: Render):
        """The same tune in another instrument, tempo or accompaniment: new audio and MIDI only."""
        readable(body.abc)
        return media.sound(body.abc, sound(body))

    @app.post("/api/compare")
    def compare(body: Abc):
        """The tune beside its closest corpus tune: both scores, titles and the bars they share
        ("bars": [[this tune's bar, that tune's bar], ...], numbered from 1 as the page numbers them;
        "runs": the same as '1-4=9-12, 7=3')."""
        readable(body.abc)
        match = nearest_match(body.abc)
        tune = {**media.score(body.abc), "title": Tune(body.abc).title}
        other = media.score(match.abc)
        closest = {**match.as_dict(with_abc=True), "label": match.label(), "runs": bar_runs(match.bars),
                   "image": other["score"], "problems": other["problems"]}
        return {"tune": tune, "closest": closest}

    @app.post("/api/bars")
    def bars(body: Abc):
        return {"bars": bar_spans(body.abc)}

    # -------------------------------------------------------------- tunebook
    def entry(tune_id):
        try:
            return book.get(tune_id)
        except KeyError:
            raise HTTPException(404, f"no tune {tune_id} in the tunebook") from None

    @app.get("/api/tunebook")
    def tunebook_list():
        return {"tunes": book.list()}

    @app.post("/api/tunebook", status_code=201)
    def tunebook_save(body: Save):
        return book.add(body.abc, title=body.title, settings=body.settings, model=model_name)

    @app.get("/api/tunebook.abc")
    def tunebook_download():
        return Response(book.export_abc(), media_type="text/vnd.abc; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="tunebook.abc"'})

    @app.get("/api/tunebook/{tune_id}")
    def tunebook_get(tune_id: int = UrlPath(ge=1, le=2**63 - 1)):
        return entry(tune_id)

    @app.post("/api/tunebook/{tune_id}")
    def tunebook_rename(body: Rename, tune_id: int = UrlPath(ge=1, le=2**63 - 1)):
        entry(tune_id)
        return book.rename(tune_id, body.title)

    @app.delete("/api/tunebook/{tune_id}")
    def tunebook_delete(tune_id: int = UrlPath(ge=1, le=2**63 - 1)):
        entry(tune_id)
        book.delete(tune_id)
        return {"deleted": tune_id}

    return app
