"""Schemathesis fuzzing of the JSON API against its committed OpenAPI document.

The real app runs on real ports in sandbox mode (the gateway reaches the embedded Stripe
emulator over HTTP), and every documented operation of the JSON API is fuzzed for:

- an anonymous caller: no credentials, the app's default settings (rate limits included), and
  the Idempotency-Key values exactly as generated (so reused keys are fuzzed too);
- an API-key caller: `X-API-Key` on every request;
- a token holder: the operations on one object, aimed at a Checkout Session and a PaymentIntent
  created through the API before fuzzing, with `Authorization: Bearer <that object's token>`,
  so that the change routes run past authorization into the service and the emulator.

To reach the service rather than stop at the door, the last two callers use an app without its
own rate limits and a fresh Idempotency-Key wherever a valid one was generated, and ids and
codes are drawn from the served catalog about half of the time (see tests/support/fuzz.py).

Every response must not be a 5xx, must have a status documented for its operation, a documented
content type, and a body matching the documented schema (problems included). A failure here is a
finding against the app or its document: fix the app, never loosen these checks.

Cases are valid and invalid inputs (schemathesis' coverage phase, then Hypothesis fuzzing);
generation is deterministic, so a failure reproduces on every run, with a curl command to
replay it. `pytest --hypothesis-show-statistics` shows the statuses each operation answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, event, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.fuzz import (
    API_KEY,
    NO_RATE_LIMITS,
    Owned,
    catalog_dictionaries,
    create_owned,
    drop_credentials,
    fresh_idempotency_keys,
    sandbox_app_server,
)

Case = schemathesis.Case[Any]

OPENAPI_FILE = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "deterministic": True},
        # The credentials are test values: show them, so a failure's curl command reproduces it.
        "output": {"sanitization": {"enabled": False}},
        **catalog_dictionaries(),
    }
)

# Not the JSON API: the sandbox's routes and demo page, metrics and webhook endpoints.
NOT_JSON_API = r"^/(?:_sandbox(?:/|$)|metrics(?:/|$)|$)|(?:^|/)webhooks?(?:/|$)"

schema = schemathesis.openapi.from_path(OPENAPI_FILE, config=CONFIG).exclude(
    path_regex=NOT_JSON_API
)
# The operations on one object: its id in the path, or in the body (Stripe's reference contract).
object_schema = schema.include(path_regex=r"\{(?:session_id|intent_id)\}|^/update-custom-amount$")

fuzz_settings = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    # The servers are module-scoped; the only function-scoped fixture is conftest's autouse
    # environment cleaner, which nothing generated depends on.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class TokenHolder:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session: Owned = create_owned(base_url, "/v1/checkout-sessions")
        self.intent: Owned = create_owned(base_url, "/v1/payment-intents")


@pytest.fixture(scope="module")
def default_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with its default settings, rate limits included."""
    with sandbox_app_server(tmp_path_factory.mktemp("fuzz-default")) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def unthrottled_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app without its own rate limits (see NO_RATE_LIMITS)."""
    with sandbox_app_server(tmp_path_factory.mktemp("fuzz-unthrottled"), **NO_RATE_LIMITS) as url:
        yield url


@pytest.fixture(scope="module")
def holder(unthrottled_url: str) -> TokenHolder:
    return TokenHolder(unthrottled_url)


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def call_and_check(
    case: Case, base_url: str, http: requests.Session, credentials: dict[str, str]
) -> None:
    drop_credentials(case.headers)
    case.headers.update(credentials)
    response = case.call_and_validate(base_url=base_url, session=http, checks=CHECKS, timeout=30)
    event(f"{case.method} {case.operation.path} status", response.status_code)


@schema.parametrize()
@fuzz_settings
def test_anonymous_caller(case: Case, default_url: str, http: requests.Session) -> None:
    call_and_check(case, default_url, http, {})


@schema.parametrize()
@fuzz_settings
def test_api_key_caller(case: Case, unthrottled_url: str, http: requests.Session) -> None:
    fresh_idempotency_keys(case.headers)
    call_and_check(case, unthrottled_url, http, {"X-API-Key": API_KEY})


@object_schema.parametrize()
@fuzz_settings
def test_token_holder(case: Case, holder: TokenHolder, http: requests.Session) -> None:
    path = case.path_parameters
    if "intent_id" in path:
        owned = holder.intent
        path["intent_id"] = owned.id
    else:
        owned = holder.session
        if "session_id" in path:
            path["session_id"] = owned.id
        elif isinstance(case.body, dict):  # POST /update-custom-amount: the id is in the body
            case.body["checkout_session_id"] = owned.id
    fresh_idempotency_keys(case.headers)
    call_and_check(case, holder.base_url, http, {"Authorization": f"Bearer {owned.token}"})
