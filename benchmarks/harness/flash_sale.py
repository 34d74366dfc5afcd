"""Scenario F, the flash sale: what shoppers feel when Stripe's own limits are the bound.

A Stripe stand-in with Stripe's limits (`stripe_limits.py`: 100 requests/s for the account, 25
per endpoint, Stripe-shaped 429s, 150 ms per call) and 200 shoppers, each on a cart of their own
(one T-shirt), each making 5 changes at random moments within 10 s; a fifth of the changes are
double clicks (the same change sent twice, 50 ms apart). Every change adds one unit of a
product. Shoppers behave as a correct storefront does: a change answered 429, 503 or 504 (or
not at all) is sent again with the same Idempotency-Key after its Retry-After, as long as the
20 s Stripe.js gives a server update last. Afterwards each cart in the stand-in is compared
with what its accepted (2xx) changes should have made of it.

Reported per server: changes sent and accepted; carts exactly as expected, and units lost or
doubled; calls that reached Stripe and 429s drawn from it; Stripe calls per accepted change;
p50 / p99 latency of a change as the shopper sees it (from the moment it was due).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from harness.procs import StartupError, free_port, running
from harness.servers import STRIPE_KEY, ServerSpec, uvicorn_app

SHOPPERS = 200
CHANGES = 5
WINDOW_S = 10.0
DOUBLE_CLICKS = 0.2
DOUBLE_CLICK_GAP_S = 0.05
SHOPPER_TIMEOUT_S = 20.0  # what Stripe.js's runServerUpdate waits
RETRIED = frozenset({0, 409, 429, 503, 504})  # no answer, in progress, not now, in doubt
API_KEY = "flash-sale-api-key-0123456789"
BASE_ITEM = "T-shirt"
# What each server sells as an add-on: (product id, line-item description in Stripe).
PRODUCTS = {
    "service": [("mug", "Mug"), ("stickers", "Sticker pack"), ("hoodie", "Hoodie")],
    "reference": [
        ("gift_wrap", "Gift Wrap"),
        ("warranty", "Extended Warranty"),
        ("express_shipping", "Express Shipping"),
    ],
}


@dataclass
class FlashResult:
    server: ServerSpec
    sent: int = 0
    accepted: int = 0
    refused: Counter[int] = field(default_factory=Counter)  # last status (0: no answer)
    retries: int = 0
    carts: int = 0
    carts_correct: int = 0
    units_lost: int = 0
    units_doubled: int = 0
    stripe_calls: int = 0
    stripe_429: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    mean_batch: float | None = None  # the service's changes per Stripe write
    note: str = ""

    @property
    def calls_per_change(self) -> float:
        return self.stripe_calls / self.accepted if self.accepted else float("nan")

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100)[int(q) - 1]


@dataclass(frozen=True)
class Cart:
    id: str
    token: str | None


def _bench_get(stand_in: str, what: str, method: str = "GET") -> dict:
    request = urllib.request.Request(f"{stand_in}/_bench/{what}", method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def _create_carts(kind: str, server: str, stand_in: str) -> list[Cart]:
    """One cart per shopper, with one T-shirt: through the service's API, or for the
    reference (which creates none) straight at the stand-in. Retried past Stripe's limits."""
    carts: list[Cart] = []
    gate = asyncio.Semaphore(10)
    async with aiohttp.ClientSession() as http:

        async def one() -> None:
            async with gate:
                while True:
                    if kind == "service":
                        answer = await http.post(
                            f"{server}/v1/checkout-sessions",
                            json={"currency": "usd", "items": [{"product_id": "tshirt"}]},
                            headers={"X-API-Key": API_KEY},
                        )
                    else:
                        answer = await http.post(
                            f"{stand_in}/v1/checkout/sessions",
                            data={
                                "mode": "payment",
                                "ui_mode": "elements",
                                "redirect_on_completion": "never",
                                "line_items[0][price_data][currency]": "usd",
                                "line_items[0][price_data][product_data][name]": BASE_ITEM,
                                "line_items[0][price_data][unit_amount]": "2500",
                                "line_items[0][quantity]": "1",
                            },
                            headers={"Authorization": f"Bearer {STRIPE_KEY}"},
                        )
                    body = await answer.json(content_type=None)
                    if answer.status in (200, 201):
                        carts.append(Cart(body["id"], body.get("token")))
                        return
                    if answer.status not in (429, 503):
                        raise StartupError(f"cart creation: HTTP {answer.status} {body}")
                    await asyncio.sleep(0.5)

        await asyncio.gather(*(one() for _ in range(SHOPPERS)))
    return carts


