"""The composer's FastAPI app: the page, the JSON API under /api/, rendered media by id.

    from fastapi.testclient import TestClient
    from charrnn.composer.app import create_app
    client = TestClient(create_app(charrnn.load(), tunebook=tmp / "book.sqlite"))
    client.post("/api/compose", json={"type": "jig", "meter": "6/8", "key": "D", "random_seed": 7}).json()
    client.post("/api/sound", json={"abc": abc, "program": "flute", "tempo": 90, "chords": False}).json()
    client.post("/api/compare", json={"abc": abc}).json()   # {"tune": ..., "closest": ...}: two scores

Sampling and rendering run in worker threads through a Workshop (work.py): at most SLOTS at
once, each within BUDGET seconds, stopped when its client goes away (the page's Cancel), so the
event loop never blocks and no request runs for minutes. Input is checked as music first
(inputs.py: words are not bars, a tune to save or render must parse, sizes are bounded).
Bad input answers 4xx with {"error": "one line"} in a musician's words (messages.py); a request
with no free slot within its budget 429, one past its budget 503; files are looked up by id only.
"""
from contextlib import asynccontextmanager
from importlib import resources

import anyio
from fastapi import FastAPI, Request
from fastapi import Path as UrlPath
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from ..abc.bars import bar_spans
from ..abc.melody import bar_numbers, melody
from ..abc.plan import parse_structure
from ..checks import drafts_for
from ..errors import CharrnnError, Stopped
from ..generator import default_weights_dir
from ..nn.stepnet import blas_threads
from ..similarity import similar
from ..similarity.command import bar_runs
from ..tune import Tune
from .bodies import (MAX_BARS, MAX_BODY, MAX_NEW_CHARS, MAX_NOTES, Abc, BodyLimit, Compose, Continue, Fill,
                     Render, Rename, Save, Vary)
from .inputs import cap_bars, check_music, check_title, header_settings, honest_title
from .media import FILES, MediaStore
from .messages import field_message, for_people
from .tunebook import Tunebook
from .work import Busy, Gone, OutOfTime, Workshop

BUDGET = 8.0  # s one request may take, waiting, sampling and rendering (a 16-bar reel takes ~1 s alone)
RENDER_WAIT = 2.0  # s a render waits for its audio at least, even when sampling took the budget
SLOTS = 2  # requests that sample or render at once: one per core; the others wait (within BUDGET)
STATIC = {"composer.js": "text/javascript; charset=utf-8", "composer.css": "text/css; charset=utf-8"}
FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><ellipse cx="6" cy="12" rx="4" ry="3" '
           'fill="#333"/><rect x="9" y="1" width="1.6" height="11" fill="#333"/></svg>')


def _error(status, message):
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status)


STOPPED = {  # why a request stopped early -> (status, message)
    OutOfTime: (503, "This took longer than {budget:g} seconds, so the composer stopped it. Try again: "
                     "a higher temperature or a shorter tune finishes sooner."),
    Busy: (429, "The composer is busy with other requests; try again in a moment."),
    Gone: (499, "Cancelled."),
}
HTTP_WORDS = {404: "There is nothing at this address.", 405: "This address does not take that kind of request."}


def model_label(model):
    """The model as a person names it: its run folder ('folk'), 'charrnn pretrained' for the shipped one."""
    folder = model.folder.resolve()
    name = "charrnn pretrained" if folder == default_weights_dir().resolve() else folder.name
    return name if model.weights_file.name.startswith("best") else f"{name} ({model.weights_file.stem})"


def warm_up(model, corpus):
    """Read every start tune through the network, and the corpus' similarity index, before the
    first request: otherwise they come out of some request's time budget (each start tune costs
    a few hundred steps; the index, built once, seconds)."""
    start = getattr(model, "start", None)
    if start is not None and hasattr(start, "ids"):
        with blas_threads():  # BLAS's own threads made this 10x slower on a busy 2-core machine
            start.take(len(start.ids))
    try:
        similar("X:1\nM:4/4\nL:1/8\nK:D\n|:DFAF dFAF|GBdB gBdB:|\n", k=1, corpus=corpus)
    except CharrnnError:
        pass  # no corpus: answers name no closest tune


def check_size(abc, field="The ABC text"):
    """A CharrnnError when a tune is too long to engrave and play within a request's budget."""
    bars, notes = len(bar_spans(abc)), len(melody(abc))
    if bars > MAX_BARS or notes > MAX_NOTES:
        raise CharrnnError(f"{field} has {bars} bars and {notes} notes; the composer engraves and plays "
                           f"at most {MAX_BARS} bars and {MAX_NOTES} notes at a time. Split the tune into parts.")


# ------------------------------------------------------------------------------------------ app

