"""The request budget (`within`)."""

from __future__ import annotations

import asyncio

import pytest

from amount_updater.errors import NotFound, StripeTimeout
from amount_updater.service.request_timeout import within


class TestWithin:
    @pytest.mark.asyncio
    async def test_work_that_finishes_in_time_is_left_alone(self):
        async with within(5):
            result = "done"
        assert result == "done"

    @pytest.mark.asyncio
    async def test_work_past_the_budget_is_cancelled_as_stripe_timeout(self):
        finished: list[str] = []

        async def slow_work() -> None:
            await asyncio.sleep(30)
            finished.append("slow work")

        with pytest.raises(StripeTimeout) as caught:
            async with within(0.05):
                await slow_work()
        assert finished == []
        assert caught.value.status == 504
        assert caught.value.code == "stripe_timeout"

    @pytest.mark.asyncio
    async def test_a_timeout_inside_the_work_is_answered_as_the_budgets(self):
        with pytest.raises(StripeTimeout):
            async with within(5):
                raise TimeoutError

    @pytest.mark.asyncio
    async def test_the_clock_starts_when_the_work_does(self):
        budget = within(0.2)
        await asyncio.sleep(0.3)  # longer than the budget, before entering it
        async with budget:
            await asyncio.sleep(0.01)

    @pytest.mark.asyncio
    async def test_other_errors_pass_through(self):
        with pytest.raises(NotFound):
            async with within(5):
                raise NotFound("gone")

    @pytest.mark.asyncio
    async def test_the_timeout_detail_names_the_budget_and_the_safe_retry(self):
        with pytest.raises(StripeTimeout) as caught:
            async with within(0.05):
                await asyncio.sleep(30)
        assert "0.05 s" in caught.value.detail
        assert "Idempotency-Key" in caught.value.detail

    @pytest.mark.asyncio
    async def test_the_timeout_does_not_chain_the_cancellation(self):
        with pytest.raises(StripeTimeout) as caught:
            async with within(0.05):
                await asyncio.sleep(30)
        assert caught.value.__suppress_context__

    @pytest.mark.asyncio
    async def test_a_service_error_passes_through_unchanged(self):
        error = NotFound("No such checkout session.")
        with pytest.raises(NotFound) as caught:
            async with within(5):
                raise error
        assert caught.value is error

    @pytest.mark.asyncio
    async def test_other_exceptions_pass_through(self):
        with pytest.raises(KeyError):
            async with within(5):
                raise KeyError("id")

    @pytest.mark.asyncio
    async def test_an_outer_cancellation_stays_a_cancellation(self):
        started = asyncio.Event()

        async def work() -> None:
            async with within(5):
                started.set()
                await asyncio.sleep(30)

        task = asyncio.create_task(work())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
