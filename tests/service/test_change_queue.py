"""Changes to one object queue and are applied in batches: one batch at a time per object, in
arrival order, each caller answered with its own outcome within its own deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from amount_updater.errors import InvalidRequest, ServiceError, StripeTimeout
from amount_updater.service.change_queue import ChangeQueue


class Recorder:
    """A batch runner that records its batches and can be held inside one."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[str]]] = []
        self.inside = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()
        self.running = 0
        self.most_running = 0

    async def run(self, key: str, items: Sequence[str]) -> list[str | ServiceError]:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        self.batches.append((key, list(items)))
        self.inside.set()
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        return [InvalidRequest(f"bad {i}") if i.startswith("bad") else f"done {i}" for i in items]


def later(seconds: float = 10) -> float:
    return asyncio.get_running_loop().time() + seconds


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.asyncio
async def test_a_lone_change_is_a_batch_of_one():
    recorder = Recorder()
    queue: ChangeQueue[str, str] = ChangeQueue(recorder.run)

    assert await queue.submit("cs_1", "a", deadline=later()) == "done a"
    assert recorder.batches == [("cs_1", ["a"])]
    await settle()
    assert len(queue) == 0  # the worker ended with its queue


@pytest.mark.asyncio
async def test_changes_arriving_during_a_batch_are_applied_together_next():
    recorder = Recorder()
    sizes: list[int] = []
    queued: list[None] = []
    queue: ChangeQueue[str, str] = ChangeQueue(
        recorder.run, sizes.append, lambda: queued.append(None)
    )
    recorder.release.clear()
    first = asyncio.create_task(queue.submit("cs_1", "a", deadline=later()))
    await recorder.inside.wait()
    rest = [asyncio.create_task(queue.submit("cs_1", x, deadline=later())) for x in "bcd"]
    await settle()
    recorder.release.set()

    answers = await asyncio.gather(first, *rest)

    assert answers == ["done a", "done b", "done c", "done d"]
    assert recorder.batches == [("cs_1", ["a"]), ("cs_1", ["b", "c", "d"])]
    assert sizes == [1, 3]
    assert len(queued) == 3


@pytest.mark.asyncio
async def test_a_change_that_fails_fails_alone():
    recorder = Recorder()
    queue: ChangeQueue[str, str] = ChangeQueue(recorder.run)
    recorder.release.clear()
    first = asyncio.create_task(queue.submit("cs_1", "a", deadline=later()))
    await recorder.inside.wait()
    bad = asyncio.create_task(queue.submit("cs_1", "bad", deadline=later()))
    good = asyncio.create_task(queue.submit("cs_1", "b", deadline=later()))
    await settle()
    recorder.release.set()

    assert await first == "done a"
    assert await good == "done b"
    with pytest.raises(InvalidRequest):
        await bad


@pytest.mark.asyncio
async def test_different_objects_never_wait_for_each_other():
    recorder = Recorder()
    queue: ChangeQueue[str, str] = ChangeQueue(recorder.run)
    recorder.release.clear()
    tasks = [asyncio.create_task(queue.submit(f"cs_{n}", "a", deadline=later())) for n in range(3)]
    await settle()
    assert recorder.running == 3  # all three batches at once
    recorder.release.set()
    await asyncio.gather(*tasks)


@pytest.mark.asyncio
async def test_one_object_never_has_two_batches_at_once():
    recorder = Recorder()
    queue: ChangeQueue[str, str] = ChangeQueue(recorder.run)

    async def one(n: int) -> str:
        await asyncio.sleep(0.001 * (n % 5))
        return await queue.submit("cs_1", str(n), deadline=later())

    answers = await asyncio.gather(*(one(n) for n in range(40)))

    assert answers == [f"done {n}" for n in range(40)]
    assert recorder.most_running == 1
    assert sorted(int(i) for _, items in recorder.batches for i in items) == list(range(40))


@pytest.mark.asyncio
async def test_a_caller_that_gives_up_before_its_change_is_taken_leaves_the_queue():
    recorder = Recorder()
    queue: ChangeQueue[str, str] = ChangeQueue(recorder.run)
    recorder.release.clear()
    first = asyncio.create_task(queue.submit("cs_1", "a", deadline=later()))
    await recorder.inside.wait()
    impatient = asyncio.create_task(queue.submit("cs_1", "b", deadline=later()))
    await settle()
    impatient.cancel()
    await settle()
    recorder.release.set()

    assert await first == "done a"
    with pytest.raises(asyncio.CancelledError):
        await impatient
    await settle()
    assert recorder.batches == [("cs_1", ["a"])]  # "b" was never applied


@pytest.mark.asyncio
async def test_a_batch_that_outlives_its_latest_deadline_is_in_doubt_for_everyone():
    recorder = Recorder()
    queue: ChangeQueue[str, str] = ChangeQueue(recorder.run)
    recorder.release.clear()

    with pytest.raises(StripeTimeout) as timed_out:
        await queue.submit("cs_1", "a", deadline=later(0.1))
    assert timed_out.value.outcome_unknown
    recorder.release.set()


@pytest.mark.asyncio
async def test_a_batch_runs_to_the_latest_deadline_of_its_callers():
    """The caller that drove the first batch may give up; the batch it is in still runs for
    the others, until the latest of their deadlines."""
    recorder = Recorder()
    queue: ChangeQueue[str, str] = ChangeQueue(recorder.run)
    recorder.release.clear()
    short = asyncio.create_task(queue.submit("cs_1", "a", deadline=later(0.1)))
    await recorder.inside.wait()
    await asyncio.sleep(0.3)  # past the first batch's deadline
    assert short.done()
    long = asyncio.create_task(queue.submit("cs_1", "b", deadline=later(10)))
    recorder.release.set()

    assert await long == "done b"


@pytest.mark.asyncio
async def test_a_failing_before_batch_hook_does_not_strand_the_callers():
    recorder = Recorder()

    async def broken(key: str) -> None:
        raise ConnectionError("the shared budget is down")

    queue: ChangeQueue[str, str] = ChangeQueue(recorder.run, before_batch=broken)

    assert await queue.submit("cs_1", "a", deadline=later()) == "done a"


@pytest.mark.asyncio
async def test_changes_arriving_while_before_batch_waits_join_the_batch():
    recorder = Recorder()
    turn = asyncio.Event()

    async def wait_for_turn(key: str) -> None:
        await turn.wait()

    queue: ChangeQueue[str, str] = ChangeQueue(recorder.run, before_batch=wait_for_turn)
    tasks = [asyncio.create_task(queue.submit("cs_1", x, deadline=later())) for x in "abc"]
    await settle()
    turn.set()

    assert await asyncio.gather(*tasks) == ["done a", "done b", "done c"]
    assert recorder.batches == [("cs_1", ["a", "b", "c"])]
