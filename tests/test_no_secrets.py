"""No secret leaves the service: a realistic run (sessions and intents created and changed, a token
minted with an API key, webhooks, Stripe refusing the key with a body that echoes it, Stripe
failing, an unexpected error) is recorded whole: every log record at DEBUG, as the JSON lines
the service writes, every answer (status, headers, body) and GET /metrics. None of it may hold
the Stripe key, the webhook signing secret, the API key, the token secret, an update token or a
client_secret, except the answers that hand a client_secret or token to the caller it is for.

Logging is configured as `amount-updater serve` configures it (`configure_logging`), whose
caps on the chatty libraries (stripe, httpx, httpcore) are part of what is tested here.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import respx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from amount_updater.config import Settings
from amount_updater.logs import JsonFormatter, configure_logging
from tests.api.test_webhooks import event, paid_intent, signature_header
from tests.conftest import STRIPE
from tests.support.stripe_objects import checkout_session, form, payment_intent, product_line

STRIPE_KEY = "sk_test_51NoLeakStripeKey0123456789abcdefghijklmnopqrstuv"
WEBHOOK_SECRET = "whsec_NoLeakWebhookSecret0123456789abcdef"
API_KEY = "apikey-NoLeak-0123456789abcdef"
TOKEN_SECRET = "tokensecret-NoLeak-0123456789abcdefghijklmnop"
SESSION_SECRET = "cs_test_a1_secret_NoLeakSessionSecret"
INTENT_SECRET = "pi_test_a1_secret_NoLeakIntentSecret"
CONFIGURED = {
    "stripe key": STRIPE_KEY,
    "webhook secret": WEBHOOK_SECRET,
    "api key": API_KEY,
    "token secret": TOKEN_SECRET,
}
# The shape of any Checkout Session / PaymentIntent / SetupIntent client secret.
CLIENT_SECRET = re.compile(r"\b(?:cs|pi|seti)_\w+?_secret_\w+")
ECHO = f"Invalid API Key provided: {STRIPE_KEY} ({WEBHOOK_SECRET}, {SESSION_SECRET})"


@dataclass
class Answer:
    step: str
    response: httpx.Response
    may_hold: frozenset[str] = frozenset()  # secrets this answer hands to its own caller

    @property
    def text(self) -> str:
        headers = "\n".join(f"{k}: {v}" for k, v in self.response.headers.multi_items())
        return f"{self.response.status_code}\n{headers}\n\n{self.response.text}"


@dataclass
class Transcript:
    records: list[logging.LogRecord] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)  # the caplog records, as JSON lines
    stream: str = ""  # what the service's own log handler wrote
    answers: list[Answer] = field(default_factory=list)
    metrics: str = ""
    tokens: list[str] = field(default_factory=list)

    def secrets(self) -> dict[str, str]:
        # A token is derived from the object and its expiry: minting twice may give the same one.
        unique = sorted(set(self.tokens))
        issued = {f"update token {n}": token for n, token in enumerate(unique, 1)}
        return {
            **CONFIGURED,
            **issued,
            "session client_secret": SESSION_SECRET,
            "intent client_secret": INTENT_SECRET,
        }

    def answer(self, step: str) -> Answer:
        [found] = [a for a in self.answers if a.step == step]
        return found


def leaks(
    text: str,
    secrets: dict[str, str],
    allowed: frozenset[str] = frozenset(),
    *,
    client_secret_shape: bool = True,
) -> list[str]:
    """The names of the secrets in `text` (and any client secret by its shape), but `allowed`."""
    found = [name for name, value in secrets.items() if value in text and value not in allowed]
    if client_secret_shape:
        found += [m for m in CLIENT_SECRET.findall(text) if m not in allowed]
    return found


SAMPLE_CATALOG = Path(__file__).resolve().parents[1] / "src/amount_updater/catalog/sample.toml"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        stripe_secret_key=STRIPE_KEY,  # type: ignore[arg-type]
        stripe_api_base=STRIPE,
        stripe_max_retries=0,
        token_secret=TOKEN_SECRET,  # type: ignore[arg-type]
        api_keys=[API_KEY],
        stripe_webhook_secret=WEBHOOK_SECRET,  # type: ignore[arg-type]
        return_url="https://shop.example/return",  # type: ignore[arg-type]
        catalog_path=SAMPLE_CATALOG,  # an explicit catalog: a start with nothing to warn about
    )


@contextmanager
def production_logging(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """`configure_logging("DEBUG")` as `serve` runs it, its JSON stream captured, caplog kept."""
    root = logging.getLogger()
    chatty = [logging.getLogger(name) for name in ("stripe", "httpx", "httpcore")]
    saved = (root.handlers[:], root.level, [logger.level for logger in chatty])
    configure_logging("DEBUG")
    stream = io.StringIO()
    service_handler = root.handlers[0]
    assert isinstance(service_handler, logging.StreamHandler)
    service_handler.setStream(stream)
    root.addHandler(caplog.handler)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for logger, level in zip(chatty, saved[2], strict=True):
            logger.setLevel(level)


def mock_stripe(stripe_mock: respx.MockRouter) -> None:
    session = checkout_session(
        line_items=[product_line("tshirt", "T-shirt", 2500, 1, id="li_shirt")],
        metadata={"amount_updater_rev": "1"},
    )
    session["client_secret"] = SESSION_SECRET
    stripe_mock.post("/v1/checkout/sessions").respond(200, json=session)
    stripe_mock.get("/v1/checkout/sessions/cs_test_a1").respond(200, json=session)
    stripe_mock.post("/v1/checkout/sessions/cs_test_a1").respond(
        200, json={**session, "line_items": None, "amount_total": 3700}
    )

    def intent_answer(request: httpx.Request) -> httpx.Response:
        sent = form(request.content)
        metadata = {k[9:-1]: v for k, v in sent.items() if k.startswith("metadata[")}
        intent = payment_intent(amount=int(sent["amount"]), metadata=metadata)
        return httpx.Response(200, json={**intent, "client_secret": INTENT_SECRET})

    stripe_mock.post("/v1/payment_intents").mock(side_effect=intent_answer)
    stripe_mock.get("/v1/payment_intents/pi_test_a1").respond(
        200,
        json={
            **payment_intent(amount=2500, metadata={"amount_updater_rev": "1"}),
            "client_secret": INTENT_SECRET,
        },
    )
    stripe_mock.post("/v1/payment_intents/pi_test_a1").mock(side_effect=intent_answer)
    error = {"error": {"type": "invalid_request_error", "message": ECHO}}
    stripe_mock.get("/v1/checkout/sessions/cs_test_b2").respond(401, json=error)
    stripe_mock.get("/v1/checkout/sessions/cs_test_c3").respond(
        500, json={"error": {"type": "api_error", "message": ECHO}}
    )
    stripe_mock.get("/v1/checkout/sessions/cs_test_d4").respond(  # no id: an unexpected error
        200, json={"object": "checkout.session", "client_secret": SESSION_SECRET, "note": ECHO}
    )


async def run(client: httpx.AsyncClient, transcript: Transcript) -> None:
    async def step(name: str, method: str, url: str, **kwargs) -> httpx.Response:
        response = await client.request(method, url, **kwargs)
        transcript.answers.append(Answer(name, response))
        return response

    cart = {"currency": "usd", "items": [{"product_id": "tshirt"}]}
    created = await step("create session", "POST", "/v1/checkout-sessions", json=cart)
    token_1 = created.json()["token"]
    minted = await step(
        "mint token",
        "POST",
        "/v1/tokens",
        json={"object_id": "cs_test_a1"},
        headers={"X-API-Key": API_KEY},
    )
    token_2 = minted.json()["token"]
    change = {
        "json": {"product_id": "mug"},
        "headers": {"Authorization": f"Bearer {token_2}", "Idempotency-Key": "change-1"},
    }
    await step("change session", "POST", "/v1/checkout-sessions/cs_test_a1/items", **change)
    await step("replay change", "POST", "/v1/checkout-sessions/cs_test_a1/items", **change)
    await step(
        "read session by api key",
        "GET",
        "/v1/checkout-sessions/cs_test_a1",
        headers={"X-API-Key": API_KEY},
    )
    intent = await step("create intent", "POST", "/v1/payment-intents", json=cart)
    token_3 = intent.json()["token"]
    await step(
        "change intent",
        "POST",
        "/v1/payment-intents/pi_test_a1/items",
        json={"product_id": "mug"},
        headers={"Authorization": f"Bearer {token_3}"},
    )
    await step(
        "token for another object",
        "GET",
        "/v1/payment-intents/pi_test_a1",
        headers={"Authorization": f"Bearer {token_1}"},
    )
    await step(
        "wrong api key",
        "GET",
        "/v1/checkout-sessions/cs_test_a1",
        headers={"X-API-Key": API_KEY[:-1] + "X"},
    )
    payload = event(
        "payment_intent.succeeded",
        {**paid_intent(amount_received=4000), "client_secret": INTENT_SECRET},
    )
    await step(
        "webhook",
        "POST",
        "/v1/webhooks/stripe",
        content=payload.encode(),
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature_header(payload, WEBHOOK_SECRET),
        },
    )
    await step(
        "forged webhook",
        "POST",
        "/v1/webhooks/stripe",
        content=payload.encode(),
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature_header(payload, "whsec_forged"),
        },
    )
    api_key = {"X-API-Key": API_KEY}
    await step("stripe 401", "GET", "/v1/checkout-sessions/cs_test_b2", headers=api_key)
    await step("stripe 500", "GET", "/v1/checkout-sessions/cs_test_c3", headers=api_key)
    await step("unexpected error", "GET", "/v1/checkout-sessions/cs_test_d4", headers=api_key)
    metrics = await step("metrics", "GET", "/metrics")

    transcript.metrics = metrics.text
    transcript.tokens = [token_1, token_2, token_3]
    for name, secrets in [
        ("create session", {SESSION_SECRET, token_1}),
        ("mint token", {token_2}),
        ("create intent", {INTENT_SECRET, token_3}),
    ]:
        transcript.answer(name).may_hold = frozenset(secrets)


@pytest_asyncio.fixture
async def transcript(
    app: FastAPI, stripe_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> Transcript:
    recorded = Transcript()
    mock_stripe(stripe_mock)
    caplog.set_level(logging.DEBUG)
    with production_logging(caplog) as stream:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                await run(c, recorded)
        recorded.records = list(caplog.records)
    formatter = JsonFormatter()
    recorded.log_lines = [formatter.format(record) for record in recorded.records]
    recorded.stream = stream.getvalue()
    return recorded


def test_the_run_is_what_it_claims_to_be(transcript: Transcript):
    """Guards the other tests against passing on an empty or broken run."""
    statuses = {a.step: a.response.status_code for a in transcript.answers}
    assert statuses == {
        "create session": 201,
        "mint token": 201,
        "change session": 200,
        "replay change": 200,
        "read session by api key": 200,
        "create intent": 201,
        "change intent": 200,
        "token for another object": 403,
        "wrong api key": 401,
        "webhook": 200,
        "forged webhook": 400,
        "stripe 401": 502,
        "stripe 500": 503,
        "unexpected error": 500,
        "metrics": 200,
    }
    events = [json.loads(line)["event"] for line in transcript.log_lines]
    for expected in (
        "cart.changed",
        "webhook.amount_mismatch",
        "stripe.error",
        "stripe.auth_rejected",
        "request.unhandled_error",
    ):
        assert expected in events
    assert events.count("request") == len(transcript.answers)
    assert transcript.stream.count("\n") >= len(transcript.log_lines)  # the same records
    assert "KeyError" in transcript.stream  # the traceback was written
    # The detector works: the answers that hand out secrets are caught by it.
    found = leaks(transcript.answer("create session").text, transcript.secrets())
    assert "session client_secret" in found
    assert SESSION_SECRET in found  # by its shape too
    assert any(name.startswith("update token") for name in found)


def test_no_log_record_holds_a_secret(transcript: Transcript):
    secrets = transcript.secrets()
    found = {line: leaks(line, secrets) for line in transcript.log_lines}
    assert {line: names for line, names in found.items() if names} == {}


def test_no_log_record_holds_a_secret_in_its_raw_fields(transcript: Transcript):
    secrets = transcript.secrets()
    for record in transcript.records:
        raw = repr(record.__dict__) + record.getMessage()
        assert leaks(raw, secrets) == [], record.getMessage()


def test_the_json_log_stream_holds_no_secret(transcript: Transcript):
    assert transcript.stream
    assert leaks(transcript.stream, transcript.secrets()) == []


def test_no_answer_holds_a_secret_beyond_what_it_hands_its_own_caller(transcript: Transcript):
    secrets = transcript.secrets()
    found = {a.step: leaks(a.text, secrets, a.may_hold) for a in transcript.answers}
    assert {step: names for step, names in found.items() if names} == {}


def test_the_configured_secrets_are_in_no_answer_at_all(transcript: Transcript):
    for answer in transcript.answers:
        assert leaks(answer.text, CONFIGURED, client_secret_shape=False) == [], answer.step


def test_the_metrics_hold_no_secret(transcript: Transcript):
    assert "amount_updater_http_requests_total" in transcript.metrics
    assert leaks(transcript.metrics, transcript.secrets()) == []
