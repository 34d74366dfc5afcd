"""Prometheus metrics, in a registry of the app's own (nothing global at import time)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20)


class Metrics:
    """Every metric family the service exports. `render()` is what `GET /metrics` answers."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._stripe_children: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        r = self.registry
        self.requests = Counter(
            "amount_updater_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.request_latency = Histogram(
            "amount_updater_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.stripe_calls = Counter(
            "amount_updater_stripe_calls",
            "Calls to Stripe by operation and outcome (ok, or the error class)",
            ["operation", "outcome"],
            registry=r,
        )
        self.stripe_latency = Histogram(
            "amount_updater_stripe_call_duration_seconds",
            "Time of one Stripe call attempt",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.stripe_retries = Counter(
            "amount_updater_stripe_retries",
            "Stripe calls retried (same idempotency key), by operation",
            ["operation"],
            registry=r,
        )
        self.lock_waits = Counter(
            "amount_updater_lock_waits",
            "Changes that queued behind another change to the same object",
            registry=r,
        )
        self.admission_waits = Counter(
            "amount_updater_admission_waits",
            "Requests that queued for a slot (the admission limit was at work)",
            registry=r,
        )
        self.admission_limit = Gauge(
            "amount_updater_admission_limit",
            "Requests that call Stripe allowed at work at once in this worker",
            registry=r,
        )
        self.stripe_budget_waits = Counter(
            "amount_updater_stripe_budget_waits",
            "Stripe calls that waited for the account's or the endpoint's rate budget",
            registry=r,
        )
        self.change_batches = Histogram(
            "amount_updater_change_batch_size",
            "Changes to one object applied together with one read and one write",
            buckets=(1, 2, 3, 5, 10, 20, 50),
            registry=r,
        )
        self.overloaded = Counter(
            "amount_updater_overloaded",
            "Requests refused with 503 overloaded: no slot freed in time",
            registry=r,
        )
        self.idempotent_replays = Counter(
            "amount_updater_idempotent_replays",
            "Requests answered from the Idempotency-Key store",
            registry=r,
        )
        self.idempotency_evictions = Counter(
            "amount_updater_idempotency_evictions",
            "Stored Idempotency-Key answers dropped, oldest first, to stay within bounds",
            registry=r,
        )
        self.rate_limited = Counter(
            "amount_updater_rate_limited",
            "Requests refused by the service's own rate limits, by limit",
            ["limit"],
            registry=r,
        )
        self.webhook_events = Counter(
            "amount_updater_webhook_events",
            "Stripe webhook events by type and outcome",
            ["type", "outcome"],
            registry=r,
        )
        self.webhook_mismatches = Counter(
            "amount_updater_webhook_amount_mismatches",
            "Paid amounts that differ from what the recorded cart costs",
            ["object"],
            registry=r,
        )

    def observe_request(self, route: str, method: str, status: int, elapsed_s: float) -> None:
        # The labelled children are looked up once per (route, method, status): on the hot path
        # prometheus-client's labels() costs more than the increment itself.
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = (
                self.requests.labels(route, method, str(status)),
                self.request_latency.labels(route, method),
            )
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(elapsed_s)

    def observe_stripe_call(self, operation: str, outcome: str, elapsed_s: float) -> None:
        key = (operation, outcome)
        children = self._stripe_children.get(key)
        if children is None:
            children = (
                self.stripe_calls.labels(operation, outcome),
                self.stripe_latency.labels(operation),
            )
            self._stripe_children[key] = children
        children[0].inc()
        children[1].observe(elapsed_s)

    def observe_batch(self, size: int) -> None:
        self.change_batches.observe(size)

    def render(self) -> bytes:
        return generate_latest(self.registry)
