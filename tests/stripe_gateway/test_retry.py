"""RetryPolicy: which Stripe errors are retried, and after how long."""

from __future__ import annotations

import types

import httpx
import pytest
import stripe

from amount_updater.stripe_gateway import retry as retry_module
from amount_updater.stripe_gateway.retry import RetryPolicy

POLICY = RetryPolicy(max_retries=3)


def api_error(
    status: int, code: str | None = None, headers: dict[str, str] | None = None
) -> stripe.StripeError:
    body = {"error": {"type": "api_error", "message": "boom", **({"code": code} if code else {})}}
    return stripe.APIError("boom", None, status, body, headers)


def rate_limit(code: str, headers: dict[str, str] | None = None) -> stripe.StripeError:
    body = {"error": {"type": "invalid_request_error", "code": code, "message": "slow down"}}
    return stripe.RateLimitError("slow down", None, 429, body, headers)


def invalid_request(status: int = 400, headers: dict[str, str] | None = None):
    body = {"error": {"type": "invalid_request_error", "code": "parameter_invalid_integer"}}
    return stripe.InvalidRequestError("bad", "amount", None, None, status, body, headers)


@pytest.fixture
def jitter(monkeypatch: pytest.MonkeyPatch):
    """Pins the jitter factor: `jitter("low")` or `jitter("high")` picks an end of the range."""

    def pin(end: str) -> None:
        fake = types.SimpleNamespace(uniform=lambda a, b: a if end == "low" else b)
        monkeypatch.setattr(retry_module, "random", fake)

    return pin


class TestWhatIsRetried:
    def test_a_connection_error_marked_retryable_is_retried(self):
        error = stripe.APIConnectionError("network down", should_retry=True)
        assert POLICY.delay(error, 0) is not None

    def test_a_connection_error_not_marked_retryable_is_not_retried(self):
        error = stripe.APIConnectionError("bad TLS", should_retry=False)
        assert POLICY.delay(error, 0) is None

    @pytest.mark.parametrize("status", [500, 502, 503, 504])
    def test_a_server_error_is_retried(self, status: int):
        assert POLICY.delay(api_error(status), 0) is not None

    def test_a_409_conflict_is_retried(self):
        assert POLICY.delay(api_error(409, "idempotency_key_in_use"), 0) is not None

    def test_a_429_lock_timeout_is_retried(self):
        assert POLICY.delay(rate_limit("lock_timeout"), 0) is not None

    def test_a_plain_429_rate_limit_is_retried(self):
        assert POLICY.delay(rate_limit("rate_limit"), 0) is not None

    def test_a_plain_429_follows_its_retry_after(self):
        assert POLICY.delay(rate_limit("rate_limit", {"Retry-After": "1"}), 0) == 1.0

    def test_should_retry_false_stops_a_429(self):
        assert POLICY.delay(rate_limit("rate_limit", {"Stripe-Should-Retry": "false"}), 0) is None

    @pytest.mark.parametrize("status", [400, 401, 402, 403, 404])
    def test_a_client_error_is_not_retried(self, status: int):
        assert POLICY.delay(invalid_request(status), 0) is None

    def test_should_retry_true_overrides_a_client_error_status(self):
        error = invalid_request(400, {"Stripe-Should-Retry": "true"})
        assert POLICY.delay(error, 0) is not None

    def test_should_retry_true_overrides_a_plain_rate_limit(self):
        error = rate_limit("rate_limit", {"stripe-should-retry": "true"})
        assert POLICY.delay(error, 0) is not None

    def test_should_retry_false_overrides_a_server_error_status(self):
        assert POLICY.delay(api_error(503, headers={"Stripe-Should-Retry": "false"}), 0) is None

    def test_should_retry_false_overrides_a_lock_timeout(self):
        error = rate_limit("lock_timeout", {"stripe-should-retry": "false"})
        assert POLICY.delay(error, 0) is None

    def test_should_retry_is_read_from_the_sdks_case_insensitive_headers(self):
        headers = httpx.Headers({"Stripe-Should-Retry": "false"})
        error = stripe.APIError("boom", None, 500, None, headers)  # type: ignore[arg-type]
        assert POLICY.delay(error, 0) is None

    def test_an_unrecognised_should_retry_value_falls_back_to_the_status(self):
        assert POLICY.delay(api_error(500, headers={"Stripe-Should-Retry": "maybe"}), 0)
        error = invalid_request(400, {"Stripe-Should-Retry": "maybe"})
        assert POLICY.delay(error, 0) is None

    def test_an_error_without_a_status_is_not_retried(self):
        assert POLICY.delay(stripe.APIError("no status"), 0) is None


