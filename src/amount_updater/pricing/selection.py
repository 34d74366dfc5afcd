"""What the customer chose: products and quantities, a shipping rate, a discount code."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class CartLine:
    product_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ShippingAddress:
    """Where the order ships: what the customer entered (the rates offered depend on it)."""

    name: str
    line1: str
    country: str  # ISO 3166-1 alpha-2, upper case
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """An ordered cart of catalog products (one line per product), plus shipping and discount.

    Every change returns a new Selection; lines keep the order in which products were added.
    """

    items: tuple[CartLine, ...] = ()
    shipping_rate_id: str | None = None
    discount_code: str | None = None
    ship_to: ShippingAddress | None = None

    @classmethod
    def of(
        cls,
        items: list[tuple[str, int]],
        shipping_rate_id: str | None = None,
        discount_code: str | None = None,
        ship_to: ShippingAddress | None = None,
    ) -> Selection:
        """Build a selection, merging repeated products and dropping zero quantities."""
        merged: dict[str, int] = {}
        for product_id, quantity in items:
            merged[product_id] = merged.get(product_id, 0) + quantity
        lines = tuple(CartLine(pid, qty) for pid, qty in merged.items() if qty > 0)
        return cls(lines, shipping_rate_id, discount_code, ship_to)

    def quantity_of(self, product_id: str) -> int:
        return next((line.quantity for line in self.items if line.product_id == product_id), 0)

    def with_quantity(self, product_id: str, quantity: int) -> Selection:
        """Set one product's quantity; 0 removes it, a new product goes last."""
        lines = [line for line in self.items if line.product_id != product_id]
        if quantity > 0:
            position = next(
                (i for i, line in enumerate(self.items) if line.product_id == product_id),
                len(lines),
            )
            lines.insert(position, CartLine(product_id, quantity))
        return replace(self, items=tuple(lines))

    def with_added(self, product_id: str, quantity: int) -> Selection:
        return self.with_quantity(product_id, self.quantity_of(product_id) + quantity)

    def with_shipping(self, rate_id: str | None) -> Selection:
        return replace(self, shipping_rate_id=rate_id)

    def with_discount(self, code: str | None) -> Selection:
        return replace(self, discount_code=code)

    def with_address(self, address: ShippingAddress) -> Selection:
        return replace(self, ship_to=address)