def create_app(model, tunebook, media_folder=None, max_body=MAX_BODY, corpus=None, budget=BUDGET, slots=SLOTS):
    """The composer over a loaded CharModel and a tunebook file (created when missing); `corpus`:
    the folder whose nearest tune each answer names (default data/abc, charrnn.similarity).
    Rendered media go to `media_folder`, by default a folder beside the tunebook that is emptied
    when the server starts and removed when it stops (a killed server's is cleared at the next
    start; nothing is left in /tmp). `budget`: seconds a request may take; `slots`: requests
    that sample or render at once."""
    book = Tunebook(tunebook)
    if media_folder is None:
        media = MediaStore(book.path.parent / f"{book.path.stem}-media", clear=True)
    else:
        media = MediaStore(media_folder)
    workshop = Workshop(slots=slots, budget=budget)

    @asynccontextmanager
    async def lifespan(app):
        await anyio.to_thread.run_sync(warm_up, model, corpus)
        yield
        media.close()  # the rendered files live as long as the server

    app = FastAPI(title="charrnn composer", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    model_name = model_label(model)
    app.state.media, app.state.book, app.state.workshop = media, book, workshop
    app.add_middleware(BodyLimit, limit=max_body)

    @app.exception_handler(Stopped)
    def stopped(request, exc):
        status, message = STOPPED.get(type(exc), STOPPED[OutOfTime])
        return _error(status, message.format(budget=workshop.budget))

    @app.exception_handler(CharrnnError)
    def bad_input(request, exc):
        return _error(400, for_people(exc))

    @app.exception_handler(RequestValidationError)
    def bad_request(request, exc):
        return _error(422, field_message(exc.errors()))

    @app.exception_handler(HTTPException)
    def http_error(request, exc):
        return _error(exc.status_code, HTTP_WORDS.get(exc.status_code) if exc.detail in ("Not Found", "Method Not Allowed")
                      else exc.detail)

    @app.exception_handler(Exception)
    def crash(request, exc):  # a bug, not bad input: still one line of JSON, no stack trace
        return _error(500, f"The composer hit an internal error ({type(exc).__name__}); please report it.")

    def sampling(body, job):
        return dict(temperature=body.temperature, top_p=body.top_p, top_k=body.top_k, random_seed=body.random_seed,
                    cancelled=job.cancelled)

    def answer(abc, settings, body, job):
        """The answer for a tune: media, bars (with the numbers musicians give them), title, the
        settings it was made with (its own header's type, meter and key first), its closest tune."""
        job.check()  # sampling took the time: nothing to render for
        tune = media.tune(abc)
        item = media.render(tune.abc, sound(body), wait=waiting(job))
        item.update(bars=bar_spans(tune.abc), numbers=bar_numbers(tune.abc), title=tune.title,
                    settings={**settings, **header_settings(tune.abc)}, closest=closest(tune.abc))
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

    def checked(abc):
        """The text checked as music before any work: words refused, its size bounded."""
        check_music(abc, "The ABC text")
        check_size(abc)
        return abc

    def readable(abc, wait):
        """A 400 when the text has no notes or music21 cannot read it (the model could still, but
        nothing would play); a parse still running after `wait` s gets the benefit of the doubt."""
        if not melody(abc) or media.parses(abc, wait=wait) is False:
            raise CharrnnError("The ABC text does not read as a tune with notes: check the header lines "
                               "(X:, M:, L:, K:) and the bars.")

    def waiting(job):
        """Seconds a render may still wait for music21 and FluidSynth within the job's budget."""
        return max(job.left(), RENDER_WAIT)

    # ------------------------------------------------------------------ page
    @app.get("/")
    def page():
        return Response(resources.files(__package__).joinpath("static/index.html").read_text("utf-8"),
                        media_type="text/html; charset=utf-8")

    @app.get("/favicon.ico")
    def favicon():
        return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    @app.get("/static/{name}")
    def static(name: str):
        if name not in STATIC:
            return _error(404, f"There is no static file {name!r}.")
        return Response(resources.files(__package__).joinpath(f"static/{name}").read_text("utf-8"),
                        media_type=STATIC[name])

    @app.get("/api/media/{item_id}/{name}")
    def media_file(item_id: str, name: str):
        path = media.path(item_id, name)
        if path is None:
            return _error(404, "This score or recording has been cleared (the composer keeps the newest "
                               f"{media.max_items} and forgets them when it restarts); show the tune again to redraw it.")
        return FileResponse(path, media_type=FILES[name], filename=name)

    # --------------------------------------------------------------- compose
    @app.post("/api/compose")
    async def compose(body: Compose, request: Request):
        title = check_title(body.title) if (body.title or "").strip() else None
        if body.seed.strip():
            check_music(body.seed, "Opening bars")
        if body.structure:
            parse_structure(body.structure)  # refused before any work

        drafts = drafts_for(model, body.drafts)  # the settings say which

        def work(job):
            tune = model.continue_tune(body.seed, type=body.type, meter=body.meter, key=body.key, title=title,
                                       structure=body.structure or None, drafts=drafts,
                                       max_new_chars=MAX_NEW_CHARS, **sampling(body, job))[0]
            abc = honest_title(cap_bars(tune.abc, MAX_BARS), title)
            return answer(abc, {**body.model_dump(), "drafts": drafts}, body, job)

        return await workshop.run(request, work)

    @app.post("/api/continue")
    async def continue_(body: Continue, request: Request):
        check_music(body.abc, "The ABC text")

        def work(job):
            tune = model.continue_tune(body.abc, max_new_chars=MAX_NEW_CHARS, **sampling(body, job))[0]
            return answer(cap_bars(tune.abc, MAX_BARS), body.model_dump(exclude={"abc"}), body, job)

        return await workshop.run(request, work)

    @app.post("/api/vary")
    async def vary(body: Vary, request: Request):
        checked(body.abc)

        def work(job):
            readable(body.abc, waiting(job))
            tune = model.vary(body.abc, body.bars, candidates=body.candidates, **sampling(body, job))[0]
            return answer(tune.abc, body.model_dump(exclude={"abc"}), body, job)

        return await workshop.run(request, work)

    @app.post("/api/fill")
    async def fill(body: Fill, request: Request):
        checked(body.abc.replace("*", "z"))  # a * bar is a hole to fill, not a word

        def work(job):
            tune = model.fill(body.abc, candidates=body.candidates, **sampling(body, job))[0]
            return answer(tune.abc, body.model_dump(exclude={"abc"}), body, job)

        return await workshop.run(request, work)

    @app.post("/api/render")
    async def render_abc(body: Render, request: Request):
        checked(body.abc)

        def work(job):
            readable(body.abc, waiting(job))
            return answer(body.abc, {}, body, job)

        return await workshop.run(request, work)

    @app.post("/api/sound")
    async def resound(body: Render, request: Request):
        """The same tune in another instrument, tempo or accompaniment: new audio and MIDI only."""
        checked(body.abc)

        def work(job):
            readable(body.abc, waiting(job))
            return media.sound(body.abc, sound(body), wait=waiting(job))

        return await workshop.run(request, work)

    @app.post("/api/compare")
    async def compare(body: Abc, request: Request):
        """The tune beside its closest corpus tune: both scores, titles and the bars they share
        ("bars": [[this tune's bar, that tune's bar], ...], numbered from 1 as the page numbers them;
        "runs": the same as '1-4=9-12, 7=3')."""
        checked(body.abc)

        def work(job):
            readable(body.abc, waiting(job))
            match = nearest_match(body.abc)
            tune = {**media.score(body.abc, wait=waiting(job)), "title": Tune(body.abc).title}
            other = media.score(match.abc, wait=waiting(job))
            closest = {**match.as_dict(with_abc=True), "label": match.label(), "runs": bar_runs(match.bars),
                       "image": other["score"], "problems": other["problems"]}
            return {"tune": tune, "closest": closest}

        return await workshop.run(request, work)

    @app.post("/api/bars")
    def bars(body: Abc):
        """The bars of a text being edited: where each is ("bars": [[start, end], ...]) and the number
        a musician gives it ("numbers": 0 for a pickup, then 1, 2, ...)."""
        return {"bars": bar_spans(body.abc), "numbers": bar_numbers(body.abc)}

    # -------------------------------------------------------------- tunebook
    def entry(tune_id):
        try:
            return book.get(tune_id)
        except KeyError:
            raise HTTPException(404, f"There is no tune {tune_id} in the tunebook (it may have been deleted).") from None

    @app.get("/api/tunebook")
    def tunebook_list():
        return {"tunes": book.list()}

    @app.post("/api/tunebook", status_code=201)
    def tunebook_save(body: Save):
        title = check_title(body.title) if (body.title or "").strip() else None
        checked(body.abc)
        readable(body.abc, BUDGET)
        settings = {**body.settings, **header_settings(body.abc)}  # the tune's own type, meter and key
        return book.add(body.abc, title=title, settings=settings, model=model_name)

    @app.get("/api/tunebook.abc")
    def tunebook_download():
        return Response(book.export_abc(), media_type="text/vnd.abc; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="tunebook.abc"'})

    @app.get("/api/tunebook/{tune_id}")
    def tunebook_get(tune_id: int = UrlPath(ge=1, le=2**63 - 1)):
        return entry(tune_id)

    @app.post("/api/tunebook/{tune_id}")
    def tunebook_rename(body: Rename, tune_id: int = UrlPath(ge=1, le=2**63 - 1)):
        title = check_title(body.title)
        entry(tune_id)
        return book.rename(tune_id, title)

    @app.delete("/api/tunebook/{tune_id}")
    def tunebook_delete(tune_id: int = UrlPath(ge=1, le=2**63 - 1)):
        entry(tune_id)
        book.delete(tune_id)
        return {"deleted": tune_id}

    return app
