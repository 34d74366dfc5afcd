"""What a new Checkout Session carries besides its cart: Stripe Tax, shipping-address
collection and the customer's details. A shopper's browser may give an email only; the rest is
for a shop's own servers (an API key)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from amount_updater.catalog.repository import CatalogRepository
from amount_updater.errors import Forbidden, InvalidRequest
from amount_updater.stripe_gateway.models import SessionOptions

SERVICE_PREFIX = "amount_updater_"  # the service's own metadata keys


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    email: str | None = None
    customer: str | None = None
    client_reference_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    locale: str | None = None
    automatic_tax: bool | None = None  # None: the operator's setting

    def server_only_fields(self) -> list[str]:
        given = {
            "customer": self.customer is not None,
            "client_reference_id": self.client_reference_id is not None,
            "metadata": bool(self.metadata),
            "locale": self.locale is not None,
            "automatic_tax": self.automatic_tax is not None,
        }
        return [name for name, present in given.items() if present]


@dataclass(frozen=True, slots=True)
class SessionDefaults:
    """The operator's settings for every new session."""

    automatic_tax: bool = False
    shipping_countries: tuple[str, ...] = ()  # non-empty: collect the shipping address

    @classmethod
    def of(
        cls, catalog: CatalogRepository, *, automatic_tax: bool, collect_address: bool
    ) -> SessionDefaults:
        countries = catalog.address_countries if collect_address else None
        return cls(automatic_tax, tuple(sorted(countries or ())))

    def options(self, details: CustomerDetails, *, from_server: bool) -> SessionOptions:
        """Stripe's creation options for `details`; 403 for server-only fields from a browser."""
        server_only = details.server_only_fields()
        if server_only and not from_server:
            raise Forbidden(
                f"Only a server with an API key may set {', '.join(server_only)}; a shopper's"
                " page may give customer_email."
            )
        reserved = sorted(key for key in details.metadata if key.startswith(SERVICE_PREFIX))
        if reserved:
            raise InvalidRequest(
                f"Metadata keys starting with {SERVICE_PREFIX} are the service's own: "
                + ", ".join(reserved),
                extra={"field": "metadata"},
            )
        if details.customer is not None and details.email is not None:
            # Stripe takes the email from the Customer (sending both is UNCONFIRMED to work).
            raise InvalidRequest(
                "Send customer or customer_email, not both.", extra={"field": "customer_email"}
            )
        return SessionOptions(
            automatic_tax=(
                self.automatic_tax if details.automatic_tax is None else details.automatic_tax
            ),
            shipping_countries=self.shipping_countries,
            customer=details.customer,
            customer_email=details.email,
            client_reference_id=details.client_reference_id,
            locale=details.locale,
            metadata=dict(details.metadata),
        )
