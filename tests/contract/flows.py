"""The main flows of the service, run through its own gateway (`StripeGateway`) against Stripe
test mode (test_stripe_contract.py, opt-in) or the emulator (test_contract_replay.py), with every
HTTP exchange recorded under the step that made it.

Recordings are JSON files, one per step, in tests/contract/recorded/: each exchange's request
(method and path template), status and answer body, ids and secrets redacted. The replay
compares an emulator run with them: the same exchanges, statuses, top-level fields and JSON
types (and, for lists, the same of their first element; for errors, the same error code).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from amount_updater.errors import ServiceError
from amount_updater.stripe_gateway import KeepLine, NewLine, StripeGateway, StripeWrite
from amount_updater.stripe_gateway.wire import API_VERSION
from amount_updater.stripe_gateway.writes import intent_update, session_update

RECORDED = Path(__file__).parent / "recorded"
RETURN_URL = "https://example.com/amount-updater/contract/return"
CURRENCY = "usd"
METADATA = {"amount_updater_contract": "1"}
SESSIONS = "/v1/checkout/sessions"
INTENTS = "/v1/payment_intents"

Exchange = dict[str, Any]
Recording = dict[str, list[Exchange]]

# Stripe object ids (cs_test_..., pi_..., li_..., req_...): the prefix stays, the rest goes.
_ID = re.compile(
    r"\b((?:cs|pi|li|price|prod|shr|req|cus|ch|pm|pmc|txr|uli|acct|seti|sub|in|plink|src|py|"
    r"card|tok|evt)(?:_test|_live)?)_(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]{6,}"
)
_SECRET = re.compile(r"_secret_[A-Za-z0-9]+")
# A path segment that is an object id (cs_test_a1B2..., pi_3Mx...), not a word (line_items).
_PATH_ID = re.compile(r"^[a-z]+(?:_test|_live)?_(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]{8,}$")


class Recorder(httpx.AsyncBaseTransport):
    """An httpx transport that passes every request to `inner` and keeps each answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._step = "unnamed"
        self.exchanges: Recording = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self._step = name
        self.exchanges[name] = []
        try:
            yield
        finally:
            self._step = "unnamed"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        try:
            body = json.loads(content) if content else None
        except ValueError:
            body = content.decode("utf-8", "replace")
        self.exchanges.setdefault(self._step, []).append(
            {
                "request": f"{request.method} {path_template(request.url.path)}",
                "status": response.status_code,
                "body": body,
            }
        )
        # The body is read (and decoded) already: hand it on without its transfer headers.
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(response.status_code, headers=headers, content=content)

    async def aclose(self) -> None:
        await self._inner.aclose()


def path_template(path: str) -> str:
    return "/".join("{id}" if _PATH_ID.match(part) else part for part in path.split("/"))


def key() -> str:
    return f"contract-{uuid.uuid4().hex}"


def _lines(count: int) -> list[NewLine]:
    return [
        NewLine(
            name=f"Contract item {n}", unit_amount=500 + n, quantity=1, metadata={"sku": f"c{n}"}
        )
        for n in range(count)
    ]


def _details(lines: list[tuple[str, int, int]], shipping: int) -> dict[str, Any]:
    """amount_details as the service sends them (service/intent_cart.py)."""
    return {
        "line_items": [
            {"product_name": name, "product_code": name[:12], "quantity": qty, "unit_cost": cost}
            for name, cost, qty in lines
        ],
        "shipping": {"amount": shipping},
        "discount_amount": "",
        "tax": "",
    }


