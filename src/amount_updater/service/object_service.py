"""What the Checkout Session and PaymentIntent services share: their collaborators and answers."""

from __future__ import annotations

from dataclasses import dataclass

from amount_updater.auth.tokens import TokenSigner
from amount_updater.coordination.locks import ObjectLocks
from amount_updater.service.cart import CartView
from amount_updater.service.pricer import CartPricer
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
        *,
        budget_s: float = 15.0,
    ) -> None:
        self._gateway = gateway
        self._pricer = pricer
        self._signer = signer
        self._locks = locks
        self._budget_s = budget_s
