"""What the Checkout Session and PaymentIntent services share: their collaborators and answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from amount_updater.auth.tokens import TokenSigner
from amount_updater.coordination.locks import ObjectLocks
from amount_updater.coordination.pending_writes import PendingWrites
from amount_updater.service.cart import CartView
from amount_updater.service.change_workflow import CartKind, ChangeWorkflow, S
from amount_updater.service.pricer import CartPricer
from amount_updater.service.recent_views import READ_TTL_S, RecentViews
from amount_updater.stripe_gateway import StripeGateway


@dataclass(frozen=True, slots=True)
class Created:
    """A new Stripe object with its cart, and the token that authorizes changes to it."""

    id: str
    client_secret: str | None
    token: str
    token_expires_at: int
    cart: CartView


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: int


class ObjectService:
    """A service for one kind of Stripe object whose cart the storefront changes."""

    def __init__(
        self,
        gateway: StripeGateway,
        pricer: CartPricer,
        signer: TokenSigner,
        locks: ObjectLocks,
        pending: PendingWrites,
        *,
        budget_s: float = 15.0,
        clock: Callable[[], float] = time.time,
        read_ttl_s: float = READ_TTL_S,
        on_batch: Callable[[int], None] | None = None,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.gateway = gateway
        self.pricer = pricer
        self.signer = signer
        self.budget_s = budget_s
        self.clock = clock
        self._locks = locks
        self._pending = pending
        self._read_ttl_s = read_ttl_s
        self._on_batch = on_batch
        self._on_queued = on_queued

    def workflow(self, kind: CartKind[S]) -> ChangeWorkflow[S]:
        return ChangeWorkflow(
            kind,
            pricer=self.pricer,
            gateway=self.gateway,
            locks=self._locks,
            pending=self._pending,
            budget_s=self.budget_s,
            recent=RecentViews(ttl_s=self._read_ttl_s),
            on_batch=self._on_batch,
            on_queued=self._on_queued,
        )