async def run_flows(gateway: StripeGateway, recorder: Recorder) -> None:
    """Create an elements session, add and retransmit line items, change quantities, expire it
    (and try to change it after); create a PaymentIntent with amount_details, change its amount,
    cancel it. Eleven lines, so that reading the session pages through its line items."""
    with recorder.step("readiness_list_sessions"):
        assert await gateway.ping() is None
    with recorder.step("session_create"):
        session = await gateway.create_checkout_session(
            currency=CURRENCY,
            lines=_lines(11),
            metadata=METADATA,
            return_url=RETURN_URL,
            idempotency_key=key(),
        )
    ids = [line.id for line in session.line_items]
    assert len(ids) == 11
    with recorder.step("session_retrieve"):
        session = await gateway.get_checkout_session(session.id)

    def update(lines: list[KeepLine | NewLine]) -> StripeWrite:
        return session_update(
            session.id, currency=CURRENCY, lines=lines, metadata=METADATA, idempotency_key=key()
        )

    gift = NewLine(name="Gift wrap", unit_amount=300, quantity=1, metadata={"sku": "gift"})
    with recorder.step("session_add_line"):
        await gateway.write(update([*(KeepLine(i) for i in ids), gift]))
    with recorder.step("session_retrieve_after_add"):
        session = await gateway.get_checkout_session(session.id)
    ids = [line.id for line in session.line_items]
    assert len(ids) == 12
    with recorder.step("session_retransmit"):
        await gateway.write(update([KeepLine(i) for i in ids]))
    with recorder.step("session_change_quantities"):
        changed = [KeepLine(ids[0], 3), KeepLine(ids[1], 2), *(KeepLine(i) for i in ids[2:])]
        await gateway.write(update(changed))
    with recorder.step("session_expire"):
        await gateway.write(
            StripeWrite(
                operation="checkout.sessions.expire",
                path=f"{SESSIONS}/{session.id}/expire",
                params={},
                idempotency_key=key(),
                what="checkout session",
            )
        )
    with recorder.step("session_update_after_expiry"), pytest.raises(ServiceError):
        await gateway.write(update([KeepLine(ids[0], 1)]))

    with recorder.step("intent_create"):
        intent = await gateway.create_payment_intent(
            currency=CURRENCY,
            amount=2 * 1200 + 900 + 500,
            amount_details=_details([("Mug", 1200, 2), ("T-shirt", 900, 1)], 500),
            metadata=METADATA,
            idempotency_key=key(),
        )
    with recorder.step("intent_retrieve"):
        await gateway.get_payment_intent(intent.id)
    with recorder.step("intent_update_amount"):
        await gateway.write(
            intent_update(
                intent.id,
                amount=3 * 1200 + 900 + 700,
                amount_details=_details([("Mug", 1200, 3), ("T-shirt", 900, 1)], 700),
                metadata=METADATA,
                idempotency_key=key(),
            )
        )
    with recorder.step("intent_cancel"):
        await gateway.write(
            StripeWrite(
                operation="payment_intents.cancel",
                path=f"{INTENTS}/{intent.id}/cancel",
                params={},
                idempotency_key=key(),
                what="payment intent",
            )
        )


def redact(value: Any, field: str = "") -> Any:
    """`value` with ids, client secrets and checkout URLs replaced (types unchanged)."""
    if isinstance(value, dict):
        return {name: redact(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [redact(item, field) for item in value]
    if isinstance(value, str):
        if field == "client_secret":
            return "REDACTED_client_secret"
        if value.startswith("https://checkout.stripe.com/"):
            return "https://checkout.stripe.com/REDACTED"
        return _ID.sub(r"\1_REDACTED", _SECRET.sub("_secret_REDACTED", value))
    return value


def save(recording: Recording, directory: Path = RECORDED) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for step, exchanges in recording.items():
        path = directory / f"{step}.json"
        document = {"step": step, "stripe_version": API_VERSION, "exchanges": redact(exchanges)}
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def load(directory: Path = RECORDED) -> Recording:
    return {
        document["step"]: document["exchanges"]
        for document in (json.loads(path.read_text()) for path in sorted(directory.glob("*.json")))
    }


def differences(recorded: Recording, emulated: Recording) -> list[str]:
    """How the emulator's exchanges differ from the recorded ones, step by step."""
    found: list[str] = []
    for step, expected in recorded.items():
        actual = emulated.get(step)
        if actual is None:
            found.append(f"{step}: the emulator run has no such step")
            continue
        if [e["request"] for e in expected] != [a["request"] for a in actual]:
            found.append(
                f"{step}: requests {[e['request'] for e in expected]} recorded, "
                f"{[a['request'] for a in actual]} emulated"
            )
            continue
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            where = f"{step}[{index}] {want['request']}"
            if want["status"] != got["status"]:
                found.append(f"{where}: status {want['status']} recorded, {got['status']} emulated")
            found += _body_differences(where, want["body"], got["body"])
    return found


def _body_differences(where: str, want: Any, got: Any) -> list[str]:
    if not isinstance(want, dict) or not isinstance(got, dict):
        if _kind(want) != _kind(got):
            return [f"{where}: body is {_kind(want)} recorded, {_kind(got)} emulated"]
        return []
    found = _field_differences(where, want, got)
    if want.get("object") == "list" and want.get("data") and got.get("data"):
        found += _field_differences(f"{where} data[0]", want["data"][0], got["data"][0])
    if isinstance(want.get("error"), dict) and isinstance(got.get("error"), dict):
        want_code, got_code = want["error"].get("code"), got["error"].get("code")
        if want_code != got_code:
            found.append(f"{where}: error code {want_code!r} recorded, {got_code!r} emulated")
    return found


def _field_differences(where: str, want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    found = [
        f"{where}: field {name!r} missing in the emulator" for name in sorted(set(want) - set(got))
    ]
    found += [
        f"{where}: field {name!r} only in the emulator" for name in sorted(set(got) - set(want))
    ]
    for name in sorted(set(want) & set(got)):
        if _kind(want[name]) != _kind(got[name]):
            found.append(
                f"{where}: {name!r} is {_kind(want[name])} recorded, {_kind(got[name])} emulated"
            )
    return found


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