def _plan(carts: list[Cart], kind: str, rng: random.Random) -> list[tuple[float, Cart, str]]:
    """(due time, cart, product id) for every request, double clicks included."""
    plan = []
    for cart in carts:
        for due in sorted(rng.uniform(0, WINDOW_S) for _ in range(CHANGES)):
            product = rng.choice(PRODUCTS[kind])[0]
            plan.append((due, cart, product))
            if rng.random() < DOUBLE_CLICKS:
                plan.append((due + DOUBLE_CLICK_GAP_S, cart, product))
    return sorted(plan, key=lambda entry: entry[0])


async def _shop(
    kind: str, server: str, plan: list[tuple[float, Cart, str]], result: FlashResult
) -> Counter[tuple[str, str]]:
    """Send every change when it is due; the accepted ones, per (cart, product)."""
    accepted: Counter[tuple[str, str]] = Counter()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=SHOPPER_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        start = time.monotonic()

        async def change(due: float, cart: Cart, product: str) -> None:
            await asyncio.sleep(max(0.0, start + due - time.monotonic()))
            if kind == "service":
                url = f"{server}/v1/checkout-sessions/{cart.id}/items"
                body = {"product_id": product}
                headers = {
                    "Authorization": f"Bearer {cart.token}",
                    "Idempotency-Key": str(uuid.uuid4()),
                }
            else:
                url = f"{server}/update-custom-amount"
                body = {"checkout_session_id": cart.id, "product_id": product}
                headers = {}
            gives_up = start + due + SHOPPER_TIMEOUT_S
            while True:
                status, retry_after = 0, 1.0
                try:
                    async with http.post(url, json=body, headers=headers) as answer:
                        await answer.read()
                        status = answer.status
                        retry_after = float(answer.headers.get("Retry-After", "1"))
                except (aiohttp.ClientError, TimeoutError):
                    pass
                again = status in RETRIED and time.monotonic() + retry_after < gives_up
                if not again:
                    break
                result.retries += 1
                await asyncio.sleep(retry_after)
            result.latencies_ms.append((time.monotonic() - start - due) * 1000)
            if 200 <= status < 300:
                result.accepted += 1
                accepted[cart.id, product] += 1
            else:
                result.refused[status] += 1

        result.sent = len(plan)
        await asyncio.gather(*(change(*entry) for entry in plan))
    return accepted


def _check_carts(
    kind: str, carts: list[Cart], accepted: Counter[tuple[str, str]], stand_in: str
) -> tuple[int, int, int]:
    """(carts exactly as expected, units lost, units doubled)."""
    held = _bench_get(stand_in, "carts")
    names = dict(PRODUCTS[kind])
    correct = lost = doubled = 0
    for cart in carts:
        expected = Counter({BASE_ITEM: 1})
        for product, name in names.items():
            if accepted[cart.id, product]:
                expected[name] += accepted[cart.id, product]
        actual = Counter(held.get(cart.id, {}))
        correct += actual == expected
        lost += sum((expected - actual).values())
        doubled += sum((actual - expected).values())
    return correct, lost, doubled


def _mean_batch(server: str) -> float | None:
    try:
        with urllib.request.urlopen(f"{server}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return None
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("amount_updater_change_batch_size_")
    }
    count = values.get("amount_updater_change_batch_size_count")
    return values["amount_updater_change_batch_size_sum"] / count if count else None


