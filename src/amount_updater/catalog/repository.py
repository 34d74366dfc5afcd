"""Loads and validates the TOML catalog file; serves lookups from memory."""

from __future__ import annotations

import tomllib
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from amount_updater.catalog.models import Catalog, Discount, Product, ShippingRate

SAMPLE_CATALOG = "sample.toml"


class CatalogError(Exception):
    """The catalog file is missing, not TOML, or not a valid catalog. One problem per line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"invalid catalog {source}: " + "; ".join(problems))


def _section(raw: dict[str, Any], section: str, key: str, source: str) -> dict[str, Any]:
    """One section's entries keyed by id, each with its id (table name) filled in."""
    table = raw.get(section, {})
    if not isinstance(table, dict):
        raise CatalogError(source, [f"[{section}] must be a table"])
    entries: dict[str, Any] = {}
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise CatalogError(source, [f"{section}.{name}: must be a table"])
        if key in entry:
            raise CatalogError(source, [f"{section}.{name}: the table name is the {key}"])
        entry_id = name.upper() if section == "discounts" else name
        if entry_id in entries:
            raise CatalogError(source, [f"{section}.{name}: defined twice (codes ignore case)"])
        entries[entry_id] = {**entry, key: entry_id}
    return entries


def parse_catalog(text: str, source: str) -> Catalog:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(source, [f"not valid TOML: {exc}"]) from None
    unknown = sorted(set(raw) - {"products", "shipping", "discounts"})
    if unknown:
        raise CatalogError(source, [f"unknown section(s): {', '.join(unknown)}"])
    document = {
        "products": _section(raw, "products", "id", source),
        "shipping": _section(raw, "shipping", "id", source),
        "discounts": _section(raw, "discounts", "code", source),
    }
    try:
        catalog = Catalog.model_validate(document)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_url=False)
        ]
        raise CatalogError(source, problems) from None
    if not catalog.products:
        raise CatalogError(source, ["the catalog has no products"])
    return catalog


def load_catalog(path: Path | None) -> Catalog:
    """Read the catalog at `path`, or the sample catalog shipped in the package."""
    if path is None:
        text = resources.files("amount_updater.catalog").joinpath(SAMPLE_CATALOG).read_text()
        return parse_catalog(text, f"<package>/{SAMPLE_CATALOG}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(str(path), [exc.strerror or str(exc)]) from None
    return parse_catalog(text, str(path))


class CatalogRepository:
    """Read-only lookups over a validated catalog, held in memory for the life of the app."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    def product(self, product_id: str) -> Product | None:
        return self._catalog.products.get(product_id)

    def shipping_rate(self, rate_id: str) -> ShippingRate | None:
        return self._catalog.shipping.get(rate_id)

    def discount(self, code: str) -> Discount | None:
        return self._catalog.discounts.get(code.strip().upper())

    def products_in(self, currency: str) -> list[Product]:
        return [p for p in self._catalog.products.values() if currency in p.prices]

    def shipping_rates_in(self, currency: str) -> list[ShippingRate]:
        return [r for r in self._catalog.shipping.values() if currency in r.prices]

    def supports(self, currency: str) -> bool:
        return currency in self._catalog.currencies

    def active_discount(self, code: str, now: datetime) -> Discount | None:
        discount = self.discount(code)
        if discount is None or discount.is_expired(now):
            return None
        return discount
