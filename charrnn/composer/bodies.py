"""What the composer's JSON API reads: the request bodies (pydantic), the limits that keep every
request bounded, and the middleware that refuses an oversized body before any route reads it.

    Compose(type="jig", key="D", temperature=0.9)   # a body; a bad field -> RequestValidationError,
                                                     # which charrnn.composer.messages puts in words
"""
from typing import Optional, Union

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..checks import MAX_RANDOM_SEED, MAX_TEMPERATURE, MAX_TOP_K

MAX_BODY = 64 * 1024  # bytes; a long tune is ~1 KB
MAX_ABC = 8000  # characters: a 64-bar reel with chords is ~1.5 KB
MAX_BARS = 64  # written bars a tune may have here (a long reel played AABB writes 32): rendering 64 takes ~2.6 s
MAX_NOTES = 640  # music21's parse grows with the notes: 8 a bar over 64 bars
MAX_NEW_CHARS = 1200  # what one compose or continue may write: 64 bars of a reel with room to spare
MAX_DRAFTS = 4  # the page's most drafts a tune: each costs a tune's sampling
MIN_TEMPERATURE = 0.05  # the page's lowest: below it the network repeats one phrase for ever
REQUEST_CANDIDATES = 64  # a page request's versions to rank: its time, not an argument's range

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
    temperature: float = Field(1.0, ge=MIN_TEMPERATURE, le=MAX_TEMPERATURE)
    top_p: Optional[float] = Field(None, gt=0, le=1)
    top_k: Optional[int] = Field(None, ge=1, le=MAX_TOP_K)
    random_seed: Optional[int] = Field(None, ge=0, le=MAX_RANDOM_SEED)


class Compose(Sampling):
    meter: Optional[str] = Field(None, max_length=10)
    key: Optional[str] = Field(None, max_length=20)
    type: Optional[str] = Field(None, max_length=30)
    title: Optional[str] = Field(None, max_length=100)
    seed: str = Field("", max_length=5000)  # the tune's opening: a header, bars or both
    structure: Optional[str] = Field(None, max_length=40)  # parts x bars, "AABB:8" (charrnn.abc.plan)
    drafts: Optional[int] = Field(None, ge=1, le=MAX_DRAFTS)  # the critic keeps the most human; None: the model's


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
    title: Optional[str] = Field(None, max_length=200)  # checked by check_title, in words
    settings: dict = Field(default_factory=dict)


class Rename(_Body):
    title: str = Field(max_length=200)


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
    await JSONResponse({"error": f"The request is too large (over {limit // 1024} KB); a tune needs a few KB."}, status_code=413)(scope, receive, send)


