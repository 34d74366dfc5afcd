"""The suite's checks against Stripe's spec (tests/support/stripe_spec), run after each test.

- Requests to Stripe: every request `stripe_mock` (tests/conftest.py) got for api.stripe.com.
- The emulator: every exchange of the emulators a test module builds, recorded by
  `emulator_recorder` (tests/sandbox/conftest.py and tests/e2e/conftest.py use these fixtures):
  each answer (objects, lists, errors) is checked, and each request our gateway sent (its
  User-Agent says so). Requests that tests send themselves are not: some are off the spec on
  purpose, to test the emulator's refusals.

A test whose requests to Stripe are off the spec on purpose says so with
`@pytest.mark.stripe_spec_exempt(reason=...)`; answers are always checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from respx.models import Call

from stripe_emulator import create_emulator_app
from tests.support.recording_asgi import Exchange, Recorder, RecordingApp
from tests.support.stripe_spec import check_answer, check_request

STRIPE_HOST = "api.stripe.com"
GATEWAY_AGENT = "amount-updater/"  # the start of the gateway's User-Agent (stripe_gateway/wire.py)
EXEMPT = "stripe_spec_exempt"


def gateway_call_violations(calls: Iterable[Call]) -> list[str]:
    lines: list[str] = []
    for call in calls:
        url = call.request.url
        if url.host == STRIPE_HOST:
            form = url.query if call.request.method == "GET" else call.request.content
            lines += check_request(call.request.method, url.path, form)
    return list(dict.fromkeys(lines))


def emulator_violations(exchanges: Iterable[Exchange], *, check_requests: bool = True) -> list[str]:
    lines: list[str] = []
    for exchange in exchanges:
        gateway = exchange.headers.get("user-agent", "").startswith(GATEWAY_AGENT)
        if gateway and check_requests:
            form = exchange.query if exchange.method == "GET" else exchange.body
            lines += check_request(exchange.method, exchange.path, form)
        lines += _answer_violations(exchange)
    return list(dict.fromkeys(lines))


def _answer_violations(exchange: Exchange) -> list[str]:
    try:
        body = json.loads(exchange.answer)
    except ValueError:
        return [f"{exchange.method} {exchange.path} ({exchange.status}): the answer is not JSON"]
    return check_answer(exchange.method, exchange.path, exchange.status, body)


def exempt(node: pytest.Item) -> bool:
    """Whether the test sends Stripe requests off the spec on purpose."""
    return node.get_closest_marker(EXEMPT) is not None


def fail_on(violations: list[str], what: str) -> None:
    """Fail (the current test's teardown) listing `violations`."""
    if violations:
        listing = "\n".join(f"  {line}" for line in violations)
        pytest.fail(
            f"{what} off Stripe's spec (tests/support/stripe_spec):\n{listing}", pytrace=False
        )


def recording(recorder: Recorder) -> Callable[..., RecordingApp]:
    """`create_emulator_app`, its app wrapped by `recorder`."""

    def create(*args: Any, **kwargs: Any) -> RecordingApp:
        return recorder.wrap(create_emulator_app(*args, **kwargs))

    return create


@pytest.fixture(scope="module", autouse=True)
def emulator_recorder(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """Records the exchanges of every emulator this module builds: the conftest's fixtures wrap
    theirs with it, and a module that calls `create_emulator_app` itself gets it wrapped too."""
    recorder = Recorder()
    with pytest.MonkeyPatch.context() as patch:
        if getattr(request.module, "create_emulator_app", None) is create_emulator_app:
            patch.setattr(request.module, "create_emulator_app", recording(recorder))
        yield recorder
    # What ended after the module's last test had been checked (a late background call).
    fail_on(emulator_violations(recorder.drain()), "Emulator exchanges")


@pytest.fixture(autouse=True)
def emulator_follows_spec(
    emulator_recorder: Recorder, request: pytest.FixtureRequest
) -> Iterator[None]:
    yield
    exchanges = emulator_recorder.drain()
    fail_on(
        emulator_violations(exchanges, check_requests=not exempt(request.node)),
        "Emulator exchanges",
    )