def run_flash_sale(spec: ServerSpec, workdir: Path, seed: int = 7) -> FlashResult:
    kind = "service" if spec.key.startswith("service") else "reference"
    result = FlashResult(spec)
    stand_in_port, port = free_port(), free_port()
    stand_in = f"http://127.0.0.1:{stand_in_port}"
    server = f"http://127.0.0.1:{port}"
    launch = spec.launcher(port, stand_in_port)
    env = dict(launch.env)
    if kind == "service":
        # Stripe's live limits, as the stand-in enforces them, less the service's default
        # reserve of a tenth; a shop's backend creates the carts.
        env.update(
            AMOUNT_UPDATER_STRIPE_REQUESTS_PER_SECOND="90",
            AMOUNT_UPDATER_STRIPE_ENDPOINT_REQUESTS_PER_SECOND="22",
            AMOUNT_UPDATER_STRIPE_MAX_RETRIES="2",
            AMOUNT_UPDATER_API_KEYS=API_KEY,
            AMOUNT_UPDATER_RATE_LIMIT_CREATES_PER_MINUTE="0",
        )
    cwd = workdir / "cwd"
    cwd.mkdir(exist_ok=True)
    try:
        with (
            running(
                uvicorn_app("harness.stripe_limits:create_app", stand_in_port),
                port=stand_in_port,
                env=launch.env,
                cwd=cwd,
                log=workdir / f"stand-in-{spec.key}.log",
            ),
            running(launch.command, port=port, env=env, cwd=cwd, log=workdir / f"{spec.key}-F.log"),
        ):
            carts = asyncio.run(_create_carts(kind, server, stand_in))
            time.sleep(1.1)  # the creations' windows pass
            _bench_get(stand_in, "reset", method="POST")
            plan = _plan(carts, kind, random.Random(seed))
            accepted = asyncio.run(_shop(kind, server, plan, result))
            stats = _bench_get(stand_in, "stats")
            result.stripe_calls, result.stripe_429 = stats["calls"], stats["limited"]
            result.carts = len(carts)
            result.carts_correct, result.units_lost, result.units_doubled = _check_carts(
                kind, carts, accepted, stand_in
            )
            if kind == "service":
                result.mean_batch = _mean_batch(server)
    except StartupError as exc:
        result.note = f"not measured: {exc}"
    return result


def flash_sale_table(results: list[FlashResult]) -> list[str]:
    lines = [
        f"### F: flash sale at Stripe's limits ({SHOPPERS} shoppers x {CHANGES} changes in "
        f"{WINDOW_S:g} s, {DOUBLE_CLICKS:.0%} double clicks; stand-in: 100/s per account, "
        "25/s per endpoint, 150 ms per call)",
        "",
        "| server | changes sent / accepted (retries) | carts exactly right | units lost / doubled "
        "| Stripe calls (per accepted change) | 429s from Stripe | p50 / p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.note:
            lines.append(f"| {r.server.label} | {r.note} | | | | | |")
            continue
        refused = ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(r.refused.items()))
        lines.append(
            f"| {r.server.label} | {r.sent:,} / {r.accepted:,} ({r.retries:,})"
            + (f" (refused {refused})" if refused else "")
            + f" | {r.carts_correct} of {r.carts} | {r.units_lost} / {r.units_doubled} "
            f"| {r.stripe_calls:,} ({r.calls_per_change:.2f}) | {r.stripe_429:,} "
            f"| {r.percentile(50):,.0f} / {r.percentile(99):,.0f} |"
        )
    service = next((r for r in results if r.server.key == "service" and not r.note), None)
    if service is not None:
        met = (
            service.carts_correct == service.carts
            and service.stripe_429 == 0
            and service.calls_per_change < 2
        )
        batch = f"; {service.mean_batch:.2f} changes per Stripe write" if service.mean_batch else ""
        lines += [
            "",
            "target for the service: every cart exactly right, 0 429s from Stripe, under 2 Stripe "
            f"calls per change: **{'MET' if met else 'NOT MET'}**{batch}",
        ]
    return [*lines, ""]
