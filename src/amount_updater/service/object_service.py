"""What the Checkout Session and PaymentIntent services share: their collaborators and answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic

from amount_updater.auth.tokens import TokenSigner
from amount_updater.pricing import PricedCart
from amount_updater.service.amount_limits import check_cart
from amount_updater.service.cart import CartView
from amount_updater.service.change_workflow import CartKind, ChangeSetup, ChangeWorkflow, S
from amount_updater.service.changes import CartChange, NewCart
from amount_updater.service.request_history import Origin


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


class ObjectService(Generic[S]):
    """A service for one kind of Stripe object whose cart the storefront changes: reads and
    changes go through the one change workflow, with the kind's adapter (`CartKind`);
    creation and tokens are the kind's own."""

    def __init__(self, setup: ChangeSetup, signer: TokenSigner, kind: CartKind[S]) -> None:
        self.gateway = setup.gateway
        self.pricer = setup.pricer
        self.budget_s = setup.budget_s
        self.clock = setup.clock
        self.signer = signer
        self.changes = ChangeWorkflow(kind, setup)

    def new_cart(self, cart: NewCart) -> PricedCart:
        """A fresh cart priced from the catalog, within Stripe's amount limits."""
        priced = self.pricer.new_cart(cart)
        check_cart(priced, priced.currency)
        return priced

    async def get(self, object_id: str, *, fresh: bool = False) -> CartView:
        """The cart; from the last read or write of the object if that is recent enough."""
        return await self.changes.read(object_id, fresh=fresh)

    async def change(self, object_id: str, change: CartChange, origin: Origin) -> CartView:
        """Apply one change to the object's cart, serialized with other changes to it."""
        return await self.changes.apply(object_id, change, origin)