class TestMaxRetries:
    def test_retries_up_to_max_retries_then_stops(self):
        policy = RetryPolicy(max_retries=2)
        error = api_error(500)
        assert [policy.delay(error, attempt) is not None for attempt in range(4)] == [
            True,
            True,
            False,
            False,
        ]

    def test_zero_max_retries_never_retries(self):
        assert RetryPolicy(max_retries=0).delay(api_error(500), 0) is None

    def test_zero_max_retries_never_retries_even_when_stripe_says_retry(self):
        error = api_error(500, headers={"Stripe-Should-Retry": "true", "Retry-After": "0"})
        assert RetryPolicy(max_retries=0).delay(error, 0) is None


class TestRetryAfter:
    @pytest.mark.parametrize(("value", "expected"), [("1", 1.0), ("0.5", 0.5), ("0", 0.0)])
    def test_retry_after_is_the_delay(self, value: str, expected: float):
        assert POLICY.delay(api_error(503, headers={"Retry-After": value}), 0) == expected

    def test_retry_after_is_read_in_lowercase_too(self):
        assert POLICY.delay(api_error(503, headers={"retry-after": "1.5"}), 0) == 1.5

    def test_retry_after_is_followed_as_stripe_says_even_past_the_backoff_cap(self):
        # The gateway, not the policy, refuses a wait that would not end within the budget.
        policy = RetryPolicy(max_retries=3, max_delay_s=2.0)
        assert policy.delay(api_error(503, headers={"Retry-After": "30"}), 0) == 30.0

    def test_a_negative_retry_after_means_now(self):
        assert POLICY.delay(api_error(503, headers={"Retry-After": "-5"}), 0) == 0.0

    def test_an_unparsable_retry_after_falls_back_to_backoff(self, jitter):
        jitter("high")
        error = api_error(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
        assert POLICY.delay(error, 0) == POLICY.base_delay_s

    def test_retry_after_applies_to_a_lock_timeout(self):
        assert POLICY.delay(rate_limit("lock_timeout", {"Retry-After": "0.2"}), 0) == 0.2


class TestBackoff:
    @pytest.mark.parametrize(("attempt", "full"), [(0, 0.25), (1, 0.5), (2, 1.0)])
    def test_the_delay_doubles_with_each_attempt(self, jitter, attempt: int, full: float):
        jitter("high")
        assert POLICY.delay(api_error(500), attempt) == full

    @pytest.mark.parametrize("attempt", [0, 1, 2])
    def test_jitter_takes_off_at_most_half(self, jitter, attempt: int):
        jitter("low")
        assert POLICY.delay(api_error(500), attempt) == POLICY.base_delay_s * 2**attempt / 2

    def test_the_backoff_is_capped_at_max_delay(self, jitter):
        jitter("high")
        policy = RetryPolicy(max_retries=10, base_delay_s=0.25, max_delay_s=2.0)
        assert policy.delay(api_error(500), 8) == 2.0

    def test_random_delays_stay_within_the_jitter_bounds(self):
        delays = [POLICY.delay(api_error(500), 1) for _ in range(200)]
        assert all(d is not None and 0.25 <= d <= 0.5 for d in delays)
        assert len(set(delays)) > 1  # jittered, not one fixed value

    def test_a_connection_error_backs_off_too(self, jitter):
        jitter("high")
        error = stripe.APIConnectionError("reset", should_retry=True)
        assert POLICY.delay(error, 1) == 0.5
