"""Opt-in contract test: the service's main flows against Stripe test mode, through its own
gateway, with every answer recorded (ids and secrets redacted) in tests/contract/recorded/ for
the emulator's replay test (test_contract_replay.py).

Run it with `make contract` and a test-mode secret key:

    AMOUNT_UPDATER_CONTRACT_STRIPE_KEY=sk_test_... make contract

It is marked `contract`, which `make test` (pyproject's addopts: `-m "not contract"`) leaves out;
without the key it is skipped, with the reason. It creates one Checkout Session (expired at the
end) and one PaymentIntent (canceled at the end) in the key's account.
"""

from __future__ import annotations

import os

import pytest

from amount_updater.stripe_gateway import StripeGateway
from amount_updater.stripe_gateway.http_client import stripe_transport

from .flows import RECORDED, Recorder, run_flows, save

KEY_VARIABLE = "AMOUNT_UPDATER_CONTRACT_STRIPE_KEY"
# Read at import: tests/conftest.py clears every AMOUNT_UPDATER_* variable before each test.
KEY = os.environ.get(KEY_VARIABLE, "")
STRIPE = "https://api.stripe.com"


def _skip_reason() -> str:
    if not KEY:
        return (
            f"{KEY_VARIABLE} is not set: set it to a Stripe test-mode secret key (sk_test_...) "
            "and run `make contract` to check the flows against Stripe and record its answers"
        )
    return (
        f"{KEY_VARIABLE} is not a test-mode secret key (sk_test_...): the contract test never "
        "runs against live mode"
    )


pytestmark = [
    pytest.mark.contract,
    pytest.mark.skipif(not KEY.startswith("sk_test_"), reason=_skip_reason()),
]


@pytest.mark.asyncio
async def test_main_flows_against_stripe_test_mode_are_recorded():
    recorder = Recorder(stripe_transport(api_base=STRIPE, max_connections=4))
    # No retries: each exchange is recorded once, as the emulator's replay makes it.
    gateway = StripeGateway.connect(
        KEY, api_base=STRIPE, timeout_s=30, max_retries=0, transport=recorder
    )
    try:
        await run_flows(gateway, recorder)
    finally:
        await gateway.aclose()
    written = save(recorder.exchanges, RECORDED)
    assert written, "nothing was recorded"
    text = "".join(path.read_text() for path in written)
    assert KEY not in text
    assert "_secret_" not in text.replace("_secret_REDACTED", "")
