"""Bounded work for the composer's requests: each within a time budget, at most `slots` at once,
stopped when its client goes away (the page's Cancel, a closed tab).

    workshop = Workshop(slots=2, budget=8.0)
    answer = await workshop.run(request, lambda job: model.continue_tune(..., cancelled=job.cancelled))

A job's `cancelled()` says True once its client has gone or its budget is spent; the sampler asks
it between steps (charrnn.nn.sampling) and ends with charrnn.errors.Stopped, which the app answers
429 (Busy), 503 (OutOfTime) or 499 (Gone: nobody is listening). `job.check()` raises the same between the steps of
work that cannot be stopped midway (music21's parse, abcm2ps, FluidSynth: bounded by size instead).
Waiting for a slot counts against the budget: on a busy machine a request is refused with a
clear 503 rather than queued for minutes.
"""
import threading
import time

import anyio

from ..errors import Stopped

POLL = 0.1  # s between looks at the connection


class Busy(Stopped):
    """No slot came free within the request's budget."""


class OutOfTime(Stopped):
    """The request's time budget was spent before its answer was ready."""


class Gone(Stopped):
    """The client went away (Cancel, a closed tab): nobody waits for the answer."""


class Job:
    def __init__(self, budget):
        self.budget, self.started = budget, time.monotonic()
        self.gone = threading.Event()  # the client disconnected

    def left(self):
        return self.budget - (time.monotonic() - self.started)

    def cancelled(self):
        return self.gone.is_set() or self.left() <= 0

    def check(self):
        if self.cancelled():
            raise Stopped("the request was cancelled or ran out of time")


class Workshop:
    def __init__(self, slots=2, budget=8.0):
        self.budget = budget
        self._slots = threading.BoundedSemaphore(slots)
        self.stopped = 0  # requests stopped early (their client went away or their time ran out)

    def _in_a_slot(self, work, job):
        if not self._slots.acquire(timeout=max(job.left(), 0)):
            raise Busy("no free slot within the time budget")
        try:
            job.check()
            return work(job)
        finally:
            self._slots.release()

    async def run(self, request, work, budget=None):
        """work(job) in a worker thread; its answer, or Stopped once the client is gone or the time is up."""
        job = Job(self.budget if budget is None else budget)

        async def watch():
            while not job.gone.is_set():
                if await request.is_disconnected():
                    job.gone.set()
                await anyio.sleep(POLL)

        outcome = {}
        async with anyio.create_task_group() as tasks:  # (an error raised in here would come out as a group)
            tasks.start_soon(watch)
            try:
                outcome["answer"] = await anyio.to_thread.run_sync(self._in_a_slot, work, job)
            except Exception as e:
                outcome["error"] = e
            tasks.cancel_scope.cancel()
        error = outcome.get("error")
        if isinstance(error, Stopped):
            self.stopped += 1
            if job.gone.is_set():
                raise Gone("the client went away") from None
            if not isinstance(error, Busy):
                raise OutOfTime(f"not done within {job.budget:g} s") from None
        if error is not None:
            raise error
        return outcome["answer"]
